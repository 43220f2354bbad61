"""Reversing the last month a region holds for a worker who has left it leaves nothing there.

Found by the simulation (a branch's SUIREN_SIM_SEED=10): a man of 59 away from his hukou
province pays into a temporary account (临时账户) in Guangzhou, moves on to Hangzhou (the
account is sealed where it is), Guangzhou's yearly run credits the account's interest, then
the month is reversed. The interest credited on it used to stay in Guangzhou, where the
worker is neither insured nor holds a month any more: money left behind, which 钱随人走
promises never happens. Reversing the last month a region holds moves whatever the worker
still has there to where they are insured now, in the same transaction (a ``gather``
transfer approved, accepted and completed at once; docs/ARCHITECTURE.md, "What can be
reversed").
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from suiren.domain.month import Month
from suiren.services.contributions import contribute
from suiren.services.gathering import gather_for_retirement
from suiren.services.interest import credit_interest
from suiren.services.reversals import ReversalRefused, reverse
from suiren.services.settlement import close_window
from suiren.services.transfers import (
    accept_transfer,
    approve_transfer,
    complete_transfer,
    request_transfer,
)
from suiren.services.workers import enrol
from suiren.store.db import unit_of_work
from suiren.store.tables import enrolments, postings
from tests.ledger_helpers import POLICY, VAULT, assert_ledger_sound, resident_id
from tests.services.test_gathering import held

BASE_FEN = 600_000


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 12, 0, tzinfo=UTC)


def sealed_in_guangzhou(engine, n: int) -> str:
    """A man of 59 with a Henan hukou: a temporary account in Guangzhou with 2025-01 and
    2025-04 in it, sealed there when he moved on to Hangzhou in October 2025."""
    with unit_of_work(engine) as c:
        enrolled = enrol(
            c, POLICY, VAULT, resident_id(n, "19660301", True), "440100", "410000", at(2025, 1, 6)
        )
    assert enrolled.temporary
    w = enrolled.worker.worker_id
    with unit_of_work(engine) as c:
        contribute(
            c, POLICY, f"{w}-a", w, Month.of(2025, 1), Month.of(2025, 1), BASE_FEN, at(2025, 1, 20)
        )
        contribute(
            c, POLICY, f"{w}-b", w, Month.of(2025, 4), Month.of(2025, 4), BASE_FEN, at(2025, 4, 20)
        )
    with unit_of_work(engine) as c:
        asked = request_transfer(c, POLICY, f"{w}-t", w, "330100", at(2025, 10, 9))
    assert asked.kind == "continue" and asked.from_region == "440100"
    for call in (approve_transfer, accept_transfer, complete_transfer):
        with unit_of_work(engine) as c:
            call(c, f"{w}-t", at(2025, 10, 10))
    with unit_of_work(engine) as c:
        region = c.execute(
            select(enrolments.c.region).where(enrolments.c.worker_id == w)
        ).scalar_one()
    assert region == "330100"
    return w


def test_the_interest_on_reversed_months_follows_the_worker_who_left(engine) -> None:
    w = sealed_in_guangzhou(engine, 11)
    with unit_of_work(engine) as c:
        credit_interest(c, POLICY, 2025, at(2026, 7, 27))
    account, pooled = held(engine, w, "440100")
    with unit_of_work(engine) as c:
        interest = sum(
            c.execute(
                select(postings.c.amount_fen).where(
                    postings.c.account == f"worker:{w}:employee_pension:individual_account:440100",
                    postings.c.code == "interest",
                )
            ).scalars()
        )
    assert interest > 0
    before = held(engine, w, "330100")
    with unit_of_work(engine) as c:
        reverse(c, f"{w}-a/2025-01", "rev-a", at(2026, 8, 3))
    # a month still stands in Guangzhou: the sealed account keeps what it holds
    assert held(engine, w, "330100") == before
    with unit_of_work(engine) as c:
        reverse(c, f"{w}-b/2025-04", "rev-b", at(2026, 8, 3))
        assert_ledger_sound(c)
    assert held(engine, w, "440100") == (0, 0)
    after = held(engine, w, "330100")
    # everything the worker still had in Guangzhou arrived, to the fen, and nothing else
    assert sum(after) - sum(before) == account + pooled - sum(
        _month_fen(engine, w, tx) for tx in (f"{w}-a/2025-01", f"{w}-b/2025-04")
    )
    with unit_of_work(engine) as c:
        close_window(c, at(2026, 8, 3).date(), at(2026, 8, 4))
        assert_ledger_sound(c)
    with unit_of_work(engine) as c:  # replaying the reversal writes nothing
        reverse(c, f"{w}-b/2025-04", "rev-b", at(2026, 8, 5))
        assert_ledger_sound(c)
    assert held(engine, w, "330100") == after


def _month_fen(engine, worker_id: str, tx_id: str) -> int:
    from suiren.store.tables import contribution_months

    with unit_of_work(engine) as c:
        row = c.execute(
            select(contribution_months).where(contribution_months.c.tx_id == tx_id)
        ).one()
    return int(row.account_fen) + int(row.pooled_fen) - int(row.held_fen)


def test_while_another_transfer_is_open_the_last_month_waits(engine) -> None:
    """What remains would follow the worker to a region they are leaving: the reversal is
    refused, naming the open transfer, and writes nothing; once it is done, it follows."""
    w = sealed_in_guangzhou(engine, 12)
    with unit_of_work(engine) as c:
        credit_interest(c, POLICY, 2025, at(2026, 7, 27))
        reverse(c, f"{w}-a/2025-01", "rev-a", at(2026, 8, 3))
    with unit_of_work(engine) as c:
        request_transfer(c, POLICY, f"{w}-on", w, "110000", at(2026, 8, 3))
    left = held(engine, w, "440100")
    with (
        pytest.raises(ReversalRefused, match=f"open transfer {w}-on"),
        unit_of_work(engine) as c,
    ):
        reverse(c, f"{w}-b/2025-04", "rev-b", at(2026, 8, 4))
    assert held(engine, w, "440100") == left
    for call in (approve_transfer, accept_transfer, complete_transfer):
        with unit_of_work(engine) as c:
            call(c, f"{w}-on", at(2026, 8, 5))
    with unit_of_work(engine) as c:
        reverse(c, f"{w}-b/2025-04", "rev-b", at(2026, 8, 6))
        assert_ledger_sound(c)
        region = c.execute(
            select(enrolments.c.region).where(enrolments.c.worker_id == w)
        ).scalar_one()
    assert region == "110000" and held(engine, w, "440100") == (0, 0)
    assert sum(held(engine, w, "110000")) > 0


def test_a_region_emptied_so_and_paid_into_again_is_gathered_at_retirement(engine) -> None:
    """The reversal's ``gather`` emptied Guangzhou; the worker comes back to a temporary
    account there and pays: retirement gathers Guangzhou again."""
    w = sealed_in_guangzhou(engine, 13)
    with unit_of_work(engine) as c:
        credit_interest(c, POLICY, 2025, at(2026, 7, 27))
        reverse(c, f"{w}-a/2025-01", "rev-a", at(2026, 8, 3))
        reverse(c, f"{w}-b/2025-04", "rev-b", at(2026, 8, 3))
    with unit_of_work(engine) as c:
        back = request_transfer(c, POLICY, f"{w}-back", w, "440100", at(2026, 8, 10))
    assert back.kind == "continue"
    for call in (approve_transfer, accept_transfer, complete_transfer):
        with unit_of_work(engine) as c:
            call(c, f"{w}-back", at(2026, 8, 10))
    with unit_of_work(engine) as c:
        contribute(
            c, POLICY, f"{w}-c", w, Month.of(2026, 8), Month.of(2026, 8), BASE_FEN, at(2026, 8, 20)
        )
    with unit_of_work(engine) as c:
        views = gather_for_retirement(c, POLICY, "g", w, at(2026, 9, 1), to_region="410100")
    assert sorted(v.from_region for v in views) == ["330100", "440100"]
    for v in views:
        for call in (approve_transfer, accept_transfer, complete_transfer):
            with unit_of_work(engine) as c:
                call(c, v.transfer_id, at(2026, 9, 2))
    assert held(engine, w, "440100") == (0, 0)
    with unit_of_work(engine) as c:
        assert_ledger_sound(c)


def test_what_follows_the_worker_is_quoted_and_stepped_under_the_callers_policy(
    engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The transfer that moves what is left is quoted and stepped under the policy the
    caller (CLI, API: its scenario) gives, not the baseline."""
    from suiren.policy import Policy, load_policy
    from suiren.services import reversals

    scenario = load_policy("money_follows_person")
    used: list[object] = []
    for name in ("quote_for", "insert_transfer", "approve_transfer", "complete_transfer"):
        original = getattr(reversals, name)

        def spy(*args: object, _original=original, **kwargs: object) -> object:  # type: ignore[no-untyped-def]
            used.extend(a for a in [*args, *kwargs.values()] if isinstance(a, Policy))
            return _original(*args, **kwargs)

        monkeypatch.setattr(reversals, name, spy)
    w = sealed_in_guangzhou(engine, 12)
    with unit_of_work(engine) as c:
        credit_interest(c, POLICY, 2025, at(2026, 7, 27))
        reverse(c, f"{w}-a/2025-01", "rev-a", at(2026, 8, 3), policy=scenario)
        reverse(c, f"{w}-b/2025-04", "rev-b", at(2026, 8, 3), policy=scenario)
        assert_ledger_sound(c)
    assert held(engine, w, "440100") == (0, 0)
    assert used and all(p is scenario for p in used), used
