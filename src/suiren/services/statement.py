"""A worker's statement (个人权益记录): what they paid, where, and what they hold."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Connection, select

from suiren.domain.money import fen_to_yuan_str
from suiren.domain.month import Month
from suiren.services.workers import get_worker
from suiren.store.tables import accounts, contribution_months, journal


def statement(connection: Connection, worker_id: str) -> dict[str, Any]:
    worker = get_worker(connection, worker_id)
    rows = connection.execute(
        select(contribution_months)
        .where(contribution_months.c.worker_id == worker_id)
        .order_by(contribution_months.c.scheme, contribution_months.c.month)
    ).all()
    reversed_ids = {
        r.reverses
        for r in connection.execute(
            select(journal.c.reverses).where(
                journal.c.worker_id == worker_id, journal.c.reverses.is_not(None)
            )
        )
    }
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
    balances = [
        {
            "account": r.account,
            "scheme": r.scheme,
            "kind": r.kind,
            "region": r.region,
            "balance_fen": int(r.balance_fen),
        }
        for r in connection.execute(
            select(accounts).where(accounts.c.owner_id == worker_id).order_by(accounts.c.account)
        )
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
        "balances": balances,
    }
