"""The worker portal in-process on both databases: logging in (a code, a password), the
statement in yuan, the estimate through htmx, the session cookie and its expiry, CSRF on every
form, a clear message for bad input, and never another worker's records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from suiren.api import access
from suiren.domain.month import Month
from suiren.portal.app import create_app
from suiren.portal.text import yuan
from suiren.services.contributions import contribute
from suiren.services.identity import token_key
from suiren.services.logins import sign_token
from suiren.services.workers import enrol
from suiren.store.db import make_engine, unit_of_work
from tests.api import settings_for
from tests.conftest import KEYS, NOW, SECRET
from tests.ledger_helpers import POLICY, VAULT, pension_split, resident_id
from tests.portal import CODE_RE, TODAY, csrf_of, two_workers
from tests.worlds import populated

PASSWORD = "a long pass phrase"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def portal(
    database_url: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    url, extra = database_url
    for name, value in extra.items():  # PGOPTIONS: the test's own PostgreSQL schema
        monkeypatch.setenv(name, value)
    engine = make_engine(url, keys=KEYS)
    world = populated(engine, two_workers)
    engine.dispose()
    app = create_app(settings_for(url, today=TODAY, demo_codes=True))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, world


def code_for(client: TestClient, who: str, htmx: bool = False) -> str:
    csrf = csrf_of(client.get("/login").text)
    headers = {"HX-Request": "true"} if htmx else {}
    sent = client.post("/login/code", data={"csrf": csrf, "resident_id": who}, headers=headers)
    assert sent.status_code == 200, sent.text
    found = CODE_RE.search(sent.text)
    assert found, sent.text
    return found.group(1)


def log_in_with_code(client: TestClient, who: str, password: str = "") -> Any:
    code = code_for(client, who)
    csrf = csrf_of(client.get("/login").text)
    form = {"csrf": csrf, "resident_id": who, "code": code, "new_password": password}
    return client.post("/login/verify", data=form, follow_redirects=False)


def assert_message(response: Any, status: int, zh: str, en: str) -> None:
    """A page (or an htmx fragment) saying ``zh`` if it is in Chinese, ``en`` if in English,
    and never the other: a page is in one language."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    body = response.text
    english = '<html lang="en">' in body or (
        "<html" not in body and response.request.headers.get("accept-language", "")[:2] == "en"
    )
    said, other = (en, zh) if english else (zh, en)
    assert said in body and other not in body, body
    assert "Traceback" not in body


def test_a_code_logs_me_in_and_my_statement_is_in_yuan(portal) -> None:
    client, world = portal
    login = client.get("/login")
    assert login.status_code == 200 and '<html lang="zh-CN">' in login.text
    assert 'name="viewport"' in login.text and "/static/htmx.min.js" in login.text
    assert "script-src 'self'" in login.headers["content-security-policy"]
    done = log_in_with_code(client, world["my_id"])
    assert done.status_code == 303 and done.headers["location"] == "/statement"
    cookie = next(c for c in done.headers.get_list("set-cookie") if c.startswith("suiren_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    assert "Max-Age=1800" in cookie
    page = client.get("/statement")
    assert page.status_code == 200, page.text
    split = pension_split("440100", Month.of(2026, 1), 600_000)
    assert yuan(5 * split.individual_account_fen) in page.text  # ¥2,400.00 today
    assert yuan(5 * split.pooled_fen) in page.text
    assert "广州市 (440100)" in page.text and 'id="months-total">5<' in page.text
    assert "2026年5月" in page.text and "个人账户" in page.text
    assert world["my_id"] not in page.text and world["my_id"][:2] + "****" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert client.get("/", follow_redirects=False).headers["location"] == "/statement"


def test_a_password_set_with_a_code_logs_in_and_wrong_ones_lock_the_login(portal) -> None:
    client, world = portal
    assert log_in_with_code(client, world["my_id"], PASSWORD).status_code == 303
    client.cookies.clear()
    csrf = csrf_of(client.get("/login").text)
    form = {"csrf": csrf, "resident_id": world["my_id"], "password": PASSWORD}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303
    client.cookies.delete("suiren_session")
    form["csrf"] = csrf_of(client.get("/login").text)  # a login renews the form nonce
    wrong = {**form, "password": "not the right one"}
    stranger = {**form, "resident_id": resident_id(9)}  # well formed, never enrolled
    for attempt in (wrong, stranger):
        assert_message(
            client.post("/login", data=attempt), 401, "身份证号码、验证码或密码不正确", "not valid"
        )
    for _ in range(4):  # five wrong in a row lock the login, as the API's
        client.post("/login", data=wrong)
    assert_message(client.post("/login", data=form), 429, "尝试次数过多", "try again")
    assert "suiren_session" not in client.cookies


def test_a_nonce_planted_in_the_browser_opens_no_form_of_its_session(portal) -> None:
    """Who can write a cookie for the portal's domain (a sibling subdomain, say) but cannot
    read one plants a nonce of theirs in the worker's browser; the token a page gave them
    for that nonce — logged out, or logged in as another worker — is no token of the
    worker's forms: a form's token is bound to the session it was served to (OWASP's signed
    double submit), so the forged logout is refused and the worker stays logged in."""
    client, world = portal
    assert log_in_with_code(client, world["my_id"]).status_code == 303
    attacker = TestClient(client.app)
    token = csrf_of(attacker.get("/login").text)
    planted = [(attacker.cookies["suiren_csrf"], token)]
    assert log_in_with_code(attacker, world["their_id"]).status_code == 303
    planted.append((attacker.cookies["suiren_csrf"], csrf_of(attacker.get("/statement").text)))
    for nonce, token in planted:
        client.cookies.set("suiren_csrf", nonce)
        forged = client.post("/logout", data={"csrf": token}, follow_redirects=False)
        assert_message(forged, 403, "表单已过期或并非来自本站", "did not come from this site")
        assert client.get("/statement").status_code == 200  # still logged in
    good = csrf_of(client.get("/statement").text)  # the planted nonce, bound to this session
    out = client.post("/logout", data={"csrf": good}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login?notice=ended"


def test_a_form_left_open_past_its_session_goes_to_the_login_page(portal) -> None:
    """A browser drops the session cookie at its Max-Age, when the session expires; a form
    left open since (its token bound to that session) is posted without it. Nothing can be
    done without a session, so it is answered as any page that needs one — the way to the
    login page (htmx: its redirect header) — not refused as a forged form from another site.
    With the cookie still there, a token of another session is refused as before."""
    client, world = portal
    assert log_in_with_code(client, world["my_id"]).status_code == 303
    csrf = csrf_of(client.get("/account").text)
    client.cookies.delete("suiren_session")
    for path in ("/account/sessions/end", "/account/phone/remove", "/pay", "/move"):
        left = client.post(path, data={"csrf": csrf}, follow_redirects=False)
        assert (left.status_code, left.headers.get("location")) == (303, "/login"), path
        htmx = client.post(path, data={"csrf": csrf}, headers={"HX-Request": "true"})
        assert (htmx.status_code, htmx.headers.get("hx-redirect")) == (204, "/login"), path
    out = client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login?notice=logged-out"
    assert log_in_with_code(client, world["my_id"]).status_code == 303  # a new session
    forged = client.post("/account/sessions/end", data={"csrf": csrf}, follow_redirects=False)
    assert_message(forged, 403, "表单已过期或并非来自本站", "did not come from this site")
    assert client.get("/statement").status_code == 200  # still logged in


def test_every_form_refuses_a_post_without_this_browsers_csrf_token(portal) -> None:
    client, world = portal
    assert log_in_with_code(client, world["my_id"]).status_code == 303
    good = csrf_of(client.get("/statement").text)
    other_browser = TestClient(client.app)
    foreign = csrf_of(other_browser.get("/login").text)  # valid, for another browser's nonce
    forms = {
        "/login": {"resident_id": world["my_id"], "password": PASSWORD},
        "/login/code": {"resident_id": world["my_id"]},
        "/login/verify": {"resident_id": world["my_id"], "code": "000000"},
        "/account/phone/code": {"phone": "13800138000"},
        "/account/phone": {"phone": "13800138000", "code": "000000"},
        "/account/phone/remove": {},
        "/logout": {},
    }
    for path, form in forms.items():
        tampered = good[:-1] + ("1" if good.endswith("0") else "0")
        for token in (None, "", foreign, tampered):
            sent = form if token is None else {**form, "csrf": token}
            refused = client.post(path, data=sent, follow_redirects=False)
            assert_message(refused, 403, "表单已过期或并非来自本站", "did not come from this site")
            assert "set-cookie" not in refused.headers
    assert client.get("/statement").status_code == 200  # still logged in: the logout was refused
    out = client.post("/logout", data={"csrf": good}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login?notice=ended"
    assert client.get("/statement", follow_redirects=False).headers["location"] == "/login"
    assert "您已在所有设备上退出登录" in client.get("/login?notice=ended").text
    assert "您已退出登录" in client.get("/login?notice=logged-out").text  # no session to end


def test_only_my_own_records_whatever_the_request_names(portal) -> None:
    client, world = portal
    assert log_in_with_code(client, world["my_id"]).status_code == 303
    theirs = pension_split("440100", Month.of(2026, 1), 700_000)
    for path in (
        "/statement",
        f"/statement?worker_id={world['theirs']}",
        f"/pension?worker_id={world['theirs']}&base_ratio=1",
    ):
        page = client.get(path, headers={"HX-Request": "true"} if "pension" in path else {})
        assert page.status_code == 200, page.text
        assert world["theirs"] not in page.text and world["their_id"] not in page.text
        assert yuan(3 * theirs.individual_account_fen) not in page.text
    # a session for them signed with another key is no session at all
    forged = sign_token(b"x" * 32, world["theirs"], NOW, generation=0)
    client.cookies.clear()
    client.cookies.set("suiren_session", forged)
    assert client.get("/statement", follow_redirects=False).headers["location"].startswith("/login")
    # an API key never opens the portal, and a portal cookie is no API credential
    api = client.get("/api/v1/me/statement")
    assert api.status_code == 401 and api.headers["content-type"].startswith("application/problem")


def test_an_expired_session_cookie_is_refused(portal) -> None:
    client, world = portal
    stale = sign_token(token_key(SECRET), world["mine"], NOW - timedelta(minutes=31), generation=0)
    client.cookies.set("suiren_session", stale)
    refused = client.get("/statement", follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"] == "/login?notice=expired"
    assert 'suiren_session=""' in refused.headers["set-cookie"]
    client.cookies.set("suiren_session", stale)
    htmx = client.get("/pension", params={"base_ratio": "2"}, headers={"HX-Request": "true"})
    assert htmx.status_code == 204 and htmx.headers["hx-redirect"] == "/login?notice=expired"
    assert_message(client.get("/login?notice=expired"), 200, "登录已过期", "session has expired")
    fresh = sign_token(token_key(SECRET), world["mine"], NOW - timedelta(minutes=29), generation=0)
    client.cookies.set("suiren_session", fresh)
    assert client.get("/statement").status_code == 200


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_bad_resident_id_or_code_says_so(portal) -> None:
    client, _ = portal
    csrf = csrf_of(client.get("/login").text)
    bad_ids = ("44010619900101003Y", "x" * 400, "")
    bad_numbers = ("123", "+86 2345", "12345678901")  # digits alone read as a mobile number
    # typed with a Chinese keyboard in full-width mode (全角): an id, its X alone, a number
    full_width = (
        "４４０１０６１９９００１０１００３X",
        resident_id(1)[:17] + "Ｘ",
        "１３８０００００００１",
    )
    for bad in bad_ids + bad_numbers:
        for path in ("/login/code", "/login"):
            answer = client.post(path, data={"csrf": csrf, "login": bad, "password": "p"})
            if bad in bad_ids:
                assert_message(answer, 422, "身份证号码无效", "The resident id is not valid")
            else:
                assert_message(answer, 422, "手机号码无效", "mobile number is not valid")
    for bad, path in zip(full_width, ("/login/code", "/login", "/login/code"), strict=True):
        answer = client.post(path, data={"csrf": csrf, "login": bad, "password": "p"})
        assert_message(answer, 422, "切换到半角", "switch the keyboard to half-width")
    fragment = client.post(
        "/login/code", data={"csrf": csrf, "login": "4401"}, headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 422 and "<html" not in fragment.text
    assert "手机号码无效" in fragment.text
    verify = {"csrf": csrf, "resident_id": resident_id(1), "code": "12ab"}
    assert_message(client.post("/login/verify", data=verify), 422, "验证码是6位数字", "6 digits")
    short = {**verify, "code": "123456", "new_password": "short"}
    assert_message(
        client.post("/login/verify", data=short), 422, "密码须为8至128个字符", "8 to 128"
    )


# each refusal of the estimate says what was wrong in the page's language (never a bare "the
# input is not valid", nor the rules engine's "case 0: … give divisor_months"); the worker
# paid 2026-01..05 and was born in 1990-01
ESTIMATE_REFUSALS = (
    ({"base_ratio": "9"}, "须在 0.6 至 3 之间", "from 0.6 to 3."),
    ({"base_ratio": "0.5"}, "须在 0.6 至 3 之间", "from 0.6 to 3."),
    ({"base_ratio": "1e3"}, "须在 0.6 至 3 之间", "from 0.6 to 3."),
    ({"retire": "2058-13"}, "月份无效", "2058-13"),
    (
        {"retire": "1990-01"},
        "晚于最后缴费月份（2026年5月）",
        "after May 2026, your last month paid",
    ),
    (
        {"retire": "2026-05"},
        "晚于最后缴费月份（2026年5月）",
        "after May 2026, your last month paid",
    ),
    (
        {"retire": "2099-12"},
        "无法测算2099年12月退休的养老金",
        "retiring in Dec 2099 cannot be made",
    ),
)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_estimate_and_its_ladder_change_through_htmx(portal) -> None:
    client, world = portal
    assert log_in_with_code(client, world["my_id"]).status_code == 303
    page = client.get("/pension")
    assert page.status_code == 200 and 'hx-get="/pension"' in page.text
    assert all(f'<th scope="row">{p}%</th>' in page.text for p in (60, 100, 200, 300))
    fragment = client.get("/pension", params={"base_ratio": "3"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and fragment.text.startswith('<section id="estimate"')
    assert "<html" not in fragment.text and 'id="chosen-ratio">3<' in fragment.text
    assert 'class="chosen" aria-current="true">\n      <th scope="row">300%' in fragment.text
    assert "钱随人走" in fragment.text and "¥" in fragment.text
    # Guangzhou: Guangdong's own transitional pension is not computed, and the page says so
    assert "本估算未含领取地另行发放的" in fragment.text and "过渡性养老金" in fragment.text
    later = client.get("/pension", params={"retire": "2058-06"}, headers={"HX-Request": "true"})
    assert later.status_code == 200 and "2058年6月" in later.text
    # born 1990-01, a man: 63 in 2053-01, elective from 60 (2050-01) to 66 (2056-01) — by hand
    # from annex 1 (300 months after 1965-01: the full 36 months) and 第三条; 2058-06 is out
    assert 'id="statutory-current_law">2053年1月<' in later.text
    assert 'id="earliest-current_law">2050年1月<' in later.text
    assert 'id="latest-current_law">2056年1月<' in later.text
    assert "2058年6月退休不在可选的弹性退休区间（2050年1月至2056年1月）内" in later.text
    inside = client.get("/pension", params={"retire": "2056-01"}, headers={"HX-Request": "true"})
    assert inside.status_code == 200 and 'id="outside-window-' not in inside.text
    for params, zh, en in ESTIMATE_REFUSALS:
        for lang in ("zh", "en"):
            answer = client.get(
                "/pension", params=params, headers={"HX-Request": "true", "Accept-Language": lang}
            )
            assert_message(answer, 422, zh, en)
            assert 'role="alert"' in answer.text and "case 0" not in answer.text
    whole = client.get("/pension", params={"retire": "x"})
    assert whole.status_code == 422 and "<html" in whole.text and "月份无效" in whole.text
    english = client.get("/pension", params={"lang": "en"})
    assert "Not included in this estimate:" in english.text
    assert "Earliest by choice" in english.text and "Latest by choice" in english.text
    outside = client.get("/pension", params={"retire": "2058-06"}, headers={"HX-Request": "true"})
    assert "is outside the months you may choose:" in outside.text
    assert "退休不在" not in outside.text


@pytest.fixture
def older(
    database_url: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """The portal with a worker of Guangzhou born 1967-01 (statutory retirement 2027-08) who
    paid 2026-01..05: old enough to be estimated retiring this year."""
    url, extra = database_url
    for name, value in extra.items():
        monkeypatch.setenv(name, value)
    engine = make_engine(url, keys=KEYS)
    person = resident_id(7, "19670101")
    with unit_of_work(engine) as c:
        worker = enrol(c, POLICY, VAULT, person, "440100", None, NOW).worker.worker_id
        contribute(c, POLICY, "older", worker, Month.of(2026, 1), Month.of(2026, 5), 600_000, NOW)
    engine.dispose()
    app = create_app(settings_for(url, today=TODAY, demo_codes=True))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, person


@pytest.mark.parametrize("backend", ["sqlite"])
def test_an_estimate_on_a_figure_not_published_yet_says_it_is_provisional(older) -> None:
    """Retiring this year (2026-12): 广东's 计发基数 in the file is of 2025, so the pension is
    paid on it provisionally (预发) until 2026's is out; retiring in a later year is a
    projection on stated assumptions, not a provisional payment."""
    client, person = older
    assert log_in_with_code(client, person).status_code == 303
    now = client.get("/pension", params={"retire": "2026-12"}, headers={"HX-Request": "true"})
    assert now.status_code == 200, now.text
    assert 'id="provisional-current_law"' in now.text
    assert "暂按此前年度数值：2026年12月退休的养老金按2025年基本养老金计发基数计算" in now.text
    assert '<strong class="provisional">暂定</strong>' in now.text  # in the cited rules
    later = client.get("/pension", params={"retire": "2027-08"}, headers={"HX-Request": "true"})
    assert later.status_code == 200 and 'id="provisional-' not in later.text
    english = client.get("/pension", params={"retire": "2026-12", "lang": "en"})
    assert "Provisional: the pension of Dec 2026 is computed on" in english.text
    assert "the pension calculation base of 2025" in english.text
    assert "暂按" not in english.text


@pytest.mark.parametrize("backend", ["sqlite"])
def test_garbage_to_every_form_is_a_page_never_a_crash(portal) -> None:
    client, world = portal
    csrf = csrf_of(client.get("/login").text)
    bodies: list[tuple[bytes, str]] = [
        (b"", "application/x-www-form-urlencoded"),
        (b"\xff\xfe", "application/x-www-form-urlencoded"),
        (b"csrf=" + csrf.encode() + b"&" + b"&".join(b"f%d=1" % i for i in range(50)), FORM),
        (b"a=" + b"x" * 10_000, "application/x-www-form-urlencoded"),
        (json.dumps({"csrf": csrf, "resident_id": world["my_id"]}).encode(), "application/json"),
        (
            b"csrf=" + csrf.encode() + b"&resident_id=%00%00&code=%FF",
            "application/x-www-form-urlencoded",
        ),
    ]
    assert log_in_with_code(client, world["my_id"]).status_code == 303  # the account's forms
    csrf = csrf_of(client.get("/account").text)
    bodies.append((b"csrf=" + csrf.encode() + b"&phone=%00" + b"9" * 30 + b"&code=%FF", FORM))
    forms = ("/login", "/login/code", "/login/verify", "/account/phone/code", "/account/phone")
    for path in (*forms, "/account/phone/remove", "/logout"):
        for body, kind in bodies:
            answer = client.post(
                path, content=body, headers={"Content-Type": kind}, follow_redirects=False
            )
            if answer.status_code == 303:  # a logout or a removal with this browser's token
                assert path in ("/logout", "/account/phone/remove") and body.startswith(b"csrf=")
                continue
            assert 400 <= answer.status_code < 500, (path, body[:40], answer.text)
            assert answer.headers["content-type"].startswith("text/html")
            assert "Traceback" not in answer.text
    for path in ("/nowhere", "/statement/x", "/static/none.js"):
        missing = client.get(path)
        assert missing.status_code == 404 and "页面不存在" in missing.text
    assert client.put("/login").status_code == 405


@pytest.mark.parametrize("backend", ["sqlite"])
def test_logins_from_one_address_are_limited_with_the_apis(portal) -> None:
    client, world = portal
    csrf = csrf_of(client.get("/login").text)
    ids = [world["my_id"], *(resident_id(30 + n) for n in range(20))]  # a login's next code
    answers = [
        client.post("/login/code", data={"csrf": csrf, "resident_id": who}).status_code
        for who in ids[:15]
    ]  # waits a minute (CODE_RESEND): one code each
    answers += [client.post("/api/v1/auth/code", json={"resident_id": who}).status_code
                for who in ids[15:20]]  # fmt: skip
    assert answers == [200] * 15 + [202] * 5
    form = {"csrf": csrf, "resident_id": ids[20]}
    assert_message(client.post("/login/code", data=form), 429, "尝试次数过多", "try again")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_logins_next_code_is_sent_a_minute_after_the_last(portal, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Every code is a text message to the worker's phone: a login asked for codes again and
    again (by anyone who knows the id) is sent at most one a minute, by the portal or the
    API, whatever the id's case; the refusal says how long to wait, and a login's first
    code is never held back by another's."""
    from suiren.api.routes.common import Service
    from suiren.services.logins import CODE_RESEND

    client, world = portal
    mine = world["my_id"]
    first = code_for(client, mine)
    csrf = csrf_of(client.get("/login").text)
    form = {"csrf": csrf, "resident_id": mine.lower()}
    assert_message(client.post("/login/code", data=form), 429, "尝试次数过多", "try again")
    api = client.post("/api/v1/auth/code", json={"resident_id": mine})
    assert api.status_code == 429 and "demo_code" not in api.text, api.text
    assert "秒后再获取新的验证码" in api.json()["detail"], api.text
    other = client.post("/api/v1/auth/code", json={"resident_id": resident_id(60)})
    assert other.status_code == 202, other.text
    start = Service.now(client.app.state.service)
    monkeypatch.setattr(Service, "now", lambda _: start + CODE_RESEND - timedelta(seconds=1))
    assert client.post("/api/v1/auth/code", json={"resident_id": mine}).status_code == 429
    monkeypatch.setattr(Service, "now", lambda _: start + CODE_RESEND)
    second = code_for(client, mine)  # sent (200, a code on the page in demo mode)
    verify = {"csrf": csrf_of(client.get("/login").text), "login": mine, "code": second}
    assert client.post("/login/verify", data=verify, follow_redirects=False).status_code == 303
    assert first  # the first code was sent too; only the second logs in (it replaced the first)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_login_is_sent_ten_codes_a_day_of_beijing_time(portal, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """One code a minute was no cap: a login is sent ``CODES_PER_DAY`` codes a day, then
    refused (429 ``codes-per-day``) until midnight in Beijing (16:00 UTC), by the API in the
    caller's language and by the portal in the page's; another login is not held back, and
    the next day counts from one again."""
    from suiren.api.routes.common import Service
    from suiren.services.logins import CODE_RESEND, CODES_PER_DAY

    client, world = portal
    mine = world["my_id"]
    start = datetime(2026, 6, 15, 15, 40, tzinfo=UTC)  # 23:40 in Beijing
    for n in range(CODES_PER_DAY):
        monkeypatch.setattr(Service, "now", lambda _, n=n: start + n * CODE_RESEND)
        sent = client.post("/api/v1/auth/code", json={"resident_id": mine})
        assert sent.status_code == 202, (n, sent.text)
    later = start + CODES_PER_DAY * CODE_RESEND  # 23:50 in Beijing, a minute after the last
    monkeypatch.setattr(Service, "now", lambda _: later)
    refused = client.post("/api/v1/auth/code", json={"resident_id": mine})
    assert refused.status_code == 429 and "demo_code" not in refused.text, refused.text
    problem = refused.json()
    assert problem["type"] == "urn:suiren:problem:codes-per-day", problem
    assert problem["title"] == "今日验证码已达上限"
    assert "已达每日上限" in problem["detail"] and "北京时间零点后" in problem["detail"]
    english = client.post(
        "/api/v1/auth/code", json={"resident_id": mine}, headers={"Accept-Language": "en"}
    ).json()
    assert "codes were sent for this login today" in english["detail"], english
    for lang in ("zh", "en"):
        csrf = csrf_of(client.get(f"/login?lang={lang}").text)
        form = {"csrf": csrf, "resident_id": mine}
        page = client.post("/login/code", data=form)
        assert_message(page, 429, "已达每日上限", "ask again tomorrow")
        assert f'<html lang="{"en" if lang == "en" else "zh-CN"}">' in page.text
    other = client.post("/api/v1/auth/code", json={"resident_id": world["their_id"]})
    assert other.status_code == 202, other.text
    monkeypatch.setattr(Service, "now", lambda _: datetime(2026, 6, 15, 16, 0, tzinfo=UTC))
    assert code_for(client, mine)  # midnight in Beijing: the next day's first code


@pytest.mark.parametrize("backend", ["sqlite"])
def test_five_wrong_codes_are_all_a_login_gets_until_its_code_expires(portal, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A new code does not buy five more guesses: a login whose pending code was tried
    five times wrong is sent no other until it has expired — whatever the id's case, spaces,
    the page's language or the API asked."""
    from suiren.api.routes.common import Service
    from suiren.services.logins import CODE_TTL

    client, world = portal
    mine = world["my_id"]
    assert mine.endswith("X")
    right = code_for(client, mine)
    csrf = csrf_of(client.get("/login").text)
    variants = (mine, mine.lower(), f"{mine[:6]} {mine[6:]}", mine.lower(), mine)
    for n, typed in enumerate(variants):
        wrong = f"{(int(right) + 1 + n) % 10**6:06d}"
        path = "/login/verify?lang=en" if n % 2 else "/login/verify"
        answer = client.post(path, data={"csrf": csrf, "login": typed, "code": wrong})
        assert answer.status_code == 401, answer.text
    form = {"csrf": csrf, "login": mine.lower()}
    for path in ("/login/code", "/login/code?lang=en"):
        assert_message(client.post(path, data=form), 429, "尝试次数过多", "try again")
    api = client.post("/api/v1/auth/code", json={"resident_id": mine})
    assert api.status_code == 429 and "demo_code" not in api.text
    verify = {"csrf": csrf, "login": mine, "code": right}
    assert client.post("/login/verify", data=verify).status_code == 401
    later = Service.now(client.app.state.service) + CODE_TTL + timedelta(seconds=1)
    monkeypatch.setattr(Service, "now", lambda _: later)
    code = code_for(client, mine.lower())
    verify = {"csrf": csrf_of(client.get("/login").text), "login": mine, "code": code}
    assert client.post("/login/verify", data=verify, follow_redirects=False).status_code == 303


@pytest.mark.parametrize("backend", ["sqlite"])
def test_sessions_over_https_are_secure_cookies(database_url, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    url, _ = database_url
    engine = make_engine(url, keys=KEYS)
    world = populated(engine, two_workers)
    engine.dispose()
    app = create_app(settings_for(url, today=TODAY, demo_codes=True))
    with TestClient(app, base_url="https://testserver") as client:
        done = log_in_with_code(client, world["my_id"])
        cookies = done.headers.get_list("set-cookie")
    assert done.status_code == 303 and cookies
    assert all("Secure" in c and "HttpOnly" in c and "SameSite=strict" in c for c in cookies)


def test_every_portal_route_declares_its_access_rule_and_stays_out_of_the_api_spec() -> None:
    app = create_app(settings_for())
    routes = list(access.endpoints(app.routes))
    paths = {path for path, _ in routes}
    assert {"/login", "/statement", "/pension", "/logout", "/api/v1/health"} <= paths
    missing = [path for path, endpoint in routes if access.rule_of(endpoint) not in access.RULES]
    assert not missing, f"routes without an access rule: {missing}"
    own = {path for path, e in routes if access.rule_of(e) == access.WORKER_SELF}
    assert {"/statement", "/pension"} <= own
    assert not [p for p in app.openapi()["paths"] if not p.startswith("/api/v1/")]


def test_htmx_is_vendored_with_its_licence() -> None:
    from suiren.portal.app import STATIC

    script = (STATIC / "htmx.min.js").read_text(encoding="utf-8")
    assert script.startswith("/*! htmx 2.") and "0BSD" in script.splitlines()[1]
    assert "Zero-Clause BSD" in (STATIC / "htmx.LICENSE.txt").read_text(encoding="utf-8")
    weight = sum(p.stat().st_size for p in STATIC.iterdir())
    assert weight < 70_000, weight  # htmx, its licence and the stylesheet: no framework


def test_a_migrated_worker_sees_their_earlier_records(
    database_url: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12 in the portal: the history brought from the old system is on my statement
    (period, region, kind, base or index), counted in my months; never on another's."""
    from suiren.services.history import Person, import_people
    from tests.ledger_helpers import POLICY, VAULT

    url, extra = database_url
    for name, value in extra.items():
        monkeypatch.setenv(name, value)
    engine = make_engine(url, keys=KEYS)
    world = populated(engine, two_workers)
    stint = {"resident_id": world["my_id"], "kind": "paid", "base_yuan": "", "index": ""}
    person = Person(
        world["my_id"],
        [
            (1, stint | {"region": "330100", "from_month": "2010-01", "to_month": "2019-12",
                         "base_yuan": "5000"}),
            (2, stint | {"region": "330100", "from_month": "2008-01", "to_month": "2009-12",
                         "kind": "deemed", "index": "1.0"}),
        ],
    )  # fmt: skip
    with unit_of_work(engine) as c:
        done = import_people(
            c, POLICY, VAULT, [person], {}, "e" * 64, datetime(2026, 6, 15, tzinfo=UTC)
        )
    assert not done.errors, done.errors
    engine.dispose()
    app = create_app(settings_for(url, today=TODAY, demo_codes=True))
    with TestClient(app, raise_server_exceptions=False) as client:
        log_in_with_code(client, world["my_id"])
        page = client.get("/statement").text
        period = '<span class="nowrap">2010-01–</span><span class="nowrap">2019-12</span>'
        assert 'id="history"' in page and period in page and "杭州市" in page  # breaks at –
        assert "视同缴费" in page and "指数 1" in page
        assert 'id="months-total">125<' in page  # 5 paid through Suiren + 120 imported
        client.cookies.clear()
        log_in_with_code(client, world["their_id"])
        assert 'id="history"' not in client.get("/statement").text


def test_an_estimate_past_the_statutory_age_says_why_its_month_and_every_warning_is_shown(
    database_url: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A man born 1960-03 (60 in 2020-03) whose earlier system recorded months to 2026-03:
    asked on 2026-06-15, the estimate retires him in the first month not paid since, this
    month, and the page says why, in Chinese
    and in English; a warning the page has no sentence for is shown as the service wrote it
    (each warning of the service appears on the page, none dropped)."""
    from suiren.policy import SCENARIOS, load_policy
    from suiren.services.career import compare
    from suiren.services.history import Person, import_people

    url, extra = database_url
    for name, value in extra.items():
        monkeypatch.setenv(name, value)
    engine = make_engine(url, keys=KEYS)
    populated(engine, two_workers)
    old = resident_id(7, "19600301")
    row = {"resident_id": old, "kind": "paid", "index": "", "region": "440100"}
    row |= {"from_month": "2006-01", "to_month": "2026-03", "base_yuan": "6000"}
    with unit_of_work(engine) as c:
        done = import_people(
            c,
            POLICY,
            VAULT,
            [Person(old, [(1, row)])],
            {},
            "p" * 64,
            datetime(2026, 6, 1, tzinfo=UTC),
        )
        assert not done.errors, done.errors
        worker_id = done.mapping[0][1]
        said = compare(
            c, [load_policy(n) for n in SCENARIOS], worker_id, datetime(2026, 6, 15).date()
        )
    codes = {(s["scenario"], w["code"]) for s in said["scenarios"] for w in s["warnings"]}
    assert ("current_law", "past-statutory-age") in codes
    engine.dispose()
    app = create_app(settings_for(url, today=TODAY, demo_codes=True))
    with TestClient(app, raise_server_exceptions=False) as client:
        assert log_in_with_code(client, old).status_code == 303
        page = client.get("/pension", params={"lang": "zh"}).text
        assert 'id="past-statutory-current_law"' in page
        assert "您已于2020年3月达到法定退休年龄" in page and "按2026年6月退休计算" in page
        own = {  # the warnings _estimate.html writes a sentence of its own for
            "not-modelled": "not-modelled",
            "outside-retirement-window": "outside-window",
            "below-minimum-years": "below-minimum",
            "provisional-parameter": "provisional",
            "elective-application-due": "application-due",
            "past-statutory-age": "past-statutory",
        }
        for scenario, code in codes:
            shown = f"{own[code]}" if code in own else f"warning-{code}"
            assert f'id="{shown}-{scenario}"' in page, (scenario, code)
        english = client.get("/pension", params={"lang": "en"}).text
        assert "You reached the statutory retirement age in" in english


def test_a_worker_with_no_contributions_is_told_so_on_every_page(portal) -> None:
    """Enrolled, nothing paid yet: the statement says so, the pension page says there is
    nothing to estimate yet (a notice, not a refusal of anything typed), a move says there
    is nothing to move; in both languages."""
    from tests.portal.test_move import move_form

    client, _ = portal
    engine = client.app.state.service.engine  # type: ignore[attr-defined]
    with unit_of_work(engine) as c:
        enrol(c, POLICY, VAULT, resident_id(3), "440100", None, NOW)
    assert log_in_with_code(client, resident_id(3)).status_code == 303
    statement = client.get("/statement")
    assert statement.status_code == 200 and "尚无缴费记录" in statement.text
    for lang, said, other in (
        ("zh", "还没有缴费记录，暂时无法测算养老金", "输入无效"),
        ("en", "No contributions are recorded yet, so there is no pension", "not valid"),
    ):
        pension = client.get("/pension", headers={"Accept-Language": lang})
        assert pension.status_code == 200 and said in pension.text and other not in pension.text
        assert 'class="message notice"' in pension.text
    moved = client.post("/move", data=move_form(client, "330100"))
    assert_message(moved, 422, "没有可转移的权益", "there is nothing to move")
    client.headers["Accept-Language"] = "en"
    moved = client.post("/move", data=move_form(client, "330100"))
    assert_message(moved, 422, "没有可转移的权益", "there is nothing to move")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_crediting_rates_ahead_are_said_in_the_pages_language(portal) -> None:
    """The estimate's assumptions name the 记账利率 of the years ahead; a year not published
    yet stands on the latest published one, said in Chinese on a Chinese page."""
    client, world = portal
    assert log_in_with_code(client, world["my_id"]).status_code == 303
    chinese = client.get("/pension").text
    assumptions = chinese.split('class="assumptions">')[1].split("</p>")[0]
    assert "沿用最近公布的" in assumptions and "latest published" not in assumptions
    english = client.get("/pension", headers={"Accept-Language": "en"}).text
    assumptions = english.split('class="assumptions">')[1].split("</p>")[0]
    assert "(the latest published, 20" in assumptions and "沿用" not in assumptions
