"""The pension formula as it was before issue 10 §6 made it fast: the reference of the new one.

A verbatim copy of ``compute_pensions`` and its helpers from ``suiren.policy.pension`` at
commit 3f8dac3, with its own result type (``PensionCases`` is imported from there). Test-only: ``test_pension_fast.py`` asserts the production formula gives
the same integers on varied cases. Never imported by production code.

Changed since: an index may be kept to five or six decimals (issue 10 §2); it is then held
in 1/10^d instead of 1/10^4, a per-case ``scale`` in place of the constant INDEX_SCALE.
And a region may pay a transitional part for actual years of an early period (北京 G实,
issue 10 §2): B_t · Ī_e · early years · r_e, added to the deemed-years ratio over their least
common denominator before the one rounding (``_with_early``). And a region may pay a
长缴增发 (吉林, issue 10 §2): the basic pension's own base (B_flat · a + W) / 2 times the rate
of each bracket of years above 20 / 25 / 30 (``_extra``), rounded once, in the total.
And a region may pay a 过渡调节金 F + Ī · N · m rounded once, a fixed 养老金补贴 and a top-up of
the total to a multiple of a unit (浙江 见分进角补足, issue 10 §2: ``_additions``), in the same
part beside the three components, with 广东's 缴费年限津贴 (an amount × whole contribution years).
And where a case gives its transitional pension by the
region's original method (江苏 原办法, issue 10 §2), the rounded transitional pension is
compared with it: the original amount plus the year's share of the excess raised to the unit,
cut to the fen and raised to the unit again, or the original amount where the new one is not
above it (``_phase_in``).
And a region may floor the transitional index (内蒙古 from 2025-09: 1, issue 10 §2): in the
deemed-years part a lower Ī_t is raised to the floor (``_transitional``); the Ī_t reported
stays the rounded one. And where a case gives its printed indexed wage W and its Ī_t is its Ī
(as given) on the index term's base, B_t · Ī_t is W there too, unless the floor applies (新疆).
And where a case gives a personal status (issue 10 §2), its add-ons are in the part beside the
three components, before any top-up: 四川's 增发 W × r × N (W the basic pension's indexed wage,
r per case) rounded like a component plus its fixed amount, and the 独生子女 add-on, the
region's rate of the three pensions (or of its set amount) rounded like a component
(``_status``).
And a region may round the indexed wage B · Ī (and B_t · Ī_t) half up to a unit before using
it (山东, 吉林, 湖北: the fen, ``pension.indexed_wage_unit_fen``; ``_rounded_wage``), where the case
gives no printed one.
Fixed since: 见分进角 (``up_from_fen``) is rounded without doubling the numerator, which wrapped
below zero near the int64 headroom (``_round_component``), as the kernel always did.
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
from suiren.policy.pension import (
    INCREASE_MISSING,
    MONTH_IN_YEARS_SCALE,
    NUMERATOR_MAX,
    OPTIONAL,
    PARAMETERS,
    PHASE_IN_MISSING,
    STATUS_TOO_LARGE_TEXT,
    UP_FROM_FEN_NAME,
    YEARS_SCALE,
    PensionCases,
)
from suiren.policy.retirement import divisor_tenths
from suiren.rules.vector import ParameterColumns

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class PensionResult:
    """Components in fen and every intermediate an explanation needs."""

    basic_fen: IntArray
    account_pension_fen: IntArray
    transitional_fen: IntArray
    total_fen: IntArray
    index_scaled: IntArray
    transitional_index_scaled: IntArray
    index_scale: IntArray
    years: IntArray
    deemed_years: IntArray
    low_index: npt.NDArray[np.bool_]
    divisor_tenths: IntArray
    unit_fen: IntArray
    coefficient: Coefficients
    parameters: ParameterColumns
    early_years: IntArray | None = None
    early_index_scaled: IntArray | None = None
    extra_fen: IntArray | None = None
    top_up_fen: IntArray | None = None
    transitional_new_fen: IntArray | None = None
    increase_fen: IntArray | None = None
    only_child_fen: IntArray | None = None


def reference_pensions(policy: Policy, cases: PensionCases) -> PensionResult:
    """``compute_pensions`` as of commit 3f8dac3."""
    g = policy.look_up(cases.day, cases.region, PARAMETERS, OPTIONAL)
    unit = g.column("rounding_unit_fen", int)
    index, scale = _round_index(cases.index_1e6, g)
    t_index, _ = _round_index(cases.transitional_index_1e6, g)
    years = _round_years(cases.years, g)
    deemed = _round_years(cases.deemed_years, g)
    basic, low, (weighted, p) = _basic(cases, g, index, years, scale)
    extra = _extra(g, years, weighted, p, scale)
    divisor = _divisor(cases, g)
    account = (cases.account_fen * 10, divisor)
    coefficient = _coefficients(cases, g, years, deemed)
    transitional = _transitional(cases, g, t_index, deemed, coefficient, scale)
    transitional, early, early_index = _with_early(cases, g, transitional, deemed, scale)
    basic_fen, account_fen, transitional_fen = (
        _round_component(numerator, denominator, unit, g)
        for numerator, denominator in (basic, account, transitional)
    )
    transitional_fen, transitional_new_fen = _phase_in(cases, g, transitional_fen)
    extra_fen = None if extra is None else sum(_round_component(*part, unit, g) for part in extra)
    additions = _additions(g, index, years, scale, unit)
    top_up_fen = None
    total_fen = basic_fen + account_fen + transitional_fen + (0 if extra is None else extra_fen)
    pensions = basic_fen + account_fen + transitional_fen
    status = _status(cases, g, index, years, scale, unit, pensions)
    if status is not None:
        total_fen = total_fen + status[0] + status[1]
        extra_fen = status[0] + status[1] + (0 if extra_fen is None else extra_fen)
    if additions is not None:
        added, top = additions
        total_fen = total_fen + added
        safe = np.maximum(top, 1)
        raised = np.where(top > 1, -(-total_fen // safe) * safe, total_fen)
        if bool(np.any(top > 1)):
            top_up_fen = raised - total_fen
        added = added + raised - total_fen
        total_fen = raised
        extra_fen = added if extra_fen is None else extra_fen + added
    return PensionResult(
        basic_fen=basic_fen,
        account_pension_fen=account_fen,
        transitional_fen=transitional_fen,
        total_fen=total_fen,
        extra_fen=extra_fen,
        top_up_fen=top_up_fen,
        transitional_new_fen=transitional_new_fen,
        increase_fen=None if status is None else status[0],
        only_child_fen=None if status is None else status[1],
        index_scaled=index,
        transitional_index_scaled=t_index,
        index_scale=scale,
        years=years,
        deemed_years=deemed,
        low_index=low,
        divisor_tenths=divisor,
        unit_fen=unit,
        coefficient=coefficient,
        parameters=g,
        early_years=early,
        early_index_scaled=early_index,
    )


Ratio = tuple[IntArray, IntArray]  # an exact quotient: (numerator, denominator) per case


def _round_by_mode(
    numerator: IntArray, denominator: IntArray, g: ParameterColumns, name: str
) -> IntArray:
    """numerator / denominator (both ≥ 0) rounded by each case's mode, in one pass.

    All three modes are ⌊(2·n + c) / (2·d)⌋ with c = d (half up), 2d − 2 (up; = ⌈n/d⌉) or
    0 (down), so a per-case c replaces a masked pass per mode.
    """
    if bool(np.any(numerator < 0)):  # never for pensions or years; keep the general path
        raise AssertionError("pension components and years are never negative")
    codes = {Rounding.HALF_UP: 0, Rounding.UP: 1, Rounding.DOWN: 2}
    mode = g.column(name, lambda m: codes[Rounding(str(m))])
    c = np.where(mode == 0, denominator, np.where(mode == 1, 2 * denominator - 2, 0))
    quotient: IntArray = (2 * numerator + c) // (2 * denominator)
    return quotient


def _round_component(
    numerator: IntArray, denominator: IntArray, unit: IntArray, g: ParameterColumns
) -> IntArray:
    """numerator / denominator in fen, rounded to the region's unit by the region's mode.

    Besides the three ``Rounding`` modes, ``up_from_fen`` (见分进角) cuts to the fen and then
    rounds any fen up to the unit: c = 2·(unit − 1)·denominator in the same expression.
    """
    if bool(np.any(numerator < 0)):
        raise AssertionError("pension components and years are never negative")
    codes = {"half_up": 0, "up": 1, "down": 2, UP_FROM_FEN_NAME: 3}
    mode = g.column("rounding_mode", lambda m: codes[str(m)])
    d = denominator * unit
    c = np.where(mode == 0, d, np.where(mode == 1, 2 * d - 2, 0))
    rounded: IntArray = (2 * numerator + c) // (2 * d) * unit
    # 见分进角 without the doubling (⌊(n + (u − 1)·den) / (u·den)⌋, as the kernel does): doubled,
    # a numerator near the int64 headroom wrapped negative (a 6-decimal index at 21.75 years)
    from_fen: IntArray = (numerator + (unit - 1) * denominator) // d * unit
    return np.where(mode == 3, from_fen, rounded)


def _round_index(index_1e6: IntArray, g: ParameterColumns) -> tuple[IntArray, IntArray]:
    """The index rounded to the region's decimals, in 1/scale; and the scale per case."""
    decimals = g.column("index_decimals", int)
    if bool(np.any((decimals < 0) | (decimals > 6))):
        raise ParameterError("pension.index_decimals must be a whole number from 0 to 6")
    step = 10 ** (6 - decimals)
    scale = 10 ** np.maximum(decimals, 4)
    rounded: IntArray = divide_round(index_1e6, step) * (step * scale // 10**6)
    return rounded, scale


def _round_years(years: IntArray, g: ParameterColumns) -> IntArray:
    def unit_of(value: Fraction) -> int:
        scaled = Fraction(value) * YEARS_SCALE
        if scaled.denominator != 1 or scaled <= 0:
            raise ParameterError(
                f"pension.years.rounding_unit_years must be a multiple of 1/{YEARS_SCALE} year"
            )
        return int(scaled)

    unit = g.column("years_unit", unit_of)
    rounded: IntArray = _round_by_mode(years, unit, g, "years_mode") * unit
    return rounded


def _accrual(g: ParameterColumns, years: IntArray) -> Ratio:
    """F = full_years·r_year + leftover_months·r_month as an exact ratio per case.

    Leftover years are counted in the region's years unit when it is a whole number of
    months (上海: months × 0.083%), which keeps the numerators small.
    """
    pairs = range(len(g.pairs))
    r_year = [Fraction(g.values["rate_year"][p].value) for p in pairs]
    r_month = [Fraction(g.values["rate_month"][p].value) for p in pairs]
    unit = [Fraction(g.values["years_unit"][p].value) * YEARS_SCALE for p in pairs]
    # leftover is counted in steps of `step` (1/YEARS_SCALE years): a month if the unit allows
    step = [MONTH_IN_YEARS_SCALE if u % MONTH_IN_YEARS_SCALE == 0 else 1 for u in unit]
    per_step = [r_month[p] * step[p] / MONTH_IN_YEARS_SCALE for p in pairs]
    den = [lcm(r_year[p].denominator, per_step[p].denominator) for p in pairs]

    def column(values: list[Any]) -> IntArray:
        return np.array(values, dtype=np.int64)[g.pair_of_case]

    full_years, leftover = np.divmod(years, YEARS_SCALE)
    numerator = full_years * column([int(r_year[p] * den[p]) for p in pairs]) + (
        leftover // column(step)
    ) * column([int(per_step[p] * den[p]) for p in pairs])
    return numerator, column(den)


def _rounded_wage(wage: IntArray, g: ParameterColumns, scale: IntArray) -> IntArray:
    """The indexed wage B · Ī (in 1/scale fen) rounded half up to the region's unit where it
    has one (``pension.indexed_wage_unit_fen``), else as it is; still in 1/scale fen."""
    units = [0 if v is None else int(v) for v in g.distinct("wage_unit")]
    if not any(units):
        return wage
    step = g.per_pair(units) * scale
    safe = np.maximum(step, 1)
    rounded: IntArray = np.where(step > 0, (2 * wage + safe) // (2 * safe) * safe, wage)
    return rounded


def _basic(
    cases: PensionCases, g: ParameterColumns, index: IntArray, years: IntArray, scale: IntArray
) -> tuple[Ratio, npt.NDArray[np.bool_], tuple[IntArray, Any]]:
    f_num, f_den = _accrual(g, years)
    # a = Ī / t below the threshold t = p/q (a = Ī·q/p), else 1; both over p·10^4
    thresholds = [Fraction(v) for v in g.distinct("low_index_threshold")]
    if all(t == 0 for t in thresholds):  # no low-index rule in the batch: a = 1 everywhere
        p: Any = 1
        low = np.zeros(len(index), dtype=bool)
        a_num: Any = scale
    else:
        t_num = g.per_pair([t.numerator for t in thresholds])
        t_den = g.per_pair([t.denominator for t in thresholds])
        p = np.maximum(t_num, 1)
        low = index * t_den < t_num * scale
        a_num = np.where(low, index * t_den, scale * p)
        # where the region keeps a to d decimals (广东 4): a·scale rounded to a multiple of
        # scale/10^d, half up, then over p·scale again
        steps = [0 if d is None else 10 ** (6 - int(d)) for d in g.distinct("low_index_decimals")]
        if any(steps):
            step = g.per_pair(steps) * scale // 10**6
            safe = np.maximum(step, 1)
            rounded = divide_round(index * t_den, p * safe) * safe * p
            a_num = np.where(low & (step > 0), rounded, a_num)
    b_flat = _base(g, "flat_province", cases)
    b_index = _base(g, "index_province", cases)
    wage = _rounded_wage(b_index * index, g, scale) * p
    if cases.indexed_wage_fen is not None:
        wage = np.where(cases.indexed_wage_fen >= 0, cases.indexed_wage_fen * scale * p, wage)
    weighted = b_flat * a_num + wage
    return _fit(weighted, f_num, 2 * p * scale * f_den, "basic pension"), low, (weighted, p)


def _extra(
    g: ParameterColumns, years: IntArray, weighted: IntArray, p: Any, scale: IntArray
) -> list[Ratio] | None:
    """长缴增发: per bracket k, weighted / (2·p·scale) × rate_k · (years in bracket k), each
    rounded on its own and then added (the tables print each bracket); None where no pair of
    the batch pays one. Brackets run from each threshold to the next; the last has no end."""
    tables = [dict(v or {}) for v in g.distinct("extra_rates")]
    if not any(tables):
        return None
    per_pair = [sorted((Fraction(k), Fraction(v)) for k, v in t.items()) for t in tables]
    dens = [lcm(1, *(r.denominator for _, r in b)) for b in per_pair]
    den = g.per_pair(dens)
    parts = []
    for k in range(max(len(b) for b in per_pair)):
        g_num = np.zeros(len(years), dtype=np.int64)
        for q, brackets in enumerate(per_pair):
            if k >= len(brackets):
                continue
            at = np.flatnonzero(g.pair_of_case == q)
            low, rate = brackets[k]
            start = int(low * YEARS_SCALE)
            above = np.maximum(years[at] - start, 0)
            if k + 1 < len(brackets):
                above = np.minimum(above, int(brackets[k + 1][0] * YEARS_SCALE) - start)
            g_num[at] = above * int(rate * dens[q])
        parts.append(_fit(weighted, g_num, 2 * p * scale * YEARS_SCALE * den, "basic pension"))
    return parts


def _additions(
    g: ParameterColumns, index: IntArray, years: IntArray, scale: IntArray, unit: IntArray
) -> tuple[IntArray, IntArray] | None:
    """浙江's parts beside the three components: the 过渡调节金 F + Ī · N · m (the index in
    1/scale, the years in 1/YEARS_SCALE) rounded once like a component, plus the fixed
    养老金补贴; and the unit the total is raised to (0: none). None where no pair of the
    batch has any of them."""
    fixed, per_year = g.distinct("adjustment_fixed"), g.distinct("adjustment_per_index_year")
    subsidy, top = g.distinct("subsidy"), g.distinct("top_up_unit")
    per_whole = g.distinct("per_whole_year")
    has = [m is not None for m in per_year]
    if not any(
        h or bool(s) or bool(w) or (u is not None and u > 1)
        for h, s, w, u in zip(has, subsidy, per_whole, top, strict=True)
    ):
        return None
    m = [Fraction(0) if v is None else Fraction(v) * 100 for v in per_year]
    left = index * years
    numerator, denominator = _fit(
        left,
        g.per_pair([x.numerator for x in m]),
        scale * YEARS_SCALE * g.per_pair([x.denominator for x in m]),
        "basic pension",
    )
    fixed_fen = g.per_pair([0 if v is None else int(Fraction(v) * 100) for v in fixed])
    bound = np.abs(numerator).astype(np.float64) + fixed_fen.astype(np.float64) * denominator
    if bool(np.any(bound >= NUMERATOR_MAX)):
        bad = int(np.flatnonzero(bound >= NUMERATOR_MAX)[0])
        raise InvalidInput(
            f"case {bad}: basic pension inputs too large for exact integer arithmetic"
        )
    adjustment = _round_component(numerator + fixed_fen * denominator, denominator, unit, g)
    adjustment = np.where(g.per_pair(has, bool), adjustment, 0)
    subsidy_fen = g.per_pair([0 if v is None else int(Fraction(v) * 100) for v in subsidy])
    top_fen = g.per_pair([0 if v is None else int(v) for v in top])
    # 缴费年限津贴 (广东): the amount per whole year times the whole years (deemed included)
    per_whole_fen = g.per_pair([0 if v is None else int(Fraction(v) * 100) for v in per_whole])
    return adjustment + subsidy_fen + per_whole_fen * (years // YEARS_SCALE), top_fen


def _status(
    cases: PensionCases,
    g: ParameterColumns,
    index: IntArray,
    years: IntArray,
    scale: IntArray,
    unit: IntArray,
    pensions: IntArray,
) -> tuple[IntArray, IntArray] | None:
    """The add-ons of a personal status the case gives: 四川's 增发 W × r × N + fixed (W = the
    indexed wage as the basic pension uses it, B_index · Ī or the printed one; r in 1/10^6;
    N the rounded years), refused where the region pays none; the 独生子女 add-on, the
    region's rate of the three pensions or of its set amount. None where no case gives a
    status."""
    columns = (cases.increase_rate_1e6, cases.increase_fixed_fen, cases.only_child)
    if not any(c is not None and bool(np.any(c >= 0)) for c in columns):
        return None
    n = len(index)
    rate, fixed, child = (np.full(n, -1, dtype=np.int64) if c is None else c for c in columns)
    given = (rate >= 0) | (fixed >= 0)
    pays = g.per_pair([v is not None and bool(v) for v in g.distinct("increase")], bool)
    if bool(np.any(given & ~pays)):
        i = int(np.flatnonzero(given & ~pays)[0])
        raise InvalidInput(INCREASE_MISSING.format(case=i, region=cases.region[i]))
    wage = _rounded_wage(_base(g, "index_province", cases) * index, g, scale)  # in 1/scale fen
    if cases.indexed_wage_fen is not None:
        wage = np.where(cases.indexed_wage_fen >= 0, cases.indexed_wage_fen * scale, wage)
    r = np.maximum(rate, 0)
    common = np.gcd(r, 10**6)
    numerator, denominator = _fit(  # refused as STATUS_TOO_LARGE_TEXT says
        wage, r // common * years, scale * (10**6 // common) * YEARS_SCALE, "personal add-on"
    )
    increase = _round_component(numerator, denominator, unit, g) + np.maximum(fixed, 0)
    increase = np.where(given, increase, 0)
    rates = [None if v is None else Fraction(v) for v in g.distinct("only_child_rate")]
    bases = [None if v is None else int(Fraction(v) * 100) for v in g.distinct("only_child_base")]
    has = g.per_pair([r is not None for r in rates], bool)
    num = g.per_pair([0 if r is None else r.numerator for r in rates])
    den = g.per_pair([1 if r is None else r.denominator for r in rates])
    of = g.per_pair([-1 if b is None else b for b in bases])
    of = np.where(of >= 0, of, pensions)
    paid = (child == 1) & has
    large = paid & (of.astype(np.float64) * num.astype(np.float64) >= NUMERATOR_MAX)
    if bool(np.any(large)):
        raise InvalidInput(STATUS_TOO_LARGE_TEXT.format(case=int(np.flatnonzero(large)[0])))
    amount = np.where(paid, _round_component(of * num, den, unit, g), 0)
    return increase, amount


def _phase_in(
    cases: PensionCases, g: ParameterColumns, transitional: IntArray
) -> tuple[IntArray, IntArray | None]:
    """Where a case gives its original-method amount O (江苏 原办法): O + the excess of the
    rounded transitional pension T over it, raised to the unit u, × the year's share s, cut
    to the fen and raised to u again, or O where T is not above it; and T as computed (-1
    elsewhere). None where no case gives one."""
    old = cases.old_transitional_fen
    if old is None or not bool(np.any(old >= 0)):
        return transitional, None
    rates = [None if v is None else Fraction(v) for v in g.distinct("phase_in_rate")]
    units = [1 if v is None else int(v) for v in g.distinct("phase_in_unit")]
    given = old >= 0
    missing = given & ~g.per_pair([r is not None for r in rates], bool)
    if bool(np.any(missing)):
        i = int(np.flatnonzero(missing)[0])
        raise InvalidInput(PHASE_IN_MISSING.format(case=i, region=cases.region[i]))
    num = g.per_pair([0 if r is None else r.numerator for r in rates])
    den = g.per_pair([1 if r is None else r.denominator for r in rates])
    unit = g.per_pair(units)
    excess = -(-np.maximum(transitional - old, 0) // unit) * unit  # up to the unit first
    too_large = given & (excess.astype(np.float64) * num.astype(np.float64) >= NUMERATOR_MAX)
    if bool(np.any(too_large)):
        i = int(np.flatnonzero(too_large)[0])
        raise InvalidInput(
            f"case {i}: transitional pension inputs too large for exact integer arithmetic"
        )
    fen = excess * num // den  # cut to the fen, then up to the unit
    paid = old + -(-fen // unit) * unit
    return np.where(given, paid, transitional), np.where(given, transitional, -1)


def _base(g: ParameterColumns, flag: str, cases: PensionCases) -> IntArray:
    """The provincial or the local base by the region's flag (no pass if all agree)."""
    flags = [bool(v) for v in g.distinct(flag)]
    if not any(flags):
        return cases.base_fen
    if all(flags):
        return cases.province_base_fen
    chosen: IntArray = np.where(g.column(flag, bool, bool), cases.province_base_fen, cases.base_fen)
    return chosen


def _divisor(cases: PensionCases, g: ParameterColumns) -> IntArray:
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
        g.distinct("divisor_table"),
        [str(r) for r in g.distinct("divisor_rule")],
        decimals,
        g.pair_of_case,
        age,
    )
    return np.where(given, cases.divisor_tenths, derived)


@dataclass(frozen=True)
class Coefficients:
    """过渡系数 per case as exact fractions (numerator / denominator; absent where 0 / 1)."""

    numerator: IntArray
    denominator: IntArray
    present: npt.NDArray[np.bool_]

    def __getitem__(self, i: int) -> Fraction | None:
        if not bool(self.present[i]):
            return None
        return Fraction(int(self.numerator[i]), int(self.denominator[i]))


def _parts(values: list[Any]) -> tuple[list[int], list[int], list[bool]]:
    fractions = [None if v is None else Fraction(v) for v in values]
    return (
        [0 if f is None else f.numerator for f in fractions],
        [1 if f is None else f.denominator for f in fractions],
        [f is not None for f in fractions],
    )


def _coefficients(
    cases: PensionCases, g: ParameterColumns, years: IntArray, deemed: IntArray
) -> Coefficients:
    """过渡系数 per case: the override, or the region's, or its long-service value (吉林)."""
    num, den, has = _parts(g.distinct("transitional_coefficient"))
    long_num, long_den, long_has = _parts(g.distinct("long_service_coefficient"))
    thresholds = [
        None if v is None else Fraction(v) * YEARS_SCALE for v in g.distinct("long_service_years")
    ]
    if any(t is not None and t.denominator != 1 for t in thresholds):
        raise ParameterError(
            "pension.transitional.long_service_actual_years_min must be a multiple of 1/30000"
        )
    threshold = [0 if t is None else int(t) for t in thresholds]
    use_long = g.per_pair(
        [a and t is not None for a, t in zip(long_has, thresholds, strict=True)], bool
    ) & ((years - deemed) > g.per_pair(threshold))
    numerator = np.where(use_long, g.per_pair(long_num), g.per_pair(num))
    denominator = np.where(use_long, g.per_pair(long_den), g.per_pair(den))
    present = use_long | g.per_pair(has, bool)
    if cases.coefficient is not None:
        given = np.array([k is not None for k in cases.coefficient], dtype=bool)
        numerator = np.where(
            given, [0 if k is None else k.numerator for k in cases.coefficient], numerator
        )
        denominator = np.where(
            given, [1 if k is None else k.denominator for k in cases.coefficient], denominator
        )
        present = present | given
    missing = (deemed > 0) & ~present
    if bool(np.any(missing)):
        i = int(np.flatnonzero(missing)[0])
        raise InvalidInput(
            f"case {i}: deemed years are given but region {cases.region[i]} has no"
            " transitional coefficient (过渡系数) in the parameters; give"
            " transitional_coefficient"
        )
    shape = years.shape
    return Coefficients(
        np.broadcast_to(numerator, shape).astype(np.int64),
        np.broadcast_to(denominator, shape).astype(np.int64),
        np.broadcast_to(present, shape),
    )


def _transitional(
    cases: PensionCases,
    g: ParameterColumns,
    t_index: IntArray,
    deemed: IntArray,
    coefficient: Coefficients,
    scale: IntArray,
) -> Ratio:
    """B_t · (w_flat + w_index · Ī_t) · deemed_years · k as an exact ratio per case."""
    n = len(cases)
    if not bool(np.any(deemed > 0)):
        return np.zeros(n, dtype=np.int64), np.ones(n, dtype=np.int64)
    w_flat = [Fraction(v) for v in g.distinct("transitional_flat_weight")]
    w_index = [Fraction(v) for v in g.distinct("transitional_index_weight")]
    w_den = [lcm(a.denominator, b.denominator) for a, b in zip(w_flat, w_index, strict=True)]
    flat_num = g.per_pair([int(w * d) for w, d in zip(w_flat, w_den, strict=True)])
    index_num = g.per_pair([int(w * d) for w, d in zip(w_index, w_den, strict=True)])
    base = np.where(
        g.column("transitional_province", bool, bool), cases.province_base_fen, cases.base_fen
    )
    floored = np.zeros(n, dtype=bool)
    floors = [None if v is None else Fraction(v) for v in g.distinct("transitional_index_floor")]
    if any(f is not None for f in floors):
        floor_num = g.per_pair([0 if f is None else f.numerator for f in floors])
        floor_den = g.per_pair([1 if f is None else f.denominator for f in floors])
        has_floor = g.per_pair([f is not None for f in floors], bool)
        inexact = (floor_num < 0) | ((floor_num * scale) % floor_den != 0)
        if bool(np.any(has_floor & inexact)):
            raise ParameterError(
                "pension.transitional.index_floor must be exact at the index scale"
            )
        floor = floor_num * scale // floor_den
        floored = has_floor & (t_index < floor)
        t_index = np.where(floored, floor, t_index)
    weighted = base * flat_num * scale + index_num * _rounded_wage(base * t_index, g, scale)
    wage = cases.indexed_wage_fen
    if wage is not None:
        same = (
            (wage >= 0)
            & ~floored
            & (cases.transitional_index_1e6 == cases.index_1e6)
            & (base == _base(g, "index_province", cases))
        )
        weighted = np.where(same, (base * flat_num + wage * index_num) * scale, weighted)
    denominator = scale * YEARS_SCALE * coefficient.denominator * g.per_pair(w_den)
    return _fit(weighted, deemed * coefficient.numerator, denominator, "transitional pension")


def _fit(
    numerator_left: IntArray, numerator_right: IntArray, denominator: IntArray, what: str
) -> Ratio:
    """left × right / denominator as an exact ratio whose numerator fits in int64.

    Each case is checked on its own (in float64, which is only a bound here). Where the
    product would not fit, ``right / denominator`` is first reduced by their common divisor
    (years come in whole months and rates in few digits, so it usually shrinks a lot).
    """
    if len(numerator_left) == 0:
        return numerator_left * numerator_right, denominator
    left_max = max(abs(int(np.max(numerator_left))), abs(int(np.min(numerator_left))))
    right_max = max(abs(int(np.max(numerator_right))), abs(int(np.min(numerator_right))))
    if left_max * right_max < NUMERATOR_MAX:  # the whole batch fits: no per-case check needed
        return numerator_left * numerator_right, denominator
    bound = np.abs(numerator_left).astype(np.float64) * np.abs(numerator_right).astype(np.float64)
    large = bound >= NUMERATOR_MAX
    if bool(np.any(large)):
        divisor = np.where(large, np.gcd(numerator_right, denominator), 1)
        numerator_right = numerator_right // divisor
        denominator = denominator // divisor
        bound = np.abs(numerator_left).astype(np.float64) * np.abs(numerator_right).astype(
            np.float64
        )
        if bool(np.any(bound >= NUMERATOR_MAX)):
            bad = int(np.flatnonzero(bound >= NUMERATOR_MAX)[0])
            raise InvalidInput(f"case {bad}: {what} inputs too large for exact integer arithmetic")
    return numerator_left * numerator_right, denominator


def _with_early(
    cases: PensionCases,
    g: ParameterColumns,
    transitional: Ratio,
    deemed: IntArray,
    scale: IntArray,
) -> tuple[Ratio, IntArray | None, IntArray | None]:
    """The transitional ratio plus B_t · Ī_e · early years · r_e where early years are above
    zero; and the early years and index as used (rounded; -1 where not given)."""
    given = cases.early_years
    if given is None or not bool(np.any(given > 0)):
        return transitional, given, None
    assert cases.early_index_1e6 is not None
    rounded = _round_years(np.maximum(given, 0), g)
    early = np.where(given > 0, rounded, np.where(given < 0, -1, 0))
    index_1e6 = cases.early_index_1e6
    index_rounded, _ = _round_index(np.maximum(index_1e6, 0), g)
    index = np.where(index_1e6 >= 0, index_rounded, -1)
    rates = [None if v is None else Fraction(v) for v in g.distinct("early_rate")]
    has = g.per_pair([r is not None for r in rates], bool)
    with_early = early > 0
    missing = with_early & ~has
    if bool(np.any(missing)):
        i = int(np.flatnonzero(missing)[0])
        raise InvalidInput(
            f"case {i}: early actual years are given but region {cases.region[i]} pays no"
            " transitional part for them (pension.transitional.early_actual_rate); count them"
            " as the region does (in deemed_years, as 建账前年限)"
        )
    r_num = g.per_pair([0 if r is None else r.numerator for r in rates])
    r_den = g.per_pair([1 if r is None else r.denominator for r in rates])
    base = np.where(
        g.column("transitional_province", bool, bool), cases.province_base_fen, cases.base_fen
    )
    at = np.flatnonzero(with_early)
    left = base[at] * index[at]
    right = early[at] * r_num[at]
    den2 = scale[at] * YEARS_SCALE * r_den[at]
    big = np.abs(left).astype(np.float64) * np.abs(right).astype(np.float64) >= NUMERATOR_MAX
    divisor = np.where(big, np.gcd(right, den2), 1)
    right, den2 = right // divisor, den2 // divisor
    numerator, denominator = (np.asarray(a).copy() for a in transitional)
    # no deemed years: the deemed part is 0 / 1, as the kernel holds it
    num1, den1 = numerator[at], np.where(deemed[at] == 0, 1, denominator[at])
    common = np.gcd(den1, den2)
    scale1, scale2 = den2 // common, den1 // common
    product2 = left * right

    def bound(a: IntArray, b: IntArray) -> npt.NDArray[np.float64]:
        return np.abs(a).astype(np.float64) * np.abs(b).astype(np.float64)

    too_large = (
        (bound(left, right) >= NUMERATOR_MAX)
        | (bound(num1, scale1) >= NUMERATOR_MAX)
        | (bound(product2, scale2) >= NUMERATOR_MAX)
        | (bound(den1, scale1) >= NUMERATOR_MAX)
        | (bound(num1, scale1) + bound(product2, scale2) >= NUMERATOR_MAX)
    )
    if bool(np.any(too_large)):
        i = int(at[np.flatnonzero(too_large)[0]])
        raise InvalidInput(
            f"case {i}: transitional pension inputs too large for exact integer arithmetic"
        )
    numerator[at] = num1 * scale1 + product2 * scale2
    denominator[at] = den1 * scale1
    return (numerator, denominator), early, index
