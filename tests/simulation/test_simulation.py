"""The simulation of the whole ledger, on SQLite and PostgreSQL (tests/simulation/world.py).

Each seed runs on a fresh database. A failing seed is named in the failure as
``SUIREN_SIM_SEED=…``; with that variable set only that seed runs — the same requests and
faults in the same order (``SUIREN_SIM_STEPS`` for another length):

    SUIREN_SIM_SEED=17 pytest tests/simulation -p no:randomly -k sqlite

``SUIREN_SIM_SEEDS=200`` runs seeds 1 to 200 instead of the few that ``make test`` runs.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.simulation.world import Simulation

SEEDS = {"sqlite": 14, "postgres": 4}  # seeds 1..n per backend in `make test`: 2,100 and 400 steps
# (20 SQLite seeds until 2026-12-04: `make test` went over 10 minutes on 2 cores; SUIREN_SIM_SEEDS for more)
PARTS = 2  # the seeds in two test items per backend, so that two workers share them
STEPS = {"sqlite": 150, "postgres": 100}
LOG_TAIL = 25  # steps printed before the one that failed


def seeds(backend: str) -> list[int]:
    chosen = os.environ.get("SUIREN_SIM_SEED")
    if chosen:
        return [int(chosen)]
    return list(range(1, int(os.environ.get("SUIREN_SIM_SEEDS", SEEDS[backend])) + 1))


@pytest.mark.parametrize("part", range(PARTS))
def test_simulation(backend: str, engine_factory: Any, part: int) -> None:
    steps = int(os.environ.get("SUIREN_SIM_STEPS", STEPS[backend]))
    for seed in seeds(backend)[part::PARTS]:
        simulation = Simulation(engine_factory(), seed)
        try:
            simulation.run(steps)
        except Exception as failure:  # any failure: name the seed that replays it
            tail = "\n".join(simulation.log[-LOG_TAIL:])
            pytest.fail(
                f"SUIREN_SIM_SEED={seed} ({backend}, {steps} steps) failed at step"
                f" {len(simulation.log) - 1}: {type(failure).__name__}: {failure}\n"
                f"last steps:\n{tail}",
                pytrace=True,
            )
