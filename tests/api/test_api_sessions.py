"""A worker's sessions can be ended (migration ``0016_worker_sessions``), on SQLite and on
PostgreSQL: a worker's "log out everywhere" (the API's, the portal's button), an agency's end
of a worker's sessions (the API's, a clerk's at the console), the command line's and a
password set again each refuse every token of the worker signed before (401 problem+json),
the API's and the portal's alike, on every request; a write under way writes nothing
(``test_api_writes``, every write route of the API, the portal and the console); another
worker's sessions go on. A token signed, not stored, could not be ended before its 30
minutes were over. Each end is a fact of the national journal naming who ended them
(migration ``0017_sessions_journalled``), and the API's audit names a row changed behind
it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from suiren.services.identity import token_key
from suiren.services.logins import end_sessions, worker_token
from suiren.store.api_tables import worker_sessions
from suiren.store.db import unit_of_work
from suiren.store.tables import contribution_months, facts
from tests.api import assert_problem, auth
from tests.api.test_api_writes import rows  # every table's count of rows
from tests.api.world import World, served
from tests.bilingual import what_problems
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


def ended(engine: Any, worker: str) -> tuple[int, str | None]:
    """The worker's sessions' generation and who ended them last."""
    with unit_of_work(engine, read_only=True) as c:
        row = c.execute(
            select(worker_sessions.c.generation, worker_sessions.c.ended_by).where(
                worker_sessions.c.worker_id == worker
            )
        ).one()
    return row.generation, row.ended_by


def test_each_end_is_recorded_with_who_ended_them_and_a_set_back_is_named(sessions) -> None:  # type: ignore[no-untyped-def]
    """The worker, an agency's key, its clerk, a new password: each end a fact of the national
    journal naming who (``ended_by``); the audit agrees. A generation then set back behind the
    service revives no token, and the API's audit names the row."""
    client, made, engine = sessions
    worker = made.workers["gz_worker"]
    first = made.tokens["gz_session"]  # of generation 0: ended by the first end below
    assert client.post("/api/v1/me/sessions/end", headers=auth(first)).status_code == 204
    assert ended(engine, worker) == (1, f"worker:{worker}")
    path = f"/api/v1/workers/{worker}/sessions/end"
    key_id = made.tokens["gz"].split("_")[1]
    for n, (agency, by) in enumerate((("gz", f"key:{key_id}"), ("gz_clerk", "clerk:gz.clerk"))):
        done = client.post(path, headers=auth(made.tokens[agency], **{"Idempotency-Key": f"r-{n}"}))
        assert done.status_code == 200, done.text
        assert ended(engine, worker) == (2 + n, by)
    person = resident_id(101)  # gz_worker's
    code = client.post("/api/v1/auth/code", json={"resident_id": person}).json()["demo_code"]
    registered = client.post(
        "/api/v1/auth/register",
        json={"resident_id": person, "code": code, "password": "a new pass phrase"},
    )
    assert registered.status_code == 201, registered.text
    assert ended(engine, worker) == (4, "password")
    with unit_of_work(engine, read_only=True) as c:
        recorded = c.execute(
            select(facts.c.data)
            .where(facts.c.kind == "worker_sessions", facts.c.key == worker)
            .order_by(facts.c.seq)
        ).scalars()
        by = [(f["generation"], f["ended_by"], f["version"]) for f in map(json.loads, recorded)]
    assert by == [
        (0, None, 1),  # the first login (tests/api/world.py)
        (1, f"worker:{worker}", 2),
        (2, f"key:{key_id}", 3),
        (3, "clerk:gz.clerk", 4),
        (4, "password", 5),
    ]
    audit = client.post("/api/v1/audit/verify", headers=made.auth("auditor"))
    assert audit.status_code == 200 and audit.json()["ok"], audit.text
    with engine.begin() as c:  # behind the service: back to the first token's generation
        c.execute(
            text("UPDATE worker_sessions SET generation = 0 WHERE worker_id = :w"), {"w": worker}
        )
    assert_problem(client.get(MINE, headers=auth(first)), 401, "unauthorized")
    audit = client.post("/api/v1/audit/verify", headers=made.auth("auditor")).json()
    assert not audit["ok"]
    named = [(p["table"], p["row"]) for p in audit["problems"]]
    assert ("worker_sessions", worker) in named, audit["problems"]
    for p in audit["problems"]:  # in Chinese too, with the same values
        assert what_problems(p["what"], p["what_zh"]) == [], p


def test_the_portal_logs_out_everywhere(sessions) -> None:  # type: ignore[no-untyped-def]
    """The account page's "log out everywhere" (a form with its CSRF token): every session of
    the worker ends — this cookie, their other phone's token —, the cookie goes, and the
    login page says why; without the form's token nothing ends."""
    from tests.portal import csrf_of

    client, made, engine = sessions
    worker = made.workers["gz_worker"]
    phone = another_login(engine, made)
    client.cookies.set("suiren_session", made.tokens["gz_session"])
    assert "Log out on every device" in client.get("/account?lang=en").text
    page = client.get("/account?lang=zh")
    assert "退出所有设备" in page.text and 'action="/account/sessions/end"' in page.text
    csrf = csrf_of(page.text)
    forged = client.post("/account/sessions/end", data={"csrf": "0" * 64}, follow_redirects=False)
    assert forged.status_code == 403
    assert client.get(MINE, headers=auth(phone)).status_code == 200  # nothing ended
    out = client.post("/account/sessions/end", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login?notice=ended"
    removed = out.headers.get_list("set-cookie")
    assert any(c.startswith("suiren_session=") and "Max-Age=0" in c for c in removed), removed
    assert "您已在所有设备上退出登录" in client.get(out.headers["location"]).text
    assert_problem(client.get(MINE, headers=auth(phone)), 401, "unauthorized")
    client.cookies.set("suiren_session", made.tokens["gz_session"])
    gone = client.get("/statement", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"] == "/login?notice=expired"
    assert ended(engine, worker) == (1, f"worker:{worker}")
    assert client.get(MINE, headers=auth(made.tokens["bj_session"])).status_code == 200


def test_the_portal_logout_ends_a_copied_cookie_and_every_session_of_the_worker(sessions) -> None:  # type: ignore[no-untyped-def]
    """Logging out of the portal (on a shared computer, say) ends the worker's sessions on
    the server, not only this browser's cookie: a copy of the cookie taken before opens no
    page and writes nothing; as the page says, the worker's other sessions (their phone's)
    end too. A second logout with the copy ends nothing — not the sessions of a later login
    either — and another worker's sessions go on."""
    from tests.portal import csrf_of

    client, made, engine = sessions
    worker = made.workers["gz_worker"]
    phone = another_login(engine, made)
    copy = made.tokens["gz_session"]  # the shared computer's cookie, copied
    client.cookies.set("suiren_session", copy)
    assert "每个页面顶部的“退出”也是如此" in client.get("/account?lang=zh").text
    page = client.get("/account?lang=en")
    assert "Log out, at the top of every page, does the same" in page.text
    assert 'title="Ends your sessions on every device"' in page.text
    out = client.post("/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login?notice=ended"
    removed = out.headers.get_list("set-cookie")
    assert any(c.startswith("suiren_session=") and "Max-Age=0" in c for c in removed), removed
    assert "您已在所有设备上退出登录" in client.get(out.headers["location"] + "&lang=zh").text
    assert ended(engine, worker) == (1, f"worker:{worker}")
    csrf = csrf_of(client.get("/login").text)  # a form nonce of this browser's, for the copy
    before = rows(engine)
    client.cookies.set("suiren_session", copy)
    gone = client.get("/statement", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"] == "/login?notice=expired"
    client.cookies.set("suiren_session", copy)
    paid = client.post(
        "/pay",
        data={"csrf": csrf, "month": "2026-06", "base_yuan": "8000", "nonce": "b" * 32},
        follow_redirects=False,
    )
    assert paid.status_code == 303 and paid.headers["location"] == "/login?notice=expired"
    assert rows(engine) == before
    for token in (copy, phone):  # the API refuses the cookie's token, and the phone's
        assert_problem(client.get(MINE, headers=auth(token)), 401, "unauthorized")
    again = another_login(engine, made)  # the worker logs in again on their phone
    client.cookies.set("suiren_session", copy)
    second = client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert second.status_code == 303 and second.headers["location"] == "/login?notice=logged-out"
    assert rows(engine) == before and ended(engine, worker) == (1, f"worker:{worker}")
    assert client.get(MINE, headers=auth(again)).status_code == 200
    assert client.get(MINE, headers=auth(made.tokens["bj_session"])).status_code == 200


def test_the_api_logout_ends_the_token_and_every_session_of_the_worker(sessions) -> None:  # type: ignore[no-untyped-def]
    """``POST /auth/logout`` with a worker's token: 204, and that token — with every other
    session of the worker, the portal's too — is refused from then on (401 problem+json), on
    a read and on a write. A second logout with it is refused the same way and writes
    nothing, not the end of a later login's sessions; another worker's sessions go on."""
    client, made, engine = sessions
    worker = made.workers["gz_worker"]
    phone = another_login(engine, made)
    assert client.get(MINE, headers=auth(phone)).status_code == 200
    out = client.post("/api/v1/auth/logout", headers=auth(phone))
    assert out.status_code == 204 and out.content == b"", out.text
    assert ended(engine, worker) == (1, f"worker:{worker}")
    before = rows(engine)
    for token in (phone, made.tokens["gz_session"]):
        assert_problem(client.get(MINE, headers=auth(token)), 401, "unauthorized")
        assert_problem(client.delete("/api/v1/me/phone", headers=auth(token)), 401, "unauthorized")
    client.cookies.set("suiren_session", made.tokens["gz_session"])
    gone = client.get("/statement", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"] == "/login?notice=expired"
    again = another_login(engine, made)
    second = client.post("/api/v1/auth/logout", headers=auth(phone))
    assert_problem(second, 401, "unauthorized")
    assert rows(engine) == before and ended(engine, worker) == (1, f"worker:{worker}")
    assert client.get(MINE, headers=auth(again)).status_code == 200
    assert client.get(MINE, headers=auth(made.tokens["bj_session"])).status_code == 200


def test_a_clerk_ends_a_workers_sessions_at_the_console_of_their_region_only(sessions) -> None:  # type: ignore[no-untyped-def]
    """The worker's page at the console has the form; a clerk of the worker's region ends
    their sessions (recorded by the clerk), one of another region is told there is no such
    worker, and nothing is written."""
    from tests.portal import csrf_of

    client, made, engine = sessions
    worker = made.workers["gz_worker"]
    path = f"/console/workers/{worker}/sessions/end"

    def as_clerk(name: str) -> str:
        client.cookies.clear()
        client.cookies.set("suiren_console", made.tokens[name], path="/console")
        return csrf_of(client.get("/console/transfers").text)

    csrf = as_clerk("bj_clerk")
    assert client.get(f"/console/workers/{worker}").status_code == 404
    before = rows(engine)
    foreign = client.post(path, data={"csrf": csrf}, follow_redirects=False)
    assert foreign.status_code == 404, foreign.text
    assert rows(engine) == before
    assert client.get(MINE, headers=auth(made.tokens["gz_session"])).status_code == 200
    csrf = as_clerk("gz_clerk")
    assert "结束该参保人的所有会话" in client.get(f"/console/workers/{worker}?lang=zh").text
    done = client.post(path, data={"csrf": csrf}, follow_redirects=False)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/console/workers/{worker}?done=sessions-ended"
    assert "该参保人的所有登录会话已结束" in client.get(done.headers["location"] + "&lang=zh").text
    assert_problem(client.get(MINE, headers=auth(made.tokens["gz_session"])), 401, "unauthorized")
    assert ended(engine, worker) == (1, "clerk:gz.clerk")
    assert client.get(MINE, headers=auth(made.tokens["bj_session"])).status_code == 200


def test_the_command_line_ends_a_workers_sessions(sessions, database_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``suiren worker sessions-end WORKER`` (--json too): recorded as the command line's; an
    unknown worker is refused in Chinese and English, and nothing is written."""
    from tests.cli.runner import refusal, runner

    client, made, engine = sessions
    worker = made.workers["gz_worker"]
    cli = runner(*database_url, tmp_path)
    done = cli("worker", "sessions-end", worker, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"worker_id": worker, "sessions_ended": True}
    assert_problem(client.get(MINE, headers=auth(made.tokens["gz_session"])), 401, "unauthorized")
    assert ended(engine, worker) == (1, "command-line")
    said = cli("worker", "sessions-end", worker)
    assert said.returncode == 0 and "已结束人员" in said.stdout and "ended" in said.stdout
    assert ended(engine, worker) == (2, "command-line")
    before = rows(engine)
    unknown = refusal(cli("worker", "sessions-end", "WNOBODY00000"))
    assert "没有编号为 'WNOBODY00000' 的人员" in unknown and "no worker with id" in unknown
    as_json = json.loads(cli("worker", "sessions-end", "WNOBODY00000", "--json").stderr)
    assert as_json["error"]["code"] == "unknown-worker"
    assert rows(engine) == before


def test_a_row_repaired_at_a_login_stays_in_the_audit(sessions, database_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A worker's sessions' row set back behind the service, then a login: the login ends
    every earlier session and the row is as its new fact records it — the audit passes, and
    `suiren audit verify` (text and --json) still lists the repair with the worker's id."""
    from suiren.services.logins import session_generation
    from tests.cli.runner import runner
    from tests.portal import csrf_of

    client, made, engine = sessions
    worker = made.workers["gz_worker"]
    cli = runner(*database_url, tmp_path)
    clean = json.loads(cli("audit", "verify", "--json").stdout)
    assert clean["ok"] and clean["repaired"] == []
    with unit_of_work(engine) as c:
        end_sessions(c, worker, NOW)  # generation 1, recorded
    with unit_of_work(engine) as c:
        c.execute(
            worker_sessions.update()
            .where(worker_sessions.c.worker_id == worker)
            .values(generation=0)
        )
    with unit_of_work(engine) as c:
        assert session_generation(c, worker, NOW) == 2
    said = cli("audit", "verify")
    assert said.returncode == 0, said.stdout + said.stderr
    assert "已由服务修复" in said.stdout and "repaired" in said.stdout and worker in said.stdout
    [repair] = json.loads(cli("audit", "verify", "--json").stdout)["repaired"]
    assert repair["table"] == "worker_sessions" and repair["row"] == worker
    assert "generation 0, recorded 1" in repair["what"], repair
    assert what_problems(repair["what"], repair["what_zh"]) == [], repair
    assert "登录时发现" in repair["what_zh"] and "登录" not in repair["what"], repair
    client.cookies.clear()  # the console's audit page shows it too, in Chinese
    client.cookies.set("suiren_console", made.tokens["national_clerk"], path="/console")
    csrf = csrf_of(client.get("/console/audit").text)
    page = client.post("/console/audit?lang=zh", data={"csrf": csrf}).text
    assert "曾被改动、已由服务修复 (1)" in page and 'id="repaired"' in page and worker in page
    assert repair["what_zh"] in page and repair["what"] not in page  # the page's language
    english = client.post("/console/audit?lang=en", data={"csrf": csrf}).text
    assert repair["what"] in english and repair["what_zh"] not in english
