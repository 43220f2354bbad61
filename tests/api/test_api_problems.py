"""Every refusal the services can raise has its own problem title in Chinese and English
(issue 11 §1: a stable ``type`` and a message in the caller's language), and a refusal that
says "send it again" is a 409 or a 503, never "invalid" (422), whatever its code."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re

from starlette.requests import Request

import suiren
from suiren.api.problems import DEFAULT, PROBLEMS, from_error
from suiren.domain.errors import Retry, SuirenError

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
