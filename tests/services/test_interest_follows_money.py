"""Interest follows the money: a worker who moves earns, to the fen, what one who stayed earns.

Two workers pay the same bases in the same months. One stays in Guangzhou; the other moves
to Hangzhou. Whatever the order of the regions' yearly runs (年度计息法) and the transfer's
steps — the old region's run before or after the money leaves, the money in transit over
New Year, the new region's run before it arrives — once every year is credited the two
individual accounts hold the same amount, and the old region's emptied account holds none.
"""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

import pytest
from sqlalchemy import func, select

from suiren.domain.month import Month
from suiren.policy import load_policy
from suiren.services.contributions import contribute
from suiren.services.interest import credit_interest, pending_interest
from suiren.services.transfers import (
    accept_transfer,
    approve_transfer,
    complete_transfer,
    request_transfer,
)
from suiren.services.workers import enrol
from suiren.store.audit import verify
from suiren.store.db import unit_of_work
from suiren.store.tables import accounts, postings
from tests.ledger_helpers import POLICY, VAULT, resident_id

BASE_FEN = 600_000
ENROLLED = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 12, 0, tzinfo=UTC)


def worker(engine, n: int, region: str = "440100") -> str:
    with unit_of_work(engine) as c:
        return enrol(c, POLICY, VAULT, resident_id(n), region, "410000", ENROLLED).worker.worker_id


def pay(engine, worker_id: str, first: Month, last: Month, when: datetime) -> None:
    with unit_of_work(engine) as c:
        contribute(c, POLICY, f"{worker_id}-{first}", worker_id, first, last, BASE_FEN, when)


def run(engine, year: int, when: datetime) -> None:
    with unit_of_work(engine) as c:
        credit_interest(c, POLICY, year, when)


def step(engine, call, transfer_id: str, when: datetime) -> None:
    with unit_of_work(engine) as c:
        call(c, transfer_id, when)


def account_total(engine, worker_id: str) -> dict[str, int]:
    """The worker's individual-account balance in each region."""
    with unit_of_work(engine) as c:
        rows = c.execute(
            select(accounts.c.region, accounts.c.balance_fen).where(
                accounts.c.owner_id == worker_id, accounts.c.kind == "individual_account"
            )
        ).all()
    return {r.region: int(r.balance_fen) for r in rows}


def interest_postings(engine, worker_id: str, region: str) -> int:
    with unit_of_work(engine) as c:
        return int(
            c.execute(
                select(func.count()).where(
                    postings.c.account
                    == f"worker:{worker_id}:employee_pension:individual_account:{region}",
                    postings.c.code == "interest",
                )
            ).scalar_one()
        )


@pytest.mark.parametrize("old_region_runs_2025", ["before the move", "after the move"])
def test_a_mover_earns_what_a_stayer_earns(engine, old_region_runs_2025: str) -> None:
    stayer, mover = worker(engine, 1), worker(engine, 2)
    for w in (stayer, mover):
        pay(engine, w, Month.of(2025, 1), Month.of(2025, 12), at(2025, 12, 20))
        pay(engine, w, Month.of(2026, 1), Month.of(2026, 2), at(2026, 2, 20))
    if old_region_runs_2025 == "before the move":
        run(engine, 2025, at(2026, 2, 25))
    with unit_of_work(engine) as c:
        request_transfer(c, POLICY, "move", mover, "330100", at(2026, 3, 9))
    for call in (approve_transfer, accept_transfer, complete_transfer):
        step(engine, call, "move", at(2026, 3, 10))
    if old_region_runs_2025 == "after the move":
        run(engine, 2025, at(2026, 6, 30))  # Guangzhou credited the mover when the money left
    pay(engine, stayer, Month.of(2026, 3), Month.of(2026, 5), at(2026, 5, 20))
    pay(engine, mover, Month.of(2026, 3), Month.of(2026, 5), at(2026, 5, 20))
    run(engine, 2026, at(2027, 1, 10))
    stayed, moved = account_total(engine, stayer), account_total(engine, mover)
    assert moved["440100"] == 0 and moved["330100"] == stayed["440100"]
    # 2025 and 2026 each credited once to the mover: 2025 in Guangzhou, 2026 in Hangzhou
    assert (
        interest_postings(engine, mover, "440100"),
        interest_postings(engine, mover, "330100"),
    ) == (1, 1)
    with unit_of_work(engine) as c:
        assert verify(c).ok
        # nothing is left to credit for either of them
        for w, region in ((stayer, "440100"), (mover, "330100")):
            key = f"worker:{w}:employee_pension:individual_account:{region}"
            assert pending_interest(c, POLICY, key, 2026) == 0


def test_money_in_transit_over_new_year_earns_that_year_where_it_lands(engine) -> None:
    """Approved by Guangzhou in December, accepted by Hangzhou in January after Hangzhou's
    2026 run: Hangzhou credits the 2026 interest on what arrived when it arrives."""
    stayer, mover = worker(engine, 3), worker(engine, 4)
    local = worker(engine, 5, "330100")  # so that Hangzhou's 2026 run exists
    for w in (stayer, mover, local):
        pay(engine, w, Month.of(2025, 1), Month.of(2025, 12), at(2025, 12, 20))
        pay(engine, w, Month.of(2026, 1), Month.of(2026, 11), at(2026, 11, 20))
    run(engine, 2025, at(2026, 2, 25))
    with unit_of_work(engine) as c:
        request_transfer(c, POLICY, "year-end", mover, "330100", at(2026, 12, 28))
    step(engine, approve_transfer, "year-end", at(2026, 12, 29))
    run(engine, 2026, at(2027, 1, 4))  # the mover's money is in neither account
    step(engine, accept_transfer, "year-end", at(2027, 1, 5))
    step(engine, complete_transfer, "year-end", at(2027, 1, 5))
    stayed, moved = account_total(engine, stayer), account_total(engine, mover)
    assert moved["440100"] == 0 and moved["330100"] == stayed["440100"]
    run(engine, 2026, at(2027, 1, 6))  # running again changes nothing
    assert account_total(engine, mover) == moved
    with unit_of_work(engine) as c:
        assert verify(c).ok


def test_the_old_region_credits_only_the_years_it_has_not_run(engine) -> None:
    """A move in 2026 before Guangzhou's 2025 run: the leaving account gets 2025 once, as
    the yearly run would have given it (in-year credits × r × 1.083/2, half up)."""
    mover = worker(engine, 6)
    pay(engine, mover, Month.of(2025, 1), Month.of(2025, 12), at(2025, 12, 20))
    with unit_of_work(engine) as c:
        request_transfer(c, POLICY, "early", mover, "330100", at(2026, 3, 9))
    step(engine, approve_transfer, "early", at(2026, 3, 10))
    view = POLICY.national(at(2025, 1, 1).date())
    wanted = (
        12
        * BASE_FEN
        * 8
        // 100
        * Fraction(view.value("account.interest_rate"))
        * Fraction(view.value("account.in_year_interest_factor"))
    )
    with unit_of_work(engine) as c:
        got = c.execute(
            select(postings.c.amount_fen).where(
                postings.c.account == f"worker:{mover}:employee_pension:individual_account:440100",
                postings.c.code == "interest",
            )
        ).scalar_one()
    assert got == int(wanted + Fraction(1, 2))
    run(engine, 2025, at(2026, 6, 30))
    assert interest_postings(engine, mover, "440100") == 1


def test_under_the_reform_moving_twice_carries_what_moving_once_carries(engine) -> None:
    """钱随人走: the pooled entitlement moves with interest at the crediting rate. A worker who
    moved in March 2026 and again in March 2027 brings to Beijing, to the fen, what one who
    stayed in Guangzhou until March 2027 brings: the pooled part that predates 2026 earns the
    whole of 2026's rate in Hangzhou, the account's likewise."""
    reform = load_policy("money_follows_person")
    once, twice = worker(engine, 7), worker(engine, 8)
    for w in (once, twice):
        pay(engine, w, Month.of(2025, 1), Month.of(2025, 12), at(2025, 12, 20))
        pay(engine, w, Month.of(2026, 1), Month.of(2026, 2), at(2026, 2, 20))
    with unit_of_work(engine) as c:
        request_transfer(c, reform, "first", twice, "330100", at(2026, 3, 9))
    for call in (approve_transfer, accept_transfer, complete_transfer):
        step(engine, call, "first", at(2026, 3, 10))
    for w in (once, twice):
        pay(engine, w, Month.of(2026, 3), Month.of(2026, 12), at(2026, 12, 20))
        pay(engine, w, Month.of(2027, 1), Month.of(2027, 2), at(2027, 2, 20))
    arrived = {}
    for transfer_id, w in (("once", once), ("twice", twice)):
        with unit_of_work(engine) as c:
            request_transfer(c, reform, transfer_id, w, "110000", at(2027, 3, 9))
        for call in (approve_transfer, accept_transfer):
            step(engine, call, transfer_id, at(2027, 3, 10))
        with unit_of_work(engine) as c:
            view = accept_transfer(c, transfer_id, at(2027, 3, 10))  # a replay: the view
        arrived[transfer_id] = (view.account_fen, view.pooled_fen, view.interest_fen)
    assert arrived["twice"][:2] == arrived["once"][:2]  # the account and the pooled part
    # the interest added at this move: all of it for the one who moved once; 2026 only for
    # the other, whose 2025 interest was added at the first move
    assert arrived["once"][2] > arrived["twice"][2] > 0
    with unit_of_work(engine) as c:
        assert verify(c).ok
