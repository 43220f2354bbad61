"""Chinese working days (工作日), with statutory holidays and make-up workdays (调休).

Deadlines such as "15 working days" count the days on which government offices work:
Monday to Friday, minus the statutory holidays and their substitute days off, plus the
weekend days that the State Council's yearly notice turns into workdays (调休上班). The
calendar comes from the ``holidays`` package; for years it does not know yet, only weekends
are skipped.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays

WORKING_DAYS_MAX = 366


@lru_cache(maxsize=64)
def _calendar(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("CN", years=[year])


def is_working_day(day: date) -> bool:
    return bool(_calendar(day.year).is_working_day(day))


def add_working_days(start: date, count: int) -> date:
    """The day on which ``count`` working days after ``start`` have passed (start excluded)."""
    if not 0 <= count <= WORKING_DAYS_MAX:
        raise AssertionError(f"working days must be between 0 and {WORKING_DAYS_MAX}")
    day = start
    remaining = count
    while remaining:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 if end <= start)."""
    days = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        days += is_working_day(day)
    return days
