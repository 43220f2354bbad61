"""A worker who is still paying: the months ahead until retirement (测算：继续缴费至退休).

Assumptions, not rules — each is stated with the estimate and can be replaced:

- ``base_ratio``: every month ahead is paid at this share of the local average wage of its
  month (60%–300%, 多缴多得), within the region's floor and ceiling; by default the share of
  the last month paid.
- ``wage_growth``: the average wage (and with it the bounds and the 计发基数) grows by this
  much a year after the year it was last published; 0 keeps today's wages, so that the
  pension is in today's money.
- ``interest_rate``: the individual account's crediting rate for the years ahead; by
  default the latest published 记账利率 (``account.interest_rate``), as the agencies credit a
  year whose rate is not yet out.

Money stays exact: grown amounts are rounded half up to the fen once, from the published
value; interest is the one yearly rule (``policy.interest.yearly_interest``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from suiren.domain.errors import InvalidInput
from suiren.domain.money import divide_round
from suiren.domain.month import Month
from suiren.policy import Policy
from suiren.policy.contribution import contribution_bounds, split_contribution
from suiren.policy.interest import YearRate, year_rate, yearly_interest
from suiren.rules.parameters import ResolvedValue
from suiren.rules.vector import day_number

IntArray = npt.NDArray[np.int64]
WAGE = "contribution.base.average_monthly_wage"
RATIO_MIN, RATIO_MAX = Fraction(6, 10), Fraction(3)  # the national 60%–300% of the average
GROWTH_MIN, GROWTH_MAX = Fraction(-1, 10), Fraction(2, 10)
INTEREST_MAX = Fraction(2, 10)
LADDER = (Fraction(6, 10), Fraction(1), Fraction(2), Fraction(3))  # what paying more adds


@dataclass(frozen=True)
class Assumptions:
    base_ratio: Fraction | None = None  # None: the last month's share of the average wage
    wage_growth: Fraction = Fraction(0)
    interest_rate: Fraction | None = None  # None: the latest published 记账利率

    def __post_init__(self) -> None:
        if self.base_ratio is not None and not RATIO_MIN <= self.base_ratio <= RATIO_MAX:
            raise InvalidInput(
                "the base ratio must be from 0.6 to 3 (60%–300% of the average wage)"
            )
        if not GROWTH_MIN <= self.wage_growth <= GROWTH_MAX:
            raise InvalidInput("the wage growth must be from -0.1 to 0.2 a year")
        if self.interest_rate is not None and not 0 <= self.interest_rate <= INTEREST_MAX:
            raise InvalidInput("the interest rate must be from 0 to 0.2 a year")

    def with_ratio(self, ratio: Fraction) -> Assumptions:
        return replace(self, base_ratio=ratio)


def grown_fen(value_fen: int, growth: Fraction, years: int) -> int:
    """``value × (1 + growth)^years``, half up to the fen (years ≤ 0: the value itself)."""
    if years <= 0 or growth == 0:
        return value_fen
    factor = (1 + growth) ** years
    return int(divide_round(value_fen * factor.numerator, factor.denominator))


def wage_fen(policy: Policy, region: str, month: Month, growth: Fraction, grow: bool) -> int:
    """The average monthly wage in force for ``month`` in ``region`` (a city's own, else its
    province's), grown from the year it was published where ``grow`` (a month ahead)."""
    resolved = policy.at(month.first_day(), region).get(WAGE)
    published = int(Fraction(resolved.value) * 100)
    return grown_fen(published, growth, month.year - resolved.start.year) if grow else published


def index_base_fen(policy: Policy, region: str, month: Month, index_1e6: int) -> int:
    """The base a recorded contribution index stands for (缴费基数 = 指数 × 社平工资): the
    index times the average monthly wage in force for ``month`` (rounded half up to the fen).
    ParameterNotFound where Suiren has no wage for that month and region."""
    return int(divide_round(index_1e6 * wage_fen(policy, region, month, Fraction(0), False), 10**6))


def grown_parameter_fen(
    policy: Policy, region: str, day: date, name: str, growth: Fraction, grow: bool
) -> tuple[int, ResolvedValue]:
    """A published yuan amount (the 计发基数) in fen, grown to ``day``'s year where ``grow``."""
    resolved = policy.at(day, region).get(name)
    published = int(Fraction(resolved.value) * 100)
    value = grown_fen(published, growth, day.year - resolved.start.year) if grow else published
    return value, resolved


@dataclass(frozen=True)
class MonthsAhead:
    """The months to be paid, one row each, for one base ratio."""

    months: IntArray  # ordinals
    base_fen: IntArray
    account_fen: IntArray  # what each month credits to the individual account


def months_ahead(
    policy: Policy,
    region: str,
    first: Month,
    last: Month,
    ratio: Fraction,
    growth: Fraction,
) -> MonthsAhead:
    """Months ``first``…``last`` paid in ``region`` at ``ratio`` of the (grown) average wage,
    within the (grown) floor and ceiling."""
    return months_ahead_at(policy, region, first, last, [ratio], growth)[0]


def months_ahead_at(
    policy: Policy,
    region: str,
    first: Month,
    last: Month,
    ratios: list[Fraction],
    growth: Fraction,
) -> list[MonthsAhead]:
    """``months_ahead`` for each of ``ratios`` (the 多缴多得 ladder): the months' parameters
    are looked up once for all of them, and the split once over every ratio's bases."""
    ordinals = np.arange(first.ordinal, last.ordinal + 1, dtype=np.int64)
    if not len(ordinals):
        empty = np.zeros(0, dtype=np.int64)
        return [MonthsAhead(empty, empty, empty) for _ in ratios]
    months = [Month(int(o)) for o in ordinals.tolist()]
    days = np.array([day_number(m.first_day()) for m in months], dtype=np.int64)
    regions = np.full(len(months), region)
    bounds = contribution_bounds(policy, days, regions)
    published_year = {m.year: policy.at(m.first_day(), region).get(WAGE).start.year for m in months}
    years = np.array([m.year - published_year[m.year] for m in months], dtype=np.int64)

    def grown(column: IntArray) -> IntArray:
        return np.array(
            [grown_fen(int(v), growth, int(y)) for v, y in zip(column, years, strict=True)],
            dtype=np.int64,
        )

    wage, floor, ceiling = (
        grown(bounds.wage_fen),
        grown(bounds.floor_fen),
        grown(bounds.ceiling_fen),
    )
    bases = [
        np.clip(divide_round(wage * r.numerator, np.int64(r.denominator)), floor, ceiling)
        for r in ratios
    ]
    n = len(ordinals)
    every = np.concatenate(bases)
    account = split_contribution(
        policy, np.tile(days, len(ratios)), np.tile(regions, len(ratios)), every
    ).individual_account_fen
    return [
        MonthsAhead(ordinals, base, account[i * n : (i + 1) * n]) for i, base in enumerate(bases)
    ]


@dataclass(frozen=True)
class AccountAhead:
    balance_fen: int  # at retirement
    rates: tuple[YearRate, ...]  # the published rates read (the assumed one is not among them)


def account_at_retirement(
    policy: Policy,
    balance_fen: int,
    ahead: MonthsAhead,
    this_year: int,
    retire: Month,
    assumed_rate: Fraction | None,
) -> AccountAhead:
    """Today's balance (interest credited to the end of last year) carried to retirement:
    each year from this one before the retirement year earns the yearly interest on what it
    opened with and on its months; the retirement year's own months are added without
    interest (credited on retirement, a few months at most)."""
    rates: list[YearRate] = []
    by_year: dict[int, int] = {}
    for month, fen in zip(ahead.months.tolist(), ahead.account_fen.tolist(), strict=True):
        year = Month(int(month)).year
        by_year[year] = by_year.get(year, 0) + int(fen)
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
