"""What an agency's desk reads (经办): the transfers waiting for its region, its workers, its
funds and the settlement windows it took part in. Queries only: the steps themselves are
``transfers``, the statement ``statement``, the windows ``settlement``.

A region is named by the prefix its codes begin with (``Actor.region_prefix``: "" for the
national agency, "44" for Guangdong, "4401" for Guangzhou), so that a province's desk sees
its cities' work too. Every list has a named limit; a longer one says it was cut.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, true, union

from suiren.domain.month import Month
from suiren.domain.resident_id import MASK_SHOWN_CHARS, mask
from suiren.ledger.accounts import OwnerType, Scheme
from suiren.services.settlement import NATIONAL, WindowReport, report
from suiren.services.transfers import STEPS, State, TransferView, with_warnings
from suiren.store.tables import (
    accounts,
    contribution_months,
    enrolments,
    postings,
    settlement_flows,
    settlement_positions,
    transfers,
    workers,
)

WAITING_MAX = 200  # transfers on a desk's page, the most urgent first
WORKERS_PAGE_ROWS = 50  # workers on a page of the desk's search
WORKERS_PAGE_ROWS_MAX = 100  # the most a page may ask for
FUND_REGIONS_MAX = 500  # rows of the funds table (a region and scheme each)
WINDOWS_SHOWN_MAX = 60
SEARCH_CHARS_MAX = 32
_WORKER_ID_RE = re.compile(r"[A-Za-z0-9]{1,32}", re.ASCII)
_MASKED_RE = re.compile(r"([0-9]{2})\**", re.ASCII)  # "44", "44***…": a province's mask


@dataclass(frozen=True)
class Waiting:
    """A transfer whose next step is the desk's: the step, and whether it is overdue."""

    view: TransferView
    masked_id: str  # the worker's resident id, masked (the province only)
    step: str  # approve (the old region's), accept or complete (the new region's)
    overdue: bool


def _in(column: Any, prefix: str) -> Any:
    return column.like(f"{prefix}%")


def waiting_transfers(
    connection: Connection, prefix: str, today: date, limit: int = WAITING_MAX
) -> tuple[list[Waiting], bool]:
    """Outgoing ``requested`` transfers (to approve) and incoming ``approved`` (to accept) and
    ``accepted`` ones (to complete), the earliest deadline first (so the overdue lead); and
    whether there were more than ``limit``."""
    rows = connection.execute(
        select(transfers, workers.c.masked_id)
        .join(workers, workers.c.worker_id == transfers.c.worker_id)
        .where(
            or_(
                and_(_in(transfers.c.from_region, prefix), transfers.c.state == State.REQUESTED),
                and_(
                    _in(transfers.c.to_region, prefix),
                    transfers.c.state.in_((State.APPROVED, State.ACCEPTED)),
                ),
            )
        )
        .order_by(transfers.c.due_on, transfers.c.transfer_id)
        .limit(limit + 1)
    ).all()
    steps = {needed.value: step for step, (needed, _, _) in STEPS.items()}
    views = with_warnings(connection, [TransferView.from_row(r) for r in rows[:limit]])
    waiting = [
        Waiting(view, r.masked_id, steps[r.state], r.due_on < today)
        for view, r in zip(views, rows[:limit], strict=True)
    ]
    return waiting, len(rows) > limit


def masked_worker(connection: Connection, worker_id: str) -> str:
    """The masked resident id of a worker ("" if unknown)."""
    found = connection.execute(
        select(workers.c.masked_id).where(workers.c.worker_id == worker_id)
    ).scalar()
    return str(found or "")


@dataclass(frozen=True, slots=True)
class WorkersPage:
    """A page of the desk's workers, by worker id: and the first and last worker id of the
    page when there are workers before or after it (``None`` at either end) — where the
    previous and next pages start."""

    found: list[dict[str, Any]]
    before: str | None
    after: str | None


def find_workers(
    connection: Connection,
    prefix: str,
    query: str,
    *,
    region: str | None = None,
    after: str = "",
    before: str = "",
    limit: int = WORKERS_PAGE_ROWS,
) -> WorkersPage:
    """The region's workers (their pension insured or held there) by worker id, or by masked
    resident id (``44****************``, or its province digits alone), or all of them if
    ``query`` is empty; only those insured or held in ``region`` if it is given (one of the
    prefix's regions: another's finds nobody). A page of ``limit`` in worker id order, after
    the worker id ``after`` or before ``before`` (keyset: each worker on one page, however
    the pages are walked). A worker of another region is never found."""
    assert 0 < limit <= WORKERS_PAGE_ROWS_MAX and not (after and before), (limit, after, before)
    typed = query.strip()[:SEARCH_CHARS_MAX]
    masked = _MASKED_RE.fullmatch(typed)
    w, e = workers.c, enrolments.c
    if not typed:
        condition = true()
    elif masked:
        condition = w.masked_id == mask(masked.group(1) + "0" * (18 - MASK_SHOWN_CHARS))
    elif _WORKER_ID_RE.fullmatch(typed):
        condition = w.worker_id == typed.upper()
    else:
        return WorkersPage([], None, None)
    held = [or_(e.region == region, e.relation_region == region)] if region is not None else []
    chosen = (
        select(
            w.worker_id,
            w.masked_id,
            w.sex,
            w.hukou_region,
            e.region,
            e.relation_region,
            e.temporary,
        )
        .join(enrolments, e.worker_id == w.worker_id)
        .where(
            condition,
            e.scheme == Scheme.EMPLOYEE_PENSION.value,
            or_(_in(e.region, prefix), _in(e.relation_region, prefix)),
            *held,
        )
    )
    if before:  # the page before: the ``limit`` just below, read downwards
        rows = connection.execute(
            chosen.where(w.worker_id < before).order_by(w.worker_id.desc()).limit(limit + 1)
        ).all()
        more_before = len(rows) > limit
        rows = rows[:limit][::-1]
        more_after = _any(connection, chosen.where(w.worker_id >= before))
    else:
        rows = connection.execute(
            chosen.where(w.worker_id > after).order_by(w.worker_id).limit(limit + 1)
        ).all()
        more_after = len(rows) > limit
        rows = rows[:limit]
        more_before = bool(after) and _any(connection, chosen.where(w.worker_id <= after))
    found = [
        {
            "worker_id": r.worker_id,
            "resident_id": r.masked_id,
            "sex": r.sex,
            "hukou_region": r.hukou_region,
            "region": r.region,
            "relation_region": r.relation_region,
            "temporary": bool(r.temporary),
        }
        for r in rows
    ]
    return WorkersPage(
        found,
        found[0]["worker_id"] if found and more_before else None,
        found[-1]["worker_id"] if found and more_after else None,
    )


def _any(connection: Connection, query: Any) -> bool:
    return connection.execute(query.limit(1)).first() is not None


def worker_regions(connection: Connection, prefix: str) -> list[str]:
    """The regions under ``prefix`` where a worker's pension is insured or held (what the
    desk's search may be narrowed to), in code order."""
    e = enrolments.c
    pension = e.scheme == Scheme.EMPLOYEE_PENSION.value
    insured = select(e.region.label("region")).where(pension, _in(e.region, prefix))
    kept = select(e.relation_region).where(pension, _in(e.relation_region, prefix))
    return sorted(str(r) for r in connection.execute(union(insured, kept)).scalars())


FUND_KINDS = (
    "pooled_fund",
    "pooled_entitlement",
    "individual_account",
    "clearing",
    "collection",
    "opening",
    "payable",
)


def region_funds(
    connection: Connection, prefix: str, limit: int = FUND_REGIONS_MAX
) -> tuple[list[dict[str, Any]], bool]:
    """Per region and scheme, the balance of each kind of account: the region's own (pooled
    fund, clearing, collection, opening, payable) and its workers' summed (individual
    accounts, pooled entitlements); and whether there were more than ``limit`` rows."""
    a = accounts.c
    rows = connection.execute(
        select(a.region, a.scheme, a.kind, func.sum(a.balance_fen), func.count())
        .where(_in(a.region, prefix), a.owner_type != OwnerType.PLATFORM.value)
        .group_by(a.region, a.scheme, a.kind)
        .order_by(a.region, a.scheme, a.kind)
    ).all()
    table: dict[tuple[str, str], dict[str, Any]] = {}
    for region, scheme, kind, total, count in rows:
        row = table.setdefault(
            (region, scheme), {"region": region, "scheme": scheme, "fen": {}, "accounts": 0}
        )
        row["fen"][kind] = int(total)
        row["accounts"] += int(count)
    ordered = list(table.values())
    return ordered[:limit], len(ordered) > limit


BALANCE_MONTHS_MAX = 600  # 50 years of month ends on the funds page's chart: the latest
BALANCE_SERIES = {  # a line of the chart -> the kinds of account it sums
    "pooled": ("pooled_fund", "pooled_entitlement"),  # 统筹基金, its workers' shares included
    "clearing": ("clearing",),  # 清算: owed between regions, zero once settled
    "individual": ("individual_account",),  # 个人账户, all the region's workers'
}


@dataclass(frozen=True)
class BalanceMonths:
    """A scheme's balances in a region (and the regions under it) at each month's end, from
    the first month with a line to the last: ``months`` (consecutive ``YYYY-MM``) and, for
    each of ``BALANCE_SERIES``, the balance (fen) at the end of each of them."""

    scheme: str
    months: list[str]
    balances_fen: dict[str, list[int]]


def region_balance_months(
    connection: Connection, prefix: str, months_max: int = BALANCE_MONTHS_MAX
) -> list[BalanceMonths]:
    """Per scheme, the region's pooled fund, clearing and workers' individual accounts at
    each month's end (by the lines' legal month): the sums of the ledger's postings and of
    the postings its contribution months derive (``ledger/months.py``), in integer SQL, so
    that the last month's balances are the accounts' (``region_funds``). At most the latest
    ``months_max`` months, each still the balance of every line up to it."""
    kind_of = {kind: name for name, kinds in BALANCE_SERIES.items() for kind in kinds}
    a, p, m = accounts.c, postings.c, contribution_months.c
    deltas: dict[str, dict[int, dict[str, int]]] = {}

    def add(scheme: str, month: int, series: str, fen: Any) -> None:
        per_month = deltas.setdefault(scheme, {}).setdefault(int(month), {})
        per_month[series] = per_month.get(series, 0) + int(fen or 0)

    posted = connection.execute(
        select(p.legal_month, a.scheme, a.kind, func.sum(p.amount_fen))
        .join(accounts, a.account == p.account)
        .where(_in(a.region, prefix), a.kind.in_(kind_of))
        .group_by(p.legal_month, a.scheme, a.kind)
    )
    for month, scheme, kind, fen in posted:
        add(scheme, month, kind_of[kind], fen)
    derived = connection.execute(
        select(
            m.month,
            m.scheme,
            func.sum(m.account_fen),
            func.sum(m.pooled_fen - m.held_fen),
            func.sum(m.held_fen),
        )
        .where(_in(m.region, prefix))
        .group_by(m.month, m.scheme)
    )
    for month, scheme, account_fen, entitled_fen, held_fen in derived:
        add(scheme, month, "individual", account_fen)
        add(scheme, month, "pooled", entitled_fen)
        add(scheme, month, "clearing", held_fen)
    found = []
    for scheme, per_month in sorted(deltas.items()):
        running = dict.fromkeys(BALANCE_SERIES, 0)
        months: list[str] = []
        balances: dict[str, list[int]] = {name: [] for name in BALANCE_SERIES}
        for month in range(min(per_month), max(per_month) + 1):
            for name, fen in per_month.get(month, {}).items():
                running[name] += fen
            months.append(str(Month(month)))
            for name in BALANCE_SERIES:
                balances[name].append(running[name])
        cut = {name: values[-months_max:] for name, values in balances.items()}
        found.append(BalanceMonths(scheme, months[-months_max:], cut))
    return found


def settlement_windows(
    connection: Connection, prefix: str, limit: int = WINDOWS_SHOWN_MAX
) -> list[tuple[str, date]]:
    """(scheme, window) of the closed windows the region took part in (every closed window
    for the national agency), the latest first."""
    if prefix == "":
        query = select(settlement_positions.c.scheme, settlement_positions.c.window)
    else:
        f = settlement_flows.c
        query = select(f.scheme, f.window).where(
            or_(_in(f.from_region, prefix), _in(f.to_region, prefix))
        )
    rows = connection.execute(
        query.distinct().order_by(query.selected_columns[1].desc()).limit(limit)
    ).all()
    return [(str(r[0]), r[1]) for r in rows]


def settlement_window(
    connection: Connection, window: date, scheme: Scheme, prefix: str
) -> WindowReport:
    """The window's region × region flows and net positions, as much of it as touches the
    region (all of it for the national agency)."""
    whole = report(connection, window, scheme)
    if prefix == "":
        return whole
    flows = {
        pair: flow
        for pair, flow in whole.flows.items()
        if pair[0].startswith(prefix) or pair[1].startswith(prefix)
    }
    positions = {
        region: net
        for region, net in whole.positions.items()
        if region.startswith(prefix) and region != NATIONAL
    }
    return WindowReport(whole.window, whole.closed, flows, positions)


def matrix(window: WindowReport) -> dict[str, Any]:
    """The flows as a table: the regions, and for each row region what it paid each column
    region (fen; 0 for none), with the row and column totals."""
    regions = sorted({r for pair in window.flows for r in pair})
    cells = defaultdict(int, {pair: amount for pair, (amount, _) in window.flows.items()})
    rows = [[cells[(a, b)] for b in regions] for a in regions]
    return {
        "regions": regions,
        "rows": rows,
        "paid": [sum(row) for row in rows],
        "received": [sum(cells[(a, b)] for a in regions) for b in regions],
    }
