from datetime import date
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from suiren.domain.errors import ParameterError, ParameterNotFound
from suiren.domain.region import default_registry
from suiren.policy import baseline_parameters, load_policy
from suiren.rules.scenario import apply_scenario
from suiren.rules.vector import day_number


def test_city_overrides_province_overrides_nation():
    policy = load_policy()
    national = policy.at(date(2025, 8, 1), "410100").get("pension.rounding_unit_fen")
    shanghai = policy.at(date(2025, 8, 1), "310000").get("pension.rounding_unit_fen")
    assert national.value == 1 and national.region == "000000"
    assert shanghai.value == 10 and shanghai.region == "310000"
    # Guangzhou inherits Guangdong's low-index threshold
    gz = policy.at(date(2025, 8, 1), "440100").get("pension.basic.low_index_threshold")
    assert gz.value == Fraction(3, 5) and gz.region == "440000"


def test_values_are_in_force_from_their_date():
    policy = load_policy()
    rate = "pension.basic.accrual_rate_per_leftover_month"
    assert policy.at(date(2020, 12, 31), "310000").value(rate) == Fraction(1, 1200)
    assert policy.at(date(2021, 1, 1), "310000").value(rate) == Fraction(83, 100000)
    assert policy.at(date(2021, 1, 2), "310000").value(rate) == Fraction(83, 100000)


def test_lookup_before_any_value_names_the_parameter():
    with pytest.raises(ParameterNotFound, match=r"contribution\.base\.floor_ratio"):
        load_policy().at(date(1997, 12, 31), "440000").get("contribution.base.floor_ratio")


def test_scenario_overlays_only_from_its_date():
    law = load_policy("current_law")
    mfp = load_policy("money_follows_person")
    path = "transfer.pooled_entitlement_moves"
    assert mfp.at(date(2025, 12, 31), "440000").value(path) is False
    assert mfp.at(date(2026, 1, 1), "440000").value(path) is True
    assert law.at(date(2026, 1, 1), "440000").value(path) is False
    # the baseline tree is not modified by applying a scenario
    assert (
        baseline_parameters().parameter(path).lookup(date(2027, 1, 1), ("000000",)).value is False
    )


def test_scenario_overriding_unknown_parameter_is_refused():
    bad = Path(__file__).parent / "scenario_fixtures" / "bad_override.yaml"
    with pytest.raises(ParameterError, match=r"bad_override.yaml:5: .*not a parameter"):
        apply_scenario(baseline_parameters(), bad)


def test_gather_resolves_each_distinct_pair_once():
    policy = load_policy()
    days = np.array(
        [day_number(date(2025, 8, 1))] * 4 + [day_number(date(2020, 1, 1))], dtype=np.int64
    )
    regions = np.array(["310000", "410100", "310000", "410100", "310000"])
    g = policy.look_up(days, regions, {"unit": "pension.rounding_unit_fen"})
    assert len(g.pairs) == 3
    assert g.column("unit", int).tolist() == [10, 1, 10, 1, 1]


def test_every_parameter_cites_a_reference_and_a_unit():
    for parameter in baseline_parameters().walk():
        assert parameter.unit
        for series in parameter.series.values():
            for entry in series.entries:
                assert entry.reference.sources, (parameter.path, entry.start)
                assert entry.reference.render(), (parameter.path, entry.start)


def test_a_scenario_is_checked_like_the_baseline():
    """A scenario cannot bring in a value the baseline would refuse; every problem at once."""
    bad = Path(__file__).parent / "scenario_fixtures" / "implausible_override.yaml"
    with pytest.raises(ParameterError) as caught:
        apply_scenario(baseline_parameters(), bad, default_registry())
    where = {(Path(p.file).name, p.line, p.parameter) for p in caught.value.problems}
    assert where == {
        ("implausible_override.yaml", 7, "account.interest_rate"),
        ("implausible_override.yaml", 12, "contribution.base.published_floor"),
    }
    messages = caught.value.message
    assert "0.15 is outside the plausible range 0 to 0.1" in messages
    assert "49000 is above contribution.base.published_ceiling" in messages


@pytest.mark.parametrize(
    ("path", "region", "day", "start", "provisional"),
    [
        # 北京's 计发基数 of 2023 (from 2023-01-01): its own year, then the next year's stand-in
        ("pension.base", "110000", date(2023, 12, 31), date(2023, 1, 1), False),
        # 北京's wage of a July contribution year: 11 months after 2024-07-01 it is current
        (
            "contribution.base.average_monthly_wage",
            "110000",
            date(2025, 6, 30),
            date(2024, 7, 1),
            False,
        ),
        # a rate every year is yearly too: 2026's not published, 2025's stands in
        ("account.interest_rate", "000000", date(2026, 1, 1), date(2025, 1, 1), True),
        # not a yearly figure: never provisional however old
        ("pension.rounding_unit_fen", "000000", date(2026, 6, 1), None, False),
    ],
)
def test_a_yearly_figure_a_year_or_more_after_its_start_is_provisional(
    path, region, day, start, provisional
):
    value = load_policy().at(day, region).get(path)
    if start is not None:
        assert value.start == start
    assert value.provisional is provisional
    assert value.cite()["provisional"] is provisional


def test_the_latest_yearly_figure_read_past_its_year_is_provisional():
    policy = load_policy()
    latest = policy.at(date(2026, 6, 1), "410100").get("pension.base")
    # the same entry read in its own year is current, read a year on is provisional
    same = policy.at(latest.start, "410100").get("pension.base")
    assert (same.start, same.provisional) == (latest.start, False)
    later = policy.at(date(latest.start.year + 1, latest.start.month, 1), "410100").get(
        "pension.base"
    )
    assert later.start == latest.start and later.provisional
    yearly = {
        p
        for p in (
            "pension.base",
            "contribution.base.average_monthly_wage",
            "contribution.base.published_floor",
            "contribution.base.published_ceiling",
            "account.interest_rate",
        )
        if policy.parameters.parameter(p).yearly
    }
    assert len(yearly) == 5


@pytest.mark.parametrize(
    ("day", "start", "provisional"),
    [
        # 上海's 2019 年度 ran 2019-05-01 to 2020-06-30 (its entry's ``until``): its last two
        # months, twelve and thirteen months after the start, use the year's own figure
        (date(2020, 4, 30), date(2019, 5, 1), False),
        (date(2020, 5, 1), date(2019, 5, 1), False),
        (date(2020, 6, 30), date(2019, 5, 1), False),
        (date(2020, 7, 1), date(2020, 7, 1), False),  # the 2020 年度's own figure
    ],
)
def test_a_yearly_figure_within_its_until_is_not_provisional(day, start, provisional):
    value = load_policy().at(day, "310000").get("contribution.base.average_monthly_wage")
    assert (value.start, value.provisional) == (start, provisional)
