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
            raise InvalidResidentId(
                "身份号码应为 18 位字符串 / a resident id must be a string of 18 characters"
            )
        raw = text.upper().replace(" ", "")  # spaces may group the digits; nothing else is taken
        if _RID15_RE.fullmatch(raw):
            raw = convert_15_to_18(raw)
        if not _RID18_RE.fullmatch(raw):
            raise InvalidResidentId(_shape_problem(raw))
        expected = check_character(raw[:17])
        if raw[17] != expected:
            raise InvalidResidentId(
                "身份号码的校验码不符（GB 11643-1999），请检查是否输错"
                " / the resident id's check character does not match (GB 11643-1999);"
                " please check the number for a typing error"
            )
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


def _shape_problem(raw: str) -> str:
    """Why ``raw`` (spaces dropped, upper case) is not 17 ASCII digits and a check character:
    the first character that is not one (a full-width digit typed with a Chinese input
    method, say), or the length. The number itself is never repeated."""
    for at, c in enumerate(raw, 1):
        if not ("0" <= c <= "9" or (c == "X" and at in (18, len(raw)))):
            if c.isspace():
                zh, en = "空白", "whitespace"
            elif unicodedata.normalize("NFKC", c) != c:
                zh, en = "全角字符，请用半角输入", "a full-width character: type it half-width"
            else:
                zh, en = "不是数字", "not a digit"
            return (
                f"身份号码只能含半角数字和末位 X：第 {at} 位是{zh}"
                f" / a resident id holds ASCII digits and a final X only: character {at} is {en}"
            )
    return (
        f"身份号码为 18 位（旧号码 15 位），收到 {len(raw)} 位"
        f" / a resident id has 18 characters (an old one 15 digits): 17 digits and a check"
        f" digit or X; got {len(raw)} characters"
    )


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
        raise InvalidResidentId("a 15-digit resident id has 15 digits")
    first17 = old[:6] + "19" + old[6:]
    return first17 + check_character(first17)


def _birth_date(number: str, today: date | None) -> date:
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidResidentId(
            f"身份号码中的出生日期不存在（{number[6:14]}）"
            f" / the birth date in the resident id is not a real date ({number[6:14]})"
        ) from None
    if born.year < _BIRTH_YEAR_MIN or (today is not None and born > today):
        raise InvalidResidentId(
            f"身份号码中的出生日期超出范围（{born}）"
            f" / the birth date in the resident id is out of range ({born})"
        )
    return born
