"""The portal's language on both databases: Chinese by default, English when the browser
prefers English or the worker switches (``?lang=en``, then kept by a cookie), with the page's
``lang`` attribute set to match. A page is in one language: the other's sentences are not on
it (tests/portal/test_catalogs.py checks that an English page has no Chinese words)."""

from __future__ import annotations

import html
import re
import string

import pytest

from suiren.domain.errors import InvalidInput, SuirenError
from suiren.domain.messages import CATALOGUE
from suiren.domain.messages import text as message
from suiren.portal import i18n, text
from suiren.portal.i18n import language, month
from tests.bilingual import CJK, english_words
from tests.portal import csrf_of
from tests.portal.test_portal import assert_message, log_in_with_code, portal  # noqa: F401


def only(body: str, said: str, other: str) -> bool:
    """``said`` is on the page and ``other`` (the same words in the other language) is not."""
    return said in body and other not in body


@pytest.mark.parametrize(
    ("chosen", "cookie", "accept", "expected"),
    [
        (None, None, None, "zh"),
        (None, None, "en-US,en;q=0.9", "en"),
        (None, None, "zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        (None, None, "fr, en;q=0.5, zh;q=0.9", "zh"),
        (None, None, "en;q=x, *", "zh"),
        (None, None, "en;q=0, fr", "zh"),  # q=0: "not English"
        (None, None, "zh;q=0.1, en;q=0.2", "en"),  # the quality, not the order
        (None, None, "en;q=nan, en;q=2, en;q=-1, en;level=1", "zh"),  # malformed: ignored
        (None, None, "en-GB;q=0.5, zh-TW;q=0.5", "en"),  # equals: the first named
        (None, None, "EN ; q = 0.7", "en"),
        (None, "en", "zh-CN", "en"),
        ("zh", "en", "en", "zh"),
        ("xx", None, "en", "en"),
    ],
)
def test_the_language_is_the_switch_then_the_cookie_then_the_browsers(
    chosen: str | None, cookie: str | None, accept: str | None, expected: str
) -> None:
    assert language(chosen, cookie, accept) == expected


@pytest.mark.parametrize(
    ("given", "zh", "en"),
    [("2026-11", "2026年11月", "Nov 2026"), ("2026-01", "2026年1月", "Jan 2026"),
     ("2026-13", "2026-13", "2026-13"), ("", "", ""), ("soon", "soon", "soon")],
)  # fmt: skip
def test_a_month_is_written_in_the_pages_language(given: str, zh: str, en: str) -> None:
    assert (month(given, "zh"), month(given, "en")) == (zh, en)


def test_chinese_by_default_and_english_when_the_browser_asks(portal) -> None:  # noqa: F811
    client, world = portal
    default = client.get("/login").text
    assert '<html lang="zh-CN">' in default and only(default, "登录", "Log in")
    assert 'id="lang-switch" href="?lang=en"' in default
    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).text
    assert '<html lang="en">' in english
    assert "<title>Log in · Suiren</title>" in english and only(
        english, "Resident id", "身份证号码"
    )
    assert log_in_with_code(client, world["my_id"]).status_code == 303
    for path, zh, en in (
        ("/statement", "我的参保记录", "My insurance record"),
        ("/pay", "缴费基数（元）", "Base (yuan)"),
        ("/move", "申请转移", "Request the move"),
        ("/pension", "养老金测算", "My pension estimate"),
    ):
        page = client.get(path, headers={"Accept-Language": "en"}).text
        assert '<html lang="en">' in page and only(page, en, zh), path
        assert only(page, "Log out", "退出")  # the navigation too
        assert only(client.get(path).text, zh, en), path


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
    assert_message(refused, 422, "缴费基数须在", "The base must be from")
    assert "for Jun 2026." in refused.text  # the month in the sentence is English too
    back = client.get("/pay?lang=zh").text
    assert '<html lang="zh-CN">' in back and only(back, "缴费", "Pay")
    assert "2026年6月" in back
    assert '<html lang="zh-CN">' in client.get("/pay").text


@pytest.mark.parametrize("backend", ["sqlite"])
def test_refusals_in_english_say_what_was_wrong(portal) -> None:  # noqa: F811
    client, world = portal
    client.headers["Accept-Language"] = "en"
    csrf = csrf_of(client.get("/login").text)
    bad_id = client.post(
        "/login", data={"csrf": csrf, "resident_id": "44010619900101003Y", "password": "p"}
    )
    assert_message(bad_id, 422, "身份证号码无效", "The resident id is not valid")
    assert_message(
        client.post("/login", data={}), 403, "并非来自本站", "did not come from this site"
    )
    assert log_in_with_code(client, world["my_id"]).status_code == 303
    unknown = client.get("/pension", params={"retire": "2058-13"})
    assert_message(unknown, 422, "月份无效", "2058-13")  # the service's own words name the input
    early = client.get("/pay", params={"month": "2026-07", "base_yuan": "6000"})
    assert_message(early, 422, "尚未到来", "Jul 2026 has not come yet")


def _words(fragment: str) -> str:
    """The text of a fragment of a page, the rules it cites left out (their regulations are
    named as written, in Chinese, on either page)."""
    said = re.sub(r'<ul class="cited".*?</ul>', "", fragment, flags=re.S)
    return html.unescape(re.sub(r"<[^>]*>", " ", said))


def test_the_pensions_steps_and_comparison_are_in_the_pages_language(portal) -> None:  # noqa: F811
    """养老金测算's 计算过程 and the line comparing the scenarios: a Chinese page shows each
    step, its formula, inputs and result in Chinese with no English word; an English page
    shows them in English with no Chinese (a region's name, marked lang="zh-CN", aside)."""
    client, world = portal
    assert log_in_with_code(client, world["my_id"]).status_code == 303
    for lang in ("zh", "en"):
        page = client.get("/pension", params={"lang": lang}).text
        found = re.findall(
            r'<details class="explain" id="explain-[a-z_]+">(.*?)</details>', page, re.S
        )
        assert len(found) == 2, page  # one per scenario
        for body in found:
            steps = re.findall(r'<li class="step">(.*?)\n      </li>', body, re.S)
            names = [
                _words(re.search(r"<strong>(.*?)</strong>", s).group(1)).strip() for s in steps
            ]  # type: ignore[union-attr]
            assert len(steps) >= 8 and names[-1] == (
                "月养老金合计" if lang == "zh" else "monthly pension"
            )
            for step in steps:
                formula = _words(re.search(r'<div class="formula">(.*?)</div>', step).group(1))  # type: ignore[union-attr]
                if lang == "zh":
                    assert CJK.search(formula) and english_words(_words(step)) == [], step
                else:
                    assert 'lang="zh-CN"' not in step.split('<ul class="cited"')[0], step
                    assert not CJK.search(_words(step)) and english_words(formula), step
        causes = re.search(r'<small id="causes">(.*?)</small>', page, re.S).group(1)  # type: ignore[union-attr]
        if lang == "zh":
            assert CJK.search(causes) and english_words(_words(causes)) == [], causes
        else:
            outside = re.sub(r'<span lang="zh-CN">.*?</span>', "", causes)
            assert english_words(outside) and not CJK.search(_words(outside)), causes


def _every_error_kind() -> list[type[SuirenError]]:
    kinds, seen = [SuirenError], []
    while kinds:
        kind = kinds.pop()
        seen.append(kind)
        kinds += kind.__subclasses__()
    return sorted({k for k in seen if k.__init__ is SuirenError.__init__}, key=lambda k: k.code)


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_a_refusal_is_said_in_the_pages_language_for_every_catalogue_code(code: str) -> None:
    """Every message of the catalogue, raised as any error the portal turns into a sentence
    (``text.message_for``): a Chinese page says its Chinese, an English page its English —
    never the other's (a code with its own sentence says that one, in the page's language)."""
    zh_template = CATALOGUE[code][0]
    fields = {name for _, name, _, _ in string.Formatter().parse(zh_template) if name}
    said = message(code, **{name: "7" for name in fields})
    for kind in _every_error_kind():
        shown = text.message_for(kind(said))
        zh, en = text.say(shown, "zh"), text.say(shown, "en")
        if kind.code in text.MESSAGES:
            assert not english_words(zh) and not CJK.search(en), (kind.code, zh, en)
            continue
        assert (zh, en) == (said.zh, said.en), kind.code


def test_a_refusal_in_english_alone_reads_as_its_codes_sentence_on_a_chinese_page() -> None:
    shown = text.message_for(InvalidInput("not in the catalogue yet"))
    assert text.say(shown, "en") == "not in the catalogue yet"
    assert text.say(shown, "zh") == i18n.translations("zh").gettext(
        text.SERVICE_MESSAGES["invalid-input"]
    )
    assert CJK.search(text.say(shown, "zh"))


@pytest.mark.parametrize("path", ["/", "/statement", "/move", "/console/", "/console/transfers"])
def test_a_language_chosen_on_a_redirect_is_kept_on_the_page_it_leads_to(
    portal,  # noqa: F811
    path: str,
) -> None:
    """``http://127.0.0.1:8000/?lang=en`` (the README's switch) is a redirect to the login
    page, as is any page that needs a login: the redirect keeps the language in its cookie,
    so the page it leads to is in English — it was in Chinese, the choice lost on the way."""
    client, _ = portal
    client.cookies.clear()
    for lang, html_lang in (("en", "en"), ("zh", "zh-CN")):
        moved = client.get(path, params={"lang": lang}, follow_redirects=False)
        assert moved.status_code in (302, 303, 307), moved.text
        assert f"{i18n.LANGUAGE_COOKIE}={lang}" in moved.headers["set-cookie"]
        assert moved.headers["set-cookie"].count(f"{i18n.LANGUAGE_COOKIE}=") == 1
        landed = client.get(moved.headers["location"], headers={"Accept-Language": "zh-CN"})
        assert f'<html lang="{html_lang}"' in landed.text, (path, lang)
    page = client.get("/login", params={"lang": "en"})  # a page sets its cookie once
    assert page.headers["set-cookie"].count(f"{i18n.LANGUAGE_COOKIE}=") == 1
