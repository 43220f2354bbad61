"""Interest on individual accounts (记账利率), by the yearly method (年度计息法).

劳办发〔1997〕116号: for year Y,

    interest = balance before Y × r  +  amounts credited during Y × r × 1.083 × 1/2

with ``r`` the year's crediting rate (``account.interest_rate``, published once a year,
人社部发〔2017〕31号) and the in-year factor ``account.in_year_interest_factor``, rounded half
up to the fen, never negative. This is the one place the rule is written: the yearly run
(services/interest.py) sums each account's balance parts in SQL and applies
``yearly_interest`` to the columns; a transfer's catch-up and the reform's interest on the
pooled entitlement call it for one account.

A year whose rate is not yet published uses the latest published one (the agencies'
provisional practice); ``YearRate.provisional`` says so, and every output that uses it
must say so too.

Before 2016 each province set its own rate with reference to the one-year deposit rate; the
national values for 1998–2015 follow one convention (the People's Bank one-year benchmark in
force on 1 January of the year; docs/parameters.md), and a province's own published rate is a
regional value that ends (``null``) when the national rate begins, so the rate is read for
the account's region where the caller knows it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from suiren.domain.money import divide_round
from suiren.domain.region import NATIONAL
from suiren.policy import Policy
from suiren.rules.parameters import ResolvedValue
from suiren.rules.vector import day_number

IntArray = npt.NDArray[np.int64]
_INT64_SAFE = 1 << 62


@dataclass(frozen=True)
class YearRate:
    year: int
    rate: Fraction
    in_year_factor: Fraction
    provisional: bool  # the year's own rate is not published: the latest one is used
    cited: tuple[ResolvedValue, ...]


def year_rate(policy: Policy, year: int, region: str = NATIONAL) -> YearRate:
    """The crediting rate of ``year`` in ``region`` (its own before 2016, else the national)."""
    day = date(year, 1, 1)
    view = policy.national(day) if region == NATIONAL else policy.at(day, region)
    rate = view.get("account.interest_rate")
    factor = view.get("account.in_year_interest_factor")
    provisional = rate.start.year < year
    return YearRate(year, Fraction(rate.value), Fraction(factor.value), provisional, (rate, factor))


def year_rates(policy: Policy, years: range) -> list[YearRate]:
    """``year_rate`` of each of ``years`` (national): the two parameters are read once per run
    of years that share their values (every year after the latest published rate shares it)."""
    paths = ("account.interest_rate", "account.in_year_interest_factor")
    days = np.array([day_number(date(year, 1, 1)) for year in years], dtype=np.int64)
    same = policy.same_value_days(days, NATIONAL, paths)
    read: dict[int, YearRate] = {}  # the day read -> its rate, for a year of that day
    out: list[YearRate] = []
    for year, day in zip(years, same.tolist(), strict=True):
        if day not in read:
            read[day] = year_rate(policy, year)
        rate = read[day]
        provisional = rate.cited[0].start.year < year
        cited = (replace(rate.cited[0], provisional=provisional), *rate.cited[1:])
        out.append(replace(rate, year=year, provisional=provisional, cited=cited))
    return out


def yearly_interest(
    rate: YearRate, prior_fen: IntArray | list[int], in_year_fen: IntArray | list[int]
) -> IntArray:
    """The year's interest of each account from its (prior, in-year) parts; exact, half up."""
    prior = np.asarray(prior_fen, dtype=np.int64)
    in_year = np.asarray(in_year_fen, dtype=np.int64)
    r, f = rate.rate, rate.in_year_factor
    a = r.numerator * f.denominator  # prior × a + in_year × b, over d
    b = r.numerator * f.numerator
    d = r.denominator * f.denominator
    largest = int(max(np.abs(prior).max(initial=0), np.abs(in_year).max(initial=0)))
    if largest * (a + b) < _INT64_SAFE and 2 * d < _INT64_SAFE:
        amount = divide_round(prior * a + in_year * b, np.int64(d))
    else:  # far beyond any real account: exact Python integers
        amount = np.array(
            [
                int(divide_round(int(p) * a + int(q) * b, d))
                for p, q in zip(prior, in_year, strict=True)
            ],
            dtype=np.int64,
        )
    out: IntArray = np.maximum(amount, 0).astype(np.int64)
    return out


def interest_for(
    policy: Policy, year: int, prior_fen: int, in_year_fen: int, region: str = NATIONAL
) -> int:
    """``yearly_interest`` for one account (of ``region``)."""
    return int(yearly_interest(year_rate(policy, year, region), [prior_fen], [in_year_fen])[0])


def compound(
    policy: Policy,
    first_year: int,
    last_year: int,
    credited_fen: dict[int, int],
    carried_fen: dict[int, int] | None = None,
    region: str = NATIONAL,
) -> int:
    """Interest earned through ``last_year`` by amounts credited year by year (each year's
    interest joins the balance of the next). ``carried_fen``: of a year's credits, the part
    that predates that year (a transfer in) and earns the whole year's rate."""
    carried_fen = carried_fen or {}
    balance = total = 0
    for year in range(first_year, last_year + 1):
        credited = credited_fen.get(year, 0)
        carried = carried_fen.get(year, 0)
        earned = interest_for(policy, year, balance + carried, credited - carried, region)
        balance += credited + earned
        total += earned
    return total
