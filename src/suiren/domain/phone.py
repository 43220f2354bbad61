"""Mainland China mobile numbers (手机号码), as a worker types them into a login form.

A mobile number is 11 digits beginning with 1 and a second digit 3–9 (the 13x–19x network
blocks of the numbering plan, 《电信网编号计划（2017年版）》, 工业和信息化部); it may be typed
with the country code (+86, 0086 or 86 in front) and with spaces or hyphens, which are
dropped. The number is never stored or shown in clear: a login keeps a keyed blind index of
it (``services/identity``) and the masked form, 138****5678, which is all that is displayed.

A login form has one field for either name. ``is_phone_like`` tells them apart by their
shape, so that a mistyped number is refused as a number: a text that begins with + or 0086,
or that has at most 13 digits and nothing else, is meant as a number. A resident id has 15
or 18 characters and begins with a province code (1 to 8), so none is taken for one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from suiren.domain.errors import InvalidInput
from suiren.domain.messages import text as message  # `text` is what a number is parsed from

_SEPARATORS = re.compile(r"[\s\-()]")
_COUNTRY = re.compile(r"^(?:\+86|0086|86)(?=1[0-9]{10}$)")
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")  # ASCII digits only (\d takes ８)
_PHONE_LIKE = re.compile(r"^(?:\+|0086)[0-9]*$|^[0-9]{1,13}$")
CHARS_MAX = 20  # the longest way of typing one: +86 138-0013-8000 and a little room


class InvalidPhone(InvalidInput):
    code = "invalid-phone"


def _compact(text: str) -> str:
    return _SEPARATORS.sub("", text.strip())


def is_phone_like(text: str) -> bool:
    """Whether ``text`` is meant as a mobile number (valid or not) rather than a resident
    id: it begins with + or 0086, or it is at most 13 digits (86 and a number)."""
    return len(text) <= CHARS_MAX and bool(_PHONE_LIKE.fullmatch(_compact(text)))


@dataclass(frozen=True)
class Phone:
    number: str  # the 11 digits, no country code

    @classmethod
    def parse(cls, text: str) -> Phone:
        """The mobile number in ``text``, or ``InvalidPhone`` saying what a valid one is."""
        if len(text) > CHARS_MAX:
            raise InvalidPhone(message("phone.length"), field="phone")
        number = _COUNTRY.sub("", _compact(text))
        if not _MOBILE.fullmatch(number):
            raise InvalidPhone(message("phone.form"), field="phone")
        return cls(number)

    @property
    def masked(self) -> str:
        """138****5678: the first three digits (the network) and the last four."""
        return f"{self.number[:3]}****{self.number[-4:]}"
