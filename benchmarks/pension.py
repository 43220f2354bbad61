"""The pension formulas over ten million cases, against their anchors.

``compute_pensions`` looks parameters up per (date, region), rounds the index and the years by
the region's rule, handles the low-index coefficient, dual bases, transitional pensions and
derived divisors, and keeps every intermediate for explanations. The anchors are the national
formula on the same arrays with none of that generality:

- bare numpy, exact integers, half up (the anchor of the ratio)::

      I4      = half_up(index_1e6 / 100)
      basic   = half_up(B · (10^4 + I4) · months / (2 · 10^4 · 1200))
      account = half_up(account_fen · 10 / divisor_tenths)

- the same expression in float64 (for reference: what a projection that gave up exactness
  would cost, and how many fen it gets wrong);
- a plain Python loop over the same integer formula on a sample, extrapolated per case.

Besides ``compute_pensions`` end to end, the run times the formula alone
(``pensions_with_parameters`` with the parameters looked up beforehand) and prints both as
ratios to the bare numpy anchor (issue 10 §6), by the wall clock and by the process's CPU
time (best of ``RATIO_REPEAT`` each: the machine is shared, and CPU time leaves out the time
spent waiting for a core). The anchor's dozen temporaries make it sensitive
to whether glibc reuses its heap or maps fresh pages; for ratios that do not depend on what
the process did before, run with ``MALLOC_MMAP_THRESHOLD_=1000000000
MALLOC_TRIM_THRESHOLD_=4000000000`` (docs/BENCHMARKS.md).

The cases: 90% Chongqing (500000), 5% Guangzhou (440100), 5% Shanghai (310000), all on
2025-08-01. Chongqing follows the national formula; Guangzhou's low-index coefficient does not
apply to indices of 0.6 and above, as here, so its basic and account pensions are the
national ones; but from 2024-05 广东 pays 100 + 4 × whole years beside them (加发, 缴费年限津贴),
so its total is not. The run checks that the anchor agrees with ``compute_pensions`` on
Chongqing (Shanghai accrues 0.083% per leftover month and rounds up to the 角, so it differs). Until 2026-12-01 the 90% were
Zhengzhou (410100); Henan's tables since showed two bases that differ (provincial and local)
and years rounded to two decimals, so Zhengzhou no longer reduces to the national formula.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date

import numpy as np
import numpy.typing as npt

from benchmarks import best_of, best_of_clocks, peak_rss_mib
from suiren.policy import load_policy
from suiren.policy.pension import (
    MONTH_IN_YEARS_SCALE,
    OPTIONAL,
    PARAMETERS,
    PensionCases,
    compute_pensions,
    pensions_with_parameters,
)
from suiren.rules.vector import day_number

CASES = 10_000_000
LOOP_CASES = 100_000
SEED = 20250801
DAY = date(2025, 8, 1)
REGIONS = ("500000", "440100", "310000")
REGION_SHARES = (0.90, 0.05, 0.05)
NATIONAL_FORMULA_REGIONS = ("500000",)  # see the module docstring
DIVISOR_TENTHS = 1390  # 计发月数 139 (age 60)
RATIO_REPEAT = 7  # the timings of the two ratios: best of 7 (a shared machine is noisy)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def synthetic_cases(count: int, seed: int = SEED) -> PensionCases:
    """``count`` realistic cases built as numpy arrays (no JSON, no parsing)."""
    rng = np.random.default_rng(seed)
    codes = np.array(REGIONS)
    region = codes[rng.choice(len(REGIONS), size=count, p=REGION_SHARES)]
    base_fen = rng.integers(500_000, 1_300_000, size=count, endpoint=True, dtype=np.int64)
    index_1e6 = rng.integers(600_000, 3_000_000, size=count, endpoint=True, dtype=np.int64)
    months = rng.integers(15 * 12, 45 * 12, size=count, endpoint=True, dtype=np.int64)
    account_fen = rng.integers(2_000_000, 30_000_000, size=count, endpoint=True, dtype=np.int64)
    return PensionCases(
        region=region,
        day=np.full(count, day_number(DAY), dtype=np.int64),
        base_fen=base_fen,
        province_base_fen=base_fen,  # one base: Henan's dual base reduces to the national one
        index_1e6=index_1e6,
        transitional_index_1e6=index_1e6,
        years=months * MONTH_IN_YEARS_SCALE,
        deemed_years=np.zeros(count, dtype=np.int64),
        account_fen=account_fen,
        divisor_tenths=np.full(count, DIVISOR_TENTHS, dtype=np.int64),
        age_months=np.full(count, -1, dtype=np.int64),
    )


def with_regional_parts(cases: PensionCases, seed: int = SEED) -> PensionCases:
    """The same cases, where 4 in 10 have deemed years (up to 15, never more than their
    years) and a tenth each are 浙江's (过渡调节金 …) and 江苏's (the transitional phase-in,
    half of them with the original amount as printed): the compiled loop's general form."""
    rng = np.random.default_rng(seed + 1)
    count = len(cases)
    deemed = np.where(
        rng.random(count) < 0.4,
        np.minimum(rng.integers(0, 15 * 12, count, endpoint=True) * MONTH_IN_YEARS_SCALE // 12,
                   cases.years),
        0,
    ).astype(np.int64)  # fmt: skip
    pick = rng.random(count)
    region = np.where(pick < 0.1, "330100", np.where(pick < 0.2, "320100", cases.region))
    old = np.where((pick >= 0.1) & (pick < 0.15), rng.integers(10_000, 200_000, count), -1)
    return replace(
        cases, region=region, deemed_years=deemed, old_transitional_fen=old.astype(np.int64)
    )


def bare_int(
    base_fen: IntArray,
    index_1e6: IntArray,
    years: IntArray,
    account_fen: IntArray,
    divisor_tenths: IntArray,
) -> tuple[IntArray, IntArray, IntArray]:
    """The national formula as straight numpy expressions, exact, half up as (2n + d) // 2d."""
    index_1e4 = (2 * index_1e6 + 100) // 200
    basic_n = base_fen * (10_000 + index_1e4) * (years // MONTH_IN_YEARS_SCALE)
    basic_d = 2 * 10_000 * 1200
    basic = (2 * basic_n + basic_d) // (2 * basic_d)
    account = (2 * account_fen * 10 + divisor_tenths) // (2 * divisor_tenths)
    return basic, account, basic + account


def bare_float(
    base_fen: FloatArray,
    index_1e6: FloatArray,
    years: FloatArray,
    account_fen: FloatArray,
    divisor_tenths: FloatArray,
) -> FloatArray:
    """The same expression in float64, half up as floor(x + 0.5): fast, and not exact."""
    index_1e4 = np.floor(index_1e6 / 100 + 0.5)
    basic = np.floor(base_fen * (1e4 + index_1e4) * (years / MONTH_IN_YEARS_SCALE) / 24e6 + 0.5)
    account = np.floor(account_fen * 10 / divisor_tenths + 0.5)
    return basic + account


def python_loop(
    base_fen: list[int],
    index_1e6: list[int],
    years: list[int],
    account_fen: list[int],
    divisor_tenths: list[int],
) -> list[int]:
    """The integer formula one case at a time, on Python ints."""
    totals = []
    for base, index, years_, account, divisor in zip(
        base_fen, index_1e6, years, account_fen, divisor_tenths, strict=True
    ):
        index_1e4 = (2 * index + 100) // 200
        basic_n = base * (10_000 + index_1e4) * (years_ // MONTH_IN_YEARS_SCALE)
        basic = (2 * basic_n + 48_000_000) // 96_000_000
        totals.append(basic + (20 * account + divisor) // (2 * divisor))
    return totals


def run(scale: float = 1.0) -> None:
    count = max(1_000, int(CASES * scale))
    loop_count = min(count, max(1_000, int(LOOP_CASES * scale)))
    label = f"pension {_size(count)} cases"
    start = time.perf_counter()
    cases = synthetic_cases(count)
    print(f"{label}: built the arrays in {time.perf_counter() - start:.2f} s", flush=True)
    policy = load_policy()
    vectorized_s, vectorized_cpu, result = best_of_clocks(
        lambda: compute_pensions(policy, cases), RATIO_REPEAT
    )
    exact = (result.basic_fen, result.account_pension_fen, result.total_fen)
    del result  # keep only what the agreement check needs
    print(
        f"{label}: vectorized compute_pensions {vectorized_s:.3f} s wall, {vectorized_cpu:.3f} s"
        f" CPU (best of {RATIO_REPEAT})",
        flush=True,
    )
    look_up_s, look_up_cpu, parameters = best_of_clocks(
        lambda: policy.look_up(cases.day, cases.region, PARAMETERS, OPTIONAL), RATIO_REPEAT
    )
    print(
        f"{label}:   of which policy.look_up {look_up_s:.3f} s wall, {look_up_cpu:.3f} s CPU"
        f" (best of {RATIO_REPEAT}: finding the distinct (date, region) pairs, then one"
        " parameter lookup per pair)",
        flush=True,
    )
    kernel_s, kernel_cpu, _ = best_of_clocks(
        lambda: pensions_with_parameters(parameters, cases), RATIO_REPEAT
    )
    print(
        f"{label}:   the formula alone (pensions_with_parameters: the parameters looked up"
        f" beforehand) {kernel_s:.3f} s wall, {kernel_cpu:.3f} s CPU (best of {RATIO_REPEAT})",
        flush=True,
    )
    columns = (cases.base_fen, cases.index_1e6, cases.years, cases.account_fen)
    columns += (cases.divisor_tenths,)
    int_s, int_cpu, anchor = best_of_clocks(lambda: bare_int(*columns), RATIO_REPEAT)
    print(
        f"{label}: bare numpy int {int_s:.3f} s wall, {int_cpu:.3f} s CPU (best of {RATIO_REPEAT})",
        flush=True,
    )
    float_s, float_total = _time_float(columns)
    print(
        f"{label}: bare numpy float64 {float_s:.2f} s (best of 3; the inputs were converted to"
        " float64 beforehand, not timed)",
        flush=True,
    )
    sample = tuple(column[:loop_count].tolist() for column in columns)
    loop_s, _ = best_of(lambda: python_loop(*sample))
    loop_total_s = loop_s / loop_count * count
    print(
        f"{label}: python loop {loop_s:.3f} s over {_size(loop_count)} cases (best of 3),"
        f" {loop_s / loop_count * 1e6:.2f} us per case, EXTRAPOLATED to {_size(count)} cases:"
        f" {loop_total_s:.1f} s",
        flush=True,
    )
    print(
        f"{label}: RATIOS to the bare numpy int anchor, wall clock: end to end"
        f" (compute_pensions) {vectorized_s / int_s:.2f}x (goal <= 2x); the formula alone"
        f" {kernel_s / int_s:.2f}x (goal <= 1.25x)",
        flush=True,
    )
    print(
        f"{label}: RATIOS to the bare numpy int anchor, CPU time: end to end"
        f" {vectorized_cpu / int_cpu:.2f}x; the formula alone {kernel_cpu / int_cpu:.2f}x",
        flush=True,
    )
    print(
        f"{label}: vectorized {vectorized_s:.2f} s;"
        f" bare numpy int {int_s:.2f} s (ratio {vectorized_s / int_s:.2f}x);"
        f" bare numpy float64 {float_s:.2f} s (ratio {vectorized_s / float_s:.2f}x);"
        f" python loop extrapolated {loop_total_s:.1f} s (ratio {vectorized_s / loop_total_s:.3f}x)"
    )
    _print_interleaved(
        label,
        {
            "anchor": lambda: bare_int(*columns),
            "formula alone": lambda: pensions_with_parameters(parameters, cases),
            "end to end": lambda: compute_pensions(policy, cases),
        },
    )
    _print_agreement(label, cases, exact, anchor, float_total)
    general = with_regional_parts(cases)
    general_s, general_cpu, _ = best_of_clocks(
        lambda: compute_pensions(policy, general), RATIO_REPEAT
    )
    print(
        f"{label}: the general loop (4 in 10 cases with deemed years; a tenth each in 浙江 and"
        f" 江苏, half of those with an original transitional amount): compute_pensions"
        f" {general_s:.3f} s wall, {general_cpu:.3f} s CPU (best of {RATIO_REPEAT}):"
        f" {general_s / vectorized_s:.2f}x the plain batch, {general_s / int_s:.2f}x the"
        " anchor (which computes no transitional pension)",
        flush=True,
    )
    print(f"{label}: peak resident memory of the benchmark process {peak_rss_mib():,.0f} MiB")


def _print_interleaved(label: str, functions: dict[str, Callable[[], object]]) -> None:
    """The ratios again, with the anchor and the formula run in turn, round after round:
    on a shared machine the load changes within seconds, and a ratio of two runs made
    moments apart is less exposed to it than the ratio of two separate bests. Prints the
    median and the range of each round's ratio to the first function, by each clock."""
    clocks = (("wall", time.perf_counter), ("CPU", time.process_time))
    times: dict[str, dict[str, list[float]]] = {c: {n: [] for n in functions} for c, _ in clocks}
    for _ in range(RATIO_REPEAT):
        for name, function in functions.items():
            start = {c: clock() for c, clock in clocks}
            value = function()
            for c, clock in clocks:
                times[c][name].append(clock() - start[c])
            del value
    anchor = next(iter(functions))
    for c, _ in clocks:
        parts = []
        for name in list(functions)[1:]:
            ratios = sorted(t / a for t, a in zip(times[c][name], times[c][anchor], strict=True))
            parts.append(
                f"{name} median {ratios[len(ratios) // 2]:.2f}x"
                f" ({ratios[0]:.2f}x-{ratios[-1]:.2f}x)"
            )
        print(
            f"{label}: INTERLEAVED, {RATIO_REPEAT} rounds of anchor then formula, each round's"
            f" ratio by {c}: {'; '.join(parts)}",
            flush=True,
        )


def _time_float(columns: tuple[IntArray, ...]) -> tuple[float, FloatArray]:
    floats = tuple(column.astype(np.float64) for column in columns)
    return best_of(lambda: bare_float(*floats))


def _print_agreement(
    label: str,
    cases: PensionCases,
    exact: tuple[IntArray, IntArray, IntArray],
    anchor: tuple[IntArray, IntArray, IntArray],
    float_total: FloatArray,
) -> None:
    """How many national-formula cases the anchor gets right, and how many float64 gets wrong."""
    national = np.isin(cases.region, NATIONAL_FORMULA_REGIONS)
    same = np.logical_and.reduce([e == a for e, a in zip(exact, anchor, strict=True)])
    wrong_float = float_total != anchor[2]
    print(
        f"{label}: check: the bare int anchor equals compute_pensions (basic, account, total) on"
        f" {int(np.count_nonzero(same & national)):,} of {int(np.count_nonzero(national)):,}"
        f" national-formula cases; the float64 total differs from the exact one in"
        f" {int(np.count_nonzero(wrong_float)):,} of {len(cases):,} cases"
    )


def _size(count: int) -> str:
    if count % 1_000_000 == 0:
        return f"{count // 1_000_000}M"
    if count % 1_000 == 0:
        return f"{count // 1_000}k"
    return f"{count:,}"
