"""Temporary accounts (临时账户): opened, sealed when the worker moves on, gathered at retirement.

国办发〔2009〕66号 第六、七条: a man of 50+ or a woman of 40+ who moves to a
province that is neither the hukou province nor where the relation is held pays into a
temporary account there; moving again seals it; at retirement every temporary account is
gathered, principal and interest, to the paying region, and so is the relation.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from fractions import Fraction

import pytest
from sqlalchemy import func, select

from suiren.domain.month import Month
from suiren.services.contributions import contribute
from suiren.services.gathering import gather_for_retirement
from suiren.services.interest import credit_interest
from suiren.services.reversals import reverse
from suiren.services.settlement import close_window
from suiren.services.transfers import (
    TransferRefused,
    accept_transfer,
    approve_transfer,
    complete_transfer,
    request_transfer,
)
from suiren.services.workers import enrol
from suiren.store.audit import verify
from suiren.store.db import unit_of_work
from suiren.store.ledger_repo import balances
from suiren.store.tables import enrolments, transfers
from tests.ledger_helpers import POLICY, VAULT, resident_id

BASE_FEN = 600_000  # 8% = 480.00 to the account, 12% = 720.00 pooled, each month


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 12, 0, tzinfo=UTC)


def pay(engine, worker_id: str, first: Month, last: Month, when: datetime) -> None:
    with unit_of_work(engine) as c:
        contribute(c, POLICY, f"{worker_id}-{first}", worker_id, first, last, BASE_FEN, when)


def move(engine, transfer_id: str, worker_id: str, to_region: str, when: datetime):
    with unit_of_work(engine) as c:
        view = request_transfer(c, POLICY, transfer_id, worker_id, to_region, when)
    return view, finish(engine, transfer_id, when)


def finish(engine, transfer_id: str, when: datetime):
    for call in (approve_transfer, accept_transfer, complete_transfer):
        with unit_of_work(engine) as c:
            view = call(c, transfer_id, when)
    return view


def enrolment(engine, worker_id: str) -> tuple[str, bool, str | None]:
    with unit_of_work(engine) as c:
        row = c.execute(select(enrolments).where(enrolments.c.worker_id == worker_id)).one()
    return row.region, row.temporary, row.relation_region


def held(engine, worker_id: str, region: str) -> tuple[int, int]:
    keys = [
        f"worker:{worker_id}:employee_pension:{kind}:{region}"
        for kind in ("individual_account", "pooled_entitlement")
    ]
    with unit_of_work(engine) as c:
        found = balances(c, keys)
    return found.get(keys[0], 0), found.get(keys[1], 0)


def half_up(value: Fraction) -> int:
    return int(value + Fraction(1, 2))


def in_year_interest(amount_fen: int, year: int) -> int:
    """年度计息法 on amounts credited during ``year``: × r × 1.083/2, half up."""
    view = POLICY.national(date(year, 1, 1))
    rate = Fraction(view.value("account.interest_rate"))
    return half_up(amount_fen * rate * Fraction(view.value("account.in_year_interest_factor")))


def with_interest(amount_fen: int, year: int, last_year: int) -> int:
    """``amount_fen`` credited during ``year``, with the interest of every year to ``last_year``
    (the rate of a year not yet published is the latest one)."""
    balance = amount_fen + in_year_interest(amount_fen, year)
    for later in range(year + 1, last_year + 1):
        balance += half_up(
            balance * Fraction(POLICY.national(date(later, 1, 1)).value("account.interest_rate"))
        )
    return balance


def woman_of_42(engine, n: int) -> str:
    """Born 1984-01, hukou Henan, enrolled in Guangzhou at 38, paid 2025 there."""
    with unit_of_work(engine) as c:
        worker_id = enrol(
            c, POLICY, VAULT, resident_id(n, "19840101", False), "440100", "410000", at(2022, 3, 2)
        ).worker.worker_id
    pay(engine, worker_id, Month.of(2025, 1), Month.of(2025, 12), at(2025, 12, 20))
    return worker_id


def test_moving_on_seals_the_temporary_account_and_retirement_gathers_everything(engine) -> None:
    w = woman_of_42(engine, 1)
    asked, done = move(engine, "to-zj", w, "330100", at(2026, 1, 5))
    assert (asked.kind, asked.from_region, done.temporary) == ("continue", "440100", True)
    assert enrolment(engine, w) == ("330100", True, "440100")  # the relation stays in Guangzhou
    pay(engine, w, Month.of(2026, 1), Month.of(2026, 3), at(2026, 3, 20))
    asked, done = move(engine, "to-js", w, "320100", at(2026, 4, 7))  # on to another province
    assert (asked.kind, asked.from_region, done.temporary) == ("continue", "330100", True)
    assert enrolment(engine, w) == ("320100", True, "440100")
    assert held(engine, w, "330100") == (3 * 48_000, 3 * 72_000)  # sealed where it is
    pay(engine, w, Month.of(2026, 4), Month.of(2026, 5), at(2026, 5, 20))

    # at retirement (from 55: 2039): fewer than 10 years anywhere -> the hukou province
    with unit_of_work(engine) as c:
        views = gather_for_retirement(c, POLICY, "retire", w, at(2039, 2, 1), to_region="410100")
    assert [(v.transfer_id, v.kind, v.from_region, v.to_region) for v in views] == [
        ("retire/320100", "gather", "320100", "410100"),
        ("retire/330100", "gather", "330100", "410100"),
        ("retire/440100", "claim", "440100", "410100"),
    ]
    with unit_of_work(engine) as c:  # asking again returns the same transfers, writes nothing
        count = c.execute(select(func.count()).select_from(transfers)).scalar_one()
        again = gather_for_retirement(c, POLICY, "retire", w, at(2039, 2, 2), to_region="410100")
        assert [v.transfer_id for v in again] == [v.transfer_id for v in views]
        assert c.execute(select(func.count()).select_from(transfers)).scalar_one() == count
    elsewhere = pytest.raises(TransferRefused, match="goes to 410100, not 410300")
    with elsewhere, unit_of_work(engine) as c:  # the same id for another city
        gather_for_retirement(c, POLICY, "retire", w, at(2039, 2, 2), to_region="410300")
    finished = {v.transfer_id: finish(engine, v.transfer_id, at(2039, 2, 3)) for v in views}

    # a temporary account: all of it, principal and 2026 interest, on the account and the pooled part
    zj = finished["retire/330100"]
    assert zj.account_fen == with_interest(3 * 48_000, 2026, 2038)
    assert zj.pooled_fen == with_interest(3 * 72_000, 2026, 2038)
    assert zj.interest_fen == zj.pooled_fen - 3 * 72_000 and zj.kept_fen == 0
    js = finished["retire/320100"]
    assert js.pooled_fen == with_interest(2 * 72_000, 2026, 2038)
    # the relation: as any transfer under current law — the account with its interest, 12% of
    # the bases (all of a flexible worker's pooled part); Guangzhou keeps nothing
    gz = finished["retire/440100"]
    assert gz.pooled_fen == 12 * 72_000 and gz.kept_fen == 0
    assert gz.account_fen > 12 * 48_000
    for region in ("320100", "330100", "440100"):
        assert held(engine, w, region) == (0, 0)
    account, pooled = held(engine, w, "410100")
    assert account == sum(v.account_fen for v in finished.values())
    assert pooled == sum(v.pooled_fen for v in finished.values())
    assert enrolment(engine, w)[2] == "410100"
    with unit_of_work(engine) as c:
        close_window(c, date(2039, 2, 3), at(2039, 2, 4))
        regions = ("320100", "330100", "440100", "410100")
        keys = [f"system:clearing:employee_pension:clearing:{r}" for r in regions]
        assert set(balances(c, keys).values()) <= {0}  # every gathering settled
        assert verify(c).ok
    with pytest.raises(TransferRefused, match="nothing to gather"), unit_of_work(engine) as c:
        gather_for_retirement(c, POLICY, "retire-again", w, at(2039, 2, 5), to_region="410100")


def test_first_insured_at_60_away_from_the_hukou_province_pays_into_a_temporary_account(
    engine,
) -> None:
    with unit_of_work(engine) as c:  # born 1966-01: may retire from 2026-01 (60; statutory 2026-05)
        enrolled = enrol(
            c, POLICY, VAULT, resident_id(2, "19660101", True), "440100", "410000", at(2026, 1, 6)
        )
    w = enrolled.worker.worker_id
    assert enrolled.temporary
    assert enrolment(engine, w) == ("440100", True, None)  # no relation anywhere yet
    pay(engine, w, Month.of(2026, 1), Month.of(2026, 3), at(2026, 3, 20))
    with unit_of_work(engine) as c:
        [view] = gather_for_retirement(c, POLICY, "g", w, at(2026, 6, 1))
    # nothing else is known of Henan: the province's own code holds the money
    assert (view.kind, view.from_region, view.to_region) == ("gather", "440100", "410000")
    done = finish(engine, "g/440100", at(2026, 6, 2))
    assert (done.account_fen, done.pooled_fen) == (3 * 48_000, 3 * 72_000)  # 2026 not over
    assert held(engine, w, "410000") == (3 * 48_000, 3 * 72_000)


def test_moving_back_to_where_the_relation_is_moves_nothing(engine) -> None:
    w = woman_of_42(engine, 3)
    move(engine, "away", w, "330100", at(2026, 1, 5))
    pay(engine, w, Month.of(2026, 1), Month.of(2026, 2), at(2026, 2, 20))
    asked, done = move(engine, "back", w, "440100", at(2026, 3, 2))
    assert (asked.kind, asked.from_region, done.temporary) == ("continue", "330100", False)
    assert (done.account_fen, done.pooled_fen) == (0, 0)
    assert enrolment(engine, w) == ("440100", False, "440100")
    assert held(engine, w, "330100") == (2 * 48_000, 2 * 72_000)  # sealed until gathered


def test_leaving_a_temporary_account_for_the_hukou_province_moves_the_relation(engine) -> None:
    w = woman_of_42(engine, 4)
    move(engine, "away", w, "330100", at(2026, 1, 5))
    pay(engine, w, Month.of(2026, 1), Month.of(2026, 2), at(2026, 2, 20))
    asked, done = move(engine, "home", w, "410100", at(2026, 3, 2))
    # the relation moves from Guangzhou, where it is held, not from the temporary account
    assert (asked.kind, asked.from_region, done.temporary) == ("move", "440100", False)
    assert done.pooled_fen == 12 * 72_000
    assert held(engine, w, "440100") == (0, 0)
    assert held(engine, w, "410100") == (done.account_fen, done.pooled_fen)
    assert held(engine, w, "330100") == (2 * 48_000, 2 * 72_000)
    assert enrolment(engine, w) == ("410100", False, "410100")
    with unit_of_work(engine) as c:
        assert verify(c).ok


def test_a_gathering_refuses_a_city_outside_the_paying_province_and_writes_nothing(engine) -> None:
    w = woman_of_42(engine, 5)
    move(engine, "away", w, "330100", at(2026, 1, 5))
    refused = pytest.raises(TransferRefused, match="not in the paying province 410000")
    with refused, unit_of_work(engine) as c:
        gather_for_retirement(c, POLICY, "g", w, at(2039, 1, 1), to_region="330100")  # at 55
    with unit_of_work(engine) as c:
        assert (
            c.execute(
                select(func.count()).select_from(transfers).where(transfers.c.kind != "continue")
            ).scalar_one()
            == 0
        )


def test_interest_left_in_a_temporary_account_whose_months_were_reversed_is_gathered(engine):
    """Found by the simulation (SUIREN_SIM_SEED=24, 13): the interest credited on a temporary
    account's months stays after they are reversed; gathering used to look only for months
    that stand, and left it behind for good."""
    with unit_of_work(engine) as c:  # a man of 59 away from his hukou province: temporary
        enrolled = enrol(
            c, POLICY, VAULT, resident_id(3, "19650301", True), "440100", "410000", at(2025, 1, 6)
        )
    w = enrolled.worker.worker_id
    assert enrolled.temporary
    pay(engine, w, Month.of(2025, 1), Month.of(2025, 1), at(2025, 1, 20))
    with unit_of_work(engine) as c:
        credit_interest(c, POLICY, 2025, at(2026, 2, 1))
        reverse(c, f"{w}-2025-01/2025-01", "rev", at(2026, 3, 2))
    left = held(engine, w, "440100")
    assert left[0] > 0  # the year's interest on the month stays with the worker, in 440100
    with unit_of_work(engine) as c:
        [view] = gather_for_retirement(c, POLICY, "g", w, at(2026, 6, 1))
    finish(engine, view.transfer_id, at(2026, 6, 2))
    assert held(engine, w, "440100") == (0, 0)


def test_interest_left_where_every_month_was_reversed_moves_with_the_worker(engine):
    """The sibling: a region whose months were all reversed still holds their interest; a
    transfer out takes it along instead of refusing with nothing to transfer."""
    with unit_of_work(engine) as c:  # a woman of 30: her own account, not a temporary one
        w = enrol(
            c, POLICY, VAULT, resident_id(6, "19950101", False), "440100", "410000", at(2024, 3, 2)
        ).worker.worker_id
    pay(engine, w, Month.of(2025, 1), Month.of(2025, 12), at(2025, 12, 20))
    with unit_of_work(engine) as c:
        credit_interest(c, POLICY, 2025, at(2026, 2, 1))
        for m in range(1, 13):
            reverse(c, f"{w}-2025-01/2025-{m:02d}", f"rev-{m}", at(2026, 3, 2))
    left = held(engine, w, "440100")
    assert left[0] > 0 and left[1] == 0  # the interest, in the individual account
    move(engine, "away", w, "330100", at(2026, 4, 1))
    assert held(engine, w, "440100") == (0, 0)
    assert held(engine, w, "330100")[0] >= left[0]
