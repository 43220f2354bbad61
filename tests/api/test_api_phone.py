"""A worker's mobile number as a login name (issue 11 §2: "phone or resident id"), on both
databases: bound with a code sent to the number, then a code or a password logs in by it;
one count of failures for both names; a number moves to whoever proves they hold it now;
refusals read alike whether a number is bound or not; the number is never stored or shown
in clear."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from suiren.api.app import create_app
from suiren.api.auth import ActorKind, issue_key
from suiren.services.workers import enrol
from suiren.store.api_tables import access_log, login_phones
from suiren.store.db import make_engine, unit_of_work
from tests.api import assert_problem, auth, settings_for
from tests.api.pii import Capture
from tests.conftest import KEYS, NOW
from tests.ledger_helpers import POLICY, VAULT, resident_id

PHONE, OTHER_PHONE = "13800138000", "13912345678"
PASSWORD = "a long pass phrase"


@pytest.fixture(autouse=True)
def no_number_shown(pii_capture: Capture) -> Iterator[None]:
    """No answer, log line or access-log row of these tests holds a number in clear (the
    PII scan of tests/api/conftest.py looks for resident ids; these tests know their
    numbers)."""
    start = len(pii_capture.seen)
    yield
    shown = [
        where
        for where, text in pii_capture.seen[start:]
        if PHONE in text or OTHER_PHONE in text or "138-0013-8000" in text
    ]
    assert not shown, f"a mobile number in clear: {shown}"


@pytest.fixture
def client(
    database_url: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    url, extra = database_url
    for name, value in extra.items():
        monkeypatch.setenv(name, value)
    engine = make_engine(url, keys=KEYS)
    with unit_of_work(engine) as c:
        agency = issue_key(c, ActorKind.AGENCY, "440100", "广州", NOW)[0]
        workers = [
            enrol(c, POLICY, VAULT, resident_id(n), "440100", None, NOW).worker.worker_id
            for n in (1, 2)
        ]
    settings = settings_for(url, today="2026-06-15", demo_codes=True)
    with TestClient(create_app(settings), raise_server_exceptions=False) as served:
        yield served, engine, workers, agency
    engine.dispose()


def _code(client: TestClient, **name: str) -> str:
    sent = client.post("/api/v1/auth/code", json=name)
    assert sent.status_code == 202, sent.text
    return str(sent.json()["demo_code"])


def _session(client: TestClient, who: str, password: str = PASSWORD) -> dict[str, str]:
    code = _code(client, resident_id=who)
    body = {"resident_id": who, "code": code, "password": password}
    assert client.post("/api/v1/auth/register", json=body).status_code == 201
    token = client.post("/api/v1/auth/token", json={"resident_id": who, "password": password})
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def _bind(client: TestClient, bearer: dict[str, str], phone: str) -> Any:
    code = _code(client, phone=phone)
    return client.put("/api/v1/me/phone", json={"phone": phone, "code": code}, headers=bearer)


def test_a_bound_number_logs_in_with_a_password_and_with_a_code(client) -> None:  # type: ignore[no-untyped-def]
    served, engine, (me, _), _ = client
    bearer = _session(served, resident_id(1))
    assert served.get("/api/v1/me/phone", headers=bearer).json() == {"phone": None}
    bound = _bind(served, bearer, "+86 138-0013-8000")  # typed with a country code and hyphens
    assert bound.status_code == 200, bound.text
    assert bound.json() == {"phone": "138****8000"}
    assert served.get("/api/v1/me/phone", headers=bearer).json() == {"phone": "138****8000"}

    by_password = served.post("/api/v1/auth/token", json={"phone": PHONE, "password": PASSWORD})
    assert by_password.status_code == 200, by_password.text
    mine = {"Authorization": f"Bearer {by_password.json()['access_token']}"}
    assert served.get("/api/v1/me/statement", headers=mine).json()["worker"]["worker_id"] == me

    code = _code(served, phone=PHONE)  # a new password with a code sent to the number
    reset = {"phone": PHONE, "code": code, "password": "another pass phrase"}
    assert served.post("/api/v1/auth/register", json=reset).status_code == 201
    for name in ({"phone": PHONE}, {"resident_id": resident_id(1)}):  # one login, two names
        again = served.post("/api/v1/auth/token", json={**name, "password": "another pass phrase"})
        assert again.status_code == 200, again.text
    with unit_of_work(engine) as c:
        stored = c.execute(select(login_phones)).one()
        logged = c.execute(select(access_log.c.path, access_log.c.key_id)).all()
    assert stored.worker_id == me and stored.masked == "138****8000"
    assert PHONE not in repr(tuple(stored)) and len(stored.phone_index) == 64
    assert ("/api/v1/me/phone", f"worker:{me}") in logged


def test_refusals_read_alike_whether_a_number_is_bound_or_not(client) -> None:  # type: ignore[no-untyped-def]
    served, *_ = client
    bearer = _session(served, resident_id(1))
    assert _bind(served, bearer, PHONE).status_code == 200
    code = _code(served, phone=OTHER_PHONE)  # a number bound to no one: a code is "sent"
    refusals = [
        served.post("/api/v1/auth/token", json={"phone": OTHER_PHONE, "password": PASSWORD}),
        served.post("/api/v1/auth/token", json={"phone": PHONE, "password": "not the one"}),
        served.post(
            "/api/v1/auth/register",
            json={"phone": OTHER_PHONE, "code": code, "password": PASSWORD},
        ),
    ]
    details = {assert_problem(r, 401, "unauthorized")["detail"] for r in refusals}
    assert len(details) == 1


def test_both_names_count_failures_together_and_lock_the_one_login(client) -> None:  # type: ignore[no-untyped-def]
    served, *_ = client
    bearer = _session(served, resident_id(1))
    assert _bind(served, bearer, PHONE).status_code == 200
    wrong_by = ({"phone": PHONE}, {"resident_id": resident_id(1)})
    for n in range(5):  # alternating names does not buy more tries
        wrong = {**wrong_by[n % 2], "password": "not the right one"}
        assert_problem(served.post("/api/v1/auth/token", json=wrong), 401, "unauthorized")
    for right in ({"phone": PHONE}, {"resident_id": resident_id(1)}):  # the login is locked:
        # the right password opens nothing (neither name is locked by its own tries: a 401)
        token = served.post("/api/v1/auth/token", json={**right, "password": PASSWORD})
        assert_problem(token, 401, "unauthorized")


def test_a_code_binds_only_the_number_it_was_sent_to(client) -> None:  # type: ignore[no-untyped-def]
    served, *_ = client
    bearer = _session(served, resident_id(1))
    other = _code(served, phone=OTHER_PHONE)
    by_id = _code(served, resident_id=resident_id(1))
    for code in (other, by_id, "000000"):  # another number's, the resident id's, a guess
        refused = served.put(
            "/api/v1/me/phone", json={"phone": PHONE, "code": code}, headers=bearer
        )
        assert_problem(refused, 422, "invalid-code")
    assert served.get("/api/v1/me/phone", headers=bearer).json() == {"phone": None}
    assert_problem(
        served.post("/api/v1/auth/token", json={"phone": PHONE, "password": PASSWORD}),
        401,
        "unauthorized",
    )


def test_a_number_moves_to_whoever_holds_it_now_and_can_be_removed(client) -> None:  # type: ignore[no-untyped-def]
    served, _, (first, second), _ = client
    old_owner, new_owner = _session(served, resident_id(1)), _session(served, resident_id(2))
    assert _bind(served, old_owner, PHONE).status_code == 200
    assert _bind(served, old_owner, OTHER_PHONE).json() == {"phone": "139****5678"}  # replaces
    assert _bind(served, new_owner, OTHER_PHONE).status_code == 200  # the number moves
    assert served.get("/api/v1/me/phone", headers=old_owner).json() == {"phone": None}
    token = served.post("/api/v1/auth/token", json={"phone": OTHER_PHONE, "password": PASSWORD})
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert (
        served.get("/api/v1/me/statement", headers=bearer).json()["worker"]["worker_id"] == second
    )
    # sent again (a retry after a lost answer): the same answer, no code needed
    again = served.put(
        "/api/v1/me/phone", json={"phone": OTHER_PHONE, "code": "000000"}, headers=new_owner
    )
    assert again.json() == {"phone": "139****5678"}
    assert served.delete("/api/v1/me/phone", headers=new_owner).status_code == 204
    assert served.delete("/api/v1/me/phone", headers=new_owner).status_code == 204
    assert_problem(
        served.post("/api/v1/auth/token", json={"phone": OTHER_PHONE, "password": PASSWORD}),
        401,
        "unauthorized",
    )
    by_id = served.post(
        "/api/v1/auth/token", json={"resident_id": resident_id(1), "password": PASSWORD}
    )
    assert by_id.status_code == 200 and first != second


@pytest.mark.parametrize(
    "body",
    [
        {},  # no name
        {"resident_id": resident_id(1), "phone": PHONE},  # both
        {"phone": "12345678901"},  # not a mobile block (1 then 2)
        {"phone": "1380013800"},  # ten digits
        {"phone": resident_id(1)},  # a resident id in the phone field
        {"resident_id": "+86 13800138000"},  # a number in the resident id field
    ],
)
def test_a_name_that_is_neither_or_both_is_a_clear_422(client, body) -> None:  # type: ignore[no-untyped-def]
    served, *_ = client
    answer = served.post("/api/v1/auth/code", json=body)
    assert answer.status_code == 422 and answer.headers["content-type"].startswith(
        "application/problem+json"
    ), answer.text


def test_only_a_worker_has_a_number_to_bind(client) -> None:  # type: ignore[no-untyped-def]
    served, _, _, agency = client
    code = _code(served, phone=PHONE)
    for answer in (
        served.get("/api/v1/me/phone", headers=auth(agency)),
        served.put("/api/v1/me/phone", json={"phone": PHONE, "code": code}, headers=auth(agency)),
        served.delete("/api/v1/me/phone", headers=auth(agency)),
    ):
        assert_problem(answer, 404, "not-found")
    assert_problem(served.get("/api/v1/me/phone"), 401, "unauthorized")


def test_logins_and_codes_leave_their_trail_without_a_name_in_it(client) -> None:  # type: ignore[no-untyped-def]
    served, engine, (me, _), _ = client
    bearer = _session(served, resident_id(1))  # a code, a registration, a token
    assert _bind(served, bearer, PHONE).status_code == 200  # a code for the number, the bind
    wrong = {"phone": PHONE, "password": "not the one"}
    assert served.post("/api/v1/auth/token", json=wrong).status_code == 401
    with unit_of_work(engine) as c:
        rows = c.execute(
            select(
                access_log.c.key_id, access_log.c.path, access_log.c.status, access_log.c.request_id
            ).order_by(access_log.c.id)
        ).all()
    worker = f"worker:{me}"
    assert [(r.key_id, r.path, r.status) for r in rows] == [
        ("anonymous", "/api/v1/auth/code", 202),
        (worker, "/api/v1/auth/register", 201),
        (worker, "/api/v1/auth/token", 200),
        ("anonymous", "/api/v1/auth/code", 202),
        (worker, "/api/v1/me/phone", 200),
    ]  # the refused token left none (its failure is counted on the login)
    assert all(r.request_id for r in rows)
    assert not any(resident_id(1) in r.path or PHONE in r.path for r in rows)
