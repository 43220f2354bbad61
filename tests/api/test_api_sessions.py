"""A worker's sessions can be ended (migration ``0016_worker_sessions``), on SQLite and on
PostgreSQL: a worker's "log out everywhere", an agency's end of a worker's sessions and a
password set again each refuse every token of the worker signed before (401 problem+json),
the API's and the portal's alike, on every request; a write under way writes nothing
(``test_api_writes``, every write route of the API, the portal and the console); another
worker's sessions go on. A token signed, not stored, could not
be ended before its 30 minutes were over."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from suiren.services.identity import token_key
from suiren.services.logins import end_sessions, worker_token
from suiren.store.db import unit_of_work
from suiren.store.tables import contribution_months
from tests.api import assert_problem, auth
from tests.api.world import World, served
from tests.conftest import NOW, SECRET
from tests.ledger_helpers import resident_id

MINE = "/api/v1/me/statement"


@pytest.fixture
def sessions(
    database_url: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, World, Any]]:
    with served(database_url, monkeypatch, demo_codes=True) as app:
        yield app


def another_login(engine: Any, made: World, worker: str = "gz_worker") -> str:
    """A second token of the worker (their other phone), signed as a login signs it."""
    with unit_of_work(engine) as c:
        return worker_token(c, token_key(SECRET), made.workers[worker], NOW)


def test_log_out_everywhere_refuses_every_earlier_token_of_the_worker_only(sessions) -> None:  # type: ignore[no-untyped-def]
    client, made, engine = sessions
    phone = another_login(engine, made)
    for token in (made.tokens["gz_session"], phone, made.tokens["bj_session"]):
        assert client.get(MINE, headers=auth(token)).status_code == 200
    ended = client.post("/api/v1/me/sessions/end", headers=auth(phone))
    assert ended.status_code == 204, ended.text
    for token in (made.tokens["gz_session"], phone):
        assert_problem(client.get(MINE, headers=auth(token)), 401, "unauthorized")
        assert_problem(client.delete("/api/v1/me/phone", headers=auth(token)), 401, "unauthorized")
        assert_problem(client.post("/api/v1/me/sessions/end", headers=auth(token)), 401, "unauthorized")  # fmt: skip
    assert client.get(MINE, headers=auth(made.tokens["bj_session"])).status_code == 200
    again = another_login(engine, made)  # logged in again: a token of the new generation
    assert client.get(MINE, headers=auth(again)).status_code == 200


def test_an_agency_ends_a_workers_sessions(sessions) -> None:  # type: ignore[no-untyped-def]
    """The agency of the worker's region (its key, or its clerk) ends them; another region's
    is told there is no such worker, and ends nothing."""
    client, made, _engine = sessions
    worker = made.workers["gz_worker"]
    path = f"/api/v1/workers/{worker}/sessions/end"
    foreign = client.post(path, headers=auth(made.tokens["bj"], **{"Idempotency-Key": "e-0"}))
    assert_problem(foreign, 404, "not-found")
    assert client.get(MINE, headers=auth(made.tokens["gz_session"])).status_code == 200
    for n, agency in enumerate(("gz_clerk", "gz")):
        done = client.post(path, headers=auth(made.tokens[agency], **{"Idempotency-Key": f"e-{n}"}))
        assert done.status_code == 200 and done.json()["sessions_ended"] is True, done.text
        assert_problem(
            client.get(MINE, headers=auth(made.tokens["gz_session"])), 401, "unauthorized"
        )
    assert client.get(MINE, headers=auth(made.tokens["bj_session"])).status_code == 200


def test_a_password_set_again_ends_the_earlier_sessions(sessions) -> None:  # type: ignore[no-untyped-def]
    """A new password (a one-time code, then ``POST /auth/register``) ends every session of
    the worker signed before it: a login taken over is ended by its owner's reset."""
    client, made, _engine = sessions
    person = resident_id(101)  # gz_worker's
    assert client.get(MINE, headers=auth(made.tokens["gz_session"])).status_code == 200
    code = client.post("/api/v1/auth/code", json={"resident_id": person}).json()["demo_code"]
    registered = client.post(
        "/api/v1/auth/register",
        json={"resident_id": person, "code": code, "password": "a new pass phrase"},
    )
    assert registered.status_code == 201, registered.text
    assert_problem(client.get(MINE, headers=auth(made.tokens["gz_session"])), 401, "unauthorized")
    token = client.post(
        "/api/v1/auth/token", json={"resident_id": person, "password": "a new pass phrase"}
    ).json()["access_token"]
    assert client.get(MINE, headers=auth(token)).status_code == 200


def test_the_portal_cookie_is_refused_once_the_sessions_are_ended(sessions) -> None:  # type: ignore[no-untyped-def]
    """The portal's session is the same token: ended by the API's log out everywhere, its
    next page sends the worker to log in again (the session expired), and a payment under
    it writes nothing."""
    from tests.portal import csrf_of

    client, made, engine = sessions
    client.cookies.set("suiren_session", made.tokens["gz_session"])
    assert client.get("/statement").status_code == 200
    csrf = csrf_of(client.get("/pay").text)
    months = select(func.count()).select_from(contribution_months)
    with unit_of_work(engine) as c:  # from another phone: every session ended
        before = c.execute(months).scalar_one()
        end_sessions(c, made.workers["gz_worker"], NOW)
    gone = client.get("/statement", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"] == "/login?notice=expired"
    client.cookies.set("suiren_session", made.tokens["gz_session"])
    paid = client.post(
        "/pay",
        data={"csrf": csrf, "month": "2026-06", "base_yuan": "8000", "nonce": "a" * 32},
        follow_redirects=False,
    )
    assert paid.status_code == 303 and paid.headers["location"] == "/login?notice=expired"
    with unit_of_work(engine) as c:
        assert c.execute(months).scalar_one() == before
