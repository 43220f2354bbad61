from datetime import date

import pytest

from suiren.domain.credit_code import CreditCode
from suiren.domain.errors import InvalidCreditCode, InvalidResidentId
from suiren.domain.resident_id import ResidentId, check_character, convert_15_to_18, mask


def test_resident_id_checksum_birth_sex_and_mask():
    rid = ResidentId.parse("11010519491231002X")  # the example printed in GB 11643-1999
    assert rid.birth_date == date(1949, 12, 31)
    assert rid.sex == "F"
    assert rid.masked == "11****************"  # the province only (threat model)
    assert "11010519491231002X" not in repr(rid)


def test_fifteen_digit_ids_convert():
    assert convert_15_to_18("110105491231002") == "11010519491231002X"
    assert ResidentId.parse("110105491231002").number == "11010519491231002X"


def test_renamed_county_with_valid_checksum_is_accepted():
    # 440882 (雷州) exists; 442801 was a county code abolished long ago: the checksum
    # is what GB 11643 defines, and a real id from a since-renamed county must pass.
    first17 = "44280119850315123"
    number = first17 + check_character(first17)
    rid = ResidentId.parse(number)
    assert rid.sex == "M" and rid.birth_date == date(1985, 3, 15)


@pytest.mark.parametrize(
    "number",
    ["110105194912310021", "11010519491331002X", "1101051949123100", "ABCDEFGHIJKLMNOPQR"],
)
def test_bad_resident_ids_are_refused(number):
    with pytest.raises(InvalidResidentId):
        ResidentId.parse(number)


def test_future_birth_date_is_refused():
    first17 = "44030120990101123"
    with pytest.raises(InvalidResidentId):
        ResidentId.parse(first17 + check_character(first17), today=date(2026, 1, 1))


def test_mask_shows_the_province_only():
    assert mask("440301199001011234") == "44" + "*" * 16


@pytest.mark.parametrize(
    "code",
    ["91110000600037341L", "91350100M000100Y43"],
)
def test_credit_codes(code):
    assert str(CreditCode.parse(code)) == code


def test_credit_codes_of_newer_authorities_A_N_Y():
    from suiren.domain.credit_code import check_character as cc

    for first in "ANY":
        first17 = first + "1440300MA5D12345"
        code = first17 + cc(first17)
        assert CreditCode.parse(code).region_code == "440300"


@pytest.mark.parametrize("code", ["91110000600037341M", "I1110000600037341L", "911100006000373"])
def test_bad_credit_codes(code):
    with pytest.raises(InvalidCreditCode):
        CreditCode.parse(code)
