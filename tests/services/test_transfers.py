"""Transfers between regions, settlement and deadlines, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from suiren.domain.month import Month
from suiren.domain.workdays import add_working_days, working_days_between
from suiren.policy import load_policy
from suiren.services.contributions import contribute
from suiren.services.interest import credit_interest
from suiren.services.settlement import close_window, report, settlement_account
from suiren.services.statement import statement
from suiren.services.transfers import (
    TransferRefused,
    accept_transfer,
    approve_transfer,
    complete_transfer,
    expire_overdue,
    overdue,
    reject_transfer,
    request_transfer,
)
from suiren.services.workers import enrol
from suiren.store.audit import verify
from suiren.store.db import unit_of_work
from suiren.store.ledger_repo import balances
from suiren.store.tables import accounts, journal, postings
from tests.ledger_helpers import POLICY, VAULT, resident_id

MFP = load_policy("money_follows_person")
JUNE = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
ENROLLED = datetime(2022, 3, 2, 12, 0, tzinfo=UTC)  # after 人社部发〔2021〕56号
LATE_2025 = datetime(2025, 12, 20, 12, 0, tzinfo=UTC)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, 0, tzinfo=UTC)


def worker_paying(engine, n, born="19900101", male=True, hukou="410000", region="440100"):
    with unit_of_work(engine) as c:
        w = enrol(
            c, POLICY, VAULT, resident_id(n, born, male), region, hukou, ENROLLED
        ).worker.worker_id  # years ago: too young then for a temporary account
        contribute(
            c,
            POLICY,
            f"p25-{n}",
            w,
            Month.parse("2025-01"),
            Month.parse("2025-12"),
            600_000,
            LATE_2025,
        )
    with unit_of_work(engine) as c:
        contribute(
            c, POLICY, f"p26-{n}", w, Month.parse("2026-01"), Month.parse("2026-05"), 600_000, JUNE
        )
    return w


def move(engine, transfer_id, worker, to_region, policy, day=date(2026, 6, 15)):
    with unit_of_work(engine) as c:
        request_transfer(c, policy, transfer_id, worker, to_region, at(day))
    with unit_of_work(engine) as c:
        approve_transfer(c, transfer_id, at(day))
    with unit_of_work(engine) as c:
        accept_transfer(c, transfer_id, at(day))
    with unit_of_work(engine) as c:
        return complete_transfer(c, transfer_id, at(day))


def test_current_law_moves_account_and_12_percent_of_bases(engine):
    w = worker_paying(engine, 1)
    with unit_of_work(engine) as c:
        credit_interest(c, POLICY, 2025, JUNE)
    done = move(engine, "t1", w, "330100", POLICY)
    # 17 months × 6000 base: account 17 × 480 + 2025 interest; pooled 12% × 102000 = 12240.00
    # 2025 interest: 12 × 480.00 credited in 2025 → 576000 × 1.5% × 0.5415 = 4678.56 fen -> 4679
    assert done.state == "completed" and not done.temporary
    assert done.account_fen == 17 * 48_000 + 4679
    assert done.pooled_fen == 1_224_000 and done.kept_fen == 0 and done.interest_fen == 0
    with unit_of_work(engine) as c:
        s = statement(c, w)
        held = {(b["kind"], b["region"]): b["balance_fen"] for b in s["balances"]}
        assert held[("individual_account", "440100")] == 0
        assert held[("individual_account", "330100")] == done.account_fen
        assert held[("pooled_entitlement", "330100")] == 1_224_000
        assert s["contribution_months_by_region"] == {"440100": 17}
        assert verify(c).ok


def test_money_follows_person_adds_interest_on_the_entitlement(engine):
    w = worker_paying(engine, 2)
    done = move(engine, "t2", w, "330100", MFP)
    # 2025 pooled: 12 × 720.00 = 8640.00; interest 864000 × 1.5% × 0.5415 = 7017.84 -> 7018
    assert done.interest_fen == 7018
    assert done.pooled_fen == 17 * 72_000 + 7018
    with unit_of_work(engine) as c:
        fund = balances(c, ["region:440100:employee_pension:pooled_fund:440100"])
        # the fund also pays the account's 2025 interest before it leaves (Guangdong has not run
        # 2025 yet): 12 × 480.00 × 1.5% × 0.5415 = 4678.56 -> 4679
        assert fund["region:440100:employee_pension:pooled_fund:440100"] == -(7018 + 4679)
        assert verify(c).ok


def test_no_move_lowers_the_pooled_entitlement_under_the_reform(engine):
    w = worker_paying(engine, 3)
    with unit_of_work(engine) as c:
        before = balances(c, [f"worker:{w}:employee_pension:pooled_entitlement:440100"])
    done = move(engine, "t3", w, "110000", MFP)
    with unit_of_work(engine) as c:
        after = balances(c, [f"worker:{w}:employee_pension:pooled_entitlement:110000"])
    assert (
        after[f"worker:{w}:employee_pension:pooled_entitlement:110000"]
        >= before[f"worker:{w}:employee_pension:pooled_entitlement:440100"]
    )
    assert done.pooled_fen >= 17 * 72_000


def test_woman_of_42_moving_away_from_hukou_gets_a_temporary_account(engine):
    w = worker_paying(engine, 4, born="19840101", male=False, hukou="410000")
    done = move(engine, "t4", w, "330100", POLICY)
    assert done.temporary and done.account_fen == 0 and done.pooled_fen == 0
    with unit_of_work(engine) as c:
        s = statement(c, w)
        held = {(b["kind"], b["region"]): b["balance_fen"] for b in s["balances"]}
        assert held[("individual_account", "440100")] == 17 * 48_000  # the relation stayed
        moved_postings = (
            select(func.count()).select_from(postings).where(postings.c.code == "transfer")
        )
        assert c.execute(moved_postings).scalar_one() == 0  # the steps moved no money
    # under the reform there are no temporary accounts: the same woman's money moves
    w2 = worker_paying(engine, 5, born="19840101", male=False, hukou="410000")
    moved = move(engine, "t5", w2, "330100", MFP)
    assert not moved.temporary and moved.account_fen == 17 * 48_000 + 4679  # with 2025 interest


def test_moving_back_to_the_hukou_province_is_never_temporary(engine):
    w = worker_paying(engine, 6, born="19700101", male=True, hukou="410000")
    done = move(engine, "t6", w, "410100", POLICY)
    assert not done.temporary


def test_steps_are_idempotent_and_ordered(engine):
    w = worker_paying(engine, 7)
    with unit_of_work(engine) as c:
        first = request_transfer(c, POLICY, "t7", w, "330100", JUNE)
    with unit_of_work(engine) as c:
        again = request_transfer(c, POLICY, "t7", w, "330100", JUNE)
    assert again == first
    with unit_of_work(engine) as c, pytest.raises(TransferRefused, match="needs it to be approved"):
        accept_transfer(c, "t7", JUNE)
    with unit_of_work(engine) as c:
        approve_transfer(c, "t7", JUNE)
    with unit_of_work(engine) as c:
        n = c.execute(select(func.count()).select_from(journal)).scalar_one()
        approve_transfer(c, "t7", JUNE)  # replay: nothing new
        assert c.execute(select(func.count()).select_from(journal)).scalar_one() == n


@pytest.mark.parametrize(
    ("to_region", "message"),
    [("440100", "already insured"), ("440199", "unknown region")],
)
def test_bad_transfer_requests_write_nothing(engine, to_region, message):
    w = worker_paying(engine, 8)
    with unit_of_work(engine) as c:
        before = c.execute(select(func.count()).select_from(journal)).scalar_one()
    with unit_of_work(engine) as c, pytest.raises(Exception, match=message):
        request_transfer(c, POLICY, "t8", w, to_region, JUNE)
    with unit_of_work(engine) as c:
        assert c.execute(select(func.count()).select_from(journal)).scalar_one() == before


def test_a_region_never_paid_in_has_nothing_to_transfer(engine):
    with unit_of_work(engine) as c:
        w = enrol(c, POLICY, VAULT, resident_id(9), "440100", None, JUNE).worker.worker_id
    with unit_of_work(engine) as c, pytest.raises(TransferRefused, match="paid no contributions"):
        request_transfer(c, POLICY, "t9", w, "330100", JUNE)


def test_reject_after_approval_returns_the_money(engine):
    w = worker_paying(engine, 10)
    with unit_of_work(engine) as c:
        request_transfer(c, POLICY, "t10", w, "330100", JUNE)
    with unit_of_work(engine) as c:
        approve_transfer(c, "t10", JUNE)
    with unit_of_work(engine) as c:
        view = reject_transfer(c, "t10", JUNE, "B refuses")
        assert view.state == "rejected"
        held = balances(
            c,
            [
                f"worker:{w}:employee_pension:individual_account:440100",
                "system:clearing:employee_pension:clearing:440100",
            ],
        )
        # back with the 2025 interest Guangdong credited before it left (earned all the same)
        assert held[f"worker:{w}:employee_pension:individual_account:440100"] == 17 * 48_000 + 4679
        assert held["system:clearing:employee_pension:clearing:440100"] == 0
        assert verify(c).ok
    with unit_of_work(engine) as c:  # Guangdong's own 2025 run does not credit it twice
        credit_interest(c, POLICY, 2025, JUNE)
        again = balances(c, [f"worker:{w}:employee_pension:individual_account:440100"])
        assert again[f"worker:{w}:employee_pension:individual_account:440100"] == 17 * 48_000 + 4679


def test_settlement_nets_regions_and_empties_clearing(engine):
    a = worker_paying(engine, 11, region="440100")
    b = worker_paying(engine, 12, region="440100")
    c3 = worker_paying(engine, 13, region="330100")
    move(engine, "s1", a, "330100", POLICY)
    move(engine, "s2", b, "110000", POLICY)
    move(engine, "s3", c3, "440100", POLICY)
    day = date(2026, 6, 15)
    with unit_of_work(engine) as c:
        closed = close_window(c, day, at(date(2026, 6, 16)))
    assert sum(closed.positions.values()) == 0
    assert len(closed.flows) == 3
    with unit_of_work(engine) as c:
        n = c.execute(select(func.count()).select_from(journal)).scalar_one()
        again = close_window(c, day, at(date(2026, 6, 16)))
        assert again == closed
        assert c.execute(select(func.count()).select_from(journal)).scalar_one() == n
        clearing_total = c.execute(
            select(func.coalesce(func.sum(accounts.c.balance_fen), 0)).where(
                accounts.c.kind == "clearing"
            )
        ).scalar_one()
        assert clearing_total == 0
        for region in ("440100", "330100", "110000"):
            key = f"system:clearing:employee_pension:clearing:{region}"
            assert balances(c, [key]).get(key, 0) == 0
        assert (
            balances(c, [str(settlement_account(closed_scheme()))]).get(
                str(settlement_account(closed_scheme())), 0
            )
            == 0
        )
        assert report(c, day).closed
        total = c.execute(select(func.sum(accounts.c.balance_fen))).scalar_one()
        assert total == 0 and verify(c).ok


def closed_scheme():
    from suiren.ledger.accounts import Scheme

    return Scheme.EMPLOYEE_PENSION


def test_deadlines_count_chinese_working_days_across_spring_festival():
    # 2026 Spring Festival: 02-15 to 02-23 off; Saturday 02-14 and 02-28 are 调休 workdays
    assert add_working_days(date(2026, 2, 10), 15) == date(2026, 3, 9)
    assert add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)  # a 调休 Saturday
    assert working_days_between(date(2026, 2, 13), date(2026, 2, 24)) == 2  # 02-14 and 02-24
    # New Year 2026: 01-01 and 01-02 off, Sunday 01-04 a 调休 workday
    assert add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 4)
    assert add_working_days(date(2025, 12, 30), 15) == date(2026, 1, 21)


def test_overdue_and_expired_requests(engine):
    w = worker_paying(engine, 14)
    with unit_of_work(engine) as c:
        view = request_transfer(c, POLICY, "t14", w, "330100", JUNE)
    assert view.due_on == add_working_days(date(2026, 6, 15), 15)
    late = at(date(2026, 8, 1))
    with unit_of_work(engine) as c:
        assert [v.transfer_id for v in overdue(c, late.date())] == ["t14"]
        expired = expire_overdue(c, late)
        assert [v.state for v in expired] == ["expired"]
    with unit_of_work(engine) as c, pytest.raises(TransferRefused):
        approve_transfer(c, "t14", late)


def test_no_payments_in_the_old_region_while_the_money_is_moving(engine):
    w = worker_paying(engine, 15)
    with unit_of_work(engine) as c:
        request_transfer(c, POLICY, "t15", w, "330100", JUNE)
    with unit_of_work(engine) as c:
        approve_transfer(c, "t15", JUNE)
    with unit_of_work(engine) as c, pytest.raises(Exception, match="being transferred out"):
        contribute(
            c, POLICY, "late-pay", w, Month.parse("2026-06"), Month.parse("2026-06"), 600_000, JUNE
        )
    for step in (accept_transfer, complete_transfer):
        with unit_of_work(engine) as c:
            step(c, "t15", JUNE)
    with unit_of_work(engine) as c:  # once completed, the worker pays in the new region
        [paid] = contribute(
            c, POLICY, "new-pay", w, Month.parse("2026-06"), Month.parse("2026-06"), 500_000, JUNE
        )
    assert paid.region == "330100"
