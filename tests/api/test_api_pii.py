"""The PII scan itself (tests/api/pii.py, run after every API, portal and console test):
it finds a resident id wherever the API could show one — a response body, a log record, a
row about a request — and lets a masked one, a hash or a wrong check character pass; and a
worker's own records show their own id masked."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from suiren.api.app import create_app
from suiren.domain.resident_id import mask
from suiren.store.db import make_engine
from tests.api import settings_for
from tests.api.pii import Capture, resident_ids_in
from tests.api.world import TODAY, World, populate
from tests.conftest import KEYS, migrate
from tests.ledger_helpers import resident_id
from tests.worlds import populated

PERSON = resident_id(7)


def test_a_resident_id_is_found_and_only_a_real_one() -> None:
    wrong_check = PERSON[:17] + ("0" if PERSON[17] != "0" else "1")
    assert resident_ids_in(f'{{"resident_id": "{PERSON}"}}') == [PERSON]
    assert resident_ids_in(f"enrolled {PERSON.lower()}, twice") == [PERSON.upper()]
    for text in (
        mask(PERSON),  # 44****…
        wrong_check,
        "a" + PERSON,  # inside a longer run of letters and digits: a hash, not an id
        PERSON + "7",
        "440106" + "19901301" + PERSON[14:],  # no 13th month
    ):
        assert resident_ids_in(text) == [], text


@pytest.fixture
def client(tmp_path: Any) -> Iterator[tuple[TestClient, World]]:
    url = f"sqlite:///{tmp_path / 'suiren.db'}"
    engine = make_engine(url, keys=KEYS)
    migrate(engine)
    made = populated(engine, populate)
    engine.dispose()
    settings = settings_for(url, today=TODAY, demo_codes=True)
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client, made


def test_what_the_api_says_and_logs_is_captured(client, pii_capture: Capture) -> None:  # type: ignore[no-untyped-def]
    test_client, made = client
    start = len(pii_capture.seen)
    test_client.get("/api/v1/health")
    key = "sk_000000000000_" + PERSON  # an invalid key holding an id: refused, never echoed
    test_client.get("/api/v1/workers", headers={"Authorization": f"Bearer {key}"})
    enrolled = test_client.post(
        "/api/v1/workers",
        json={"resident_id": PERSON, "work_region": "440100"},
        headers={**made.auth("gz"), "Idempotency-Key": "pii-1"},
    )
    assert enrolled.status_code == 201, enrolled.text
    logging.getLogger("suiren.api").info("a log line naming %s", PERSON)
    seen = pii_capture.seen[start:]
    kinds = {where.split()[0] for where, _ in seen}
    assert kinds >= {"response", "log", "row"}, kinds
    findings = pii_capture.findings(start)
    assert len(findings) == 1 and findings[0].startswith("log suiren.api"), findings
    del pii_capture.seen[start:]  # the planted log line: the check after this test passes


def test_a_worker_sees_their_own_resident_id_masked(client) -> None:  # type: ignore[no-untyped-def]
    test_client, made = client
    person = resident_id(101)  # the world's gz_worker
    code = test_client.post("/api/v1/auth/code", json={"resident_id": person}).json()
    password = "a long pass phrase"
    test_client.post(
        "/api/v1/auth/register",
        json={"resident_id": person, "code": code["demo_code"], "password": password},
    )
    token = test_client.post(
        "/api/v1/auth/token", json={"resident_id": person, "password": password}
    ).json()["access_token"]
    mine = test_client.get("/api/v1/me/statement", headers={"Authorization": f"Bearer {token}"})
    assert mine.status_code == 200, mine.text
    assert mine.json()["worker"]["worker_id"] == made.workers["gz_worker"]
    assert mask(person) in mine.text and resident_ids_in(mine.text) == []
    estimate = test_client.get(
        "/api/v1/me/pension/estimate", headers={"Authorization": f"Bearer {token}"}
    )
    assert estimate.status_code == 200 and resident_ids_in(estimate.text) == []
