"""The yearly interest run credits, to the fen, what a plain per-account computation gives.

The run reads every account's (prior, in-year) parts in batches of SQL fetched as columns and
computes the interest of the whole column with numpy; this test recomputes each account on
its own: its lines one by one (``store.lines.account_lines``: postings, the months they
derive, the carried part of a transfer), the yearly rule in exact fractions, rounded half up,
never negative. The histories differ: years before the run and a run of 2024 before it,
months from mid-year on, a month of 2025 and one of 2024 reversed, a worker who moves out
during 2025, one who moves in, one whose 2025 interest was credited when he left in 2026, and
more accounts than a batch holds. Every individual account of both regions must get exactly
the reference amount (none when it is zero or already credited)."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, select

from suiren.domain.month import Month
from suiren.policy.interest import year_rate
from suiren.services import interest
from suiren.services.contributions import contribute
from suiren.services.interest import credit_interest
from suiren.services.reversals import reverse
from suiren.services.transfers import (
    accept_transfer,
    approve_transfer,
    complete_transfer,
    request_transfer,
)
from suiren.services.workers import enrol
from suiren.store.audit import verify
from suiren.store.db import unit_of_work
from suiren.store.lines import account_lines
from suiren.store.tables import accounts, journal, postings
from tests.ledger_helpers import POLICY, VAULT, resident_id

YEAR = 2025
START, END = Month.of(YEAR, 1).ordinal, Month.of(YEAR, 12).ordinal


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 12, 0, tzinfo=UTC)


def half_up(value: Fraction) -> int:
    """Rounded half away from zero, to the fen."""
    whole = int((abs(value) * 2 + 1) // 2)
    return whole if value >= 0 else -whole


def reference(connection: Connection, account: str, region: str) -> int | None:
    """The interest ``account`` earns for YEAR by the yearly rule, from its lines one by one;
    None when it was already credited for YEAR (a transfer's catch-up)."""
    prior = in_year = 0
    for line in account_lines(connection, account):
        month = line.legal_month.ordinal
        if line.code == "interest" and month == END:
            return None
        if month < START:
            prior += line.amount_fen
        elif month <= END:
            carried = line.prior_fen  # the part of a transfer that predates the year
            prior += carried
            in_year += line.amount_fen - carried if line.code != "interest" else -carried
    if prior <= 0 and in_year <= 0:
        return 0
    rate = year_rate(POLICY, YEAR, region)
    return max(0, half_up(prior * rate.rate + in_year * rate.rate * rate.in_year_factor))


def history(engine: Engine) -> dict[str, str]:
    """Workers with varied histories in 440100 (and two in 330100); name -> worker id."""
    ids: dict[str, str] = {}

    def worker(name: str, n: int, region: str = "440100") -> str:
        with unit_of_work(engine) as c:
            ids[name] = enrol(
                c, POLICY, VAULT, resident_id(n), region, "410000", at(2023, 1, 5)
            ).worker.worker_id
        return ids[name]

    def pay(name: str, first: Month, last: Month, base: int, when: datetime) -> None:
        with unit_of_work(engine) as c:
            contribute(c, POLICY, f"{ids[name]}-{first}", ids[name], first, last, base, when)

    def transfer(transfer_id: str, name: str, to: str, when: datetime) -> None:
        with unit_of_work(engine) as c:
            request_transfer(c, POLICY, transfer_id, ids[name], to, when)
        for call in (approve_transfer, accept_transfer, complete_transfer):
            with unit_of_work(engine) as c:
                call(c, transfer_id, when)

    for k in range(7):  # plain savers: prior years and part of 2025, bases that round oddly
        worker(f"saver{k}", 10 + k)
        pay(
            f"saver{k}",
            Month.of(2023, 3 + k),
            Month.of(2023, 12),
            600_013 + 7_919 * k,
            at(2023, 12, 20),
        )
        pay(
            f"saver{k}",
            Month.of(2024, 1),
            Month.of(2024, 12),
            610_007 + 3_331 * k,
            at(2024, 12, 20),
        )
        pay(
            f"saver{k}",
            Month.of(2025, 1),
            Month.of(2025, 1 + k),
            620_011 + 911 * k,
            at(2025, 9, 20),
        )
    worker("newcomer", 20)  # from mid-2025 only: in-year credits, no prior
    pay("newcomer", Month.of(2025, 6), Month.of(2025, 12), 655_555, at(2025, 12, 20))
    worker("reversed", 21)  # a 2024 month and a 2025 month reversed
    pay("reversed", Month.of(2024, 1), Month.of(2024, 12), 640_001, at(2024, 12, 20))
    pay("reversed", Month.of(2025, 1), Month.of(2025, 6), 640_001, at(2025, 6, 20))
    worker("leaver", 22)  # moves to Hangzhou in 2025: its Guangzhou account is emptied
    pay("leaver", Month.of(2024, 1), Month.of(2024, 12), 700_003, at(2024, 12, 20))
    pay("leaver", Month.of(2025, 1), Month.of(2025, 4), 700_003, at(2025, 4, 20))
    worker("arriver", 23, "330100")  # moves from Hangzhou to Guangzhou in 2025
    pay("arriver", Month.of(2024, 1), Month.of(2024, 12), 580_007, at(2024, 12, 20))
    pay("arriver", Month.of(2025, 1), Month.of(2025, 2), 580_007, at(2025, 2, 20))
    worker("stayer330", 24, "330100")
    pay("stayer330", Month.of(2024, 5), Month.of(2024, 12), 590_001, at(2024, 12, 20))
    worker("late_leaver", 25)  # leaves in 2026, before the 2025 run: credited on leaving
    pay("late_leaver", Month.of(2024, 1), Month.of(2024, 12), 630_001, at(2024, 12, 20))
    pay("late_leaver", Month.of(2025, 1), Month.of(2025, 12), 630_001, at(2025, 12, 20))
    with unit_of_work(engine) as c:
        credit_interest(c, POLICY, 2024, at(2025, 1, 10))
    with unit_of_work(engine) as c:
        reverse(c, f"{ids['reversed']}-{Month.of(2024, 1)}/2024-03", "rev-2024", at(2025, 2, 1))
        reverse(c, f"{ids['reversed']}-{Month.of(2025, 1)}/2025-02", "rev-2025", at(2025, 3, 1))
    transfer("out", "leaver", "330100", at(2025, 5, 10))
    transfer("in", "arriver", "440100", at(2025, 3, 10))
    pay("arriver", Month.of(2025, 4), Month.of(2025, 9), 581_111, at(2025, 9, 20))
    transfer("later", "late_leaver", "330100", at(2026, 3, 9))
    return ids


def individual_accounts(connection: Connection) -> list[tuple[str, str]]:
    rows: Any = connection.execute(
        select(accounts.c.account, accounts.c.region).where(accounts.c.kind == "individual_account")
    ).all()
    return sorted((r.account, r.region) for r in rows)


def run_credits(connection: Connection) -> dict[str, int]:
    """account -> interest posted by the yearly run of YEAR (its entries only)."""
    rows: Any = connection.execute(
        select(postings.c.account, postings.c.amount_fen)
        .join(journal, (journal.c.region == postings.c.region) & (journal.c.seq == postings.c.seq))
        .where(journal.c.tx_id.like(f"interest/%/{YEAR}/%"), postings.c.account.like("worker:%"))
    ).all()
    out: dict[str, int] = {}
    for r in rows:
        assert r.account not in out, f"{r.account} credited twice"
        out[r.account] = int(r.amount_fen)
    return out


@pytest.mark.parametrize("batch_max", [3, 50_000])
def test_the_run_credits_what_each_account_computed_alone_earns(
    engine: Engine, batch_max: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = history(engine)
    with unit_of_work(engine) as c:
        wanted = {a: reference(c, a, region) for a, region in individual_accounts(c)}
    monkeypatch.setattr(interest, "BATCH_ACCOUNTS_MAX", batch_max)
    with unit_of_work(engine) as c:
        runs = credit_interest(c, POLICY, YEAR, at(2026, 6, 30))
    with unit_of_work(engine) as c:
        got = run_credits(c)
        assert verify(c).ok
    expected = {a: v for a, v in wanted.items() if v}
    assert got == expected
    # the histories reach every branch: credited, already credited, carried, emptied
    key = "worker:{}:employee_pension:individual_account:{}".format
    assert wanted[key(ids["late_leaver"], "440100")] is None
    assert got[key(ids["arriver"], "440100")] > 0 and got[key(ids["newcomer"], "440100")] > 0
    assert got[key(ids["leaver"], "330100")] > 0
    assert len(got) >= 11 and sum(r.accounts for r in runs) == len(got)
    assert sum(r.batches for r in runs) >= (2 if batch_max == 3 else 1)
