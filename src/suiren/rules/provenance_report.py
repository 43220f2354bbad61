"""The provenance of every dated value of a parameter tree, as a list to read or count.

One row per dated value of every parameter in every region (a value that inherits its
parameter's or region's reference is listed with it), in the order of parameter, region
and date. ``suiren rules provenance`` prints the rows; ``--unverified`` keeps those still
to be checked against an official text, each with why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from suiren.rules.parameters import ParameterNode, Value, show_value
from suiren.rules.provenance import Provenance


@dataclass(frozen=True, slots=True)
class CitedValue:
    """One dated value and what it cites; ``source`` is where it is written (file:line)."""

    parameter: str
    region: str
    start: date
    value: Value
    provenance: Provenance
    source: str

    @property
    def verified(self) -> bool:
        return self.provenance.verified

    def to_json(self) -> dict[str, Any]:
        return {
            "parameter": self.parameter,
            "region": self.region,
            "in_force_from": self.start.isoformat(),
            "value": None if self.value is None else show_value(self.value),
            "verified": self.verified,
            "reference": self.provenance.render(),
            "provenance": self.provenance.to_json(),
            "source": self.source,
        }

    def line(self) -> str:
        value = "null" if self.value is None else show_value(self.value)
        return (
            f"{self.parameter} [{self.region}] {self.start.isoformat()} = {value}:"
            f" {self.provenance.render()}"
        )


def cited_values(tree: ParameterNode) -> list[CitedValue]:
    """Every dated value of ``tree`` with its provenance, by parameter, region and date."""
    rows = [
        CitedValue(parameter.path, region, entry.start, entry.value, entry.reference, entry.source)
        for parameter in tree.walk()
        for region, series in parameter.series.items()
        for entry in series.entries
    ]
    return sorted(rows, key=lambda row: (row.parameter, row.region, row.start))


def unverified_values(tree: ParameterNode) -> list[CitedValue]:
    """The values still to be checked against an official text."""
    return [row for row in cited_values(tree) if not row.verified]


def verified_without_url(tree: ParameterNode) -> list[CitedValue]:
    """Values counted verified whose sources name no page they were read on (no ``url``).

    The loader accepts a document number alone as verified; docs/parameters.md ("What counts
    as read") asks for the official text itself. These are the values whose reading is not
    recorded: add the page read, or mark the value unverified and say why.
    """
    return [
        row
        for row in cited_values(tree)
        if row.verified and all(source.url is None for source in row.provenance.sources)
    ]
