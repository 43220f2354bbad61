"""Agency clerks' API tokens on both databases (issue 11 §4): ``POST /api/v1/auth/token``
with a clerk's login name and password gives a ``ct_`` bearer token, under the same limit
per address, lock-out and alike refusals as a worker's login; with it a clerk may exactly
what an agency key of their region may (their region and the regions under it; 000000: the
national agency's rules), and a worker or region beyond is the 404 of an unknown id."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from suiren.api.app import create_app
from suiren.api.auth import ActorKind, issue_key
from suiren.api.routes.auth import AUTH_REQUESTS_PER_MINUTE
from suiren.services.clerks import add_clerk, move_clerk
from suiren.services.workers import enrol
from suiren.store.api_tables import access_log, clerks
from suiren.store.db import make_engine, unit_of_work
from tests.api import assert_problem, settings_for
from tests.conftest import KEYS, NOW
from tests.ledger_helpers import POLICY, VAULT, resident_id

TODAY = "2026-06-15"
PASSWORD = "a clerk's pass phrase"
CLERKS = {"gz.clerk": "440100", "gd.clerk": "440000", "bj.clerk": "110000", "nation": "000000"}
TOKEN = "/api/v1/auth/token"


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id at its smallest cost: the same checks, a millisecond a hash."""
    from argon2 import PasswordHasher

    from suiren.services import logins

    monkeypatch.setattr(
        logins, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def api(database_url: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The app, the clerks, a Guangzhou and a Beijing worker, and Guangzhou's agency key."""
    url, extra = database_url
    for name, value in extra.items():  # PGOPTIONS: the test's own PostgreSQL schema
        monkeypatch.setenv(name, value)
    engine = make_engine(url, keys=KEYS)
    with unit_of_work(engine) as c:
        for login, region in CLERKS.items():
            add_clerk(c, login, region, PASSWORD, NOW)
        workers = {
            region: enrol(c, POLICY, VAULT, resident_id(n), region, None, NOW).worker.worker_id
            for n, region in ((1, "440100"), (2, "110000"))
        }
        gz_key = issue_key(c, ActorKind.AGENCY, "440100", "广州", NOW)[0]
    with TestClient(
        create_app(settings_for(url, today=TODAY)), raise_server_exceptions=False
    ) as client:
        yield client, engine, workers, gz_key
    engine.dispose()


def token(client: TestClient, login: str, password: str = PASSWORD) -> Any:
    return client.post(TOKEN, json={"login": login, "password": password})


def bearer(client: TestClient, login: str) -> dict[str, str]:
    answer = token(client, login)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["access_token"].startswith("ct_") and body["token_type"] == "bearer"
    return {"Authorization": f"Bearer {body['access_token']}"}


def test_a_clerk_sees_their_region_and_below_and_nothing_beyond(api) -> None:
    client, _, workers, gz_key = api
    gz, bj = workers["440100"], workers["110000"]
    statement = "/api/v1/workers/{}/statement".format
    for login in ("gz.clerk", "gd.clerk", "nation"):  # the city, its province, the nation
        answer = client.get(statement(gz), headers=bearer(client, login))
        assert answer.status_code == 200 and answer.json()["worker"]["worker_id"] == gz
    as_gz = bearer(client, "gz.clerk")
    foreign = assert_problem(client.get(statement(bj), headers=as_gz), 404, "not-found")
    unknown = assert_problem(
        client.get(statement("W000000000000"), headers=as_gz), 404, "not-found"
    )
    assert foreign["detail"].replace(bj, "X") == unknown["detail"].replace("W000000000000", "X")
    with_key = client.get(statement(bj), headers={"Authorization": f"Bearer {gz_key}"})
    assert assert_problem(with_key, 404, "not-found")["detail"] == foreign["detail"]
    listed = client.get("/api/v1/workers", headers=as_gz).json()["items"]
    assert [w["worker_id"] for w in listed] == [gz]
    # no worker's own records, no national rules for a city's clerk
    assert_problem(client.get("/api/v1/me/statement", headers=as_gz), 404, "not-found")
    window = "/api/v1/settlement/windows/2026-06-14"
    assert_problem(client.get(window, headers=as_gz), 404, "not-found")
    assert_problem(client.post("/api/v1/audit/verify", headers=as_gz), 404, "not-found")
    as_nation = bearer(client, "nation")
    assert client.get(window, headers=as_nation).status_code == 200
    assert client.post("/api/v1/audit/verify", headers=as_nation).json()["ok"] is True


def test_a_clerks_login_and_writes_are_in_the_access_log_under_their_name(api) -> None:
    client, engine, workers, _ = api
    as_gz = bearer(client, "gz.clerk")
    payment = {"payment_id": "clerk-1", "worker_id": workers["440100"], "from_month": "2026-01",
               "base_yuan": "6000"}  # fmt: skip
    headers = as_gz | {"Idempotency-Key": "c-1"}
    first = client.post("/api/v1/contributions", json=payment, headers=headers)
    assert first.status_code == 201, first.text
    again = client.post("/api/v1/contributions", json=payment, headers=headers)
    assert again.json() == first.json()
    with unit_of_work(engine) as c:
        logged = c.execute(select(access_log.c.key_id, access_log.c.path)).all()
    assert [tuple(r) for r in logged] == [
        ("clerk:gz.clerk", TOKEN),
        ("clerk:gz.clerk", "/api/v1/contributions"),
    ]


def test_clerk_refusals_read_alike_and_five_wrong_passwords_lock_the_login(api) -> None:
    client, *_ = api
    refusals = [
        token(client, "gz.clerk", "not the password"),
        token(client, "nobody", PASSWORD),
        token(client, "X!", PASSWORD),  # not even a login name
    ]
    details = {assert_problem(r, 401, "unauthorized")["detail"] for r in refusals}
    assert len(details) == 1
    for _ in range(4):  # with the first above, five in a row
        assert_problem(token(client, "gz.clerk", "still not it"), 401, "unauthorized")
    assert_problem(token(client, "gz.clerk"), 429, "locked")
    assert token(client, "bj.clerk").status_code == 200  # another clerk is not locked out
    for body, field in (
        ({"login": "gz.clerk"}, "password"),  # said of the clerk's fields, not a worker's
        ({"login": "gz.clerk", "password": PASSWORD, "resident_id": resident_id(1)}, "resident_id"),
    ):
        refused = assert_problem(client.post(TOKEN, json=body), 422, "invalid-request")
        assert refused["field"] == field


def test_clerk_logins_count_against_the_addresss_limit_with_workers(api) -> None:
    client, *_ = api
    for n in range(AUTH_REQUESTS_PER_MINUTE):  # names no one holds, none tried five times
        assert token(client, f"nobody.{n}").status_code == 401
    assert_problem(token(client, "bj.clerk"), 429, "locked")
    worker = {"resident_id": resident_id(1), "password": "whatever1"}
    assert_problem(client.post(TOKEN, json=worker), 429, "locked")


def test_a_clerks_token_ends_with_their_login_and_with_a_move(api) -> None:
    from sqlalchemy import update

    client, engine, workers, _ = api
    as_bj = bearer(client, "bj.clerk")
    path = f"/api/v1/workers/{workers['440100']}/statement"
    assert_problem(client.get(path, headers=as_bj), 404, "not-found")
    with unit_of_work(engine) as c:  # moved to Guangdong's desk: their sessions end with it
        move_clerk(c, "bj.clerk", "440000", NOW)
    assert_problem(client.get(path, headers=as_bj), 401, "unauthorized")
    as_bj = bearer(client, "bj.clerk")  # logged in again: the token reads as today's desk
    assert client.get(path, headers=as_bj).status_code == 200
    with unit_of_work(engine) as c:  # moved behind the ledger's back: no one is let in
        c.execute(update(clerks).where(clerks.c.login == "bj.clerk").values(region="000000"))
    assert_problem(client.get(path, headers=as_bj), 401, "unauthorized")
    with unit_of_work(engine) as c:
        c.execute(delete(clerks).where(clerks.c.login == "bj.clerk"))
    assert_problem(client.get(path, headers=as_bj), 401, "unauthorized")
    tampered = {"Authorization": as_bj["Authorization"][:-3] + "AAA"}
    assert_problem(client.get(path, headers=tampered), 401, "unauthorized")


@pytest.mark.parametrize("backend", ["postgres"])  # SQLite's writer holds the whole database
def test_a_write_holds_its_clerk_until_it_commits(engine) -> None:  # type: ignore[no-untyped-def]
    """A write's check of its clerk (``confirm_caller``) holds the clerk's row, as it holds an
    API key's: a move of the clerk waits for the write to commit, so it is wholly before the
    write (which then writes nothing) or after it — never between the check and the commit
    (the check read the row without holding it: a clerk moved meanwhile wrote as they were).
    The move is tried with a lock timeout: it fails while the write's transaction is open."""
    from sqlalchemy.exc import OperationalError

    from suiren.api.auth import Unauthorized, clerk_actor, confirm_caller
    from suiren.services.clerks import Clerk, sign_clerk_token
    from suiren.services.identity import token_key
    from tests.conftest import SECRET

    with unit_of_work(engine) as c:
        add_clerk(c, "gz.clerk", "440100", "a clerk's pass phrase", NOW)
    key = token_key(SECRET)
    bearer = f"Bearer {sign_clerk_token(key, 'gz.clerk', NOW, 0)}"
    actor = clerk_actor(Clerk("gz.clerk", "440100"))
    with unit_of_work(engine) as writing:
        confirm_caller(writing, actor, bearer, key, NOW)
        with pytest.raises(OperationalError, match="lock timeout"), unit_of_work(engine) as c:
            c.exec_driver_sql("SET LOCAL lock_timeout = '200ms'")
            move_clerk(c, "gz.clerk", "110000", NOW)
    with unit_of_work(engine) as c:  # the write committed: the move goes through
        move_clerk(c, "gz.clerk", "110000", NOW)
        with pytest.raises(Unauthorized, match="session is not valid"):  # the move ended it
            confirm_caller(c, actor, bearer, key, NOW)
