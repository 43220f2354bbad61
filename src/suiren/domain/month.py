"""Calendar months (YYYY-MM) as an ordered value with exact arithmetic.

A month is stored as its ordinal ``year * 12 + (month - 1)``, which makes month
arithmetic plain integer arithmetic and lets whole arrays of months be numpy int64.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from suiren.domain.errors import InvalidMonth
from suiren.domain.messages import text as message  # `text` is what a month is parsed from

_MONTH_RE = re.compile(r"([0-9]{4})-([0-9]{2})", re.ASCII)  # ASCII digits, a full match
YEAR_MIN = 1900
YEAR_MAX = 2200


@dataclass(frozen=True, order=True, slots=True)
class Month:
    """A calendar month. ``Month.parse("2025-07") + 6 == Month.parse("2026-01")``."""

    ordinal: int

    @classmethod
    def of(cls, year: int, month: int) -> Month:
        if not (YEAR_MIN <= year <= YEAR_MAX) or not (1 <= month <= 12):
            raise InvalidMonth(message("month.invalid", month=f"{year:04d}-{month:02d}"))
        return cls(year * 12 + month - 1)

    @classmethod
    def parse(cls, text: str) -> Month:
        if not isinstance(text, str):
            raise InvalidMonth(message("month.not-text", shown=repr(text)))
        match = _MONTH_RE.fullmatch(text)
        if not match:
            raise InvalidMonth(message("month.form", shown=repr(text[:40])))
        return cls.of(int(match.group(1)), int(match.group(2)))

    @classmethod
    def from_date(cls, day: date) -> Month:
        return cls.of(day.year, day.month)

    @property
    def year(self) -> int:
        return self.ordinal // 12

    @property
    def month(self) -> int:
        return self.ordinal % 12 + 1

    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def __add__(self, months: int) -> Month:
        return Month(self.ordinal + int(months))

    def __sub__(self, other: Month) -> int:
        """Months from ``other`` to ``self`` (``Month - Month -> int``)."""
        return self.ordinal - other.ordinal

    def minus(self, months: int) -> Month:
        return Month(self.ordinal - int(months))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def month_range(first: Month, last: Month) -> list[Month]:
    """Every month from ``first`` to ``last`` inclusive (empty if last < first)."""
    return [Month(o) for o in range(first.ordinal, last.ordinal + 1)]
