"""The months ahead are looked up once per run of months that share the parameters' values
(policy/projection.py, ``Policy.same_value_days``); here each function is checked against the
same rule applied one month (or one year, or one ratio) at a time, as it was written before,
over random regions, spans, ratios, growth and rates, under both scenarios.

The regions include Beijing and Tianjin, whose wages and bounds are published mid-year (also
in the months ahead), and spans that start before Suiren has any wage.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suiren.domain.errors import ParameterNotFound
from suiren.domain.month import Month
from suiren.policy import SCENARIOS, Policy, load_policy
from suiren.policy.contribution import contribution_bounds, split_contribution
from suiren.policy.interest import YearRate, year_rate, year_rates, yearly_interest
from suiren.policy.projection import (
    LADDER,
    RATIO_MAX,
    RATIO_MIN,
    WAGE,
    AccountAhead,
    MonthsAhead,
    accounts_at_retirement,
    grown_fen,
    months_ahead_at,
    wage_fen,
    wages_fen,
)
from suiren.rules.vector import day_number, first_day_numbers

POLICIES = [load_policy(name) for name in SCENARIOS]
REGIONS = ["110000", "120000", "310000", "330100", "410100", "440100", "440300", "650100"]
GROWTHS = [Fraction(0), Fraction(3, 100), Fraction(-5, 100), Fraction(1, 10), Fraction(7, 1000)]
SLOW = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

policies = st.sampled_from(SCENARIOS).map(load_policy)
regions = st.sampled_from(REGIONS)
# wages start in 2021–2022: a few spans start before, and raise, or have months without a wage
firsts = st.integers(Month.of(2020, 1).ordinal, Month.of(2040, 12).ordinal).map(Month)
spans = st.integers(0, 420)
ratio_lists = st.lists(
    st.one_of(
        st.sampled_from(LADDER),
        st.integers(int(RATIO_MIN * 1000), int(RATIO_MAX * 1000)).map(lambda p: Fraction(p, 1000)),
    ),
    min_size=1,
    max_size=5,
)


def months_one_at_a_time(
    policy: Policy,
    region: str,
    first: Month,
    last: Month,
    ratios: list[Fraction],
    growth: Fraction,
) -> list[MonthsAhead]:
    """Every month looked up on its own day, grown on its own (the years of growth from the
    wage's publication as read on the last month of its year, as the code has always done)."""
    months = [Month(o) for o in range(first.ordinal, last.ordinal + 1)]
    published = {m.year: policy.at(m.first_day(), region).get(WAGE).start.year for m in months}
    rows = []
    for m in months:
        day = np.array([day_number(m.first_day())], dtype=np.int64)
        bounds = contribution_bounds(policy, day, np.array([region]))
        years = m.year - published[m.year]
        wage, floor, ceiling = (
            grown_fen(int(column[0]), growth, years)
            for column in (bounds.wage_fen, bounds.floor_fen, bounds.ceiling_fen)
        )
        half_up = [
            int(Fraction(wage * r.numerator, r.denominator) + Fraction(1, 2)) for r in ratios
        ]
        bases = [min(max(base, floor), ceiling) for base in half_up]
        split = split_contribution(
            policy, np.repeat(day, len(ratios)), np.array([region] * len(ratios)), np.array(bases)
        )
        rows.append((m.ordinal, bases, split.individual_account_fen.tolist()))
    ordinals = np.array([row[0] for row in rows], dtype=np.int64)
    return [
        MonthsAhead(
            ordinals,
            np.array([row[1][i] for row in rows], dtype=np.int64),
            np.array([row[2][i] for row in rows], dtype=np.int64),
        )
        for i in range(len(ratios))
    ]


@SLOW
@given(policies, regions, firsts, spans, ratio_lists, st.sampled_from(GROWTHS))
def test_months_ahead_as_one_month_at_a_time(
    policy: Policy,
    region: str,
    first: Month,
    span: int,
    ratios: list[Fraction],
    growth: Fraction,
) -> None:
    last = Month(first.ordinal + span - 1)
    try:
        expected = months_one_at_a_time(policy, region, first, last, ratios, growth)
    except ParameterNotFound:
        with pytest.raises(ParameterNotFound):
            months_ahead_at(policy, region, first, last, ratios, growth)
        return
    got = months_ahead_at(policy, region, first, last, ratios, growth)
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert g.months.tolist() == e.months.tolist()
        assert g.base_fen.tolist() == e.base_fen.tolist(), (region, first, growth)
        assert g.account_fen.tolist() == e.account_fen.tolist(), (region, first, growth)


def test_a_wage_published_mid_year_ahead_is_read_for_its_months() -> None:
    """Beijing publishes in July: June 2026 pays on the 2025 wage, July on the 2026 one."""
    [ahead] = months_ahead_at(
        POLICIES[0], "110000", Month.of(2026, 6), Month.of(2026, 7), [Fraction(1)], Fraction(0)
    )
    june, july = (
        wage_fen(POLICIES[0], "110000", Month.of(2026, m), Fraction(0), False) for m in (6, 7)
    )
    assert june != july and ahead.base_fen.tolist() == [june, july]


@SLOW
@given(policies, regions, firsts, spans, st.sampled_from(GROWTHS), st.booleans())
def test_wages_as_one_month_at_a_time(
    policy: Policy, region: str, first: Month, span: int, growth: Fraction, ahead: bool
) -> None:
    ordinals = list(range(first.ordinal, first.ordinal + span))
    ahead_from = first + span // 2 if ahead else None
    expected: dict[int, int | None] = {}
    for o in ordinals:
        grow = ahead_from is not None and Month(o) >= ahead_from
        try:
            expected[o] = wage_fen(policy, region, Month(o), growth, grow)
        except ParameterNotFound:
            expected[o] = None
    assert wages_fen(policy, region, ordinals[::-1], growth, ahead_from) == expected


def accounts_one_ratio_and_year_at_a_time(
    policy: Policy,
    balance_fen: int,
    ahead: MonthsAhead,
    this_year: int,
    retire: Month,
    assumed_rate: Fraction | None,
) -> AccountAhead:
    rates: list[YearRate] = []
    by_year: dict[int, int] = {}
    for month, fen in zip(ahead.months.tolist(), ahead.account_fen.tolist(), strict=True):
        by_year[Month(month).year] = by_year.get(Month(month).year, 0) + fen
    balance = balance_fen
    for year in range(this_year, retire.year):
        in_year = by_year.get(year, 0)
        rate = year_rate(policy, year)
        if assumed_rate is not None:
            rate = replace(rate, rate=assumed_rate, provisional=True)
        else:
            rates.append(rate)
        balance += int(yearly_interest(rate, [balance], [in_year])[0]) + in_year
    balance += by_year.get(retire.year, 0)
    return AccountAhead(balance, tuple(rates))


@SLOW
@given(
    policies,
    regions,
    st.integers(2024, 2040),  # every region has a wage from 2024
    st.integers(-2, 40),
    ratio_lists,
    st.sampled_from(GROWTHS),
    st.sampled_from([None, Fraction(0), Fraction(4, 100), Fraction(1, 7)]),
    st.integers(0, 10**9),
)
def test_accounts_as_one_ratio_and_one_year_at_a_time(
    policy: Policy,
    region: str,
    this_year: int,
    years: int,
    ratios: list[Fraction],
    growth: Fraction,
    rate: Fraction | None,
    balance_fen: int,
) -> None:
    retire = Month.of(this_year + years, 7)
    first, last = Month.of(this_year, 3), retire.minus(1)
    aheads = months_ahead_at(policy, region, first, last, ratios, growth)
    got = accounts_at_retirement(policy, balance_fen, aheads, this_year, retire, rate)
    expected = [
        accounts_one_ratio_and_year_at_a_time(policy, balance_fen, a, this_year, retire, rate)
        for a in aheads
    ]
    assert got == expected


def test_year_rates_as_one_year_at_a_time() -> None:
    for policy in POLICIES:
        years = range(2016, 2080)
        assert year_rates(policy, years) == [year_rate(policy, y) for y in years]


def test_first_day_numbers() -> None:
    ordinals = np.arange(Month.of(1900, 1).ordinal, Month.of(2200, 12).ordinal + 1)
    expected = [day_number(Month(int(o)).first_day()) for o in ordinals]
    assert first_day_numbers(ordinals).tolist() == expected
