"""Every refusal the services can raise has its own problem title in Chinese and English
(issue 11 §1: a stable ``type`` and a message in the caller's language), and a refusal that
says "send it again" is a 409 or a 503, never "invalid" (422), whatever its code."""

from __future__ import annotations

import asyncio
import importlib
import json
import pkgutil
import re
from datetime import date
from decimal import Decimal
from typing import Any, Literal

import pytest
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request

import suiren
from suiren.api import validation
from suiren.api.app import create_app
from suiren.api.problems import DEFAULT, PROBLEMS, from_error
from suiren.domain.errors import Retry, SuirenError
from suiren.domain.messages import Text
from suiren.ledger.accounts import Scheme
from tests.api import settings_for
from tests.bilingual import english_words

CJK = re.compile(r"[\u4e00-\u9fff]")


def _error_classes() -> list[type[SuirenError]]:
    for module in pkgutil.walk_packages(suiren.__path__, "suiren."):
        if ".migrations." not in module.name:
            importlib.import_module(module.name)
    found, todo = [], [SuirenError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    return [cls for cls in found if cls is not SuirenError]


def _request(language: str) -> Request:
    headers = [(b"accept-language", language.encode())]
    return Request({"type": "http", "method": "POST", "path": "/api/v1/x", "headers": headers})


def test_every_error_code_has_its_own_title_in_both_languages() -> None:
    classes = _error_classes()
    assert len(classes) >= 25, [c.__name__ for c in classes]
    untitled = sorted({cls.code for cls in classes if cls.code not in PROBLEMS})
    assert not untitled, f"error codes without a problem title: {untitled}"
    for code, (status, zh, en) in PROBLEMS.items():
        assert 400 <= status <= 599, code
        assert CJK.search(zh) and not CJK.search(en) and en.isascii(), code
        assert (zh, en) != DEFAULT[1:], f"{code} has the generic title"


def test_a_refusal_reads_in_the_callers_language_and_a_retry_is_no_422() -> None:
    for cls in _error_classes():
        error = cls.__new__(cls)  # some take more than a message: only what a problem shows
        SuirenError.__init__(error, "what was wrong")
        zh = from_error(_request("zh-CN,zh;q=0.9"), error)
        en = from_error(_request("en-GB,en;q=0.8"), error)
        assert zh.body != en.body, cls.code
        if isinstance(error, Retry):  # send it again: a conflict or "try again", never a 422
            assert zh.status_code == en.status_code in (409, 503), cls.code


def test_the_title_follows_the_callers_quality_values_not_only_the_first_language() -> None:
    error = SuirenError("what was wrong")
    for header, title in [
        ("zh-CN;q=0.1, en;q=0.9", "Request refused"),
        ("en;q=0.1, zh-CN;q=0.9", "请求被拒绝"),
        ("en;q=0", "请求被拒绝"),
        ("fr, en-GB;q=0.8", "Request refused"),
        ("", "请求被拒绝"),
    ]:
        body = from_error(_request(header), error).body
        assert json.loads(body)["title"] == title, header


# --- a request that does not match its schema (422): pydantic's English, and Chinese ---------


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=4, pattern="^[a-z]+$")
    count: int = Field(ge=1, lt=10)
    amount: Decimal = Field(max_digits=5, decimal_places=2)
    kind: Literal["a", "b"]
    scheme: Scheme
    day: date
    flag: bool
    items: list[int] = Field(min_length=1, max_length=2)


_WRONG: list[dict[str, Any]] = [
    {},  # every field missing
    {"name": 1, "count": "x", "amount": "y", "kind": "c", "scheme": "z", "day": "d", "flag": "f",
     "items": "i", "extra": 1},
    {"name": "a", "count": 0, "amount": "1234.5", "items": []},
    {"name": "abcdef", "count": 10, "amount": "1.234", "items": [1, 2, 3]},
    {"name": "AB", "count": 1.5, "day": 3, "items": ["x"]},
]  # fmt: skip


def _pydantic_errors() -> list[dict[str, Any]]:
    found = []
    for data in _WRONG:
        with pytest.raises(ValidationError) as refused:
            _Schema.model_validate(data)
        found += refused.value.errors()
    return found


def test_each_common_validation_error_has_its_chinese() -> None:
    """Missing, extra, types, parsing, lengths, a pattern, a choice and bounds: each type
    pydantic gives has a Chinese sentence of its own, with its constraint filled in."""
    errors = _pydantic_errors()
    kinds = {e["type"] for e in errors}
    assert {"missing", "extra_forbidden", "string_too_long", "string_pattern_mismatch",
            "int_parsing", "decimal_parsing", "enum", "literal_error"} <= kinds  # fmt: skip
    assert kinds <= set(validation.ZH), kinds - set(validation.ZH)
    for error in errors:
        said = validation.said(error)
        assert CJK.search(said.zh) and "{" not in said.zh, (error["type"], said.zh)
        assert not english_words(said.zh.split("：")[0]), (error["type"], said.zh)
        assert said.en == error["msg"]
    for kind, template in validation.ZH.items():  # every sentence, even one not met above
        assert CJK.search(template), kind


def test_a_validation_error_of_another_type_reads_as_the_general_chinese() -> None:
    said = validation.said({"type": "url_parsing", "msg": "Input should be a valid URL"})
    assert said == Text("值不符合要求（url_parsing）", "Input should be a valid URL")
    lacking = validation.said({"type": "string_too_long", "msg": "too long", "ctx": {}})
    assert lacking.zh == "值不符合要求（string_too_long）"


@pytest.mark.parametrize(("language", "chinese"), [("zh-CN", True), ("en", False)])
def test_a_422_says_the_field_and_why_in_the_callers_language(language: str, chinese: bool) -> None:
    """The app's handler: the problem's title and detail in the caller's language, the field
    named; the English is pydantic's own."""
    handler = create_app(settings_for()).exception_handlers[RequestValidationError]
    errors = [e for e in _pydantic_errors() if e["type"] == "string_too_long"][:1]
    error = RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors])
    answer = asyncio.run(handler(_request(language), error))  # type: ignore[arg-type]
    problem = json.loads(answer.body)
    assert (answer.status_code, problem["type"]) == (422, "urn:suiren:problem:invalid-request")
    assert problem["field"] == "name" and "name" in problem["detail"]
    if chinese:
        assert problem["detail"] == "字段 name：最多 4 个字符" and CJK.search(problem["title"])
    else:
        assert problem["detail"] == f"name: {errors[0]['msg']}"
        assert not CJK.search(problem["detail"] + problem["title"]), problem


def test_an_object_refused_as_a_whole_is_no_body_that_is_not_one() -> None:
    """A JSON object that a route's model refuses as a whole (a login name: a resident id or
    a phone, one of the two) says so in both languages; it was answered "the body must be a
    JSON object", and the token route's "值无效" had no Chinese of its own."""
    from fastapi.testclient import TestClient

    person = "440106199001012035"
    with TestClient(create_app(settings_for()), raise_server_exceptions=False) as client:
        for path, body in [
            ("/api/v1/auth/code", {"resident_id": person, "phone": "13800138000"}),
            ("/api/v1/auth/code", {}),
            ("/api/v1/auth/register", {"code": "123456", "password": "a pass phrase"}),
            ("/api/v1/auth/token", {"password": "a pass phrase"}),
        ]:
            said = {}
            for language in ("zh-CN", "en"):
                answer = client.post(path, json=body, headers={"Accept-Language": language})
                assert answer.status_code == 422, answer.text
                said[language] = answer.json()["detail"]
            assert "resident_id" in said["zh-CN"] and "其中之一" in said["zh-CN"], (path, said)
            assert said["en"].endswith("give either resident_id or phone, not both"), said
        for content in ("[1]", "null", ""):  # no object at all: said as before
            answer = client.post("/api/v1/auth/code", content=content,
                                 headers={"Content-Type": "application/json"})  # fmt: skip
            assert "JSON 对象" in answer.json()["detail"], (content, answer.text)
