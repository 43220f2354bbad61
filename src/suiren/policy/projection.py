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

from suiren.domain.errors import InvalidInput, ParameterNotFound
from suiren.domain.messages import text as message
from suiren.domain.money import divide_round
from suiren.domain.month import Month
from suiren.policy import Policy
from suiren.policy.contribution import (
    BOUND_PARAMETERS,
    SPLIT_PARAMETERS,
    contribution_bounds,
    split_contribution,
)
from suiren.policy.interest import YearRate, year_rates, yearly_interest
from suiren.rules.parameters import ResolvedValue
from suiren.rules.vector import first_day_numbers

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
            raise InvalidInput(message("assume.base-ratio"))
        if not GROWTH_MIN <= self.wage_growth <= GROWTH_MAX:
            raise InvalidInput(message("assume.wage-growth"))
        if self.interest_rate is not None and not 0 <= self.interest_rate <= INTEREST_MAX:
            raise InvalidInput(message("assume.interest"))

    def with_ratio(self, ratio: Fraction) -> Assumptions:
        return replace(self, base_ratio=ratio)


def assumptions_ahead(
    paid_only: bool,
    base_ratio: Fraction | None,
    wage_growth: Fraction | None,
    interest: Fraction | None,
    names: tuple[str, str, str, str],
) -> Assumptions | None:
    """The assumptions about the months ahead (None: the months paid so far only). Each of
    ``base_ratio``, ``wage_growth`` and ``interest`` is about the months ahead, so one given
    with ``paid_only`` is refused, naming both by ``names`` (options or query parameters,
    ``paid_only``'s first), not silently dropped; an absent wage growth is 0 (today's
    money)."""
    values = (base_ratio, wage_growth, interest)
    if paid_only:
        given = [n for n, value in zip(names[1:], values, strict=True) if value is not None]
        if given:
            said = message("estimate.paid-only-ahead", paid_only=names[0], option=given[0])
            raise InvalidInput(said)
        return None
    return Assumptions(base_ratio, Fraction(0) if wage_growth is None else wage_growth, interest)


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
    are looked up once for all of them, and the split once over every ratio's bases.

    A run of months that share the parameters' values (every month after the last published
    date shares the latest) is looked up once (``Policy.same_value_days``), and each distinct
    (published amount, years of growth) is grown once."""
    ordinals = np.arange(first.ordinal, last.ordinal + 1, dtype=np.int64)
    if not len(ordinals):
        empty = np.zeros(0, dtype=np.int64)
        return [MonthsAhead(empty, empty, empty) for _ in ratios]
    paths = [*BOUND_PARAMETERS.values(), *SPLIT_PARAMETERS.values()]
    days = policy.same_value_days(first_day_numbers(ordinals), region, paths)
    regions = np.full(len(ordinals), region)
    bounds = contribution_bounds(policy, days, regions)
    # a month's years of growth count from the publication year of the wage in force on the
    # last month ahead of its year, as they always have: a wage published mid-year ahead
    # (Beijing's in July) sets them for the year's earlier months too
    published = np.array([v.start.year for v in bounds.cited.values["wage"]], dtype=np.int64)
    years_of_month = ordinals // 12
    last_of_year = np.searchsorted(years_of_month, years_of_month, side="right") - 1
    years = years_of_month - published[bounds.cited.pair_of_case][last_of_year]
    wage, floor, ceiling = (
        grown_fen_each(bounds.wage_fen, growth, years),
        grown_fen_each(bounds.floor_fen, growth, years),
        grown_fen_each(bounds.ceiling_fen, growth, years),
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


def grown_fen_each(values_fen: IntArray, growth: Fraction, years: IntArray) -> IntArray:
    """``grown_fen`` of each (value, years) pair, computed once per distinct pair."""
    values = np.asarray(values_fen, dtype=np.int64)
    if growth == 0 or not len(values):
        return values.copy()
    pairs, inverse = np.unique(np.stack([values, years]), axis=1, return_inverse=True)
    grown = [grown_fen(v, growth, y) for v, y in zip(*pairs.tolist(), strict=True)]
    out: IntArray = np.array(grown, dtype=np.int64)[inverse.reshape(-1)]
    return out


def wages_fen(
    policy: Policy, region: str, months: list[int], growth: Fraction, ahead_from: Month | None
) -> dict[int, int | None]:
    """``wage_fen`` of each month ordinal (grown from ``ahead_from`` on), None where Suiren
    has no wage: looked up once per run of months that share the wage, grown once per year."""
    ordinals = np.array(sorted(set(months)), dtype=np.int64)
    try:
        days = policy.same_value_days(first_day_numbers(ordinals), region, [WAGE])
    except ParameterNotFound:  # as wage_fen: a region without the parameter has no wage
        return {o: None for o in ordinals.tolist()}
    wages: dict[int, int | None] = {}
    known: dict[tuple[int, int, bool], int | None] = {}  # (day looked up, year, grown) -> wage
    grow_from = ahead_from.ordinal if ahead_from is not None else None
    for ordinal, day in zip(ordinals.tolist(), days.tolist(), strict=True):
        grow = grow_from is not None and ordinal >= grow_from
        key = (day, ordinal // 12 if grow and growth else 0, grow)
        if key not in known:
            try:
                known[key] = wage_fen(policy, region, Month(ordinal), growth, grow)
            except ParameterNotFound:
                known[key] = None
        wages[ordinal] = known[key]
    return wages


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
    return accounts_at_retirement(policy, balance_fen, [ahead], this_year, retire, assumed_rate)[0]


def accounts_at_retirement(
    policy: Policy,
    balance_fen: int,
    aheads: list[MonthsAhead],
    this_year: int,
    retire: Month,
    assumed_rate: Fraction | None,
) -> list[AccountAhead]:
    """``account_at_retirement`` for each of ``aheads`` (the ladder's ratios): each year's
    rate is read once and its interest computed once over every ratio's balance."""
    low, high = min(this_year, retire.year), max(this_year, retire.year)
    in_year = np.zeros((high - low + 1, len(aheads)), dtype=np.int64)  # year - low, ratio
    for column, ahead in enumerate(aheads):
        years = ahead.months // 12
        kept = (years >= low) & (years <= high)
        np.add.at(in_year[:, column], years[kept] - low, ahead.account_fen[kept])
    rates: list[YearRate] = []
    balance = np.full(len(aheads), balance_fen, dtype=np.int64)
    for rate in year_rates(policy, range(this_year, retire.year)):
        if assumed_rate is not None:
            rate = replace(rate, rate=assumed_rate, provisional=True)
        else:
            rates.append(rate)
        credited = in_year[rate.year - low]
        balance = balance + yearly_interest(rate, balance, credited) + credited
    balance = balance + in_year[retire.year - low]
    return [AccountAhead(int(b), tuple(rates)) for b in balance.tolist()]
