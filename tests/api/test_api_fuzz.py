"""Garbage to every route of the API: always an answer under 500, a problem+json for every
refusal, never a stack trace, and nothing written by a refused request (issue 11 §1)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from suiren.api import access
from suiren.api.app import create_app
from suiren.api.auth import ActorKind, issue_key
from suiren.services.workers import enrol
from suiren.store.api_tables import access_log, idempotency_keys
from suiren.store.db import make_engine, unit_of_work
from suiren.store.tables import journal
from tests.api import settings_for
from tests.conftest import KEYS, NOW, migrate
from tests.ledger_helpers import POLICY, VAULT, resident_id

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=12,
)
FIELDS = ["payment_id", "worker_id", "from_month", "to_month", "base_yuan", "resident_id",
          "work_region", "hukou_region", "transfer_id", "to_region", "reason", "code", "password",
          "region", "average_index", "contribution_years", "account_yuan", "divisor_months",
          "relation", "from", "until"]  # fmt: skip
FIELDISH = st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES | st.text(max_size=20), max_size=6)
SEGMENTS = st.sampled_from(
    ["W000000000000", "x", "%00", "..", "2026-13-01", "2026-02-30", "2026-06-14", "0" * 200, "中文"]
)
QUERY = st.dictionaries(
    st.sampled_from(
        ["cursor", "limit", "state", "retire", "base_ratio", "wage_growth", "interest", "paid_only"]
    ),
    st.sampled_from(["", "0", "-1", "1000", "2026-13", "1.5", "NaN", "true", "%%", "a" * 300]),
    max_size=3,
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{folder / 'suiren.db'}"
    engine = make_engine(url, keys=KEYS)
    migrate(engine)
    with unit_of_work(engine) as c:
        keys = [
            issue_key(c, ActorKind.AGENCY, "440100", "广州", NOW)[0],
            issue_key(c, ActorKind.AGENCY, "000000", "国家", NOW)[0],
            issue_key(c, ActorKind.AUDITOR, "", "审计", NOW)[0],
            issue_key(c, ActorKind.PLATFORM, "fuzz-co", "平台", NOW)[0],
        ]
        enrol(c, POLICY, VAULT, resident_id(1), "440100", None, NOW)
    settings = settings_for(url, today="2026-06-15")
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, keys, engine
    engine.dispose()


def counts(engine: Any) -> tuple[int, int, int]:
    with unit_of_work(engine) as c:
        return tuple(  # type: ignore[return-value]
            c.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (journal, access_log, idempotency_keys)
        )


OPERATIONS = sorted(
    (method, path) for method, path, _ in access.operations(create_app(settings_for()).routes)
)


ACTORS = ("none", "city agency", "national agency", "auditor", "platform")


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_garbage_to_every_route_is_a_problem_never_a_crash(
    world, method, path, actor, data
) -> None:  # type: ignore[no-untyped-def]
    client, keys, engine = world
    path = re.sub(r"\{[a-z_]+\}", lambda _: data.draw(SEGMENTS), path)
    method = data.draw(st.sampled_from([method, method, method, "PUT"]))
    headers = {}
    key = dict(zip(ACTORS, [None, *keys], strict=True))[actor]
    if key is not None:
        headers["Authorization"] = "Bearer " + key
    if data.draw(st.booleans()):
        headers["Idempotency-Key"] = data.draw(
            st.text(max_size=200).filter(lambda t: t.isascii() and "\n" not in t and "\r" not in t)
        )
    body = data.draw(FIELDISH | JSON_VALUES)
    before = counts(engine)
    try:
        content = json.dumps(body)
    except ValueError:
        content = "{"
    params = data.draw(QUERY)
    response = client.request(method, path, content=content, headers=headers, params=params)
    assert response.status_code < 500, (method, path, body, response.text)
    assert "Traceback" not in response.text
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json"), (
            response.text
        )
        problem = response.json()
        assert problem["type"].startswith("urn:suiren:problem:") and problem["detail"]
        assert counts(engine) == before, (method, path, body)
