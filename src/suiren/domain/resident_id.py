"""Citizen identity numbers (公民身份号码), GB 11643-1999.

An 18-character number: 6-digit address code, 8-digit birth date, 3-digit sequence (odd
for men, even for women) and an ISO 7064 MOD 11-2 check character (0-9 or X). Old 15-digit
numbers (two-digit year, no check character) are converted to 18.

python-stdnum computes the check character, but its ``validate`` also checks the address
code against a historical table and rejects real numbers issued by since-renamed counties;
so we use only its checksum and check the rest ourselves.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from stdnum.cn import ric as _stdnum_ric

from suiren.domain.errors import InvalidResidentId
from suiren.domain.messages import Text
from suiren.domain.messages import text as message  # `text` is what an id is parsed from
from suiren.domain.month import Month

_RID18_RE = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)  # full matches: ASCII digits only
_RID15_RE = re.compile(r"[0-9]{15}", re.ASCII)
_BIRTH_YEAR_MIN = 1880


def check_character(first17: str) -> str:
    """The GB 11643-1999 check character for the first 17 digits."""
    # stdnum's calc_check_digit expects a full-length number and ignores its last character.
    return str(_stdnum_ric.calc_check_digit(first17 + "0"))


@dataclass(frozen=True, slots=True)
class ResidentId:
    """A checked 18-character resident id. Never print ``number``: use ``masked``."""

    number: str

    @classmethod
    def parse(cls, text: str, *, today: date | None = None) -> ResidentId:
        if not isinstance(text, str):
            raise InvalidResidentId(message("resident-id.not-text"))
        raw = text.upper().replace(" ", "")  # spaces may group the digits; nothing else is taken
        if _RID15_RE.fullmatch(raw):
            raw = convert_15_to_18(raw)
        if not _RID18_RE.fullmatch(raw):
            raise InvalidResidentId(_shape_problem(raw))
        expected = check_character(raw[:17])
        if raw[17] != expected:
            raise InvalidResidentId(message("resident-id.check"))
        _birth_date(raw, today or date.today())
        return cls(raw)

    @property
    def birth_date(self) -> date:
        return _birth_date(self.number, None)

    @property
    def birth_month(self) -> Month:
        return Month.from_date(self.birth_date)

    @property
    def sex(self) -> str:
        """'M' or 'F', from the parity of the sequence number (odd = male)."""
        return "M" if int(self.number[16]) % 2 == 1 else "F"

    @property
    def address_code(self) -> str:
        return self.number[:6]

    @property
    def masked(self) -> str:
        """For display and storage in clear: ``44****************`` (the province only)."""
        return mask(self.number)

    def __repr__(self) -> str:
        return f"ResidentId({self.masked})"

    __str__ = __repr__


def _shape_problem(raw: str) -> Text:
    """Why ``raw`` (spaces dropped, upper case) is not 17 ASCII digits and a check character:
    the first character that is not one (a full-width digit typed with a Chinese input
    method, say), or the length. The number itself is never repeated."""
    for at, c in enumerate(raw, 1):
        if not ("0" <= c <= "9" or (c == "X" and at in (18, len(raw)))):
            if c.isspace():
                what = message("resident-id.whitespace")
            elif unicodedata.normalize("NFKC", c) != c:
                what = message("resident-id.full-width")
            else:
                what = message("resident-id.not-digit")
            return message("resident-id.character", at=at, what=what)
    return message("resident-id.length", chars=len(raw))


MASK_SHOWN_CHARS = 2


def mask(number: str) -> str:
    """Mask an id, keeping only its province (the first two characters).

    The birth month and sex are kept in clear beside it (the rules need them), and the hukou
    region may be the id's own county: with nothing more of the id shown, at least 28 days ×
    500 sequence numbers = 14,000 people share what is in clear (docs/ARCHITECTURE.md,
    "Threat model"). Showing the check character would leave about 1,300; the last four,
    fewer than 50.
    """
    return number[:MASK_SHOWN_CHARS] + "*" * (len(number) - MASK_SHOWN_CHARS)


def convert_15_to_18(old: str) -> str:
    """Convert a first-generation 15-digit number: insert the century 19, add the check."""
    if not _RID15_RE.fullmatch(old):
        raise InvalidResidentId(message("resident-id.old-length"))
    first17 = old[:6] + "19" + old[6:]
    return first17 + check_character(first17)


def _birth_date(number: str, today: date | None) -> date:
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidResidentId(
            message("resident-id.no-such-birth-date", digits=number[6:14])
        ) from None
    if born.year < _BIRTH_YEAR_MIN or (today is not None and born > today):
        raise InvalidResidentId(message("resident-id.birth-date-out-of-range", born=born))
    return born
