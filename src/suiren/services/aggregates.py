"""Aggregates for analysts (分析人员): per region and scheme, how many workers are insured
there, what was paid in a year and what the accounts hold — never a person's figures.

A region with fewer than ``SMALL_CELL`` workers insured, or with some but fewer than
``SMALL_CELL`` workers who paid in the year, shows its counts withheld (``withheld``): a sum
over one or two people is their own record. The totals are over every region (withheld ones
included) and are withheld the same way.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, exists, func, select

from suiren.domain.month import Month
from suiren.services.agency import region_funds
from suiren.store.tables import contribution_months, enrolments, journal

SMALL_CELL = 5  # fewest people a published figure may rest on
FUND_ROWS_MAX = 100_000  # (region, scheme) rows: every region of the country, every scheme


def region_aggregates(connection: Connection, year: int) -> dict[str, Any]:
    """Per (region, scheme): workers insured (enrolled there now), workers who paid in
    ``year``, the months they paid (reversed ones left out) and their amounts (due, to the
    individual account, to the pooled fund), and the balances now of each kind of account."""
    m = contribution_months.c
    first, last = Month.of(year, 1).ordinal, Month.of(year, 12).ordinal
    reversed_month = exists().where(journal.c.reverses == m.tx_id)
    paid = connection.execute(
        select(
            m.region,
            m.scheme,
            func.count(func.distinct(m.worker_id)),
            func.count(),
            func.sum(m.due_fen),
            func.sum(m.account_fen),
            func.sum(m.pooled_fen),
        )
        .where(and_(m.month >= first, m.month <= last), ~reversed_month)
        .group_by(m.region, m.scheme)
    ).all()
    enrolled = connection.execute(
        select(enrolments.c.region, enrolments.c.scheme, func.count()).group_by(
            enrolments.c.region, enrolments.c.scheme
        )
    ).all()
    funds, _ = region_funds(connection, "", FUND_ROWS_MAX)
    rows: dict[tuple[str, str], dict[str, Any]] = {}

    def row(region: str, scheme: str) -> dict[str, Any]:
        return rows.setdefault((region, scheme), _empty(region, scheme))

    for region, scheme, count in enrolled:
        row(region, scheme)["workers_insured"] = int(count)
    for region, scheme, workers, months, due, account, pooled in paid:
        r = row(region, scheme)
        r.update(workers_paid=int(workers), months_paid=int(months), due_fen=int(due),
                 individual_account_fen=int(account), pooled_fen=int(pooled))  # fmt: skip
    for fund in funds:
        row(fund["region"], fund["scheme"])["balances_fen"] = dict(fund["fen"])
    ordered = [rows[k] for k in sorted(rows)]
    totals = _totals(ordered)
    return {
        "year": year,
        "small_cell": SMALL_CELL,
        "regions": [_shown(r) for r in ordered],
        "totals": [_shown(t) for t in totals],
    }


COUNTS = ("workers_insured", "workers_paid", "months_paid", "due_fen",
          "individual_account_fen", "pooled_fen")  # fmt: skip


def _empty(region: str, scheme: str) -> dict[str, Any]:
    return {"region": region, "scheme": scheme, **dict.fromkeys(COUNTS, 0), "balances_fen": {}}


def _totals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows summed per scheme over every region."""
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        t = out.setdefault(r["scheme"], _empty("000000", r["scheme"]))
        for name in COUNTS:
            t[name] += r[name]
        for kind, fen in r["balances_fen"].items():
            t["balances_fen"][kind] = t["balances_fen"].get(kind, 0) + fen
    return [out[k] for k in sorted(out)]


def _shown(r: dict[str, Any]) -> dict[str, Any]:
    """The row as published: its region and scheme only, when too few people stand behind
    it (see the module doc)."""
    few = r["workers_insured"] < SMALL_CELL or 0 < r["workers_paid"] < SMALL_CELL
    if not few:
        return {**r, "withheld": False}
    return {"region": r["region"], "scheme": r["scheme"], "withheld": True}
