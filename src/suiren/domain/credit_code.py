"""Unified social credit codes (统一社会信用代码), GB 32100-2015.

18 characters from the 31-character alphabet without I, O, S, V, Z: the registering
authority (1 机构编制, 5 民政, 9 工商, Y 其他, and A/N added for later authorities), the
entity type, the 6-digit region code, the 9-character organisation code and a MOD 31
check character. python-stdnum computes the check character; its registry of authority
codes is not consulted, so codes starting with A, N or Y are accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum.cn import uscc as _stdnum_uscc

from suiren.domain.errors import InvalidCreditCode
from suiren.domain.messages import text as message  # `text` is what a code is parsed from

_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CODE_RE = re.compile(rf"[{_ALPHABET}]{{18}}", re.ASCII)  # a full match
_AUTHORITIES = frozenset("123456789ANY")


def check_character(first17: str) -> str:
    return str(_stdnum_uscc.calc_check_digit(first17))


@dataclass(frozen=True, slots=True)
class CreditCode:
    code: str

    @classmethod
    def parse(cls, text: str) -> CreditCode:
        if not isinstance(text, str):
            raise InvalidCreditCode(message("credit-code.not-text"))
        raw = text.upper().replace(" ", "")  # spaces may group the characters
        if not _CODE_RE.fullmatch(raw):
            raise InvalidCreditCode(message("credit-code.form", shown=repr(text[:40])))
        if raw[0] not in _AUTHORITIES:
            raise InvalidCreditCode(message("credit-code.authority", char=repr(raw[0])))
        if raw[17] != check_character(raw[:17]):
            raise InvalidCreditCode(message("credit-code.check"))
        return cls(raw)

    @property
    def region_code(self) -> str:
        return self.code[2:8]

    def __str__(self) -> str:
        return self.code
