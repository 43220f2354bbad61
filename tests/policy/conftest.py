"""Collect the YAML policy tests (tests/policy/cases/*.yaml) an analyst can read and write.

Each file is a list of cases::

    - name: 天津 2023-11 女 核定表
      source: where the expected figures come from
      formula: pension            # or retirement, contribution_bounds, contribution_split, parameter
      period: 2023-11-01          # the date the rules are read on
      input: {...}
      output: {...}               # exact: amounts in yuan as printed, or in fen
      outputs_from: printed       # a real table's case: printed, computed or mixed
      computed_output: {...}      # the figures the source did not print (computed, mixed)

Outputs are compared exactly; a case fails with the field, the expected and the actual.

A real determination table's case says where its amounts come from. ``output`` holds the
amounts printed on the table (real-table evidence) and the checks that are no amounts
(warnings, years); ``computed_output`` holds amounts found only in the transcriber's own
expected values, which his calculator produced or rewrote (tests/policy/audit_printed.py).
Those are checked too, as a separate item named ``… [computed regression]``: a regression of
the calculator against them, never evidence that it reproduces a real table. A case whose
amounts are all computed has no real-table item; none is skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.policy.formulas import FORMULAS, run_case

CASE_KEYS = {
    "name",
    "source",
    "formula",
    "period",
    "periods",
    "input",
    "output",
    "scenario",
    "outputs_from",
    "computed_output",
}
OUTPUTS_FROM = ("printed", "computed", "mixed")
REGRESSION = " [computed regression]"


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
            problem = origin_problem(case)
            if problem:
                raise ValueError(f"{self.path}: case {number} ({case.get('name')}): {problem}")
            for name, expanded in expand(case):
                yield PolicyItem.from_parent(self, name=name, case=expanded)


def is_amount(key: str) -> bool:
    return key.endswith(("_yuan", "_fen"))


def _outputs(case: dict[str, Any]) -> list[tuple[str, Any, dict[str, Any], dict[str, Any]]]:
    """(name, period, printed output, computed output) per date of the case."""
    computed = case.get("computed_output") or {}
    if "periods" not in case and not (
        case.get("outputs_from") and any(isinstance(v, dict) for v in computed.values())
    ):
        return [(str(case["name"]), case.get("period"), case.get("output") or {}, computed)]
    periods = case.get("periods") or {}
    dates = list(periods) + [d for d in computed if d not in periods]
    return [
        (f"{case['name']} @ {day}", day, periods.get(day) or {}, computed.get(day) or {})
        for day in dates
    ]


def origin_problem(case: dict[str, Any]) -> str | None:
    """Whether ``outputs_from`` says what the outputs are: None when it does."""
    origin = case.get("outputs_from")
    if origin is None:
        return "computed_output without outputs_from" if "computed_output" in case else None
    if origin not in OUTPUTS_FROM:
        return f"outputs_from is one of {OUTPUTS_FROM}, not {origin!r}"
    rows = _outputs(case)
    printed = any(is_amount(k) for _, _, out, _ in rows for k in out)
    computed = any(is_amount(k) for _, _, _, comp in rows for k in comp)
    if any(not is_amount(k) for _, _, _, comp in rows for k in comp):
        return "computed_output holds amounts only"
    if not (printed or computed):
        return "no amount to check"
    actual = "mixed" if printed and computed else "printed" if printed else "computed"
    return None if actual == origin else f"outputs_from says {origin}, the outputs are {actual}"


def expand(case: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """One item per date (``periods: {date: output}``: before, on, after), and per origin.

    The printed amounts are one item; the computed ones another, named ``[computed
    regression]``, which also carries the checks that are no amounts when nothing is printed.
    """
    out = []
    for name, period, printed, computed in _outputs(case):
        single = {k: v for k, v in case.items() if k not in ("periods", "computed_output")}
        if period is not None:
            single["period"] = period
        has_printed = any(is_amount(k) for k in printed) or not computed
        if has_printed:
            out.append((name, {**single, "output": printed}))
        if computed:
            checks = computed if has_printed else {**printed, **computed}
            out.append((name + REGRESSION, {**single, "output": checks, "regression": True}))
    return out


def load_cases(path: Path) -> list[dict[str, Any]]:
    """Every case once per date: its printed item, or its regression item where none is."""
    cases = read_cases(path)
    out = []
    for case in cases:
        seen = set()
        for name, expanded in expand(case):
            base = name.removesuffix(REGRESSION)
            if base not in seen:
                seen.add(base)
                out.append(expanded)
    return out


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """How many determination-table items checked printed figures, and how many computed."""
    counts = {"real table": [0, 0], "computed regression": [0, 0]}
    for outcome in ("passed", "failed"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            if "determination_tables.yaml" not in nodeid or report.when != "call":
                continue
            kind = "computed regression" if nodeid.endswith(REGRESSION) else "real table"
            counts[kind][outcome == "failed"] += 1
    if any(sum(v) for v in counts.values()):
        terminalreporter.write_line(
            "determination tables: {} real-table items (printed figures; {} failed), {} "
            "computed-regression items (the transcriber's computed figures, not evidence; "
            "{} failed)".format(*counts["real table"], *counts["computed regression"])
        )


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
            kind = (
                "computed regression (the figures are the transcriber's, not printed)"
                if self.case.get("regression")
                else "policy case"
            )
            lines = [f"{kind} {self.name!r} ({self.case.get('source', 'no source')}):"]
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
