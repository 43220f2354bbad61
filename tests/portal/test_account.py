"""My login in the portal, on both databases: a worker binds a mobile number with a code sent
to it, then logs in with the number (a code or a password) on the same form as the resident
id; the number is shown masked only; a code for another number binds nothing; removing it
ends logging in by it; a bad number or code says so in the page's language."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from suiren.store.db import make_engine
from tests.conftest import KEYS
from tests.portal import CODE_RE, csrf_of
from tests.portal.test_portal import (
    PASSWORD,
    assert_message,
    log_in_with_code,
    portal,  # noqa: F401
)

PHONE = "13800138000"


def _phone_code(client: TestClient, phone: str, htmx: bool = True) -> str:
    csrf = csrf_of(client.get("/account").text)
    headers = {"HX-Request": "true"} if htmx else {}
    sent = client.post("/account/phone/code", data={"csrf": csrf, "phone": phone}, headers=headers)
    assert sent.status_code == 200, sent.text
    found = CODE_RE.search(sent.text)
    assert found, sent.text
    return found.group(1)


def _bind(client: TestClient, phone: str, code: str) -> Any:
    csrf = csrf_of(client.get("/account").text)
    form = {"csrf": csrf, "phone": phone, "code": code}
    return client.post("/account/phone", data=form, follow_redirects=False)


def _log_out(client: TestClient) -> None:
    csrf = csrf_of(client.get("/account").text)
    assert client.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303


def test_a_bound_number_logs_me_in_as_my_resident_id_does(portal) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    client, world = portal
    assert log_in_with_code(client, world["my_id"], PASSWORD).status_code == 303
    page = client.get("/account")
    assert page.status_code == 200 and 'id="no-phone"' in page.text
    assert 'href="/account" aria-current="page"' in page.text  # in the menu, marked
    bound = _bind(client, "138 0013 8000", _phone_code(client, PHONE, htmx=False))
    assert bound.status_code == 303 and bound.headers["location"] == "/account?notice=bound"
    page = client.get("/account?notice=bound")
    assert "138****8000" in page.text and PHONE not in page.text
    assert "绑定成功" in page.text
    _log_out(client)

    csrf = csrf_of(client.get("/login").text)
    by_password = {"csrf": csrf, "login": "+86 138-0013-8000", "password": PASSWORD}
    assert client.post("/login", data=by_password, follow_redirects=False).status_code == 303
    assert 'id="months-total">5<' in client.get("/statement").text  # mine: five months
    _log_out(client)

    csrf = csrf_of(client.get("/login").text)
    sent = client.post("/login/code", data={"csrf": csrf, "login": PHONE})
    code = CODE_RE.search(sent.text)
    assert code, sent.text
    form = {"csrf": csrf_of(client.get("/login").text), "login": PHONE, "code": code.group(1)}
    assert client.post("/login/verify", data=form, follow_redirects=False).status_code == 303
    assert 'id="months-total">5<' in client.get("/statement").text


def test_a_code_for_another_number_binds_nothing_and_removal_ends_it(portal) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    client, world = portal
    assert log_in_with_code(client, world["my_id"], PASSWORD).status_code == 303
    other = _phone_code(client, "13912345678")
    refused = _bind(client, PHONE, other)
    assert_message(refused, 422, "验证码不正确或已过期", "not valid or has expired")
    assert 'id="no-phone"' in refused.text
    assert _bind(client, PHONE, _phone_code(client, PHONE)).status_code == 303
    csrf = csrf_of(client.get("/account").text)
    removed = client.post("/account/phone/remove", data={"csrf": csrf}, follow_redirects=False)
    assert removed.headers["location"] == "/account?notice=removed"
    assert 'id="no-phone"' in client.get("/account").text
    _log_out(client)
    csrf = csrf_of(client.get("/login").text)
    by_phone = {"csrf": csrf, "login": PHONE, "password": PASSWORD}
    assert_message(client.post("/login", data=by_phone), 401, "身份证号码、验证码或密码不正确",
                   "not valid")  # fmt: skip


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_a_bad_number_or_code_says_so(portal, lang) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    client, world = portal
    client.headers["Accept-Language"] = lang
    assert log_in_with_code(client, world["my_id"]).status_code == 303
    csrf = csrf_of(client.get("/account").text)
    for bad in ("1380013800", "12345678901", "+86 2345"):
        answer = client.post("/account/phone/code", data={"csrf": csrf, "phone": bad})
        assert_message(answer, 422, "手机号码无效", "mobile number is not valid")
    short = {"csrf": csrf, "phone": PHONE, "code": "12ab"}
    assert_message(client.post("/account/phone", data=short), 422, "验证码是6位数字", "6 digits")
    _log_out(client)
    csrf = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"csrf": csrf, "login": "1380013800", "password": "p"})
    assert_message(answer, 422, "手机号码无效", "mobile number is not valid")


def test_my_login_page_is_mine_only(portal) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    client, _ = portal
    assert client.get("/account", follow_redirects=False).headers["location"] == "/login"
    csrf = csrf_of(client.get("/login").text)
    for path in ("/account/phone/code", "/account/phone", "/account/phone/remove"):
        sent = client.post(path, data={"csrf": csrf, "phone": PHONE, "code": "123456"},
                           follow_redirects=False)  # fmt: skip
        assert sent.status_code == 303 and sent.headers["location"] == "/login"


def test_portal_logins_and_the_number_leave_their_trail(portal, database_url) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from sqlalchemy import select

    from suiren.store.api_tables import access_log

    client, world = portal
    assert log_in_with_code(client, world["my_id"], PASSWORD).status_code == 303
    assert _bind(client, PHONE, _phone_code(client, PHONE)).status_code == 303
    csrf = csrf_of(client.get("/account").text)
    client.post("/account/phone/remove", data={"csrf": csrf}, follow_redirects=False)
    _log_out(client)
    csrf = csrf_of(client.get("/login").text)
    form = {"csrf": csrf, "login": world["my_id"], "password": PASSWORD}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303
    engine = make_engine(database_url[0], keys=KEYS)
    with engine.connect() as c:
        rows = c.execute(
            select(access_log.c.key_id, access_log.c.path).order_by(access_log.c.id)
        ).all()
    engine.dispose()
    me = f"worker:{world['mine']}"
    assert [tuple(r) for r in rows] == [
        ("anonymous", "/login/code"),
        (me, "/login/verify"),
        (me, "/account/phone/code"),
        (me, "/account/phone"),
        (me, "/account/phone/remove"),
        (me, "/logout"),  # it ends the worker's sessions: a write
        (me, "/login"),
    ]
