"""The monthly pension (基本养老金) of 国发〔2005〕38号 and its provincial variants.

One vectorized function serves one worker and two hundred million. Every quantity is an
exact integer at a stated scale, and each component is rounded once to the region's unit
(分 or 角) by the region's mode (half up, up, down, or 见分进角: cut to the fen, then up)::

    basic        = (B_flat · a + W) / 2 × (full_years · r_year + leftover_months · r_month)
    account      = account balance / divisor(age)
    transitional = B_t · (w_flat + w_index · max(Ī_t, f)) · deemed_years · k
                   + B_t · Ī_e · early_years · r_e
                   (where the case gives its original-method amount O and the region compares:
                   O + ⌈(transitional − O) · s⌉ if above O, else O)
    extra        = Σ_k (B_flat · a + W) / 2 × x_k · (years in bracket k), each term rounded
                 + round(F + Ī · N · m) + S + Y · ⌊N⌋ + top-up
                 + round(W · r_c · N) + D_c + round(P · c)   (where the case gives its status)
    total        = basic + account + transitional + extra

    W  = B_index · Ī, the indexed monthly wage (指数化月平均缴费工资), or the printed one; the
         printed one also stands for B_t · Ī_t in the transitional pension where B_t is the
         same base and Ī_t the same index (山东, 云南 tables: W rounded to the fen, × years).
         Where the region rounds it (``pension.indexed_wage_unit_fen``: 山东, 吉林, 湖北 1 fen),
         B_index · Ī and B_t · Ī_t are each rounded half up to that unit before use
    a  = Ī / threshold when Ī < threshold (广东 low-index coefficient; where the region says
         so, rounded half up to its decimals), otherwise 1
    B_flat, B_index, B_t = the local or the provincial 计发基数 (河南, 吉林 dual bases)
    B_t · Ī_t = W, the printed indexed wage, where the case gives one and Ī_t is Ī (as given) on
         the index term's base B_index (新疆's table: 4636.42, not 7089 × 0.654 = 4636.21), unless
         the floor below applies
    f  = where the region floors the transitional index (内蒙古 from 2025-09: 1,
         ``pension.transitional.index_floor``), the floor; else none (Ī_t as it is). The basic
         pension keeps Ī; Ī_t is reported as rounded, before the floor
    k  = the long-service coefficient when actual years exceed its threshold (吉林), else k
    r_e, early_years, Ī_e = where the region pays a part for actual years of an early period
         (北京 G实 = C平 × Z实 × N实98 × 1%: ``pension.transitional.early_actual_rate``), its
         rate, the case's actual years in that period and their index; the two parts are
         added exactly and the sum rounded once (北京's tables reproduce only so)
    x_k  = where the region pays a 长缴增发 (吉林: ``pension.basic.long_service_extra_rate``),
         the rate per contribution year above threshold k up to the next (20, 25, 30 years:
         0.15%, 0.2%, 0.25%), on the basic pension's own base; each bracket is rounded to the
         fen on its own and the brackets added (吉林's tables print each; one rounding of the
         sum is a fen off on one of them)
    F, m = where the region pays a 过渡调节金 (浙江: ``pension.extra.adjustment_fixed`` 480 and
         ``adjustment_per_index_year`` 3 yuan), its fixed part and its amount per contribution
         year at index 1: F + Ī · N · m (N deemed included), rounded once like a component
    S  = a fixed 养老金补贴 (浙江 150, 深圳's 100 printed inside its 过渡性养老金 from 2023-05,
         广东's 100 加发 from 2024-05: ``pension.extra.subsidy``)
    Y  = 广东's 缴费年限津贴 from 2024-05: 4 yuan × ⌊累计缴费年限⌋ (``pension.extra.per_whole_year``),
         printed inside its 过渡性养老金 with the 100; paid beside the three components
    top-up = where the region raises the total to a multiple of u fen (浙江 见分进角补足, 江苏's
         total 见分进角, u = 10: ``pension.extra.top_up_unit_fen``), the fen that take it there
    r_c, D_c = the case's 增发 rate and fixed amount as its table prints them (四川, where
         ``pension.extra.increase_on_indexed_wage``: 增发养老金合计比例 and 定额)
    c, P = where the case is a one-child parent (独生子女父母), the region's rate
         (``pension.extra.only_child_rate``: 重庆 3%, 贵州, 辽宁 5%) of P = basic + account +
         transitional, or of the region's set amount (云南: ``only_child_base_yuan``)
    O, s = where the region pays the transitional pension as the one by its original method
         plus a share of the new method's excess (江苏 from 2024, 苏人社发〔2024〕4号: 原办法 O
         given per case as printed, s = 40% / 70% / 100% in 2024 / 2025 / 2026 on:
         ``pension.transitional.phase_in_rate``), the excess raised to the 角, the paid share of
         it cut to the fen and raised to the 角 again (``phase_in_unit_fen``; ⌈·⌉ above); the
         new method rounded first like a component.
         深圳 from 2023-05 the same way: O = 老 indexed wage × 享受比例 + 4 × whole years as
         printed, s = 70% / 90% / 100% in 2023 / 2024 / 2025 on (its 调整额), cut to the fen

Which base, which threshold, which accrual rates and weights, how years and indices are
rounded and to what unit and how each component is rounded are all parameters of the
region (``pension.*``); no formula asks which region it is in.

The parameters are turned into small per-(date, region) arrays here (one table row per pair
for the loop); the arithmetic runs case by case in one compiled loop (``pension_kernel``),
which reads each input once and writes each output once (issue 10 §6). Intermediates no
case changes are not copied: the years when the region's unit leaves them as given, the
rounding unit and the 过渡系数 when they are the pair's (built from the pair when read).

Scales: money in fen; indices arrive in 1/10^6 and, rounded to the region's decimals
(``pension.index_decimals``, 0–6), are held in 1/``index_scale`` of their pair: 10^4 where
the region keeps at most four decimals, 10^5 or 10^6 where its tables use five or six
(山西, 信阳, 开封); years in 1/30,000 (exact for whole months and for up to four decimals);
divisors in tenths of a month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from functools import cached_property
from math import lcm
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from suiren.domain.errors import InvalidInput, ParameterError
from suiren.domain.money import Rounding
from suiren.domain.region import NATIONAL
from suiren.policy import Policy
from suiren.policy import pension_kernel as kernel
from suiren.policy.pension_kernel import (
    BASIC_TOO_LARGE,
    DOWN,
    EMPTY,
    EMPTY_BOOL,
    ERROR_KINDS,
    EXTRA_BRACKETS,
    HALF_UP,
    NEGATIVE_COMPONENT,
    NEGATIVE_YEARS,
    NO_COEFFICIENT,
    NO_EARLY_RATE,
    NO_INCREASE,
    NO_PHASE_IN,
    STATUS_TOO_LARGE,
    TRANSITIONAL_TOO_LARGE,
    UP,
    UP_FROM_FEN,
    YEARS_ROUNDED,
    pair_table,
    pension_kernel,
    round_years,
)
from suiren.policy.retirement import DIVISOR_TABLE, divisor_tenths
from suiren.rules.vector import ParameterColumns

IntArray = npt.NDArray[np.int64]
INDEX_SCALE_INPUT = 10**6  # indices arrive with up to six decimals
INDEX_DECIMALS_MAX = 6  # and are used at the region's decimals, at most six
YEARS_SCALE = kernel.YEARS_SCALE  # 1/30000 year: whole months and four decimals are exact
MONTH_IN_YEARS_SCALE = kernel.MONTH_IN_YEARS_SCALE
UP_FROM_FEN_NAME = "up_from_fen"  # 见分进角: a component cut to the fen, then any fen up
NUMERATOR_MAX = kernel.NUMERATOR_MAX  # headroom below int64

PARAMETERS = {
    "index_decimals": "pension.index_decimals",
    "rounding_unit_fen": "pension.rounding_unit_fen",
    "rounding_mode": "pension.rounding_mode",
    "years_unit": "pension.years.rounding_unit_years",
    "years_mode": "pension.years.rounding_mode",
    "rate_year": "pension.basic.accrual_rate_per_year",
    "rate_month": "pension.basic.accrual_rate_per_leftover_month",
    "low_index_threshold": "pension.basic.low_index_threshold",
    "low_index_decimals": "pension.basic.low_index_coefficient_decimals",
    "flat_province": "pension.basic.flat_term_uses_province_base",
    "index_province": "pension.basic.index_term_uses_province_base",
    "divisor_table": DIVISOR_TABLE,
    "divisor_rule": "pension.account.fractional_age_rule",
    "divisor_decimals": "pension.account.divisor_decimals",
    "transitional_coefficient": "pension.transitional.coefficient",
    "transitional_province": "pension.transitional.uses_province_base",
    "transitional_flat_weight": "pension.transitional.flat_weight",
    "transitional_index_weight": "pension.transitional.index_weight",
    "transitional_index_floor": "pension.transitional.index_floor",
    "long_service_coefficient": "pension.transitional.long_service_coefficient",
    "long_service_years": "pension.transitional.long_service_actual_years_min",
    "early_rate": "pension.transitional.early_actual_rate",
    "extra_rates": "pension.basic.long_service_extra_rate",
    "adjustment_fixed": "pension.extra.adjustment_fixed",
    "adjustment_per_index_year": "pension.extra.adjustment_per_index_year",
    "subsidy": "pension.extra.subsidy",
    "per_whole_year": "pension.extra.per_whole_year",
    "top_up_unit": "pension.extra.top_up_unit_fen",
    "phase_in_rate": "pension.transitional.phase_in_rate",
    "phase_in_unit": "pension.transitional.phase_in_unit_fen",
    "increase": "pension.extra.increase_on_indexed_wage",
    "only_child_rate": "pension.extra.only_child_rate",
    "only_child_base": "pension.extra.only_child_base_yuan",
    "wage_unit": "pension.indexed_wage_unit_fen",
}
OPTIONAL = frozenset(
    {"transitional_coefficient", "long_service_coefficient", "long_service_years",
     "low_index_decimals", "early_rate", "extra_rates", "adjustment_fixed",
     "adjustment_per_index_year", "subsidy", "top_up_unit", "phase_in_rate", "phase_in_unit",
     "transitional_index_floor", "increase", "only_child_rate", "only_child_base",
     "per_whole_year", "wage_unit"}
)  # fmt: skip


def rules_first_day(policy: Policy) -> date:
    """The first day on which every parameter the formula needs has a national value: a
    retirement before it was paid by earlier rules (before 国发〔2005〕38号's formula), which
    the calculator does not compute, and a case ruled on such a day is refused, not looked
    up (a lookup would fail on a parameter, naming no case)."""
    firsts = [
        policy.parameters.parameter(path).first_day((NATIONAL,))
        for name, path in PARAMETERS.items()
        if name not in OPTIONAL
    ]
    return max(d for d in firsts if d is not None)


@dataclass(frozen=True, kw_only=True)
class PensionCases:
    """A batch of pension cases as columns (one row per worker)."""

    region: npt.NDArray[Any]  # GB/T 2260 code strings
    day: IntArray  # day number (since 1970-01-01) on which the parameters are read
    base_fen: IntArray  # 计发基数 of the paying region
    province_base_fen: IntArray  # the province's, where it differs (else equal to base_fen)
    index_1e6: IntArray  # 平均缴费工资指数
    transitional_index_1e6: IntArray  # 过渡性养老金所用指数 (else equal to index_1e6)
    years: IntArray  # 累计缴费年限 incl. deemed years, in 1/YEARS_SCALE
    deemed_years: IntArray  # 视同缴费年限 (or 建账前年限), in 1/YEARS_SCALE
    account_fen: IntArray  # 个人账户储存额
    divisor_tenths: IntArray  # 计发月数 × 10, or -1 to derive it from age_months
    age_months: IntArray  # age at retirement in months, or -1 if unknown
    indexed_wage_fen: IntArray | None = None  # printed 指数化月平均缴费工资, -1 where absent
    coefficient: list[Fraction | None] | None = None  # per case 过渡系数 override
    # actual years of the region's early period (北京 N实98: 1992-10 … 1998-06) in
    # 1/YEARS_SCALE and their index (Z实) in 1/10^6, -1 where not given; None: no case has them
    early_years: IntArray | None = None
    early_index_1e6: IntArray | None = None
    # the transitional pension by the region's original method (江苏 原办法) as printed, in
    # fen, -1 where not given; None: no case gives one
    old_transitional_fen: IntArray | None = None
    # personal status the region's add-ons depend on, as the table prints it (issue 10 §2):
    # the 增发 rate (四川 增发养老金合计比例) in 1/10^6 and fixed amount (定额) in fen, and whether
    # the worker is a one-child parent (独生子女父母: 1 or 0); -1 where not given; None: no case
    # gives it
    increase_rate_1e6: IntArray | None = None
    increase_fixed_fen: IntArray | None = None
    only_child: IntArray | None = None

    def __len__(self) -> int:
        return len(self.base_fen)


@dataclass(frozen=True)
class PensionResult:
    """Components in fen and every intermediate an explanation needs."""

    basic_fen: IntArray
    account_pension_fen: IntArray
    transitional_fen: IntArray
    total_fen: IntArray
    index_scaled: IntArray  # Ī as used, in 1/index_scale
    transitional_index_scaled: IntArray  # Ī_t as rounded (before any floor), in 1/index_scale
    years: IntArray
    deemed_years: IntArray
    low_index: npt.NDArray[np.bool_]
    divisor_tenths: IntArray
    coefficient: Coefficients
    parameters: ParameterColumns
    unit_per_pair_fen: IntArray  # the rounding unit of each (date, region) pair
    index_scale_per_pair: IntArray  # 10^max(4, index decimals) of each pair
    # early actual years as used (rounded like the others; -1 where not given) and their
    # index in 1/index_scale (-1 where not given); None where the batch has none above zero
    early_years: IntArray | None = None
    early_index_scaled: IntArray | None = None
    # the parts beside the three components (吉林 长缴增发; 浙江 过渡调节金, 养老金补贴 and
    # 见分进角补足), in the total; zero elsewhere
    extra_fen: IntArray | None = None
    # of which the top-up of the total to the region's unit (浙江 见分进角补足); None where no
    # pair of the batch has one
    top_up_fen: IntArray | None = None
    # the transitional pension by the new method where the case gives its original-method
    # amount (江苏), before the comparison; None where no case of the batch gives one
    transitional_new_fen: IntArray | None = None
    # of extra, the add-ons of a personal status the case gives (四川 增发 W × r × N + 定额;
    # 独生子女 重庆 3%, 贵州 5%, …); None where no case of the batch gives a status
    increase_fen: IntArray | None = None
    only_child_fen: IntArray | None = None

    @cached_property
    def extra(self) -> IntArray:
        """The parts beside the three components of each case in fen (吉林 长缴增发, 浙江
        过渡调节金 + 养老金补贴 + 见分进角补足; zero where the region pays none)."""
        if self.extra_fen is None:
            zeros: IntArray = _zeros_view(len(self.basic_fen), np.int64)
            return zeros
        return self.extra_fen

    @cached_property
    def top_up(self) -> IntArray:
        """The part of ``extra`` that raises the total to the region's unit (见分进角补足)."""
        if self.top_up_fen is None:
            zeros: IntArray = _zeros_view(len(self.basic_fen), np.int64)
            return zeros
        return self.top_up_fen

    @cached_property
    def unit_fen(self) -> IntArray:
        """Each case's rounding unit (built when read: an explanation reads one case)."""
        units: IntArray = self.unit_per_pair_fen[self.parameters.pair_of_case]
        return units

    @cached_property
    def index_scale(self) -> IntArray:
        """Each case's index scale: ``index_scaled / index_scale`` is the index used."""
        scales: IntArray = self.index_scale_per_pair[self.parameters.pair_of_case]
        return scales

    def index(self, i: int) -> Fraction:
        """Case ``i``'s average contribution index as used (rounded to its decimals)."""
        return Fraction(int(self.index_scaled[i]), int(self.index_scale_per_pair[self._pair(i)]))

    def transitional_index(self, i: int) -> Fraction:
        """Case ``i``'s transitional index as rounded (before the region's floor, if any)."""
        scale = int(self.index_scale_per_pair[self._pair(i)])
        return Fraction(int(self.transitional_index_scaled[i]), scale)

    def early_index(self, i: int) -> Fraction | None:
        """Case ``i``'s early-period index as used, or None where not given."""
        if self.early_index_scaled is None or int(self.early_index_scaled[i]) < 0:
            return None
        scale = int(self.index_scale_per_pair[self._pair(i)])
        return Fraction(int(self.early_index_scaled[i]), scale)

    def _pair(self, i: int) -> int:
        return int(self.parameters.pair_of_case[i])


def compute_pensions(policy: Policy, cases: PensionCases) -> PensionResult:
    """Monthly pension of every case, exact to the fen (or the region's unit)."""
    return pensions_with_parameters(
        policy.look_up(cases.day, cases.region, PARAMETERS, OPTIONAL), cases
    )


def pensions_with_parameters(g: ParameterColumns, cases: PensionCases) -> PensionResult:
    """``compute_pensions`` once the parameters of the cases' pairs are looked up."""
    n = len(cases)
    divisor = _divisor(cases, g)
    pairs = _pair_parameters(g)
    same_t_index = cases.transitional_index_1e6 is cases.index_1e6
    low_rule = bool(np.any(pairs.t_num != 0))
    any_deemed = bool(cases.deemed_years.any())
    has_early = cases.early_years is not None and bool(np.any(cases.early_years > 0))
    status = _status_inputs(cases, n)
    has_extra = bool(np.any(pairs.x_has)) or bool(np.any(pairs.add_has)) or status is not None
    has_top_up = bool(np.any(pairs.top_up > 1))
    old = cases.old_transitional_fen
    has_old = old is not None and bool(np.any(old >= 0))
    overrides = _overrides(cases.coefficient, n)
    per_case_coefficient = overrides is not None or bool(np.any(pairs.long_has))
    out = Outputs(
        basic_fen=np.empty(n, dtype=np.int64),
        account_pension_fen=np.empty(n, dtype=np.int64),
        # zero where there are no deemed or early years or original-method amounts (the
        # kernel writes only the others)
        transitional_fen=np.zeros(n if any_deemed or has_early or has_old else 0, dtype=np.int64),
        total_fen=np.empty(n, dtype=np.int64),
        index_scaled=np.empty(n, dtype=np.int64),
        transitional_index_scaled=_int64s(n if not same_t_index else 0),
        low_index=np.empty(n if low_rule else 0, dtype=np.bool_),
        coefficient_numerator=_int64s(n if per_case_coefficient else 0),
        coefficient_denominator=_int64s(n if per_case_coefficient else 0),
        coefficient_present=np.empty(n if per_case_coefficient else 0, dtype=np.bool_),
        early_index_scaled=_int64s(n if has_early else 0),
        extra_fen=np.zeros(n if has_extra else 0, dtype=np.int64),
        top_up_fen=np.zeros(n if has_top_up else 0, dtype=np.int64),
        transitional_new_fen=np.full(n if has_old else 0, -1, dtype=np.int64),
        increase_fen=np.zeros(n if status is not None else 0, dtype=np.int64),
        only_child_fen=np.zeros(n if status is not None else 0, dtype=np.int64),
    )
    # the pair as unsigned: the compiled loop then indexes the per-pair arrays without
    # checking for negative indices (about a tenth of its time)
    pair = _ints(g.pair_of_case).view(np.uint64)
    inputs = (
        pair,
        *(_ints(column) for column in (cases.base_fen, cases.province_base_fen)),
        *(_ints(column) for column in (cases.index_1e6, cases.transitional_index_1e6)),
        *(_ints(column) for column in (cases.years, cases.deemed_years, cases.account_fen)),
        _ints(divisor),
        EMPTY if cases.indexed_wage_fen is None else _ints(cases.indexed_wage_fen),
        *(overrides or (EMPTY, EMPTY, EMPTY_BOOL)),
        *(
            (_ints(cases.early_years), _ints(_early_index(cases)))
            if has_early and cases.early_years is not None
            else (EMPTY, EMPTY)
        ),
        _ints(old) if has_old and old is not None else EMPTY,
        *(status or (EMPTY, EMPTY, EMPTY)),
    )
    flags = (
        low_rule,
        any_deemed,
        cases.indexed_wage_fen is not None,
        overrides is not None,
        per_case_coefficient,
        not same_t_index,
        has_early,
        has_extra,
        has_old,
        bool(pairs.wage_unit.any()),  # a region rounds the indexed wage (山东, 吉林, 湖北)
    )
    errors = _run_kernel(inputs, pairs, flags, out, n)
    _raise_first(errors, cases, n)
    years, deemed = cases.years, cases.deemed_years  # unchanged by the regions' units
    early = cases.early_years
    if int(errors[YEARS_ROUNDED]) < n:
        years, deemed = _int64s(n), _int64s(n)
        for given, rounded in ((cases.years, years), (cases.deemed_years, deemed)):
            round_years(pair, _ints(given), pairs.years_unit, pairs.years_mode, rounded)
        if has_early and early is not None:
            rounded = _int64s(n)
            round_years(pair, _ints(np.maximum(early, 0)), pairs.years_unit, pairs.years_mode,
                        rounded)  # fmt: skip
            early = np.where(early >= 0, rounded, -1)
    return PensionResult(
        basic_fen=out.basic_fen,
        account_pension_fen=out.account_pension_fen,
        # none in the batch: read-only views of one zero, no array to allocate, clear and read
        transitional_fen=(
            out.transitional_fen if any_deemed or has_early or has_old else _zeros_view(n, np.int64)
        ),
        total_fen=out.total_fen,
        index_scaled=out.index_scaled,
        transitional_index_scaled=(
            out.index_scaled if same_t_index else out.transitional_index_scaled
        ),
        years=years,
        deemed_years=deemed,
        low_index=out.low_index if low_rule else _zeros_view(n, np.bool_),
        divisor_tenths=divisor,
        coefficient=Coefficients(
            pairs.coef_num,
            pairs.coef_den,
            pairs.coef_has,
            g.pair_of_case,
            (out.coefficient_numerator, out.coefficient_denominator, out.coefficient_present)
            if per_case_coefficient
            else None,
        ),
        parameters=g,
        unit_per_pair_fen=pairs.unit_fen,
        index_scale_per_pair=pairs.index_scale,
        early_years=early,
        early_index_scaled=out.early_index_scaled if has_early else None,
        extra_fen=out.extra_fen if has_extra else None,
        top_up_fen=out.top_up_fen if has_top_up else None,
        transitional_new_fen=out.transitional_new_fen if has_old else None,
        increase_fen=out.increase_fen if status is not None else None,
        only_child_fen=out.only_child_fen if status is not None else None,
    )


def _status_inputs(cases: PensionCases, n: int) -> tuple[IntArray, IntArray, IntArray] | None:
    """The personal-status columns for the kernel (the 增发 rate, its fixed amount, one-child
    parent; -1 where not given), or None where no case gives any."""
    columns = (cases.increase_rate_1e6, cases.increase_fixed_fen, cases.only_child)
    if not any(c is not None and bool(np.any(c >= 0)) for c in columns):
        return None
    absent = np.full(n, -1, dtype=np.int64)
    rate, fixed, child = (absent if c is None else _ints(c) for c in columns)
    return rate, fixed, child


def _early_index(cases: PensionCases) -> IntArray:
    """The early-period index column (-1 where not given), or none given at all."""
    if cases.early_index_1e6 is None:
        return np.full(len(cases), -1, dtype=np.int64)
    return cases.early_index_1e6


class Outputs(NamedTuple):
    """The kernel's output arrays (empty where the batch does not need one)."""

    basic_fen: IntArray
    account_pension_fen: IntArray
    transitional_fen: IntArray
    total_fen: IntArray
    index_scaled: IntArray
    transitional_index_scaled: IntArray
    low_index: npt.NDArray[np.bool_]
    coefficient_numerator: IntArray
    coefficient_denominator: IntArray
    coefficient_present: npt.NDArray[np.bool_]
    early_index_scaled: IntArray
    extra_fen: IntArray
    top_up_fen: IntArray
    transitional_new_fen: IntArray
    increase_fen: IntArray
    only_child_fen: IntArray


def _run_kernel(
    inputs: tuple[Any, ...], pairs: PairParameters, flags: tuple[bool, ...], out: Outputs, n: int
) -> IntArray:
    """Run the kernel; the first failing case of each kind (``n`` where none) comes back.

    As the numpy formula did, the whole batch is first checked at once: if the largest
    factors of the basic and transitional numerators multiply to less than NUMERATOR_MAX, no
    case needs its own check. Otherwise the batch runs again, checking each case (and
    reducing its ratio by the common divisor where the product would not fit). The kernel
    bounds each factor from above by the bitwise or of its values (less than twice the
    largest): a batch within a factor of four of the limit runs twice, to the same result.
    """
    errors = np.full(ERROR_KINDS, n, dtype=np.int64)
    bounds = np.zeros(4, dtype=np.int64)  # bitwise or of each of the four numerator factors
    table, reciprocal = pair_table(tuple(pairs), flags[0])
    pension_kernel(inputs, table, reciprocal, (*flags, False), tuple(out), errors, bounds)
    # a negative factor (its sign bit set) is out of bounds, as a largest one would be
    largest = [int(b) if b >= 0 else NUMERATOR_MAX for b in bounds]
    if largest[0] * largest[1] >= NUMERATOR_MAX or largest[2] * largest[3] >= NUMERATOR_MAX:
        errors[:] = n
        pension_kernel(inputs, table, reciprocal, (*flags, True), tuple(out), errors, bounds)
    return errors


def _zeros_view(n: int, dtype: Any) -> Any:
    """``n`` zeros as a read-only view of one (as ``ParameterColumns.column`` gives)."""
    return np.broadcast_to(np.zeros(1, dtype=dtype), (n,))


def _int64s(n: int) -> IntArray:
    return np.empty(n, dtype=np.int64)


def _ints(column: npt.NDArray[Any]) -> IntArray:
    """The column as contiguous int64 (a view when it already is; the kernel reads it once)."""
    return np.ascontiguousarray(column, dtype=np.int64)


def _overrides(
    coefficient: list[Fraction | None] | None, n: int
) -> tuple[IntArray, IntArray, npt.NDArray[np.bool_]] | None:
    if coefficient is None:
        return None
    return (
        np.array([0 if k is None else k.numerator for k in coefficient], dtype=np.int64),
        np.array([1 if k is None else k.denominator for k in coefficient], dtype=np.int64),
        np.array([k is not None for k in coefficient], dtype=np.bool_).reshape(n),
    )


def _raise_first(errors: IntArray, cases: PensionCases, n: int) -> None:
    """The error the numpy formula raised first, for the first case it concerns."""
    if int(errors[NEGATIVE_YEARS]) < n:
        raise AssertionError("pension components and years are never negative")
    for kind, what in ((BASIC_TOO_LARGE, "basic pension"), (NO_COEFFICIENT, ""),
                       (TRANSITIONAL_TOO_LARGE, "transitional pension")):  # fmt: skip
        i = int(errors[kind])
        if i >= n:
            continue
        if kind == NO_COEFFICIENT:
            raise InvalidInput(
                f"case {i}: deemed years are given but region {cases.region[i]} has no"
                " transitional coefficient (过渡系数) in the parameters; give"
                " transitional_coefficient"
            )
        raise InvalidInput(f"case {i}: {what} inputs too large for exact integer arithmetic")
    if int(errors[NEGATIVE_COMPONENT]) < n:
        raise AssertionError("pension components and years are never negative")
    i = int(errors[NO_EARLY_RATE])
    if i < n:
        raise InvalidInput(
            f"case {i}: early actual years are given but region {cases.region[i]} pays no"
            " transitional part for them (pension.transitional.early_actual_rate); count them"
            " as the region does (in deemed_years, as 建账前年限)"
        )
    i = int(errors[NO_PHASE_IN])
    if i < n:
        raise InvalidInput(PHASE_IN_MISSING.format(case=i, region=cases.region[i]))
    i = int(errors[NO_INCREASE])
    if i < n:
        raise InvalidInput(INCREASE_MISSING.format(case=i, region=cases.region[i]))
    i = int(errors[STATUS_TOO_LARGE])
    if i < n:
        raise InvalidInput(STATUS_TOO_LARGE_TEXT.format(case=i))


PHASE_IN_MISSING = (
    "case {case}: old_transitional_yuan is given but region {region} does not compare the"
    " transitional pension with an original method on this date"
    " (pension.transitional.phase_in_rate: 江苏 from 2024, 深圳 from 2023-05); leave it out"
)


INCREASE_MISSING = (
    "case {case}: increase_rate or increase_fixed_yuan is given but region {region} pays no"
    " 增发 on the indexed wage on this date (pension.extra.increase_on_indexed_wage: 四川);"
    " leave them out"
)
STATUS_TOO_LARGE_TEXT = "case {case}: personal add-on inputs too large for exact integer arithmetic"


class PairParameters(NamedTuple):
    """Every parameter the kernel reads, as one int64 or bool array indexed by pair."""

    index_step: IntArray  # the index is rounded to a multiple of this, in 1/10^6
    index_multiplier: IntArray  # and is then this many 1/index_scale
    unit_fen: IntArray
    mode: IntArray  # HALF_UP, UP, DOWN or UP_FROM_FEN
    years_unit: IntArray  # in 1/YEARS_SCALE year
    years_mode: IntArray
    rate_year: IntArray  # accrual per full year, over accrual_den
    per_step: IntArray  # accrual per leftover step, over accrual_den
    step: IntArray  # leftover counted in months (MONTH_IN_YEARS_SCALE) or in 1/YEARS_SCALE
    accrual_den: IntArray
    t_num: IntArray  # low-index threshold t_num / t_den (0 / 1 where there is none)
    t_den: IntArray
    flat_province: npt.NDArray[np.bool_]
    index_province: npt.NDArray[np.bool_]
    t_province: npt.NDArray[np.bool_]
    w_flat: IntArray  # transitional weights, over w_den
    w_index: IntArray
    w_den: IntArray
    coef_num: IntArray  # 过渡系数 (0 / 1 where absent)
    coef_den: IntArray
    coef_has: npt.NDArray[np.bool_]
    long_num: IntArray  # long-service 过渡系数 (吉林)
    long_den: IntArray
    long_has: npt.NDArray[np.bool_]  # and its threshold is set
    long_years: IntArray  # in 1/YEARS_SCALE year
    a_step: IntArray  # the low-index a is rounded half up to a multiple of this / index_scale
    index_scale: IntArray  # the index is held in 1/index_scale: 10^max(4, index decimals)
    early_num: IntArray  # rate per early actual year (北京 G实 1%; 0 / 1 where absent)
    early_den: IntArray
    early_has: npt.NDArray[np.bool_]
    # 长缴增发 (吉林): thresholds in 1/YEARS_SCALE year and rates over x_den, EXTRA_BRACKETS
    # of each (rate 0: no bracket); x_has: the pair pays it
    x_y1: IntArray
    x_y2: IntArray
    x_y3: IntArray
    x_r1: IntArray
    x_r2: IntArray
    x_r3: IntArray
    x_den: IntArray
    x_has: npt.NDArray[np.bool_]
    # 过渡调节金 (浙江): fixed part in fen, amount per index-year as adj_num / adj_den fen;
    # 养老金补贴 in fen; the top-up unit in fen (0: none); add_has: the pair pays any of them
    adj_fixed: IntArray
    adj_num: IntArray
    adj_den: IntArray
    adj_has: npt.NDArray[np.bool_]
    subsidy: IntArray
    top_up: IntArray
    add_has: npt.NDArray[np.bool_]
    # the share of the new method's excess over the original one paid (江苏), phase_num /
    # phase_den (0 / 1 where absent), and the unit in fen the excess and the paid share are
    # raised to
    phase_num: IntArray
    phase_den: IntArray
    phase_has: npt.NDArray[np.bool_]
    phase_unit: IntArray
    # the lowest transitional index used (内蒙古 1), in 1/index_scale of the pair; t_floor_has:
    # the pair has one
    t_floor: IntArray
    t_floor_has: npt.NDArray[np.bool_]
    # 四川 增发 on the indexed wage (its rate and fixed amount per case); the 独生子女 add-on's
    # rate oc_num / oc_den (0 / 1 where absent) on the three pensions, or on oc_base fen
    # where the region sets an amount (云南; -1: none)
    increase_has: npt.NDArray[np.bool_]
    oc_num: IntArray
    oc_den: IntArray
    oc_has: npt.NDArray[np.bool_]
    oc_base: IntArray
    # 缴费年限津贴 (广东): fen per whole contribution year, in the part beside the three
    # components (0: none); a pair with it has add_has
    per_year: IntArray
    # the unit in fen the indexed wage B · Ī (and B_t · Ī_t) is rounded to, half up, before
    # use (山东, 吉林, 湖北: 1); 0: exact
    wage_unit: IntArray


def _pair_parameters(g: ParameterColumns) -> PairParameters:
    """The parameters of each distinct (date, region) pair, checked and as exact integers."""
    codes = {Rounding.HALF_UP: HALF_UP, Rounding.UP: UP, Rounding.DOWN: DOWN}
    decimals = [_index_decimals(v) for v in g.distinct("index_decimals")]
    scale_decimals = [max(4, d) for d in decimals]
    years_unit = [_years_unit(v) for v in g.distinct("years_unit")]
    r_year = [Fraction(v) for v in g.distinct("rate_year")]
    r_month = [Fraction(v) for v in g.distinct("rate_month")]
    # leftover is counted in steps of `step` (1/YEARS_SCALE years): a month if the unit allows
    step = [MONTH_IN_YEARS_SCALE if u % MONTH_IN_YEARS_SCALE == 0 else 1 for u in years_unit]
    per_step = [r * s / MONTH_IN_YEARS_SCALE for r, s in zip(r_month, step, strict=True)]
    accrual_den = [lcm(r.denominator, s.denominator) for r, s in zip(r_year, per_step, strict=True)]
    thresholds = [Fraction(v) for v in g.distinct("low_index_threshold")]
    w_flat = [Fraction(v) for v in g.distinct("transitional_flat_weight")]
    w_index = [Fraction(v) for v in g.distinct("transitional_index_weight")]
    w_den = [lcm(a.denominator, b.denominator) for a, b in zip(w_flat, w_index, strict=True)]
    num, den, has = _parts(g.distinct("transitional_coefficient"))
    long_num, long_den, long_has = _parts(g.distinct("long_service_coefficient"))
    early_num, early_den, early_has = _parts(g.distinct("early_rate"))
    long_years = [
        None if v is None else Fraction(v) * YEARS_SCALE for v in g.distinct("long_service_years")
    ]
    if any(t is not None and t.denominator != 1 for t in long_years):
        raise ParameterError(
            "pension.transitional.long_service_actual_years_min must be a multiple of 1/30000"
        )

    def ints(values: list[Any]) -> IntArray:
        return np.array(values, dtype=np.int64).reshape(len(values))

    x_years, x_rates, x_den = _extra_brackets(g.distinct("extra_rates"))
    adj_fixed, adj_per_year = _adjustments(
        g.distinct("adjustment_fixed"), g.distinct("adjustment_per_index_year")
    )
    subsidy = [_whole_fen(v, "pension.extra.subsidy") for v in g.distinct("subsidy")]
    per_year = [
        _whole_fen(v, "pension.extra.per_whole_year") or 0 for v in g.distinct("per_whole_year")
    ]
    top_up = [_unit_fen("top_up_unit", v) for v in g.distinct("top_up_unit")]
    phase_rate, phase_unit = _phase_in_parameters(
        g.distinct("phase_in_rate"), g.distinct("phase_in_unit")
    )
    t_floor = _index_floors(g.distinct("transitional_index_floor"), scale_decimals)
    oc_num, oc_den, oc_has = _parts(g.distinct("only_child_rate"))
    oc_base = [
        _whole_fen(v, "pension.extra.only_child_base_yuan") for v in g.distinct("only_child_base")
    ]

    def flags(values: list[Any]) -> npt.NDArray[np.bool_]:
        return np.array([bool(v) for v in values], dtype=np.bool_).reshape(len(values))

    return PairParameters(
        index_step=ints([10 ** (INDEX_DECIMALS_MAX - d) for d in decimals]),
        index_multiplier=ints(
            [10 ** (s - d) for d, s in zip(decimals, scale_decimals, strict=True)]
        ),
        unit_fen=ints([int(v) for v in g.distinct("rounding_unit_fen")]),
        mode=ints([_component_mode(str(m)) for m in g.distinct("rounding_mode")]),
        years_unit=ints(years_unit),
        years_mode=ints([codes[Rounding(str(m))] for m in g.distinct("years_mode")]),
        rate_year=ints([int(r * d) for r, d in zip(r_year, accrual_den, strict=True)]),
        per_step=ints([int(r * d) for r, d in zip(per_step, accrual_den, strict=True)]),
        step=ints(step),
        accrual_den=ints(accrual_den),
        t_num=ints([t.numerator for t in thresholds]),
        t_den=ints([t.denominator for t in thresholds]),
        flat_province=flags(g.distinct("flat_province")),
        index_province=flags(g.distinct("index_province")),
        t_province=flags(g.distinct("transitional_province")),
        w_flat=ints([int(w * d) for w, d in zip(w_flat, w_den, strict=True)]),
        w_index=ints([int(w * d) for w, d in zip(w_index, w_den, strict=True)]),
        w_den=ints(w_den),
        coef_num=ints(num),
        coef_den=ints(den),
        coef_has=flags(has),
        long_num=ints(long_num),
        long_den=ints(long_den),
        long_has=flags([a and t is not None for a, t in zip(long_has, long_years, strict=True)]),
        long_years=ints([0 if t is None else int(t) for t in long_years]),
        a_step=ints(
            [
                _a_step(v, s)
                for v, s in zip(g.distinct("low_index_decimals"), scale_decimals, strict=True)
            ]
        ),
        index_scale=ints([10**s for s in scale_decimals]),
        early_num=ints(early_num),
        early_den=ints(early_den),
        early_has=flags(early_has),
        **{f"x_y{k + 1}": ints([b[k] for b in x_years]) for k in range(EXTRA_BRACKETS)},
        **{f"x_r{k + 1}": ints([r[k] for r in x_rates]) for k in range(EXTRA_BRACKETS)},
        x_den=ints(x_den),
        x_has=flags([any(r) for r in x_rates]),
        adj_fixed=ints([0 if f is None else f for f in adj_fixed]),
        adj_num=ints([0 if m is None else m.numerator for m in adj_per_year]),
        adj_den=ints([1 if m is None else m.denominator for m in adj_per_year]),
        adj_has=flags([m is not None for m in adj_per_year]),
        subsidy=ints([0 if s is None else s for s in subsidy]),
        top_up=ints(top_up),
        add_has=flags(
            [
                m is not None or bool(s) or u > 1 or y > 0
                for m, s, u, y in zip(adj_per_year, subsidy, top_up, per_year, strict=True)
            ]
        ),
        phase_num=ints([0 if r is None else r.numerator for r in phase_rate]),
        phase_den=ints([1 if r is None else r.denominator for r in phase_rate]),
        phase_has=flags([r is not None for r in phase_rate]),
        phase_unit=ints(phase_unit),
        t_floor=ints([0 if f is None else f for f in t_floor]),
        t_floor_has=flags([f is not None for f in t_floor]),
        increase_has=flags(g.distinct("increase")),
        oc_num=ints(oc_num),
        oc_den=ints(oc_den),
        oc_has=flags(oc_has),
        oc_base=ints([-1 if b is None else b for b in oc_base]),
        per_year=ints(per_year),
        wage_unit=ints([_unit_fen("wage_unit", v) for v in g.distinct("wage_unit")]),
    )


def _index_floors(values: list[Any], scale_decimals: list[int]) -> list[int | None]:
    """Per pair, the transitional index floor in 1/10^scale_decimals (the pair's index
    scale), or None where the region has none; it must be exact at that scale and ≥ 0."""
    floors: list[int | None] = []
    for value, decimals in zip(values, scale_decimals, strict=True):
        if value is None:
            floors.append(None)
            continue
        scaled = Fraction(value) * 10**decimals
        if scaled.denominator != 1 or scaled < 0:
            raise ParameterError(
                "pension.transitional.index_floor must be ≥ 0 with at most"
                f" {decimals} decimals, got {value!r}"
            )
        floors.append(int(scaled))
    return floors


def _phase_in_parameters(
    rates: list[Any], units: list[Any]
) -> tuple[list[Fraction | None], list[int]]:
    """Per pair, the share of the new method's excess paid (an exact fraction from 0 to 1, or
    None where the region compares no original method) and the unit in fen the excess and the
    paid share are raised to (1 where absent); the two are given together."""
    shares: list[Fraction | None] = []
    unit_fen: list[int] = []
    for rate, unit in zip(rates, units, strict=True):
        if (rate is None) != (unit is None):
            raise ParameterError(
                "pension.transitional.phase_in_rate and phase_in_unit_fen are given together"
                " (a region that compares an original method raises the paid share to a unit)"
            )
        share = None if rate is None else Fraction(rate)
        if share is not None and not 0 <= share <= 1:
            raise ParameterError("pension.transitional.phase_in_rate must be from 0 to 1")
        if unit is not None and (int(unit) != unit or int(unit) < 1):
            raise ParameterError(
                "pension.transitional.phase_in_unit_fen must be a whole number of fen ≥ 1,"
                f" got {unit!r}"
            )
        shares.append(share)
        unit_fen.append(1 if unit is None else int(unit))
    return shares, unit_fen


def _adjustments(
    fixed: list[Any], per_year: list[Any]
) -> tuple[list[int | None], list[Fraction | None]]:
    """Per pair, the 过渡调节金's fixed part in whole fen and its amount per index-year in fen
    (an exact fraction), or None where the pair pays none; both are given or neither."""
    fixed_fen: list[int | None] = []
    per_year_fen: list[Fraction | None] = []
    for f, m in zip(fixed, per_year, strict=True):
        if (f is None) != (m is None):
            raise ParameterError(
                "pension.extra.adjustment_fixed and adjustment_per_index_year are given"
                " together (a region with one has the other)"
            )
        fixed_fen.append(None if f is None else _whole_fen(f, "pension.extra.adjustment_fixed"))
        if m is not None and Fraction(m) < 0:
            raise ParameterError("pension.extra.adjustment_per_index_year must be ≥ 0")
        per_year_fen.append(None if m is None else Fraction(m) * 100)
    return fixed_fen, per_year_fen


def _whole_fen(value: Any, name: str) -> int | None:
    """A yuan amount as whole fen (None where absent)."""
    if value is None:
        return None
    fen = Fraction(value) * 100
    if fen.denominator != 1 or fen < 0:
        raise ParameterError(f"{name} must be a whole number of fen ≥ 0, got {value!r}")
    return int(fen)


def _unit_fen(key: str, value: Any) -> int:
    """A unit in fen that an amount is rounded or raised to (0 where the region has none):
    the total's (``top_up_unit``), the indexed wage's (``wage_unit``)."""
    if value is None:
        return 0
    if int(value) != value or int(value) < 1:
        raise ParameterError(f"{PARAMETERS[key]} must be a whole number of fen ≥ 1, got {value!r}")
    return int(value)


def _extra_brackets(
    values: list[Any],
) -> tuple[list[list[int]], list[list[int]], list[int]]:
    """Per pair, the 长缴增发 thresholds (1/YEARS_SCALE year), rates (over a common
    denominator) and that denominator, padded to EXTRA_BRACKETS with rate 0."""
    years: list[list[int]] = []
    rates: list[list[int]] = []
    dens: list[int] = []
    name = "pension.basic.long_service_extra_rate"
    for value in values:
        brackets = sorted((Fraction(k), Fraction(v)) for k, v in dict(value or {}).items())
        if len(brackets) > EXTRA_BRACKETS:
            raise ParameterError(f"{name} has at most {EXTRA_BRACKETS} brackets")
        if any((t * YEARS_SCALE).denominator != 1 or t < 0 or r < 0 for t, r in brackets):
            raise ParameterError(f"{name}: thresholds are years ≥ 0 (a multiple of 1/30000)")
        den = lcm(1, *(r.denominator for _, r in brackets))
        pad = EXTRA_BRACKETS - len(brackets)
        years.append([int(t * YEARS_SCALE) for t, _ in brackets] + [0] * pad)
        rates.append([int(r * den) for _, r in brackets] + [0] * pad)
        dens.append(den)
    return years, rates, dens


def _index_decimals(value: Any) -> int:
    """The decimals the region keeps of the index: a whole number from 0 to 6."""
    if int(value) != value or not 0 <= int(value) <= INDEX_DECIMALS_MAX:
        raise ParameterError(
            f"pension.index_decimals must be a whole number from 0 to {INDEX_DECIMALS_MAX},"
            f" got {value!r}"
        )
    return int(value)


def _a_step(decimals: Any, scale_decimals: int = 4) -> int:
    """The low-index coefficient a is kept to ``decimals`` (广东 prints it to 4), or exact;
    the step is in 1/10^scale_decimals, the pair's index scale."""
    if decimals is None:
        return 0
    if int(decimals) != decimals or not 0 <= int(decimals) <= 4:
        raise ParameterError(
            "pension.basic.low_index_coefficient_decimals must be a whole number from 0 to 4"
        )
    return int(10 ** (scale_decimals - int(decimals)))


COMPONENT_MODES = {
    Rounding.HALF_UP.value: HALF_UP,
    Rounding.UP.value: UP,
    Rounding.DOWN.value: DOWN,
    UP_FROM_FEN_NAME: UP_FROM_FEN,
}


def _component_mode(name: str) -> int:
    """A component's rounding mode: a ``Rounding`` or 见分进角 (cut to the fen, then up)."""
    if name not in COMPONENT_MODES:
        raise ParameterError(
            f"pension.rounding_mode must be one of {', '.join(COMPONENT_MODES)}, got {name!r}"
        )
    return COMPONENT_MODES[name]


def _years_unit(value: Any) -> int:
    scaled = Fraction(value) * YEARS_SCALE
    if scaled.denominator != 1 or scaled <= 0:
        raise ParameterError(
            f"pension.years.rounding_unit_years must be a multiple of 1/{YEARS_SCALE} year"
        )
    return int(scaled)


def _divisor(cases: PensionCases, g: ParameterColumns) -> IntArray:
    if len(cases) == 0 or int(cases.divisor_tenths.min()) >= 0:  # no pass of temporaries
        return cases.divisor_tenths
    given = cases.divisor_tenths >= 0
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
        g.distinct("divisor_table"),
        [str(r) for r in g.distinct("divisor_rule")],
        decimals,
        g.pair_of_case,
        age,
    )
    return np.where(given, cases.divisor_tenths, derived)


DIVISOR_PARAMETERS = {
    k: PARAMETERS[k] for k in ("divisor_table", "divisor_rule", "divisor_decimals")
}


def table_divisors(
    policy: Policy, days: IntArray, regions: npt.NDArray[Any], age_months: IntArray
) -> IntArray:
    """The 计发月数 of the table (× 10) at each age, by the rule of each case's day and region,
    as the formula derives it where no divisor is given; -1 where the table has no row for the
    age (before its youngest age, after its oldest)."""
    g = policy.look_up(days, regions, DIVISOR_PARAMETERS)
    low, high = (f(int(a) for a in g.distinct("divisor_table")[0]) for f in (min, max))
    inside = (age_months >= low * 12) & (age_months <= high * 12)
    out = np.full(len(age_months), -1, dtype=np.int64)
    if bool(np.any(inside)):
        out[inside] = divisor_tenths(
            g.distinct("divisor_table"),
            [str(r) for r in g.distinct("divisor_rule")],
            [int(d) for d in g.distinct("divisor_decimals")],
            g.pair_of_case[inside],
            age_months[inside],
        )
    return out


@dataclass(frozen=True)
class Coefficients:
    """过渡系数 per case as exact fractions (numerator / denominator; absent where 0 / 1).

    Most batches have one coefficient per (date, region) pair: then the per-case arrays are
    only built when read (an explanation reads one case through ``[i]``). Where a case can
    differ from its pair (吉林's long-service coefficient, an override), they are given.
    """

    pair_numerator: IntArray
    pair_denominator: IntArray
    pair_present: npt.NDArray[np.bool_]
    pair_of_case: npt.NDArray[np.intp]
    per_case: tuple[IntArray, IntArray, npt.NDArray[np.bool_]] | None = None

    @cached_property
    def numerator(self) -> IntArray:
        numerator: IntArray = self._column(0, self.pair_numerator)
        return numerator

    @cached_property
    def denominator(self) -> IntArray:
        denominator: IntArray = self._column(1, self.pair_denominator)
        return denominator

    @cached_property
    def present(self) -> npt.NDArray[np.bool_]:
        present: npt.NDArray[np.bool_] = self._column(2, self.pair_present)
        return present

    def _column(self, part: int, per_pair: Any) -> Any:
        if self.per_case is not None:
            return self.per_case[part]
        return per_pair[self.pair_of_case]

    def __getitem__(self, i: int) -> Fraction | None:
        if self.per_case is not None:
            numerator, denominator, present = (int(a[i]) for a in self.per_case)
        else:
            pair = int(self.pair_of_case[i])
            numerator, denominator = (
                int(self.pair_numerator[pair]),
                int(self.pair_denominator[pair]),
            )
            present = int(self.pair_present[pair])
        if not present:
            return None
        return Fraction(numerator, denominator)


def _parts(values: list[Any]) -> tuple[list[int], list[int], list[bool]]:
    fractions = [None if v is None else Fraction(v) for v in values]
    return (
        [0 if f is None else f.numerator for f in fractions],
        [1 if f is None else f.denominator for f in fractions],
        [f is not None for f in fractions],
    )
