"""A worker who is still paying: the estimate carries the months ahead to retirement (issue 10
§5), with the synthetic overlay of test_career.py (Guangdong's average wage and 计发基数 5000,
3% a year) so that the figures can be checked by hand."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suiren.domain.month import Month
from suiren.policy.projection import Assumptions
from suiren.services.career import compare
from suiren.services.workers import enrol
from suiren.store.db import unit_of_work
from tests.ledger_helpers import VAULT, resident_id
from tests.services.test_career import LAW, REFORM, at, pay_years, yearly_interest_balance

TODAY = at(2026, 1, 15).date()
RETIRE = Month.of(2028, 1)  # at 44: 24 months ahead, 2026-01 … 2027-12


def paying_worker(engine, n: int = 1) -> str:  # type: ignore[no-untyped-def]
    """Born 1984-01, hukou and work in Guangdong; 2020–2025 paid at 5000 (ratio 1)."""
    with unit_of_work(engine) as c:
        worker = enrol(
            c, LAW, VAULT, resident_id(n, "19840101", False), "440100", "440000", at(2020, 1, 6)
        ).worker.worker_id
    pay_years(engine, LAW, worker, 2020, 2025, 500_000, f"gd-{worker}")
    return worker


def estimate(engine, worker: str, assumptions: Assumptions | None, policies=(LAW,)):  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as c:
        return compare(c, list(policies), worker, TODAY, RETIRE, assumptions)


def test_months_ahead_by_hand(engine) -> None:
    worker = paying_worker(engine)
    [paid_only] = estimate(engine, worker, None)["scenarios"]
    [ahead] = estimate(engine, worker, Assumptions())["scenarios"]  # the last ratio: 1
    assert paid_only["projection"] is None and paid_only["contribution_months"] == 72
    assert ahead["contribution_months"] == 96 and ahead["contribution_months_paid"] == 72
    projection = ahead["projection"]
    assert (projection["from"], projection["to"], projection["months"]) == (
        "2026-01",
        "2027-12",
        24,
    )
    assert projection["base_ratio"] == "1" and projection["base_ratio_is_the_last_months"]
    assert projection["first_base_fen"] == 500_000 and ahead["average_index"] == "1"
    # 8% of 5000 = 400.00 a month; 3% a year by the 年度计息法, 2020–2027
    assert projection["account_today_fen"] == yearly_interest_balance(
        [(y, 12 * 40_000) for y in range(2020, 2026)], 2025
    )
    assert ahead["account_at_retirement_fen"] == yearly_interest_balance(
        [(y, 12 * 40_000) for y in range(2020, 2028)], 2027
    )
    assert projection["interest_rate"] == "2026–2027: 0.03 (the latest published, 2005's)"
    # (5000 + 5000 × 1) / 2 × 8 years × 1% = 400.00
    assert ahead["basic_pension_fen"] == 40_000
    assert ahead["total_fen"] > paid_only["total_fen"]
    ladder = projection["ladder"]
    assert [row["base_ratio"] for row in ladder] == ["0.6", "1", "2", "3"]
    assert [row["total_fen"] for row in ladder] == sorted(row["total_fen"] for row in ladder)
    assert next(r for r in ladder if r["base_ratio"] == "1")["total_fen"] == ahead["total_fen"]


def test_a_chosen_ratio_growth_and_rate_are_used_and_said(engine) -> None:
    worker = paying_worker(engine)
    chosen = Assumptions(Fraction(3, 2), Fraction(0), Fraction(1, 100))
    [ahead] = estimate(engine, worker, chosen)["scenarios"]
    projection = ahead["projection"]
    assert projection["base_ratio"] == "1.5" and not projection["base_ratio_is_the_last_months"]
    assert projection["first_base_fen"] == 750_000
    assert projection["interest_rate"] == "0.01 (assumed)"
    # 72 months at index 1 and 24 at 1.5: Ī = (72 + 36) / 96 = 1.125
    assert ahead["average_index"] == "1.125"
    grown = estimate(engine, worker, Assumptions(Fraction(1), Fraction(1, 10)))["scenarios"][0]
    # the wage was published for 2005: 2026 is 21 years of 10% later, and so is the base
    assert grown["projection"]["first_base_fen"] == int(
        Fraction(500_000) * Fraction(11, 10) ** 21 + Fraction(1, 2)
    )
    assert grown["average_index"] == "1"  # bases and wages grow together


def test_both_scenarios_side_by_side_with_the_months_ahead(engine) -> None:
    worker = paying_worker(engine)
    data = estimate(engine, worker, Assumptions(), (LAW, REFORM))
    law, reform = data["scenarios"]
    assert law["projection"]["months"] == reform["projection"]["months"] == 24
    assert data["difference_fen"]["total_fen"] == reform["total_fen"] - law["total_fen"]


def test_paying_more_never_gives_less(engine) -> None:
    """多缴多得: over random pairs of ratios, wage growth and rates, a higher base ratio for the
    months ahead never lowers the account at retirement nor the pension."""
    worker = paying_worker(engine)
    ratios = st.integers(60, 300).map(lambda p: Fraction(p, 100))

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        ratios,
        ratios,
        st.sampled_from([Fraction(0), Fraction(3, 100), Fraction(-5, 100)]),
        st.sampled_from([None, Fraction(0), Fraction(4, 100)]),
    )
    def more_never_less(a: Fraction, b: Fraction, growth: Fraction, rate: Fraction | None) -> None:
        low, high = sorted((a, b))
        [x] = estimate(engine, worker, Assumptions(low, growth, rate))["scenarios"]
        [y] = estimate(engine, worker, Assumptions(high, growth, rate))["scenarios"]
        assert x["account_at_retirement_fen"] <= y["account_at_retirement_fen"]
        assert x["total_fen"] <= y["total_fen"], (low, high, growth, rate)

    more_never_less()


def test_a_higher_ratio_never_pays_a_lower_base_in_any_month() -> None:
    """Every ratio from 60% to 300% by 1%: each month's base and account credit rise or stay
    (the floor and the ceiling only flatten the ends), with and without wage growth."""
    from suiren.policy.projection import months_ahead

    for growth in (Fraction(0), Fraction(4, 100)):
        previous = None
        for percent in range(60, 301):
            ahead = months_ahead(
                LAW, "440100", Month.of(2026, 1), Month.of(2027, 12), Fraction(percent, 100), growth
            )
            if previous is not None:
                assert (ahead.base_fen >= previous.base_fen).all(), percent
                assert (ahead.account_fen >= previous.account_fen).all(), percent
            previous = ahead
        assert int(previous.base_fen[0]) > 0
