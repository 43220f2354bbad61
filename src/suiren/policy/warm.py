"""Every compiled loop (numba) of the formulas loaded, or compiled, before anyone waits on it.

A loop is compiled on its first call (``njit_cached``: importing numba costs every command
about 0.2 s, and most commands never need it) and cached on disk. On a fresh install the
first call compiles: 7–8 s of CPU on an idle machine, over 20 s on a busy one — measured as
the first worker to open the portal's pension page after ``make run`` (2026-12-03). The
server calls ``warm_compiled`` in a thread of its own as it starts, so that the compile (or,
once cached, the load: about a second) is done before the first estimate is asked for; a
request that comes sooner waits on numba's lock for the loop it needs, as it did before.

Each loop is compiled for the argument types it is called with: this runs the same entry
points as a real batch, on one case each, so that every signature the service uses is made
— the plain kernel (one index array for both parts, as the benchmark and the simulation pass
it) and the general one (an estimate's and a determination table's), the pair table, the years
rounding,
and the parameter look-up's pairs pass (used from ``vector_pairs.COMPILED_ROWS_MIN`` rows).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from datetime import date

import numpy as np

from suiren.policy import Policy
from suiren.policy.pension import YEARS_SCALE, PensionCases, compute_pensions
from suiren.rules.vector import day_number
from suiren.rules.vector_pairs import sorted_pairs

WARM_REGION = "120000"  # 天津: a province with every parameter of the national formula
WARM_DAY = date(2024, 1, 1)


def warm_cases() -> PensionCases:
    """One plain case (no printed wage, no deemed years, one index for both parts) of 20 years
    and a month, which 天津's unit (0.01 year) rounds: the years rounding runs too."""

    def one(value: int) -> np.ndarray:
        return np.array([value], dtype=np.int64)

    index = one(1_000_000)
    return PensionCases(
        region=np.array([WARM_REGION]),
        day=one(day_number(WARM_DAY)),
        base_fen=one(900_000),
        province_base_fen=one(900_000),
        index_1e6=index,
        transitional_index_1e6=index,  # the same array: the plain kernel's condition
        years=one(20 * YEARS_SCALE + YEARS_SCALE // 12),
        deemed_years=one(0),
        account_fen=one(10_000_000),
        divisor_tenths=one(1390),
        age_months=one(60 * 12),
    )


def warm_compiled(policy: Policy) -> None:
    """Run each compiled loop once (see the module's text); the results are discarded."""
    plain = warm_cases()
    compute_pensions(policy, plain)  # the plain kernel, the pair table, the years rounding
    general = replace(plain, transitional_index_1e6=plain.index_1e6.copy())  # as an estimate's
    compute_pensions(policy, general)
    days = np.array([day_number(WARM_DAY), day_number(date(2023, 1, 1))], dtype=np.int64)
    sorted_pairs(days, np.array([WARM_REGION, WARM_REGION]), rows_min=1)  # both loops: out of order


def warm_in_background(policy: Policy) -> threading.Thread:
    """``warm_compiled`` in a daemon thread (the server starts at once). A failure is logged,
    never raised: a request that needs the loop compiles it then, and says what went wrong."""

    def run() -> None:
        try:
            warm_compiled(policy)
        except Exception:  # the warm-up is an optimisation: the server serves without it
            logging.getLogger(__name__).exception("the compiled loops' warm-up failed")

    thread = threading.Thread(target=run, name="suiren-warm-up", daemon=True)
    thread.start()
    return thread
