"""Platforms declare the workers they engage (人社部发〔2021〕56号 relations) through the API,
on both databases: a person is found by their resident id or registered (one person, one
worker; never enrolled by it); the same declaration replays, a change of relation or an end
is a new fact of the ledger, rebuilt by the audit; a platform lists and reads only the
workers it declared, and of them only their engagements and whether they are enrolled.
Another platform's worker, an unknown id and every other kind of caller get the same 404."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from suiren.api.app import create_app
from suiren.api.auth import ActorKind, issue_key
from suiren.domain.errors import InvalidInput
from suiren.services.identity import token_key
from suiren.services.logins import worker_token
from suiren.services.workers import enrol
from suiren.store.audit import verify
from suiren.store.db import make_engine, unit_of_work
from suiren.store.tables import journal, platform_engagements, workers
from tests.api import assert_problem, auth, settings_for
from tests.conftest import KEYS, NOW, SECRET
from tests.ledger_helpers import POLICY, VAULT, resident_id

TODAY = "2026-06-15"
WORKERS = "/api/v1/platform/workers"


@pytest.fixture
def api(database_url: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Two platforms (courier-co, ride-co), Guangzhou's agency, a worker insured in
    Guangzhou and their session token."""
    url, extra = database_url
    for name, value in extra.items():
        monkeypatch.setenv(name, value)
    engine = make_engine(url, keys=KEYS)
    with unit_of_work(engine) as c:
        keys = {
            "courier": issue_key(c, ActorKind.PLATFORM, "courier-co", "courier", NOW)[0],
            "rides": issue_key(c, ActorKind.PLATFORM, "ride-co", "rides", NOW)[0],
            "gz": issue_key(c, ActorKind.AGENCY, "440100", "gz", NOW)[0],
        }
        insured = enrol(c, POLICY, VAULT, resident_id(1), "440100", None, NOW).worker.worker_id
    with unit_of_work(engine) as c:  # logged in: a token of their sessions' generation
        keys["session"] = worker_token(c, token_key(SECRET), insured, NOW)
    with TestClient(
        create_app(settings_for(url, today=TODAY)), raise_server_exceptions=False
    ) as client:
        yield client, keys, insured, engine
    engine.dispose()


def post(client: Any, path: str, key: str, body: Any, idem: str) -> Any:
    return client.post(path, json=body, headers=auth(key, **{"Idempotency-Key": idem}))


def declaration(n: int, relation: str = "incomplete", **more: str) -> dict[str, str]:
    return {"resident_id": resident_id(n), "work_region": "440100", "relation": relation, **more}


def engagement_entries(engine: Any) -> int:
    with unit_of_work(engine) as c:
        return int(
            c.execute(
                select(func.count()).select_from(journal).where(journal.c.code == "engagement")
            ).scalar_one()
        )


def audit_ok(engine: Any) -> None:
    with unit_of_work(engine) as c:
        result = verify(c)
    assert result.ok, result.problems


def test_a_new_person_is_registered_not_enrolled_and_shown_masked(api) -> None:
    client, keys, _, engine = api
    first = post(client, WORKERS, keys["courier"], declaration(5), "d-1")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["recorded"] and "new_worker" not in body  # not an oracle of who is registered
    assert resident_id(5) not in first.text and body["resident_id"].startswith("44*")
    assert body["engagement"] == {
        "period": 1,
        "relation": "incomplete",
        "relation_term": "不完全符合确立劳动关系情形但企业对劳动者进行劳动管理",
        "work_region": "440100",
        "since": TODAY,
        "until": None,
    }
    view = client.get(f"{WORKERS}/{body['worker_id']}", headers=auth(keys["courier"])).json()
    assert view["enrolled"] == {
        "employee_pension": {"enrolled": False, "region": None},
        "employee_medical": {"enrolled": False, "region": None},
    }
    # registered (one person, one worker) but in no agency's list: not insured by this
    listed = client.get("/api/v1/workers", headers=auth(keys["gz"])).json()["items"]
    assert body["worker_id"] not in {w["worker_id"] for w in listed}
    with unit_of_work(engine) as c:
        assert c.execute(select(func.count()).select_from(workers)).scalar_one() == 2
    person = {"resident_id": resident_id(5), "work_region": "440100"}
    enrolled = post(client, "/api/v1/workers", keys["gz"], person, "e-1")
    assert enrolled.status_code == 201, enrolled.text
    assert enrolled.json()["worker_id"] == body["worker_id"]  # one person, one worker
    view = client.get(f"{WORKERS}/{body['worker_id']}", headers=auth(keys["courier"])).json()
    assert view["enrolled"]["employee_pension"] == {"enrolled": True, "region": "440100"}
    audit_ok(engine)


def test_an_insured_worker_is_found_and_their_money_is_not_shown(api) -> None:
    client, keys, insured, _ = api
    done = post(client, WORKERS, keys["courier"], declaration(1, "labour"), "d-1")
    assert done.status_code == 201, done.text
    assert done.json()["worker_id"] == insured
    view = client.get(f"{WORKERS}/{insured}", headers=auth(keys["courier"]))
    assert view.status_code == 200, view.text
    assert set(view.json()) == {"worker_id", "resident_id", "engagements", "enrolled"}
    assert view.json()["enrolled"]["employee_pension"] == {"enrolled": True, "region": "440100"}
    assert "fen" not in view.text and "balance" not in view.text
    statement = client.get(f"/api/v1/workers/{insured}/statement", headers=auth(keys["courier"]))
    assert_problem(statement, 404, "not-found")


def test_the_same_declaration_replays_and_a_change_is_a_new_fact(api) -> None:
    client, keys, _, engine = api
    labour = declaration(7, "labour", **{"from": "2026-06-01"})
    worker = post(client, WORKERS, keys["courier"], labour, "d-1").json()["worker_id"]
    assert engagement_entries(engine) == 1
    again = post(client, WORKERS, keys["courier"], labour | {"from": "2026-06-05"}, "d-2")
    assert again.status_code == 201 and not again.json()["recorded"]
    assert again.json()["engagement"]["since"] == "2026-06-01"
    assert engagement_entries(engine) == 1
    civil = declaration(7, "civil", **{"from": "2026-06-10"})
    changed = post(client, WORKERS, keys["courier"], civil, "d-3").json()
    assert changed["recorded"] and changed["engagement"]["period"] == 2
    view = client.get(f"{WORKERS}/{worker}", headers=auth(keys["courier"])).json()
    assert [(e["relation"], e["since"], e["until"]) for e in view["engagements"]] == [
        ("labour", "2026-06-01", "2026-06-09"),
        ("civil", "2026-06-10", None),
    ]
    early = declaration(7, "labour", **{"from": "2026-06-09"})
    assert_problem(post(client, WORKERS, keys["courier"], early, "d-4"), 422, "engagement-refused")
    fix = declaration(7, "incomplete", **{"from": "2026-06-10"})  # a correction of the period
    fixed = post(client, WORKERS, keys["courier"], fix, "d-5").json()
    assert fixed["engagement"]["period"] == 2 and fixed["engagement"]["relation"] == "incomplete"
    moved_on = fix | {"work_region": "110000", "from": TODAY}
    moved = post(client, WORKERS, keys["courier"], moved_on, "d-6")
    assert moved.json()["engagement"]["period"] == 3, moved.text
    with unit_of_work(engine) as c:
        rows = c.execute(
            select(platform_engagements.c.period, platform_engagements.c.version)
            .where(platform_engagements.c.worker_id == worker)
            .order_by(platform_engagements.c.period)
        ).all()
        regions = {
            r.region
            for r in c.execute(select(journal.c.region).where(journal.c.code == "engagement"))
        }
    assert [tuple(r) for r in rows] == [(1, 2), (2, 3), (3, 1)]
    assert regions == {"440100", "110000"}  # each entry in its work region's journal
    assert engagement_entries(engine) == 4
    audit_ok(engine)


def test_an_end_is_recorded_once_and_a_new_engagement_starts_after_it(api) -> None:
    client, keys, _, engine = api
    body = declaration(8, "civil", **{"from": "2026-06-02"})
    worker = post(client, WORKERS, keys["courier"], body, "d-1").json()["worker_id"]
    end = f"{WORKERS}/{worker}/end"
    before = post(client, end, keys["courier"], {"until": "2026-06-01"}, "x-0")
    assert_problem(before, 422, "engagement-refused")
    ended = post(client, end, keys["courier"], {"until": "2026-06-12"}, "x-1")
    assert ended.status_code == 200, ended.text
    assert ended.json()["recorded"] and ended.json()["engagement"]["until"] == "2026-06-12"
    again = post(client, end, keys["courier"], {"until": "2026-06-12"}, "x-2")
    assert again.status_code == 200 and not again.json()["recorded"]
    other = post(client, end, keys["courier"], {"until": "2026-06-13"}, "x-3")
    assert_problem(other, 422, "engagement-refused")
    overlap = declaration(8, "civil", **{"from": "2026-06-12"})
    assert_problem(
        post(client, WORKERS, keys["courier"], overlap, "d-2"), 422, "engagement-refused"
    )
    anew = post(client, WORKERS, keys["courier"], declaration(8, "civil"), "d-3").json()
    assert anew["recorded"] and anew["engagement"]["period"] == 2
    today = post(client, end, keys["courier"], None, "x-4")  # no body: today
    assert today.json()["engagement"]["until"] == TODAY, today.text
    assert engagement_entries(engine) == 4
    audit_ok(engine)


def test_what_cannot_be_declared_is_refused_and_nothing_written(api) -> None:
    client, keys, _, engine = api
    cases = [
        (declaration(9, "employee"), 422, "invalid-request"),
        (declaration(9, **{"from": "2026-06-16"}), 422, "engagement-refused"),
        (declaration(9, **{"from": "20260601"}), 422, "invalid-request"),
        (declaration(9) | {"work_region": "999999"}, 422, "unknown-region"),
        (declaration(9) | {"resident_id": resident_id(9)[:17] + "0"}, 422, "invalid-resident-id"),
        ({"resident_id": resident_id(10, "20110101"), "work_region": "440100",
          "relation": "civil"}, 422, "engagement-refused"),  # 15 on the day: 劳动法 第十五条
        (declaration(9) | {"since": "2026-06-01"}, 422, "invalid-request"),
        (declaration(9, **{"from": "1990-01-01"}), 422, "engagement-refused"),  # before 劳动法
        (declaration(9, **{"from": "2026-02-30"}), 422, "invalid-input"),
    ]  # fmt: skip
    for n, (body, status, code) in enumerate(cases):
        assert_problem(post(client, WORKERS, keys["courier"], body, f"bad-{n}"), status, code)
    assert engagement_entries(engine) == 0
    first = post(client, WORKERS, keys["courier"], declaration(9), "k")
    assert first.status_code == 201
    reused = post(client, WORKERS, keys["courier"], declaration(9, "civil"), "k")
    assert_problem(reused, 422, "idempotency-key-reused")
    with unit_of_work(engine) as c:
        assert c.execute(select(func.count()).select_from(workers)).scalar_one() == 2


def test_another_platform_and_any_other_caller_get_the_404_of_an_unknown_worker(api) -> None:
    client, keys, insured, _ = api
    worker = post(client, WORKERS, keys["courier"], declaration(11), "d-1").json()["worker_id"]
    unknown = "W000000000000"
    for key in ("rides", "gz", "session"):
        for method, path, body in (
            ("GET", f"{WORKERS}/{{id}}", None),
            ("POST", f"{WORKERS}/{{id}}/end", {}),
        ):
            answers = []
            for oid in (worker, unknown):
                headers = auth(keys[key], **{"Idempotency-Key": f"{key}-{oid}"})
                response = client.request(method, path.format(id=oid), json=body, headers=headers)
                answer = assert_problem(response, 404, "not-found")
                answers.append(answer["detail"].replace(oid, "<id>"))
            assert answers[0] == answers[1], (key, method, answers)
    assert_problem(post(client, WORKERS, keys["gz"], declaration(12), "a-1"), 404, "not-found")
    assert_problem(client.get(WORKERS, headers=auth(keys["gz"])), 404, "not-found")
    assert_problem(client.get(WORKERS, headers=auth(keys["session"])), 404, "not-found")
    # the insured worker, not declared by courier-co: the same 404 to it
    assert_problem(
        client.get(f"{WORKERS}/{insured}", headers=auth(keys["courier"])), 404, "not-found"
    )
    still = client.get(f"{WORKERS}/{worker}", headers=auth(keys["courier"]))
    assert still.json()["engagements"][0]["until"] is None  # no one else's end was recorded


def test_a_platform_lists_its_own_workers_a_page_at_a_time(api) -> None:
    client, keys, _, _ = api
    mine = {
        post(client, WORKERS, keys["courier"], declaration(n), f"d-{n}").json()["worker_id"]
        for n in (21, 22, 23)
    }
    theirs = post(client, WORKERS, keys["rides"], declaration(24, "civil"), "r-1").json()
    shared = post(client, WORKERS, keys["rides"], declaration(21, "civil"), "r-2").json()
    assert shared["worker_id"] in mine  # one person, one worker
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get(WORKERS, params=params, headers=auth(keys["courier"])).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [i["worker_id"] for i in seen] == sorted(mine)
    assert all(i["relation"] == "incomplete" and i["resident_id"].startswith("44*") for i in seen)
    rides = client.get(WORKERS, headers=auth(keys["rides"])).json()["items"]
    assert {i["worker_id"] for i in rides} == {theirs["worker_id"], shared["worker_id"]}
    assert {i["relation"] for i in rides} == {"civil"}


def test_a_platform_id_fits_the_ledgers_ids(api) -> None:
    _, _, _, engine = api
    with unit_of_work(engine) as c, pytest.raises(InvalidInput):
        issue_key(c, ActorKind.PLATFORM, "美团", "not ASCII", NOW)
    with unit_of_work(engine) as c:
        assert c.execute(text("SELECT COUNT(*) FROM api_keys")).scalar_one() == 3
