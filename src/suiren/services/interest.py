"""Yearly interest on individual accounts (记账利率), idempotent per region and year.

For each region, in batches of at most ``BATCH_ACCOUNTS_MAX`` accounts by worker id, SQL finds
every account's balance before year Y and what was credited during Y (``store.lines.SUMS_SQL``:
postings and contribution months alike, and only the lines dated in Y or later: the balance
before Y is the account's balance less them, so the run reads a year, not the account's whole
history), read as columns (``store.lines.year_sums``);
``policy.interest.yearly_interest`` computes the interest of the whole column (年度计息法, the
one place the rule is written). Each batch is one hash-chained transaction against the
region's pooled fund, recording its ``interest_runs`` row as a fact; the region's batches go
through the one write path together (``post_columns``: one COPY of the postings, one
set-based balance update). A region already run for Y is skipped, and so is an account
already credited for Y (at a transfer).

Interest follows the money across a transfer (``services.transfers``): the old region first
credits any year it has not yet run on the leaving account (``interest_for``, the same rule
for one account); a transfer posted during year Y carries, in ``interest_carry``, the part
of the balance that predates Y, which earns the whole year's rate in the new region and
nothing in the old one; if the new region has already run a year the money missed, it
credits the difference when the money arrives. A rate not yet published is taken as the
latest published one (provisional, and said so in the run's result); the rate a provisional
run used is recorded with its first batch (``provisional_uses``, subject
``interest/{scheme}/{region}/{year}``), and a replay of the run answers from it — what the
first run used, whatever the parameters say now.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import Connection, func, select, text

from suiren.domain.errors import InvalidInput
from suiren.domain.messages import text as message
from suiren.domain.month import Month
from suiren.ledger.accounts import AccountKey, AccountKind, Scheme, pooled_fund
from suiren.ledger.transaction import Posting, Transaction, TxCode
from suiren.policy import Policy
from suiren.policy.interest import YearRate, interest_for, year_rate, yearly_interest
from suiren.rules.parameters import ResolvedValue
from suiren.services.provisional import provisional_warning, rate_figures
from suiren.services.provisional_uses import use_fact, uses_of
from suiren.store.db import analyze_stale
from suiren.store.ledger_repo import ColumnEntry, lock_chain_head, post_columns, post_transactions
from suiren.store.lines import SUMS_SQL, SUMS_TABLES, first_month, year_sums
from suiren.store.projections import fact
from suiren.store.tables import interest_runs, journal, postings

BATCH_ACCOUNTS_MAX = 50_000
PROVISIONAL_MEMO = " (provisional)"  # ends the memo of a run's entry on a provisional rate
YEAR_MIN = 1998  # individual accounts earn interest from 1998 on (国发〔1997〕26号)


@dataclass(frozen=True)
class InterestRun:
    region: str
    year: int
    batches: int
    accounts: int
    total_fen: int
    skipped: bool
    rate: str = ""
    provisional: bool = False  # the year's rate is not published: the latest one was used
    figure: ResolvedValue | None = None  # the rate as read (cited in the warning)

    def warnings(self) -> list[dict[str, Any]]:
        """``provisional-parameter`` where the year's rate is not published (the latest one
        was used), as every other output that uses a provisional figure says it."""
        if not self.provisional or self.figure is None:
            return []
        figure = replace(self.figure, provisional=True)
        warning = provisional_warning([figure], "year", str(self.year), RATE_THEN)
        return [] if warning is None else [warning]

    def to_json(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "year": self.year,
            "batches": self.batches,
            "accounts": self.accounts,
            "total_fen": self.total_fen,
            "skipped": self.skipped,
            "rate": self.rate,
            "provisional": self.provisional,
            "warnings": self.warnings(),
        }


RATE_THEN = ("按最近公布的记账利率计息", "interest is credited at the latest published rate")


def credit_interest(
    connection: Connection,
    policy: Policy,
    year: int,
    now: datetime,
    scheme: Scheme = Scheme.EMPLOYEE_PENSION,
) -> list[InterestRun]:
    if not YEAR_MIN <= year < now.year:
        raise InvalidInput(message("interest.year", first=YEAR_MIN, last=now.year - 1, year=year))
    # a yearly run's plans rest on the statistics of every account's lines: a server with
    # autovacuum off or behind a million rows posted today would plan it for empty tables
    # (a million accounts, the benchmark's tables: 22.0 s without statistics, 18.2 s with them,
    # the analysis 0.7 s; docs/BENCHMARKS.md 2026-12-04 and 2026-12-05)
    analyze_stale(connection, SUMS_TABLES)
    regions = account_regions(connection, scheme)
    return [_credit_region(connection, policy, scheme, region, year, now) for region in regions]


def account_regions(connection: Connection, scheme: Scheme) -> list[str]:
    """The regions with individual accounts in ``scheme``, in order: one probe of the
    ``(scheme, kind, region, owner_id)`` index per region (a loose index scan), where
    ``DISTINCT`` read every account: 0.15 s a million (0.26 s in the benchmark's 2.2 million;
    about half a minute for 200 million, extrapolated), 1 ms so (docs/BENCHMARKS.md)."""
    rows = connection.execute(
        text(
            "WITH RECURSIVE r(region) AS ("
            " SELECT min(region) FROM accounts WHERE scheme = :scheme AND kind = :kind"
            " UNION ALL SELECT (SELECT min(a.region) FROM accounts a WHERE a.scheme = :scheme"
            " AND a.kind = :kind AND a.region > r.region) FROM r WHERE r.region IS NOT NULL)"
            " SELECT region FROM r WHERE region IS NOT NULL"
        ),
        {"scheme": scheme.value, "kind": AccountKind.INDIVIDUAL_ACCOUNT.value},
    )
    return [str(r.region) for r in rows]


def _credit_region(
    connection: Connection, policy: Policy, scheme: Scheme, region: str, year: int, now: datetime
) -> InterestRun:
    lock_chain_head(connection, region)
    rate = year_rate(policy, year, region)
    subject = run_subject(scheme, region, year)
    if region_credited(connection, scheme, region, year):
        return _replayed(connection, subject, region, year, rate)
    used = use_fact(subject, 0, rate_figures([rate]))  # the first batch records it
    entries: list[ColumnEntry] = []
    total_accounts = total_fen = 0
    for batch, (low, high) in enumerate(_batch_bounds(connection, scheme, region)):
        keys, amounts = _batch_interest(connection, rate, scheme, region, year, low, high)
        if not len(keys):
            continue
        tx_id = f"interest/{scheme.value}/{region}/{year}/{batch}"
        total = int(amounts.sum())
        run = fact(
            interest_runs,
            scheme=scheme.value,
            region=region,
            year=year,
            batch=batch,
            tx_id=tx_id,
            accounts=len(keys),
            total_fen=total,
        )
        entries.append(
            ColumnEntry(
                tx_id,
                TxCode.INTEREST,
                region,
                Month.of(year, 12),
                now,
                pa.concat_arrays([pa.array([str(pooled_fund(scheme, region))]), keys]),
                np.concatenate([np.array([-total], dtype=np.int64), amounts]),
                memo=f"interest {year} at {rate.rate}"
                + (PROVISIONAL_MEMO if rate.provisional else ""),
                facts=(run,) if entries or used is None else (run, used),
            )
        )
        total_accounts += len(keys)
        total_fen += total
    post_columns(connection, entries)  # each batch its own entry, written together
    return InterestRun(
        region,
        year,
        len(entries),
        total_accounts,
        total_fen,
        False,
        str(rate.rate),
        rate.provisional,
        rate.cited[0],
    )


def run_subject(scheme: Scheme, region: str, year: int) -> str:
    """What ``provisional_uses`` records a region's yearly run under (month 0)."""
    return f"interest/{scheme.value}/{region}/{year}"


def _replayed(
    connection: Connection, subject: str, region: str, year: int, rate: YearRate
) -> InterestRun:
    """A run done already, answered as it was first given, whatever the parameters say now:
    the rate its entries' memo names (``interest 2026 at 3/200 (provisional)``, hashed with
    them), provisional exactly when the first run recorded the figure it used as one — the
    warning names that figure. A run posted before the figure was kept has none: its memo
    says whether it was provisional, and its warning cites the figure the parameters give
    now (the only one there is). A run that credited nothing wrote no entry: today's rate."""
    memo = _first_memo(connection, subject)
    said = None if memo is None else memo.removesuffix(PROVISIONAL_MEMO).rpartition(" at ")[2]
    shown = said or str(rate.rate)
    recorded = uses_of(connection, [subject]).get((subject, 0))
    if recorded:
        return InterestRun(region, year, 0, 0, 0, True, shown, True, recorded[0])
    legacy = memo is not None and memo.endswith(PROVISIONAL_MEMO)
    return InterestRun(region, year, 0, 0, 0, True, shown, legacy, rate.cited[0])


def _first_memo(connection: Connection, subject: str) -> str | None:
    """The memo of the first entry of the run ``subject`` names (None: it wrote none)."""
    _, scheme, region, year = subject.split("/")
    runs = interest_runs.c
    memo = connection.execute(
        select(journal.c.memo)
        .join(interest_runs, runs.tx_id == journal.c.tx_id)
        .where(runs.scheme == scheme, runs.region == region, runs.year == int(year))
        .order_by(runs.batch)
        .limit(1)
    ).scalar()
    return None if memo is None else str(memo)


def _batch_interest(
    connection: Connection,
    rate: YearRate,
    scheme: Scheme,
    region: str,
    year: int,
    low: str,
    high: str,
) -> tuple[pa.Array, np.ndarray]:
    """(account keys, interest) of the batch's accounts not yet credited for ``year``."""
    sums = year_sums(
        connection,
        accounts="a.scheme = :scheme AND a.kind = 'individual_account' AND a.region = :region"
        " AND a.owner_id BETWEEN :low AND :high",
        months="m.worker_id BETWEEN :low AND :high",  # each batch reads its own workers' months
        year=year,
        params={"scheme": scheme.value, "region": region, "low": low, "high": high},
    )
    prior = sums["prior"].to_numpy()
    in_year = sums["in_year"].to_numpy()
    due = np.flatnonzero(((prior > 0) | (in_year > 0)) & (sums["credited"].to_numpy() == 0))
    interest = yearly_interest(rate, prior[due], in_year[due])
    keep = due[interest > 0]
    return sums["account"].take(keep).combine_chunks(), interest[interest > 0]


def _batch_bounds(connection: Connection, scheme: Scheme, region: str) -> list[tuple[str, str]]:
    """(first, last) owner of each batch of at most BATCH_ACCOUNTS_MAX accounts, by worker id:
    a batch then reads only its own workers' postings and months (by their indexes), so a
    region of a million accounts is not scanned once per batch. One query: the owners at each
    batch's first and last place in the order, numbered as the index gives them, and the
    region's last owner (the last batch's end). Not ``COUNT(*) OVER ()`` for that end: it held
    every row until the last was read (a million accounts: 1.05 s, spilled to disk)."""
    size = BATCH_ACCOUNTS_MAX
    where = "scheme = :scheme AND kind = 'individual_account' AND region = :region"
    rows = connection.execute(
        text(
            "SELECT s.n, s.owner_id FROM (SELECT owner_id,"
            f" ROW_NUMBER() OVER (ORDER BY owner_id) AS n FROM accounts WHERE {where}) AS s"
            " WHERE (s.n - 1) % :size = 0 OR s.n % :size = 0"
            f" UNION ALL SELECT 0, max(owner_id) FROM accounts WHERE {where} ORDER BY 1"
        ),
        {"scheme": scheme.value, "region": region, "size": size},
    ).all()
    last = rows[0].owner_id  # n = 0: the last owner (None: no account)
    at = {int(r.n): r.owner_id for r in rows[1:]}
    firsts = [n for n in sorted(at) if n % size == 1 % size]  # places 1, 1 + size, 1 + 2·size…
    return [(at[first], at.get(first + size - 1, last)) for first in firsts]


def year_parts(connection: Connection, account: str, year: int) -> tuple[int, int]:
    """(prior, in_year) of one account for ``year``, as the yearly run counts them."""
    start, end = Month.of(year, 1).ordinal, Month.of(year, 12).ordinal
    row = connection.execute(
        text(SUMS_SQL.format(accounts="a.account = :account", months="TRUE")),
        {"account": account, "start": start, "end": end},
    ).first()
    return (0, 0) if row is None else (int(row.prior), int(row.in_year))


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
    connection: Connection,
    policy: Policy,
    account: str,
    through_year: int,
    rates: list[YearRate] | None = None,
) -> int:
    """Interest ``account`` has earned through ``through_year`` but not yet been credited.

    Year by year (each year's pending interest earns the next year's rate): what the
    yearly rule gives, less what was posted for that year. For estimates; nothing is posted.
    ``rates``: the rate of each year that earns interest is appended, credited or pending
    (what an estimate cites).
    """
    pending = 0
    region = AccountKey.parse(account).region
    for year in range(first_year(connection, account) or through_year + 1, through_year + 1):
        prior, in_year = year_parts(connection, account, year)
        earned = interest_for(policy, year, prior + pending, in_year, region)
        pending += max(0, earned - credited(connection, account, year))
        if earned > 0 and rates is not None:  # the year's interest is in the balance
            rates.append(year_rate(policy, year, region))
    return pending


def first_year(connection: Connection, account: str) -> int | None:
    """The legal year of the account's first line (None: no line)."""
    first = first_month(connection, account)
    return None if first is None else first.year


def catch_up(
    connection: Connection,
    policy: Policy,
    account: str,
    region: str,
    years: range,
    now: datetime,
    prefix: str,
    leaving: bool,
) -> list[YearRate]:
    """Credit ``account`` the interest of ``years`` that ``region``'s yearly run will not give it.

    Leaving a region (``leaving``): every year the region has not yet run, before the
    balance leaves. Arriving: every year the region has already run, the difference between
    what the account earns with the money that arrived and what it got. Returns the rate of
    each year credited (a provisional one is said by the step that credits it).
    """
    key = AccountKey.parse(account)
    first = first_year(connection, account)
    used: list[YearRate] = []
    for year in range(max(years.start, first or years.stop), years.stop):
        if region_credited(connection, key.scheme, region, year) == leaving:
            continue
        prior, in_year = year_parts(connection, account, year)
        amount = interest_for(policy, year, prior, in_year, region) - credited(
            connection, account, year
        )
        if amount <= 0:
            continue
        post_transactions(
            connection,
            [
                Transaction.build(
                    f"{prefix}/{year}",
                    TxCode.INTEREST,
                    region,
                    Month.of(year, 12),
                    now,
                    [Posting(pooled_fund(key.scheme, region), -amount), Posting(key, amount)],
                    worker_id=key.owner_id,
                    memo=f"interest {year} on a transfer",
                )
            ],
        )
        used.append(year_rate(policy, year, region))
    return used
