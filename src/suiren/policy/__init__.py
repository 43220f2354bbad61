"""Policy content: the parameter files, the scenarios and the formulas that use them.

``load_policy(scenario)`` reads the parameter tree once, applies the scenario overlay and
returns a ``Policy``: the parameters, the region registry and the scenario's name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from suiren.domain.errors import InvalidInput
from suiren.domain.region import NATIONAL, RegionRegistry, default_registry
from suiren.rules.loader import load_tree
from suiren.rules.parameters import ParameterNode, View
from suiren.rules.scenario import Scenario, apply_scenario
from suiren.rules.vector import ParameterColumns, look_up, same_value_days

SCENARIOS = ("current_law", "money_follows_person")


def policy_folder() -> Path:
    return Path(str(resources.files("suiren.policy")))


@dataclass(frozen=True)
class Policy:
    scenario: Scenario
    registry: RegionRegistry

    @property
    def parameters(self) -> ParameterNode:
        return self.scenario.parameters

    @property
    def name(self) -> str:
        return self.scenario.name

    def at(self, day: date, region: str) -> View:
        return View(self.parameters, day, self.registry.ancestry(region))

    def national(self, day: date) -> View:
        return View(self.parameters, day, (NATIONAL,))

    def look_up(
        self,
        days: npt.NDArray[np.int64],
        regions: npt.NDArray[Any],
        paths: dict[str, str],
        optional: frozenset[str] = frozenset(),
    ) -> ParameterColumns:
        return look_up(self.parameters, self.registry.ancestry, days, regions, paths, optional)

    def same_value_days(
        self, days: npt.NDArray[np.int64], region: str, paths: Iterable[str]
    ) -> npt.NDArray[np.int64]:
        """``days`` of one region, each replaced by the first of them on which ``paths``
        resolve as on it (``rules.vector.same_value_days``): a ``look_up`` on these resolves
        each run of days that share the parameters' values once."""
        return same_value_days(self.parameters, self.registry.ancestry(region), paths, days)


@cache
def baseline_parameters() -> ParameterNode:
    return load_tree(policy_folder() / "parameters", default_registry())


@cache
def load_policy(scenario: str = "current_law") -> Policy:
    """The parameters under ``scenario`` (one of ``SCENARIOS``), loaded once and cached."""
    if scenario not in SCENARIOS:
        raise InvalidInput(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    path = policy_folder() / "scenarios" / f"{scenario}.yaml"
    registry = default_registry()
    return Policy(apply_scenario(baseline_parameters(), path, registry), registry)
