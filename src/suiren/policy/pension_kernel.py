"""The per-case arithmetic of the pension formula, fused into one compiled loop (numba).

``pension.compute_pensions`` turns the parameters of each distinct (date, region) pair into
small per-pair integer arrays; this loop reads each case once, looks its pair's values up by
index and writes every output once. As separate numpy passes the same formula took 14–27×
the time of a bare numpy expression of the national formula (issue 10 §6), mostly in
temporary arrays; fused, it does the arithmetic of the reference formula in the same int64
operations, in the same order, so the results are identical integer for integer.

Rounding is ⌊(2·n + c) / (2·d)⌋ with c = d (half up), 2d − 2 (up) or 0 (down), as before.
A component (n / d fen, to a unit of u fen) may also be rounded up from the fen (见分进角:
cut to the fen, then any fen up to the unit): ⌊(n + (u − 1)·d) / (u·d)⌋ units.
Failures are not raised in the loop: the first failing case of each kind is written to
``errors`` and the caller raises the same error the numpy formula raised.
"""

from __future__ import annotations

import functools
import math
import threading
from typing import Any

import numpy as np

HALF_UP, UP, DOWN = 0, 1, 2  # rounding modes as the kernel reads them
UP_FROM_FEN = 3  # components only: cut to the fen, then up to the unit (见分进角)
# errors[kind] = the first failing case of that kind, or the number of cases if none
NEGATIVE_YEARS, BASIC_TOO_LARGE, NO_COEFFICIENT, TRANSITIONAL_TOO_LARGE = range(4)
NEGATIVE_COMPONENT = 4
YEARS_ROUNDED = 5  # not an error: the first case whose years the region's unit changed
ERROR_KINDS = 6
NUMERATOR_MAX = 2**62  # headroom below int64
NUMERATOR_MAX_FLOAT = float(NUMERATOR_MAX)
YEARS_SCALE = 30_000  # 1/30000 year: whole months (2500) and 4 decimals (3) are exact
MONTH_IN_YEARS_SCALE = YEARS_SCALE // 12
FLOAT_EXACT_MAX = 2**52
INDEX_STEP_COMMON = 100  # index with four decimals from six: the case worth a constant
# An index is used at its (date, region) pair's decimals d (pension.index_decimals, 0–6):
# rounded half up from 1/10^6 to a multiple of index_step = 10^(6 − d), then held in
# 1/index_scale, index_scale = 10^max(4, d) (10^4 for every region keeping at most four).


def _floor_divide(numerator: int, denominator: int) -> int:
    """``numerator // denominator`` (denominator > 0), without a 64-bit integer division.

    A hardware integer division costs tens of cycles and the formula needs two per case
    with per-region divisors. Below 2^52 both are exact in float64 and their float quotient
    is within one of the integer one; the remainder then corrects it exactly.
    """
    if -FLOAT_EXACT_MAX < numerator < FLOAT_EXACT_MAX and denominator < FLOAT_EXACT_MAX:
        quotient = math.floor(numerator / denominator)  # float64 division, then corrected
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


def _half_up_signed(numerator: int, step: int) -> int:
    """``divide_round(numerator, step)``: half up, halves away from zero."""
    magnitude = -numerator if numerator < 0 else numerator
    if step == INDEX_STEP_COMMON:  # a constant divisor: a multiplication, not a division
        quotient = (2 * magnitude + INDEX_STEP_COMMON) // (2 * INDEX_STEP_COMMON)
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


def _kernel(cases: Any, pairs: Any, flags: Any, out: Any, errors: Any, extremes: Any) -> None:
    (pair, base, province_base, index_1e6, t_index_1e6, years_in, deemed_in, account, divisor,
     wage, override_num, override_den, override_given) = cases  # fmt: skip
    (index_step, index_multiplier, unit_fen, mode, years_unit, years_mode, rate_year, per_step, step,
     accrual_den, t_num, t_den, flat_province, index_province, t_province, w_flat, w_index,
     w_den, coef_num, coef_den, coef_has, long_num, long_den, long_has, long_years,
     a_step, index_scale) = pairs  # fmt: skip
    (low_rule, any_deemed, has_wage, has_override, per_case_coefficient, write_t_index,
     check_fit) = flags  # fmt: skip
    w_min = w_max = f_min = f_max = t_min = t_max = r_min = r_max = 0
    (basic_fen, account_fen, transitional_fen, total_fen, index_out, t_index_out, low_out,
     k_num_out, k_den_out, k_present_out) = out  # fmt: skip
    n = len(pair)
    for i in range(n):
        q = pair[i]
        unit = unit_fen[q]
        m = mode[q]
        istep = index_step[q]
        # the index in 1/iscale: the pair's 10^max(4, index decimals) (issue 10 §2)
        iscale = index_scale[q]
        index = _half_up_signed(index_1e6[i], istep) * index_multiplier[q]
        index_out[i] = index
        # years and deemed years rounded to the region's unit
        y = years_in[i]
        yu = years_unit[q]
        if y < 0:
            errors[NEGATIVE_YEARS] = min(errors[NEGATIVE_YEARS], i)
        if yu != 1:  # a unit of 1/30000 year leaves every mode's result unchanged
            rounded = _round(y, yu, years_mode[q]) * yu
            if rounded != y:  # rare: the caller then writes the rounded years (round_years)
                errors[YEARS_ROUNDED] = min(errors[YEARS_ROUNDED], i)
            y = rounded
        d = deemed_in[i] if any_deemed else 0
        if d != 0:
            if d < 0:
                errors[NEGATIVE_YEARS] = min(errors[NEGATIVE_YEARS], i)
            if yu != 1:
                rounded = _round(d, yu, years_mode[q]) * yu
                if rounded != d:
                    errors[YEARS_ROUNDED] = min(errors[YEARS_ROUNDED], i)
                d = rounded
        # basic pension: (B_flat · a + W) / 2 × F
        full_years = y // YEARS_SCALE
        leftover = y - full_years * YEARS_SCALE
        if step[q] == MONTH_IN_YEARS_SCALE:
            leftover = leftover // MONTH_IN_YEARS_SCALE
        f_num = full_years * rate_year[q] + leftover * per_step[q]
        p = 1
        a = iscale
        if low_rule:
            p = max(t_num[q], 1)
            low = index * t_den[q] < t_num[q] * iscale
            a = index * t_den[q] if low else iscale * p
            if low and a_step[q] > 0:  # a rounded half up to the region's decimals (广东 4)
                a = _half_up_signed(index * t_den[q], p * a_step[q]) * a_step[q] * p
            low_out[i] = low
        b = base[i]
        b_flat = province_base[i] if flat_province[q] else b
        b_index = province_base[i] if index_province[q] else b
        w = b_index * index * p
        if has_wage and wage[i] >= 0:
            w = wage[i] * iscale * p
        weighted = b_flat * a + w
        den = 2 * p * iscale * accrual_den[q]
        if not check_fit:  # the caller checks the whole batch at once from these
            w_min, w_max = min(w_min, weighted), max(w_max, weighted)
            f_min, f_max = min(f_min, f_num), max(f_max, f_num)
        elif not _fits(weighted, f_num):
            g = _gcd(f_num, den)
            f_num //= g
            den //= g
            if not _fits(weighted, f_num):
                errors[BASIC_TOO_LARGE] = min(errors[BASIC_TOO_LARGE], i)
        numerator = weighted * f_num
        if numerator < 0:
            errors[NEGATIVE_COMPONENT] = min(errors[NEGATIVE_COMPONENT], i)
        basic = _round_fen(numerator, den, unit, m)
        basic_fen[i] = basic
        # account pension: balance / divisor
        numerator = account[i] * 10
        if numerator < 0:
            errors[NEGATIVE_COMPONENT] = min(errors[NEGATIVE_COMPONENT], i)
        pension = _round_fen(numerator, divisor[i], unit, m)
        account_fen[i] = pension
        # transitional pension: B_t · (w_flat + w_index · Ī_t) · deemed · k
        transitional = 0
        if per_case_coefficient:
            use_long = long_has[q] and (y - d) > long_years[q]
            k_num = long_num[q] if use_long else coef_num[q]
            k_den = long_den[q] if use_long else coef_den[q]
            present = use_long or coef_has[q]
            if has_override and override_given[i]:
                k_num, k_den, present = override_num[i], override_den[i], True
            k_num_out[i], k_den_out[i], k_present_out[i] = k_num, k_den, present
        t_index = index
        if write_t_index:
            t_index = _half_up_signed(t_index_1e6[i], istep) * index_multiplier[q]
            t_index_out[i] = t_index
        if d != 0:
            if not per_case_coefficient:
                k_num, k_den, present = coef_num[q], coef_den[q], coef_has[q]
            if d > 0 and not present:
                errors[NO_COEFFICIENT] = min(errors[NO_COEFFICIENT], i)
                continue
            b_t = province_base[i] if t_province[q] else b
            weighted = b_t * (w_flat[q] * iscale + w_index[q] * t_index)
            right = d * k_num
            den = iscale * YEARS_SCALE * k_den * w_den[q]
            if not check_fit:
                t_min, t_max = min(t_min, weighted), max(t_max, weighted)
                r_min, r_max = min(r_min, right), max(r_max, right)
            elif not _fits(weighted, right):
                g = _gcd(right, den)
                right //= g
                den //= g
                if not _fits(weighted, right):
                    errors[TRANSITIONAL_TOO_LARGE] = min(errors[TRANSITIONAL_TOO_LARGE], i)
            numerator = weighted * right
            if numerator < 0:
                errors[NEGATIVE_COMPONENT] = min(errors[NEGATIVE_COMPONENT], i)
            transitional = _round_fen(numerator, den, unit, m)
            transitional_fen[i] = transitional  # the rest stay zero
        total_fen[i] = basic + pension + transitional
    extremes[:] = (w_min, w_max, f_min, f_max, t_min, t_max, r_min, r_max)


def _round_years(pair: Any, years: Any, years_unit: Any, years_mode: Any, out: Any) -> None:
    """Years rounded to each case's region unit (only run when the unit changed some)."""
    for i in range(len(pair)):
        q = pair[i]
        unit = years_unit[q]
        out[i] = years[i] if unit == 1 else _round(years[i], unit, years_mode[q]) * unit


_COMPILING = threading.Lock()


def _compiled() -> tuple[Any, Any]:
    """(the kernel, the years rounding), compiled once per process under a lock: the
    server answers requests on many threads, and two first estimates at the same moment
    must not both compile (the second would wrap the first's compiled helpers again)."""
    with _COMPILING:
        return _compile()


@functools.cache
def _compile() -> tuple[Any, Any]:
    """Compiled on first use: importing numba costs every command about 0.2 s, and only
    the pension formula needs it. Compiled once per machine into __pycache__ (``cache``);
    ``error_model`` numpy: no Python exceptions in the loop."""
    import numba

    module = globals()
    for name in ("_floor_divide", "_round", "_round_fen", "_half_up_signed", "_fits"):
        module[name] = numba.njit(cache=True, error_model="numpy", inline="always")(module[name])
    module["_gcd"] = numba.njit(cache=True, error_model="numpy")(module["_gcd"])
    return (
        numba.njit(cache=True, error_model="numpy", nogil=True)(_kernel),
        numba.njit(cache=True, error_model="numpy", nogil=True)(_round_years),
    )


def pension_kernel(*args: Any) -> None:
    _compiled()[0](*args)


def round_years(*args: Any) -> None:
    _compiled()[1](*args)


EMPTY = np.zeros(0, dtype=np.int64)
EMPTY_BOOL = np.zeros(0, dtype=np.bool_)
