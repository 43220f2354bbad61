"""Reading an account's lines: its postings and the postings its contribution months derive.

A worker's individual account and pooled entitlement receive money from two places: the
``postings`` of ordinary transactions (interest, transfers, reversals) and the contribution
months (``ledger.months``: +account, +pooled − held), which have no posting rows. This module
is the one place that reads both, for one account (``account_lines``) or for every account
of a region in SQL (``SUMS_SQL``, the yearly interest run), so that no reader forgets one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

import pyarrow as pa
from sqlalchemy import ColumnElement, Connection, and_, select, text

from suiren.domain.month import Month
from suiren.ledger.accounts import AccountKey, AccountKind, OwnerType
from suiren.store.bulk import select_columns
from suiren.store.db import server_setting
from suiren.store.tables import contribution_months, history_stints, journal

# What a month adds to an account of kind ``a.kind`` (joined on the worker's accounts)
MONTH_AMOUNT_SQL = (
    "CASE a.kind WHEN 'individual_account' THEN m.account_fen"
    " WHEN 'pooled_entitlement' THEN m.pooled_fen - m.held_fen ELSE 0 END"
)
_MONTH_JOIN = (
    "JOIN accounts a ON a.owner_type = 'worker' AND a.owner_id = m.worker_id"
    " AND a.scheme = m.scheme AND a.region = m.region"
    " AND a.kind IN ('individual_account', 'pooled_entitlement')"
)

# (prior, in_year) of each worker account selected by ``{accounts}`` (a condition on ``a``)
# for year Y, in SQL; ``{months}`` may narrow the months read to the same workers (a condition
# on ``m``, such as a range of ``m.worker_id``, which the planner cannot derive from ``a``),
# never drop a month of an account ``{accounts}`` selects: its balance holds them all, so a
# month of Y or later left out would count as before Y (the whole-history query, before issue
# 9, left it out of both). ``prior`` is the balance before Y, ``in_year`` what was credited
# during Y (interest excluded), from postings and months alike. Only the lines dated in Y or
# later are read: the balance before Y is the account's balance (``accounts.balance_fen``, the
# sum of all its lines, which the audit checks) less those lines, so a yearly run reads a year
# of each account, not its whole history (issue 9). The balance enters as one more line (code
# ``BALANCE_LINE``, before Y), so that the query keeps the shape of one aggregate over lines,
# which the planner cannot turn into a per-account rescan whatever its statistics say. A
# transfer posted in Y carries the part of its amount that had been in the account before Y
# (``interest_carry``): that part counts as prior where it lands and is taken off the prior
# where it leaves, so a move neither loses nor doubles a year's interest — it follows the
# money. ``credited`` is 1 when interest for Y is already posted to the account (a
# transfer's catch-up), else 0. The postings read are those between the selected accounts'
# first and last key (in the database's own collation, so none of theirs is left out): a
# range of the ``(account, legal_month)`` index, where the join alone let the planner read
# every posting of the year for each batch — a million accounts' second yearly run took
# 0.66 s a batch of 50,000 so, 0.33 s by the range, and the scan grows with the whole
# ledger (``account || ''``, not the bare column, keeps the first and last key a pass over
# the batch's accounts: PostgreSQL answers ``min(account)`` by walking the primary key from
# one end until a selected account turns up — 2 s for the last batch).

# the tables SUMS_SQL reads: a yearly run first analyzes those whose statistics are stale
SUMS_TABLES = ("accounts", "postings", "contribution_months", "interest_carry")
BALANCE_LINE = "(balance)"  # no transaction code has parentheses (ledger.transaction.TxCode)
SUMS_SQL = (
    """
    SELECT sums.account AS account,
           sums.prior + COALESCE(carry.prior, 0) AS prior,
           sums.in_year - COALESCE(carry.prior, 0) AS in_year,
           sums.credited AS credited
    FROM (
      SELECT lines.account AS account,
             CAST(SUM(CASE WHEN lines.code = '"""
    + BALANCE_LINE
    + """' THEN lines.amount_fen ELSE -lines.amount_fen END) AS BIGINT) AS prior,
             CAST(SUM(CASE WHEN lines.legal_month >= :start AND lines.legal_month <= :end
                      AND lines.code <> 'interest' THEN lines.amount_fen ELSE 0 END) AS BIGINT) AS in_year,
             MAX(CASE WHEN lines.legal_month = :end AND lines.code = 'interest'
                      THEN 1 ELSE 0 END) AS credited
      FROM (
        SELECT a.account AS account, :start - 1 AS legal_month, a.balance_fen AS amount_fen,
               '"""
    + BALANCE_LINE
    + """' AS code
        FROM accounts a
        WHERE {accounts}
        UNION ALL
        SELECT p.account, p.legal_month, p.amount_fen, p.code
        FROM postings p JOIN accounts a ON a.account = p.account
        WHERE {accounts} AND p.legal_month >= :start
          AND p.account BETWEEN (SELECT min(a.account || '') FROM accounts a WHERE {accounts})
                            AND (SELECT max(a.account || '') FROM accounts a WHERE {accounts})
        UNION ALL
        SELECT a.account, m.month, """
    + MONTH_AMOUNT_SQL
    + """, 'contribution'
        FROM contribution_months m """
    + _MONTH_JOIN
    + """
        WHERE {accounts} AND {months} AND m.month >= :start
      ) AS lines
      GROUP BY lines.account
    ) AS sums
    LEFT JOIN (
      SELECT c.account AS account, CAST(SUM(c.prior_fen) AS BIGINT) AS prior
      FROM interest_carry c
      JOIN postings q ON q.region = c.region AND q.seq = c.seq AND q.account = c.account
      WHERE q.legal_month BETWEEN :start AND :end
      GROUP BY c.account
    ) AS carry ON carry.account = sums.account
"""
)


SUMS_SCHEMA = pa.schema(
    [
        ("account", pa.string()),
        ("prior", pa.int64()),
        ("in_year", pa.int64()),
        ("credited", pa.int64()),
    ]
)


def year_sums(
    connection: Connection, accounts: str, months: str, year: int, params: dict[str, object]
) -> pa.Table:
    """``SUMS_SQL`` for ``year`` as columns (``SUMS_SCHEMA``), read without a Python object per
    account: ``accounts`` and ``months`` are its two conditions, ``params`` their parameters."""
    sql = SUMS_SQL.format(accounts=accounts, months=months)
    bounds = {"start": Month.of(year, 1).ordinal, "end": Month.of(year, 12).ordinal}
    # without parallel workers: for a batch of 50,000 accounts they took as much CPU again and
    # a third more time on two cores (a million accounts' sums: 6.3–7.5 s, without 4.5 s,
    # the backend's own CPU the same; docs/BENCHMARKS.md, 2026-12-04 late)
    with server_setting(connection, "max_parallel_workers_per_gather", "0"):
        return select_columns(connection, sql, {**params, **bounds}, SUMS_SCHEMA)


@dataclass(frozen=True, slots=True)
class Line:
    legal_month: Month
    amount_fen: int
    code: str
    region: str  # the journal it is in
    seq: int
    prior_fen: int  # of a transfer posting: the part that predates its legal year


def account_lines(connection: Connection, account: str, region: str | None = None) -> list[Line]:
    """Every line of ``account`` (in ``region``'s journal only, if given), oldest first."""
    where = " AND p.region = :region" if region else ""
    params = {"account": account, "region": region}
    rows = connection.execute(
        text(
            "SELECT p.legal_month, p.amount_fen, p.code, p.region, p.seq,"
            " COALESCE(c.prior_fen, 0) AS prior_fen FROM postings p"
            " LEFT JOIN interest_carry c ON c.region = p.region AND c.seq = p.seq"
            " AND c.account = p.account"
            f" WHERE p.account = :account{where}"
        ),
        params,
    ).all()
    lines = [
        Line(
            Month(r.legal_month), int(r.amount_fen), r.code, r.region, int(r.seq), int(r.prior_fen)
        )
        for r in rows
    ]
    key = AccountKey.parse(account)
    if key.owner_type is OwnerType.WORKER and key.kind in (
        AccountKind.INDIVIDUAL_ACCOUNT,
        AccountKind.POOLED_ENTITLEMENT,
    ):
        amount = (
            "m.account_fen"
            if key.kind is AccountKind.INDIVIDUAL_ACCOUNT
            else "m.pooled_fen - m.held_fen"
        )
        if region is None or region == key.region:
            months = connection.execute(
                text(
                    f"SELECT m.month, {amount} AS amount_fen, m.region, m.seq FROM contribution_months m"
                    " WHERE m.worker_id = :worker AND m.scheme = :scheme AND m.region = :region"
                ),
                {"worker": key.owner_id, "scheme": key.scheme.value, "region": key.region},
            ).all()
            lines += [
                Line(Month(r.month), int(r.amount_fen), "contribution", r.region, int(r.seq), 0)
                for r in months
                if int(r.amount_fen)
            ]
    return sorted(lines, key=lambda line: (line.legal_month, line.region, line.seq))


def first_month(connection: Connection, account: str) -> Month | None:
    """The legal month of the account's first line (None: no line)."""
    lines = account_lines(connection, account)
    return lines[0].legal_month if lines else None


class CareerMonth(NamedTuple):
    """A month of a worker's career as every rule reads it: paid through Suiren, or recorded
    by an agency's earlier system and imported (``history``)."""

    month: int  # Month ordinal
    region: str  # where it was paid (or, deemed, where the work was done)
    base_fen: int | None  # the contribution base (None: the old system recorded an index only)
    temporary: bool  # paid into a temporary account (临时账户)
    kind: str = "paid"  # paid, or deemed (视同缴费: counts for years, has no base or money)
    index_1e6: int | None = None  # the old system's contribution index (缴费指数 × 10⁶)
    held_region: str = ""  # whose record holds it now (for a month paid through Suiren: region)
    history: bool = False  # imported from an earlier system (services/history.py)
    tx_id: str = ""  # a month paid through Suiren: its transaction id


def months_that_stand(scheme: str) -> ColumnElement[bool]:
    """Of ``contribution_months``, those of ``scheme`` that stand: paid and not reversed (the
    condition every reader of a career shares: ``paid_months`` and, for many workers at once,
    the contribution path's pensioner check)."""
    reversal = select(journal.c.tx_id).where(journal.c.reverses == contribution_months.c.tx_id)
    return and_(contribution_months.c.scheme == scheme, ~reversal.exists())


def paid_months(
    connection: Connection,
    worker_id: str,
    scheme: str,
    regions: Iterable[str] | None = None,
    deemed: bool = False,
) -> list[CareerMonth]:
    """The worker's contribution months in ``scheme`` that stand (paid and not reversed) and
    the months of their imported history, oldest first: the one query every rule reads a
    career from. ``regions``: only months whose record is held there. ``deemed``: with the
    deemed months (视同缴费), which count for years and the paying province, not for money."""
    m = contribution_months.c
    query = select(m.month, m.region, m.base_fen, m.temporary, m.tx_id).where(
        m.worker_id == worker_id, months_that_stand(scheme)
    )
    h = history_stints.c
    stints = select(history_stints).where(h.worker_id == worker_id, h.scheme == scheme)
    if regions is not None:
        wanted = sorted(set(regions))
        query = query.where(m.region.in_(wanted))
        stints = stints.where(h.held_region.in_(wanted))
    if not deemed:
        stints = stints.where(h.kind != "deemed")
    months = [
        CareerMonth(
            int(r.month),
            r.region,
            int(r.base_fen),
            bool(r.temporary),
            held_region=r.region,
            tx_id=r.tx_id,
        )
        for r in connection.execute(query)
    ]
    for s in connection.execute(stints):
        base = None if s.base_fen is None else int(s.base_fen)
        index = None if s.index_1e6 is None else int(s.index_1e6)
        kind = "deemed" if s.kind == "deemed" else "paid"
        months += [
            CareerMonth(
                month, s.region, base, s.kind == "temporary", kind, index, s.held_region, True
            )
            for month in range(int(s.from_month), int(s.to_month) + 1)
        ]
    months.sort(key=lambda c: c.month)
    return months
