"""Every dated rule change has a policy case the day before, on and after.

The YAML cases are run with every parameter lookup recorded; for each dated entry of each
rule parameter (and each region override) there must be lookups that resolved to it on its
first day and the day after, and — where an earlier value applies — the day before.
Transcribed data series (average wages, published bounds, pension bases, years units by
province) are checked by their own cases and consistency tests instead, not day by day.
A null entry ends a region's value: its cases on and after find no value there.
Parameters read once a year (the crediting rate: interest for year Y reads it on Y-01-01)
need a case of the year of each change and of the year before.
"""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from suiren.domain.region import default_registry
from suiren.policy import baseline_parameters
from suiren.rules.parameters import Parameter
from tests.policy.conftest import load_cases
from tests.policy.formulas import run_case

CASES = Path(__file__).parent / "cases"
DATA_SERIES = {
    "contribution.base.average_monthly_wage",
    "contribution.base.published_floor",
    "contribution.base.published_ceiling",
    "pension.base",
}
READ_BY_YEAR = {"account.interest_rate", "account.in_year_interest_factor"}


@pytest.fixture(scope="module")
def seen() -> set[tuple[str, date, str, date | None]]:
    """(parameter, day looked up, region resolved, start of the entry resolved)."""
    records: set[tuple[str, date, str, date | None]] = set()
    original = Parameter.find  # ``lookup`` and the batch look-up both go through it

    def recording(self, day, ancestry):  # type: ignore[no-untyped-def]
        resolved = original(self, day, ancestry)
        if resolved is None:  # a region's value ended (null): no value for any of them
            records.update((self.path, day, region, None) for region in ancestry)
        else:
            records.add((self.path, day, resolved.region, resolved.start))
        return resolved

    Parameter.find = recording  # type: ignore[method-assign]
    try:
        for path in sorted(CASES.glob("*.yaml")):
            for case in load_cases(path):
                if case.get("scenario", "current_law") == "current_law":
                    run_case(case)
    finally:
        Parameter.find = original  # type: ignore[method-assign]
    return records


def _has_value_before(parameter: Parameter, region: str, start: date) -> bool:
    before = start - timedelta(days=1)
    for code in (region, "000000"):
        series = parameter.series.get(code)
        entry = series.at(before) if series else None
        if entry is not None and entry.value is not None:
            return True
    return False


def test_every_rule_change_has_cases_before_on_and_after(seen):
    missing = []
    for parameter in baseline_parameters().walk():
        if parameter.path in DATA_SERIES:
            continue
        for region, series in parameter.series.items():
            for entry in series.entries:
                start = entry.start
                if parameter.path in READ_BY_YEAR:
                    missing += _yearly_missing(parameter, region, start, seen)
                    continue
                # a null entry ends the region's value: its cases find none on and after
                resolved_start = start if entry.value is not None else None
                on = (parameter.path, start, region, resolved_start)
                after = (parameter.path, start + timedelta(days=1), region, resolved_start)
                for label, key in (("on", on), ("after", after)):
                    if key not in seen:
                        missing.append(f"{parameter.path} [{region}] {start}: no case {label}")
                if _has_value_before(parameter, region, start):
                    day = start - timedelta(days=1)
                    if not any(p == parameter.path and d == day for p, d, _, _ in seen):
                        missing.append(
                            f"{parameter.path} [{region}] {start}: no case the day before"
                        )
    assert not missing, "\n".join(missing)


def _yearly_missing(
    parameter: Parameter, region: str, start: date, seen: set[tuple[str, date, str, date | None]]
) -> list[str]:
    """A yearly parameter: a case that uses the value (the year it starts, or the first year
    the formula can run: the in-year factor of 1998 is first used with the 2016 rate) and,
    if it replaces a value, a case of the year before."""
    label = f"{parameter.path} [{region}] {start}"
    if (start.month, start.day) != (1, 1):
        return [f"{label}: a parameter read by year must start on 1 January"]
    missing = []
    if parameter.series[region].at(start).value is None:  # the override ends: the parent's
        if not any(p == parameter.path and d == start and r != region for p, d, r, _ in seen):
            missing.append(f"{label}: no case of {start.year} reads the value that applies again")
        return missing
    if not any((p, r, s) == (parameter.path, region, start) for p, _, r, s in seen):
        missing.append(f"{label}: no case uses it")
    if _has_value_before(parameter, region, start):
        year_before = date(start.year - 1, 1, 1)
        if not any(p == parameter.path and d == year_before for p, d, _, _ in seen):
            missing.append(f"{label}: no case of {start.year - 1}")
    return missing


def test_published_ceilings_agree_with_three_times_the_average_wage():
    """A consistency check of the transcribed data: ceiling = 3 × wage.

    Provinces publish the monthly wage as the annual average ÷ 12 truncated or rounded to
    the yuan (福建 2024: 7535 while the ceiling 22607 = 3 × 90428 / 12), so 3 × the monthly
    figure may differ from the published ceiling by less than 3 yuan — never more. The wage
    is the one the region's contribution reads (深圳's ceiling, 3 × 广东's wage: its own
    wage is not in the file, so it reads 广东's).
    """
    tree = baseline_parameters()
    wages = tree.parameter("contribution.base.average_monthly_wage")
    ceilings = tree.parameter("contribution.base.published_ceiling")
    registry = default_registry()
    problems = []
    for region, series in ceilings.series.items():
        for entry in series.entries:
            if entry.value is None:  # a null ends the region's own ceilings: nothing to compare
                continue
            wage = wages.lookup(entry.start, registry.ancestry(region)).value
            if abs(entry.value - 3 * wage) >= 3:
                problems.append(f"{region} {entry.start}: ceiling {entry.value} vs 3 × {wage}")
    assert not problems, "\n".join(problems)


def test_divisors_follow_each_pairs_table_rule_and_decimals_when_pairs_share_a_table():
    """Pairs sharing one table object share its converted row; each pair keeps its own rule
    and decimals (a batch over every region and day has thousands of pairs, few tables)."""
    from suiren.policy.retirement import divisor_tenths

    shared = {"59": "145", "60": "139", "61": "132"}
    other = {"59": "150", "60": "140", "61": "130"}
    tables = [shared, other, shared, shared]
    rules = ["floor", "interpolate", "interpolate", "interpolate"]
    decimals = [1, 1, 1, 0]
    pair_of_case = np.array([0, 1, 2, 3, 2, 0], dtype=np.intp)
    age = np.array([60 * 12 + 3] * 4 + [61 * 12, 59 * 12 + 7], dtype=np.int64)
    got = divisor_tenths(tables, rules, decimals, pair_of_case, age).tolist()

    def expected(table: dict[str, str], rule: str, places: int, months: int) -> int:
        age = str(months // 12)
        this = Fraction(table[age])
        following = Fraction(table.get(str(months // 12 + 1), table[age]))
        if rule == "floor":
            return int(this * 10)
        exact = this - (this - following) * Fraction(months % 12, 12)
        unit = Fraction(1, 10**places)
        return int((exact / unit + Fraction(1, 2)) // 1 * unit * 10)

    want = [
        expected(tables[p], rules[p], decimals[p], int(a))
        for p, a in zip(pair_of_case.tolist(), age.tolist(), strict=True)
    ]
    assert got == want == [1390, 1375, 1373, 1370, 1320, 1450]
