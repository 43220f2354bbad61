"""Properties of the pension formulas (国发〔2005〕38号 and the provincial variants).

- 多缴多得: a higher average index, more contribution years or a larger account never lowers
  any component nor the total, in every kind of region (national formula, 广东 low-index
  coefficient, 上海 0.083% per leftover month rounded up to the 角, 河南 and 吉林 dual bases);
- one formula at every scale: a batch gives, case by case, what each case gives alone;
- exactness: the national formula agrees with an independent computation in ``Fraction``.

Cases are built as ``PensionCases`` columns directly, the way the simulator builds them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from fractions import Fraction
from math import floor
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from suiren.policy import load_policy
from suiren.policy.pension import YEARS_SCALE, PensionCases, PensionResult, compute_pensions
from suiren.rules.vector import day_number

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)
MONTH = YEARS_SCALE // 12  # one month in the formula's years unit
DAY = date(2025, 8, 1)
REGIONS = ("410100", "440100", "310000", "410000", "220000")
DUAL_BASE_REGIONS = frozenset({"410100", "410000", "220000"})  # 410100 inherits 河南's
# dates around the rule changes: 上海's 2021 method, the 2025 divisor interpolation
DAYS = (date(2020, 12, 31), date(2021, 1, 1), date(2024, 12, 31), date(2025, 1, 1), DAY)

# the input limits of the pension calculator (suiren pension calc)
BASE_FEN_MAX = 50_000 * 100
INDEX_1E6_MAX = 5 * 10**6
YEARS_MAX = 75
ACCOUNT_FEN_MAX = 100_000_000 * 100
COMPONENTS = ("basic_fen", "account_pension_fen", "transitional_fen", "total_fen")


@st.composite
def cases(draw: st.DrawFn, regions: tuple[str, ...] = REGIONS, days: tuple[date, ...] = (DAY,)):
    """One realistic-to-extreme case, within the calculator's input limits."""
    region = draw(st.sampled_from(regions))
    base = draw(st.integers(100, BASE_FEN_MAX))
    index = draw(st.integers(0, INDEX_1E6_MAX))
    years = draw(
        st.one_of(
            st.integers(0, YEARS_MAX * 12).map(lambda months: months * MONTH),  # whole months
            st.integers(0, YEARS_MAX * 10_000).map(lambda y: y * YEARS_SCALE // 10_000),
        )
    )
    derive_divisor = draw(st.booleans())
    return {
        "region": region,
        "day": day_number(draw(st.sampled_from(days))),
        "base_fen": base,
        "province_base_fen": (
            draw(st.integers(100, BASE_FEN_MAX)) if region in DUAL_BASE_REGIONS else base
        ),
        "index_1e6": index,
        "transitional_index_1e6": draw(st.one_of(st.just(index), st.integers(0, INDEX_1E6_MAX))),
        "years": years,
        "deemed_years": draw(st.one_of(st.just(0), st.integers(0, years))),
        "account_fen": draw(st.integers(0, ACCOUNT_FEN_MAX)),
        "divisor_tenths": -1 if derive_divisor else draw(st.integers(10, 4000)),
        # 50 years 0 months to 69 years 11 months: inside the 计发月数 table
        "age_months": draw(st.integers(50 * 12, 70 * 12 - 1)) if derive_divisor else -1,
    }


def batch(records: list[dict[str, Any]]) -> PensionCases:
    def column(name: str) -> np.ndarray:
        return np.array([r[name] for r in records], dtype=np.int64)

    return PensionCases(
        region=np.array([r["region"] for r in records]),
        day=column("day"),
        base_fen=column("base_fen"),
        province_base_fen=column("province_base_fen"),
        index_1e6=column("index_1e6"),
        transitional_index_1e6=column("transitional_index_1e6"),
        years=column("years"),
        deemed_years=column("deemed_years"),
        account_fen=column("account_fen"),
        divisor_tenths=column("divisor_tenths"),
        age_months=column("age_months"),
    )


def components(result: PensionResult, i: int) -> dict[str, int]:
    return {name: int(getattr(result, name)[i]) for name in COMPONENTS}


# 多缴多得 ----------------------------------------------------------------------------------


def raised(case: dict[str, Any], what: str, step: int) -> dict[str, Any]:
    """``case`` with more of ``what``, kept within the calculator's limits."""
    more = dict(case)
    if what == "index":
        more["index_1e6"] = min(INDEX_1E6_MAX, case["index_1e6"] + step)
    elif what == "transitional_index":
        more["transitional_index_1e6"] = min(INDEX_1E6_MAX, case["transitional_index_1e6"] + step)
    elif what == "index_both":  # as when the calculator uses one index for both
        more["index_1e6"] = min(INDEX_1E6_MAX, case["index_1e6"] + step)
        more["transitional_index_1e6"] = min(INDEX_1E6_MAX, case["transitional_index_1e6"] + step)
    elif what == "years":  # more actual years, the deemed years unchanged
        more["years"] = min(YEARS_MAX * YEARS_SCALE, case["years"] + step * MONTH // 1000)
    else:
        more["account_fen"] = min(ACCOUNT_FEN_MAX, case["account_fen"] + step * 1000)
    return more


@PROPERTY_SETTINGS
@given(
    case=cases(),
    what=st.sampled_from(["index", "transitional_index", "index_both", "years", "account"]),
    step=st.one_of(st.integers(1, 100), st.integers(1, 2_000_000)),
)
def test_more_paid_never_gives_less(case, what, step):
    """多缴多得: more index, years or account never lowers a component or the total."""
    more = raised(case, what, step)
    result = compute_pensions(load_policy(), batch([case, more]))
    before, after = components(result, 0), components(result, 1)
    for name in COMPONENTS:
        assert after[name] >= before[name] >= 0, (name, what, before, after)


@PROPERTY_SETTINGS
@given(case=cases(regions=("440100",)), step=st.integers(51, 10_000))
def test_guangdong_low_index_coefficient_is_monotone_across_the_threshold(case, step):
    """Below Ī = 0.6 the flat term is scaled by Ī/0.6; crossing 0.6 must not jump down.

    (0.599950 rounds half up to 0.6000, so the lowest index below the threshold is 0.599949.)
    """
    low = dict(case, index_1e6=600_000 - step)
    at = dict(case, index_1e6=600_000)
    result = compute_pensions(load_policy(), batch([low, at]))
    assert bool(result.low_index[0]) and not bool(result.low_index[1])
    assert result.basic_fen[1] >= result.basic_fen[0]


# one formula at every scale ----------------------------------------------------------------


def coefficient_overrides(draw: st.DrawFn, n: int) -> list[Fraction | None] | None:
    if not draw(st.booleans()):
        return None
    choices = st.one_of(st.none(), st.sampled_from([Fraction(1, 100), Fraction(12, 1000)]))
    return [draw(choices) for _ in range(n)]


@st.composite
def batches(draw: st.DrawFn) -> PensionCases:
    records = draw(st.lists(cases(days=DAYS), min_size=1, max_size=40))
    return replace(batch(records), coefficient=coefficient_overrides(draw, len(records)))


def one_case(cases_: PensionCases, i: int) -> PensionCases:
    columns = {
        name: getattr(cases_, name)[i : i + 1]
        for name in PensionCases.__dataclass_fields__
        if isinstance(getattr(cases_, name), np.ndarray)
    }
    coefficient = None if cases_.coefficient is None else cases_.coefficient[i : i + 1]
    return replace(cases_, **columns, coefficient=coefficient)


INTERMEDIATES = (
    "index_scaled",
    "transitional_index_scaled",
    "index_scale",
    "years",
    "deemed_years",
    "low_index",
    "divisor_tenths",
    "unit_fen",
)


@PROPERTY_SETTINGS
@given(cases_=batches())
def test_a_batch_equals_its_cases_one_at_a_time(cases_):
    policy = load_policy()
    together = compute_pensions(policy, cases_)
    for i in range(len(cases_)):
        alone = compute_pensions(policy, one_case(cases_, i))
        assert components(together, i) == components(alone, 0), i
        for name in INTERMEDIATES:
            assert getattr(together, name)[i] == getattr(alone, name)[0], (i, name)
        assert together.coefficient[i] == alone.coefficient[0], i


def worker(**changes: Any) -> dict[str, Any]:
    """An ordinary Zhengzhou worker (8000 yuan base, index 1, 30 years of which 10 deemed)."""
    case = {
        "region": "410100",
        "day": day_number(DAY),
        "base_fen": 800_000,
        "province_base_fen": 800_000,
        "index_1e6": 1_000_000,
        "transitional_index_1e6": 1_000_000,
        "years": 30 * YEARS_SCALE,
        "deemed_years": 10 * YEARS_SCALE,
        "account_fen": 10_000_000,
        "divisor_tenths": 1390,
        "age_months": -1,
    }
    return {**case, **changes}


def test_headroom_does_not_depend_on_the_other_cases_of_the_batch():
    """Two cases at the calculator's limits, each computable alone, are computable together."""
    rich = worker(base_fen=BASE_FEN_MAX, province_base_fen=BASE_FEN_MAX, index_1e6=INDEX_1E6_MAX)
    rich["transitional_index_1e6"] = INDEX_1E6_MAX
    rich["deemed_years"] = YEARS_SCALE
    veteran = worker(years=YEARS_MAX * YEARS_SCALE, deemed_years=YEARS_MAX * YEARS_SCALE)
    policy = load_policy()
    alone = [compute_pensions(policy, batch([case])) for case in (rich, veteran)]
    together = compute_pensions(policy, batch([rich, veteran]))
    for i, result in enumerate(alone):
        assert components(together, i) == components(result, 0)


def test_a_coefficient_with_six_decimals_is_computed():
    """An override such as 0.012345 (the calculator takes up to 8 decimals) fits in int64."""
    case = batch([worker()])
    result = compute_pensions(load_policy(), replace(case, coefficient=[Fraction(12345, 10**6)]))
    # 8000 × 1 × 10 × 0.012345 = 987.60
    assert int(result.transitional_fen[0]) == 98_760


# exactness -------------------------------------------------------------------------------

# 国发〔2005〕38号 附件: 个人账户养老金计发月数 by whole age at retirement
DIVISOR_MONTHS = {
    age: months
    for age, months in zip(
        range(40, 71),
        (
            *(233, 230, 226, 223, 220, 216, 212, 207, 204, 199, 195, 190, 185, 180, 175, 170),
            *(164, 158, 152, 145, 139, 132, 125, 117, 109, 101, 93, 84, 75, 65, 56),
        ),
        strict=True,
    )
}


def half_up(x: Fraction) -> int:
    """四舍五入 of a non-negative amount."""
    return floor(x + Fraction(1, 2))


def national_reference(case: dict[str, Any]) -> tuple[int, int]:
    """Basic and account pension in fen, straight from the regulation, in Fraction.

    basic   = (B + B·Ī) / 2 × N × 1%          Ī to 4 decimals (half up), N in years
    account = balance / 计发月数                 months interpolated from 2025 (to 0.1)
    """
    index = Fraction(half_up(Fraction(case["index_1e6"], 100)), 10_000)
    base = Fraction(case["base_fen"])
    years = Fraction(case["years"], YEARS_SCALE)
    basic = half_up((base + base * index) / 2 * years / 100)
    if case["divisor_tenths"] >= 0:
        divisor = Fraction(case["divisor_tenths"], 10)
    else:
        age_years, extra_months = divmod(case["age_months"], 12)
        this, following = DIVISOR_MONTHS[age_years], DIVISOR_MONTHS[age_years + 1]
        divisor = Fraction(half_up((this - (this - following) * Fraction(extra_months, 12)) * 10))
        divisor /= 10
    return basic, half_up(case["account_fen"] / divisor)


@PROPERTY_SETTINGS
@given(case=cases(regions=("410100", "110000")))
def test_national_formula_is_exact(case):
    """Zhengzhou with one base (its dual base then coincides) and Beijing: the national formula."""
    case = dict(case, province_base_fen=case["base_fen"], deemed_years=0)
    # whole quarters: exact under every years unit of these regions (河南 keeps 2 decimals)
    case["years"] -= case["years"] % (3 * MONTH)
    result = compute_pensions(load_policy(), batch([case]))
    basic, account = national_reference(case)
    assert int(result.basic_fen[0]) == basic
    assert int(result.account_pension_fen[0]) == account
    assert int(result.transitional_fen[0]) == 0
    assert int(result.total_fen[0]) == basic + account


def test_national_formula_worked_example():
    """(8000 + 8000 × 1.2) / 2 × 30 × 1% = 2640.00; 100000 / 139 = 719.42 (719.4245 half up)."""
    case = {
        "region": "410100",
        "day": day_number(DAY),
        "base_fen": 800_000,
        "province_base_fen": 800_000,
        "index_1e6": 1_200_000,
        "transitional_index_1e6": 1_200_000,
        "years": 30 * YEARS_SCALE,
        "deemed_years": 0,
        "account_fen": 10_000_000,
        "divisor_tenths": 1390,
        "age_months": -1,
    }
    result = compute_pensions(load_policy(), batch([case]))
    assert components(result, 0) == {
        "basic_fen": 264_000,
        "account_pension_fen": 71_942,
        "transitional_fen": 0,
        "total_fen": 335_942,
    }
    assert national_reference(case) == (264_000, 71_942)
