"""Explanations: every result says how it was reached.

A ``Step`` records one named calculation: the formula in words, the values that went in,
the result, and the parameters it used with their references. A result's explanation is
the list of its steps, serialisable to JSON for the CLI and the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from suiren.rules.parameters import ResolvedValue


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    formula: str
    inputs: dict[str, str]
    result: str
    parameters: tuple[ResolvedValue, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.name,
            "formula": self.formula,
            "inputs": self.inputs,
            "result": self.result,
            "parameters": [p.cite() for p in self.parameters],
        }
