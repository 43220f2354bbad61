"""The message catalogue (domain/messages.py): every message in zh-CN and English, the two
halves taking the same parameters, and an error raised with one carries both."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from suiren.domain.errors import InvalidInput, SuirenError, UnknownRegion
from suiren.domain.messages import CATALOGUE, Text, text
from suiren.domain.month import Month
from suiren.domain.region import RegionCode

CJK = re.compile(r"[\u3400-\u9fff]")
SOURCE = Path(__file__).resolve().parents[2] / "src" / "suiren"


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_each_message_has_both_halves_with_the_same_parameters(code: str) -> None:
    zh, en = CATALOGUE[code]
    assert CJK.search(zh), f"{code}: the Chinese half has no Chinese: {zh!r}"
    # the English half is English (a Chinese term may stand glossed in it: "back-payment (补缴)")
    assert re.search("[A-Za-z]{2,}", en) and not CJK.match(en), f"{code}: {en!r}"
    assert _fields(zh) == _fields(en), code


def test_every_code_is_used() -> None:
    """A code no module names is a message nobody sees (the ids' nouns are named by the
    ``what`` of ``options.identifier``, as ``noun.<what>``)."""
    modules = [p for p in SOURCE.rglob("*.py") if p.name != "messages.py"]
    code = "\n".join(p.read_text(encoding="utf-8") for p in modules)
    named = set(re.findall(r'"([a-z0-9-]+\.[a-z0-9-]+)"', code)) & set(CATALOGUE)
    named |= {f"noun.{w}" for w in re.findall(r'identifier\(\s*"[^"]+",\s*"([a-z0-9-]+)"', code)}
    named.add("noun.id")  # identifier()'s default
    assert set(CATALOGUE) - named == set()


def test_a_text_parameter_goes_into_each_language() -> None:
    said = text(
        "value.refused", name="--x", expected=text("expect.region"), shown="'1'", hint=Text("", "")
    )
    assert said.zh == "--x 须为：六位 ASCII 数字的行政区划代码（GB/T 2260）；收到 '1'"
    assert said.en == "--x must be a region code of six ASCII digits (GB/T 2260), got '1'"
    assert said.joined() == f"{said.zh} / {said.en}"


def test_an_error_raised_with_a_text_carries_both() -> None:
    error = InvalidInput(text("month.form", shown="'2026-13'"), field="month")
    assert error.message == "a month must look like \"2025-07\" (YYYY-MM), got '2026-13'"
    assert error.message_zh == "月份应形如 \"2025-07\"（YYYY-MM），收到 '2026-13'"
    assert error.to_json() == {
        "code": "invalid-input",
        "field": "month",
        "message": error.message,
        "message_zh": error.message_zh,
    }
    assert str(error) == error.message_both == f"{error.message_zh} / {error.message}"
    assert error.text == Text(error.message_zh, error.message)


def test_an_error_raised_with_a_string_is_english_only() -> None:
    error = SuirenError("not in the catalogue yet")
    assert (error.message, error.message_zh, error.text) == ("not in the catalogue yet", None, None)
    assert str(error) == error.message_both == "not in the catalogue yet"
    assert error.to_json()["message_zh"] is None


def test_the_domain_parsers_refuse_in_both_languages() -> None:
    for parse, typed in (
        (Month.parse, "2026-13"),
        (Month.parse, "July"),
        (RegionCode.parse, "999999"),
        (RegionCode.parse, "44O100"),
    ):
        with pytest.raises(InvalidInput) as refused:
            parse(typed)
        assert refused.value.message_zh and CJK.search(refused.value.message_zh), typed
        assert typed in refused.value.message_zh and typed in refused.value.message
    with pytest.raises(UnknownRegion) as unknown:
        RegionCode.parse("999999")
    assert unknown.value.message_zh == "未知的行政区划代码 999999（GB/T 2260）"
    assert unknown.value.message == "unknown region code 999999 (GB/T 2260)"
