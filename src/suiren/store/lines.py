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
from typing import Any

from sqlalchemy import Connection, select, text

from suiren.domain.month import Month
from suiren.ledger.accounts import AccountKey, AccountKind, OwnerType
from suiren.store.tables import contribution_months, journal

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
# for year Y, in SQL. ``prior`` is the balance before Y, ``in_year`` what was credited during
# Y (interest excluded), from postings and months alike. A transfer posted in Y carries the
# part of its amount that had been in the account before Y (``interest_carry``): that part
# counts as prior where it lands and is taken off the prior where it leaves, so a move
# neither loses nor doubles a year's interest — it follows the money.
SUMS_SQL = (
    """
    SELECT sums.account AS account,
           sums.prior + COALESCE(carry.prior, 0) AS prior,
           sums.in_year - COALESCE(carry.prior, 0) AS in_year
    FROM (
      SELECT lines.account AS account,
             CAST(SUM(CASE WHEN lines.legal_month < :start THEN lines.amount_fen ELSE 0 END) AS BIGINT) AS prior,
             CAST(SUM(CASE WHEN lines.legal_month >= :start AND lines.code <> 'interest'
                      THEN lines.amount_fen ELSE 0 END) AS BIGINT) AS in_year
      FROM (
        SELECT p.account AS account, p.legal_month AS legal_month, p.amount_fen AS amount_fen,
               p.code AS code
        FROM postings p JOIN accounts a ON a.account = p.account
        WHERE {accounts} AND p.legal_month <= :end
        UNION ALL
        SELECT a.account, m.month, """
    + MONTH_AMOUNT_SQL
    + """, 'contribution'
        FROM contribution_months m """
    + _MONTH_JOIN
    + """
        WHERE {accounts} AND m.month <= :end
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


def paid_months(
    connection: Connection, worker_id: str, scheme: str, regions: Iterable[str] | None = None
) -> list[Any]:
    """The worker's contribution months in ``scheme`` that stand (paid and not reversed),
    oldest first: the one query every rule reads a career from."""
    reversal = select(journal.c.tx_id).where(journal.c.reverses == contribution_months.c.tx_id)
    query = select(contribution_months).where(
        contribution_months.c.worker_id == worker_id,
        contribution_months.c.scheme == scheme,
        ~reversal.exists(),
    )
    if regions is not None:
        query = query.where(contribution_months.c.region.in_(sorted(set(regions))))
    return list(connection.execute(query.order_by(contribution_months.c.month)).all())
