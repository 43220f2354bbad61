"""Load-time plausibility checks of parameter values (the loader's last stage).

A parameter's metadata declares what is plausible for it, and the loader refuses the tree
otherwise, so that a figure typed wrong fails at load time rather than as refused payments
or a wrong pension months later:

- ``range: {min: 0, max: 0.1}`` — every value (every entry of a table) lies in the range:
  an interest rate typed ten times too high fails;
- ``at_most: contribution.base.published_ceiling`` — in every region, on every day, the
  value is not above the named parameter's (a floor above its ceiling fails);
- ``near: {ratio: …floor_ratio, of: …average_monthly_wage, tolerance: 0.15}`` — the value
  lies within ``tolerance`` (relative) of ratio × of, where the parameters give both;
  ``regions: {"440300": 0.34}`` gives a region's own entries their own tolerance.

Every problem is returned as a record naming the file and line of the value at fault, the
parameter, the region and the date, never only the first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from fractions import Fraction

from suiren.domain.errors import ParameterNotFound, ParameterProblem
from suiren.domain.region import NATIONAL
from suiren.rules.parameters import DatedValue, Near, Parameter, ParameterNode, show_value

AncestryOf = Callable[[str], tuple[str, ...]]


def problem_at(source: str, parameter: str, start: date | None, message: str) -> ParameterProblem:
    """A problem located by a ``file:line`` source string."""
    file, _, line = source.rpartition(":")
    if not file or not line.isdigit():
        return ParameterProblem(source, None, parameter, start, message)
    return ParameterProblem(file, int(line), parameter, start, message)


def range_problems(parameter: Parameter) -> list[ParameterProblem]:
    """Every value of ``parameter`` outside its declared ``range``."""
    checks = parameter.checks
    if checks.minimum is None and checks.maximum is None:
        return []
    problems = []
    for region, series in parameter.series.items():
        for entry in series.entries:
            values = entry.value.values() if isinstance(entry.value, dict) else [entry.value]
            for value in values:
                if not isinstance(value, Fraction):
                    continue
                if (checks.minimum is not None and value < checks.minimum) or (
                    checks.maximum is not None and value > checks.maximum
                ):
                    problems.append(
                        problem_at(
                            entry.source,
                            parameter.path,
                            entry.start,
                            f"{parameter.path} [{region}] {entry.start}: {show_value(value)} is"
                            f" outside the plausible range {_show_range(parameter)} declared in"
                            " its metadata.range; check the figure (a misplaced decimal point,"
                            " a percentage written as a whole number?), or widen the range if"
                            " the regulation really says so",
                        )
                    )
    return problems


def _show_range(parameter: Parameter) -> str:
    low, high = parameter.checks.minimum, parameter.checks.maximum
    return f"{show_value(low) if low is not None else '…'} to" + (
        f" {show_value(high)}" if high is not None else " …"
    )


def relation_problems(
    tree: ParameterNode, ancestry_of: AncestryOf, missing_ok: bool = False
) -> list[ParameterProblem]:
    """Every breach of an ``at_most`` or ``near`` check in ``tree``.

    A parameter that a check names but the tree lacks is a problem, unless ``missing_ok``
    (it failed to load, and that failure is already reported).
    """
    problems: list[ParameterProblem] = []
    for parameter in tree.walk():
        checks = parameter.checks
        for key, names in (
            ("at_most", [checks.at_most] if checks.at_most else []),
            ("near", [checks.near.ratio, checks.near.of] if checks.near else []),
        ):
            if not names:
                continue
            others = [_find(tree, name) for name in names]
            if any(other is None for other in others):
                if not missing_ok:
                    missing = [n for n, o in zip(names, others, strict=True) if o is None]
                    problems.append(
                        problem_at(
                            checks.source,
                            parameter.path,
                            None,
                            f"metadata.{key} of {parameter.path} names {', '.join(missing)},"
                            " which is not a parameter; check the dotted path",
                        )
                    )
                continue
            found = [other for other in others if other is not None]
            if key == "at_most":
                problems += _at_most_problems(parameter, found[0], ancestry_of)
            elif checks.near is not None:
                problems += _near_problems(parameter, checks.near, found[0], found[1], ancestry_of)
    return problems


def _find(tree: ParameterNode, dotted: str) -> Parameter | None:
    try:
        return tree.parameter(dotted)
    except ParameterNotFound:  # reported by the caller
        return None


def _points(
    parameters: list[Parameter], ancestry_of: AncestryOf
) -> Iterator[tuple[str, date, list[tuple[str, DatedValue]]]]:
    """Each (region, day, resolved entries) where the parameters' combination may change,
    once per distinct combination of the entries that apply."""
    regions = [*sorted({r for p in parameters for r in p.series} - {NATIONAL}), NATIONAL]
    days = sorted({e.start for p in parameters for s in p.series.values() for e in s.entries})
    seen: set[tuple[tuple[str, date], ...]] = set()
    for region in regions:
        ancestry = ancestry_of(region)
        for day in days:
            resolved = [p.resolve(day, ancestry) for p in parameters]
            if any(r is None or not isinstance(r[1].value, Fraction) for r in resolved):
                continue
            found = [r for r in resolved if r is not None]
            key = tuple((r, e.start) for r, e in found)
            if key not in seen:
                seen.add(key)
                yield region, day, found


def _at_most_problems(
    parameter: Parameter, limit: Parameter, ancestry_of: AncestryOf
) -> list[ParameterProblem]:
    problems = []
    for region, day, ((own_region, own), (limit_region, bound)) in _points(
        [parameter, limit], ancestry_of
    ):
        if own.value > bound.value:
            problems.append(
                problem_at(
                    own.source,
                    parameter.path,
                    own.start,
                    f"{parameter.path} [{own_region}] {own.start}: {show_value(own.value)} is"
                    f" above {limit.path} {show_value(bound.value)} (for {region} on {day},"
                    f" from {limit_region} {bound.start}, {bound.source}); it may never exceed"
                    " it (metadata.at_most): check both figures against their notice",
                )
            )
    return problems


def _near_problems(
    parameter: Parameter,
    near: Near,
    ratio: Parameter,
    of: Parameter,
    ancestry_of: AncestryOf,
) -> list[ParameterProblem]:
    problems = []
    for region, day, ((own_region, own), (_, share), (_, base)) in _points(
        [parameter, ratio, of], ancestry_of
    ):
        tolerance = near.tolerance_of(own_region)
        expected = share.value * base.value
        if expected <= 0 or abs(own.value - expected) <= tolerance * expected:
            continue
        off = abs(own.value - expected) / expected
        side = "below" if own.value < expected else "above"
        problems.append(
            problem_at(
                own.source,
                parameter.path,
                own.start,
                f"{parameter.path} [{own_region}] {own.start}: {show_value(own.value)} is"
                f" {float(off):.1%} {side} {ratio.path} {show_value(share.value)} ×"
                f" {of.path} {show_value(base.value)} = {float(expected):.2f} (for {region} on"
                f" {day}); metadata.near allows {float(tolerance):.0%}: check the figure and"
                " the average wage against their notices",
            )
        )
    return problems


def check_tree(tree: ParameterNode, ancestry_of: AncestryOf) -> list[ParameterProblem]:
    """Every range and relation problem of a whole tree (a scenario's, after its overlays)."""
    problems = [p for parameter in tree.walk() for p in range_problems(parameter)]
    return problems + relation_problems(tree, ancestry_of)
