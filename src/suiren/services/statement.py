"""A worker's statement (个人权益记录): what they paid, where, and what they hold."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, select

from suiren.domain.money import fen_to_yuan_str
from suiren.domain.month import Month
from suiren.services.workers import get_worker
from suiren.store.lines import account_lines
from suiren.store.tables import accounts, contribution_months, history_stints, journal

# built once (a statement is read on every portal visit; a select() is rebuilt and keyed per call)
_WORKER = bindparam("worker_id")
_MONTHS = (
    select(contribution_months)
    .where(contribution_months.c.worker_id == _WORKER)
    .order_by(contribution_months.c.scheme, contribution_months.c.month)
)
_REVERSED = select(journal.c.reverses).where(
    journal.c.worker_id == _WORKER, journal.c.reverses.is_not(None)
)
_STINTS = (
    select(history_stints)
    .where(history_stints.c.worker_id == _WORKER)
    .order_by(
        history_stints.c.scheme,
        history_stints.c.from_month,
        history_stints.c.import_id,
        history_stints.c.row,
    )
)
_ACCOUNTS = select(accounts).where(accounts.c.owner_id == _WORKER).order_by(accounts.c.account)


def statement(connection: Connection, worker_id: str) -> dict[str, Any]:
    worker = get_worker(connection, worker_id)
    rows = connection.execute(_MONTHS, {"worker_id": worker_id}).all()
    reversed_ids = {r.reverses for r in connection.execute(_REVERSED, {"worker_id": worker_id})}
    months = []
    per_region: Counter[str] = Counter()
    per_scheme: Counter[str] = Counter()
    for r in rows:
        active = r.tx_id not in reversed_ids
        months.append(
            {
                "month": str(Month(r.month)),
                "scheme": r.scheme,
                "region": r.region,
                "base_yuan": fen_to_yuan_str(r.base_fen),
                "due_fen": int(r.due_fen),
                "individual_account_fen": int(r.account_fen),
                "pooled_fen": int(r.pooled_fen),
                "tx_id": r.tx_id,
                "status": "paid" if active else "reversed",
            }
        )
        if active:
            per_region[r.region] += 1
            per_scheme[r.scheme] += 1
    history = []
    for r in connection.execute(_STINTS, {"worker_id": worker_id}):
        months_in = int(r.to_month) - int(r.from_month) + 1
        history.append(
            {
                "from": str(Month(r.from_month)),
                "to": str(Month(r.to_month)),
                "months": months_in,
                "scheme": r.scheme,
                "kind": r.kind,
                "region": r.region,
                "held_region": r.held_region,
                "base_yuan": None if r.base_fen is None else fen_to_yuan_str(r.base_fen),
                "index": None if r.index_1e6 is None else str(Decimal(r.index_1e6) / 10**6),
                "flags": [f for f in r.flags.split(",") if f],
                "source": f"{r.import_id[:16]} row {r.row}",
            }
        )
        if r.kind != "deemed":
            per_region[r.region] += months_in
            per_scheme[r.scheme] += months_in
    balances = [
        {
            "account": r.account,
            "scheme": r.scheme,
            "kind": r.kind,
            "region": r.region,
            "balance_fen": int(r.balance_fen),
        }
        for r in connection.execute(_ACCOUNTS, {"worker_id": worker_id})
    ]
    return {
        "worker": {
            "worker_id": worker.worker_id,
            "resident_id": worker.masked_id,
            "sex": worker.sex,
            "birth_month": str(worker.birth_month),
            "hukou_region": worker.hukou_region,
            "work_region": worker.work_region,
        },
        "contribution_months_total": sum(per_region.values()),
        "contribution_months_by_region": dict(sorted(per_region.items())),
        "contribution_months_by_scheme": dict(sorted(per_scheme.items())),
        "months": months,
        # imported from the agency's earlier system (services/history.py); its paid and
        # temporary-account months count in the totals above, deemed months do not
        "history": history,
        "balances": balances,
    }


def individual_account_months(connection: Connection, worker_id: str) -> dict[str, list[Any]]:
    """The worker's individual account (个人账户) at the end of each month, per scheme: from the
    month of its first line to the month of its last, every month listed (a month without a
    line keeps the balance before it), summed over the account's regions — what a transfer
    takes out of one it puts into another. Each month is ``{"month": "YYYY-MM",
    "balance_fen": int}``; the last one is the balance the statement shows."""
    deltas: dict[str, dict[int, int]] = {}
    for r in connection.execute(
        select(accounts.c.account, accounts.c.scheme)
        .where(accounts.c.owner_id == worker_id, accounts.c.kind == "individual_account")
        .order_by(accounts.c.account)
    ):
        per_month = deltas.setdefault(r.scheme, {})
        for line in account_lines(connection, r.account):
            month = line.legal_month.ordinal
            per_month[month] = per_month.get(month, 0) + line.amount_fen
    out: dict[str, list[Any]] = {}
    for scheme, per_month in sorted(deltas.items()):
        if not per_month:
            continue
        balance, series = 0, []
        for month in range(min(per_month), max(per_month) + 1):
            balance += per_month.get(month, 0)
            series.append({"month": str(Month(month)), "balance_fen": balance})
        out[scheme] = series
    return out
