"""Collect the YAML policy tests (tests/policy/cases/*.yaml) an analyst can read and write.

Each file is a list of cases::

    - name: 天津 2023-11 女 核定表
      source: where the expected figures come from
      formula: pension            # or retirement, contribution_bounds, contribution_split, parameter
      period: 2023-11-01          # the date the rules are read on
      input: {...}
      output: {...}               # exact: amounts in yuan as printed, or in fen

Outputs are compared exactly; a case fails with the field, the expected and the actual.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.policy.formulas import FORMULAS, run_case

CASE_KEYS = {"name", "source", "formula", "period", "periods", "input", "output", "scenario"}


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.suffix == ".yaml" and file_path.parent.name == "cases":
        return PolicyFile.from_parent(parent, path=file_path)
    return None


def read_cases(path: Path) -> Any:
    """A cases file, through libyaml where PyYAML has it (every xdist worker collects them)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)


class PolicyFile(pytest.File):
    def collect(self):  # type: ignore[no-untyped-def]
        cases = read_cases(self.path)
        if not isinstance(cases, list):
            raise ValueError(f"{self.path}: a policy test file is a list of cases")
        for number, case in enumerate(cases):
            unknown = set(case) - CASE_KEYS
            if unknown:
                raise ValueError(f"{self.path}: case {number}: unknown keys {sorted(unknown)}")
            if case.get("formula") not in FORMULAS:
                raise ValueError(
                    f"{self.path}: case {number}: unknown formula {case.get('formula')!r}"
                )
            for name, expanded in expand(case):
                yield PolicyItem.from_parent(self, name=name, case=expanded)


def expand(case: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """A case with ``periods: {date: output}`` is one case per date (before, on, after)."""
    if "periods" not in case:
        return [(str(case["name"]), case)]
    out = []
    for period, output in case["periods"].items():
        single = {k: v for k, v in case.items() if k != "periods"}
        single.update(period=period, output=output)
        out.append((f"{case['name']} @ {period}", single))
    return out


def load_cases(path: Path) -> list[dict[str, Any]]:
    cases = read_cases(path)
    return [c for case in cases for _, c in expand(case)]


class PolicyItem(pytest.Item):
    def __init__(self, *, case: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case

    def runtest(self) -> None:
        actual = run_case(self.case)
        expected = {k: str(v) for k, v in self.case["output"].items()}
        got = {k: actual.get(k) for k in expected}
        if got != expected:
            raise PolicyMismatch(expected, got)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, PolicyMismatch):
            lines = [f"policy case {self.name!r} ({self.case.get('source', 'no source')}):"]
            for key, want in excinfo.value.expected.items():
                have = excinfo.value.got.get(key)
                mark = "  " if want == have else "✗ "
                lines.append(f"  {mark}{key}: expected {want}, got {have}")
            return "\n".join(lines)
        return str(super().repr_failure(excinfo))

    def reportinfo(self):  # type: ignore[no-untyped-def]
        return self.path, 0, f"policy: {self.name}"


class PolicyMismatch(Exception):
    def __init__(self, expected: dict[str, str], got: dict[str, Any]) -> None:
        super().__init__("policy case mismatch")
        self.expected = expected
        self.got = got
