"""One parser per kind of command-line input, applied before a command does anything else.

Every argument and option of ``suiren`` (except on/off flags) names one of these parsers
(``typer.Option(..., parser=options.month("--month"))``); Typer calls it with the text as
typed, and a refusal is an ``InvalidInput`` naming the option (exit 2, nothing built,
read or written — cli/main.py). tests/cli/test_bad_input.py finds every command of the app
and fails on a parameter that has no parser from here.

The rules, the same for every kind:

- **ASCII only where a number or a code is meant.** A full-width ``６０００``, an
  Arabic-Indic digit or a superscript is refused, never read as the digit it looks like
  (Python's ``int`` and ``\\d`` would); patterns are full matches with ``re.ASCII``, so a
  trailing newline fails (``$`` would let it through).
- **No guessing.** ``60,00`` is neither 6,000 nor 60 yuan: a comma is only a thousands
  separator between groups of three digits (``6,000.50``). No surrounding whitespace is
  trimmed from an id, a code or a number.
- **A named limit on everything**: lengths, years, amounts.

The parsers check form and range; whether a worker exists, a month may be paid or a
region takes the worker is the services' question, asked inside the unit of work.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Generic, TypeVar

from suiren.domain.errors import InvalidInput, require
from suiren.domain.messages import Text, quoted
from suiren.domain.messages import text as message  # options.text is the memo parser
from suiren.domain.money import AMOUNT_FEN_MAX, FEN_PER_YUAN, yuan_to_fen
from suiren.domain.month import YEAR_MAX, YEAR_MIN, Month
from suiren.domain.region import RegionCode
from suiren.domain.resident_id import ResidentId
from suiren.ledger.accounts import Scheme
from suiren.ledger.transaction import MEMO_CHARS_MAX, TX_ID_CHARS_MAX

T = TypeVar("T")

ID_CHARS_MAX = TX_ID_CHARS_MAX
WORKER_ID_CHARS_MAX = 32  # issued ids are "W" and 12 hex digits; room for older forms
TEXT_CHARS_MAX = MEMO_CHARS_MAX  # a memo or a reason: one line
PATH_CHARS_MAX = 4096  # PATH_MAX on Linux
SHOWN_CHARS_MAX = 40  # of a refused value, in the message

# help texts several commands share, in the form of every help text: 中文 / English
# (tests/cli/test_help_text.py walks the app and fails on one that is not)
JSON_HELP = "机器可读的输出（JSON） / machine-readable output"
WORKER_HELP = "人员编号 / the worker's id"
SCHEME_HELP = (
    "险种：employee_pension 职工养老（默认）或 employee_medical 职工医保"
    " / the scheme: employee_pension (default) or employee_medical"
)

_ID_RE = re.compile(r"[A-Za-z0-9_.:/-]+", re.ASCII)
_WORKER_RE = re.compile(r"[A-Za-z0-9]+", re.ASCII)
_MONTH_RE = re.compile(r"([0-9]{4})-([0-9]{2})", re.ASCII)
_DAY_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", re.ASCII)
_YEAR_RE = re.compile(r"[0-9]{4}", re.ASCII)
_YUAN_RE = re.compile(r"(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.[0-9]{1,2})?", re.ASCII)
_REGION_RE = re.compile(r"[0-9]{6}", re.ASCII)
_PORT_RE = re.compile(r"[1-9][0-9]{0,4}", re.ASCII)
_COUNT_RE = re.compile(r"[1-9][0-9]{0,8}", re.ASCII)
_RATE_RE = re.compile(r"(-?)([0-9]{1,2})(?:\.([0-9]{1,4}))?", re.ASCII)
_RESIDENT_ID_RE = re.compile(r"[0-9]{17}[0-9Xx]|[0-9]{15}", re.ASCII)


@dataclass(frozen=True)
class Parser(Generic[T]):
    """The parser of one kind of input, bound to the option's name (for its messages)."""

    kind: str
    name: str
    convert: Callable[[str, str], T]

    def __call__(self, value: object) -> T:
        if not isinstance(value, str):  # Typer hands over the text as typed
            raise InvalidInput(message("value.not-text", name=self.name), field=self.name)
        return self.convert(value, self.name)


def _refuse(name: str, value: str, expected: Text) -> InvalidInput:
    """``NAME must be EXPECTED, got VALUE`` (and how to type it), in Chinese and English."""
    shown = repr(value[:SHOWN_CHARS_MAX]) + ("…" if len(value) > SHOWN_CHARS_MAX else "")
    hint = Text("", "")
    if any(c.isdigit() and not c.isascii() for c in value):
        hint = message("value.hint-digits")
    elif value != value.strip():
        hint = message("value.hint-space")
    refused = message("value.refused", name=name, expected=expected, shown=shown, hint=hint)
    return InvalidInput(refused, field=name)


def _matched(pattern: re.Pattern[str], value: str, name: str, expected: Text) -> re.Match[str]:
    match = pattern.fullmatch(value)
    if match is None:
        raise _refuse(name, value, expected)
    return match


def _identifier(chars_max: int, what: str) -> Callable[[str, str], str]:
    def convert(value: str, name: str) -> str:
        expected = message("expect.id", what=message(f"noun.{what}"), chars_max=chars_max)
        if len(value) > chars_max:
            raise _refuse(name, value, expected)
        return _matched(_ID_RE, value, name, expected).group(0)

    return convert


def identifier(name: str, what: str = "id", chars_max: int = ID_CHARS_MAX) -> Parser[str]:
    """An idempotency key or the id of a transfer or a transaction; ``what`` names it, a
    ``noun.`` code of the message catalogue (``payment-id``)."""
    return Parser("id", name, _identifier(chars_max, what))


def _worker(value: str, name: str) -> str:
    expected = message("expect.worker", chars_max=WORKER_ID_CHARS_MAX)
    if len(value) > WORKER_ID_CHARS_MAX:
        raise _refuse(name, value, expected)
    return _matched(_WORKER_RE, value, name, expected).group(0)


def worker(name: str = "WORKER") -> Parser[str]:
    return Parser("worker", name, _worker)


def _month(value: str, name: str) -> Month:
    expected = message("expect.month", year_min=YEAR_MIN, year_max=YEAR_MAX)
    match = _matched(_MONTH_RE, value, name, expected)
    year, month = int(match.group(1)), int(match.group(2))
    if not (YEAR_MIN <= year <= YEAR_MAX and 1 <= month <= 12):
        raise _refuse(name, value, expected)
    return Month.of(year, month)


def month(name: str) -> Parser[Month]:
    return Parser("month", name, _month)


def _day(value: str, name: str) -> date:
    expected = message("expect.day", year_min=YEAR_MIN, year_max=YEAR_MAX)
    match = _matched(_DAY_RE, value, name, expected)
    try:
        day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        real = message("expect.real-day", year_min=YEAR_MIN, year_max=YEAR_MAX)
        raise _refuse(name, value, real) from None
    if not YEAR_MIN <= day.year <= YEAR_MAX:
        raise _refuse(name, value, expected)
    return day


def day(name: str) -> Parser[date]:
    return Parser("day", name, _day)


def _year(value: str, name: str) -> int:
    expected = message("expect.year", year_min=YEAR_MIN, year_max=YEAR_MAX)
    year = int(_matched(_YEAR_RE, value, name, expected).group(0))
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise _refuse(name, value, expected)
    return year


def year(name: str) -> Parser[int]:
    return Parser("year", name, _year)


def _yuan(value: str, name: str) -> int:
    most = f"{AMOUNT_FEN_MAX // FEN_PER_YUAN:,}"
    expected = message("expect.yuan", most=most)
    _matched(_YUAN_RE, value, name, expected)
    if len(value) > len(most) + 3:
        raise _refuse(name, value, expected)
    fen = yuan_to_fen(value.replace(",", ""), what=name)
    if fen <= 0:
        raise _refuse(name, value, expected)
    return fen


def yuan(name: str) -> Parser[int]:
    """An amount in yuan, returned in fen."""
    return Parser("yuan", name, _yuan)


def rate(name: str, minimum: Fraction, maximum: Fraction, example: str) -> Parser[Fraction]:
    """A decimal such as 0.6 or -0.02 (at most four places) from ``minimum`` to ``maximum``,
    returned exact; ``example``, shown in a refusal, lies in that range."""
    require(minimum <= Fraction(example) <= maximum, f"{name}: example {example} out of range")

    def convert(value: str, name: str) -> Fraction:
        expected = message(
            "expect.rate", minimum=_plain(minimum), maximum=_plain(maximum), example=example
        )
        match = _matched(_RATE_RE, value, name, expected)
        sign, whole, places = match.group(1), match.group(2), match.group(3) or ""
        number = Fraction(int(whole + places), 10 ** len(places)) * (-1 if sign else 1)
        if not minimum <= number <= maximum:
            raise _refuse(name, value, expected)
        return number

    return Parser("rate", name, convert)


def _plain(value: Fraction) -> str:
    return f"{float(value):g}"  # a bound in a message, e.g. 0.6 or -0.1 (never an amount)


def _host(value: str, name: str) -> str:
    expected = message("expect.host")
    if value == "localhost":
        return value
    import ipaddress

    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise _refuse(name, value, expected) from None


def host(name: str) -> Parser[str]:
    """An address to listen on."""
    return Parser("host", name, _host)


def _port(value: str, name: str) -> int:
    expected = message("expect.port")
    port = int(_matched(_PORT_RE, value, name, expected).group(0))
    if not 1 <= port <= 65535:
        raise _refuse(name, value, expected)
    return port


def port(name: str) -> Parser[int]:
    return Parser("port", name, _port)


def count(name: str, minimum: int, maximum: int) -> Parser[int]:
    """A whole number from ``minimum`` to ``maximum`` in ASCII digits (no sign, no leading 0)."""

    def parse(value: str, option: str) -> int:
        expected = message("expect.count", minimum=minimum, maximum=maximum)
        number = int(_matched(_COUNT_RE, value, option, expected).group(0))
        if not minimum <= number <= maximum:
            raise _refuse(option, value, expected)
        return number

    return Parser("count", name, parse)


def _region(value: str, name: str) -> str:
    _matched(_REGION_RE, value, name, message("expect.region"))
    return RegionCode.parse(value).code


def region(name: str) -> Parser[str]:
    """A known GB/T 2260 region code."""
    return Parser("region", name, _region)


def _resident_id(value: str, name: str) -> str:
    expected = message("expect.resident-id")
    _matched(_RESIDENT_ID_RE, value, name, expected)
    return ResidentId.parse(value).number  # the birth date against today: in the service


def resident_id(name: str) -> Parser[str]:
    return Parser("resident-id", name, _resident_id)


def choice(name: str, allowed: Sequence[str], kind: str = "choice") -> Parser[str]:
    def convert(value: str, name: str) -> str:
        if value not in allowed:
            raise _refuse(name, value, message("expect.choice", choices=", ".join(allowed)))
        return value

    return Parser(kind, name, convert)


def scheme(name: str, allowed: Sequence[Scheme]) -> Parser[Scheme]:
    names = [s.value for s in allowed]
    pick = choice(name, names)
    return Parser("scheme", name, lambda value, _: Scheme(pick(value)))


def _text(value: str, name: str) -> str:
    if len(value) > TEXT_CHARS_MAX:
        raise InvalidInput(
            message("value.text-too-long", name=name, chars_max=TEXT_CHARS_MAX, chars=len(value)),
            field=name,
        )
    for c in value:  # control, format, surrogate, unassigned, private use: not one line of text
        if unicodedata.category(c).startswith("C"):
            raise InvalidInput(
                message("value.text-not-printable", name=name, char=repr(c)), field=name
            )
    return value


def text(name: str) -> Parser[str]:
    """A memo or a reason: one line of printable text (any script), within its limit."""
    return Parser("text", name, _text)


def _path(value: str, name: str) -> Path:
    if not value or len(value) > PATH_CHARS_MAX or "\x00" in value:
        raise _refuse(name, value, message("expect.path", chars_max=PATH_CHARS_MAX))
    return Path(value)


def _input_file(value: str, name: str) -> Path:
    path = _path(value, name)
    try:
        is_file = path.is_file()
    except OSError:
        is_file = False
    if not is_file:
        raise InvalidInput(
            message("value.not-a-file", name=name, path=value[:PATH_CHARS_MAX]), field=name
        )
    try:  # opened here: a file this user may not read was a traceback where it was first read
        with path.open("rb"):
            pass
    except OSError as error:
        reason = quoted(error.strerror or error)
        raise InvalidInput(
            message("value.cannot-read", name=name, path=value[:PATH_CHARS_MAX], reason=reason),
            field=name,
        ) from None
    return path


def input_file(name: str) -> Parser[Path]:
    return Parser("input-file", name, _input_file)


def _output_file(value: str, name: str) -> Path:
    """A path a file can be written at: its folder exists and is writable, and it is not a
    folder itself — checked before anything is posted, so that a report is never lost after
    the work it reports on is done."""
    path = _path(value, name)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        usable = folder.is_dir() and os.access(folder, os.W_OK | os.X_OK) and not path.is_dir()
    except OSError:
        usable = False
    if not usable:
        shown = repr(value[:SHOWN_CHARS_MAX])
        raise InvalidInput(message("value.cannot-write", name=name, shown=shown), field=name)
    return path


def output_file(name: str) -> Parser[Path]:
    """A file to write; whether it may exist already is the command's rule."""
    return Parser("output-file", name, _output_file)


def source(name: str) -> Parser[str]:
    """A JSON source: ``-`` for standard input, or a file."""
    return Parser("source", name, lambda v, n: v if v == "-" else str(_input_file(v, n)))
