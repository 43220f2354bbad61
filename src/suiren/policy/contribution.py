"""Contribution base and split for flexible workers (灵活就业人员缴费基数与划分).

The worker chooses a monthly base between the floor and the ceiling of their province
(60% and 300% of the provincial 全口径 average monthly wage, or the amounts the province
published); 20% of it is due, 8% of the base goes to the individual account (个人账户) and
the rest to the pooled fund (统筹基金). All amounts are int64 fen; each published bound
and each share is rounded once, half up, to the unit its parameter names.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from suiren.domain.money import divide_round
from suiren.policy import Policy
from suiren.rules.parameters import ResolvedValue

IntArray = npt.NDArray[np.int64]
FEN_PER_YUAN = 100

BOUND_PARAMETERS = {
    "wage": "contribution.base.average_monthly_wage",
    "floor_ratio": "contribution.base.floor_ratio",
    "ceiling_ratio": "contribution.base.ceiling_ratio",
    "unit": "contribution.base.bound_rounding_unit_fen",
    "floor": "contribution.base.published_floor",
    "ceiling": "contribution.base.published_ceiling",
}
SPLIT_PARAMETERS = {
    "rate": "contribution.flexible.rate",
    "account_rate": "contribution.flexible.individual_account_rate",
}


@dataclass(frozen=True)
class Bounds:
    wage_fen: IntArray
    floor_fen: IntArray
    ceiling_fen: IntArray
    cited: Any  # ParameterColumns

    def figures(self, case: int) -> tuple[ResolvedValue, ...]:
        """The parameters case ``case``'s floor and ceiling rest on: a bound the province
        published, else the average wage with the bound's ratio and rounding unit (the wage
        of a region that publishes both bounds bounds nothing)."""
        values = self.cited.for_case(case)
        used: list[ResolvedValue] = []
        for bound in ("floor", "ceiling"):
            if values[bound].value is not None:
                used.append(values[bound])
            else:
                used += [values["wage"], values[f"{bound}_ratio"], values["unit"]]
        return tuple(used)


def _times(amount_fen: IntArray, ratios: list[Any], pair_of_case: Any, unit: IntArray) -> IntArray:
    numerators = np.array([Fraction(r).numerator for r in ratios], dtype=np.int64)[pair_of_case]
    denominators = np.array([Fraction(r).denominator for r in ratios], dtype=np.int64)[pair_of_case]
    rounded: IntArray = divide_round(amount_fen * numerators, denominators * unit) * unit
    return rounded


def contribution_bounds(policy: Policy, days: IntArray, regions: npt.NDArray[Any]) -> Bounds:
    """Floor and ceiling of the monthly base for each (day, region), in fen.

    A bound the province published (``published_floor``/``published_ceiling``) wins over
    the computed ratio × average wage: provinces round, phase in, or set city tiers.
    """
    g = policy.look_up(days, regions, BOUND_PARAMETERS, frozenset({"floor", "ceiling"}))
    wage = g.column("wage", lambda v: int(Fraction(v) * FEN_PER_YUAN))
    unit = g.column("unit", int)
    floor = _times(wage, g.distinct("floor_ratio"), g.pair_of_case, unit)
    ceiling = _times(wage, g.distinct("ceiling_ratio"), g.pair_of_case, unit)
    published_floor = g.column("floor", lambda v: -1 if v is None else int(Fraction(v) * 100))
    published_ceiling = g.column("ceiling", lambda v: -1 if v is None else int(Fraction(v) * 100))
    floor = np.where(published_floor >= 0, published_floor, floor)
    ceiling = np.where(published_ceiling >= 0, published_ceiling, ceiling)
    return Bounds(wage, floor, ceiling, g)


@dataclass(frozen=True)
class Split:
    due_fen: IntArray
    individual_account_fen: IntArray
    pooled_fen: IntArray


def split_contribution(
    policy: Policy, days: IntArray, regions: npt.NDArray[Any], base_fen: IntArray
) -> Split:
    """What a month at ``base_fen`` costs and where it goes; due = account + pooled exactly."""
    g = policy.look_up(days, regions, SPLIT_PARAMETERS)
    ones = np.ones(len(base_fen), dtype=np.int64)
    due = _times(base_fen, g.distinct("rate"), g.pair_of_case, ones)
    account = _times(base_fen, g.distinct("account_rate"), g.pair_of_case, ones)
    return Split(due, account, due - account)
