"""The HTTP API on both databases: health, keys, the one access policy (a foreign id is a
404 like an unknown one), problem+json errors, idempotent POSTs, and the committed OpenAPI
description."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text, update

from suiren.api import access
from suiren.api.app import create_app
from suiren.api.auth import ActorKind, issue_key
from suiren.api.routes.transfers import TransferState
from suiren.domain.money import fen_to_yuan_str
from suiren.domain.month import Month
from suiren.services.contributions import contribute
from suiren.services.transfers import State
from suiren.services.workers import enrol
from suiren.store.api_tables import access_log, idempotency_keys
from suiren.store.audit import verify
from suiren.store.db import make_engine, unit_of_work
from suiren.store.tables import contribution_months, journal, workers
from tests.api import assert_problem, auth, settings_for
from tests.cli.test_pension_cli import WORKED, WORKED_FEN
from tests.conftest import KEYS, NOW
from tests.ledger_helpers import POLICY, VAULT, base_bounds_fen, resident_id
from tests.parquet_damage import DAMAGES, damage, write_in_row_groups

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = ROOT / "docs" / "openapi.json"
TODAY = "2026-06-15"
TABLES = (journal, contribution_months, workers)  # a file's rows would be in these


@pytest.fixture
def api(database_url: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    url, extra = database_url
    for name, value in extra.items():  # PGOPTIONS: the test's own PostgreSQL schema
        monkeypatch.setenv(name, value)
    settings = settings_for(url, today=TODAY)
    engine = make_engine(url, keys=KEYS)
    with unit_of_work(engine) as c:
        keys = {
            "gz": issue_key(c, ActorKind.AGENCY, "440100", "广州", NOW)[0],
            "gd": issue_key(c, ActorKind.AGENCY, "440000", "广东", NOW)[0],
            "bj": issue_key(c, ActorKind.AGENCY, "110000", "北京", NOW)[0],
            "platform": issue_key(c, ActorKind.PLATFORM, "courier-co", "a platform", NOW)[0],
        }
        worker = enrol(c, POLICY, VAULT, resident_id(1), "440100", None, NOW).worker.worker_id
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client, keys, worker, engine
    engine.dispose()


def test_health_says_the_database_and_its_revision(api) -> None:
    client, *_ = api
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "revision": "0020_login_failures",
    }
    assert response.headers["x-request-id"]


def test_no_key_a_wrong_key_or_a_malformed_one_are_401_alike(api) -> None:
    client, keys, *_ = api
    calc = "/api/v1/pension/calc"
    for headers in ({}, auth("nonsense"), auth(keys["gz"][:-2] + "xx"), auth("sk_000000000000_x")):
        body = assert_problem(client.post(calc, json=WORKED, headers=headers), 401, "unauthorized")
        assert keys["gz"] not in json.dumps(body)


def test_the_calculator_answers_as_the_cli_does(api) -> None:
    client, keys, *_ = api
    response = client.post("/api/v1/pension/calc", json=WORKED, headers=auth(keys["platform"]))
    assert response.status_code == 200, response.text
    record = response.json()
    assert {k: record[k] for k in WORKED_FEN} == WORKED_FEN and record["warnings"] == []
    both = client.post("/api/v1/pension/calc", json=[WORKED, WORKED], headers=auth(keys["bj"]))
    assert [r["total_fen"] for r in both.json()] == [WORKED_FEN["total_fen"]] * 2
    marked = b"\xef\xbb\xbf" + json.dumps(WORKED).encode()  # a byte-order mark, as the CLI
    response = client.post("/api/v1/pension/calc", content=marked, headers=auth(keys["gz"]))
    assert response.status_code == 200, response.text
    assert response.json()["total_fen"] == WORKED_FEN["total_fen"]


def test_errors_are_problems_in_the_callers_language(api) -> None:
    client, keys, *_ = api
    bad = {**WORKED, "base_yuan": "-1"}
    zh = assert_problem(
        client.post("/api/v1/pension/calc", json=bad, headers=auth(keys["gz"])), 422, "invalid-case"
    )
    en = client.post(
        "/api/v1/pension/calc", json=bad, headers=auth(keys["gz"], **{"Accept-Language": "en"})
    ).json()
    assert zh["title"] != en["title"] and "base_yuan" in zh["detail"]
    # the detail too, where its message is in the catalogue (domain/messages.py): Chinese by
    # default, English when asked; the same code and field either way
    wrong = resident_id(4)[:17] + ("0" if resident_id(4)[17] != "0" else "1")
    person = {"resident_id": wrong, "work_region": "440100"}
    answers = [
        client.post(
            "/api/v1/workers",
            json=person,
            headers=auth(keys["gd"], **{"Idempotency-Key": f"zh-en-{n}"}, **language),
        )
        for n, language in enumerate(({}, {"Accept-Language": "en"}))
    ]
    zh_id, en_id = (assert_problem(a, 422, "invalid-resident-id") for a in answers)
    assert zh_id["detail"] == "身份号码的校验码不符（GB 11643-1999），请检查是否输错"
    assert en_id["detail"].startswith("the resident id's check character does not match")
    assert zh_id.get("field") == en_id.get("field")
    twice = '{"region": "410100", "region": "410100"}'
    assert_problem(
        client.post("/api/v1/pension/calc", content=twice, headers=auth(keys["gz"])),
        422,
        "invalid-input",
    )
    assert_problem(client.get("/api/v1/nowhere"), 404, "not-found")
    huge = {**auth(keys["gz"]), "Content-Length": str(20_000_000)}
    assert_problem(
        client.post("/api/v1/pension/calc", content=b"[]", headers=huge), 413, "too-large"
    )
    # a Content-Length that is no length is refused as such (422), never as too large: a
    # client told 413 would send a smaller body that was never the problem (schemathesis
    # found it: 'content-length: ~?K_V' on POST /transfers/expired)
    for garbage in ("~?K_V", "-1", "1e3", "12a", "0x10"):
        bad = {**auth(keys["gz"]), "Content-Length": garbage}
        answer = client.post("/api/v1/pension/calc", content=b"[]", headers=bad)
        assert_problem(answer, 422, "invalid-content-length")


def test_an_agency_sees_its_region_and_a_foreign_id_is_an_unknown_one(api) -> None:
    client, keys, worker, _ = api
    path = f"/api/v1/workers/{worker}/statement"
    for key in ("gz", "gd"):  # Guangzhou, and the province above it
        response = client.get(path, headers=auth(keys[key]))
        assert response.status_code == 200, response.text
        assert response.json()["worker"]["worker_id"] == worker
    foreign = assert_problem(client.get(path, headers=auth(keys["bj"])), 404, "not-found")
    unknown = assert_problem(
        client.get("/api/v1/workers/W000000000000/statement", headers=auth(keys["bj"])),
        404,
        "not-found",
    )
    assert foreign["detail"].replace(worker, "X") == unknown["detail"].replace("W000000000000", "X")
    assert_problem(client.get(path, headers=auth(keys["platform"])), 404, "not-found")


def test_a_post_is_idempotent_by_its_key(api) -> None:
    client, keys, worker, engine = api
    payment = {"payment_id": "api-1", "worker_id": worker, "from_month": "2026-01",
               "to_month": "2026-03", "base_yuan": "6000"}  # fmt: skip
    headers = auth(keys["gz"], **{"Idempotency-Key": "k-1", "X-Request-ID": "req-1"})
    first = client.post("/api/v1/contributions", json=payment, headers=headers)
    assert first.status_code == 201, first.text
    assert [m["month"] for m in first.json()["months"]] == ["2026-01", "2026-02", "2026-03"]
    again = client.post("/api/v1/contributions", json=payment, headers=headers)
    assert (again.status_code, again.json()) == (201, first.json())
    other = client.post(
        "/api/v1/contributions", json={**payment, "base_yuan": "7000"}, headers=headers
    )
    assert_problem(other, 422, "idempotency-key-reused")
    foreign = auth(keys["bj"], **{"Idempotency-Key": "k-2"})
    assert_problem(
        client.post("/api/v1/contributions", json=payment, headers=foreign), 404, "not-found"
    )
    missing = client.post("/api/v1/contributions", json=payment, headers=auth(keys["gz"]))
    assert_problem(missing, 422, "invalid-request")
    with unit_of_work(engine) as c:
        assert c.execute(select(func.count()).select_from(contribution_months)).scalar_one() == 3
        logged = c.execute(select(access_log.c.request_id, access_log.c.status)).all()
    assert [tuple(r) for r in logged] == [("req-1", 201)]


def test_a_retry_that_serialises_the_same_json_again_is_answered_as_the_first(api) -> None:
    """Key order, spacing and escapes are the client's serialiser's, not the request: the
    same object under the same key replays; another value is still another request."""
    client, keys, worker, _ = api
    headers = auth(
        keys["gz"], **{"Idempotency-Key": "k-canonical", "Content-Type": "application/json"}
    )
    payment = {"payment_id": "api-canon", "worker_id": worker, "from_month": "2026-05",
               "base_yuan": "6000"}  # fmt: skip
    first = client.post("/api/v1/contributions", content=json.dumps(payment), headers=headers)
    assert first.status_code == 201, first.text
    again_body = json.dumps(dict(reversed(payment.items())), indent=2).replace(
        '"6000"', '"6\\u0030\\u0030\\u0030"'
    )
    assert again_body != json.dumps(payment) and "\\u0030" in again_body
    again = client.post("/api/v1/contributions", content=again_body, headers=headers)
    assert (again.status_code, again.json()) == (201, first.json())
    other = json.dumps({**payment, "from_month": "2026-06"})
    assert_problem(
        client.post("/api/v1/contributions", content=other, headers=headers),
        422,
        "idempotency-key-reused",
    )


def test_a_kept_answer_of_the_wrong_type_is_refused_not_an_error(api) -> None:
    """A kept answer holding a value of a type the service never writes (SQLite: bytes for
    the body, text for the status; either database: a seal that is not ASCII, a time that is
    infinity on PostgreSQL) is refused like a rewritten one (409), not a 500."""
    client, keys, worker, engine = api
    payment = {"payment_id": "api-typed", "worker_id": worker, "from_month": "2026-04",
               "base_yuan": "6000"}  # fmt: skip
    headers = auth(keys["gz"], **{"Idempotency-Key": "k-typed"})
    first = client.post("/api/v1/contributions", json=payment, headers=headers)
    assert first.status_code == 201, first.text
    wrong = {"seal": "'封印'"} | (
        {"created_at": "'infinity'"}
        if engine.dialect.name == "postgresql"
        else {"body": "x'00'", "status": "'x'"}
    )
    where = idempotency_keys.c.idempotency_key == "k-typed"
    with engine.begin() as c:
        kept = dict(c.execute(select(idempotency_keys).where(where)).one()._mapping)
    for column, value in wrong.items():
        with engine.begin() as c:
            c.execute(
                text(f"UPDATE idempotency_keys SET {column} = {value} WHERE idempotency_key = :k"),
                {"k": "k-typed"},
            )
        again = client.post("/api/v1/contributions", json=payment, headers=headers)
        assert_problem(again, 409, "kept-answer-unsealed")
        with unit_of_work(engine) as c:
            assert "idempotency_keys" in {p.table for p in verify(c).problems}, column
            c.execute(update(idempotency_keys).where(where).values(kept))  # put back


def test_a_kept_answer_changed_in_the_database_is_not_served(api) -> None:
    """A platform's retry is told what its first request did: an answer someone rewrote in
    the database (a payment that "posted" other months, a refusal turned into a success) is
    not served; the audit names it; a new key replays the ledger's own ids."""
    client, keys, worker, engine = api
    payment = {"payment_id": "api-kept", "worker_id": worker, "from_month": "2026-04",
               "base_yuan": "6000"}  # fmt: skip
    headers = auth(keys["gz"], **{"Idempotency-Key": "k-kept"})
    first = client.post("/api/v1/contributions", json=payment, headers=headers)
    assert first.status_code == 201, first.text
    for column, value in (("body", '{"months": []}'), ("status", 200)):
        with engine.begin() as c:
            kept = c.execute(
                select(idempotency_keys).where(idempotency_keys.c.idempotency_key == "k-kept")
            ).one()
            c.execute(
                update(idempotency_keys)
                .where(idempotency_keys.c.idempotency_key == "k-kept")
                .values({column: value})
            )
        again = client.post("/api/v1/contributions", json=payment, headers=headers)
        body = assert_problem(again, 409, "kept-answer-unsealed")
        assert body["field"] == "Idempotency-Key"
        with unit_of_work(engine) as c:
            problems = verify(c).problems
        assert [p.table for p in problems] == ["idempotency_keys"], problems
        assert problems[0].row.endswith("/k-kept") and "seal does not match" in problems[0].what
        with engine.begin() as c:  # put back as it was
            c.execute(
                update(idempotency_keys)
                .where(idempotency_keys.c.idempotency_key == "k-kept")
                .values(body=kept.body, status=kept.status)
            )
    fresh = auth(keys["gz"], **{"Idempotency-Key": "k-kept-2"})
    replay = client.post("/api/v1/contributions", json=payment, headers=fresh)
    assert replay.status_code == 201, replay.text
    assert [m | {"replayed": True} for m in first.json()["months"]] == replay.json()["months"]
    with unit_of_work(engine) as c:
        assert verify(c).ok
        assert (
            c.execute(
                select(func.count())
                .select_from(contribution_months)
                .where(contribution_months.c.tx_id.like("api-kept/%"))
            ).scalar_one()
            == 1
        )


def test_a_refused_payment_is_a_problem_and_writes_nothing(api) -> None:
    client, keys, worker, engine = api
    with unit_of_work(engine) as c:
        contribute(
            c,
            POLICY,
            "cli-1",
            worker,
            *[__import__("suiren.domain.month", fromlist=["Month"]).Month.of(2026, 1)] * 2,
            600_000,
            NOW,
        )
    payment = {"payment_id": "api-2", "worker_id": worker, "from_month": "2026-01",
               "base_yuan": "6000"}  # fmt: skip
    response = client.post(
        "/api/v1/contributions",
        json=payment,
        headers=auth(keys["gz"], **{"Idempotency-Key": "k-3"}),
    )
    body = assert_problem(response, 422, "contribution-refused")
    assert "2026-01" in body["detail"]
    with unit_of_work(engine) as c:
        assert c.execute(select(func.count()).select_from(access_log)).scalar_one() == 0


def test_every_route_declares_its_access_rule() -> None:
    app = create_app(settings_for())
    routes = list(access.endpoints(app.routes))
    assert {path for path, _ in routes} >= {"/api/v1/health", "/api/v1/contributions"}
    missing = [path for path, endpoint in routes if access.rule_of(endpoint) not in access.RULES]
    assert not missing, f"routes without an access rule: {missing}"


def test_the_committed_openapi_description_is_the_codes() -> None:
    app = create_app(settings_for())
    current = json.dumps(app.openapi(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    assert OPENAPI.read_text(encoding="utf-8") == current, (
        "docs/openapi.json is not the API's: run `.venv/bin/python -m suiren.api.openapi`"
    )


def post(client: Any, path: str, key: str, body: Any = None, idem: str | None = None) -> Any:
    headers = auth(key, **({"Idempotency-Key": idem} if idem else {}))
    return client.post(path, json=body, headers=headers)


def test_an_agency_enrols_in_its_region_only_and_the_id_stays_masked(api) -> None:
    client, keys, *_ = api
    person = {"resident_id": resident_id(2), "work_region": "440100"}
    first = post(client, "/api/v1/workers", keys["gd"], person, "e-1")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["created"] and resident_id(2) not in first.text and "*" in body["resident_id"]
    again = post(client, "/api/v1/workers", keys["gz"], person, "e-2")  # another key: same person
    assert again.status_code == 201 and again.json()["worker_id"] == body["worker_id"]
    assert not again.json()["created"]
    elsewhere = {"resident_id": resident_id(3), "work_region": "110000"}
    assert_problem(post(client, "/api/v1/workers", keys["gz"], elsewhere, "e-3"), 404, "not-found")


def test_the_estimate_of_a_worker_of_the_agencys_region(api) -> None:
    client, keys, worker, engine = api
    with unit_of_work(engine) as c:
        january = Month.of(2026, 1)
        contribute(c, POLICY, "est-1", worker, january, Month.of(2026, 5), 600_000, NOW)
    path = f"/api/v1/workers/{worker}/pension/estimate"
    response = client.get(path, params={"base_ratio": "1.5"}, headers=auth(keys["gz"]))
    assert response.status_code == 200, response.text
    scenarios = response.json()["scenarios"]
    assert [s["scenario"] for s in scenarios] == ["current_law", "money_follows_person"]
    assert all(s["projection"]["base_ratio"] == "1.5" for s in scenarios)
    paid_only = client.get(path, params={"paid_only": "true"}, headers=auth(keys["gz"])).json()
    assert paid_only["scenarios"][0]["projection"] is None
    bad = client.get(path, params={"base_ratio": "5"}, headers=auth(keys["gz"]))
    assert_problem(bad, 422, "invalid-input")
    for ahead in ({"base_ratio": "2"}, {"wage_growth": "0"}, {"interest": "0.02"}):
        # an assumption about the months ahead beside paid_only was dropped, silently
        both = client.get(path, params={"paid_only": "true", **ahead}, headers=auth(keys["gz"]))
        assert_problem(both, 422, "invalid-input")
        assert f"paid_only 只计已缴月份，不计今后的月份：{next(iter(ahead))}" in both.text
    assert_problem(client.get(path, headers=auth(keys["bj"])), 404, "not-found")


def test_a_transfer_each_side_takes_its_own_steps(api) -> None:
    client, keys, worker, engine = api
    with unit_of_work(engine) as c:
        hz = issue_key(c, ActorKind.AGENCY, "330100", "杭州", NOW)[0]
        january = Month.of(2026, 1)
        contribute(c, POLICY, "tr-pay", worker, january, Month.of(2026, 5), 600_000, NOW)
    move = {"transfer_id": "move-1", "worker_id": worker, "to_region": "330100"}
    assert_problem(post(client, "/api/v1/transfers", hz, move, "t-0"), 404, "not-found")
    requested = post(client, "/api/v1/transfers", keys["gz"], move, "t-1")
    assert requested.status_code == 201, requested.text
    assert requested.json()["state"] == "requested"
    base = "/api/v1/transfers/move-1"
    assert_problem(post(client, f"{base}/approve", hz, None, "t-2"), 404, "not-found")
    assert_problem(post(client, f"{base}/accept", keys["gz"], None, "t-3"), 404, "not-found")
    assert post(client, f"{base}/approve", keys["gz"], None, "t-4").json()["state"] == "approved"
    assert post(client, f"{base}/accept", hz, None, "t-5").json()["state"] == "accepted"
    done = post(client, f"{base}/complete", hz, None, "t-6")
    assert done.status_code == 200 and done.json()["state"] == "completed"
    for key in (keys["gz"], hz):
        assert client.get(base, headers=auth(key)).json()["state"] == "completed"
    assert_problem(client.get(base, headers=auth(keys["bj"])), 404, "not-found")
    assert_problem(client.get(f"{base}x", headers=auth(keys["gz"])), 404, "not-found")


def test_the_audit_is_for_auditors(api) -> None:
    client, keys, _, engine = api
    with unit_of_work(engine) as c:
        auditor = issue_key(c, ActorKind.AUDITOR, "", "审计", NOW)[0]
    result = post(client, "/api/v1/audit/verify", auditor)
    assert result.status_code == 200 and result.json()["ok"] is True
    assert_problem(post(client, "/api/v1/audit/verify", keys["gd"]), 404, "not-found")


def test_a_file_of_payments_posts_the_agencys_rows_and_refuses_the_rest_alike(api) -> None:
    client, keys, worker, engine = api
    with unit_of_work(engine) as c:
        beijing = enrol(c, POLICY, VAULT, resident_id(5), "110000", None, NOW).worker.worker_id
    csv = (
        "payment_id,month,base_yuan,worker_id\n"
        f"f-1,2026-01,6000,{worker}\n"
        f"f-1,2026-02,6000,{worker}\n"
        f"f-2,2026-01,8000,{beijing}\n"  # another region's worker: as unknown
        "f-3,2026-01,6000,W000000000000\n"  # unknown
    )
    headers = auth(keys["gz"], **{"Idempotency-Key": "file-1", "Content-Type": "text/csv"})
    first = client.post("/api/v1/contributions/files", content=csv.encode(), headers=headers)
    assert first.status_code == 200, first.text
    summary = first.json()
    assert (summary["rows"], summary["posted"], summary["refused"]) == (4, 2, 2)
    foreign, unknown = summary["errors"]
    assert (foreign["row"], unknown["row"]) == (3, 4)
    assert foreign["code"] == unknown["code"] == "unknown-worker"
    assert foreign["reason"].replace(beijing, "X") == unknown["reason"].replace(
        "W000000000000", "X"
    )
    again = client.post("/api/v1/contributions/files", content=csv.encode(), headers=headers)
    assert again.json() == summary
    changed = client.post(
        "/api/v1/contributions/files", content=csv.replace("6000", "7000").encode(), headers=headers
    )
    assert_problem(changed, 422, "idempotency-key-reused")
    by_id = "payment_id,month,base_yuan,resident_id\nf-9,2026-01,6000," + resident_id(1) + "\n"
    other = auth(keys["gz"], **{"Idempotency-Key": "file-2", "Content-Type": "text/csv"})
    refused = client.post("/api/v1/contributions/files", content=by_id.encode(), headers=other)
    assert_problem(refused, 422, "invalid-input")
    with unit_of_work(engine) as c:
        assert c.execute(select(func.count()).select_from(contribution_months)).scalar_one() == 2


def test_a_payment_twice_in_an_uploaded_file_is_refused_a_chunk_apart(api, database_url) -> None:  # type: ignore[no-untyped-def]
    """The upload's chunks are one transaction: a payment listed twice, a chunk apart, was
    posted once and the second counted a replay; it is refused as within one chunk."""
    _, keys, worker, _ = api
    settings = settings_for(database_url[0], today=TODAY, intake_chunk_rows=1)
    csv = f"payment_id,month,base_yuan,worker_id\nk-1,2026-01,6000,{worker}\n"
    csv += f"k-1,2026-01,6000,{worker}\n"
    headers = auth(keys["gz"], **{"Idempotency-Key": "twice", "Content-Type": "text/csv"})
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        answer = client.post("/api/v1/contributions/files", content=csv.encode(), headers=headers)
    assert answer.status_code == 200, answer.text
    summary = answer.json()
    assert (summary["posted"], summary["replayed"], summary["refused"]) == (1, 0, 1)
    assert [(e["row"], e["code"]) for e in summary["errors"]] == [(2, "duplicate-id")]


def test_a_payment_on_provisional_bounds_says_so_one_file_row_or_many(api) -> None:
    """河南's floor and ceiling in the file are of 2025-01: a 郑州 month of 2026 is bounded by
    them provisionally, and the answer says so (``provisional-parameter``) where a 广州 one
    (its figures of 2025-07 in their own year) does not."""
    client, keys, worker, engine = api
    with unit_of_work(engine) as c:
        henan = issue_key(c, ActorKind.AGENCY, "410100", "郑州", NOW)[0]
        zhengzhou = enrol(c, POLICY, VAULT, resident_id(6), "410100", None, NOW).worker.worker_id
    floor, _ = base_bounds_fen("410100", Month.of(2026, 3))
    payment = {"payment_id": "zz-1", "worker_id": zhengzhou, "from_month": "2026-03",
               "base_yuan": fen_to_yuan_str(floor)}  # fmt: skip
    paid = post(client, "/api/v1/contributions", henan, payment, "zz-1")
    assert paid.status_code == 201, paid.text
    [month] = paid.json()["months"]
    [warning] = month["warnings"]
    assert (warning["code"], warning["field"]) == ("provisional-parameter", "base_yuan")
    assert {(p["parameter"], p["in_force_from"]) for p in warning["parameters"]} == {
        ("contribution.base.published_floor", "2025-01-01"),
        ("contribution.base.published_ceiling", "2025-01-01"),
    }
    here = {"payment_id": "gz-1", "worker_id": worker, "from_month": "2026-03", "base_yuan": "6000"}
    assert (
        post(client, "/api/v1/contributions", keys["gz"], here, "gz-1").json()["months"][0][
            "warnings"
        ]
        == []
    )
    csv = (
        f"payment_id,month,base_yuan,worker_id\nzz-2,2026-04,{fen_to_yuan_str(floor)},{zhengzhou}\n"
    )
    headers = auth(henan, **{"Idempotency-Key": "zz-file", "Content-Type": "text/csv"})
    summary = client.post("/api/v1/contributions/files", content=csv.encode(), headers=headers)
    assert summary.status_code == 200, summary.text
    [warning] = summary.json()["warnings"]
    assert (warning["code"], warning["region"], warning["month"]) == (
        "provisional-parameter",
        "410100",
        "2026-04",
    )


@pytest.fixture
def demo(api, database_url, monkeypatch) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """The same database, served with one-time codes answered (demo mode)."""
    url, _ = database_url
    settings = settings_for(
        url,
        today=TODAY,
        demo_codes=True,
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client, *api[1:]


def log_in(client: Any, who: str, password: str = "a long pass phrase") -> Any:
    code = client.post("/api/v1/auth/code", json={"resident_id": who}).json()["demo_code"]
    registered = client.post(
        "/api/v1/auth/register", json={"resident_id": who, "code": code, "password": password}
    )
    assert registered.status_code == 201, registered.text
    return client.post("/api/v1/auth/token", json={"resident_id": who, "password": password})


def test_a_worker_logs_in_and_sees_only_their_own_records(demo) -> None:
    client, keys, worker, engine = demo
    token = log_in(client, resident_id(1))
    assert token.status_code == 200, token.text
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    mine = client.get("/api/v1/me/statement", headers=bearer)
    assert mine.status_code == 200 and mine.json()["worker"]["worker_id"] == worker
    assert resident_id(1) not in mine.text
    with unit_of_work(engine) as c:
        january = Month.of(2026, 1)
        contribute(c, POLICY, "me-1", worker, january, Month.of(2026, 5), 600_000, NOW)
    estimate = client.get("/api/v1/me/pension/estimate", params={"base_ratio": "2"}, headers=bearer)
    assert estimate.status_code == 200, estimate.text
    assert {s["worker_id"] for s in estimate.json()["scenarios"]} == {worker}
    for path in (f"/api/v1/workers/{worker}/statement", "/api/v1/transfers/x"):
        assert_problem(client.get(path, headers=bearer), 404, "not-found")
    assert_problem(client.get("/api/v1/me/statement", headers=auth(keys["gz"])), 404, "not-found")
    tampered = {"Authorization": bearer["Authorization"][:-3] + "AAA"}
    assert_problem(client.get("/api/v1/me/statement", headers=tampered), 401, "unauthorized")


def test_login_refusals_read_alike_and_lock_after_five_failures(demo) -> None:
    client, *_ = demo
    stranger = resident_id(9)  # well formed, never enrolled
    code = client.post("/api/v1/auth/code", json={"resident_id": stranger}).json()["demo_code"]
    refusals = [
        client.post(
            "/api/v1/auth/register",
            json={"resident_id": stranger, "code": code, "password": "a long pass phrase"},
        ),
        client.post(
            "/api/v1/auth/register",
            json={
                "resident_id": resident_id(1),
                "code": "000000",
                "password": "a long pass phrase",
            },
        ),
        client.post("/api/v1/auth/token", json={"resident_id": stranger, "password": "whatever1"}),
    ]
    details = {assert_problem(r, 401, "unauthorized")["detail"] for r in refusals}
    assert len(details) == 1
    assert log_in(client, resident_id(1), "the right pass phrase").status_code == 200
    wrong = {"resident_id": resident_id(1), "password": "not the right one"}
    for _ in range(5):
        assert_problem(client.post("/api/v1/auth/token", json=wrong), 401, "unauthorized")
    right = {"resident_id": resident_id(1), "password": "the right pass phrase"}
    assert_problem(client.post("/api/v1/auth/token", json=right), 429, "locked")


def test_a_session_token_expires_and_is_bound_to_its_key() -> None:
    from datetime import timedelta

    from suiren.services.logins import LoginRefused, read_token, sign_token

    token = sign_token(b"k" * 32, "W1", NOW, generation=0)
    assert read_token(b"k" * 32, token, NOW + timedelta(minutes=29)).worker_id == "W1"
    for key, when in ((b"k" * 32, NOW + timedelta(minutes=31)), (b"x" * 32, NOW)):
        with pytest.raises(LoginRefused):
            read_token(key, token, when)


def test_a_token_without_the_generation_of_its_sessions_is_refused() -> None:
    """A worker's token signed before ``0016_worker_sessions`` (no ``gen``), a clerk's signed
    before ``0018_clerk_sessions``, or one whose ``gen`` is not a whole number, is refused
    however well it is signed: there is nothing to compare with the sessions' generation."""
    from suiren.services.logins import (
        _MAC_DOMAIN,
        LoginRefused,
        TokenKind,
        _b64,
        read_token,
        sign_token,
    )

    key = b"k" * 32
    for kind in TokenKind:
        for claims in ({}, {"gen": "0"}, {"gen": True}, {"gen": None}, {"gen": 1.0}):
            body = json.dumps({"sub": "W1", "exp": int(NOW.timestamp()) + 60, **claims}).encode()
            mac = hmac.new(key, _MAC_DOMAIN[kind] + body, hashlib.sha256).digest()
            with pytest.raises(LoginRefused):
                read_token(key, f"{kind.value}{_b64(body)}.{_b64(mac)}", NOW, kind)
    assert read_token(key, sign_token(key, "W1", NOW, generation=3), NOW).generation == 3
    clerk = sign_token(key, "gz.clerk", NOW, TokenKind.CLERK, 2)
    read = read_token(key, clerk, NOW, TokenKind.CLERK)
    assert (read.subject, read.generation) == ("gz.clerk", 2)
    with pytest.raises(ValueError, match="generation"):  # none is signed without one
        sign_token(key, "gz.clerk", NOW, TokenKind.CLERK)


def test_login_requests_are_limited_per_address(demo) -> None:
    client, *_ = demo
    answers = [  # one login each: a login's own next code waits a minute (CODE_RESEND)
        client.post("/api/v1/auth/code", json={"resident_id": resident_id(7 + n)}).status_code
        for n in range(21)
    ]
    assert answers[:20] == [202] * 20
    assert_problem(
        client.post("/api/v1/auth/code", json={"resident_id": resident_id(40)}), 429, "locked"
    )


def test_lists_come_a_page_at_a_time_and_only_the_agencys(api) -> None:
    client, keys, worker, engine = api
    with unit_of_work(engine) as c:
        for n in range(10, 15):
            enrol(c, POLICY, VAULT, resident_id(n), "440100", None, NOW)
        enrol(c, POLICY, VAULT, resident_id(20), "110000", None, NOW)
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/workers", params=params, headers=auth(keys["gd"])).json()
        assert len(page["items"]) <= 2
        seen += [item["worker_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 6 and seen == sorted(seen) and worker in seen
    assert all(
        "*" in i["resident_id"]
        for i in client.get("/api/v1/workers", headers=auth(keys["gz"])).json()["items"]
    )
    beijing = client.get("/api/v1/workers", headers=auth(keys["bj"])).json()["items"]
    assert len(beijing) == 1 and worker not in {i["worker_id"] for i in beijing}
    assert_problem(client.get("/api/v1/workers", headers=auth(keys["platform"])), 404, "not-found")
    assert_problem(
        client.get("/api/v1/workers", params={"limit": 1000}, headers=auth(keys["gd"])),
        422,
        "invalid-request",
    )
    assert_problem(
        client.get("/api/v1/workers", params={"cursor": "%%%"}, headers=auth(keys["gd"])),
        422,
        "invalid-input",
    )
    assert client.get("/api/v1/transfers", headers=auth(keys["gz"])).json() == {
        "items": [],
        "next_cursor": None,
    }
    for state in ("complete", "done", "x"):  # a state misspelt was an empty list, not a refusal
        listed = client.get("/api/v1/transfers", params={"state": state}, headers=auth(keys["gz"]))
        refused = assert_problem(listed, 422, "invalid-request")
        assert refused["field"] == "state" and "'completed'" in refused["detail"], refused
    for state in get_args(TransferState):
        listed = client.get("/api/v1/transfers", params={"state": state}, headers=auth(keys["gz"]))
        assert listed.json()["items"] == [], listed.text
    assert set(get_args(TransferState)) == {s.value for s in State}


def test_settlement_is_the_national_agencys_and_checkpoints_the_auditors(api) -> None:
    client, keys, _, engine = api
    with unit_of_work(engine) as c:
        national = issue_key(c, ActorKind.AGENCY, "000000", "国家", NOW)[0]
        auditor = issue_key(c, ActorKind.AUDITOR, "", "审计", NOW)[0]
    close = "/api/v1/settlement/windows/2026-06-14/close"
    first = post(client, close, national, None, "w-1")
    assert first.status_code == 200, first.text
    assert first.json()["closed"] is True
    assert post(client, close, national, None, "w-2").json() == first.json()  # closed once
    report = client.get("/api/v1/settlement/windows/2026-06-14", headers=auth(national))
    assert report.status_code == 200 and report.json()["closed"] is True
    assert_problem(post(client, close, keys["gd"], None, "w-3"), 404, "not-found")
    future = post(client, "/api/v1/settlement/windows/2026-06-15/close", national, None, "w-4")
    assert_problem(future, 422, "settlement-refused")
    bad_day = client.get("/api/v1/settlement/windows/2026-02-30", headers=auth(national))
    assert_problem(bad_day, 422, "invalid-input")
    checkpoint = post(client, "/api/v1/audit/checkpoint", auditor)
    assert checkpoint.status_code == 200 and checkpoint.json()["heads"]
    assert_problem(post(client, "/api/v1/audit/checkpoint", keys["gz"]), 404, "not-found")
    # the query is part of the request: under the same key, another scheme is another request
    medical = post(client, close + "?scheme=employee_medical", national, None, "w-5")
    assert medical.status_code == 200, medical.text
    assert_problem(
        post(client, close + "?scheme=employee_pension", national, None, "w-5"),
        422,
        "idempotency-key-reused",
    )
    # but not its spelling: the same parameters encoded otherwise, or in another order
    for spelt in ("?scheme=employee%5Fmedical", "?scheme=employee_medical&"):
        again = post(client, close + spelt, national, None, "w-5")
        assert (again.status_code, again.json()) == (200, medical.json()), spelt
    first = post(client, close + "?x=1&scheme=employee_medical", national, None, "w-5x")
    again = post(client, close + "?scheme=employee_medical&x=1", national, None, "w-5x")
    assert first.status_code == 200 and (again.status_code, again.json()) == (200, first.json())
    # a route that reads no body, sent text labelled JSON: answered as before (its bytes kept)
    text_body = client.post(
        close,
        content=b"not json",
        headers=auth(national, **{"Idempotency-Key": "w-6", "Content-Type": "application/json"}),
    )
    assert text_body.status_code == 200, text_body.text


def test_an_agency_imports_the_history_of_the_people_it_insures(api) -> None:
    """Issue 12 through the API: a stints file, or JSON with balances; a person insured
    elsewhere is refused; the answer names no resident id (it is stored for replays)."""
    client, keys, _worker, engine = api
    ours, theirs = resident_id(20, "19800301"), resident_id(21, "19800301")
    csv = (
        "resident_id,region,from_month,to_month,kind,base_yuan\n"
        f"{ours},440100,2010-01,2019-12,paid,5000\n"
        f"{theirs},110000,2010-01,2019-12,paid,5000\n"  # Beijing's to import, not Guangzhou's
        f"{resident_id(1)},440100,2026-05,2026-06,paid,6000\n"  # to this month: not history
    )
    headers = auth(keys["gz"], **{"Idempotency-Key": "hist-1", "Content-Type": "text/csv"})
    first = client.post("/api/v1/workers/history", content=csv.encode(), headers=headers)
    assert first.status_code == 200, first.text
    answer = first.json()
    assert (answer["imported"], answer["refused"], answer["enrolled"]) == (1, 2, 1)
    assert [(e["row"], e["code"]) for e in answer["errors"]] == [
        (2, "not-insured-here"),
        (3, "invalid-period"),
    ]
    assert ours not in first.text and theirs not in first.text
    assert client.post("/api/v1/workers/history", content=csv.encode(), headers=headers).json() == (
        answer
    )
    as_json = {
        "stints": [
            {"resident_id": theirs, "region": "110000", "from_month": "2010-01",
             "to_month": "2019-12", "kind": "paid", "base_yuan": "5000"}
        ],
        "balances": [
            {"resident_id": theirs, "region": "110000", "account_yuan": "30000.00",
             "as_of": "2019-12-31"}
        ],
    }  # fmt: skip
    beijing = client.post(
        "/api/v1/workers/history",
        json=as_json,
        headers=auth(keys["bj"], **{"Idempotency-Key": "h"}),
    )
    assert beijing.status_code == 200, beijing.text
    assert (beijing.json()["imported"], beijing.json()["account_fen"]) == (1, 3_000_000)
    marked = client.post(  # the same JSON after a byte-order mark: the same import, replayed
        "/api/v1/workers/history",
        content=b"\xef\xbb\xbf" + json.dumps(as_json).encode(),
        headers=auth(
            keys["bj"], **{"Idempotency-Key": "h-bom", "Content-Type": "application/json"}
        ),
    )
    assert (marked.json()["imported"], marked.json()["replayed"]) == (0, 1), marked.text
    # the stints name the import: sent again under a new key they replay; with another
    # balance they were a new import (the person's rows refused as already recorded, 200)
    again = client.post(
        "/api/v1/workers/history",
        json=as_json,
        headers=auth(keys["bj"], **{"Idempotency-Key": "h-again"}),
    )
    assert (again.json()["imported"], again.json()["replayed"]) == (0, 1), again.text
    other = {**as_json, "balances": [{**as_json["balances"][0], "account_yuan": "31000.00"}]}
    conflict = client.post(
        "/api/v1/workers/history",
        json=other,
        headers=auth(keys["bj"], **{"Idempotency-Key": "h-other"}),
    )
    body = assert_problem(conflict, 409, "history-conflict")
    assert "：余额文件第 1 行与当时记录的余额不同。未写入任何内容。" in body["detail"]
    assert theirs not in conflict.text
    floats = client.post(
        "/api/v1/workers/history",
        json={"stints": [{**as_json["stints"][0], "base_yuan": 5000.5}]},
        headers=auth(keys["bj"], **{"Idempotency-Key": "h2"}),
    )
    assert_problem(floats, 422, "invalid-request")
    with unit_of_work(engine) as c:
        assert verify(c).ok


def test_an_agency_enrols_a_file_of_its_region_and_the_nation_credits_interest(api) -> None:
    client, keys, _worker, engine = api
    csv = (
        "resident_id,work_region\n"
        f"{resident_id(30)},440100\n"
        f"{resident_id(31)},110000\n"  # Beijing's to enrol
        f"{resident_id(30)},440100\n"  # the same person again: the same worker
    )
    headers = auth(keys["gz"], **{"Idempotency-Key": "wf-1", "Content-Type": "text/csv"})
    first = client.post("/api/v1/workers/files", content=csv.encode(), headers=headers)
    assert first.status_code == 200, first.text
    answer = first.json()
    assert (answer["created"], answer["existing"], answer["refused"]) == (1, 1, 1)
    assert [(e["row"], e["code"]) for e in answer["errors"]] == [(2, "not-your-region")]
    [one, again] = answer["workers"]
    assert one["worker_id"] == again["worker_id"] and (one["row"], again["row"]) == (1, 3)
    assert resident_id(30) not in first.text
    refused = client.post(
        "/api/v1/interest/credit",
        json={"year": 2025},
        headers=auth(keys["gd"], **{"Idempotency-Key": "i-1"}),
    )
    assert_problem(refused, 404, "not-found")
    with unit_of_work(engine) as c:
        national = issue_key(c, ActorKind.AGENCY, "000000", "全国", NOW)[0]
    credited = client.post(
        "/api/v1/interest/credit",
        json={"year": 2025},
        headers=auth(national, **{"Idempotency-Key": "i-1"}),
    )
    assert credited.status_code == 200, credited.text
    assert credited.json()["year"] == 2025
    future = client.post(
        "/api/v1/interest/credit",
        json={"year": 2026},
        headers=auth(national, **{"Idempotency-Key": "i-2"}),
    )
    assert_problem(future, 422, "invalid-input")


def test_an_enrolment_in_another_region_is_refused_as_such(api) -> None:
    """A person enrolled in 440100 enrolled again in 440106 (a region the same agency
    covers): refused ``enrolled-elsewhere`` naming ``work_region``, as the command line
    refuses it — in a file (it was field ``row``, code ``invalid-input``) and alone (it was
    ``invalid-input`` with no field), as a 409 conflict with what the ledger records, as
    ``insurance-moved`` and ``history-conflict`` are (it was 422)."""
    client, keys, _worker, _engine = api
    person = {"resident_id": resident_id(32), "work_region": "440100"}
    first = client.post(
        "/api/v1/workers", json=person, headers=auth(keys["gz"], **{"Idempotency-Key": "e-1"})
    )
    assert first.status_code == 201, first.text
    moved = client.post(
        "/api/v1/workers",
        json=person | {"work_region": "440106"},
        headers=auth(keys["gz"], **{"Idempotency-Key": "e-2"}),
    )
    body = assert_problem(moved, 409, "enrolled-elsewhere")
    assert body["field"] == "work_region" and "变更参保地须办理转移接续" in body["detail"]
    csv = f"resident_id,work_region\n{resident_id(32)},440106\n"
    headers = auth(keys["gz"], **{"Idempotency-Key": "e-3", "Content-Type": "text/csv"})
    filed = client.post("/api/v1/workers/files", content=csv.encode(), headers=headers)
    assert filed.status_code == 200, filed.text
    [error] = filed.json()["errors"]
    assert (error["row"], error["field"], error["code"]) == (1, "work_region", "enrolled-elsewhere")
    assert error["reason"].endswith("; moving needs a transfer (转移接续)")
    assert error["reason_zh"].endswith("；变更参保地须办理转移接续")


def test_two_requests_with_one_key_at_once_answer_alike(api, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Two concurrent POSTs under one Idempotency-Key (a client's retry racing the first):
    both get the first response, and the work is done once. On PostgreSQL the race is
    forced: each request has looked for the key and found none before either enrols (a
    barrier in the service), so the second's insert of the key clashes and it answers with
    the first's stored response. SQLite's writers queue whole transactions (BEGIN
    IMMEDIATE), so there the second finds the key stored."""
    import threading

    from suiren.services import workers as workers_service
    from suiren.store.api_tables import idempotency_keys
    from suiren.store.tables import workers

    client, keys, _worker, engine = api
    if engine.dialect.name == "postgresql":
        both_looked = threading.Barrier(2, timeout=30)
        enrol_once = workers_service.enrol

        def enrol_after_both_looked(*args: Any, **kwargs: Any) -> Any:
            both_looked.wait()  # broken (a 500) if the requests cannot run side by side
            return enrol_once(*args, **kwargs)

        monkeypatch.setattr(workers_service, "enrol", enrol_after_both_looked)
    body = {"resident_id": resident_id(40), "work_region": "440100"}
    headers = auth(keys["gz"], **{"Idempotency-Key": "race-1"})
    barrier = threading.Barrier(2)
    answers: list[Any] = [None, None]

    def send(i: int) -> None:
        barrier.wait()
        answers[i] = client.post("/api/v1/workers", json=body, headers=headers)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    assert answers[0].json() == answers[1].json()
    with unit_of_work(engine) as c:
        stored = c.execute(
            select(func.count())
            .select_from(idempotency_keys)
            .where(idempotency_keys.c.idempotency_key == "race-1")
        ).scalar_one()
        enrolled = c.execute(select(func.count()).select_from(workers)).scalar_one()
    assert stored == 1
    assert enrolled == 2  # the fixture's worker and this one, once


def test_a_file_over_the_limit_is_413_on_every_upload_route(api, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from suiren.api.routes import common

    client, keys, _worker, engine = api
    monkeypatch.setattr(common, "UPLOAD_BYTES_MAX", 64)
    body = ("resident_id,work_region\n" + f"{resident_id(50)},440100\n" * 10).encode()
    for n, route in enumerate(["contributions/files", "workers/files", "workers/history"]):
        headers = auth(keys["gz"], **{"Idempotency-Key": f"big-{n}", "Content-Type": "text/csv"})
        assert_problem(
            client.post(f"/api/v1/{route}", content=body, headers=headers), 413, "too-large"
        )
        # streamed without a Content-Length (chunked): refused as it streams past the limit
        pieces = iter([body[i : i + 16] for i in range(0, len(body), 16)])
        streamed = client.post(f"/api/v1/{route}", content=pieces, headers=headers)
        assert "content-length" not in streamed.request.headers
        assert_problem(streamed, 413, "too-large")
    with unit_of_work(engine) as c:
        assert c.execute(select(func.count()).select_from(contribution_months)).scalar_one() == 0


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_parquet_file_is_refused_on_every_upload_route(api, tmp_path, how) -> None:  # type: ignore[no-untyped-def]
    """A Parquet body whose third row group cannot be read (or reads as other values, which
    its pages' checksums show) is a 422 file-refused naming the row group on each route that
    takes a file, and nothing of it is written."""
    import pyarrow as pa

    client, keys, worker, engine = api
    n = 40
    people = [resident_id(300 + k) for k in range(n)]
    bodies = {
        "contributions/files": {
            "payment_id": [f"d{k}" for k in range(n)],
            "month": [f"{2016 + k // 12}-{k % 12 + 1:02d}" for k in range(n)],
            "base_yuan": ["6000"] * n,
            "worker_id": [worker] * n,
        },
        "workers/files": {"resident_id": people, "work_region": ["440100"] * n},
        "workers/history": {
            "resident_id": people,
            "region": ["440100"] * n,
            "from_month": ["2010-01"] * n,
            "to_month": ["2019-12"] * n,
            "kind": ["paid"] * n,
            "base_yuan": ["5000"] * n,
        },
    }
    with unit_of_work(engine) as c:
        before = [c.execute(select(func.count()).select_from(t)).scalar_one() for t in TABLES]
    for k, (route, columns) in enumerate(bodies.items()):
        path = tmp_path / f"{k}.parquet"
        write_in_row_groups(path, pa.table(columns), 10)
        damage(path, 2, how)
        headers = auth(
            keys["gz"],
            **{"Idempotency-Key": f"damaged-{k}", "Content-Type": "application/vnd.apache.parquet"},
        )
        answer = client.post(f"/api/v1/{route}", content=path.read_bytes(), headers=headers)
        detail = assert_problem(answer, 422, "file-refused")["detail"]
        assert "parquet 已损坏：第 3 个行组（共 4 个，第 21–30 行）自第 21 行起无法读取" in detail
    with unit_of_work(engine) as c:
        after = [c.execute(select(func.count()).select_from(t)).scalar_one() for t in TABLES]
    assert after == before


def test_an_agency_reverses_a_month_of_its_region_and_it_may_be_paid_again(api) -> None:
    """``POST /contributions/reversals`` as ``suiren reverse``: the month's region's agency
    (or the province above) reverses it once, the key replays it, the month is paid again;
    another region's month, an unknown one and an entry that is no month are the same 404."""
    client, keys, worker, engine = api
    with unit_of_work(engine) as c:
        january = Month.of(2026, 1)
        contribute(c, POLICY, "rev-pay", worker, january, Month.of(2026, 2), 600_000, NOW)
        beijing = enrol(c, POLICY, VAULT, resident_id(6), "110000", None, NOW).worker.worker_id
        contribute(c, POLICY, "bj-pay", beijing, january, january, 800_000, NOW)
    path = "/api/v1/contributions/reversals"
    body = {"month_id": "rev-pay/2026-01", "reversal_id": "rev-1", "memo": "wrong base"}
    foreign = post(client, path, keys["gz"], {**body, "month_id": "bj-pay/2026-01"}, "r-0")
    unknown = post(client, path, keys["gz"], {**body, "month_id": "no-pay/2026-01"}, "r-00")
    assert assert_problem(foreign, 404, "not-found")["detail"].replace("bj-pay", "X") == (
        assert_problem(unknown, 404, "not-found")["detail"].replace("no-pay", "X")
    )
    assert_problem(post(client, path, keys["bj"], body, "r-01"), 404, "not-found")
    assert_problem(post(client, path, keys["platform"], body, "r-02"), 404, "not-found")
    first = post(client, path, keys["gd"], body, "r-1")
    assert first.status_code == 201, first.text
    assert first.json() == {"reversal_id": "rev-1", "reverses": "rev-pay/2026-01",
                            "region": "440100", "replayed": False}  # fmt: skip
    again = post(client, path, keys["gd"], body, "r-1")
    assert (again.status_code, again.json()) == (201, first.json())
    twice = post(client, path, keys["gz"], {**body, "reversal_id": "rev-2"}, "r-2")
    assert_problem(twice, 422, "reversal-refused")
    months = {"payment_id": "rev-again", "worker_id": worker, "from_month": "2026-01",
              "base_yuan": "6000"}  # fmt: skip
    assert post(client, "/api/v1/contributions", keys["gz"], months, "r-3").status_code == 201
    with unit_of_work(engine) as c:
        assert verify(c).ok


def test_a_gathering_before_retirement_is_refused_and_writes_nothing(api) -> None:
    """``POST /gatherings`` as ``suiren transfer gather``: a worker of 36 has nothing to
    gather yet (refused, nothing written); another region's agency gets the unknown 404."""
    client, keys, worker, engine = api
    body = {"gather_id": "too-soon", "worker_id": worker}
    refused = post(client, "/api/v1/gatherings", keys["gz"], body, "g-1")
    assert_problem(refused, 422, "transfer-refused")
    assert_problem(post(client, "/api/v1/gatherings", keys["bj"], body, "g-2"), 404, "not-found")
    with unit_of_work(engine) as c:
        assert c.execute(select(func.count()).select_from(access_log)).scalar_one() == 0


def test_a_gatherings_transfers_are_taken_step_by_step_through_the_api(api) -> None:
    """A gathering's transfers are ``GATHER-ID/FROM-REGION``: the API's transfer routes reach
    an id with a slash, as the console's do (they answered "no such path", so a gathering
    requested over the API could only expire)."""
    client, keys, _worker, engine = api
    with unit_of_work(engine) as c:
        keys["hn"] = issue_key(c, ActorKind.AGENCY, "410000", "河南", NOW)[0]
    person = {"resident_id": resident_id(205, "19660301"), "work_region": "440100",
              "hukou_region": "410000"}  # fmt: skip
    older = post(client, "/api/v1/workers", keys["gz"], person, "gt-1").json()["worker_id"]
    floor = fen_to_yuan_str(base_bounds_fen("440100", Month.of(2026, 1), Month.of(2026, 3))[0])
    spring = {"payment_id": "gt-paid", "worker_id": older, "from_month": "2026-01",
              "to_month": "2026-03", "base_yuan": floor}  # fmt: skip
    assert post(client, "/api/v1/contributions", keys["gz"], spring, "gt-2").status_code == 201
    body = {"gather_id": "gt", "worker_id": older}
    gathered = post(client, "/api/v1/gatherings", keys["gz"], body, "gt-3")
    assert [t["transfer_id"] for t in gathered.json()["transfers"]] == ["gt/440100"]
    seen = client.get("/api/v1/transfers/gt/440100", headers=auth(keys["hn"]))
    assert (seen.status_code, seen.json()["state"]) == (200, "requested"), seen.text
    assert_problem(client.get("/api/v1/transfers/gt/440100", headers=auth(keys["bj"])), 404,
                   "not-found")  # fmt: skip
    for step, key, state in (("approve", "gz", "approved"), ("accept", "hn", "accepted"),
                             ("complete", "hn", "completed")):  # fmt: skip
        taken = post(client, f"/api/v1/transfers/gt/440100/{step}", keys[key], None, f"gt-{step}")
        assert (taken.status_code, taken.json()["state"]) == (200, state), taken.text
    with unit_of_work(engine) as c:
        assert verify(c).ok


def test_a_transfer_id_in_the_form_of_a_made_one_is_refused(api) -> None:
    """A gathering names its transfers ``GATHER-ID/FROM-REGION`` and a reversal its
    follow-up ``ID/follow`` (or ``follow/…``): a transfer requested under such an id took it
    from them — another region's agency could block a gathering, answered 409 with the
    ledger's own entry id — so it is refused, and nothing is written."""
    client, keys, worker, engine = api
    before = _counts(engine)
    for n, transfer_id in enumerate(("G1/440100", "rv-9/follow", "follow/0a1b")):
        body = {"transfer_id": transfer_id, "worker_id": worker, "to_region": "330100"}
        refused = assert_problem(
            post(client, "/api/v1/transfers", keys["gz"], body, f"t-made-{n}"), 422, "invalid-input"
        )
        assert transfer_id in refused["detail"] and "另选编号" in refused["detail"], refused
    assert _counts(engine) == before
    paid = {"payment_id": "t-made", "worker_id": worker, "from_month": "2026-01",
            "base_yuan": "6000"}  # fmt: skip
    assert post(client, "/api/v1/contributions", keys["gz"], paid, "t-made-paid").status_code == 201
    mine = {"transfer_id": "G1/440100/mine", "worker_id": worker, "to_region": "330100"}
    taken = post(client, "/api/v1/transfers", keys["gz"], mine, "t-made-ok")
    assert taken.status_code == 201, taken.text


def _counts(engine: Any) -> tuple[int, ...]:
    with unit_of_work(engine) as c:
        return tuple(
            c.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (journal, access_log)
        )


def test_idempotency_keys_are_each_actors_own(api) -> None:
    """The same Idempotency-Key from two callers is two keys: neither gets the other's
    response, nor a refusal for the other's body."""
    client, keys, worker, _ = api
    months = {"worker_id": worker, "base_yuan": "6000"}
    first = post(client, "/api/v1/contributions", keys["gz"],
                 {**months, "payment_id": "own-1", "from_month": "2026-01"}, "shared")  # fmt: skip
    other = post(client, "/api/v1/contributions", keys["gd"],
                 {**months, "payment_id": "own-2", "from_month": "2026-02"}, "shared")  # fmt: skip
    assert (first.status_code, other.status_code) == (201, 201), other.text
    assert [m["month"] for m in other.json()["months"]] == ["2026-02"]


def test_no_write_or_calculation_holds_the_event_loop(api, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A write (an idempotent POST's unit of work) and the calculator's batch run in a worker
    thread: while one takes its time, the server answers other requests."""
    import asyncio

    from suiren.services import pension_calc, workers

    on_loop: list[str] = []

    def watched(name: str, function: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                asyncio.get_running_loop()
                on_loop.append(name)
            except RuntimeError:
                pass  # a worker thread: no event loop running here
            return function(*args, **kwargs)

        return call

    monkeypatch.setattr(workers, "enrol", watched("enrol", workers.enrol))
    monkeypatch.setattr(pension_calc, "calculate", watched("calc", pension_calc.calculate))
    client, keys, *_ = api
    person = {"resident_id": resident_id(60), "work_region": "440100"}
    assert post(client, "/api/v1/workers", keys["gz"], person, "loop-1").status_code == 201
    assert post(client, "/api/v1/pension/calc", keys["gz"], WORKED).status_code == 200
    assert on_loop == []
