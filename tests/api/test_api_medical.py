"""Employee medical insurance (职工医保) through the API, on both databases: an agency pays a
worker's medical months (``POST /medical/contributions``, idempotent by its key, as ``suiren
medical contribute``) and reads their medical record (``GET /workers/{id}/medical/status``,
as ``suiren medical status``); a worker reads their own (``GET /me/medical/status``). A
worker of another region, or one not enrolled in medical, is the 404 of an unknown id."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from suiren.api.app import create_app
from suiren.api.auth import ActorKind, issue_key
from suiren.domain.money import fen_to_yuan_str
from suiren.domain.month import Month
from suiren.ledger.accounts import Scheme
from suiren.services.identity import token_key
from suiren.services.logins import worker_token
from suiren.services.medical import medical_status
from suiren.services.workers import enrol
from suiren.store.api_tables import access_log
from suiren.store.db import make_engine, unit_of_work
from suiren.store.tables import contribution_months
from tests.api import assert_problem, auth, settings_for
from tests.conftest import KEYS, NOW, SECRET
from tests.ledger_helpers import POLICY, VAULT, base_bounds_fen, medical_split, resident_id

TODAY = "2026-06-15"
PAY = "/api/v1/medical/contributions"
JANUARY, MARCH = Month.of(2026, 1), Month.of(2026, 3)


@pytest.fixture
def api(database_url: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A Guangzhou worker in pension and medical, another in pension only; the keys of
    Guangzhou, Guangdong and Beijing; the first worker's session token."""
    url, extra = database_url
    for name, value in extra.items():  # PGOPTIONS: the test's own PostgreSQL schema
        monkeypatch.setenv(name, value)
    engine = make_engine(url, keys=KEYS)
    with unit_of_work(engine) as c:
        keys = {
            name: issue_key(c, ActorKind.AGENCY, region, name, NOW)[0]
            for name, region in (("gz", "440100"), ("gd", "440000"), ("bj", "110000"))
        }
        insured = enrol(c, POLICY, VAULT, resident_id(1), "440100", None, NOW).worker.worker_id
        enrol(c, POLICY, VAULT, resident_id(1), "440100", None, NOW, scheme=Scheme.EMPLOYEE_MEDICAL)
        pension_only = enrol(c, POLICY, VAULT, resident_id(2), "440100", None, NOW).worker
    workers = {"insured": insured, "pension_only": pension_only.worker_id}
    with unit_of_work(engine) as c:  # logged in: a token of their sessions' generation
        keys["session"] = worker_token(c, token_key(SECRET), insured, NOW)
    with TestClient(
        create_app(settings_for(url, today=TODAY)), raise_server_exceptions=False
    ) as client:
        yield client, keys, workers, engine
    engine.dispose()


def payment(worker: str, payment_id: str = "med-1", **more: str) -> dict[str, str]:
    floor_fen, _ = base_bounds_fen("440100", JANUARY, MARCH)
    return {"payment_id": payment_id, "worker_id": worker, "from_month": "2026-01",
            "to_month": "2026-03", "base_yuan": fen_to_yuan_str(floor_fen), **more}  # fmt: skip


def medical_rows(engine: Any) -> int:
    with unit_of_work(engine) as c:
        return int(
            c.execute(
                select(func.count())
                .select_from(contribution_months)
                .where(contribution_months.c.scheme == Scheme.EMPLOYEE_MEDICAL.value)
            ).scalar_one()
        )


def test_an_agency_pays_medical_months_once_by_its_key(api) -> None:
    client, keys, workers, engine = api
    body = payment(workers["insured"])
    headers = auth(keys["gz"], **{"Idempotency-Key": "m-1", "X-Request-ID": "req-m1"})
    first = client.post(PAY, json=body, headers=headers)
    assert first.status_code == 201, first.text
    months = first.json()["months"]
    assert [m["month"] for m in months] == ["2026-01", "2026-02", "2026-03"]
    assert {m["scheme"] for m in months} == {"employee_medical"}
    floor_fen, _ = base_bounds_fen("440100", JANUARY, MARCH)
    split = medical_split("440100", JANUARY, floor_fen)
    assert months[0]["due_fen"] == split.due_fen
    assert months[0]["individual_account_fen"] == split.individual_account_fen
    again = client.post(PAY, json=body, headers=headers)
    assert (again.status_code, again.json()) == (201, first.json())
    other = client.post(PAY, json={**body, "to_month": "2026-02"}, headers=headers)
    assert_problem(other, 422, "idempotency-key-reused")
    assert_problem(client.post(PAY, json=body, headers=auth(keys["gz"])), 422, "invalid-request")
    twice = client.post(
        PAY,
        json=payment(workers["insured"], "med-2"),
        headers=auth(keys["gd"], **{"Idempotency-Key": "m-2"}),
    )
    assert_problem(twice, 422, "contribution-refused")  # those months are paid already
    assert medical_rows(engine) == 3
    with unit_of_work(engine) as c:
        logged = c.execute(select(access_log.c.request_id, access_log.c.path)).all()
    assert [tuple(r) for r in logged] == [("req-m1", PAY)]


def test_another_region_or_no_medical_enrolment_is_an_unknown_worker(api) -> None:
    client, keys, workers, engine = api
    unknown = assert_problem(
        client.post(
            PAY,
            json=payment("W000000000000"),
            headers=auth(keys["bj"], **{"Idempotency-Key": "u-1"}),
        ),
        404,
        "not-found",
    )
    for key, worker in (("bj", workers["insured"]), ("gz", workers["pension_only"])):
        refused = assert_problem(
            client.post(
                PAY,
                json=payment(worker, f"x-{key}"),
                headers=auth(keys[key], **{"Idempotency-Key": f"x-{key}"}),
            ),
            404,
            "not-found",
        )
        assert refused["detail"].replace(worker, "X") == unknown["detail"].replace(
            "W000000000000", "X"
        )
        status = client.get(f"/api/v1/workers/{worker}/medical/status", headers=auth(keys[key]))
        assert_problem(status, 404, "not-found")
    as_worker = auth(keys["session"], **{"Idempotency-Key": "w-1"})
    assert_problem(
        client.post(PAY, json=payment(workers["insured"]), headers=as_worker), 404, "not-found"
    )
    assert medical_rows(engine) == 0


def test_the_medical_record_is_the_clis_for_the_agency_and_the_worker(api) -> None:
    client, keys, workers, engine = api
    worker = workers["insured"]
    paid = client.post(
        PAY, json=payment(worker), headers=auth(keys["gz"], **{"Idempotency-Key": "m-3"})
    )
    assert paid.status_code == 201, paid.text
    with unit_of_work(engine) as c:
        expected = json.loads(
            json.dumps(medical_status(c, POLICY, worker, NOW.date()).to_json(), default=str)
        )
    path = f"/api/v1/workers/{worker}/medical/status"
    for key in ("gz", "gd"):  # the city, and the province above it
        answer = client.get(path, headers=auth(keys[key]))
        assert answer.status_code == 200, answer.text
        assert answer.json() == expected
    record = expected
    assert record["months_by_region"] == {"440100": 3} and record["last_paid"] == "2026-03"
    mine = client.get("/api/v1/me/medical/status", headers=auth(keys["session"]))
    assert mine.status_code == 200 and mine.json() == expected
    assert resident_id(1) not in mine.text
    assert_problem(
        client.get("/api/v1/me/medical/status", headers=auth(keys["gz"])), 404, "not-found"
    )
    assert_problem(client.get(path, headers=auth(keys["session"])), 404, "not-found")
    assert_problem(client.get("/api/v1/me/medical/status"), 401, "unauthorized")


def test_a_medical_transfer_and_its_settlement_window_through_the_api(api) -> None:
    """``scheme`` on ``POST /transfers`` and on the settlement windows, as the CLI's
    ``--scheme``: the medical insurance moves, each side takes its step, and the next day the
    national agency settles the medical window (the pension one of that day has no flows)."""
    client, keys, workers, engine = api
    worker = workers["insured"]
    with unit_of_work(engine) as c:
        hz = issue_key(c, ActorKind.AGENCY, "330100", "杭州", NOW)[0]
        national = issue_key(c, ActorKind.AGENCY, "000000", "全国", NOW)[0]
    paid = client.post(
        PAY, json=payment(worker), headers=auth(keys["gz"], **{"Idempotency-Key": "mt-0"})
    )
    assert paid.status_code == 201, paid.text
    move = {"transfer_id": "med-move", "worker_id": worker, "to_region": "330100",
            "scheme": "employee_medical"}  # fmt: skip
    not_enrolled = {**move, "transfer_id": "med-x", "worker_id": workers["pension_only"]}
    refused = client.post(
        "/api/v1/transfers",
        json=not_enrolled,
        headers=auth(keys["gz"], **{"Idempotency-Key": "mt-x"}),
    )
    assert_problem(refused, 404, "not-found")
    requested = client.post(
        "/api/v1/transfers", json=move, headers=auth(keys["gz"], **{"Idempotency-Key": "mt-1"})
    )
    assert requested.status_code == 201, requested.text
    assert (requested.json()["scheme"], requested.json()["state"]) == (
        "employee_medical",
        "requested",
    )
    for n, (step, key) in enumerate((("approve", keys["gz"]), ("accept", hz), ("complete", hz))):
        taken = client.post(
            f"/api/v1/transfers/med-move/{step}", headers=auth(key, **{"Idempotency-Key": f"s-{n}"})
        )
        assert taken.status_code == 200, taken.text
    assert taken.json()["state"] == "completed"
    url = str(client.app.state.service.settings.database_url)
    tomorrow = create_app(settings_for(url, today="2026-06-16"))
    with TestClient(tomorrow, raise_server_exceptions=False) as next_day:
        window = "/api/v1/settlement/windows/2026-06-15"
        closed = next_day.post(
            f"{window}/close",
            params={"scheme": "employee_medical"},
            headers=auth(national, **{"Idempotency-Key": "w-med"}),
        )
        assert closed.status_code == 200, closed.text
        medical = closed.json()
        assert medical["scheme"] == "employee_medical" and medical["closed"] is True
        assert [(f["from"], f["to"]) for f in medical["flows"]] == [("440100", "330100")]
        report = next_day.get(window, params={"scheme": "employee_medical"}, headers=auth(national))
        assert report.json() == medical
        pension = next_day.get(window, headers=auth(national)).json()
        assert pension["scheme"] == "employee_pension" and pension["flows"] == []
        wrong = next_day.get(
            window, params={"scheme": "occupational_injury"}, headers=auth(national)
        )
        assert_problem(wrong, 422, "invalid-request")
