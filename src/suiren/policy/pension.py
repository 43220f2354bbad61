"""The monthly pension (基本养老金) of 国发〔2005〕38号 and its provincial variants.

One vectorized function serves one worker and two hundred million. Every quantity is an
exact integer at a stated scale, and each component is rounded once, half up, to the
region's unit (分 or 角)::

    basic        = (B_flat · a + B_index · Ī) / 2 × (full_years · r_year + months · r_month)
    account      = account balance / divisor(age)
    transitional = B_t · Ī_t · deemed_years · k
    total        = basic + account + transitional

    a  = Ī / threshold when Ī < threshold (广东 low-index coefficient), otherwise 1
    B_flat, B_index, B_t = the local or the provincial 计发基数 (河南, 吉林 dual bases)

Which base, which threshold, which accrual rates, how years and indices are rounded and
to what unit the result is rounded are all parameters of the region (``pension.*``).

Scales: money in fen; indices in 1/10,000 (``_1e4``) after rounding; years in 1/300
(exact for whole months and for hundredths); divisors in tenths of a month.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import lcm
from typing import Any

import numpy as np
import numpy.typing as npt

from suiren.domain.errors import InvalidInput, ParameterError
from suiren.domain.money import Rounding, divide_round
from suiren.policy import Policy
from suiren.policy.retirement import divisor_tenths
from suiren.rules.vector import Gathered

IntArray = npt.NDArray[np.int64]
INDEX_SCALE_INPUT = 10**6  # indices arrive with up to six decimals
INDEX_SCALE = 10**4  # and are used at the region's decimals (at most four)
YEARS_SCALE = 300  # 1/300 year: whole months (25) and hundredths (3) are exact
MONTH_IN_YEARS_SCALE = YEARS_SCALE // 12
NUMERATOR_MAX = 2**62  # headroom below int64

PARAMETERS = {
    "index_decimals": "pension.index_decimals",
    "rounding_unit_fen": "pension.rounding_unit_fen",
    "years_unit": "pension.years.rounding_unit_years",
    "years_mode": "pension.years.rounding_mode",
    "rate_year": "pension.basic.accrual_rate_per_year",
    "rate_month": "pension.basic.accrual_rate_per_leftover_month",
    "low_index_threshold": "pension.basic.low_index_threshold",
    "flat_province": "pension.basic.flat_term_uses_province_base",
    "index_province": "pension.basic.index_term_uses_province_base",
    "divisor_table": "pension.account.divisor_months",
    "divisor_rule": "pension.account.fractional_age_rule",
    "divisor_decimals": "pension.account.divisor_decimals",
    "transitional_coefficient": "pension.transitional.coefficient",
    "transitional_province": "pension.transitional.uses_province_base",
}
OPTIONAL = frozenset({"transitional_coefficient"})


@dataclass(frozen=True)
class PensionCases:
    """A batch of pension cases as columns (one row per worker)."""

    region: npt.NDArray[Any]  # GB/T 2260 code strings
    day: IntArray  # day number (since 1970-01-01) on which the parameters are read
    base_fen: IntArray  # 计发基数 of the paying region
    province_base_fen: IntArray  # the province's, where it differs (else equal to base_fen)
    index_1e6: IntArray  # 平均缴费工资指数
    transitional_index_1e6: IntArray  # 过渡性养老金所用指数 (else equal to index_1e6)
    years_300: IntArray  # 累计缴费年限 incl. deemed years
    deemed_years_300: IntArray  # 视同缴费年限
    account_fen: IntArray  # 个人账户储存额
    divisor_tenths: IntArray  # 计发月数 × 10, or -1 to derive it from age_months
    age_months: IntArray  # age at retirement in months, or -1 if unknown
    coefficient: list[Fraction | None] | None = None  # per case 过渡系数 override

    def __len__(self) -> int:
        return len(self.base_fen)


@dataclass(frozen=True)
class PensionResult:
    """Components in fen and every intermediate an explanation needs."""

    basic_fen: IntArray
    account_pension_fen: IntArray
    transitional_fen: IntArray
    total_fen: IntArray
    index_1e4: IntArray
    transitional_index_1e4: IntArray
    years_300: IntArray
    deemed_years_300: IntArray
    low_index: npt.NDArray[np.bool_]
    divisor_tenths: IntArray
    unit_fen: IntArray
    coefficient: list[Fraction | None]
    parameters: Gathered


def compute_pensions(policy: Policy, cases: PensionCases) -> PensionResult:
    """Monthly pension of every case, exact to the fen (or the region's unit)."""
    g = policy.gather(cases.day, cases.region, PARAMETERS, OPTIONAL)
    unit = g.column("rounding_unit_fen", int)
    index = _round_index(cases.index_1e6, g)
    t_index = _round_index(cases.transitional_index_1e6, g)
    years = _round_years(cases.years_300, g)
    deemed = _round_years(cases.deemed_years_300, g)
    basic, low = _basic(cases, g, index, years, unit)
    divisor = _divisor(cases, g)
    account = divide_round(cases.account_fen * 10, divisor * unit) * unit
    coefficient = _coefficients(cases, g, deemed)
    transitional = _transitional(cases, g, t_index, deemed, coefficient, unit)
    return PensionResult(
        basic_fen=basic,
        account_pension_fen=account,
        transitional_fen=transitional,
        total_fen=basic + account + transitional,
        index_1e4=index,
        transitional_index_1e4=t_index,
        years_300=years,
        deemed_years_300=deemed,
        low_index=low,
        divisor_tenths=divisor,
        unit_fen=unit,
        coefficient=coefficient,
        parameters=g,
    )


def _round_index(index_1e6: IntArray, g: Gathered) -> IntArray:
    decimals = g.column("index_decimals", int)
    if bool(np.any((decimals < 0) | (decimals > 4))):
        raise ParameterError("pension.index_decimals must be between 0 and 4")
    step = 10 ** (6 - decimals)
    return divide_round(index_1e6, step) * (step // 100)


def _round_years(years_300: IntArray, g: Gathered) -> IntArray:
    def unit_of(value: Fraction) -> int:
        scaled = value * YEARS_SCALE
        if scaled.denominator != 1 or scaled <= 0:
            raise ParameterError(
                f"pension.years.rounding_unit_years must be a multiple of 1/{YEARS_SCALE} year"
            )
        return int(scaled)

    unit = g.column("years_unit", unit_of)
    modes = [Rounding(m) for m in g.distinct("years_mode")]
    mode_of_case = g.pair_of_case
    result = np.empty_like(years_300)
    for pair_mode in set(modes):
        pairs = [i for i, m in enumerate(modes) if m is pair_mode]
        chosen = np.isin(mode_of_case, pairs)
        result[chosen] = divide_round(years_300[chosen], unit[chosen], pair_mode) * unit[chosen]
    return result


def _basic(
    cases: PensionCases, g: Gathered, index: IntArray, years: IntArray, unit: IntArray
) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    # accrual factor F = full_years·r_year + leftover_months·r_month, as F_num / F_den
    def f_den(pair: int) -> int:
        r_year = Fraction(g.values["rate_year"][pair].value)
        r_month = Fraction(g.values["rate_month"][pair].value)
        return lcm(r_year.denominator, r_month.denominator * MONTH_IN_YEARS_SCALE)

    dens = [f_den(p) for p in range(len(g.pairs))]
    f_den_case = np.array(dens, dtype=np.int64)[g.pair_of_case]
    r_year_num = np.array(
        [int(Fraction(g.values["rate_year"][p].value) * dens[p]) for p in range(len(dens))],
        dtype=np.int64,
    )[g.pair_of_case]
    r_month_num = np.array(  # per 1/300 year of leftover: r_month / 25 at F_den
        [
            int(Fraction(g.values["rate_month"][p].value) * dens[p] / MONTH_IN_YEARS_SCALE)
            for p in range(len(dens))
        ],
        dtype=np.int64,
    )[g.pair_of_case]
    full_years, leftover = np.divmod(years, YEARS_SCALE)
    f_num = full_years * r_year_num + leftover * r_month_num
    # a = Ī / t below the threshold t = p/q (a = Ī·q/p), else 1; both over p·10^4
    t_num = g.column("low_index_threshold", lambda v: Fraction(v).numerator)
    t_den = g.column("low_index_threshold", lambda v: Fraction(v).denominator)
    p = np.maximum(t_num, 1)
    low = index * t_den < t_num * INDEX_SCALE
    a_num = np.where(low, index * t_den, INDEX_SCALE * p)
    b_flat = np.where(
        g.column("flat_province", bool, bool), cases.province_base_fen, cases.base_fen
    )
    b_index = np.where(
        g.column("index_province", bool, bool), cases.province_base_fen, cases.base_fen
    )
    weighted = b_flat * a_num + b_index * index * p
    _check_headroom(weighted, f_num, "basic pension")
    numerator = weighted * f_num
    denominator = 2 * p * INDEX_SCALE * f_den_case
    return divide_round(numerator, denominator * unit) * unit, low


def _divisor(cases: PensionCases, g: Gathered) -> IntArray:
    given = cases.divisor_tenths >= 0
    if bool(np.all(given)):
        return cases.divisor_tenths
    missing = ~given & (cases.age_months < 0)
    if bool(np.any(missing)):
        bad = int(np.flatnonzero(missing)[0])
        raise InvalidInput(
            f"case {bad}: give divisor_months, or birth and retire so the age can be derived"
        )
    decimals = [int(d) for d in g.distinct("divisor_decimals")]
    if any(d not in (0, 1) for d in decimals):
        raise ParameterError("pension.account.divisor_decimals must be 0 or 1")
    age = np.where(given, 40 * 12, cases.age_months)
    derived = divisor_tenths(
        [{int(k): Fraction(v) for k, v in t.items()} for t in g.distinct("divisor_table")],
        [str(r) for r in g.distinct("divisor_rule")],
        decimals,
        g.pair_of_case,
        age,
    )
    return np.where(given, cases.divisor_tenths, derived)


def _coefficients(cases: PensionCases, g: Gathered, deemed: IntArray) -> list[Fraction | None]:
    regional = [None if v is None else Fraction(v) for v in g.distinct("transitional_coefficient")]
    per_case: list[Fraction | None] = [regional[int(p)] for p in g.pair_of_case.tolist()]
    if cases.coefficient is not None:
        per_case = [
            o if o is not None else r for o, r in zip(cases.coefficient, per_case, strict=True)
        ]
    needs = np.flatnonzero(deemed > 0).tolist()
    for i in needs:
        if per_case[i] is None:
            raise InvalidInput(
                f"case {i}: deemed years are given but region {cases.region[i]} has no"
                " transitional coefficient (过渡系数) in the parameters; give"
                " transitional_coefficient"
            )
    return per_case


def _transitional(
    cases: PensionCases,
    g: Gathered,
    t_index: IntArray,
    deemed: IntArray,
    coefficient: list[Fraction | None],
    unit: IntArray,
) -> IntArray:
    if not bool(np.any(deemed > 0)):
        return np.zeros(len(cases), dtype=np.int64)
    k_num = np.array([0 if k is None else k.numerator for k in coefficient], dtype=np.int64)
    k_den = np.array([1 if k is None else k.denominator for k in coefficient], dtype=np.int64)
    base = np.where(
        g.column("transitional_province", bool, bool), cases.province_base_fen, cases.base_fen
    )
    weighted = base * t_index
    _check_headroom(weighted, deemed * k_num, "transitional pension")
    numerator = weighted * deemed * k_num
    denominator = INDEX_SCALE * YEARS_SCALE * k_den
    return divide_round(numerator, denominator * unit) * unit


def _check_headroom(left: IntArray, right: IntArray, what: str) -> None:
    if len(left) == 0:
        return
    bound = int(np.max(np.abs(left))) * int(np.max(np.abs(right)))
    if bound >= NUMERATOR_MAX:
        raise InvalidInput(
            f"{what}: inputs too large for exact int64 arithmetic; check the amounts"
        )
