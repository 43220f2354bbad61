"""Effective-dated, regional parameters (OpenFisca style, with regional overrides).

A ``ParameterNode`` is a tree of named children; a ``Parameter`` is a leaf whose values
are dated (``{2019-05-01: 0.6}``: in force from that day until the next date) and may be
overridden per region: a city's series overrides its province's, a province's overrides
the national one (``000000``). A ``None`` value ends a series: nationally the parameter
then has no value; for a region the override ends and the parent applies again.

Values are exact: numbers are ``Fraction``, tables map integer keys to ``Fraction``.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from suiren.domain.errors import ParameterNotFound
from suiren.domain.messages import text as message
from suiren.domain.region import NATIONAL
from suiren.rules.provenance import Provenance

Value = Any  # Fraction | str | bool | dict[int, Fraction] | None
YEAR_MONTHS = 12  # a yearly figure older than this on the day it is read is provisional


@dataclass(frozen=True, slots=True)
class DatedValue:
    """One dated entry of a series, with where it was written and what it cites."""

    start: date
    value: Value
    reference: Provenance
    source: str  # "file:line"
    # the last day of the period the figure was published for, where the source gives one
    # longer than a year (上海's 2019 年度 ran 2019-05-01 to 2020-06-30): a yearly figure
    # read on or before it is not provisional; after it, it is (``Parameter.find``)
    until: date | None = None
    # the regions below this entry's region its figure was published without, while it is in
    # force (山东's 2025 计发基数: 除菏泽市以外): a lookup for one of them passes it over
    excludes: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ResolvedValue:
    """The answer of a lookup: the value and everything an explanation must cite."""

    path: str
    value: Value
    start: date
    region: str
    reference: Provenance
    unit: str
    # a yearly figure (``published: yearly``) applied twelve months or more after it started
    # (or after its ``until``, where its entry gives one): the next year's is not in the file
    # (not published yet), so this one stands in for it, as an agency pays provisionally (预发)
    # on last year's figure until the new one is out
    provisional: bool = False

    def cite(self) -> dict[str, Any]:
        """The parameter as an explanation cites it: ``reference`` is the provenance as one
        line of text, ``provenance`` its fields, ``verified`` whether every source is,
        ``provisional`` whether it is an earlier year's figure standing in (``provisional``)."""
        return {
            "parameter": self.path,
            "value": show_value(self.value),
            "unit": self.unit,
            "in_force_from": self.start.isoformat(),
            "region": self.region,
            "reference": self.reference.render(),
            "verified": self.reference.verified,
            "provisional": self.provisional,
            "provenance": self.reference.to_json(),
        }


def show_value(value: Value) -> str:
    """A value as its file would write it: exact decimals, else the exact fraction."""
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return str(value.numerator)
        d = value.denominator
        while d % 2 == 0:
            d //= 2
        while d % 5 == 0:
            d //= 5
        if d != 1:  # not a terminating decimal: show the exact fraction
            return f"{value.numerator}/{value.denominator}"
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        return format(exact.normalize(), "f")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show_value(v)}" for k, v in sorted(value.items())) + "}"
    return str(value)


def _start(entry: DatedValue) -> date:
    return entry.start


def _excludes(excluded: frozenset[str], ancestry: tuple[str, ...], depth: int) -> bool:
    """Whether ``excluded`` names a region of ``ancestry`` below ``ancestry[depth]``."""
    return bool(excluded) and not excluded.isdisjoint(ancestry[:depth])


@dataclass(slots=True)
class Series:
    """Dated values, sorted by start date. ``excludes`` names the regions below this one
    that all its figures are published without (广东（不含深圳）); an entry's own
    ``excludes`` those its figure is published without while it is in force (山东's 计发基数
    of 2025, 除菏泽市以外). A lookup for an excluded region, or a region within one, passes
    the series over on the days the exclusion holds."""

    entries: list[DatedValue] = field(default_factory=list)
    excludes: frozenset[str] = frozenset()

    def at(self, day: date) -> DatedValue | None:
        index = bisect_right(self.entries, day, key=_start) - 1
        return self.entries[index] if index >= 0 else None

    def excluded(self, day: date) -> frozenset[str]:
        """The regions this series' figure in force on ``day`` is published without."""
        entry = self.at(day)
        return self.excludes | entry.excludes if entry is not None else self.excludes

    def overlay(self, other: Series) -> Series:
        """``other`` replaces this series from ``other``'s first date on. What this series
        excludes stays excluded: each entry of ``other`` takes the exclusions of every entry
        of this series in force during its own span, so that a scenario never gives a region
        a figure the baseline's was published without."""
        excludes = self.excludes | other.excludes
        if not other.entries:
            return Series(list(self.entries), excludes)
        cut = other.entries[0].start
        kept = [e for e in self.entries if e.start < cut]
        ends = [e.start for e in other.entries[1:]] + [date.max]
        carried = [
            replace(e, excludes=e.excludes | self._excluded_between(e.start, end))
            for e, end in zip(other.entries, ends, strict=True)
        ]
        return Series(kept + carried, excludes)

    def _excluded_between(self, first: date, end: date) -> frozenset[str]:
        """The exclusions of the entries in force on any day from ``first`` until ``end``."""
        excluded = self.excluded(first)
        for entry in self.entries:
            if first < entry.start < end:
                excluded |= entry.excludes
        return excluded


@dataclass(frozen=True, slots=True)
class Near:
    """The value must lie within ``tolerance`` (relative) of ``ratio`` × ``of``: a published
    floor near 60% of the average wage (both named by their dotted paths). ``regions``
    gives a region's own tolerance where its published figures are known to lie further
    off (深圳's floor phased in from 40% of the wage), so the others keep the tight one."""

    ratio: str
    of: str
    tolerance: Fraction
    regions: tuple[tuple[str, Fraction], ...] = ()

    def tolerance_of(self, region: str) -> Fraction:
        """The tolerance for a value of ``region``'s own entry."""
        return dict(self.regions).get(region, self.tolerance)


@dataclass(frozen=True, slots=True)
class Checks:
    """What a parameter's metadata declares plausible; the loader refuses anything else.

    ``minimum``/``maximum`` bound every number (and every entry of a table); ``at_most``
    names a parameter this one may never exceed in any region on any day; ``near`` ties the
    value to a ratio of another parameter. ``source`` is where the metadata was written.
    """

    minimum: Fraction | None = None
    maximum: Fraction | None = None
    at_most: str | None = None
    near: Near | None = None
    source: str = ""


@dataclass(slots=True)
class Parameter:
    """A leaf: description, unit, type, the dated series per region and its checks."""

    path: str
    description: str
    unit: str
    kind: str  # number | table | text | bool
    series: dict[str, Series]  # region code -> series; NATIONAL for the national one
    source: str
    checks: Checks = field(default_factory=Checks)
    yearly: bool = False  # published once a year (``metadata.published: yearly``)

    def resolve(self, day: date, ancestry: tuple[str, ...]) -> tuple[str, DatedValue] | None:
        """The region and entry in force on ``day`` for the most specific region of
        ``ancestry``, or None where the parameter has no value. A series whose figure in
        force on ``day`` excludes a region of ``ancestry`` below its own is passed over (深圳
        never reads 广东（不含深圳）; 菏泽 does not read 山东's 计发基数 of 2025)."""
        for depth, region in enumerate(ancestry):
            series = self.series.get(region)
            if series is None:
                continue
            entry = series.at(day)
            if _excludes(series.excludes, ancestry, depth) or (
                entry is not None and _excludes(entry.excludes, ancestry, depth)
            ):
                continue
            if entry is None or (entry.value is None and region != NATIONAL):
                continue
            if entry.value is None:
                break
            return region, entry
        return None

    def find(self, day: date, ancestry: tuple[str, ...]) -> ResolvedValue | None:
        """``lookup``, or None where the parameter has no value (no exception: a batch's
        optional parameters are missing for thousands of pairs)."""
        found = self.resolve(day, ancestry)
        if found is None:
            return None
        region, entry = found
        provisional = self.yearly and (
            day > entry.until
            if entry.until is not None
            else (day.year - entry.start.year) * 12 + day.month - entry.start.month >= YEAR_MONTHS
        )
        return ResolvedValue(
            self.path, entry.value, entry.start, region, entry.reference, self.unit, provisional
        )

    def lookup(self, day: date, ancestry: tuple[str, ...]) -> ResolvedValue:
        """The value in force on ``day`` for the most specific region of ``ancestry``."""
        found = self.find(day, ancestry)
        if found is None:
            where = {"path": self.path, "day": day.isoformat(), "region": ancestry[0]}
            excluder = self.excluder(day, ancestry)
            if excluder is not None:
                raise ParameterNotFound(
                    message("parameter.excluded", excluder=excluder, source=self.source, **where)
                )
            raise ParameterNotFound(message("parameter.no-value", source=self.source, **where))
        return found

    def first_day(self, ancestry: tuple[str, ...]) -> date | None:
        """The first day on which any region of ``ancestry`` has an entry, if any (a lookup
        before it finds nothing)."""
        starts = [s.entries[0].start for r in ancestry if (s := self.series.get(r)) and s.entries]
        return min(starts, default=None)

    def excluder(self, day: date, ancestry: tuple[str, ...]) -> str | None:
        """The region of ``ancestry`` whose figure in force on ``day`` is published without
        the region looked up (or the region within it it lies in), if any."""
        for depth, region in enumerate(ancestry):
            series = self.series.get(region)
            if series is not None and _excludes(series.excluded(day), ancestry, depth):
                return region
        return None

    def change_dates(self) -> list[tuple[str, date]]:
        """Every (region, date) on which this parameter's value changes."""
        return [(r, e.start) for r, s in self.series.items() for e in s.entries]


@dataclass(slots=True)
class ParameterNode:
    """An inner node: named children (nodes or parameters)."""

    path: str
    description: str
    children: dict[str, ParameterNode | Parameter] = field(default_factory=dict)

    def get(self, dotted: str) -> ParameterNode | Parameter:
        node: ParameterNode | Parameter = self
        for part in dotted.split("."):
            if not isinstance(node, ParameterNode) or part not in node.children:
                raise ParameterNotFound(f"no parameter named {dotted!r} (stopped at {part!r})")
            node = node.children[part]
        return node

    def parameter(self, dotted: str) -> Parameter:
        node = self.get(dotted)
        if not isinstance(node, Parameter):
            raise ParameterNotFound(f"{dotted!r} is a node, not a parameter")
        return node

    def walk(self) -> Iterator[Parameter]:
        for child in self.children.values():
            if isinstance(child, Parameter):
                yield child
            else:
                yield from child.walk()

    def at(self, day: date, region: str, ancestry_of: Callable[[str], tuple[str, ...]]) -> View:
        return View(self, day, ancestry_of(region))


class View:
    """Parameters seen on one day from one region: ``view.get("a.b").value``."""

    def __init__(self, root: ParameterNode, day: date, ancestry: tuple[str, ...]) -> None:
        self._root = root
        self.day = day
        self.ancestry = ancestry

    @property
    def region(self) -> str:
        return self.ancestry[0]

    def get(self, dotted: str) -> ResolvedValue:
        return self._root.parameter(dotted).lookup(self.day, self.ancestry)

    def value(self, dotted: str) -> Value:
        return self.get(dotted).value

    def many(self, paths: Mapping[str, str]) -> dict[str, ResolvedValue]:
        return {name: self.get(path) for name, path in paths.items()}
