"""The per-case arithmetic of the pension formula, fused into one compiled loop (numba).

``pension.compute_pensions`` turns the parameters of each distinct (date, region) pair into
small per-pair integer arrays, which ``pair_table`` lays out as one row per pair; this loop
reads each case once, looks its pair's row up by index and writes every output once. As
separate numpy passes the same formula took 14–27× the time of a bare numpy expression of the
national formula (issue 10 §6), mostly in temporary arrays; fused, it does the arithmetic of
the reference formula on the same int64 values, so the results are identical integer for
integer. The loop is compiled twice: for every batch, and for a plain one (no deemed years,
printed wages, coefficient overrides, separate transitional index, early actual years,
original-method amounts; parts beside the three components, such as 广东's 加发, stay a
flag there) with those branches removed; each compiles on its first
use. Early actual years (北京 G实) add a second transitional part, summed exactly with the
first before its one rounding (``_plus_early``). Where the region floors the transitional index
(内蒙古 from 2025-09: 1), a lower Ī_t is raised to the floor in the deemed-years part only.
Where a case gives its printed indexed wage W and its transitional index is its average index on
the same base, B_t · Ī_t there is W (新疆), as in the basic pension. Where it gives none and the
region rounds the indexed wage (山东, 吉林, 湖北: the fen), B_index · Ī and B_t · Ī_t are rounded
half up to that unit first (``_half_up_unit``). A 长缴增发 (吉林) adds up to three brackets of the basic pension's base, each
rounded on its own, to the total (``_bracket_years``); a 过渡调节金 F + Ī · N · m, rounded once
(``_adjustment``), a fixed 养老金补贴, an amount per whole contribution year (广东 缴费年限津贴)
and a top-up of the total to a multiple of the region's unit (浙江, 江苏 见分进角补足) add to the same part beside the three components. Where a case
gives its transitional pension by the region's original method (江苏 原办法, 深圳 原办法), the one
computed is compared with it (``_phase_in``): the excess, raised to the region's unit, is paid
at the year's share, raised to the unit again (江苏 the 角, 深圳 the fen). Where a case gives a personal status
(``_status_addons``: 四川's 增发 rate and fixed amount, a one-child parent), its add-ons join
that part before any top-up.

Rounding is ⌊(2·n + c) / (2·d)⌋ with c = d (half up), 2d − 2 (up) or 0 (down), as before.
A component (n / d fen, to a unit of u fen) may also be rounded up from the fen (见分进角:
cut to the fen, then any fen up to the unit): ⌊(n + (u − 1)·d) / (u·d)⌋ units. Each floor
division is exact: a float64 estimate of the quotient, corrected by the int64 remainder
(``_corrected``); the basic pension's divisor is its pair's, so its estimate multiplies by
the pair's reciprocal instead of dividing.
Failures are not raised in the loop: the first failing case of each kind is written to
``errors`` and the caller raises the same error the numpy formula raised.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

import numpy as np

from suiren.rules.vector_pairs import njit_cached

HALF_UP, UP, DOWN = 0, 1, 2  # rounding modes as the kernel reads them
UP_FROM_FEN = 3  # components only: cut to the fen, then up to the unit (见分进角)
# errors[kind] = the first failing case of that kind, or the number of cases if none
NEGATIVE_YEARS, BASIC_TOO_LARGE, NO_COEFFICIENT, TRANSITIONAL_TOO_LARGE = range(4)
NEGATIVE_COMPONENT = 4
YEARS_ROUNDED = 5  # not an error: the first case whose years the region's unit changed
NO_EARLY_RATE = 6  # early actual years where the region has no rate for them
NO_PHASE_IN = 7  # an original-method amount where the region compares none (江苏 原办法)
NO_INCREASE = 8  # a 增发 rate or amount where the region pays none (四川's only)
STATUS_TOO_LARGE = 9  # a personal add-on (增发, 独生子女) that does not fit in int64
ERROR_KINDS = 10
RATE_SCALE = 10**6  # a 增发 rate arrives in 1/10^6
NUMERATOR_MAX = 2**62  # headroom below int64
NUMERATOR_MAX_FLOAT = float(NUMERATOR_MAX)
YEARS_SCALE = 30_000  # 1/30000 year: whole months (2500) and 4 decimals (3) are exact
MONTH_IN_YEARS_SCALE = YEARS_SCALE // 12
QUOTIENT_ESTIMATE_MAX = float(2**50)  # a float64 estimate below this is within one
INDEX_STEP_COMMON = 100  # index with four decimals from six: the case worth a constant
# An index is used at its (date, region) pair's decimals d (pension.index_decimals, 0–6):
# rounded half up from 1/10^6 to a multiple of index_step = 10^(6 − d), then held in
# 1/index_scale, index_scale = 10^max(4, d) (10^4 for every region keeping at most four):
# the pair table's column P_INDEX_SCALE (issue 10 §2).
# The two constant divisors of every case, unsigned: an unsigned division by a constant is a
# multiplication and a shift, where a signed floor division adds corrections for the sign
# (about a seventh of the loop's time, in one measurement).
INDEX_DIVISOR_UNSIGNED = np.uint64(2 * INDEX_STEP_COMMON)
YEARS_SCALE_UNSIGNED = np.uint64(YEARS_SCALE)


def _floor_divide(numerator: int, denominator: int) -> int:
    """``numerator // denominator`` (denominator > 0), without a 64-bit integer division.

    A hardware integer division costs tens of cycles and the formula needs two per case
    with per-region divisors; a float64 division costs a few.
    """
    return _corrected(numerator, denominator, numerator / denominator)


def _corrected(numerator: int, denominator: int, estimate: float) -> int:
    """``numerator // denominator`` (denominator > 0) from a float64 ``estimate`` of it.

    The estimate (numerator and denominator rounded to float64, then divided, or
    multiplied by a rounded reciprocal) is within a few parts in 2^53 of the quotient: below
    2^50, within one of it. Truncated to an integer and corrected by the exact int64
    remainder, the quotient is exact; the remainder needs no more than int64, since it is
    small even where ``quotient · denominator`` wraps. Larger quotients (or a NaN) take the
    integer division.
    """
    if -QUOTIENT_ESTIMATE_MAX < estimate < QUOTIENT_ESTIMATE_MAX:
        quotient = int(estimate)  # toward zero: then corrected either way
        remainder = numerator - quotient * denominator
        while remainder < 0:
            quotient -= 1
            remainder += denominator
        while remainder >= denominator:
            quotient += 1
            remainder -= denominator
        return quotient
    return numerator // denominator


def _round(numerator: int, denominator: int, mode: int) -> int:
    c = denominator if mode == HALF_UP else (2 * denominator - 2 if mode == UP else 0)
    return _floor_divide(2 * numerator + c, 2 * denominator)


def _round_fen(numerator: int, fen_denominator: int, unit: int, mode: int) -> int:
    """``numerator / fen_denominator`` fen (both ≥ 0) rounded to a multiple of ``unit`` fen."""
    denominator = fen_denominator * unit
    if mode == UP_FROM_FEN:  # ⌊fen⌋ rounded up to the unit: ⌊(fen + unit − 1) / unit⌋
        return _floor_divide(numerator + (unit - 1) * fen_denominator, denominator) * unit
    return _round(numerator, denominator, mode) * unit


def _half_up_unit(numerator: int, step: int) -> int:
    """``numerator`` (≥ 0) rounded half up to a multiple of ``step`` (the indexed wage to the
    region's unit: B · Ī in 1/iscale fen to u fen, step u · iscale)."""
    return _floor_divide(2 * numerator + step, 2 * step) * step


def _floor_divide_by_constant(numerator: Any, divisor: int, divisor_unsigned: Any) -> Any:
    """``numerator // divisor`` for a constant ``divisor`` > 0 (``divisor_unsigned`` the
    same as np.uint64): unsigned when the numerator is not negative (int64 wraps past 2^63
    as the reference's arithmetic did, so a negative one stays possible)."""
    if numerator >= 0:
        return np.int64(np.uint64(numerator) // divisor_unsigned)
    return numerator // divisor


def _half_up_signed(numerator: Any, step: int) -> Any:
    """``divide_round(numerator, step)``: half up, halves away from zero."""
    magnitude = -numerator if numerator < 0 else numerator
    if step == INDEX_STEP_COMMON:  # a constant divisor: a multiplication, not a division
        quotient = _floor_divide_by_constant(
            2 * magnitude + INDEX_STEP_COMMON, 2 * INDEX_STEP_COMMON, INDEX_DIVISOR_UNSIGNED
        )
    else:
        quotient = _floor_divide(2 * magnitude + step, 2 * step)
    return -quotient if numerator < 0 else quotient


def _gcd(a: int, b: int) -> int:
    a, b = abs(a), abs(b)
    while b != 0:
        a, b = b, a % b
    return a


def _fits(left: int, right: int) -> bool:
    return float(abs(left)) * float(abs(right)) < NUMERATOR_MAX_FLOAT


def _fit(left: int, right: int, den: int) -> tuple[int, int, bool]:
    """``right / den``, reduced by their gcd where ``left · right`` would not fit in int64
    as it is, and whether the product fits now."""
    if _fits(left, right):
        return right, den, True
    g = _gcd(right, den)
    right //= g
    den //= g
    return right, den, _fits(left, right)


# Columns of the pair table: one int64 row per (date, region) pair, so that the loop keeps one
# pointer for every parameter (one array per parameter ran out of registers and reread each
# array's address from the stack for every case).
(P_INDEX_STEP, P_INDEX_MULTIPLIER, P_UNIT, P_MODE, P_YEARS_UNIT, P_YEARS_MODE, P_RATE_YEAR,
 P_PER_STEP, P_STEP, P_ACCRUAL_DEN, P_T_NUM, P_T_DEN, P_FLAT_PROVINCE, P_INDEX_PROVINCE,
 P_T_PROVINCE, P_W_FLAT, P_W_INDEX, P_W_DEN, P_COEF_NUM, P_COEF_DEN, P_COEF_HAS, P_LONG_NUM,
 P_LONG_DEN, P_LONG_HAS, P_LONG_YEARS, P_A_STEP, P_INDEX_SCALE, P_EARLY_NUM, P_EARLY_DEN,
 P_EARLY_HAS, P_X_Y1, P_X_Y2, P_X_Y3, P_X_R1, P_X_R2, P_X_R3, P_X_DEN,
 P_X_HAS, P_ADJ_FIXED, P_ADJ_NUM, P_ADJ_DEN, P_ADJ_HAS, P_SUBSIDY, P_TOP_UP,
 P_ADD_HAS, P_PHASE_NUM, P_PHASE_DEN, P_PHASE_HAS, P_PHASE_UNIT, P_T_FLOOR,
 P_T_FLOOR_HAS, P_INCREASE_HAS, P_OC_NUM, P_OC_DEN, P_OC_HAS, P_OC_BASE,
 P_PER_YEAR, P_WAGE_UNIT) = range(58)  # fmt: skip
PAIR_PARAMETERS = 58  # the pair parameters, in the order of pension.PairParameters
EXTRA_BRACKETS = 3  # 长缴增发 brackets the pair table holds (P_X_Y1 … P_X_R3)
# then, derived per pair: p of the low-index rule, and the terms of the basic and account
# roundings (see _rounding_terms and _account_rounding_terms)
(P_P, P_BASIC_K, P_BASIC_C, P_BASIC_DIVISOR, P_ACCOUNT_K, P_ACCOUNT_C_PER_DIVISOR,
 P_ACCOUNT_C, P_ACCOUNT_K_UNIT) = range(PAIR_PARAMETERS, PAIR_PARAMETERS + 8)  # fmt: skip
TABLE_WIDTH = PAIR_PARAMETERS + 8


def _rounding_terms(fen_denominator: int, unit: int, mode: int) -> tuple[int, int, int]:
    """(k, c, divisor): ``_round_fen(n, fen_denominator, unit, mode)`` is
    ``⌊(k·n + c) / divisor⌋ · unit``, by the same int64 operations."""
    denominator = fen_denominator * unit
    if mode == UP_FROM_FEN:
        return 1, (unit - 1) * fen_denominator, denominator
    c = denominator if mode == HALF_UP else (2 * denominator - 2 if mode == UP else 0)
    return 2, c, 2 * denominator


def _account_rounding_terms(unit: int, mode: int) -> tuple[int, int, int]:
    """(k, c_per_divisor, c): for a fen denominator v, ``_rounding_terms`` gives
    ``(k, v·c_per_divisor + c, v·k·unit)`` (equal as int64, which wraps the same way)."""
    if mode == UP_FROM_FEN:
        return 1, unit - 1, 0
    if mode == HALF_UP:
        return 2, unit, 0
    if mode == UP:
        return 2, 2 * unit, -2
    return 2, 0, 0


def _derive(table: Any, low_rule: bool, reciprocal: Any) -> None:
    """Fill the derived columns of ``table`` and ``reciprocal`` (1 / the basic's divisor)."""
    for q in range(table.shape[0]):
        p = max(table[q, P_T_NUM], 1) if low_rule else 1
        unit, mode = table[q, P_UNIT], table[q, P_MODE]
        scale = table[q, P_INDEX_SCALE]
        k, c, divisor = _rounding_terms(2 * p * scale * table[q, P_ACCRUAL_DEN], unit, mode)
        table[q, P_P], table[q, P_BASIC_K], table[q, P_BASIC_C] = p, k, c
        table[q, P_BASIC_DIVISOR] = divisor
        reciprocal[q] = 1.0 / divisor
        k, c_per_divisor, c = _account_rounding_terms(unit, mode)
        table[q, P_ACCOUNT_K], table[q, P_ACCOUNT_C_PER_DIVISOR] = k, c_per_divisor
        table[q, P_ACCOUNT_C], table[q, P_ACCOUNT_K_UNIT] = c, k * unit


def _kernel(
    cases: Any, table: Any, reciprocal: Any, flags: Any, out: Any, errors: Any, bounds: Any
) -> None:
    _cases(cases, table, reciprocal, flags, out, errors, bounds)


def _kernel_plain(
    cases: Any, table: Any, reciprocal: Any, flags: Any, out: Any, errors: Any, bounds: Any
) -> None:
    """``_kernel`` for a batch without deemed years, printed wages, per-case coefficients, a
    separate transitional index, early actual years or original-method amounts (``plain``
    flags): the same loop, compiled with those branches removed, so that what is left fits in
    registers (about a tenth faster, once measured). Parts beside the three components stay a
    flag: a batch with 广东 cases (加发, 缴费年限津贴) keeps the plain loop."""
    low_rule, has_extra, rounds_wage, check_fit = flags[0], flags[7], flags[9], flags[10]
    plain = (low_rule, False, False, False, False, False, False, has_extra, False, rounds_wage,
             check_fit)  # fmt: skip
    _cases(cases, table, reciprocal, plain, out, errors, bounds)


def _cases(
    cases: Any, table: Any, reciprocal: Any, flags: Any, out: Any, errors: Any, bounds: Any
) -> None:
    (pair, base, province_base, index_1e6, t_index_1e6, years_in, deemed_in, account, divisor,
     wage, override_num, override_den, override_given, early_in, early_index_1e6, old_in,
     rate_in, fixed_in, child_in) = cases  # fmt: skip
    (low_rule, any_deemed, has_wage, has_override, per_case_coefficient, write_t_index,
     has_early, has_extra, has_old, rounds_wage, check_fit) = flags  # fmt: skip
    # bitwise or of each factor of the two numerators: at least the largest (any negative
    # one sets the sign), less than twice it; the caller checks the batch from these
    w_bits = f_bits = t_bits = r_bits = 0
    (basic_fen, account_fen, transitional_fen, total_fen, index_out, t_index_out, low_out,
     k_num_out, k_den_out, k_present_out, early_index_out, extra_fen, top_up_fen,
     transitional_new_out, increase_out, child_out) = out  # fmt: skip
    n = len(pair)
    has_status = len(child_in) != 0  # a personal status given (issue 10 §2)
    for i in range(n):
        q = pair[i]
        unit = table[q, P_UNIT]
        istep = table[q, P_INDEX_STEP]
        index = _half_up_signed(index_1e6[i], istep) * table[q, P_INDEX_MULTIPLIER]
        index_out[i] = index
        iscale = table[q, P_INDEX_SCALE]  # the index is in 1/iscale (issue 10 §2)
        # years and deemed years rounded to the region's unit
        y = years_in[i]
        yu = table[q, P_YEARS_UNIT]
        if y < 0:
            errors[NEGATIVE_YEARS] = min(errors[NEGATIVE_YEARS], i)
        if yu != 1:  # a unit of 1/30000 year leaves every mode's result unchanged
            rounded = _round(y, yu, table[q, P_YEARS_MODE]) * yu
            if rounded != y:  # rare: the caller then writes the rounded years (round_years)
                errors[YEARS_ROUNDED] = min(errors[YEARS_ROUNDED], i)
            y = rounded
        d = deemed_in[i] if any_deemed else 0
        if d != 0:
            if d < 0:
                errors[NEGATIVE_YEARS] = min(errors[NEGATIVE_YEARS], i)
            if yu != 1:
                rounded = _round(d, yu, table[q, P_YEARS_MODE]) * yu
                if rounded != d:
                    errors[YEARS_ROUNDED] = min(errors[YEARS_ROUNDED], i)
                d = rounded
        # early actual years (北京 N实98; -1 where not given: none) and their index (Z实)
        e = 0
        if has_early:
            e = early_in[i]
            if e > 0 and yu != 1:
                rounded = _round(e, yu, table[q, P_YEARS_MODE]) * yu
                if rounded != e:
                    errors[YEARS_ROUNDED] = min(errors[YEARS_ROUNDED], i)
                e = rounded
            e_index = -1
            if early_index_1e6[i] >= 0:
                e_index = _half_up_signed(early_index_1e6[i], istep) * table[q, P_INDEX_MULTIPLIER]
            early_index_out[i] = e_index
        # basic pension: (B_flat · a + W) / 2 × F
        full_years = _floor_divide_by_constant(y, YEARS_SCALE, YEARS_SCALE_UNSIGNED)
        leftover = y - full_years * YEARS_SCALE
        if table[q, P_STEP] == MONTH_IN_YEARS_SCALE:
            leftover = leftover // MONTH_IN_YEARS_SCALE
        f_num = full_years * table[q, P_RATE_YEAR] + leftover * table[q, P_PER_STEP]
        p = 1
        a = iscale
        if low_rule:
            p = table[q, P_P]
            t_den = table[q, P_T_DEN]
            low = index * t_den < table[q, P_T_NUM] * iscale
            a = index * t_den if low else iscale * p
            a_step = table[q, P_A_STEP]
            if low and a_step > 0:  # a rounded half up to the region's decimals (广东 4)
                a = _half_up_signed(index * t_den, p * a_step) * a_step * p
            low_out[i] = low
        b = base[i]
        b_flat = province_base[i] if table[q, P_FLAT_PROVINCE] else b
        b_index = province_base[i] if table[q, P_INDEX_PROVINCE] else b
        w = b_index * index * p
        if has_wage and wage[i] >= 0:
            w = wage[i] * iscale * p
        elif rounds_wage and table[q, P_WAGE_UNIT] > 0:  # to the region's unit (山东, 吉林, 湖北)
            w = _half_up_unit(b_index * index, table[q, P_WAGE_UNIT] * iscale) * p
        weighted = b_flat * a + w
        reduced = False
        if not check_fit:
            w_bits |= weighted
            f_bits |= f_num
        elif not _fits(weighted, f_num):
            f_num, den, fits = _fit(weighted, f_num, 2 * p * iscale * table[q, P_ACCRUAL_DEN])
            reduced = True
            if not fits:
                errors[BASIC_TOO_LARGE] = min(errors[BASIC_TOO_LARGE], i)
        numerator = weighted * f_num
        if numerator < 0:
            errors[NEGATIVE_COMPONENT] = min(errors[NEGATIVE_COMPONENT], i)
        if reduced:
            basic = _round_fen(numerator, den, unit, table[q, P_MODE])
        else:  # _round_fen(numerator, 2·p·iscale·accrual_den, unit, mode) by the pair's terms
            rounded = table[q, P_BASIC_K] * numerator + table[q, P_BASIC_C]
            quotient = rounded * reciprocal[q]  # the pair's divisor: no division per case
            basic = _corrected(rounded, table[q, P_BASIC_DIVISOR], quotient) * unit
        basic_fen[i] = basic
        # 长缴增发 (吉林): Σ_k (B_flat · a + W) / 2 × rate_k · years in bracket k, each
        # bracket rounded on its own (the tables print each one), then added
        extra = 0
        if has_extra and table[q, P_X_HAS] != 0:
            for k in range(EXTRA_BRACKETS):
                g_num = _bracket_years(y, table, q, k)
                if g_num <= 0:
                    continue
                den = 2 * p * iscale * YEARS_SCALE * table[q, P_X_DEN]
                g_num, den, fits = _fit(weighted, g_num, den)
                if not fits:
                    errors[BASIC_TOO_LARGE] = min(errors[BASIC_TOO_LARGE], i)
                extra += _round_fen(weighted * g_num, den, unit, table[q, P_MODE])
        # account pension: balance / divisor v, _round_fen(numerator, v, unit, mode)
        numerator = account[i] * 10
        if numerator < 0:
            errors[NEGATIVE_COMPONENT] = min(errors[NEGATIVE_COMPONENT], i)
        v = divisor[i]
        rounded = table[q, P_ACCOUNT_K] * numerator + v * table[q, P_ACCOUNT_C_PER_DIVISOR]
        rounded += table[q, P_ACCOUNT_C]
        pension = _floor_divide(rounded, v * table[q, P_ACCOUNT_K_UNIT]) * unit
        account_fen[i] = pension
        # transitional pension: B_t · (w_flat + w_index · max(Ī_t, floor)) · deemed · k
        transitional = 0
        if per_case_coefficient:
            use_long = table[q, P_LONG_HAS] != 0 and (y - d) > table[q, P_LONG_YEARS]
            k_num = table[q, P_LONG_NUM] if use_long else table[q, P_COEF_NUM]
            k_den = table[q, P_LONG_DEN] if use_long else table[q, P_COEF_DEN]
            present = use_long or table[q, P_COEF_HAS] != 0
            if has_override and override_given[i]:
                k_num, k_den, present = override_num[i], override_den[i], True
            k_num_out[i], k_den_out[i], k_present_out[i] = k_num, k_den, present
        t_index = index
        if write_t_index:
            t_index = _half_up_signed(t_index_1e6[i], istep) * table[q, P_INDEX_MULTIPLIER]
            t_index_out[i] = t_index
        if d != 0 or e > 0:
            numerator, den = 0, 1
            if d != 0:
                if not per_case_coefficient:
                    k_num, k_den = table[q, P_COEF_NUM], table[q, P_COEF_DEN]
                    present = table[q, P_COEF_HAS] != 0
                if d > 0 and not present:
                    errors[NO_COEFFICIENT] = min(errors[NO_COEFFICIENT], i)
                    continue
                b_t = province_base[i] if table[q, P_T_PROVINCE] else b
                t_used = t_index  # raised to the region's floor (内蒙古 1) where below it
                floored = table[q, P_T_FLOOR_HAS] != 0 and t_used < table[q, P_T_FLOOR]
                if floored:
                    t_used = table[q, P_T_FLOOR]
                weighted = b_t * (table[q, P_W_FLAT] * iscale + table[q, P_W_INDEX] * t_used)
                # B_t · Ī_t is the printed indexed wage where the case gives one for the same
                # index on the same base (新疆: 4636.42, not 7089 × 0.654 = 4636.21)
                if (
                    has_wage
                    and wage[i] >= 0
                    and not floored
                    and t_index_1e6[i] == index_1e6[i]
                    and b_t == b_index
                ):
                    weighted = (b_t * table[q, P_W_FLAT] + wage[i] * table[q, P_W_INDEX]) * iscale
                elif rounds_wage and table[q, P_WAGE_UNIT] > 0:  # B_t · Ī_t rounded like W
                    w_t = _half_up_unit(b_t * t_used, table[q, P_WAGE_UNIT] * iscale)
                    weighted = b_t * table[q, P_W_FLAT] * iscale + w_t * table[q, P_W_INDEX]
                right = d * k_num
                den = iscale * YEARS_SCALE * k_den * table[q, P_W_DEN]
                if not check_fit:
                    t_bits |= weighted
                    r_bits |= right
                else:
                    right, den, fits = _fit(weighted, right, den)
                    if not fits:
                        errors[TRANSITIONAL_TOO_LARGE] = min(errors[TRANSITIONAL_TOO_LARGE], i)
                numerator = weighted * right
            if e > 0:  # + B_t · Ī_e · early years · rate, over a common denominator (北京 G实)
                if table[q, P_EARLY_HAS] == 0:
                    errors[NO_EARLY_RATE] = min(errors[NO_EARLY_RATE], i)
                    continue
                numerator, den = _plus_early(
                    numerator, den, province_base[i] if table[q, P_T_PROVINCE] else b,
                    e_index, e, table[q, P_EARLY_NUM], iscale * YEARS_SCALE * table[q, P_EARLY_DEN],
                )  # fmt: skip
                if den == 0:
                    errors[TRANSITIONAL_TOO_LARGE] = min(errors[TRANSITIONAL_TOO_LARGE], i)
                    numerator, den = 0, 1
            if numerator < 0:
                errors[NEGATIVE_COMPONENT] = min(errors[NEGATIVE_COMPONENT], i)
            transitional = _round_fen(numerator, den, unit, table[q, P_MODE])
            transitional_fen[i] = transitional  # the rest stay zero
        # the original method (江苏, 深圳 原办法, given per case; -1: not given): the new-method
        # amount's excess over it paid at the year's share, cut to the fen and raised to the
        # unit, on top of it; the original amount where the new one is not above it (就高)
        if has_old and old_in[i] >= 0:
            if table[q, P_PHASE_HAS] == 0:
                errors[NO_PHASE_IN] = min(errors[NO_PHASE_IN], i)
                continue
            transitional_new_out[i] = transitional
            transitional = _phase_in(
                transitional, old_in[i], table[q, P_PHASE_NUM], table[q, P_PHASE_DEN],
                table[q, P_PHASE_UNIT],
            )  # fmt: skip
            if transitional < 0:
                errors[TRANSITIONAL_TOO_LARGE] = min(errors[TRANSITIONAL_TOO_LARGE], i)
                transitional = 0
            transitional_fen[i] = transitional
        if has_extra:
            if has_status:  # 四川 增发 and the 独生子女 add-ons, where the case gives the status
                added = _status_addons(
                    i, q, table, w // p, iscale, y, basic + pension + transitional, unit,
                    (rate_in, fixed_in, child_in, increase_out, child_out), errors,
                )  # fmt: skip
                if added < 0:
                    continue
                extra += added
            if table[q, P_ADD_HAS] != 0:
                # 过渡调节金 (浙江): F + Ī · N · m, rounded once; 养老金补贴: a fixed amount
                if table[q, P_ADJ_HAS] != 0:
                    adjustment = _adjustment(
                        index, y, table[q, P_ADJ_FIXED], table[q, P_ADJ_NUM],
                        iscale * YEARS_SCALE * table[q, P_ADJ_DEN], unit, table[q, P_MODE],
                    )  # fmt: skip
                    if adjustment < 0:
                        errors[BASIC_TOO_LARGE] = min(errors[BASIC_TOO_LARGE], i)
                        adjustment = 0
                    extra += adjustment
                extra += table[q, P_SUBSIDY]
                # 缴费年限津贴 (广东): so many fen per whole contribution year
                extra += table[q, P_PER_YEAR] * full_years
                # 见分进角补足: the total raised to a multiple of the unit, the rest paid here
                top = table[q, P_TOP_UP]
                if top > 1:
                    total = basic + pension + transitional + extra
                    top_up = _floor_divide(total + top - 1, top) * top - total
                    top_up_fen[i] = top_up  # the rest stay zero
                    extra += top_up
            extra_fen[i] = extra  # zero where the pair pays none
        total_fen[i] = basic + pension + transitional + extra
    bounds[0], bounds[1], bounds[2], bounds[3] = w_bits, f_bits, t_bits, r_bits


def _status_addons(
    i: int, q: int, table: Any, w: int, w_den: int, y: int, pensions: int, unit: int,
    columns: Any, errors: Any,
) -> int:  # fmt: skip
    """Case ``i``'s add-ons of a personal status it gives: 四川's 增发 W × r × N (W = w / w_den
    fen, r in 1/RATE_SCALE, N = y / YEARS_SCALE), rounded like a component, plus its fixed
    amount; the 独生子女 add-on: the region's rate of the three pensions (or of its set
    amount), rounded like a component. Each is written to its column; -1 on an error."""
    rate_in, fixed_in, child_in, increase_out, child_out = columns
    mode = table[q, P_MODE]
    added = 0
    rate, fixed = rate_in[i], fixed_in[i]
    if rate >= 0 or fixed >= 0:
        if table[q, P_INCREASE_HAS] == 0:
            errors[NO_INCREASE] = min(errors[NO_INCREASE], i)
            return -1
        increase = fixed if fixed > 0 else 0
        if rate > 0:
            g = _gcd(rate, RATE_SCALE)
            den = w_den * (RATE_SCALE // g) * YEARS_SCALE
            right, den, fits = _fit(w, (rate // g) * y, den)
            if not fits:
                errors[STATUS_TOO_LARGE] = min(errors[STATUS_TOO_LARGE], i)
                return -1
            increase += _round_fen(w * right, den, unit, mode)
        increase_out[i] = increase
        added += increase
    if child_in[i] == 1 and table[q, P_OC_HAS] != 0:
        of = table[q, P_OC_BASE] if table[q, P_OC_BASE] >= 0 else pensions
        if not _fits(of, table[q, P_OC_NUM]):
            errors[STATUS_TOO_LARGE] = min(errors[STATUS_TOO_LARGE], i)
            return -1
        amount = _round_fen(of * table[q, P_OC_NUM], table[q, P_OC_DEN], unit, mode)
        child_out[i] = amount
        added += amount
    return added


def _bracket_years(y: int, table: Any, q: int, k: int) -> int:
    """rate_k · (years in bracket k), in 1/YEARS_SCALE year over the pair's P_X_DEN: the
    years above threshold Y_k and below the next (the last has no end), at its rate."""
    low: int = table[q, P_X_Y1 + k]
    rate: int = table[q, P_X_R1 + k]
    if rate == 0 or y <= low:
        return 0
    if k + 1 < EXTRA_BRACKETS and table[q, P_X_R1 + k + 1] != 0:
        high: int = table[q, P_X_Y1 + k + 1]
        if y > high:
            return rate * (high - low)
    return rate * (y - low)


def _adjustment(
    index: int, years: int, fixed: int, num: int, den: int, unit: int, mode: int
) -> int:
    """``fixed + index · years · num / den`` fen (过渡调节金: F + Ī · N · m, the index and
    years at their scales in ``den``), rounded once to the unit by the mode; -1 where it would
    not fit in int64 (the reference formula refuses the same cases)."""
    if index < 0 or not _fits(index, years):
        return -1
    left = index * years
    right, den, fits = _fit(left, num, den)
    if not fits or not _fits(fixed, den):
        return -1
    product = left * right
    offset = fixed * den
    if float(product) + float(offset) >= NUMERATOR_MAX_FLOAT:
        return -1
    return _round_fen(product + offset, den, unit, mode)


def _phase_in(new: int, old: int, rate_num: int, rate_den: int, unit: int) -> int:
    """``old + ⌈⌊⌈new − old⌉ · rate⌋ fen to the unit⌉`` where ``new`` is above ``old``, the
    excess raised to the unit before the share is taken, else ``old`` (就高); -1 where the
    product would not fit in int64 (the reference refuses it)."""
    if new <= old:
        return old
    excess = (new - old + unit - 1) // unit * unit
    if not _fits(excess, rate_num):
        return -1
    return old + _round_fen(excess * rate_num, rate_den, unit, UP_FROM_FEN)


def _plus_early(
    numerator: int, den: int, base: int, index: int, years: int, rate_num: int, early_den: int
) -> tuple[int, int]:
    """``numerator / den + base · index · years · rate_num / early_den`` as one exact ratio
    over the least common denominator, or (0, 0) where it would not fit in int64 (the
    early product reduced first where it alone would not). The reference formula checks
    the same bounds in the same order, so both refuse the same cases."""
    left = base * index
    right, early_den, fits = _fit(left, years * rate_num, early_den)
    if not fits:
        return 0, 0
    early = left * right
    g = _gcd(den, early_den)
    scale_deemed, scale_early = early_den // g, den // g
    if not (
        _fits(numerator, scale_deemed)
        and _fits(early, scale_early)
        and _fits(den, scale_deemed)
        and float(abs(numerator)) * float(scale_deemed) + float(abs(early)) * float(scale_early)
        < NUMERATOR_MAX_FLOAT
    ):
        return 0, 0
    return numerator * scale_deemed + early * scale_early, den * scale_deemed


def _round_years(pair: Any, years: Any, years_unit: Any, years_mode: Any, out: Any) -> None:
    """Years rounded to each case's region unit (only run when the unit changed some)."""
    for i in range(len(pair)):
        q = pair[i]
        unit = years_unit[q]
        out[i] = years[i] if unit == 1 else _round(years[i], unit, years_mode[q]) * unit


_COMPILING = threading.Lock()


def _compiled() -> tuple[Any, Any, Any, Any]:
    """(the kernel, the years rounding, the pair table, the plain kernel), wrapped once per
    process under a lock: the server answers requests on many threads, and two first
    estimates at the same moment must not both wrap them (the second would wrap the first's
    compiled helpers again). Each compiles on its first call, under numba's own lock."""
    with _COMPILING:
        return _compile()


@functools.cache
def _compile() -> tuple[Any, Any, Any, Any]:
    """Compiled on first use: importing numba costs every command about 0.2 s, and only
    the pension formula needs it. Compiled once per machine into __pycache__ (``cache``,
    where numba finds a writable place: ``njit_cached``); ``error_model`` numpy: no Python
    exceptions in the loop. The helpers are compiled as functions of their own, not inlined
    by numba (``inline="always"``): LLVM inlines them when it links the kernel, and numba's
    own inlining made a cold compile take 29 s of CPU instead of 7.5 s with no difference
    in the kernel's speed (docs/BENCHMARKS.md, 2026-12-02, "Compiled without numba's
    inlining")."""
    module = globals()
    for name in ("_floor_divide", "_corrected", "_round", "_round_fen", "_rounding_terms",
                 "_account_rounding_terms", "_floor_divide_by_constant", "_half_up_signed", "_half_up_unit", "_fits", "_fit",
                 "_plus_early", "_phase_in", "_status_addons", "_bracket_years", "_adjustment", "_cases"):  # fmt: skip
        module[name] = njit_cached(module[name], error_model="numpy")
    module["_gcd"] = njit_cached(module["_gcd"], error_model="numpy")
    return (
        njit_cached(_kernel, error_model="numpy", nogil=True),
        njit_cached(_round_years, error_model="numpy", nogil=True),
        njit_cached(_derive, error_model="numpy", nogil=True),
        njit_cached(_kernel_plain, error_model="numpy", nogil=True),
    )


def pair_table(pairs: tuple[Any, ...], low_rule: bool) -> tuple[Any, Any]:
    """The kernel's pair table (pairs × TABLE_WIDTH int64) and its float64 reciprocals, from
    the PAIR_PARAMETERS per-pair arrays (``pension.PairParameters``, in order)."""
    if len(pairs) != PAIR_PARAMETERS:
        raise AssertionError(f"the pair table takes {PAIR_PARAMETERS} columns, got {len(pairs)}")
    count = len(pairs[0])
    table = np.empty((count, TABLE_WIDTH), dtype=np.int64)
    for column, values in enumerate(pairs):
        table[:, column] = values
    reciprocal = np.empty(count, dtype=np.float64)
    _compiled()[2](table, low_rule, reciprocal)
    return table, reciprocal


def pension_kernel(*args: Any) -> None:
    """``_kernel(cases, table, reciprocal, flags, out, errors, bounds)``, or the same loop
    compiled for plain batches when the flags allow (the first use of each compiles it)."""
    flags = args[3]
    _compiled()[3 if not any(flags[1:7]) and not flags[8] else 0](*args)


def round_years(*args: Any) -> None:
    _compiled()[1](*args)


EMPTY = np.zeros(0, dtype=np.int64)
EMPTY_BOOL = np.zeros(0, dtype=np.bool_)
