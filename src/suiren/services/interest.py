"""Yearly interest on individual accounts (记账利率), set-based and idempotent per year.

For each region, in batches of accounts, one SQL statement computes and inserts every
account's interest for year Y (年度计息法, 劳办发〔1997〕116号)::

    interest = balance before Y × r  +  amounts credited during Y × r × 1.083 × 1/2

rounded half up to the fen in integer arithmetic, against the region's pooled fund, as one
hash-chained transaction per batch. Python never loops over accounts: it only streams the
batch's postings once to hash them. A year already credited for a region is skipped, and so
is an account already credited for that year.

Interest follows the money across a transfer (``services.transfers``): the old region first
credits any year it has not yet run on the leaving account (``interest_for``, the same
formula for one account); a transfer posted during year Y carries, in ``interest_carry``,
the part of the balance that predates Y, which earns the whole year's rate in the new
region and nothing in the old one; if the new region has already run a year the money
missed, it credits the difference when the money arrives. A rate not yet published is
taken as the latest published one (the agencies' provisional practice, RULEBOOK §2.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction

from sqlalchemy import Connection, func, select, text

from suiren.domain.errors import InvalidInput
from suiren.domain.money import divide_round
from suiren.domain.month import Month
from suiren.ledger.accounts import AccountKind, Scheme, pooled_fund
from suiren.ledger.hashchain import chain_hash, content_hash
from suiren.ledger.transaction import TxCode
from suiren.policy import Policy
from suiren.store.ledger_repo import add_to_balances, lock_chain_head
from suiren.store.tables import accounts, chain_heads, interest_runs, journal, postings

BATCH_ACCOUNTS_MAX = 50_000


@dataclass(frozen=True)
class InterestRun:
    region: str
    year: int
    batches: int
    accounts: int
    total_fen: int
    skipped: bool


def credit_interest(
    connection: Connection,
    policy: Policy,
    year: int,
    now: datetime,
    scheme: Scheme = Scheme.EMPLOYEE_PENSION,
) -> list[InterestRun]:
    if year >= now.year:
        raise InvalidInput(f"interest for {year} can be credited only after the year has ended")
    view = policy.national(date(year, 1, 1))
    rate = Fraction(view.value("account.interest_rate"))
    factor = Fraction(view.value("account.in_year_interest_factor"))
    regions = [
        r[0]
        for r in connection.execute(
            select(accounts.c.region)
            .where(
                accounts.c.scheme == scheme.value,
                accounts.c.kind == AccountKind.INDIVIDUAL_ACCOUNT.value,
            )
            .distinct()
            .order_by(accounts.c.region)
        )
    ]
    return [
        _credit_region(connection, scheme, region, year, rate, factor, now) for region in regions
    ]


def _credit_region(
    connection: Connection,
    scheme: Scheme,
    region: str,
    year: int,
    rate: Fraction,
    factor: Fraction,
    now: datetime,
) -> InterestRun:
    seq, previous = lock_chain_head(connection, region)
    if region_credited(connection, scheme, region, year):
        return InterestRun(region, year, 0, 0, 0, True)
    bounds = _batch_bounds(connection, scheme, region)
    total_accounts = total_fen = 0
    for batch, (low, high) in enumerate(bounds):
        seq += 1
        tx_id = f"interest/{scheme.value}/{region}/{year}/{batch}"
        count, amount = _insert_batch(
            connection, scheme, region, year, seq, low, high, rate, factor
        )
        if count == 0:
            seq -= 1
            continue
        fund = pooled_fund(scheme, region)
        connection.execute(
            postings.insert().values(
                region=region, seq=seq, line=0, account=str(fund), account_region=region,
                amount_fen=-amount, legal_month=Month.of(year, 12).ordinal, code=TxCode.INTEREST.value,
            )
        )  # fmt: skip
        lines = connection.execute(
            select(postings.c.account, postings.c.amount_fen)
            .where(postings.c.region == region, postings.c.seq == seq)
            .order_by(postings.c.account)
        )
        memo = f"interest {year} at {rate}"
        content = content_hash(
            tx_id, TxCode.INTEREST.value, region, Month.of(year, 12).ordinal, None, None, memo,
            ((r.account, int(r.amount_fen)) for r in lines),
        )  # fmt: skip
        current = chain_hash(previous, content)
        connection.execute(
            journal.insert().values(
                region=region, seq=seq, tx_id=tx_id, code=TxCode.INTEREST.value,
                legal_month=Month.of(year, 12).ordinal, worker_id=None, reverses=None, memo=memo,
                recorded_at=now, content_hash=content, prev_hash=previous, chain_hash=current,
            )
        )  # fmt: skip
        connection.execute(
            text(
                "UPDATE accounts SET balance_fen = accounts.balance_fen + p.amount_fen"
                " FROM postings p WHERE p.region = :region AND p.seq = :seq AND p.line > 0"
                " AND p.account = accounts.account"
            ),
            {"region": region, "seq": seq},
        )
        add_to_balances(connection, {str(fund): -amount}, {str(fund): fund})
        connection.execute(
            interest_runs.insert().values(
                scheme=scheme.value, region=region, year=year, batch=batch, tx_id=tx_id,
                accounts=count, total_fen=amount,
            )
        )  # fmt: skip
        previous = current
        total_accounts += count
        total_fen += amount
    connection.execute(
        chain_heads.update()
        .where(chain_heads.c.region == region)
        .values(seq=seq, chain_hash=previous)
    )
    return InterestRun(region, year, len(bounds), total_accounts, total_fen, False)


def _batch_bounds(connection: Connection, scheme: Scheme, region: str) -> list[tuple[str, str]]:
    """(first, last) account key of each batch of at most BATCH_ACCOUNTS_MAX accounts."""
    where = "scheme = :scheme AND kind = 'individual_account' AND region = :region"
    params = {"scheme": scheme.value, "region": region}
    bounds: list[tuple[str, str]] = []
    low = ""
    while True:
        row = connection.execute(
            text(
                f"SELECT MIN(account) AS first, MAX(account) AS last, COUNT(*) AS n FROM ("
                f" SELECT account FROM accounts WHERE {where} AND account > :low"
                f" ORDER BY account LIMIT {BATCH_ACCOUNTS_MAX}) AS batch"
            ),
            {**params, "low": low},
        ).one()
        if not row.n:
            return bounds
        bounds.append((row.first, row.last))
        low = row.last


# (prior, in_year) of each account for year Y, in SQL. ``prior`` is the balance before Y,
# ``in_year`` what was credited during Y (interest excluded). A transfer posted in Y carries
# the part of its amount that had been in the account before Y (``interest_carry``): that
# part counts as prior where it lands and is taken off the prior where it leaves, so a move
# neither loses nor doubles a year's interest — it follows the money.
_SUMS_SQL = """
    SELECT sums.account AS account,
           sums.prior + COALESCE(carry.prior, 0) AS prior,
           sums.in_year - COALESCE(carry.prior, 0) AS in_year
    FROM (
      SELECT p.account AS account,
             CAST(SUM(CASE WHEN p.legal_month < :start THEN p.amount_fen ELSE 0 END) AS BIGINT) AS prior,
             CAST(SUM(CASE WHEN p.legal_month >= :start AND p.code <> 'interest'
                      THEN p.amount_fen ELSE 0 END) AS BIGINT) AS in_year
      FROM postings p
      JOIN accounts a ON a.account = p.account
      WHERE {accounts} AND p.legal_month <= :end
      GROUP BY p.account
    ) AS sums
    LEFT JOIN (
      SELECT c.account AS account, CAST(SUM(c.prior_fen) AS BIGINT) AS prior
      FROM interest_carry c
      JOIN postings q ON q.region = c.region AND q.seq = c.seq AND q.account = c.account
      WHERE q.legal_month BETWEEN :start AND :end
      GROUP BY c.account
    ) AS carry ON carry.account = sums.account
"""


def _insert_batch(
    connection: Connection, scheme: Scheme, region: str, year: int, seq: int, low: str, high: str,
    rate: Fraction, factor: Fraction,
) -> tuple[int, int]:  # fmt: skip
    start, end = Month.of(year, 1).ordinal, Month.of(year, 12).ordinal
    # interest = (prior·rn·fd + in_year·rn·fn) / (rd·fd), half up, in integers; the sums are cast
    # to BIGINT because PostgreSQL's SUM(bigint) is numeric, whose division does not truncate.
    # An account already credited for Y (at a transfer, see ``catch_up``) is not credited again.
    rn, rd, fn, fd = rate.numerator, rate.denominator, factor.numerator, factor.denominator
    sums = _SUMS_SQL.format(
        accounts="a.scheme = :scheme AND a.kind = 'individual_account' AND a.region = :region"
        " AND a.account BETWEEN :low AND :high"
    )
    sql = f"""
        INSERT INTO postings (region, seq, line, account, account_region, amount_fen, legal_month, code)
        SELECT :region, :seq, ROW_NUMBER() OVER (ORDER BY account), account, :region, interest, :end, 'interest'
        FROM (
          SELECT account,
                 (2 * (prior * {rn * fd} + in_year * {rn * fn}) + {rd * fd}) / (2 * {rd * fd}) AS interest
          FROM ({sums}) AS adjusted
          WHERE (prior > 0 OR in_year > 0)
            AND NOT EXISTS (SELECT 1 FROM postings d WHERE d.account = adjusted.account
                            AND d.legal_month = :end AND d.code = 'interest')
        ) AS computed
        WHERE interest > 0
    """
    params = {"region": region, "seq": seq, "start": start, "end": end, "scheme": scheme.value,
              "low": low, "high": high}  # fmt: skip
    connection.execute(text(sql), params)
    row = connection.execute(
        text("SELECT COUNT(*) AS n, COALESCE(SUM(amount_fen), 0) AS total FROM postings"
             " WHERE region = :region AND seq = :seq"),
        {"region": region, "seq": seq},
    ).one()  # fmt: skip
    return int(row.n), int(row.total)


def year_parts(connection: Connection, account: str, year: int) -> tuple[int, int]:
    """(prior, in_year) of one account for ``year``, as the yearly run counts them."""
    start, end = Month.of(year, 1).ordinal, Month.of(year, 12).ordinal
    row = connection.execute(
        text(_SUMS_SQL.format(accounts="a.account = :account")),
        {"account": account, "start": start, "end": end},
    ).first()
    return (0, 0) if row is None else (int(row.prior), int(row.in_year))


def interest_for(policy: Policy, year: int, prior: int, in_year: int) -> int:
    """年度计息法 for one account: prior × r + in_year × r × factor, half up (0 if not positive)."""
    view = policy.national(date(year, 1, 1))  # the latest published rate if ``year``'s is not yet
    rate = Fraction(view.value("account.interest_rate"))
    factor = Fraction(view.value("account.in_year_interest_factor"))
    amount = prior * rate + in_year * rate * factor
    return max(0, int(divide_round(amount.numerator, amount.denominator)))


def credited(connection: Connection, account: str, year: int) -> int:
    """Interest already posted to ``account`` for ``year``."""
    return int(
        connection.execute(
            select(func.coalesce(func.sum(postings.c.amount_fen), 0)).where(
                postings.c.account == account,
                postings.c.legal_month == Month.of(year, 12).ordinal,
                postings.c.code == TxCode.INTEREST.value,
            )
        ).scalar_one()
    )


def region_credited(connection: Connection, scheme: Scheme, region: str, year: int) -> bool:
    """Whether ``region``'s yearly run for ``year`` is done."""
    return (
        connection.execute(
            select(interest_runs.c.batch).where(
                interest_runs.c.scheme == scheme.value,
                interest_runs.c.region == region,
                interest_runs.c.year == year,
            )
        ).first()
        is not None
    )


def pending_interest(
    connection: Connection, policy: Policy, account: str, through_year: int
) -> int:
    """Interest ``account`` has earned through ``through_year`` but not yet been credited.

    Year by year (each year's pending interest earns the next year's rate): what the
    yearly formula gives, less what was posted for that year. For estimates; nothing is posted.
    """
    pending = 0
    for year in range(first_year(connection, account) or through_year + 1, through_year + 1):
        prior, in_year = year_parts(connection, account, year)
        owed = interest_for(policy, year, prior + pending, in_year) - credited(
            connection, account, year
        )
        pending += max(0, owed)
    return pending


def first_year(connection: Connection, account: str) -> int | None:
    """The legal year of the account's first posting (None: no posting)."""
    first = connection.execute(
        select(func.min(postings.c.legal_month)).where(postings.c.account == account)
    ).scalar_one()
    return None if first is None else Month(first).year
