"""Broken object-level authorization (BOLA), as a matrix (issue 11 §2, §6): every route that
names an object (a worker, a transfer, a settlement window) × every kind of caller that may
not see a given object of it → refused, and that existing object answers exactly as an
unknown id does (the same status, problem type, title, field and detail but for the id), so
that a caller learns nothing of what exists. On SQLite and PostgreSQL.

The matrix is built from the app's routes: a route with a path parameter that ``ROUTES``
does not describe fails ``test_every_route_with_an_id_is_in_the_matrix``, so a new route is
covered as soon as it says what kind of object its id names. Five routes name the object in
their body (a pension or medical payment's worker, a transfer's or a gathering's worker, a
reversed month) and are listed by hand in ``BODY_ROUTES``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from suiren.api import access
from suiren.api.app import create_app
from suiren.services.settlement import close_window
from suiren.store.db import unit_of_work
from tests.api import settings_for
from tests.api.world import CLERK_OF, TODAY, World, populate
from tests.conftest import NOW, POSTGRES_URL, migrated_engine, release
from tests.worlds import populated

ALL_AGENCIES = ("national", "gd", "gz", "bj", "hz")
SESSIONS = {"gz_session": "gz_worker", "bj_session": "bj_worker"}  # a worker's own session
ACTORS = ("gz_session", "bj_session", "platform", "ride_platform", "analyst", "auditor",
          *ALL_AGENCIES, *CLERK_OF)  # fmt: skip
CLOSED_WINDOW = "2026-06-14"


@dataclass(frozen=True)
class ObjectKind:
    """The objects of one kind in the world: who may take each step on each of them (the
    step is the route's: ``view`` reads), and an id that names none."""

    allowed: dict[str, dict[str, frozenset[str]]]  # object -> step -> actors
    unknown: str

    def foreign(self, actor: str, step: str) -> str | None:
        """An existing object ``actor`` may not take ``step`` on (never the actor's own
        record); None when the actor may take it on every object (the national agency). A
        clerk's token may exactly what its region's agency key may: no more."""
        agency = CLERK_OF.get(actor, actor)
        for name, steps in self.allowed.items():
            if agency not in steps[step] and SESSIONS.get(actor) != name:
                return name
        return None


def _same(actors: set[str], *steps: str) -> dict[str, frozenset[str]]:
    return dict.fromkeys(steps, frozenset(actors))


WORKER_STEPS = ("view", "pay", "move", "end-sessions")
KINDS = {
    "worker": ObjectKind(
        {"gz_worker": _same({"gz", "gd", "national"}, *WORKER_STEPS),
         "bj_worker": _same({"bj", "national"}, *WORKER_STEPS)},
        "W000000000000",
    ),
    "transfer": ObjectKind(
        {"gz-to-hz": {**_same({"gz", "gd", "hz", "national"}, "view", "reject"),
                      "approve": frozenset({"gz", "gd", "national"}),
                      **_same({"hz", "national"}, "accept", "complete")},
         "bj-to-hz": {**_same({"bj", "hz", "national"}, "view", "reject"),
                      "approve": frozenset({"bj", "national"}),
                      **_same({"hz", "national"}, "accept", "complete")}},
        "no-such-transfer",
    ),
    "window": ObjectKind({CLOSED_WINDOW: _same({"national"}, "view", "close")}, "2026-06-13"),
    # a contribution month (PAYMENT-ID/YYYY-MM): the agencies over the region that recorded it
    "month": ObjectKind(
        {"paid-gz_worker/2026-01": _same({"gz", "gd", "national"}, "reverse"),
         "paid-bj_worker/2026-01": _same({"bj", "national"}, "reverse")},
        "no-such-payment/2026-01",
    ),
    # a worker as a platform engages them: only the platform that declared them; no agency
    "engaged": ObjectKind(
        {"gz_worker": _same({"platform"}, "view", "end"),
         "bj_worker": _same({"ride_platform"}, "view", "end")},
        "W000000000000",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class Route:
    """How a route names its object: the kind, the step it takes, and its request body
    (``{id}`` stands for the object's id; the world's names are mapped to ids)."""

    kind: str
    step: str
    body: dict[str, Any] | None = None


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/api/v1/workers/{worker_id}/statement"): Route("worker", "view"),
    ("GET", "/api/v1/workers/{worker_id}/pension/estimate"): Route("worker", "view"),
    ("GET", "/api/v1/workers/{worker_id}/medical/status"): Route("worker", "view"),
    ("POST", "/api/v1/workers/{worker_id}/sessions/end"): Route("worker", "end-sessions"),
    ("GET", "/api/v1/transfers/{transfer_id}"): Route("transfer", "view"),
    ("POST", "/api/v1/transfers/{transfer_id}/approve"): Route("transfer", "approve"),
    ("POST", "/api/v1/transfers/{transfer_id}/accept"): Route("transfer", "accept"),
    ("POST", "/api/v1/transfers/{transfer_id}/complete"): Route("transfer", "complete"),
    ("POST", "/api/v1/transfers/{transfer_id}/reject"): Route(
        "transfer", "reject", {"reason": "missing documents"}
    ),
    ("GET", "/api/v1/settlement/windows/{window}"): Route("window", "view"),
    ("POST", "/api/v1/settlement/windows/{window}/close"): Route("window", "close"),
    ("GET", "/api/v1/platform/workers/{worker_id}"): Route("engaged", "view"),
    ("POST", "/api/v1/platform/workers/{worker_id}/end"): Route("engaged", "end", {}),
}
BODY_ROUTES: dict[tuple[str, str], Route] = {
    ("POST", "/api/v1/contributions"): Route(
        "worker",
        "pay",
        {"payment_id": "bola-pay", "worker_id": "{id}", "from_month": "2026-06",
         "base_yuan": "8000"},
    ),
    ("POST", "/api/v1/medical/contributions"): Route(
        "worker",
        "pay",
        {"payment_id": "bola-pay", "worker_id": "{id}", "from_month": "2026-06",
         "base_yuan": "8000"},
    ),
    ("POST", "/api/v1/transfers"): Route(
        "worker", "move", {"transfer_id": "bola-move", "worker_id": "{id}", "to_region": "330100"}
    ),
    ("POST", "/api/v1/gatherings"): Route(
        "worker", "move", {"gather_id": "bola-gather", "worker_id": "{id}"}
    ),
    ("POST", "/api/v1/contributions/reversals"): Route(
        "month", "reverse", {"month_id": "{id}", "reversal_id": "bola-reversal"}
    ),
}  # fmt: skip
OPERATIONS = [(m, p) for m, p, _ in access.operations(create_app(settings_for()).routes)]
CELLS = [
    pytest.param(method, path, actor, id=f"{method} {path} as {actor}")
    for (method, path), route in {**ROUTES, **BODY_ROUTES}.items()
    for actor in ACTORS
    if KINDS[route.kind].foreign(actor, route.step) is not None
]


def test_every_route_with_an_id_is_in_the_matrix() -> None:
    with_ids = {(m, p) for m, p in OPERATIONS if "{" in p}
    assert with_ids == set(ROUTES), (
        f"routes with an id but no row in ROUTES (say what kind of object the id names): "
        f"{sorted(with_ids - set(ROUTES))}; rows for no route: {sorted(set(ROUTES) - with_ids)}"
    )
    assert set(BODY_ROUTES) <= set(OPERATIONS)
    assert len(CELLS) >= 80


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, World]]:
    folder = tmp_path_factory.mktemp("bola")
    engine, schema = migrated_engine(request.param, folder)
    made = populated(engine, populate)
    with unit_of_work(engine) as c:
        close_window(c, date.fromisoformat(CLOSED_WINDOW), NOW)
    engine.dispose()
    url = f"sqlite:///{folder / 'suiren.db'}" if schema is None else POSTGRES_URL
    with pytest.MonkeyPatch.context() as patch:
        if schema is not None:  # the app's own engine: the module's PostgreSQL schema
            patch.setenv("PGOPTIONS", f"-csearch_path={schema}")
        with TestClient(
            create_app(settings_for(url, today=TODAY)), raise_server_exceptions=False
        ) as client:
            yield client, made
    release(engine, schema)


def object_id(made: World, kind: str, name: str) -> str:
    ids = {"worker": made.workers, "engaged": made.workers, "transfer": made.transfers}
    return ids.get(kind, {}).get(name, name)


def send(client: TestClient, made: World, method: str, path: str, actor: str, oid: str) -> Any:
    route = ROUTES.get((method, path)) or BODY_ROUTES[(method, path)]
    url = re.sub(r"\{[a-z_]+\}", oid, path)
    body = route.body and {k: v.replace("{id}", oid) for k, v in route.body.items()}
    headers = made.auth(actor)
    if method == "POST":
        headers["Idempotency-Key"] = uuid.uuid4().hex
        if body and "payment_id" in body:
            body["payment_id"] = f"bola-{uuid.uuid4().hex[:12]}"
    return client.request(method, url, json=body, headers=headers)


def refusal(response: Any, oid: str) -> dict[str, Any]:
    """What a caller can tell from a refusal, with the id it named taken out."""
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    body = response.json()
    return {
        "status": response.status_code,
        **{k: str(body.get(k)).replace(oid, "<id>") for k in ("type", "title", "detail", "field")},
    }


@pytest.mark.parametrize(("method", "path", "actor"), CELLS)
def test_a_foreign_id_is_refused_exactly_as_an_unknown_one(world, method, path, actor) -> None:  # type: ignore[no-untyped-def]
    client, made = world
    route = ROUTES.get((method, path)) or BODY_ROUTES[(method, path)]
    kind = KINDS[route.kind]
    name = kind.foreign(actor, route.step)
    assert name is not None
    foreign = object_id(made, route.kind, name)
    foreign_answer = send(client, made, method, path, actor, foreign)
    unknown_answer = send(client, made, method, path, actor, kind.unknown)
    assert foreign_answer.status_code == 404, (name, foreign_answer.text)
    assert refusal(foreign_answer, foreign) == refusal(unknown_answer, kind.unknown)


def test_the_foreign_objects_exist_for_those_who_may_see_them(world) -> None:  # type: ignore[no-untyped-def]
    """The matrix's foreign ids are real: each object's own agency (its key, or its clerk's
    token) reads it."""
    client, made = world
    readers = [
        (f"/api/v1/workers/{made.workers['gz_worker']}/statement", "gz"),
        (f"/api/v1/workers/{made.workers['bj_worker']}/statement", "bj"),
        ("/api/v1/transfers/gz-to-hz", "hz"),
        ("/api/v1/transfers/bj-to-hz", "bj"),
        (f"/api/v1/settlement/windows/{CLOSED_WINDOW}", "national"),
        (f"/api/v1/workers/{made.workers['gz_worker']}/medical/status", "gz"),
        (f"/api/v1/workers/{made.workers['bj_worker']}/medical/status", "bj_clerk"),
        (f"/api/v1/workers/{made.workers['gz_worker']}/statement", "gz_clerk"),
        ("/api/v1/transfers/bj-to-hz", "bj_clerk"),
        (f"/api/v1/settlement/windows/{CLOSED_WINDOW}", "national_clerk"),
        (f"/api/v1/platform/workers/{made.workers['gz_worker']}", "platform"),
        (f"/api/v1/platform/workers/{made.workers['bj_worker']}", "ride_platform"),
    ]
    for path, actor in readers:
        response = client.get(path, headers=made.auth(actor))
        assert response.status_code == 200, (path, actor, response.text)
    mine = client.get("/api/v1/me/statement", headers=made.auth("gz_session"))
    assert mine.json()["worker"]["worker_id"] == made.workers["gz_worker"]
    medical = client.get("/api/v1/me/medical/status", headers=made.auth("gz_session"))
    assert medical.json()["worker_id"] == made.workers["gz_worker"]


# --- the declared rule is the enforced one, for the routes without an id in their path -----

AGENCY_ACTORS = frozenset({*ALL_AGENCIES, *CLERK_OF})
NATIONAL_ACTORS = frozenset({"national", "national_clerk"})
ADMITTED: dict[str, frozenset[str]] = {  # the kinds of caller each rule lets in at all
    access.AGENCY_OF_REGION: AGENCY_ACTORS,
    access.AGENCY_OF_WORKER: AGENCY_ACTORS,
    access.TRANSFER_PARTY: AGENCY_ACTORS,
    access.NATIONAL: NATIONAL_ACTORS,
    access.AUDITOR: NATIONAL_ACTORS | {"auditor"},
    access.ANALYST: NATIONAL_ACTORS | {"analyst"},
    access.PLATFORM: frozenset({"platform", "ride_platform"}),
    access.PLATFORM_OF_WORKER: frozenset({"platform", "ride_platform"}),
    access.WORKER_SELF: frozenset(SESSIONS),
}
CSV = {"Content-Type": "text/csv"}
# a request each route would take from a caller it admits ({gz_worker}: the world's id)
REQUESTS: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/workers"): {"json": {"resident_id": "{person}", "work_region": "440100"}},
    ("POST", "/api/v1/workers/files"): {
        "content": "resident_id,work_region\n{person},440100\n", "headers": CSV},
    ("POST", "/api/v1/workers/history"): {
        "content": "resident_id,region,from_month,to_month,kind,base_yuan\n"
                   "{person},440100,2010-01,2019-12,paid,5000\n", "headers": CSV},
    ("GET", "/api/v1/workers"): {},
    ("POST", "/api/v1/contributions"): {"json": {"payment_id": "kind", "worker_id": "{gz_worker}",
                                                 "from_month": "2026-06", "base_yuan": "8000"}},
    ("POST", "/api/v1/medical/contributions"): {
        "json": {"payment_id": "kind", "worker_id": "{gz_worker}", "from_month": "2026-06",
                 "base_yuan": "8000"}},
    ("POST", "/api/v1/contributions/files"): {
        "content": "payment_id,month,base_yuan,worker_id\nkind,2026-06,8000,{gz_worker}\n",
        "headers": CSV},
    ("POST", "/api/v1/contributions/reversals"): {
        "json": {"month_id": "paid-gz_worker/2026-01", "reversal_id": "kind-reversal"}},
    ("POST", "/api/v1/interest/credit"): {"json": {"year": 2025}},
    ("POST", "/api/v1/transfers"): {
        "json": {"transfer_id": "kind-move", "worker_id": "{gz_worker}", "to_region": "330100"}},
    ("POST", "/api/v1/gatherings"): {"json": {"gather_id": "kind", "worker_id": "{gz_worker}"}},
    ("GET", "/api/v1/transfers"): {},
    ("POST", "/api/v1/transfers/expired"): {},
    ("POST", "/api/v1/audit/verify"): {},
    ("POST", "/api/v1/audit/checkpoint"): {},
    ("GET", "/api/v1/aggregates/regions"): {},
    ("GET", "/api/v1/me/statement"): {},
    ("GET", "/api/v1/me/pension/estimate"): {},
    ("GET", "/api/v1/me/medical/status"): {},
    ("GET", "/api/v1/me/phone"): {},
    ("PUT", "/api/v1/me/phone"): {"json": {"phone": "13800138000", "code": "123456"}},
    ("DELETE", "/api/v1/me/phone"): {},
    ("POST", "/api/v1/me/sessions/end"): {},
    ("POST", "/api/v1/auth/logout"): {},
    ("POST", "/api/v1/platform/workers"): {
        "json": {"resident_id": "{person}", "work_region": "440100", "relation": "labour"}},
    ("GET", "/api/v1/platform/workers"): {},
}  # fmt: skip
RULE_OF = {
    (m, p): access.rule_of(e) for m, p, e in access.operations(create_app(settings_for()).routes)
}
KIND_CELLS = [
    pytest.param(method, path, actor, id=f"{method} {path} as {actor}")
    for (method, path) in REQUESTS
    for actor in ACTORS
    if actor not in ADMITTED[str(RULE_OF[(method, path)])]
]


def test_every_route_without_an_id_has_a_request_for_the_kind_matrix() -> None:
    open_to_all = (access.PUBLIC, access.ANY_ACTOR)
    wanted = {op for op, rule in RULE_OF.items() if "{" not in op[1] and rule not in open_to_all}
    assert wanted == set(REQUESTS), (
        f"routes with no request here: {sorted(wanted - set(REQUESTS))};"
        f" requests for no route: {sorted(set(REQUESTS) - wanted)}"
    )


@pytest.mark.parametrize(("method", "path", "actor"), KIND_CELLS)
def test_a_caller_the_rule_does_not_admit_gets_the_404(world, method, path, actor) -> None:  # type: ignore[no-untyped-def]
    """Whatever the route's body, a caller of a kind its declared rule does not admit is
    refused as if nothing were there, and nothing is written."""
    client, made = world
    from tests.ledger_helpers import resident_id

    fill = {"gz_worker": made.workers["gz_worker"], "person": resident_id(301)}
    request = {k: v for k, v in REQUESTS[(method, path)].items() if k != "headers"}
    if "json" in request:
        request["json"] = {k: v.format(**fill) if isinstance(v, str) else v
                           for k, v in request["json"].items()}  # fmt: skip
    if "content" in request:
        request["content"] = request["content"].format(**fill).encode()
    headers = {**made.auth(actor), **REQUESTS[(method, path)].get("headers", {})}
    if method == "POST":
        headers["Idempotency-Key"] = uuid.uuid4().hex
    answer = client.request(method, path, headers=headers, **request)
    assert answer.status_code == 404, (actor, answer.text)
    assert answer.json()["type"] == "urn:suiren:problem:not-found"
