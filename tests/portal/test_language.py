"""The portal's language on both databases: Chinese first by default, English first when the
browser prefers English or the worker switches (``?lang=en``, then kept by a cookie), with
the page's ``lang`` attribute set to match."""

from __future__ import annotations

import pytest

from suiren.portal.text import language
from tests.portal.test_portal import assert_message, log_in_with_code, portal  # noqa: F401


def first(body: str, zh: str, en: str) -> str:
    assert zh in body and en in body, (zh, en)
    return "zh" if body.index(zh) < body.index(en) else "en"


@pytest.mark.parametrize(
    ("chosen", "cookie", "accept", "expected"),
    [
        (None, None, None, "zh"),
        (None, None, "en-US,en;q=0.9", "en"),
        (None, None, "zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        (None, None, "fr, en;q=0.5, zh;q=0.9", "zh"),
        (None, None, "en;q=x, *", "zh"),
        (None, "en", "zh-CN", "en"),
        ("zh", "en", "en", "zh"),
        ("xx", None, "en", "en"),
    ],
)
def test_the_language_is_the_switch_then_the_cookie_then_the_browsers(
    chosen: str | None, cookie: str | None, accept: str | None, expected: str
) -> None:
    assert language(chosen, cookie, accept) == expected


def test_chinese_first_by_default_and_english_first_when_the_browser_asks(portal) -> None:  # noqa: F811
    client, world = portal
    default = client.get("/login").text
    assert '<html lang="zh-CN">' in default and first(default, "登录", "Log in") == "zh"
    assert 'id="lang-switch" href="?lang=en"' in default
    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).text
    assert '<html lang="en">' in english
    assert "<title>Log in 登录" in english and first(english, "身份证号码", "Resident id") == "en"
    assert log_in_with_code(client, world["my_id"]).status_code == 303
    for path, zh, en in (
        ("/statement", "我的参保记录", "My insurance"),
        ("/pay", "缴费基数（元）", "Base (yuan)"),
        ("/move", "申请转移", "Request the move"),
        ("/pension", "养老金测算", "My pension estimate"),
    ):
        page = client.get(path, headers={"Accept-Language": "en"}).text
        assert '<html lang="en">' in page and first(page, zh, en) == "en", path
        assert first(page, "退出", "Log out") == "en"  # the navigation too
        assert first(client.get(path).text, zh, en) == "zh", path


def test_the_switch_is_kept_by_a_cookie_and_refusals_follow_it(portal) -> None:  # noqa: F811
    client, world = portal
    switched = client.get("/login?lang=en")
    assert '<html lang="en">' in switched.text
    cookie = next(c for c in switched.headers.get_list("set-cookie") if "suiren_lang=" in c)
    assert "suiren_lang=en" in cookie and "HttpOnly" in cookie
    kept = client.get("/login").text
    assert '<html lang="en">' in kept and 'href="?lang=zh"' in kept
    assert log_in_with_code(client, world["my_id"]).status_code == 303
    refused = client.get("/pay", params={"month": "2026-06", "base_yuan": "1"})
    assert_message(refused, 422, "The base must be from", "缴费基数须在")
    back = client.get("/pay?lang=zh").text
    assert '<html lang="zh-CN">' in back and first(back, "缴费", "Pay") == "zh"
    assert '<html lang="zh-CN">' in client.get("/pay").text
