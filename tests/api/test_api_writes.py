"""Every write of the app checks its caller again in its own transaction, on SQLite and on
PostgreSQL: the routes are the app's route table (every POST, PUT, PATCH and DELETE of the
API, the worker portal and the agency console), not a list written here, so a new write route
fails ``test_every_write_route_is_proved_or_exempt`` until it has a request below or a reason
in ``EXEMPT``.

Each write is sent by a caller whose credential is taken away *between* its authentication
(``actor_of``) and its write — an API key revoked, a clerk's sessions ended (their logout's
``end_clerk_sessions``), a worker's sessions ended — which the test does at that very point: ``common.authenticate``,
which ``actor_of`` calls, is wrapped so that the credential is taken away (in a transaction
of its own, committed) as soon as the caller was let in. The write must answer 401 and write
nothing: 401 can come from nothing after that point but the write's own check
(``auth.confirm_caller``). Then the credential is given back (a new key, a new login) and the same request must be done, so the request is one the route takes. The
portal's and the console's forms are taken the same way, their caller taken away after
``session.current`` (the worker's cookie) or ``desk_of`` (the clerk's) let them in: the
worker is sent to log in again, the clerk refused (401), and nothing is written."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, literal, select, union_all

from suiren.api import access
from suiren.api.app import create_app as create_api
from suiren.api.auth import ActorKind, issue_key, revoke_key
from suiren.api.routes import common
from suiren.portal.app import create_app
from suiren.services.clerks import end_clerk_sessions, get_clerk, sign_clerk_token
from suiren.services.identity import token_key
from suiren.services.logins import bind_phone, end_sessions, request_code, worker_token
from suiren.services.transfers import accept_transfer
from suiren.store.api_tables import api_metadata
from suiren.store.db import unit_of_work
from suiren.store.tables import metadata
from tests.api import assert_problem, settings_for
from tests.api.world import AGENCIES, CLERK_OF, OTHER_KEYS, World
from tests.conftest import NOW, SECRET
from tests.ledger_helpers import VAULT, resident_id

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WRITES = sorted(
    (method, path)
    for method, path, _ in access.operations(create_api(settings_for()).routes)
    if method in WRITE_METHODS
)
# the write routes that are not caller-authenticated, or that write nothing, and why
EXEMPT = {
    ("POST", "/api/v1/auth/code"): "public: asks for a one-time code; there is no caller",
    ("POST", "/api/v1/auth/register"): "public: sets a password with a code; no caller",
    ("POST", "/api/v1/auth/token"): "public: logs in; there is no caller yet",
    ("POST", "/api/v1/pension/calc"): "writes nothing (the calculator; proved below)",
    ("POST", "/api/v1/audit/verify"): "writes nothing (reads the ledger; proved below)",
    ("POST", "/api/v1/audit/checkpoint"): "writes nothing (signs the heads it reads; below)",
}
PAGE_WRITES = sorted(
    (method, path)
    for method, path, _ in access.operations(create_app(settings_for()).routes)
    if method in WRITE_METHODS and not path.startswith("/api/")
)
EXEMPT |= {
    ("POST", "/login"): "public: logs in with a password; there is no session yet",
    ("POST", "/login/code"): "public: asks for a one-time code; there is no session",
    ("POST", "/login/verify"): "public: logs in with a code; there is no session yet",
    ("POST", "/logout"): "public: ends the worker's sessions if the cookie is one, checked and"
    " ended in one transaction (the row held); a cookie ended meanwhile ends nothing",
    ("POST", "/console/login"): "public: a clerk logs in; there is no session yet",
    ("POST", "/console/logout"): "public: ends the clerk's sessions; one taken away meanwhile"
    " is only ended again",
}
PHONE = "13800138000"
CSV = {"Content-Type": "text/csv"}


@dataclass(frozen=True)
class Write:
    """A request the route takes from ``actor`` (a name of ``tests/api/world.py``):
    ``{gz_worker}``/``{bj_worker}`` stand for the world's ids, ``{person}`` for a resident id
    not enrolled; ``setup`` makes what the request needs first; ``done``: the statuses of the
    same request once the caller is let in again."""

    actor: str
    json: dict[str, Any] | None = None
    content: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    setup: Callable[[Any, World], None] | None = None
    done: frozenset[int] = frozenset({200, 201, 204})
    clerk_too: bool = True  # an agency's route: sent with its clerk's token as well


def _accepted(c: Any, _made: World) -> None:
    accept_transfer(c, "bj-to-hz", NOW)


def _code(c: Any, _made: World) -> None:
    request_code(c, VAULT, PHONE, NOW)


def _bound(c: Any, made: World) -> None:
    code = request_code(c, VAULT, PHONE, NOW)
    assert bind_phone(c, VAULT, made.workers["gz_worker"], PHONE, code, NOW)


PAYMENT = {"payment_id": "w-pay", "worker_id": "{gz_worker}", "from_month": "2026-06",
           "base_yuan": "8000"}  # fmt: skip
SAMPLES: dict[tuple[str, str], Write] = {
    ("POST", "/api/v1/workers"): Write(
        "gz", {"resident_id": "{person}", "work_region": "440100"}),
    ("POST", "/api/v1/workers/files"): Write(
        "gz", content="resident_id,work_region\n{person},440100\n", headers=CSV),
    ("POST", "/api/v1/workers/history"): Write(
        "gz", content="resident_id,region,from_month,to_month,kind,base_yuan\n"
                      "{person},440100,2010-01,2019-12,paid,5000\n", headers=CSV),
    ("POST", "/api/v1/workers/{gz_worker}/sessions/end"): Write("gz"),
    ("POST", "/api/v1/contributions"): Write("gz", PAYMENT),
    ("POST", "/api/v1/medical/contributions"): Write("gz", PAYMENT),
    ("POST", "/api/v1/contributions/files"): Write(
        "gz", content="payment_id,month,base_yuan,worker_id\nw-file,2026-06,8000,{gz_worker}\n",
        headers=CSV),
    ("POST", "/api/v1/contributions/reversals"): Write(
        "gz", {"month_id": "paid-gz_worker/2026-05", "reversal_id": "w-reversal"}),
    ("POST", "/api/v1/interest/credit"): Write("national", {"year": 2025}),
    ("POST", "/api/v1/transfers"): Write(
        "gz", {"transfer_id": "w-move", "worker_id": "{gz_worker}", "to_region": "330100"}),
    # nothing to gather for a worker of working age: refused by the service, in the write's
    # own transaction (after its check of the caller)
    ("POST", "/api/v1/gatherings"): Write(
        "gz", {"gather_id": "w-gather", "worker_id": "{gz_worker}"}, done=frozenset({422})),
    ("POST", "/api/v1/transfers/gz-to-hz/approve"): Write("gz"),
    ("POST", "/api/v1/transfers/bj-to-hz/accept"): Write("hz"),
    ("POST", "/api/v1/transfers/bj-to-hz/complete"): Write("hz", setup=_accepted),
    ("POST", "/api/v1/transfers/gz-to-hz/reject"): Write("gz", {"reason": "missing documents"}),
    ("POST", "/api/v1/transfers/expired"): Write("national"),
    ("POST", "/api/v1/settlement/windows/2026-06-14/close"): Write("national"),
    ("PUT", "/api/v1/me/phone"): Write("gz_session", {"phone": PHONE, "code": "{code}"},
                                       setup=_code),
    ("DELETE", "/api/v1/me/phone"): Write("gz_session", setup=_bound),
    ("POST", "/api/v1/me/sessions/end"): Write("gz_session"),
    ("POST", "/api/v1/auth/logout"): Write("gz_session"),
    ("POST", "/api/v1/platform/workers"): Write(
        "platform", {"resident_id": "{person}", "work_region": "440100", "relation": "labour"}),
    ("POST", "/api/v1/platform/workers/{gz_worker}/end"): Write("platform", {}),
}  # fmt: skip
# the portal's and the console's forms (the CSRF token is added), as their callers send them
PAGE_SAMPLES: dict[tuple[str, str], Write] = {
    ("POST", "/pay"): Write(
        "gz_session", {"month": "2026-06", "base_yuan": "8000", "nonce": "c" * 32},
        done=frozenset({200})),
    ("POST", "/move"): Write(
        "gz_session", {"to_region": "330100", "nonce": "d" * 32}, done=frozenset({303})),
    ("POST", "/account/phone/code"): Write(
        "gz_session", {"phone": PHONE}, done=frozenset({200})),
    ("POST", "/account/phone"): Write(
        "gz_session", {"phone": PHONE, "code": "{code}"}, setup=_code, done=frozenset({303})),
    ("POST", "/account/phone/remove"): Write(
        "gz_session", {}, setup=_bound, done=frozenset({303})),
    ("POST", "/account/sessions/end"): Write("gz_session", {}, done=frozenset({303})),
    ("POST", "/console/workers/{gz_worker}/sessions/end"): Write(
        "gz_clerk", {}, done=frozenset({303})),
    ("POST", "/console/transfers/gz-to-hz/approve"): Write("gz_clerk", {}, done=frozenset({303})),
    ("POST", "/console/transfers/bj-to-hz/accept"): Write(
        "national_clerk", {}, done=frozenset({303})),
    ("POST", "/console/transfers/bj-to-hz/complete"): Write(
        "national_clerk", {}, setup=_accepted, done=frozenset({303})),
    ("POST", "/console/transfers/gz-to-hz/reject"): Write(
        "gz_clerk", {"reason": "missing documents"}, done=frozenset({303})),
    ("POST", "/console/audit"): Write("national_clerk", {}, done=frozenset({200})),
}  # fmt: skip


def _route_of(method: str, url: str) -> tuple[str, str]:
    """The route (method, path template) that ``url`` is sent to."""
    import re

    for route_method, path in (*WRITES, *PAGE_WRITES):
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"
        if route_method == method and re.match(pattern, url.replace("{gz_worker}", "W0")):
            return route_method, path
    raise AssertionError(f"no write route takes {method} {url}")


def test_every_write_route_is_proved_or_exempt() -> None:
    """Every write route of the app has a request below or a reason it needs none — a new
    write route fails here until it has one; no row names a route that is gone."""
    samples = [*SAMPLES, *PAGE_SAMPLES]
    sampled = {_route_of(method, url) for method, url in samples}
    assert len(sampled) == len(samples), "two samples for one route"
    assert not sampled & set(EXEMPT)
    every = {*WRITES, *PAGE_WRITES}
    missing = sorted(every - sampled - set(EXEMPT))
    assert not missing, f"write routes with no request here nor reason in EXEMPT: {missing}"
    assert set(EXEMPT) <= every, sorted(set(EXEMPT) - every)
    assert len(WRITES) >= 25 and len(PAGE_WRITES) >= 15, (WRITES, PAGE_WRITES)
    rules = {(m, p): access.rule_of(e) for m, p, e in access.operations(create_app().routes)}
    for route, reason in EXEMPT.items():  # no caller, or nothing written (proved below)
        assert (rules[route] == access.PUBLIC) == reason.startswith("public"), route


def rows(engine: Any) -> dict[str, int]:
    """The rows of every table of the ledger and of the service (one statement: on
    PostgreSQL 7-12 ms instead of 25-40 ms a table at a time, measured)."""
    counts = union_all(
        *(
            select(literal(table.name), func.count()).select_from(table)
            for meta in (metadata, api_metadata)
            for table in meta.sorted_tables
        )
    )
    with unit_of_work(engine, read_only=True) as c:
        return {name: count for name, count in c.execute(counts)}


def take_away(c: Any, made: World, actor: str) -> None:
    """Revoke ``actor``'s key, or end their sessions (a clerk's: as their logout does)."""
    if actor in CLERK_OF:
        end_clerk_sessions(c, actor.replace("_", "."), NOW, "clerk:logged-out-meanwhile")
    elif actor.endswith("_session"):
        end_sessions(c, made.workers[actor.replace("_session", "_worker")], NOW)
    else:
        revoke_key(c, made.tokens[actor], NOW)


def give_back(c: Any, made: World, actor: str) -> str:
    """A credential for ``actor`` again: a new key, a new login."""
    if actor in CLERK_OF:
        clerk = get_clerk(c, actor.replace("_", "."))
        assert clerk is not None and clerk.generation > 0
        return sign_clerk_token(token_key(SECRET), clerk.login, NOW, clerk.generation)
    if actor.endswith("_session"):
        return worker_token(
            c, token_key(SECRET), made.workers[actor.replace("_session", "_worker")], NOW
        )
    if actor in AGENCIES:
        return issue_key(c, ActorKind.AGENCY, AGENCIES[actor], f"{actor} again", NOW)[0]
    kind, scope = OTHER_KEYS[actor]
    return issue_key(c, kind, scope, f"{actor} again", NOW)[0]


def _clerk_of(agency: str) -> str:
    """A clerk who is the agency's equal (the national clerk covers every region)."""
    return next((c for c, a in CLERK_OF.items() if a == agency), "national_clerk")


CELLS = [
    pytest.param(method, url, actor, id=f"{method} {url} as {actor}")
    for (method, url), sample in SAMPLES.items()
    for actor in (
        (sample.actor, _clerk_of(sample.actor))
        if sample.actor in AGENCIES and sample.clerk_too
        else (sample.actor,)
    )
]


def _request(made: World, method: str, url: str, code: str) -> dict[str, Any]:
    sample = SAMPLES[(method, url)]
    fill = {"gz_worker": made.workers["gz_worker"], "person": resident_id(601), "code": code}
    request: dict[str, Any] = {"headers": dict(sample.headers)}
    if sample.json is not None:
        request["json"] = {
            k: v.format(**fill) if isinstance(v, str) else v for k, v in sample.json.items()
        }
    if sample.content is not None:
        request["content"] = sample.content.format(**fill).encode()
    request["url"] = url.format(**fill)
    return request


@pytest.mark.parametrize(("method", "url", "actor"), CELLS)
def test_a_write_whose_caller_is_taken_away_meanwhile_writes_nothing(
    hostile, monkeypatch, method, url, actor
) -> None:  # type: ignore[no-untyped-def]
    """The caller let in, then their credential taken away before the write: 401 and not a
    row written; let in again, the same request is done."""
    client, made, engine = hostile
    sample = SAMPLES[(method, url)]
    code = ""
    if sample.setup is not None:
        with unit_of_work(engine) as c:
            if sample.setup is _code:  # the code is the request's
                code = request_code(c, VAULT, PHONE, NOW)
            else:
                sample.setup(c, made)
    request = _request(made, method, url, code)
    real = common.authenticate
    before: list[dict[str, int]] = []

    def then_taken_away(*args: Any, **kwargs: Any) -> Any:
        let_in = real(*args, **kwargs)  # ``actor_of``: the caller as the request found them
        if not before:
            with unit_of_work(engine) as c:
                take_away(c, made, actor)
            before.append(rows(engine))
        return let_in

    monkeypatch.setattr(common, "authenticate", then_taken_away)
    headers = {**request["headers"], **made.auth(actor), "Idempotency-Key": uuid.uuid4().hex}
    body = {k: v for k, v in request.items() if k in ("json", "content")}
    refused = client.request(method, request["url"], headers=headers, **body)
    assert before, "the caller was never let in"
    assert_problem(refused, 401, "unauthorized")
    assert rows(engine) == before[0], "written under a credential taken away"
    monkeypatch.setattr(common, "authenticate", real)
    with unit_of_work(engine) as c:
        again = give_back(c, made, actor)
    headers["Authorization"] = f"Bearer {again}"
    headers["Idempotency-Key"] = uuid.uuid4().hex
    done = client.request(method, request["url"], headers=headers, **body)
    assert done.status_code in sample.done, done.text


@pytest.mark.parametrize(
    ("path", "actor", "json"),
    [
        ("/api/v1/pension/calc", "gz", None),
        ("/api/v1/audit/verify", "auditor", None),
        ("/api/v1/audit/checkpoint", "auditor", None),
    ],
)
def test_the_exempt_writes_write_nothing(hostile, path: str, actor: str, json: Any) -> None:  # type: ignore[no-untyped-def]
    """The POSTs exempt because they write nothing write nothing, not a log line."""
    import json as json_module
    from pathlib import Path

    client, made, engine = hostile
    if path.endswith("/calc"):
        json = json_module.loads(Path("examples/case.json").read_text(encoding="utf-8"))
    before = rows(engine)
    answer = client.post(path, json=json, headers=made.auth(actor))
    assert answer.status_code == 200, answer.text
    assert rows(engine) == before


PAGE_CELLS = [
    pytest.param(method, url, id=f"{method} {url} as {sample.actor}")
    for (method, url), sample in PAGE_SAMPLES.items()
]


@pytest.mark.parametrize(("method", "url"), PAGE_CELLS)
def test_a_form_whose_caller_is_taken_away_meanwhile_writes_nothing(
    hostile, monkeypatch, method, url
) -> None:  # type: ignore[no-untyped-def]
    """A worker's or a clerk's form whose sessions end after the page let
    them in and before the write: the worker is sent to log in again, the clerk refused
    (401), and not a row is written; let in again, the same form is done."""
    from suiren.portal import session
    from suiren.portal.console import desk
    from tests.portal import csrf_of

    client, made, engine = hostile
    sample = PAGE_SAMPLES[(method, url)]
    actor, clerk = sample.actor, sample.actor in CLERK_OF
    code = ""
    if sample.setup is not None:
        with unit_of_work(engine) as c:
            if sample.setup is _code:
                code = request_code(c, VAULT, PHONE, NOW)
            else:
                sample.setup(c, made)

    def let_in(token: str) -> str:  # the caller's cookie; the CSRF token of their forms
        client.cookies.clear()
        if clerk:
            client.cookies.set("suiren_console", token, path="/console")
            return csrf_of(client.get("/console/transfers").text)
        client.cookies.set("suiren_session", token)
        return csrf_of(client.get("/account").text)

    form = {k: v.format(code=code) for k, v in (sample.json or {}).items()}
    url = url.format(gz_worker=made.workers["gz_worker"])
    form["csrf"] = let_in(made.tokens[actor])
    module, name = (desk, "desk_of") if clerk else (session, "current")
    real = getattr(module, name)
    before: list[dict[str, int]] = []

    def then_taken_away(*args: Any, **kwargs: Any) -> Any:
        let_in_now = real(*args, **kwargs)
        if not before:
            with unit_of_work(engine) as c:
                take_away(c, made, actor)
            before.append(rows(engine))
        return let_in_now

    monkeypatch.setattr(module, name, then_taken_away)
    refused = client.post(url, data=form, follow_redirects=False)
    assert before, "the caller was never let in"
    if clerk:
        assert refused.status_code == 401, refused.text
    else:
        assert refused.status_code == 303, refused.text
        assert refused.headers["location"] == "/login?notice=expired"
    assert rows(engine) == before[0], "written under a session taken away"
    monkeypatch.setattr(module, name, real)
    with unit_of_work(engine) as c:
        again = give_back(c, made, actor)
    form["csrf"] = let_in(again)
    done = client.post(url, data=form, follow_redirects=False)
    assert done.status_code in sample.done, done.text
