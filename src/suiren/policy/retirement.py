"""Retirement age under the 2025 reform (渐进式延迟法定退休年龄), minimum years, divisor.

All functions take numpy arrays (a scalar is an array of one) of month ordinals
(``Month.ordinal``) and return arrays; the rules are the parameters under
``retirement.*`` and ``pension.account.*``.

The reform: for each category (male 60, female 55, female 50), births from the first
affected month on retire one month later per ``step`` birth months, capped at
``max_delay``::

    m      = birth - first_affected_birth_month
    delay  = 0 if m < 0 else min(max_delay, m // step + 1)
    age    = original_age + delay                 (months)
    retire = birth + age                          (the month the statutory age is reached)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from suiren.domain.errors import InvalidInput
from suiren.domain.messages import text as message
from suiren.domain.money import Rounding, divide_round
from suiren.domain.month import Month
from suiren.policy import Policy
from suiren.rules.parameters import ResolvedValue
from suiren.rules.vector import day_number

CATEGORIES = ("male", "female_cadre", "female_worker")
"""Retirement categories: men (60), women with original age 55, women with original age 50."""

IntArray = npt.NDArray[np.int64]
MONTHS_PER_YEAR = 12


@dataclass(frozen=True, slots=True)
class RetirementRule:
    """The reform's parameters, one entry per category, as arrays indexed by category."""

    original_age_months: IntArray
    first_affected: IntArray
    step: IntArray
    max_delay: IntArray
    early_max: int
    late_max: int
    cited: tuple[ResolvedValue, ...]


def retirement_rule(policy: Policy, day: date) -> RetirementRule:
    view = policy.national(day)
    cited: list[ResolvedValue] = []

    def per_category(name: str, convert: Any, unused: list[bool] | None = None) -> IntArray:
        values = []
        for i, category in enumerate(CATEGORIES):
            if unused is not None and unused[i]:
                values.append(convert(None))  # no delay: the reform's other values don't apply
                continue
            resolved = view.get(f"retirement.{category}.{name}")
            cited.append(resolved)
            values.append(convert(resolved.value))
        return np.array(values, dtype=np.int64)

    original = per_category("original_age_years", lambda v: int(v) * MONTHS_PER_YEAR)
    max_delay = per_category("max_delay_months", int)
    no_delay = [int(d) == 0 for d in max_delay]
    first = per_category(
        "first_affected_birth_month", lambda v: 0 if v is None else Month.parse(v).ordinal, no_delay
    )
    step = per_category("step_birth_months", lambda v: 1 if v is None else int(v), no_delay)
    early = view.get("retirement.flexible.early_months_max")
    late = view.get("retirement.flexible.late_months_max")
    cited += [early, late]
    return RetirementRule(
        original, first, step, max_delay, int(early.value), int(late.value), tuple(cited)
    )


def category_index(sex: str, category: str | None, policy: Policy, day: date) -> int:
    """The category of a worker: given explicitly, or male / the flexible-female default."""
    if category:
        if category not in CATEGORIES:
            raise InvalidInput(
                message("retire.category", choices=", ".join(CATEGORIES), shown=repr(category))
            )
        return CATEGORIES.index(category)
    if sex == "M":
        return 0
    if sex == "F":
        return CATEGORIES.index(
            str(policy.national(day).value("retirement.flexible_female_category"))
        )
    raise InvalidInput(message("retire.sex", shown=repr(sex)))


def statutory_retirement(
    rule: RetirementRule, birth: IntArray, category: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    """(delay months, statutory age in months, month ordinal the age is reached)."""
    months_since = birth - rule.first_affected[category]
    step = rule.step[category]
    delay = np.where(
        months_since < 0, 0, np.minimum(rule.max_delay[category], months_since // step + 1)
    )
    age = rule.original_age_months[category] + delay
    return delay, age, birth + age


def flexible_window(
    rule: RetirementRule, statutory_age: IntArray, category: IntArray
) -> tuple[IntArray, IntArray]:
    """Earliest and latest retirement age in months (弹性退休): never below the original age."""
    earliest = np.maximum(rule.original_age_months[category], statutory_age - rule.early_max)
    return earliest, statutory_age + rule.late_max


def minimum_years(policy: Policy, reach_month: IntArray) -> tuple[list[Fraction], IntArray]:
    """Minimum contribution years by the month the statutory age is reached.

    Returns the distinct values and, per case, an index into them (the table is national).
    """
    months, inverse = np.unique(reach_month, return_inverse=True)  # each month looked up once
    days = np.array(
        [day_number(Month(int(o)).first_day()) for o in months.tolist()], dtype=np.int64
    )
    regions = np.full(len(days), "000000")
    columns = policy.look_up(days, regions, {"min": "retirement.minimum_contribution_years"})
    return [Fraction(v) for v in columns.distinct("min")], columns.pair_of_case[inverse.reshape(-1)]


DIVISOR_TABLE = "pension.account.divisor_months"  # age → 计发月数 (国发〔2005〕38号 附件)


def divisor_ages(policy: Policy, day: date) -> tuple[int, int]:
    """The youngest and oldest whole ages of the national 计发月数 table in force on ``day``
    (an age past the oldest by a month has no divisor either)."""
    table = policy.national(day).get(DIVISOR_TABLE).value
    ages = sorted(int(age) for age in table)
    return ages[0], ages[-1]


def divisor_tenths(
    tables: list[Mapping[Any, Any]],
    rules: list[str],
    decimals: list[int],
    pair_of_case: npt.NDArray[np.intp],
    age_months: IntArray,
) -> IntArray:
    """个人账户养老金计发月数 for an age in months, in tenths of a month.

    ``tables`` are per pair, as the parameter holds them (age → months, keys and values
    anything ``int`` and ``Fraction`` read); pairs sharing one table object share its row,
    converted once (a batch over every region and day has thousands of pairs and a handful
    of tables). ``floor`` takes the whole age's divisor; ``interpolate`` moves linearly
    towards the next age's divisor by the months past the whole age, rounded half up to
    ``decimals``.
    """
    row_of_table: dict[int, int] = {}
    distinct: list[dict[int, Fraction]] = []
    row_of_pair = np.empty(len(tables), dtype=np.intp)
    for pair, raw in enumerate(tables):
        known = row_of_table.get(id(raw))
        if known is None:
            known = row_of_table[id(raw)] = len(distinct)
            distinct.append({int(k): Fraction(v) for k, v in raw.items()})
        row_of_pair[pair] = known
    ages = sorted(distinct[0])
    low, high = ages[0], ages[-1]
    years = age_months // MONTHS_PER_YEAR
    extra = age_months % MONTHS_PER_YEAR
    too_young = years < low
    too_old = (years > high) | ((years == high) & (extra > 0))
    if bool(np.any(too_young | too_old)):
        bad = int(np.flatnonzero(too_young | too_old)[0])
        raise InvalidInput(
            message(
                "retire.no-divisor",
                case=bad,
                years=int(age_months[bad]) // 12,
                months=int(age_months[bad]) % 12,
                low=low,
                high=high,
            )
        )
    grid = np.zeros((len(distinct), high - low + 2), dtype=np.int64)
    for at, table in enumerate(distinct):
        for age, months in table.items():
            grid[at, age - low] = int(months * 10)
        grid[at, high - low + 1] = grid[at, high - low]
    row = row_of_pair[pair_of_case]
    this = grid[row, years - low]
    following = grid[row, years - low + 1]
    interpolate = np.array([r == "interpolate" for r in rules])[pair_of_case]
    unit = np.array([10 ** (1 - d) for d in decimals], dtype=np.int64)[pair_of_case]
    # this - (this - following) * extra / 12, in tenths, rounded half up to the unit
    interpolated = (
        divide_round(this * 12 - (this - following) * extra, 12 * unit, Rounding.HALF_UP) * unit
    )
    return np.where(interpolate, interpolated, this)


REACH_ROUNDS_MAX = 4  # the rule of the reach month moves the reach month at most once


@dataclass(frozen=True, slots=True)
class ElectiveWindow:
    """The months one worker may retire in by choice (弹性退休), by the rules in force in the
    month the statutory age is reached (the reform and the flexible rule start 2025-01-01).

    Early (弹性提前退休): up to ``early_months_max`` before the statutory age, never below the
    original age, only with the minimum contribution years, asked for ``early_notice_months``
    before the chosen month. Late (弹性延迟退休): up to ``late_months_max`` after it, by
    agreement with the employer — or, for a worker without one (灵活就业人员), by application
    to the social insurance agency where ``late_without_employer`` allows it — settled
    ``late_notice_months`` before the statutory month. One who reached the statutory age
    before the flexible rule is offered no later age.
    """

    birth: Month
    statutory_age: int  # months
    earliest_age: int
    latest_age: int
    later_offered: bool
    no_later_reason: str | None  # "before-flexible-rule" or "no-employer" where not offered
    minimum_years: Fraction  # 最低缴费年限 for the year the statutory age is reached
    early_notice_months: int
    late_notice_months: int
    cited: tuple[ResolvedValue, ...]

    @property
    def statutory_month(self) -> Month:
        return self.birth + self.statutory_age

    @property
    def earliest_month(self) -> Month:
        return self.birth + self.earliest_age

    @property
    def latest_month(self) -> Month:
        return self.birth + self.latest_age

    def choice(self, retire: Month) -> str:
        """``early``, ``statutory`` or ``late``: where ``retire`` lies against the statutory month."""
        if retire < self.statutory_month:
            return "early"
        return "late" if retire > self.statutory_month else "statutory"

    def contains(self, retire: Month) -> bool:
        return self.earliest_month <= retire <= self.latest_month

    def apply_by(self, retire: Month) -> Month | None:
        """The last month to ask for a retirement in ``retire`` (None: the statutory month,
        nothing to ask): the chosen month less the early notice, or the statutory month less
        the late notice."""
        kind = self.choice(retire)
        if kind == "early":
            return retire.minus(self.early_notice_months)
        if kind == "late":
            return self.statutory_month.minus(self.late_notice_months)
        return None


def elective_window(
    policy: Policy, birth: Month, category: int, without_employer: bool, day: date
) -> ElectiveWindow:
    """The elective window of one worker, by the rules of the month the statutory age is
    reached: the month is found under the rules of ``day``, then again under those of the
    month found, until it no longer moves."""
    births = np.array([birth.ordinal], dtype=np.int64)
    categories = np.array([category], dtype=np.int64)
    _, _, first = statutory_retirement(retirement_rule(policy, day), births, categories)
    reach = Month(int(first[0]))
    for _ in range(REACH_ROUNDS_MAX):
        rule = retirement_rule(policy, reach.first_day())
        _, age, reached = statutory_retirement(rule, births, categories)
        if Month(int(reached[0])) == reach:
            break
        reach = Month(int(reached[0]))
    else:  # pragma: no cover - the rules' dates would have to chase each other
        raise InvalidInput(f"no stable statutory retirement month for a birth in {birth}")
    earliest, latest = flexible_window(rule, age, categories)
    view = policy.national(reach.first_day())
    early_notice = view.get("retirement.flexible.early_notice_months")
    late_notice = view.get("retirement.flexible.late_notice_months")
    others = tuple(f"retirement.{c}." for i, c in enumerate(CATEGORIES) if i != category)
    cited = [r for r in rule.cited if not r.path.startswith(others)]
    cited += [early_notice, late_notice]
    reason = None if rule.late_max > 0 else "before-flexible-rule"
    if without_employer and reason is None:
        alone = view.get("retirement.flexible.late_without_employer")
        cited.append(alone)
        reason = None if alone.value else "no-employer"
    later = reason is None
    minimum, which = minimum_years(policy, np.array([reach.ordinal], dtype=np.int64))
    cited.append(view.get("retirement.minimum_contribution_years"))
    statutory_age = int(age[0])
    return ElectiveWindow(
        birth=birth,
        statutory_age=statutory_age,
        earliest_age=int(earliest[0]),
        latest_age=int(latest[0]) if later else statutory_age,
        later_offered=later,
        no_later_reason=reason,
        minimum_years=minimum[int(which[0])],
        early_notice_months=int(early_notice.value),
        late_notice_months=int(late_notice.value),
        cited=tuple(cited),
    )


def months_past_retirement(
    window: ElectiveWindow, recorded: Iterable[int], months: Iterable[int]
) -> dict[int, int]:
    """Of ``months`` (ordinals), those a worker with ``window`` (without an employer) may no
    longer pay into the employee pension, each with the months counted when it was judged:
    from the window's last month on — the latest retirement month, the pension's first month,
    as the estimate counts the months before it — once the minimum years are reached. The
    months counted are all those ``recorded`` (paid, imported, deemed: whatever their month,
    so that months sent newest first are judged as if oldest first) and the earlier of
    ``months`` taken. The worker is a pensioner (社会保险法 第十六条); one still short pays
    on until the minimum is reached (延长缴费, 办法 第二条), and not a month more."""
    latest = window.latest_month.ordinal
    minimum = math.ceil(window.minimum_years * MONTHS_PER_YEAR)
    counted = set(recorded)
    refused: dict[int, int] = {}
    for month in sorted(set(months)):
        if month >= latest and len(counted) >= minimum:
            refused[month] = len(counted)
        else:
            counted.add(month)
    return refused
