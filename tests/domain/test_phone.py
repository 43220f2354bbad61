"""Mobile numbers as a login name: the ways one is typed, what is refused, the masked form,
and that no resident id is ever taken for a number (or a number for a resident id)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suiren.domain.phone import InvalidPhone, Phone, is_phone_like
from suiren.domain.resident_id import check_character


@pytest.mark.parametrize(
    "typed",
    ["13800138000", "138 0013 8000", "138-0013-8000", "+86 138 0013 8000", "+8613800138000",
     "008613800138000", "8613800138000", " (138) 0013-8000 "],
)  # fmt: skip
def test_the_ways_a_number_is_typed_are_one_number(typed: str) -> None:
    assert is_phone_like(typed)
    number = Phone.parse(typed)
    assert number.number == "13800138000" and number.masked == "138****8000"


@pytest.mark.parametrize(
    "typed",
    ["1380013800", "138001380001", "12345678901", "10086", "23800138000", "+1 650 253 0000",
     "+86 138 0013 800x", "1" * 30, "", "１３８００１３８０００", "13８00138000"],
)  # fmt: skip
def test_what_is_not_a_mobile_number_is_refused(typed: str) -> None:
    with pytest.raises(InvalidPhone) as refused:
        Phone.parse(typed)
    assert refused.value.code == "invalid-phone" and refused.value.field == "phone"


@given(
    region=st.sampled_from(["110101", "440106", "320102", "510104", "820000", "650102"]),
    born=st.dates(min_value=date(1900, 1, 1)),
    sequence=st.integers(min_value=0, max_value=999),
)
def test_no_resident_id_is_taken_for_a_number(region: str, born: date, sequence: int) -> None:
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    eighteen = first17 + check_character(first17)
    fifteen = f"{region}{born:%y%m%d}{sequence:03d}"  # the old 15-digit form
    for resident_id in (eighteen, fifteen, eighteen.lower()):
        assert not is_phone_like(resident_id)


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_every_mobile_number_is_one_and_masks_to_seven_hidden_digits(number: str) -> None:
    assert is_phone_like(number) and Phone.parse(number).number == number
    masked = Phone.parse(number).masked
    assert masked[:3] == number[:3] and masked[-4:] == number[-4:] and masked[3:7] == "****"
