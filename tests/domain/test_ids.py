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


_FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("11010519491231002X".translate(_FULL_WIDTH), "第 1 位是全角字符"),  # a Chinese IME
        ("11010519491231002Ｘ", "character 18 is a full-width character"),
        ("110105\u300019491231002X", "第 7 位是空白"),  # an ideographic space
        ("110105\t19491231002X", "character 7 is whitespace"),
        ("11010519491231002X\n", "character 19 is whitespace"),
        ("1101051949X231002X", "character 11 is not a digit"),
        ("1101051949123100", "收到 16 位"),
        ("", "got 0 characters"),
    ],
)
def test_a_malformed_id_says_which_character_and_never_echoes_the_number(typed, said):
    """Not "has 18 characters (got 18 characters)": the first character that is not a digit,
    in Chinese then English; the number is not repeated (it is personal data)."""
    with pytest.raises(InvalidResidentId) as refused:
        ResidentId.parse(typed)
    error = refused.value
    assert said in error.message_both  # "Chinese / English", as a file's refused row says it
    assert error.message_zh is not None and error.message_zh.startswith("身份号码")
    assert error.message.startswith("a resident id")  # the English alone, for error:
    assert typed.strip() == "" or typed.strip() not in error.message_both
