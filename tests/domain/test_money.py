from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from suiren.domain.errors import InvalidAmount
from suiren.domain.money import (
    Rounding,
    divide_round,
    fen_to_yuan_str,
    format_yuan,
    round_to_unit,
    yuan_to_fen,
)


@pytest.mark.parametrize(
    ("value", "fen"),
    [("123.45", 12345), ("0.1", 10), (Decimal("7460.4"), 746040), (12, 1200), ("1,234.5", 123450)],
)
def test_yuan_to_fen_is_exact(value, fen):
    assert yuan_to_fen(value) == fen


@pytest.mark.parametrize("value", [0.1, "1.234", "abc", "", None, True, Decimal("NaN"), "1e3"])
def test_yuan_to_fen_refuses_floats_and_garbage(value):
    with pytest.raises(InvalidAmount):
        yuan_to_fen(value)


def test_half_up_rounds_halves_away_from_zero():
    assert divide_round(5, 2) == 3
    assert divide_round(-5, 2) == -3
    assert divide_round(4, 3) == 1
    assert divide_round(7, 2, Rounding.DOWN) == 3
    assert divide_round(7, 2, Rounding.UP) == 4
    assert divide_round(-7, 2, Rounding.UP) == -4
    assert round_to_unit(85475, 10) == 85480
    assert round_to_unit(85474, 10) == 85470


@given(st.integers(-(10**15), 10**15), st.integers(1, 10**6))
def test_divide_round_matches_exact_half_up_on_arrays_and_scalars(numerator, denominator):
    from fractions import Fraction

    exact = Fraction(numerator, denominator)
    expected = int(abs(exact) + Fraction(1, 2)) * (1 if exact >= 0 else -1)
    assert divide_round(numerator, denominator) == expected
    array = divide_round(np.array([numerator], dtype=np.int64), denominator)
    assert int(array[0]) == expected


def test_formatting():
    assert fen_to_yuan_str(213470) == "2134.70"
    assert fen_to_yuan_str(-5) == "-0.05"
    assert format_yuan(123456789) == "¥1,234,567.89"
