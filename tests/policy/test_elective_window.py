"""The elective retirement window (弹性退休区间) of one worker: the month to apply by, the
effect of ``retirement.flexible.late_without_employer``, and that the window is found under
the rules of the month the statutory age is reached whatever day the search starts from.

The windows of given births, computed by hand from the annexes, are YAML cases
(cases/retirement.yaml, formula ``elective_window``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from suiren.domain.month import Month
from suiren.domain.region import default_registry
from suiren.policy import Policy, load_policy
from suiren.policy.retirement import (
    CATEGORIES,
    elective_window,
    retirement_rule,
    statutory_retirement,
)
from suiren.rules.scenario import apply_scenario

LAW = load_policy("current_law")
MALE = CATEGORIES.index("male")
EMPLOYER_ONLY = Policy(
    apply_scenario(LAW.parameters, Path(__file__).parent / "fixtures" / "employer_only_late.yaml"),
    default_registry(),
)


def test_the_month_to_apply_by_for_each_choice():
    # man born 1965-03: statutory 60y1m in 2025-04 (2 // 4 + 1 = 1 month's delay)
    window = elective_window(LAW, Month.parse("1965-03"), MALE, True, date(2024, 6, 1))
    # early: 3 months before the chosen month; 2025-03 → 2024-12
    assert window.choice(Month.parse("2025-03")) == "early"
    assert window.apply_by(Month.parse("2025-03")) == Month.parse("2024-12")
    # the statutory month: nothing to ask for
    assert window.choice(Month.parse("2025-04")) == "statutory"
    assert window.apply_by(Month.parse("2025-04")) is None
    # late, whichever month is chosen: settled 1 month before the statutory month, 2025-03
    for chosen in ("2025-05", "2026-01", "2028-04"):
        assert window.choice(Month.parse(chosen)) == "late"
        assert window.apply_by(Month.parse(chosen)) == Month.parse("2025-03")
    # the edges are in, a month past either is out
    assert window.contains(Month.parse("2025-03")) and window.contains(Month.parse("2028-04"))
    assert not window.contains(Month.parse("2025-02"))
    assert not window.contains(Month.parse("2028-05"))


def test_no_later_age_where_only_an_employer_may_agree_to_one():
    birth = Month.parse("1966-01")  # 12 months after 1965-01: 4 months' delay, 60y4m, 2026-05
    alone = elective_window(EMPLOYER_ONLY, birth, MALE, True, date(2026, 6, 15))
    assert (str(alone.statutory_month), str(alone.latest_month)) == ("2026-05", "2026-05")
    assert (alone.later_offered, alone.no_later_reason) == (False, "no-employer")
    assert str(alone.earliest_month) == "2026-01"  # early is not touched: 60y0m
    employee = elective_window(EMPLOYER_ONLY, birth, MALE, False, date(2026, 6, 15))
    assert str(employee.latest_month) == "2029-05" and employee.later_offered  # 63y4m
    flexible = elective_window(LAW, birth, MALE, True, date(2026, 6, 15))
    assert str(flexible.latest_month) == "2029-05" and flexible.no_later_reason is None


@pytest.mark.parametrize("category", range(len(CATEGORIES)))
def test_the_window_is_that_of_the_rules_of_its_own_month(category):
    """Any day the search starts from gives one answer, and the statutory month is the one
    the rules in force in that month give."""
    for birth in (Month.of(1955, 1) + k for k in range(0, 12 * 36, 7)):
        windows = {
            elective_window(LAW, birth, category, True, day)
            for day in (date(2000, 1, 1), date(2024, 12, 31), date(2025, 1, 1), date(2040, 6, 1))
        }
        assert len(windows) == 1, birth
        [window] = windows
        reach = window.statutory_month
        rule = retirement_rule(LAW, reach.first_day())
        _, _, again = statutory_retirement(rule, np.array([birth.ordinal]), np.array([category]))
        assert Month(int(again[0])) == reach
        assert window.later_offered == (reach >= Month.of(2025, 1))
