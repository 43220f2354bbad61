"""Parameters for whole arrays of cases.

A batch of cases has a date and a region each. Parameters depend only on the pair, and a
batch has few distinct pairs, so ``look_up`` looks each distinct pair up once and hands the
formulas, for every parameter, the resolved values of the distinct pairs and the index of
each case's pair. ``column`` turns those into a numpy array per case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from suiren.rules.parameters import ParameterNode, ResolvedValue
from suiren.rules.provenance import NO_PROVENANCE
from suiren.rules.vector_pairs import REGION_SPAN, sorted_pairs

EPOCH = date(1970, 1, 1).toordinal()
_DIGIT_WEIGHTS = np.array([100_000, 10_000, 1_000, 100, 10, 1], dtype=np.int64)


def region_numbers(regions: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    """Six-digit region codes as integers, without a Python loop or a string parse per case."""
    codes = np.asarray(regions)
    if codes.dtype.kind in "iu":
        return codes.astype(np.int64)
    codes = codes.astype("<U6")
    digits = codes.view(np.uint32).reshape(-1, 6).astype(np.int64) - ord("0")
    if len(digits) and (bool(np.any(digits < 0)) or bool(np.any(digits > 9))):
        raise AssertionError("region codes must be six digits")
    return digits @ _DIGIT_WEIGHTS


@dataclass(frozen=True, slots=True)
class ParameterColumns:
    """Resolved parameters of the distinct (date, region) pairs of a batch."""

    values: dict[str, list[ResolvedValue]]  # name -> one per distinct pair
    pair_of_case: npt.NDArray[np.intp]  # case -> index of its pair
    pairs: list[tuple[date, str]]

    def column(self, name: str, convert: Callable[[Any], Any], dtype: Any = np.int64) -> Any:
        """``convert(value)`` for each pair, spread over the cases (read-only).

        A value shared by every pair is a zero-stride view, not a gathered copy: most
        parameters are the same across a batch, and a copy of ten million would cost more
        than the arithmetic that uses it.
        """
        per_pair = np.array([convert(v.value) for v in self.values[name]], dtype=dtype)
        if len(per_pair) == 1 or bool(np.all(per_pair == per_pair[0])):
            return np.broadcast_to(per_pair[:1], self.pair_of_case.shape)
        return per_pair[self.pair_of_case]

    def per_pair(self, values: list[Any], dtype: Any = np.int64) -> Any:
        """Per-pair ``values`` spread over the cases, like ``column``."""
        array = np.array(values, dtype=dtype)
        if len(array) == 1 or bool(np.all(array == array[0])):
            return np.broadcast_to(array[:1], self.pair_of_case.shape)
        return array[self.pair_of_case]

    def distinct(self, name: str) -> list[Any]:
        return [v.value for v in self.values[name]]

    def for_case(self, index: int) -> dict[str, ResolvedValue]:
        pair = int(self.pair_of_case[index])
        return {name: values[pair] for name, values in self.values.items()}


def look_up(
    tree: ParameterNode,
    ancestry_of: Callable[[str], tuple[str, ...]],
    days: npt.NDArray[np.int64],
    regions: npt.NDArray[Any],
    paths: Mapping[str, str],
    optional: frozenset[str] = frozenset(),
) -> ParameterColumns:
    """Look up ``paths`` once per distinct (day, region) of the batch.

    ``days`` are day numbers since 1970-01-01; ``regions`` are region codes as strings.
    A name in ``optional`` that has no value for a pair resolves to ``None`` instead of
    raising; the formula then decides whether a case needs it.
    """
    fast = sorted_pairs(days, regions)  # one compiled pass when the batch has few pairs
    if fast is not None:
        distinct_keys, pair_of_case = fast
    else:
        key = days.astype(np.int64) * REGION_SPAN + region_numbers(regions)
        distinct_keys = np.unique(key)  # many distinct pairs: sort once, then search
        pair_of_case = np.searchsorted(distinct_keys, key)
    pairs: list[tuple[date, str]] = []
    values: dict[str, list[ResolvedValue]] = {name: [] for name in paths}
    leaves = {name: tree.parameter(path) for name, path in paths.items()}
    for k in distinct_keys.tolist():
        day = date.fromordinal(EPOCH + k // REGION_SPAN)
        region = f"{k % REGION_SPAN:06d}"
        ancestry = ancestry_of(region)
        pairs.append((day, region))
        for name, leaf in leaves.items():
            resolved = leaf.find(day, ancestry)
            if resolved is None:
                if name not in optional:
                    leaf.lookup(day, ancestry)  # raises ParameterNotFound, saying why
                resolved = ResolvedValue(leaf.path, None, day, region, NO_PROVENANCE, leaf.unit)
            values[name].append(resolved)
    return ParameterColumns(values, pair_of_case.astype(np.intp, copy=False), pairs)


def day_number(day: date) -> int:
    return day.toordinal() - EPOCH


def change_days(
    tree: ParameterNode, ancestry: tuple[str, ...], paths: Iterable[str]
) -> npt.NDArray[np.int64]:
    """The day numbers on which any of ``paths`` starts a value in a region of ``ancestry``,
    sorted: between two of them (and before the first, and after the last) every one of the
    parameters resolves to the same value, since a lookup only picks, region by region, the
    entry in force."""
    parameters = [tree.parameter(path) for path in paths]
    starts = {
        entry.start
        for parameter in parameters
        for region in ancestry
        if region in parameter.series
        for entry in parameter.series[region].entries
    }
    return np.array(sorted(day_number(d) for d in starts), dtype=np.int64)


def same_value_days(
    tree: ParameterNode,
    ancestry: tuple[str, ...],
    paths: Iterable[str],
    days: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """Each of ``days`` replaced by the first of ``days`` on which every parameter of ``paths``
    resolves as on it, for a region of ``ancestry``.

    ``look_up`` resolves each distinct (day, region) of a batch; a worker's months ahead are
    hundreds of days that share a handful of values (every month after the last published
    date shares the latest), so looking them up on these days resolves each run once and
    gives the same values.
    """
    if not len(days):
        return days
    run = np.searchsorted(change_days(tree, ancestry, paths), days, side="right")
    _, first, inverse = np.unique(run, return_index=True, return_inverse=True)
    same: npt.NDArray[np.int64] = days[first][inverse.reshape(-1)]
    return same


def first_day_numbers(month_ordinals: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """``day_number(Month(o).first_day())`` of each month ordinal (``year × 12 + month − 1``)."""
    months = (np.asarray(month_ordinals, dtype=np.int64) - 1970 * 12).astype("datetime64[M]")
    days: npt.NDArray[np.int64] = months.astype("datetime64[D]").astype(np.int64)
    return days
