"""A region's figure published without some of its cities (广东（不含深圳）) is never read for
them: ``excludes`` in the region's entry makes a lookup pass it over (issue 10 §3)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from suiren.domain.errors import ParameterError, ParameterNotFound
from suiren.domain.region import default_registry
from suiren.policy import SCENARIOS, load_policy
from suiren.rules.loader import load_tree

BASE = """\
description: Pension calculation base
metadata:
  unit: currency-CNY-month
  range: {min: 2000, max: 30000}
  reference: {verified: false, why: test}
regions:
  "440000":
    excludes: %s
    values:
      2024-01-01: 9022
  "440300":
    values:
      2025-01-01: 11293
"""


def tree_with(tmp_path: Path, excludes: str):  # type: ignore[no-untyped-def]
    (tmp_path / "base.yaml").write_text(BASE % excludes, encoding="utf-8")
    return load_tree(tmp_path, default_registry())


def test_an_excluded_city_never_reads_its_province_figure(tmp_path: Path) -> None:
    base = tree_with(tmp_path, '["440300"]').parameter("base")
    ancestry = default_registry().ancestry
    # 深圳 before its own first value: no value at all, not 广东（不含深圳）'s
    with pytest.raises(ParameterNotFound, match="region 440300"):
        base.lookup(date(2024, 6, 1), ancestry("440300"))
    assert base.lookup(date(2025, 6, 1), ancestry("440300")).value == 11293
    # another city of the province reads the province's figure
    guangzhou = base.lookup(date(2024, 6, 1), ancestry("440100"))
    assert (guangzhou.value, guangzhou.region) == (9022, "440000")


def test_without_excludes_the_city_would_read_the_province(tmp_path: Path) -> None:
    """The same file without the exclusion: the lookup falls back (the test above can fail)."""
    (tmp_path / "base.yaml").write_text(BASE.replace("    excludes: %s\n", ""), encoding="utf-8")
    base = load_tree(tmp_path, default_registry()).parameter("base")
    found = base.lookup(date(2024, 6, 1), default_registry().ancestry("440300"))
    assert (found.value, found.region) == (9022, "440000")


@pytest.mark.parametrize(
    ("excludes", "message"),
    [
        ('["310000"]', "region 440000 can only exclude a region within it"),
        ('["440000"]', "region 440000 can only exclude a region within it"),
        ('"440300"', "'excludes' is a list of region codes"),
        ('["449999"]', "unknown region code 449999"),
    ],
)
def test_a_bad_exclusion_fails_to_load(tmp_path: Path, excludes: str, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        tree_with(tmp_path, excludes)


@pytest.mark.parametrize(
    ("city", "province"),
    [
        ("440300", "440000"),  # 广东（不含深圳）
        ("210100", "210000"),  # 辽宁（不含沈阳、大连）
        ("210200", "210000"),
        ("220100", "220000"),  # 吉林（不含长春、农垦）
        ("421000", "420000"),  # 湖北 省直（第一档）: 荆州 has its own
        ("420200", "420000"),
    ],
)
def test_the_real_bases_published_without_a_city_exclude_it(city: str, province: str) -> None:
    policy = load_policy()
    series = policy.parameters.parameter("pension.base").series
    assert city in series[province].excludes
    for year in range(2015, 2027):  # whatever the year, never the province's figure
        try:
            found = policy.at(date(year, 6, 1), city).get("pension.base")
        except ParameterNotFound:
            continue
        assert found.region != province, (city, year)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_scenario_keeps_the_exclusions(scenario: str) -> None:
    """A scenario copies the baseline's series with what they exclude."""
    policy = load_policy(scenario)
    assert "440300" in policy.parameters.parameter("pension.base").series["440000"].excludes
    found = policy.at(date(2025, 6, 1), "440300").get("pension.base")
    assert (found.value, found.region) == (11293, "440300")
