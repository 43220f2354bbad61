"""Employee medical insurance of flexible workers (suiren.policy.medical).

Properties (hypothesis):
- a month's contribution splits exactly: due = individual account + pooled;
- a transfer conserves money: what moves plus what stays is what there was;
- a gap of up to the no-wait maximum never waits; a longer one waits the region's period;
- under money_follows_person the pooled part is conserved between the hukou and the work
  region, for any share a scenario may set;
- one formula at every scale: a batch gives, case by case, what each case gives alone.

The dated values themselves are checked day before / on / after in cases/medical.yaml.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from suiren.domain.errors import InvalidInput, ParameterError, ParameterNotFound, UnknownRegion
from suiren.domain.region import default_registry
from suiren.policy import Policy, baseline_parameters, load_policy
from suiren.policy.medical import (
    BALANCE_FEN_MAX,
    BASE_FEN_MAX,
    MONTHS_MAX,
    hukou_pool,
    lifetime_cover,
    recognised_years,
    split_medical,
    transfer_amounts,
    waiting_months,
)
from suiren.rules.scenario import apply_scenario
from suiren.rules.vector import day_number

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)
CURRENT = load_policy("current_law")
REFORM = load_policy("money_follows_person")
# Shanghai (own rate, gap rule), Huainan (no account), Guangzhou, Chengdu, Beijing: defaults
REGIONS = ("310000", "310104", "340400", "440100", "510100", "110000")
DAYS = (
    date(2021, 4, 12),
    date(2021, 4, 13),
    date(2024, 2, 29),
    date(2024, 3, 1),
    date(2025, 9, 9),
    date(2025, 9, 10),
    date(2026, 1, 1),
)
GAP_DAYS = tuple(d for d in DAYS if d >= date(2021, 11, 1))
AVERAGE_WAGE_FEN = 1_243_400  # 上海 2024 全口径月平均工资 12434 yuan

bases = st.integers(0, BASE_FEN_MAX)
balances = st.integers(0, BALANCE_FEN_MAX)


def scenario_policy(folder: Path, name: str, overrides: str) -> Policy:
    """A policy with a test scenario's overrides on the baseline parameters."""
    path = folder / f"{name}.yaml"
    path.write_text(
        f"name: {name}\ndescription: test scenario\nreference: {{verified: false, why: test only}}\noverrides:\n{overrides}",
        encoding="utf-8",
    )
    registry = default_registry()
    return Policy(apply_scenario(baseline_parameters(), path, registry), registry)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("scenarios")


@pytest.fixture(scope="module")
def pooled_moving(folder: Path) -> Policy:
    return scenario_policy(
        folder,
        "pooled_moves",
        "  medical.transfer.pooled_moves:\n    values:\n      2026-01-01: true\n",
    )


@pytest.fixture(scope="module")
def two_thirds_at_hukou(folder: Path) -> Policy:
    return scenario_policy(
        folder,
        "two_thirds",
        "  medical.hukou_pool.enabled:\n    values:\n      2026-01-01: true\n"
        '  medical.hukou_pool.share:\n    values:\n      2026-01-01: "2/3"\n'
        "  medical.hukou_pool.income_threshold_ratio:\n    values:\n      2026-01-01: 1.5\n",
    )


# contribution ------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(
    cases=st.lists(
        st.tuples(st.sampled_from(DAYS), st.sampled_from(REGIONS), bases), min_size=1, max_size=20
    )
)
def test_due_is_account_plus_pooled_and_a_batch_agrees_with_each_case(cases: list[Any]) -> None:
    days = np.array([day_number(d) for d, _, _ in cases], dtype=np.int64)
    regions = np.array([r for _, r, _ in cases])
    base = np.array([b for _, _, b in cases], dtype=np.int64)
    split = split_medical(CURRENT, days, regions, base)
    assert np.array_equal(split.due_fen, split.individual_account_fen + split.pooled_fen)
    assert bool(np.all(split.individual_account_fen >= 0))
    assert bool(np.all(split.pooled_fen >= 0))
    for i in range(len(cases)):
        alone = split_medical(CURRENT, days[i : i + 1], regions[i : i + 1], base[i : i + 1])
        assert int(alone.due_fen[0]) == int(split.due_fen[i])
        assert int(alone.individual_account_fen[0]) == int(split.individual_account_fen[i])
        assert alone.cited() == split.cited(i)


def test_split_cites_the_parameters_it_used() -> None:
    days = np.array([day_number(date(2025, 1, 1))], dtype=np.int64)
    split = split_medical(CURRENT, days, np.array(["310000"]), np.array([754_600], dtype=np.int64))
    cited = {c["parameter"]: c for c in split.cited()}
    assert cited["medical.flexible.rate"]["value"] == "0.1"
    assert cited["medical.flexible.rate"]["region"] == "310000"
    assert cited["medical.flexible.rate"]["in_force_from"] == "2024-03-01"
    assert "上海市人社局问答（2024-03-07）" in cited["medical.flexible.rate"]["reference"]
    assert cited["medical.flexible.individual_account_rate"]["reference"].startswith(
        "国办发〔2021〕14号"
    )


def test_split_refuses_negative_and_fractional_bases() -> None:
    days = np.array([day_number(date(2025, 1, 1))], dtype=np.int64)
    with pytest.raises(InvalidInput, match="between 0 and"):
        split_medical(CURRENT, days, np.array(["310000"]), np.array([-1], dtype=np.int64))
    with pytest.raises(InvalidInput, match="whole numbers"):
        split_medical(CURRENT, days, np.array(["310000"]), np.array([100.5]))


# transfer ----------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(
    account=st.lists(balances, min_size=1, max_size=10),
    pooled=st.lists(balances, min_size=10, max_size=10),
    day=st.sampled_from((date(2010, 7, 1), date(2021, 11, 1), date(2026, 1, 1), date(2030, 6, 1))),
    scenario=st.sampled_from(("current_law", "money_follows_person", "pooled_moves")),
)
def test_a_transfer_conserves_money(
    account: list[int], pooled: list[int], day: date, scenario: str, pooled_moving: Policy
) -> None:
    policy = pooled_moving if scenario == "pooled_moves" else load_policy(scenario)
    entitlement = np.array(pooled[: len(account)], dtype=np.int64)
    balance = np.array(account, dtype=np.int64)
    moved = transfer_amounts(policy, day, "440100", "310000", balance, entitlement)
    assert np.array_equal(moved.moved_fen + moved.kept_fen, balance + entitlement)
    assert np.array_equal(moved.account_moved_fen, balance)
    expected_pooled = entitlement if scenario == "pooled_moves" and day.year >= 2026 else 0
    assert np.array_equal(moved.pooled_moved_fen, np.zeros_like(entitlement) + expected_pooled)


def test_current_law_moves_only_the_account_and_says_why() -> None:
    moved = transfer_amounts(CURRENT, date(2025, 5, 1), "440100", "310000", [532_107], [2_000_000])
    assert int(moved.moved_fen[0]) == 532_107
    assert int(moved.kept_fen[0]) == 2_000_000
    (cited,) = moved.cited()
    assert cited["parameter"] == "medical.transfer.pooled_moves"
    assert cited["value"] == "False"
    assert "医保办发〔2021〕43号" in cited["reference"]


def test_a_transfer_needs_two_known_regions() -> None:
    with pytest.raises(InvalidInput, match="same region"):
        transfer_amounts(CURRENT, date(2025, 5, 1), "310000", "310000", [1], [1])
    with pytest.raises(UnknownRegion):
        transfer_amounts(CURRENT, date(2025, 5, 1), "310000", "999999", [1], [1])
    with pytest.raises(InvalidInput, match="account balance"):
        transfer_amounts(CURRENT, date(2025, 5, 1), "310000", "440100", [-5], [1])


# waiting period ----------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(
    gaps=st.lists(st.integers(0, MONTHS_MAX), min_size=1, max_size=20),
    day=st.sampled_from(GAP_DAYS),
    region=st.sampled_from(REGIONS),
)
def test_short_gaps_never_wait_and_longer_gaps_wait_the_regions_period(
    gaps: list[int], day: date, region: str
) -> None:
    view = CURRENT.at(day, region)
    no_wait_max = int(view.value("medical.gap.no_wait_months_max"))
    period = int(view.value("medical.gap.waiting_months"))
    assert no_wait_max == 3
    assert period <= int(view.value("medical.gap.waiting_months_max")) == 6
    result = waiting_months(CURRENT, day, region, np.array(gaps, dtype=np.int64))
    for gap, wait in zip(gaps, result.waiting_months.tolist(), strict=True):
        assert wait == (0 if gap <= no_wait_max else period)


def test_waiting_months_at_the_boundary_and_before_the_rule() -> None:
    result = waiting_months(CURRENT, date(2025, 9, 10), "310000", np.arange(0, 8))
    assert result.waiting_months.tolist() == [0, 0, 0, 0, 6, 6, 6, 6]
    assert {c["region"] for c in result.cited()} == {"310000", "000000"}
    with pytest.raises(ParameterNotFound):  # 医保办发〔2021〕43号 is the first rule we hold
        waiting_months(CURRENT, date(2021, 10, 31), "310000", [4])
    with pytest.raises(InvalidInput, match="gap"):
        waiting_months(CURRENT, date(2025, 9, 10), "310000", [-1])


def test_a_regional_waiting_period_above_the_cap_is_a_parameter_error(folder: Path) -> None:
    too_long = scenario_policy(
        folder,
        "too_long",
        '  medical.gap.waiting_months:\n    regions:\n      "440000":\n'
        "        values:\n          2026-01-01: 7\n",
    )
    with pytest.raises(ParameterError, match="above the national cap"):
        waiting_months(too_long, date(2026, 1, 1), "440100", [4])


# contribution years and lifetime cover -----------------------------------------------------


def test_years_are_recognised_across_regions_and_kept_per_region() -> None:
    years = recognised_years({"310000": 120, "440100": 60, "440300": [12]})
    assert years.total_months.tolist() == [192]
    assert years.local_months["310000"].tolist() == [120]
    assert years.months_within("440000", CURRENT.registry.ancestry).tolist() == [72]
    assert years.months_within("510000", CURRENT.registry.ancestry).tolist() == [0]
    with pytest.raises(InvalidInput):
        recognised_years({})
    with pytest.raises(InvalidInput, match="310000"):
        recognised_years({"310000": -1})


@PROPERTY_SETTINGS
@given(
    total=st.integers(0, MONTHS_MAX),
    local_part=st.integers(0, MONTHS_MAX),
    sex=st.sampled_from(("M", "F")),
    region=st.sampled_from(("310000", "440100", "110000", "120000", "330100", "510100")),
)
def test_lifetime_cover_is_met_exactly_when_there_is_no_shortfall(
    total: int, local_part: int, sex: str, region: str
) -> None:
    local = min(local_part, total)
    day = date(2030, 1, 1)
    cover = lifetime_cover(CURRENT, day, region, sex, [total], [local])
    required = CURRENT.at(day, region).value(
        "medical.lifetime_years.male" if sex == "M" else "medical.lifetime_years.female"
    )
    assert int(cover.required_total_months[0]) == required * 12
    assert bool(cover.met[0]) == (total >= required * 12)
    assert int(cover.shortfall_months[0]) == max(0, required * 12 - total)
    extra = int(cover.shortfall_months[0])
    after = lifetime_cover(CURRENT, day, region, sex, [total + extra], [local + extra])
    assert bool(after.met[0])


def test_lifetime_cover_cites_only_the_workers_sex() -> None:
    cover = lifetime_cover(
        CURRENT, date(2030, 1, 1), "440100", np.array(["M", "F"]), [300, 300], [0, 0]
    )
    assert cover.met.tolist() == [False, True]
    assert cover.shortfall_months.tolist() == [60, 0]
    assert [c["parameter"] for c in cover.cited(0)] == [
        "medical.lifetime_years.male",
        "medical.lifetime_local_years",
    ]
    assert cover.cited(1)[0]["parameter"] == "medical.lifetime_years.female"


def test_lifetime_cover_refuses_bad_input_and_unknown_rules() -> None:
    with pytest.raises(InvalidInput, match="exceed"):
        lifetime_cover(CURRENT, date(2026, 1, 1), "310000", "M", [10], [11])
    with pytest.raises(InvalidInput, match="sex"):
        lifetime_cover(CURRENT, date(2026, 1, 1), "310000", "X", [10], [1])
    with pytest.raises(ParameterNotFound, match="440100"):  # 2022–2029: each city's own rule
        lifetime_cover(CURRENT, date(2029, 12, 31), "440100", "M", [10], [1])


# money_follows_person ----------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(
    cases=st.lists(
        st.tuples(
            st.sampled_from(REGIONS),
            st.sampled_from(("410100", "310000", "340400", "440100")),
            st.integers(0, 10 * AVERAGE_WAGE_FEN),
            st.integers(1, 3 * AVERAGE_WAGE_FEN),
        ),
        min_size=1,
        max_size=20,
    ),
    day=st.sampled_from((date(2025, 12, 31), date(2026, 1, 1), date(2027, 7, 1))),
    scenario=st.sampled_from(("current_law", "money_follows_person", "two_thirds")),
)
def test_the_pooled_part_is_conserved_between_hukou_and_work_region(
    cases: list[Any], day: date, scenario: str, two_thirds_at_hukou: Policy
) -> None:
    policy = two_thirds_at_hukou if scenario == "two_thirds" else load_policy(scenario)
    work = np.array([c[0] for c in cases])
    hukou = np.array([c[1] for c in cases])
    base = np.array([c[2] for c in cases], dtype=np.int64)
    wage = np.array([c[3] for c in cases], dtype=np.int64)
    pool = hukou_pool(policy, day, work, hukou, base, wage)
    assert np.array_equal(pool.hukou_fen + pool.work_fen, pool.split.pooled_fen)
    assert bool(np.all(pool.hukou_fen >= 0)) and bool(np.all(pool.work_fen >= 0))
    enabled = scenario != "current_law" and day >= date(2026, 1, 1)
    threshold = 1.5 if scenario == "two_thirds" else 1
    for i, (w, h, b, a) in enumerate(cases):
        home = w == h or (h.endswith("0000") and h[:2] == w[:2])  # a province-only hukou
        held = enabled and not home and b >= threshold * a
        assert bool(pool.held_at_hukou[i]) == held
        if not held:
            assert int(pool.hukou_fen[i]) == 0
        elif scenario == "money_follows_person":
            assert int(pool.hukou_fen[i]) == int(pool.split.pooled_fen[i])
        else:  # 2/3, half up
            assert int(pool.hukou_fen[i]) == (2 * int(pool.split.pooled_fen[i]) * 2 + 3) // 6
        alone = hukou_pool(policy, day, w, h, [b], [a])
        assert int(alone.hukou_fen[0]) == int(pool.hukou_fen[i])


def test_hukou_pool_cites_who_and_how_much_only_when_enabled() -> None:
    day = date(2026, 1, 1)
    reform = hukou_pool(REFORM, day, "310000", "410100", [AVERAGE_WAGE_FEN], [AVERAGE_WAGE_FEN])
    assert int(reform.hukou_fen[0]) == 99_472
    names = [c["parameter"] for c in reform.cited()]
    assert names[-3:] == [
        "medical.hukou_pool.enabled",
        "medical.hukou_pool.income_threshold_ratio",
        "medical.hukou_pool.share",
    ]
    assert "情景假设" in reform.cited()[-2]["reference"]
    today = hukou_pool(CURRENT, day, "310000", "410100", [AVERAGE_WAGE_FEN], [AVERAGE_WAGE_FEN])
    assert int(today.hukou_fen[0]) == 0
    assert [c["parameter"] for c in today.cited()][-1] == "medical.hukou_pool.enabled"


def test_hukou_pool_refuses_a_zero_average_wage_and_unknown_hukou() -> None:
    with pytest.raises(InvalidInput, match="average wage"):
        hukou_pool(REFORM, date(2026, 1, 1), "310000", "410100", [100], [0])
    with pytest.raises(UnknownRegion):
        hukou_pool(REFORM, date(2026, 1, 1), "310000", "999999", [100], [100])
