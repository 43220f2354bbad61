"""An integer of JSON text as every reader of input reads one (the API's bodies, the
calculator's cases, a checkpoint file): one of more digits than any field takes is refused
as such, before Python's own limit (4,300 digits) refuses it in words about its settings."""

from __future__ import annotations

INTEGER_DIGITS_MAX = 40  # past any amount, year or count an input holds (int64: 19 digits)


class IntegerTooLong(ValueError):
    """A JSON integer of more than ``INTEGER_DIGITS_MAX`` digits."""


def json_integer(digits: str) -> int:
    """``parse_int`` of ``json.loads``."""
    if len(digits) > INTEGER_DIGITS_MAX + digits.startswith("-"):
        raise IntegerTooLong(f"an integer of {len(digits)} characters")
    return int(digits)
