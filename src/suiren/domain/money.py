"""Money as integer fen (分) and the one rounding function.

Amounts enter as decimal strings, ints or ``Decimal`` (JSON numbers parsed with
``parse_float=Decimal``) and are converted exactly; a binary ``float`` is refused, because
it cannot say which decimal amount it meant. Every rounding in Suiren goes through
``divide_round`` (integer arithmetic), with the mode and unit set by the region's rule.
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from suiren.domain.errors import InvalidAmount, require
from suiren.domain.messages import Text, text

FEN_PER_YUAN = 100
AMOUNT_FEN_MAX = 10**15  # a quadrillion fen: far above any real fund, far below int64's 9.2e18

# ASCII digits only (``\d`` would take a full-width ６), a comma only between groups of three
_DECIMAL_RE = re.compile(
    r"[+-]?(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.[0-9]*)?|[+-]?\.[0-9]+", re.ASCII
)
DECIMAL_CHARS_MAX = 40  # far more than any amount; int() of thousands of digits is slow

IntArray = npt.NDArray[np.int64]


AMOUNT = text("noun.amount")  # what an amount is called in a refusal, by default


class Rounding(StrEnum):
    """How a quotient is turned into an integer. HALF_UP is the statutory default (四舍五入)."""

    HALF_UP = "half_up"
    UP = "up"  # away from zero (进位), e.g. years rounded up to one decimal
    DOWN = "down"  # towards zero (舍去)


def parse_decimal(value: Any, *, what: str | Text = AMOUNT) -> Fraction:
    """Parse a decimal string, int or Decimal exactly. Floats are refused. ``what`` names
    the amount in a refusal (a field or an option; by default 金额 / amount)."""
    if isinstance(value, bool | float):
        raise InvalidAmount(text("amount.float", what=what, shown=repr(value)))
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidAmount(text("amount.not-finite", what=what, value=value))
        return Fraction(value)
    if isinstance(value, str):
        if len(value) > DECIMAL_CHARS_MAX or not _DECIMAL_RE.fullmatch(value):
            shown = repr(value[:DECIMAL_CHARS_MAX])
            raise InvalidAmount(text("amount.form", what=what, shown=shown))
        return Fraction(Decimal(value.replace(",", "")))
    raise InvalidAmount(text("amount.type", what=what, kind=type(value).__name__))


def yuan_to_fen(value: Any, *, what: str | Text = AMOUNT) -> int:
    """Convert an amount in yuan to exact fen; more than two decimals is an error."""
    amount = parse_decimal(value, what=what) * FEN_PER_YUAN
    if amount.denominator != 1:
        raise InvalidAmount(text("amount.places", what=what, shown=repr(value)))
    fen = int(amount)
    if abs(fen) > AMOUNT_FEN_MAX:
        raise InvalidAmount(text("amount.range", what=what, shown=repr(value)))
    return fen


def fen_to_yuan_str(fen: int) -> str:
    """Format fen as a plain decimal yuan string: 123456 -> '1234.56'."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), FEN_PER_YUAN)
    return f"{sign}{whole}.{cents:02d}"


def format_yuan(fen: int) -> str:
    """Format fen for display with thousands separators: 123456 -> '¥1,234.56'."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), FEN_PER_YUAN)
    return f"{sign}¥{whole:,}.{cents:02d}"


def divide_round(numerator: Any, denominator: Any, mode: Rounding = Rounding.HALF_UP) -> Any:
    """Integer division rounded by ``mode``; works on Python ints and int64 numpy arrays.

    ``denominator`` must be positive. Half-up rounds halves away from zero, so that
    -2.5 -> -3 and 2.5 -> 3, as a ledger expects of a reversal.
    """
    if isinstance(denominator, np.ndarray):
        require(bool(np.all(denominator > 0)), "divide_round: denominator must be positive")
    else:
        require(denominator > 0, "divide_round: denominator must be positive")
    negative = numerator < 0
    magnitude = -numerator if not isinstance(numerator, np.ndarray) and negative else numerator
    if isinstance(numerator, np.ndarray):
        magnitude = np.abs(numerator)
    if mode is Rounding.HALF_UP:
        quotient = (2 * magnitude + denominator) // (2 * denominator)
    elif mode is Rounding.UP:
        quotient = (magnitude + denominator - 1) // denominator
    else:
        quotient = magnitude // denominator
    if isinstance(numerator, np.ndarray):
        return np.where(negative, -quotient, quotient)
    return -quotient if negative else quotient


def round_to_unit(amount_fen: Any, unit_fen: int, mode: Rounding = Rounding.HALF_UP) -> Any:
    """Round an amount in fen to a multiple of ``unit_fen`` (10 = to the 角)."""
    return divide_round(amount_fen, unit_fen, mode) * unit_fen
