"""A region's figure published without some of its cities (广东（不含深圳）) is never read for
them: ``excludes`` in the region's entry makes a lookup pass it over (issue 10 §3)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest

from suiren.domain.errors import ParameterError, ParameterNotFound
from suiren.domain.region import default_registry
from suiren.policy import SCENARIOS, Policy, baseline_parameters, load_policy
from suiren.policy.projection import grown_parameter_fen
from suiren.rules.loader import load_tree
from suiren.rules.parameters import DatedValue, Series
from suiren.rules.scenario import apply_scenario

HEADER = """\
description: Pension calculation base
metadata:
  unit: currency-CNY-month
  range: {min: 2000, max: 30000}
  reference: {verified: false, why: test}
regions:
"""
BASE = (
    HEADER
    + """\
  "440000":
    excludes: %s
    values:
      2024-01-01: 9022
  "440300":
    values:
      2025-01-01: 11293
"""
)


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


# --- an exclusion of one value (山东's 计发基数 of 2021 and 2023 on, 除菏泽市以外) ------------------

DATED = (
    HEADER
    + """\
  "370000":
    values:
      2019-01-01: 6260.42
      2021-01-01:
        value: 6893
        excludes: %s
      2022-01-01: null
      2023-01-01:
        value: 7468
        excludes: ["371700"]
"""
)


def dated_tree(tmp_path: Path, excludes: str = '["371700"]', text: str = DATED):  # type: ignore[no-untyped-def]
    (tmp_path / "base.yaml").write_text(text % excludes, encoding="utf-8")
    return load_tree(tmp_path, default_registry()).parameter("base")


def test_a_value_excludes_a_city_only_while_it_is_in_force(tmp_path: Path) -> None:
    base = dated_tree(tmp_path)
    heze, jinan = default_registry().ancestry("371700"), default_registry().ancestry("370100")
    before = base.lookup(date(2019, 6, 1), heze)  # 2019's figure was every locality's
    assert (before.value, before.region) == (Fraction("6260.42"), "370000")
    for day in (date(2021, 6, 1), date(2023, 6, 1), date(2026, 6, 1)):
        with pytest.raises(ParameterNotFound) as refused:
            base.lookup(day, heze)
        text, shown = refused.value.text, str(refused.value)
        assert text is not None and shown.index(text.zh) < shown.index(text.en)  # zh, then en
        assert "371700" in text.zh and day.isoformat() in text.zh and "370000" in text.zh
        assert "base" in text.en and "published without it" in text.en
        # the same city's neighbour reads the province's figure on the same day
        assert base.lookup(day, jinan).region == "370000"
    assert base.lookup(date(2021, 6, 1), jinan).value == 6893


def test_a_region_wide_exclusion_would_hold_on_every_date(tmp_path: Path) -> None:
    """The same exclusion written on the region: 菏泽 loses 2019 too (so the test above, which
    reads 2019 for it, fails where exclusions ignore their dates)."""
    text = DATED.replace('  "370000":\n', '  "370000":\n    excludes: ["371700"]\n')
    base = dated_tree(tmp_path, text=text)
    with pytest.raises(ParameterNotFound):
        base.lookup(date(2019, 6, 1), default_registry().ancestry("371700"))


def test_a_city_value_of_its_own_is_read_in_an_excluded_year(tmp_path: Path) -> None:
    text = DATED + '  "371700":\n    values:\n      2023-01-01: 7000\n'
    found = dated_tree(tmp_path, text=text).lookup(
        date(2023, 6, 1), default_registry().ancestry("371700")
    )
    assert (found.value, found.region) == (7000, "371700")


@pytest.mark.parametrize(
    ("excludes", "message"),
    [
        ('["310000"]', "region 370000 can only exclude a region within it"),
        ('["370000"]', "region 370000 can only exclude a region within it"),
        ('"371700"', "'excludes' is a list of region codes"),
        ("[]", "'excludes' is a list of region codes"),
        ('["379999"]', "unknown region code 379999"),
    ],
)
def test_a_bad_value_exclusion_fails_to_load(tmp_path: Path, excludes: str, message: str) -> None:
    with pytest.raises(ParameterError, match=message) as refused:
        dated_tree(tmp_path, excludes)
    assert refused.value.problems[0].start == date(2021, 1, 1)  # the value it is on is named


def test_a_null_value_cannot_exclude(tmp_path: Path) -> None:
    text = DATED.replace("2022-01-01: null", '2022-01-01: {value: null, excludes: ["371700"]}')
    with pytest.raises(ParameterError, match="a null value ends the series"):
        dated_tree(tmp_path, text=text)


def test_a_national_value_cannot_exclude(tmp_path: Path) -> None:
    text = DATED.replace(
        "regions:\n", 'values:\n  2019-01-01: {value: 6000, excludes: ["370000"]}\nregions:\n'
    )
    with pytest.raises(ParameterError, match="excludes"):
        dated_tree(tmp_path, text=text)


def test_an_overlay_keeps_what_the_values_it_replaces_exclude(tmp_path: Path) -> None:
    """A scenario's value replacing 山东's excluding ones excludes 菏泽 too; one replacing a
    value read by every locality does not."""
    base = dated_tree(tmp_path)
    province = base.series["370000"]
    scenario = Series(
        [
            DatedValue(date(2019, 1, 1), Fraction(6300), province.entries[0].reference, "s:1"),
            DatedValue(date(2020, 1, 1), Fraction(6500), province.entries[0].reference, "s:2"),
        ]
    )
    overlaid = province.overlay(scenario)
    assert overlaid.excluded(date(2019, 6, 1)) == frozenset()
    # 2020's value runs on through 2021 and 2023, whose figures excluded 菏泽
    assert overlaid.excluded(date(2020, 6, 1)) == frozenset({"371700"})


# --- the real 山东 计发基数 ------------------------------------------------------------------


def test_heze_never_reads_shandong_base_in_the_years_it_is_published_without_it() -> None:
    policy = load_policy()
    for year in range(2016, 2027):
        day = date(year, 6, 1)
        jinan = policy.at(day, "370100")
        try:
            shandong = jinan.get("pension.base")
        except ParameterNotFound:  # 2020, 2022: not collected for any city of 山东
            with pytest.raises(ParameterNotFound):
                policy.at(day, "371700").get("pension.base")
            continue
        assert shandong.region == "370000"
        excluded = year == 2021 or year >= 2023
        if excluded:
            with pytest.raises(ParameterNotFound, match="371700") as refused:
                policy.at(day, "371700").get("pension.base")
            assert "pension.base" in str(refused.value) and day.isoformat() in str(refused.value)
        else:
            heze = policy.at(day, "371700").get("pension.base")
            assert (heze.value, heze.region) == (shandong.value, "370000"), year
    assert policy.at(date(2025, 6, 1), "370100").get("pension.base").value == 7831


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_heze_estimate_is_refused_not_given_shandong_base(scenario: str) -> None:
    """What an estimate reads for the base (``grown_parameter_fen``): refused for 菏泽 in
    2025 and for a retirement ahead (the 2025 figure carried on), read for 济南."""
    policy = load_policy(scenario)
    for day in (date(2025, 3, 1), date(2031, 3, 1)):
        with pytest.raises(ParameterNotFound, match="371700"):
            grown_parameter_fen(policy, "371700", day, "pension.base", Fraction(0), True)
    fen, _ = grown_parameter_fen(
        policy, "370100", date(2025, 3, 1), "pension.base", Fraction(0), True
    )
    assert fen == 783_100


def test_every_exclusion_of_a_value_names_a_region_within_it() -> None:
    """Sibling guard: every value's exclusion in the files lies below the value's region."""
    policy = load_policy()
    registry = default_registry()
    seen = 0
    for parameter in policy.parameters.walk():
        for region, series in parameter.series.items():
            for entry in series.entries:
                for city in entry.excludes:
                    seen += 1
                    assert region in registry.ancestry(city)[1:], (parameter.path, city)
    assert seen >= 4  # 山东's 2021, 2023, 2024, 2025


def test_a_scenario_cannot_exclude(tmp_path: Path) -> None:
    """What a figure is published without is the baseline's: a scenario's value that says
    ``excludes`` is refused, as its region's ``excludes`` is."""
    scenario = tmp_path / "excluding.yaml"
    scenario.write_text(
        "name: excluding\ndescription: test\nreference: {verified: false, why: test}\n"
        'overrides:\n  pension.base:\n    regions:\n      "370000":\n        values:\n'
        '          2026-01-01: {value: 8000, excludes: ["371600"]}\n',
        encoding="utf-8",
    )
    with pytest.raises(ParameterError, match="excludes"):
        apply_scenario(baseline_parameters(), scenario, default_registry())
    scenario.write_text(scenario.read_text().replace(', excludes: ["371600"]', ""))
    policy = Policy(
        apply_scenario(baseline_parameters(), scenario, default_registry()), default_registry()
    )
    binzhou = policy.at(date(2026, 6, 1), "371600").get("pension.base")
    assert (binzhou.value, binzhou.region) == (8000, "370000")
    # the scenario's 2026 value follows 2025's, which excluded 菏泽, and keeps its exclusion
    with pytest.raises(ParameterNotFound, match="371700"):
        policy.at(date(2026, 6, 1), "371700").get("pension.base")
