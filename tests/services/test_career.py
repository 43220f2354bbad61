"""Whole-career pensions and moves between regions: worked examples under both scenarios.

The wages, bases and crediting rate come from a synthetic, clearly-labelled test overlay
(fixtures/synthetic_wages.yaml: Guangdong 5000, Zhejiang 4000, Henan 3000, 3% a year) so that
every expected figure below can be checked with pencil and paper.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from fractions import Fraction
from pathlib import Path

from suiren.domain.messages import Text
from suiren.domain.month import Month
from suiren.domain.region import default_registry
from suiren.policy import Policy, baseline_parameters, load_policy
from suiren.rules.scenario import apply_scenario
from suiren.services.career import cause_text, compare
from suiren.services.contributions import contribute
from suiren.services.transfers import (
    accept_transfer,
    approve_transfer,
    complete_transfer,
    request_transfer,
)
from suiren.services.workers import enrol
from suiren.store.audit import verify
from suiren.store.db import unit_of_work
from tests.bilingual import all_problems
from tests.ledger_helpers import VAULT, resident_id

FIXTURE = Path(__file__).parent / "fixtures" / "synthetic_wages.yaml"


def synthetic(scenario: str) -> Policy:
    base = load_policy(scenario).parameters
    return Policy(apply_scenario(base, FIXTURE, default_registry()), default_registry())


LAW, REFORM = synthetic("current_law"), synthetic("money_follows_person")


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 12, 0, tzinfo=UTC)


def pay_years(engine, policy, worker, first_year, last_year, base_fen, tag):
    for year in range(first_year, last_year + 1):
        with unit_of_work(engine) as c:
            contribute(
                c,
                policy,
                f"{tag}-{year}",
                worker,
                Month.of(year, 1),
                Month.of(year, 12),
                base_fen,
                at(year, 12, 20),
            )


def move(engine, policy, transfer_id, worker, to_region, when):
    with unit_of_work(engine) as c:
        request_transfer(c, policy, transfer_id, worker, to_region, when)
    for step in (approve_transfer, accept_transfer, complete_transfer):
        with unit_of_work(engine) as c:
            view = step(c, transfer_id, when, policy)
    return view


def yearly_interest_balance(credits: list[tuple[int, int]], through: int) -> int:
    """An account credited ``credits`` (year, amount), with 3% a year by the 年度计息法:
    balance × 3% + the year's credits × 3% × 1.083/2, half up to the fen, through ``through``."""
    by_year = dict(credits)
    balance = 0
    for year in range(min(by_year), through + 1):
        credited = by_year.get(year, 0)
        interest = Fraction(balance * 3, 100) + Fraction(credited * 3 * 5415, 100 * 10000)
        balance += credited + math.floor(interest + Fraction(1, 2))
    return balance


def test_synthetic_overlay_is_only_a_test_fixture():
    """The overlay's 3% from 2005 is the tests' own: the baseline credits 2016 at 8.31%."""
    baseline = baseline_parameters().parameter("account.interest_rate").series["000000"]
    assert {e.start.year: e.value for e in baseline.entries}[2016] == Fraction(831, 10_000)
    assert LAW.national(date(2016, 1, 1)).value("account.interest_rate") == Fraction(3, 100)


def test_henan_courier_guangdong_zhejiang_henan(engine):
    """Born 1975-01, hukou Henan: 6 years in Guangdong at 5000, 5 in Zhejiang at 6000, 8 in Henan at 3000."""
    with unit_of_work(engine) as c:
        w = enrol(
            c, LAW, VAULT, resident_id(1, "19750101", True), "440100", "410000", at(2007, 1, 5)
        ).worker
    pay_years(engine, LAW, w.worker_id, 2007, 2012, 500_000, "gd")
    first = move(engine, LAW, "gd-zj", w.worker_id, "330100", at(2013, 1, 7))
    # current law: the account, 72 × 400.00 with the interest of 2007–2012 (Guangdong credits
    # the years it has not run before the money leaves); pooled 12% × 72 × 5000 = 43200.00
    assert (first.account_fen, first.pooled_fen, first.kept_fen, first.temporary) == (
        yearly_interest_balance([(y, 12 * 40_000) for y in range(2007, 2013)], 2012),
        4_320_000,
        0,
        False,
    )
    pay_years(engine, LAW, w.worker_id, 2013, 2017, 600_000, "zj")
    move(engine, LAW, "zj-ha", w.worker_id, "410100", at(2018, 1, 8))
    pay_years(engine, LAW, w.worker_id, 2018, 2025, 300_000, "ha")
    with unit_of_work(engine) as c:
        assert verify(c).ok
        result = compare(c, [LAW, REFORM], w.worker_id, at(2026, 6, 15).date())
    law, reform = result["scenarios"]
    # retires at 62y7m (1975-01 is 120 months after 1965-01: 31 months' delay) in 2037-08;
    # insured in Henan, its hukou province, under both rules: Henan pays.
    assert (law["retirement_month"], law["paying_province"]) == ("2037-08", "410000")
    assert reform["paying_province"] == "410000"
    # Ī against Henan's 3000: (72 × 5/3 + 60 × 2 + 96 × 1) / 228 = 336/228 = 1.473684
    assert law["average_index"] == "1.473684"
    # basic = 3000 × (1 + 1.4737) / 2 × 19 × 1% = 705.00 (19 years = 228 months)
    assert law["basic_pension_fen"] == 70_500
    # account = 8% × (72 × 5000 + 60 × 6000 + 96 × 3000) = 80640.00 of contributions, with 3%
    # a year through 2025 as if it had never moved (interest follows the money); divisor at
    # 62y7m: 125 − (125 − 117) × 7/12 = 120.33 -> 120.3
    account = yearly_interest_balance(
        [(y, 12 * 40_000) for y in range(2007, 2013)]
        + [(y, 12 * 48_000) for y in range(2013, 2018)]
        + [(y, 12 * 24_000) for y in range(2018, 2026)],
        2025,
    )
    assert 8_064_000 < account < 8_064_000 * 14 // 10
    expected_account_pension = math.floor(Fraction(account * 10, 1203) + Fraction(1, 2))
    assert law["account_pension_fen"] == expected_account_pension
    assert law["total_fen"] == reform["total_fen"] == 70_500 + expected_account_pension
    assert result["difference_fen"]["total_fen"] == 0
    assert law["pooled_left_behind_fen"] == 0
    assert law["warnings"] == reform["warnings"] == []  # Henan pays what the formula computes
    assert result["difference_causes"] == [{"code": "none"}]
    assert result["causes_zh"] == ["待遇领取地、临时账户和留在原参保地的统筹基金均无差别"]


def guangzhou_estimate(engine, n: int, born: str) -> dict:
    """The estimate of a worker born on ``born`` who paid in 广州 2015–2025, in mid-2026."""
    with unit_of_work(engine) as c:
        w = enrol(
            c, LAW, VAULT, resident_id(n, born, True), "440100", "440000", at(2015, 1, 5)
        ).worker
    pay_years(engine, LAW, w.worker_id, 2015, 2025, 600_000, "gz")
    with unit_of_work(engine) as c:
        return compare(c, [LAW], w.worker_id, at(2026, 6, 15).date())


def test_an_estimate_names_what_the_paying_region_adds_that_is_not_modelled(engine):
    """Guangdong's 原办法, 调整额 and 地方养老金 (years to 2006-06) are not computed
    (``pension.not_modelled``): for a worker old enough to have worked then, the estimate says
    so, as a calculation does."""
    result = guangzhou_estimate(engine, 3, "19800101")
    # and 11 years paid (2015–2025, no months ahead) are short of the 20 years of one reaching
    # 63 in 2043 (born 1980-01, 36 months' delay): a warning of its own
    short, warning = result["scenarios"][0]["warnings"]
    assert short["code"] == "below-minimum-years"
    assert (warning["code"], warning["region"]) == ("not-modelled", "440000")
    assert "过渡性养老金" in warning["part"] and "未计算" in warning["message"]


def test_an_estimate_names_no_guangdong_part_a_worker_too_young_for_it_cannot_have(engine):
    """What 广东 leaves out from 2024-05 (原办法, 调整额, 地方养老金) depends only on deemed
    years and years to 2006-06 (``pension.not_modelled_through``): a worker born 1991-01 was
    under 16 then (劳动法 第十五条) and has no deemed months, so the estimate names nothing."""
    result = guangzhou_estimate(engine, 4, "19910101")
    [short] = result["scenarios"][0]["warnings"]  # 11 years are short of the minimum
    assert short["code"] == "below-minimum-years"
    assert result["scenarios"][0]["extra_pension_fen"] > 0  # the 加发 and 年限津贴 computed


def test_woman_moving_at_42_to_a_non_hukou_province(engine):
    """Born 1984-01, hukou Henan: 6 years in Guangdong at 5000, then Zhejiang at 42 (2026)."""
    with unit_of_work(engine) as c:
        w = enrol(
            c, LAW, VAULT, resident_id(2, "19840101", False), "440100", "410000", at(2020, 1, 6)
        ).worker
        w2 = enrol(
            c, REFORM, VAULT, resident_id(3, "19840101", False), "440100", "410000", at(2020, 1, 6)
        ).worker
    for worker, policy in ((w, LAW), (w2, REFORM)):
        pay_years(engine, policy, worker.worker_id, 2020, 2025, 500_000, f"gd-{worker.worker_id}")
    law_move = move(engine, LAW, "law", w.worker_id, "330100", at(2026, 1, 5))
    reform_move = move(engine, REFORM, "reform", w2.worker_id, "330100", at(2026, 1, 5))
    assert law_move.temporary and law_move.account_fen == 0
    assert not reform_move.temporary
    assert reform_move.account_fen == yearly_interest_balance(
        [(y, 12 * 40_000) for y in range(2020, 2026)], 2025
    )
    # under the reform the pooled entitlement moves with 3% interest (年度计息法):
    # each year's 12 × 600.00 earns 3% × 0.5415 in its year and 3% a year after
    expected, balance = 0, 0
    for _year in range(2020, 2026):
        credited = 12 * 60_000
        interest = Fraction(balance * 3, 100) + Fraction(credited * 3 * 5415, 100 * 10000)
        rounded = math.floor(interest + Fraction(1, 2))  # half up
        balance += credited + rounded
        expected += rounded
    assert reform_move.interest_fen == expected
    assert reform_move.pooled_fen == 72 * 60_000 + expected
    with unit_of_work(engine) as c:
        contribute(
            c,
            LAW,
            "zj-law",
            w.worker_id,
            Month.of(2026, 1),
            Month.of(2026, 5),
            400_000,
            at(2026, 6, 15),
        )
        contribute(
            c,
            REFORM,
            "zj-ref",
            w2.worker_id,
            Month.of(2026, 1),
            Month.of(2026, 5),
            400_000,
            at(2026, 6, 15),
        )
    with unit_of_work(engine) as c:
        law = compare(c, [LAW], w.worker_id, at(2026, 6, 15).date())["scenarios"][0]
        reform = compare(c, [REFORM], w2.worker_id, at(2026, 6, 15).date())["scenarios"][0]
    # current law: Zhejiang holds only a temporary account and Guangdong has < 10 years:
    # gathered to the hukou province, Henan; the reform pays where she is insured: Zhejiang
    assert law["temporary_account_months"] == 5 and law["paying_province"] == "410000"
    assert reform["temporary_account_months"] == 0 and reform["paying_province"] == "330000"
    # her record under both scenarios side by side: what differs, said in both languages,
    # and every step of each estimate in both (tests/bilingual.py)
    with unit_of_work(engine) as c:
        both = compare(c, [LAW, REFORM], w.worker_id, at(2026, 6, 15).date())
    assert both["difference_causes"] == [
        {"code": "paying-province", "before": "410000", "after": "440000"},
        {"code": "temporary-account-months", "scenario": LAW.name, "months": 5},
    ]
    assert both["causes_zh"] == [
        "待遇领取地由 410000 变为 440000",
        f"{LAW.name}下有 5 个月缴入临时账户",  # the test's overlay names its scenario so
    ]
    assert both["causes"] == [
        "paying province 410000 → 440000",
        f"5 months in temporary accounts under {LAW.name}",
    ]
    months = {"code": "temporary-account-months", "scenario": "current_law", "months": 5}
    assert cause_text(months) == Text(
        "现行政策下有 5 个月缴入临时账户", "5 months in temporary accounts under current law"
    )
    steps = [s for scenario in both["scenarios"] for s in scenario["explanation"]]
    assert {"待遇领取地", "平均缴费指数", "计发基数", "弹性退休区间"} <= {
        s["step_zh"] for s in steps
    }
    assert all_problems(steps) == []
