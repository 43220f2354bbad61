"""The fast pension formula gives the same integers as the one it replaced (issue 10 §6).

``pension_reference.reference_pensions`` is the formula as it was before it was made fast.
Seeded random batches cover every region of the registry (so every rounding mode and unit,
years unit, 广东's low-index rule, 河南 and 吉林's dual bases and 吉林's long-service
coefficient and 长缴增发 (with 长春 and 通化, on dates after it starts), 浙江's 过渡调节金,
养老金补贴 and 见分进角补足 (with 杭州, from 2025-02), 江苏's transitional pension against the
original method given per case (40% / 70% / 100% of the excess, with 南京 and 苏州, from 2024)
and its total raised to the 角), 内蒙古's transitional index floor of 1 (with 呼和浩特, from
2025-09; the transitional indices drawn from 0 to 5 fall on both sides of it), the add-ons of
a personal status given per case (四川 增发 rates and fixed amounts, with 成都; the 独生子女
add-ons of 重庆, 贵州, 云南 with 昆明 and 辽宁, given true, false or not at all, in every
region), the indexed wage rounded to the fen before use (山东 with 德州, 吉林, 湖北 with 荆州;
units of 1 fen to 1 yuan in every region where parameters are rewritten), dates on both sides
of the rule changes,
transitional parts and deemed years,
北京's early actual years (G实, with and without deemed years; given as 0 or not at all),
per-case coefficient overrides, printed indexed wages (in the transitional pension too, where
Ī_t is Ī on the same base), divisors given or derived from the
age, and magnitudes from realistic to the calculator's limits (where the exact numerators
need reducing to fit in int64). Modes no region uses yet (rounding down, indices with fewer
than four decimals, units of 1 yuan, years in tenths) come from parameters rewritten per
pair. Every component and every intermediate an explanation reads must be identical.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import fields, replace
from datetime import date
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from suiren.domain.errors import InvalidInput
from suiren.policy import Policy
from suiren.policy import load_policy as load_real_policy
from suiren.policy.pension import (
    OPTIONAL,
    PARAMETERS,
    YEARS_SCALE,
    PensionCases,
    PensionResult,
    compute_pensions,
)
from suiren.rules.vector import ParameterColumns, day_number, region_numbers
from suiren.rules.vector_pairs import PAIRS_TABLE_MAX, REGION_SPAN, sorted_pairs
from tests.policy.pension_reference import reference_pensions

SEEDS = (1, 2, 3, 4, 5)
CASES_PER_BATCH = 10_000
MONTH = YEARS_SCALE // 12
# around 广东's low-index rule (2006-07-01), 上海's 2021 method, the 2025 divisor table,
# 浙江's 过渡调节金 (2025-02-01), 江苏's phase-in (2024, 2025, 2026), 深圳's (2023-05, 2024, 2025) and
# 内蒙古's transitional index floor (2025-09-01), 广东's 加发 and 缴费年限津贴 (2024-05-01), the
# indexed wage rounded to the fen (山东 2024-12-01, 吉林 2025-08-01, 湖北 2026-05-01)
DAYS = (
    date(2006, 6, 30),
    date(2006, 7, 1),
    date(2020, 12, 31),
    date(2021, 1, 1),
    date(2023, 4, 30),
    date(2023, 5, 1),
    date(2023, 12, 31),
    date(2024, 1, 1),
    date(2024, 4, 30),
    date(2024, 5, 1),
    date(2024, 12, 31),
    date(2025, 1, 1),
    date(2025, 2, 1),
    date(2025, 5, 1),
    date(2025, 8, 1),
    date(2025, 9, 1),
    date(2026, 1, 1),
    date(2026, 4, 30),
    date(2026, 5, 1),
)
JIANGSU_PHASE_IN = date(2024, 1, 1)
SHENZHEN_PHASE_IN = date(2023, 5, 1)
COMPARED = (
    "basic_fen",
    "account_pension_fen",
    "transitional_fen",
    "total_fen",
    "index_scaled",
    "transitional_index_scaled",
    "index_scale",
    "years",
    "deemed_years",
    "low_index",
    "divisor_tenths",
    "unit_fen",
    "early_years",
    "early_index_scaled",
    "extra_fen",
    "top_up_fen",
    "transitional_new_fen",
    "increase_fen",
    "only_child_fen",
)


class SharedLookUps:
    """A policy whose ``look_up`` answers each batch of (day, region) pairs once per module.

    Both formulas look the parameters up through ``policy.look_up`` (the same function, on
    the same arrays), and the seeds share their days and regions across tests (both are
    drawn first): about 70 look-ups of thousands of distinct pairs each, repeated, were half
    of this module's time. The answer kept is never handed out itself: each call gets fresh
    lists and a read-only ``pair_of_case`` (the ``ResolvedValue`` in them are frozen), so no
    formula or test can change what the next one reads."""

    def __init__(self, policy: Any) -> None:
        self.policy = policy
        self.answers: dict[tuple[Any, ...], ParameterColumns] = {}

    @property
    def registry(self) -> Any:
        return self.policy.registry

    def look_up(
        self,
        days: npt.NDArray[np.int64],
        regions: npt.NDArray[Any],
        paths: dict[str, str],
        optional: frozenset[str] = frozenset(),
    ) -> ParameterColumns:
        days, regions = np.asarray(days), np.asarray(regions)
        key = (days.dtype.str, days.tobytes(), regions.dtype.str, regions.tobytes(),
               tuple(paths.items()), optional)  # fmt: skip
        kept = self.answers.get(key)
        if kept is None:
            kept = self.answer(days, regions, paths, optional)
            kept.pair_of_case.flags.writeable = False
            self.answers[key] = kept
        values = {name: list(column) for name, column in kept.values.items()}
        return ParameterColumns(values, kept.pair_of_case, list(kept.pairs))

    def answer(self, *args: Any) -> ParameterColumns:
        return self.policy.look_up(*args)  # type: ignore[no-any-return]


_SHARED: dict[str, SharedLookUps] = {}


def load_policy(scenario: str = "current_law") -> Any:
    """The scenario's policy with its look-ups shared by this module's tests."""
    if scenario not in _SHARED:
        _SHARED[scenario] = SharedLookUps(load_real_policy(scenario))
    return _SHARED[scenario]


@pytest.fixture(autouse=True, scope="module")
def _shared_look_ups_dropped() -> Iterator[None]:
    """The kept answers (about 20 MB a batch) go with the module."""
    yield
    for shared in _SHARED.values():
        shared.answers.clear()


def all_regions(policy: Policy) -> list[str]:
    return sorted(region.code for region in policy.registry.all())


_WITH_COEFFICIENT: dict[tuple[int, tuple[str, ...]], set[str]] = {}


def regions_with_coefficient(policy: Policy, regions: list[str]) -> set[str]:
    """Regions whose parameters have a 过渡系数 on every date of ``DAYS`` (looked up once per
    policy: every seed of every test asks the same question of the same parameters)."""
    key = (id(policy), tuple(regions))
    if key not in _WITH_COEFFICIENT:
        _WITH_COEFFICIENT[key] = _regions_with_coefficient(policy, regions)
    return set(_WITH_COEFFICIENT[key])


def _regions_with_coefficient(policy: Policy, regions: list[str]) -> set[str]:
    days = np.array([day_number(d) for d in DAYS for _ in regions], dtype=np.int64)
    codes = np.array([r for _ in DAYS for r in regions])
    g = policy.look_up(days, codes, PARAMETERS, OPTIONAL)
    coefficient = g.distinct("transitional_coefficient")
    lacking = {region for (_, region), k in zip(g.pairs, coefficient, strict=True) if k is None}
    return set(regions) - lacking


def varied_cases(
    policy: Policy, seed: int, count: int = CASES_PER_BATCH, extreme_share: float = 0.2
) -> PensionCases:
    rng = np.random.default_rng(seed)
    regions = all_regions(policy)
    with_coefficient = regions_with_coefficient(policy, regions)
    # a third of the cases in the regions with special rules, the rest spread over all
    special = np.array(
        ["440100", "440000", "440300", "450100", "410100", "410000", "220000", "310000", "340000",
         "110000", "110105", "220100", "220500", "330000", "330100", "320000", "320100",
         "320500", "150000", "150100", "510000", "510100", "500000", "520000", "530100",
         "210000", "440700", "441300", "370000", "371400", "420000", "421000"]
    )  # fmt: skip
    region = np.where(
        rng.random(count) < 1 / 3,
        special[rng.integers(0, len(special), count)],
        np.array(regions)[rng.integers(0, len(regions), count)],
    )
    day = np.array([day_number(d) for d in DAYS], dtype=np.int64)[rng.integers(0, len(DAYS), count)]
    extreme = rng.random(count) < extreme_share  # up to the calculator's limits
    base = np.where(
        extreme, rng.integers(100, 5_000_000, count), rng.integers(300_000, 1_500_000, count)
    )
    dual = rng.random(count) < 0.5
    province_base = np.where(dual, rng.integers(300_000, 1_500_000, count), base)
    index = np.where(
        extreme, rng.integers(0, 5_000_001, count), rng.integers(400_000, 3_000_001, count)
    )
    # around 广东's threshold of 0.6, with six decimals
    index = np.where(rng.random(count) < 0.15, rng.integers(599_900, 600_100, count), index)
    t_index = np.where(rng.random(count) < 0.5, index, rng.integers(0, 5_000_001, count))
    years = np.where(
        rng.random(count) < 0.6,
        rng.integers(0, 75 * 12 + 1, count) * MONTH,  # whole months
        rng.integers(0, 75 * 10_000 + 1, count) * YEARS_SCALE // 10_000,  # four decimals
    )
    override = rng.random(count) < 0.1
    allowed = np.isin(region, list(with_coefficient)) | override
    # deemed years as the calculator reads them: whole months, or four decimals (3 / 30000)
    deemed = (years * rng.random(count)).astype(np.int64)
    deemed = np.where(rng.random(count) < 0.6, deemed // MONTH * MONTH, deemed // 3 * 3)
    deemed = np.where(allowed & (rng.random(count) < 0.5), deemed, 0)
    # 北京's G实: actual years of 1992-10 … 1998-06 (up to 69 months, within the years left
    # after the deemed ones) at an index of their own; given as 0, or not given (-1), too
    beijing = np.char.startswith(region.astype(str), "11") & ~override
    early = np.minimum(
        np.where(
            rng.random(count) < 0.6,
            rng.integers(0, 70, count) * MONTH,
            rng.integers(0, 57_501, count) * 3,  # four decimals, up to 5.75 years
        ),
        years - deemed,
    )
    early = np.where(beijing & (rng.random(count) < 0.7), early, -1)
    early_index = np.where(early > 0, rng.integers(0, 3_000_001, count), -1)
    # 江苏's (from 2024) and 深圳's (from 2023-05) original-method transitional pension (原办法),
    # where their phase-in runs: given for most cases (below and above the new method, 0
    # too), or not (-1)
    codes = region.astype(str)
    jiangsu = (np.char.startswith(codes, "32") & (day >= day_number(JIANGSU_PHASE_IN))) | (
        np.char.startswith(codes, "4403") & (day >= day_number(SHENZHEN_PHASE_IN))
    )
    old = np.where(
        rng.random(count) < 0.5, rng.integers(0, 300_000, count), rng.integers(0, 10, count) * 10
    )
    old = np.where(jiangsu & (rng.random(count) < 0.8), old, -1)
    account = np.where(
        extreme, rng.integers(0, 10**10 + 1, count), rng.integers(0, 50_000_000, count)
    )
    derive = rng.random(count) < 0.5
    divisor = np.where(derive, -1, rng.integers(10, 4001, count))
    age = np.where(derive, rng.integers(50 * 12, 70 * 12, count), -1)
    wage = np.where(rng.random(count) < 0.2, rng.integers(0, 5_000_000, count), -1)
    # 四川's 增发 rate (0.1% and 0.4% as printed, and a few more) and fixed amount, given where
    # 四川 pays it (a region that pays none refuses them); a one-child parent anywhere. A rate
    # of many digits at the limits may not fit in int64, and is refused by both formulas alike
    # (…_refuse_the_same_personal_add_on)
    sichuan = np.char.startswith(codes, "51")
    rate = np.array([0, 1_000, 4_000, 1_500, 2_000, 2_500])[rng.integers(0, 6, count)]
    rate = np.where(sichuan & (rng.random(count) < 0.7), rate, -1)
    fixed = np.where(sichuan & (rng.random(count) < 0.3), rng.integers(0, 20_001, count), -1)
    child = np.where(rng.random(count) < 0.6, rng.integers(0, 2, count), -1)
    numerators = rng.integers(5, 21, count)  # 0.005 to 0.02 with three decimals
    coefficient = [
        Fraction(int(n), 1000) if o else None for n, o in zip(numerators, override, strict=True)
    ]
    return PensionCases(
        region=region,
        day=day,
        base_fen=_int64(base),
        province_base_fen=_int64(province_base),
        index_1e6=_int64(index),
        transitional_index_1e6=_int64(t_index),
        years=_int64(years),
        deemed_years=_int64(deemed),
        account_fen=_int64(account),
        divisor_tenths=_int64(divisor),
        age_months=_int64(age),
        indexed_wage_fen=_int64(wage),
        coefficient=coefficient,
        early_years=_int64(early),
        early_index_1e6=_int64(early_index),
        old_transitional_fen=_int64(old),
        increase_rate_1e6=_int64(rate),
        increase_fixed_fen=_int64(fixed),
        only_child=_int64(child),
    )


def _int64(values: npt.NDArray[np.integer]) -> npt.NDArray[np.int64]:
    return np.ascontiguousarray(values, dtype=np.int64)


def assert_identical(new: PensionResult, old: PensionResult) -> None:
    for name in COMPARED:
        if getattr(old, name) is None:  # the reference has none (no early years above 0)
            assert getattr(new, name) is None, name
            continue
        a, b = np.asarray(getattr(new, name)), np.asarray(getattr(old, name))
        assert a.dtype == b.dtype, (name, a.dtype, b.dtype)
        different = np.flatnonzero(a != b)
        assert len(different) == 0, (name, different[:5], a[different[:5]], b[different[:5]])
    for part in ("numerator", "denominator", "present"):
        a, b = getattr(new.coefficient, part), getattr(old.coefficient, part)
        assert np.array_equal(a, b), part
    assert np.array_equal(new.parameters.pair_of_case, old.parameters.pair_of_case)
    assert new.parameters.pairs == old.parameters.pairs


@pytest.mark.parametrize("seed", SEEDS)
def test_fast_formula_equals_the_reference(seed):
    """Up to the calculator's limits (a fifth of the cases). The regions that keep the index
    to 5 decimals (山西, 信阳, 开封) are read at 4 here: at the limits a 5-decimal case can
    exceed exact int64 arithmetic and be refused (``…_refuse_the_same_five_decimal_case``);
    5 decimals on realistic magnitudes are compared in ``…_five_and_six_index_decimals``."""
    policy = load_policy()
    cases = varied_cases(policy, seed)
    at_four: Any = RewrittenPolicy(policy, lambda pair, region: {"index_decimals": 4})
    assert_identical(compute_pensions(at_four, cases), reference_pensions(at_four, cases))


def test_both_formulas_refuse_the_same_five_decimal_case_at_the_limits():
    """A 5-decimal index leaves 10× less headroom: 山西 at the calculator's limits (base 50,000
    yuan, Ī_t 5, 40 deemed years to 4 decimals) is refused by both formulas alike, while the
    same case in 内蒙古 (150000), which keeps 4 decimals, computes."""
    policy = load_policy()
    cases = varied_cases(policy, 9, 100, extreme_share=0.0)
    n = len(cases)
    bad = np.arange(n) == 3

    def at(region: str) -> PensionCases:
        return replace(
            cases,
            region=np.where(bad, region, cases.region),
            day=np.where(bad, day_number(date(2025, 10, 1)), cases.day),
            base_fen=np.where(bad, 5_000_000, cases.base_fen),
            province_base_fen=np.where(bad, 5_000_000, cases.province_base_fen),
            transitional_index_1e6=np.where(bad, 4_999_991, cases.transitional_index_1e6),
            years=np.where(bad, 45 * YEARS_SCALE, cases.years),
            deemed_years=np.where(bad, 400_003 * 3, 0),  # 40.0003 years
            coefficient=None,
            early_years=None,
            early_index_1e6=None,
            old_transitional_fen=None,
        )

    with pytest.raises(InvalidInput) as expected:
        reference_pensions(policy, at("140100"))
    with pytest.raises(InvalidInput) as actual:
        compute_pensions(policy, at("140100"))
    assert str(actual.value) == str(expected.value)
    assert "case 3: transitional pension" in str(actual.value)
    four = at("150000")
    assert_identical(compute_pensions(policy, four), reference_pensions(policy, four))


@pytest.mark.parametrize("seed", SEEDS)
def test_fast_formula_equals_the_reference_on_realistic_magnitudes(seed):
    """No case near the limits: the batch passes the headroom check without per-case checks."""
    policy = load_policy()
    cases = varied_cases(policy, seed, extreme_share=0.0)
    assert_identical(compute_pensions(policy, cases), reference_pensions(policy, cases))


@pytest.mark.parametrize("seed", SEEDS)
def test_fast_formula_equals_the_reference_on_plain_batches(seed):
    """The common batch: no deemed years, no overrides, no printed wage, divisors given."""
    policy = load_policy()
    cases = varied_cases(policy, seed)
    n = len(cases)
    plain = replace(
        cases,
        deemed_years=np.zeros(n, dtype=np.int64),
        divisor_tenths=np.abs(cases.divisor_tenths) + 10,
        indexed_wage_fen=None,
        coefficient=None,
        early_years=None,
        early_index_1e6=None,
        old_transitional_fen=None,
    )
    assert_identical(compute_pensions(policy, plain), reference_pensions(policy, plain))


def test_fast_formula_equals_the_reference_on_one_region():
    policy = load_policy()
    cases = varied_cases(policy, 7, 2_000)
    for region in ("410100", "440100", "310000"):
        one = replace(cases, region=np.full(len(cases), region), coefficient=None)
        one = replace(one, early_years=None, early_index_1e6=None)  # 北京's only
        one = replace(one, old_transitional_fen=None)  # 江苏's only
        one = replace(one, increase_rate_1e6=None, increase_fixed_fen=None)  # 四川's only
        one = replace(one, deemed_years=np.zeros(len(cases), dtype=np.int64))
        assert_identical(compute_pensions(policy, one), reference_pensions(policy, one))


def test_fast_formula_raises_where_the_reference_does():
    """Inputs too large for exact integers name the same case."""
    policy = load_policy()
    cases = varied_cases(policy, 9, 1_000)
    n = len(cases)
    bad = np.arange(n) == 5
    # deemed years in 1/30000 with a six-decimal coefficient: no common divisor to reduce by
    too_large = replace(
        cases,
        region=np.where(bad, "610000", cases.region),  # years as given (河南 rounds them)
        base_fen=np.where(bad, 1_774_164, cases.base_fen),
        province_base_fen=np.where(bad, 1_774_164, cases.province_base_fen),
        transitional_index_1e6=np.where(bad, 1_592_948, cases.transitional_index_1e6),
        deemed_years=np.where(bad, 858_558, 0),
        years=np.where(bad, 1_130_000, cases.years),
        coefficient=[Fraction(10_857, 10**6) if b else None for b in bad],
        early_years=None,
        early_index_1e6=None,
        old_transitional_fen=None,
    )
    with pytest.raises(InvalidInput) as expected:
        reference_pensions(policy, too_large)
    with pytest.raises(InvalidInput) as actual:
        compute_pensions(policy, too_large)
    assert str(actual.value) == str(expected.value)


@pytest.mark.parametrize(
    ("prefix", "phase_years", "unit"),
    (("32", {2024, 2025, 2026}, 10), ("4403", {2023, 2024, 2025}, 1)),
)
def test_jiangsu_and_shenzhen_cases_are_drawn_and_compared_with_the_original_method(
    prefix: str, phase_years: set[int], unit: int
) -> None:
    """The batches hold 江苏 and 深圳 cases with an original-method amount on every phase-in
    year, new above and not above it; both formulas then pay the same (and differ from the
    new method); 江苏 raises the excess and the paid share to the 角, 深圳 keeps the fen."""
    policy = load_policy()
    cases = varied_cases(policy, 1, extreme_share=0.0)
    result = compute_pensions(policy, cases)
    assert cases.old_transitional_fen is not None and result.transitional_new_fen is not None
    ours = np.char.startswith(cases.region.astype(str), prefix)
    given = np.flatnonzero((cases.old_transitional_fen >= 0) & ours)
    years = {date.fromordinal(date(1970, 1, 1).toordinal() + int(d)).year for d in cases.day[given]}
    assert years >= phase_years
    new = result.transitional_new_fen[given]
    old = cases.old_transitional_fen[given]
    assert np.any(new > old) and np.any(new <= old)
    paid = result.transitional_fen[given]
    assert np.array_equal(paid[new <= old], old[new <= old])
    above = new > old
    assert np.all(paid[above] >= old[above]) and np.all(paid[above] % unit == old[above] % unit)
    if unit == 1:  # 深圳: the paid share is cut to the fen, never raised to the 角
        assert np.all(paid[above] <= new[above])
        assert np.any(paid[above] % 10 != old[above] % 10)
    assert_identical(result, reference_pensions(policy, cases))


def test_both_formulas_refuse_an_original_method_where_none_is_compared():
    """An original-method amount given before 2024 or outside 江苏: the same refusal."""
    policy = load_policy()
    cases = varied_cases(policy, 9, 100, extreme_share=0.0)
    n = len(cases)
    bad = np.arange(n) == 4
    for region, day in (("320100", date(2023, 12, 31)), ("330100", date(2025, 6, 1))):
        wrong = replace(
            cases,
            region=np.where(bad, region, cases.region),
            day=np.where(bad, day_number(day), cases.day),
            old_transitional_fen=np.where(bad, 50_000, -1),
        )
        with pytest.raises(InvalidInput) as expected:
            reference_pensions(policy, wrong)
        with pytest.raises(InvalidInput) as actual:
            compute_pensions(policy, wrong)
        assert str(actual.value) == str(expected.value)
        assert "case 4: old_transitional_yuan is given" in str(actual.value)


class RewrittenPolicy(SharedLookUps):
    """A policy whose pension parameters are rewritten per pair, for modes no region uses yet
    (rewritten once per batch: both formulas read the same answer, in copies)."""

    def __init__(self, policy: Any, changes: Callable[[int, str], dict[str, Any]]) -> None:
        super().__init__(policy)
        self.changes = changes

    def answer(self, *args: Any) -> ParameterColumns:
        g = self.policy.look_up(*args)
        values = {name: list(column) for name, column in g.values.items()}
        for pair in range(len(g.pairs)):
            for name, value in self.changes(pair, g.pairs[pair][1]).items():
                values[name][pair] = replace(values[name][pair], value=value)
        return ParameterColumns(values, g.pair_of_case, g.pairs)


@pytest.mark.parametrize("seed", (11, 12))
def test_fast_formula_equals_the_reference_in_every_mode_and_index_decimals(seed):
    """Rounding down and 见分进角, indices with 0 to 4 decimals, units of 1 fen to 1 yuan (the
    components and the indexed wage), years in 0.1."""
    modes = ("half_up", "up", "down")
    component_modes = (*modes, "up_from_fen")

    def changes(pair: int, region: str) -> dict[str, Any]:
        changed = {
            "rounding_mode": component_modes[pair % 4],
            "years_mode": modes[(pair // 3) % 3],
            "index_decimals": pair % 5,
            "rounding_unit_fen": (1, 10, 100)[(pair // 5) % 3],
            "wage_unit": (None, 1, 10, 100)[(pair // 7) % 4],
        }
        if not region.startswith("31"):  # 上海 accrues per month: keep its unit of a month
            changed["years_unit"] = ("1/30000", "0.1", "1/12", "0.01")[(pair // 2) % 4]
        return changed

    policy = load_policy()
    rewritten: Any = RewrittenPolicy(policy, changes)
    cases = varied_cases(policy, seed, 10_000, extreme_share=0.0)
    assert_identical(compute_pensions(rewritten, cases), reference_pensions(rewritten, cases))


@pytest.mark.parametrize(("seed", "extreme_share"), ((13, 0.0), (14, 0.3)))
def test_plain_batches_equal_the_reference_in_every_mode(seed, extreme_share):
    """The loop compiled for plain batches (no deemed years, printed wages, coefficient
    overrides or separate transitional index) in every rounding mode (见分进角 included),
    unit, years unit and index decimals, on many regions and dates; with cases near the
    calculator's limits, the batch also takes the second, per-case checked pass."""
    modes = ("half_up", "up", "down")
    component_modes = (*modes, "up_from_fen")

    def changes(pair: int, region: str) -> dict[str, Any]:
        changed = {
            "rounding_mode": component_modes[(pair + seed) % 4],
            "years_mode": modes[pair % 3],
            "index_decimals": (pair // 2) % 5,
            "rounding_unit_fen": (1, 10, 100)[(pair // 3) % 3],
            "wage_unit": (None, 1, 10, 100)[(pair // 7) % 4],
        }
        if not region.startswith("31"):  # 上海 accrues per month: keep its unit of a month
            changed["years_unit"] = ("1/30000", "0.1", "1/12", "0.01")[(pair // 4) % 4]
        return changed

    policy = load_policy()
    rewritten: Any = RewrittenPolicy(policy, changes)
    cases = varied_cases(policy, seed, 10_000, extreme_share=extreme_share)
    n = len(cases)
    plain = replace(
        cases,
        transitional_index_1e6=cases.index_1e6,
        deemed_years=np.zeros(n, dtype=np.int64),
        indexed_wage_fen=None,
        coefficient=None,
        early_years=None,
        early_index_1e6=None,
        old_transitional_fen=None,
    )
    assert not np.any(plain.deemed_years)
    assert_identical(compute_pensions(rewritten, plain), reference_pensions(rewritten, plain))
    assert_identical(compute_pensions(policy, plain), reference_pensions(policy, plain))


@pytest.mark.parametrize(
    ("seed", "decimals", "years_units"),
    (
        (13, 5, ("1/12", "0.01", "0.0001", "1/30000")),
        (14, 5, ("1/12", "0.01", "0.0001", "1/30000")),
        (15, 6, ("1/12", "0.01")),
    ),
)
def test_fast_formula_equals_the_reference_with_five_and_six_index_decimals(
    seed, decimals, years_units
):
    """Indices kept to 5 decimals (山西, 信阳, 开封: issue 10 §2) or 6 are held in 1/10^5 or
    1/10^6 by both formulas, in every mode. Six decimals leave 100× less headroom: with years
    to 4 decimals a case can exceed exact int64 arithmetic and is refused (both formulas), so
    6 is compared with years in months or to 2 decimals, as every 6-decimal use would need."""
    modes = ("half_up", "up", "down")
    component_modes = (*modes, "up_from_fen")

    def changes(pair: int, region: str) -> dict[str, Any]:
        changed = {
            "rounding_mode": component_modes[pair % 4],
            "years_mode": modes[(pair // 3) % 3],
            "index_decimals": decimals,
            "rounding_unit_fen": (1, 10)[(pair // 5) % 2],
            "wage_unit": (None, 1, 10)[(pair // 7) % 3],
        }
        if not region.startswith("31"):
            changed["years_unit"] = years_units[(pair // 2) % len(years_units)]
        return changed

    policy = load_policy()
    rewritten: Any = RewrittenPolicy(policy, changes)
    cases, reference = refused_alike_then_dropped(
        rewritten, varied_cases(policy, seed, 10_000, extreme_share=0.0)
    )
    fast = compute_pensions(rewritten, cases)
    assert set(fast.index_scale.tolist()) == {10**decimals}
    assert_identical(fast, reference)


def refused_alike_then_dropped(
    policy: Any, cases: PensionCases, attempts: int = 5
) -> tuple[PensionCases, PensionResult]:
    """The reference's result once every case it refuses as too large for exact integers is
    dropped — each refused by the fast formula with the same message first. With 5 index
    decimals and years to 1/30000, a (B + B·Ī)/2 region's long deemed years can exceed int64
    (both formulas refuse alike; issue 10 §6 keeps them exact rather than approximate)."""
    for _ in range(attempts):
        try:
            return cases, reference_pensions(policy, cases)
        except InvalidInput as refused:
            found = re.match(r"case (\d+): .* too large for exact integer arithmetic", str(refused))
            if found is None:
                raise
            with pytest.raises(InvalidInput, match=re.escape(str(refused))):
                compute_pensions(policy, cases)
            dropped = int(found.group(1))
            cases = replace(
                cases,
                **{
                    f.name: _without(getattr(cases, f.name), dropped)
                    for f in fields(cases)
                    if getattr(cases, f.name) is not None
                },
            )
    raise AssertionError(f"more than {attempts} cases refused as too large")


def _without(column: Any, dropped: int) -> Any:
    """A per-case column (an array, or a list of per-case values) without one case."""
    if isinstance(column, np.ndarray):
        return np.delete(column, dropped)
    return [value for i, value in enumerate(column) if i != dropped]


# the pairs of a batch (rules/vector_pairs.py), which compute_pensions now finds in one pass


@pytest.mark.parametrize("pairs_wanted", (1, 3, PAIRS_TABLE_MAX, PAIRS_TABLE_MAX + 1))
def test_pairs_found_in_one_pass_equal_sorting_them(pairs_wanted):
    rng = np.random.default_rng(pairs_wanted)
    codes = np.array([f"{c:06d}" for c in rng.choice(999_999, pairs_wanted, replace=False)])
    days = rng.integers(0, 30_000, pairs_wanted)
    chosen = rng.integers(0, pairs_wanted, 5_000)
    regions, day = codes[chosen], days[chosen].astype(np.int64)
    found = sorted_pairs(day, regions, rows_min=0)
    if pairs_wanted > PAIRS_TABLE_MAX:
        assert found is None  # the caller sorts instead
        return
    assert found is not None
    keys = day * REGION_SPAN + region_numbers(regions)
    assert np.array_equal(found[0], np.unique(keys))
    assert np.array_equal(found[1], np.searchsorted(np.unique(keys), keys))


def test_pairs_tell_codes_and_days_apart_case_by_case():
    """Cases alternate between codes that differ in one character (each of the six) and
    between days of one code: each case gets its own pair, as sorting the keys gives."""
    codes = np.array(["410100", "510100", "400100", "411100", "410000", "410110", "410101"])
    rng = np.random.default_rng(5)
    regions = codes[rng.integers(0, len(codes), 5_000)]
    day = rng.integers(-2, 2, 5_000).astype(np.int64)  # days before 1970 too
    found = sorted_pairs(day, regions, rows_min=0)
    assert found is not None
    keys = day * REGION_SPAN + region_numbers(regions)
    assert np.array_equal(found[0], np.unique(keys))
    assert np.array_equal(found[1], np.searchsorted(np.unique(keys), keys))


def test_pairs_refuse_an_empty_code_even_first():
    """An empty code is 24 zero bytes: the first case must still be checked, on any day."""
    for day in (-1, 0):
        with pytest.raises(AssertionError, match="six digits"):
            empty = np.array(["", "", ""], dtype="<U6")
            sorted_pairs(np.full(3, day, dtype=np.int64), empty, rows_min=0)


def test_pairs_refuse_a_code_that_is_not_six_digits():
    with pytest.raises(AssertionError, match="six digits"):
        sorted_pairs(np.zeros(2, dtype=np.int64), np.array(["410100", "41010x"]), rows_min=0)


def test_the_kernel_compiles_once_when_many_threads_ask_first() -> None:
    """The server answers on many threads: eight first calls at the same moment in a fresh
    interpreter must all get the compiled kernel (an unguarded first use compiled twice and
    failed with "a jit decorator was called on an already jitted function")."""
    import subprocess
    import sys

    script = """
import threading
from suiren.policy import pension_kernel
barrier = threading.Barrier(8)
errors = []
def first_use():
    barrier.wait()
    try:
        pension_kernel._compiled()
    except Exception as error:
        errors.append(repr(error))
threads = [threading.Thread(target=first_use) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
assert not errors, errors
print("ok")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_the_loops_compile_where_numba_has_no_cache_folder() -> None:
    """Where numba finds no writable cache folder (here: only the IPython cell locator is
    allowed, which refuses files), the loops are compiled without a cache instead of failing
    ("cannot cache function ...: no locator available")."""
    import os
    import subprocess
    import sys

    script = """
import numpy as np
from suiren.policy import pension_kernel
from suiren.rules import vector_pairs
pension_kernel._compiled()
found = vector_pairs.sorted_pairs(
    np.array([1, 1, 2], dtype=np.int64), np.array(["410100", "440100", "410100"]), rows_min=0
)
assert found is not None and found[1].tolist() == [0, 1, 2], found
print("ok")
"""
    environment = {**os.environ, "NUMBA_CACHE_LOCATOR_CLASSES": "IPythonCacheLocator"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=environment
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_the_loops_run_where_their_cache_cannot_be_written(tmp_path) -> None:
    """Where numba's cache folder takes no file (here: a fresh folder and a file size limit of
    one byte, as a full disk would), a loop compiled for this process is used: the cache's
    write was an OSError ("File too large") out of the first command that ran the loop (it
    failed ``pension calc`` on a fresh clone, whose cache was cold)."""
    import os
    import resource
    import subprocess
    import sys

    script = """
import numpy as np
from suiren.rules import vector_pairs
found = vector_pairs.sorted_pairs(
    np.array([1, 1, 2], dtype=np.int64), np.array(["410100", "440100", "410100"]), rows_min=0
)
assert found is not None and found[1].tolist() == [0, 1, 2], found
print("ok")
"""

    def one_byte_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (1, resource.RLIM_INFINITY))

    environment = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        env=environment,
        preexec_fn=one_byte_files,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_both_formulas_refuse_the_same_personal_add_on():
    """A 增发 outside 四川 is refused by both formulas alike; so is a 增发 rate of six digits on
    a printed wage at the limits (50,000 yuan, 74.99 years), which does not fit
    in exact int64 arithmetic; the printed 0.1% on the same wage computes."""
    policy = load_policy()
    cases = varied_cases(policy, 9, 100, extreme_share=0.0)
    n = len(cases)
    bad = np.arange(n) == 6
    plain = replace(
        cases,
        increase_rate_1e6=np.full(n, -1, dtype=np.int64),
        increase_fixed_fen=None,
        coefficient=None,
        early_years=None,
        early_index_1e6=None,
        old_transitional_fen=None,
    )
    outside = replace(
        plain,
        region=np.where(bad, "330100", plain.region),
        increase_fixed_fen=np.where(bad, 6_000, -1),
    )
    large = replace(
        plain,
        region=np.where(bad, "510100", plain.region),
        day=np.where(bad, day_number(date(2025, 10, 1)), plain.day),
        indexed_wage_fen=np.where(bad, 5_000_000, -1),
        years=np.where(bad, 7_499 * 300, plain.years),  # 74.99: 四川 keeps 2 decimals
        deemed_years=np.zeros(n, dtype=np.int64),
        increase_rate_1e6=np.where(bad, 987_653, -1),
    )
    for wrong, text in ((outside, "case 6: increase_rate or increase_fixed_yuan is given"),
                        (large, "case 6: personal add-on inputs too large")):  # fmt: skip
        with pytest.raises(InvalidInput) as expected:
            reference_pensions(policy, wrong)
        with pytest.raises(InvalidInput) as actual:
            compute_pensions(policy, wrong)
        assert str(actual.value) == str(expected.value)
        assert text in str(actual.value)
    fits = replace(large, increase_rate_1e6=np.where(bad, 1_000, -1))  # 0.1%: fits
    result = compute_pensions(policy, fits)
    assert result.increase_fen is not None and int(result.increase_fen[6]) > 0
    assert_identical(result, reference_pensions(policy, fits))
