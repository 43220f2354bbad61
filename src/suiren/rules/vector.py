"""Parameters for whole arrays of cases.

A batch of cases has a date and a region each. Parameters depend only on the pair, and a
batch has few distinct pairs, so ``gather`` looks each distinct pair up once and hands the
formulas, for every parameter, the resolved values of the distinct pairs and the index of
each case's pair. ``column`` turns those into a numpy array per case.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from suiren.domain.errors import ParameterNotFound
from suiren.rules.parameters import ParameterNode, ResolvedValue

EPOCH = date(1970, 1, 1).toordinal()


@dataclass(frozen=True, slots=True)
class Gathered:
    """Resolved parameters of the distinct (date, region) pairs of a batch."""

    values: dict[str, list[ResolvedValue]]  # name -> one per distinct pair
    pair_of_case: npt.NDArray[np.intp]  # case -> index of its pair
    pairs: list[tuple[date, str]]

    def column(self, name: str, convert: Callable[[Any], Any], dtype: Any = np.int64) -> Any:
        """``convert(value)`` for each pair, spread over the cases."""
        per_pair = np.array([convert(v.value) for v in self.values[name]], dtype=dtype)
        return per_pair[self.pair_of_case]

    def distinct(self, name: str) -> list[Any]:
        return [v.value for v in self.values[name]]

    def for_case(self, index: int) -> dict[str, ResolvedValue]:
        pair = int(self.pair_of_case[index])
        return {name: values[pair] for name, values in self.values.items()}


def gather(
    tree: ParameterNode,
    ancestry_of: Callable[[str], tuple[str, ...]],
    days: npt.NDArray[np.int64],
    regions: npt.NDArray[Any],
    paths: Mapping[str, str],
    optional: frozenset[str] = frozenset(),
) -> Gathered:
    """Look up ``paths`` once per distinct (day, region) of the batch.

    ``days`` are day numbers since 1970-01-01; ``regions`` are region codes as strings.
    A name in ``optional`` that has no value for a pair resolves to ``None`` instead of
    raising; the formula then decides whether a case needs it.
    """
    region_codes, region_index = np.unique(regions.astype(str), return_inverse=True)
    key = days.astype(np.int64) * len(region_codes) + region_index
    distinct_keys, pair_of_case = np.unique(key, return_inverse=True)
    pairs: list[tuple[date, str]] = []
    values: dict[str, list[ResolvedValue]] = {name: [] for name in paths}
    leaves = {name: tree.parameter(path) for name, path in paths.items()}
    for k in distinct_keys.tolist():
        day = date.fromordinal(EPOCH + k // len(region_codes))
        region = str(region_codes[k % len(region_codes)])
        ancestry = ancestry_of(region)
        pairs.append((day, region))
        for name, leaf in leaves.items():
            try:
                values[name].append(leaf.lookup(day, ancestry))
            except ParameterNotFound:
                if name not in optional:
                    raise
                values[name].append(ResolvedValue(leaf.path, None, day, region, "", leaf.unit))
    return Gathered(values, pair_of_case.astype(np.intp), pairs)


def day_number(day: date) -> int:
    return day.toordinal() - EPOCH
