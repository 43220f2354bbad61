"""HEAD is GET without the body (RFC 9110 §9.3.2), on every GET route of the API: the same
status and headers (a monitor's probe of the health route, a client checking a statement's
size), never a 405; a 405's ``Allow`` that names GET names HEAD too."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from suiren.api import access
from suiren.api.app import create_app
from suiren.api.auth import ActorKind, issue_key
from suiren.services.workers import enrol
from suiren.store.db import make_engine, unit_of_work
from tests.api import settings_for
from tests.conftest import KEYS, NOW, migrate
from tests.ledger_helpers import POLICY, VAULT, resident_id

GETS = sorted(
    path
    for method, path, _ in access.operations(create_app(settings_for()).routes)
    if method == "GET"
)
VARYING = {"date", "x-request-id"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    url = f"sqlite:///{tmp_path_factory.mktemp('head') / 'suiren.db'}"
    engine = make_engine(url, keys=KEYS)
    migrate(engine)
    with unit_of_work(engine) as c:
        key = issue_key(c, ActorKind.AGENCY, "000000", "国家", NOW)[0]
        worker = enrol(c, POLICY, VAULT, resident_id(1), "440100", None, NOW).worker.worker_id
    with TestClient(create_app(settings_for(url, today="2026-06-15"))) as client:
        yield client, {"Authorization": f"Bearer {key}"}, worker
    engine.dispose()


def test_every_get_route_is_listed() -> None:
    assert "/api/v1/health" in GETS and len(GETS) >= 10, GETS


@pytest.mark.parametrize("path", GETS)
def test_head_answers_as_get_without_the_body(world: Any, path: str) -> None:
    client, headers, worker = world
    url = re.sub(r"\{worker_id\}", worker, path)
    url = re.sub(r"\{[a-z_]+\}", "x", url)  # other ids: an unknown one, the same 404 either way
    got = client.get(url, headers=headers)
    head = client.head(url, headers=headers)
    assert head.status_code == got.status_code != 405, (url, got.status_code, head.status_code)
    assert head.content == b""
    kept = {k: v for k, v in got.headers.items() if k not in VARYING}
    assert {k: v for k, v in head.headers.items() if k not in VARYING} == kept, url
    assert int(head.headers["content-length"]) == len(got.content)


def test_a_405_names_head_beside_get(world: Any) -> None:
    client, headers, _ = world
    refused = client.post("/api/v1/health", headers=headers)
    assert refused.status_code == 405
    assert [m.strip() for m in refused.headers["allow"].split(",")] == ["GET", "HEAD"]
    posting_only = client.head("/api/v1/contributions", headers=headers)
    assert posting_only.status_code == 405 and "HEAD" not in posting_only.headers["allow"]


def test_a_transfer_step_read_with_get_is_405_whatever_the_transfer(world: Any) -> None:
    """``/transfers/ID/approve`` (and accept, complete, reject) take POST; read with GET or
    HEAD the path was a transfer status of the id ``ID/approve``, a 404 that said nothing of
    the method. The same 405 for an unknown transfer as for any: nothing is said of it."""
    client, headers, _ = world
    for step in ("approve", "accept", "complete", "reject"):
        for read in (client.get, client.head):
            refused = read(f"/api/v1/transfers/no-such-move/{step}", headers=headers)
            assert refused.status_code == 405, (step, refused.text)
            assert refused.headers["allow"] == "POST"
        body = client.get(f"/api/v1/transfers/GATHER-1/440100/{step}", headers=headers).json()
        assert body["type"] == "urn:suiren:problem:method-not-allowed", body
    unknown = client.get("/api/v1/transfers/no-such-move/approved", headers=headers)
    assert unknown.status_code == 404  # not a step: a transfer of that id, not found
