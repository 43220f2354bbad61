"""What a hostile or careless caller sends, on SQLite and on PostgreSQL: a NUL or a lone
surrogate in a path, a query or a body, JSON with a key twice, a body that is no JSON object,
a chunked body past the limit, a session token retyped, two Idempotency-Keys. Each is a clear
422 (or 413, or 401) problem and writes nothing — never a 503 "try again" for a request that
can never succeed, never a 500 (the fuzz test of every route runs on SQLite only, which stores
a NUL that PostgreSQL refuses)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from suiren.api import access
from suiren.api.body import JsonBodyRoute
from suiren.store.api_tables import access_log, idempotency_keys
from suiren.store.db import unit_of_work
from suiren.store.tables import contribution_months, journal
from tests.api import assert_problem, settings_for
from tests.api.world import World
from tests.cli.test_pension_cli import WORKED
from tests.ledger_helpers import resident_id

NUL_SEGMENT = "a%00b"


def written(engine: Any) -> tuple[int, ...]:
    with unit_of_work(engine) as c:
        return tuple(
            c.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (journal, access_log, idempotency_keys)
        )


def _post(client: TestClient, made: World, actor: str, path: str, content: Any, n: int) -> Any:
    headers = made.auth(actor) | {"Idempotency-Key": f"h-{n}", "Content-Type": "application/json"}
    if not isinstance(content, (str, bytes)):
        content = json.dumps(content)
    return client.post(path, content=content, headers=headers)


def test_a_nul_in_a_path_query_or_body_is_a_422_never_a_retry(hostile) -> None:  # type: ignore[no-untyped-def]
    """Every route with an id, each list's cursor and state, and the body fields that reach
    the database before anything else checks them: a NUL is refused as such (PostgreSQL
    cannot store or even compare it: it was a 503 "try again" there)."""
    client, made, engine = hostile
    before = written(engine)
    api = [(m, p) for m, p, _ in access.operations(client.app.routes) if p.startswith("/api/")]  # type: ignore[attr-defined]
    with_ids = [(m, p) for m, p in api if "{" in p]
    assert len(with_ids) >= 10, with_ids
    for n, (method, template) in enumerate(with_ids):
        path = re.sub(r"\{[a-z_]+\}", NUL_SEGMENT, template)
        for actor in ("national", "gz", "platform", "gz_session"):
            headers = made.auth(actor) | {"Idempotency-Key": f"p-{n}"}
            body = assert_problem(
                client.request(method, path, headers=headers), 422, "invalid-input"
            )
            assert body["field"] == "path" and "NUL" in body["detail"], body
    for path in ("/api/v1/workers", "/api/v1/transfers", "/api/v1/platform/workers"):
        actor = "platform" if path.startswith("/api/v1/platform") else "gz"
        for query, field in (
            ("cursor=AA", "cursor"),
            ("cursor=a%00", "cursor"),
            ("state=%00", "state"),
        ):
            refused = client.get(f"{path}?{query}", headers=made.auth(actor))
            assert assert_problem(refused, 422, "invalid-input")["field"] == field, query
    worker = made.workers["gz_worker"]
    bodies = [
        ("/api/v1/contributions", {"payment_id": "n", "worker_id": f"{worker}\x00",
                                   "from_month": "2026-06", "base_yuan": "6000"}),
        ("/api/v1/medical/contributions", {"payment_id": "n", "worker_id": f"{worker}\x00",
                                           "from_month": "2026-06", "base_yuan": "6000"}),
        ("/api/v1/transfers", {"transfer_id": "n", "worker_id": f"{worker}\x00",
                               "to_region": "330100"}),
        ("/api/v1/gatherings", {"gather_id": "n", "worker_id": f"{worker}\x00"}),
        ("/api/v1/transfers/gz-to-hz/reject", {"reason": "no\x00"}),
        ("/api/v1/workers/history", {"stints": [{"resident_id": "1\x00"}]}),
    ]  # fmt: skip
    for n, (path, content) in enumerate(bodies):
        detail = assert_problem(_post(client, made, "gz", path, content, n), 422, "invalid-request")
        assert "NUL" in detail["detail"], detail
    assert written(engine) == before


def test_a_query_parameter_named_twice_is_refused_on_every_route(hostile) -> None:  # type: ignore[no-untyped-def]
    """``?state=rejected&state=requested`` was read as its last value (FastAPI's), while a
    proxy or a firewall in front may check the first: every route of the app — the API's a
    422 problem naming the parameter, the portal's and the console's a refusal page — refuses
    it before reading anything, as it refuses two Idempotency-Keys."""
    client, made, _engine = hostile
    routes = [(m, p) for m, p, _ in access.operations(client.app.routes)]  # type: ignore[attr-defined]
    assert len([p for _, p in routes if not p.startswith("/api/")]) >= 10, routes
    for n, (method, template) in enumerate(routes):
        path = re.sub(r"\{[a-z_]+(:path)?\}", "x", template) + "?state=rejected&state=requested"
        headers = made.auth("gz") | {"Idempotency-Key": f"q-{n}"}
        answer = client.request(method, path, headers=headers)
        if template.startswith("/api/"):
            body = assert_problem(answer, 422, "invalid-input")
            assert body["field"] == "state" and "'state'" in body["detail"], (path, body)
        else:
            assert answer.status_code == 422, (path, answer.status_code)
            assert answer.headers["content-type"].startswith("text/html"), path
    listed = client.get("/api/v1/transfers?state=approved&limit=5&state=requested",
                        headers=made.auth("bj") | {"Accept-Language": "en"})  # fmt: skip
    said = assert_problem(listed, 422, "invalid-input")["detail"]
    assert said == "the query parameter 'state' is sent twice; send each once", said
    assert client.get("/api/v1/transfers?state=approved&limit=5", headers=made.auth("bj")).json()[
        "items"
    ], "one of each is a list as before"


def test_a_path_with_a_slash_added_is_an_unknown_path_never_a_redirect(hostile) -> None:  # type: ignore[no-untyped-def]
    """``/api/v1/transfers/`` was answered 307 with no body, to an absolute URL built from the
    request's ``Host`` header (``http://evil.example/api/v1/transfers``): on every route of
    the app a path with a slash added is an unknown one — the API's 404 problem (405 where
    another method's route takes the slash as an id), the portal's 404 page — never a
    redirect to where the Host header says."""
    client, made, _engine = hostile
    routes = [(m, p) for m, p, _ in access.operations(client.app.routes)]  # type: ignore[attr-defined]
    for n, (method, template) in enumerate(routes):
        path = re.sub(r"\{[a-z_]+\}", "x", template).replace(":path}", "") + "/"
        if path.endswith("//") or "{" in path or path in {p for _, p in routes}:
            continue  # "/" itself; a {…:path} id takes the slash as its own; "/console/"
        headers = made.auth("gz") | {"Host": "evil.example", "Idempotency-Key": f"s-{n}"}
        answer = client.request(method, path, headers=headers, follow_redirects=False)
        location = answer.headers.get("location", "")
        assert answer.status_code != 307 and "evil" not in location, (method, path, location)
        if path.startswith("/api/"):  # 405 where another method's route takes the slash as
            # an id (POST /transfers/); a page of the console's may send to its login page
            assert answer.status_code in (404, 405), (method, path, answer.status_code)
            code = "not-found" if answer.status_code == 404 else "method-not-allowed"
            assert_problem(answer, answer.status_code, code)


def test_a_lone_surrogate_is_refused_never_echoed_into_a_500(hostile) -> None:  # type: ignore[no-untyped-def]
    """``\\ud800`` is valid JSON text but no character: refused where a body is read, and a
    refusal that echoes one (the calculator names an unknown field) is still an answer."""
    client, made, engine = hostile
    before = written(engine)
    worker = made.workers["gz_worker"]
    payment = {"payment_id": "s\ud800", "worker_id": worker, "from_month": "2026-06",
               "base_yuan": "6000"}  # fmt: skip
    refused = _post(client, made, "gz", "/api/v1/contributions", payment, 0)
    detail = assert_problem(refused, 422, "invalid-request")["detail"]
    assert detail == "请求体的 'payment_id' 含有 孤立的代理项（\\ud800-\\udfff），它不是字符"
    echoed = _post(client, made, "gz", "/api/v1/pension/calc", '{"region\\ud800": "440100"}', 1)
    assert_problem(echoed, 422, "invalid-case")
    assert "\\ud800" in echoed.content.decode("utf-8")  # shown escaped, as it was sent
    case = json.dumps(WORKED | {"id": "X"}).replace('"X"', '"\\ud800"')  # echoed in its result
    refused = assert_problem(_post(client, made, "gz", "/api/v1/pension/calc", case, 2), 422,
                             "invalid-input")  # fmt: skip
    assert refused["detail"] == "'id' 的值含有孤立的代理项（\\ud800-\\udfff），它不是字符"
    assert written(engine) == before


def test_json_is_read_strictly_on_every_route_with_a_body(hostile) -> None:  # type: ignore[no-untyped-def]
    """A key twice (which value would a proxy have checked?), NaN, another encoding: refused
    with what was wrong, before anything is written — as the calculator always refused them."""
    client, made, engine = hostile
    before = written(engine)
    worker = made.workers["gz_worker"]
    twice = (
        '{"payment_id": "first", "payment_id": "second", "worker_id": "' + worker + '",'
        ' "from_month": "2026-06", "base_yuan": "6000"}'
    )
    cases = [
        ("/api/v1/contributions", twice, "请求体的同一对象中 'payment_id' 出现了两次"),
        ("/api/v1/workers/history", '{"stints": [{"resident_id": "1", "resident_id": "2"}]}',
         "请求体的同一对象中 'resident_id' 出现了两次"),
        ("/api/v1/interest/credit", '{"year": NaN}', "请求体含有 NaN，它不是 JSON 数字"),
        ("/api/v1/transfers", json.dumps({"transfer_id": "x"}).encode("utf-16"),
         "请求体不是 UTF-8 文本"),
        ("/api/v1/transfers", "{" * 3 + "}", "请求体不是有效的 JSON："),
        ("/api/v1/transfers", "[" * 100_000 + "]" * 100_000, "请求体的 JSON 嵌套过深"),
        ("/api/v1/interest/credit", '{"year": ' + "9" * 5_000 + "}", "JSON 中的整数超过 40 位"),
        ("/api/v1/transfers", '{"transfer_id": "x", "n": -' + "1" * 41 + "}", "整数超过 40 位"),
    ]  # fmt: skip
    for n, (path, content, said) in enumerate(cases):
        actor = "national" if "interest" in path else "gz"
        refused = assert_problem(
            _post(client, made, actor, path, content, n), 422, "invalid-request"
        )
        assert said in refused["detail"], (path, refused)
        assert "sys." not in refused["detail"], refused  # never Python's words about itself
    assert written(engine) == before


def test_an_integer_is_read_only_as_a_json_integer(hostile) -> None:  # type: ignore[no-untyped-def]
    """The one integer of a body (the interest's ``year``): a float, a string, a boolean, a
    number past int64 or a bound are each refused with what was wrong; pydantic's lax mode
    took 2025.0, "2025" (and true, as 1, said "at least 1998")."""
    client, made, engine = hostile
    before = written(engine)
    cases = [("2025.0", "应为整数"), ('"2025"', "应为整数"), ("true", "应为整数"),
             ("2025.5", "应为整数"), ("1e400", "应为整数"), ("-2025", "应大于或等于 1998"),
             ("0", "应大于或等于 1998"), (str(2**64), "应小于或等于 2200")]  # fmt: skip
    for n, (year, said) in enumerate(cases):
        content = '{"year": ' + year + "}"
        refused = _post(client, made, "national", "/api/v1/interest/credit", content, n)
        body = assert_problem(refused, 422, "invalid-request")
        assert body["field"] == "year" and said in body["detail"], (year, body)
    assert written(engine) == before


def test_a_reason_or_a_memo_is_one_line_of_printable_text(hostile) -> None:  # type: ignore[no-untyped-def]
    """A rejection's reason and a reversal's memo are kept (the transfer's steps, the journal)
    and shown again — in a terminal, on the console's and the portal's pages: a line break,
    a terminal's escape (ESC, or C1's CSI), DEL, a direction override (U+202E shows the text
    reversed) or a zero-width character is refused as the CLI refuses it in ``--reason``
    and ``--memo``, and nothing is written. The reason was kept as sent; the memo refused
    only ASCII's controls."""
    client, made, engine = hostile
    before = written(engine)
    unfit = ["a\nb", "a\x1b[31mred", "a\x9b31mred", "a\x7f", "\u202eevil", "a\u200bb"]
    for n, text in enumerate(unfit):
        for path, body in (
            ("/api/v1/transfers/gz-to-hz/reject", {"reason": text}),
            ("/api/v1/contributions/reversals",
             {"month_id": "paid-gz_worker/2026-01", "reversal_id": f"r-{n}", "memo": text}),
        ):  # fmt: skip
            refused = assert_problem(_post(client, made, "gz", path, body, n), 422, "invalid-input")
            assert "一行可打印的文字" in refused["detail"], (text, refused)
            client.headers["Accept-Language"] = "en"
            said = _post(client, made, "gz", path, body, n).json()["detail"]
            client.headers.pop("Accept-Language")
            assert "one line of printable text" in said, said
    for n, blank in enumerate([" ", "\t", "\u3000 "]):  # the console's form refuses these too
        body = {"reason": blank}
        path = "/api/v1/transfers/gz-to-hz/reject"
        refused = assert_problem(
            _post(client, made, "gz", path, body, 50 + n), 422, "invalid-input"
        )
        assert "拒绝理由不能只有空白" in refused["detail"], (blank, refused)
    assert written(engine) == before
    kept = {"reason": "材料不全 — see the file\t(2)"}  # any script, a dash, a tab
    taken = _post(client, made, "gz", "/api/v1/transfers/gz-to-hz/reject", kept, 99)
    assert taken.status_code == 200, taken.text


def test_a_body_that_is_no_json_object_says_what_to_send(hostile) -> None:  # type: ignore[no-untyped-def]
    client, made, _engine = hostile
    path = "/api/v1/transfers/gz-to-hz/reject"
    cases = [
        ("text/plain", '{"reason": "x"}', "Content-Type: application/json（当前为：text/plain）",
         "Content-Type"),
        (None, '{"reason": "x"}', "Content-Type: application/json（当前为：空）", "Content-Type"),
        ("application/json", "", "请求须以一个 JSON 对象作为请求体", None),
        ("application/json", "[1]", "请求体须为 JSON 对象（{…}）", None),
    ]  # fmt: skip
    for n, (kind, content, said, field) in enumerate(cases):
        headers = made.auth("gz") | {"Idempotency-Key": f"o-{n}"}
        if kind is not None:
            headers["Content-Type"] = kind
        refused = client.post(path, content=content, headers=headers)
        body = assert_problem(refused, 422, "invalid-request")
        assert said in body["detail"] and body.get("field") == field, body


def test_a_chunked_body_past_the_limit_is_413_and_an_upload_has_its_own(
    hostile, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """A body without a Content-Length (chunked) is counted as it streams: past the limit,
        413, on every route that reads a body (it was read whole, however long; a route that
    reads none never holds it). The history
        route is an upload: its limit is an upload's, by its length as by its stream — but a
    history sent as JSON is read whole into memory, as any JSON body, and has a JSON body's
    limit (it had an upload's: 100 MB of rows parsed on the event loop, seconds and
    gigabytes, before its 10,000 rows were counted)."""
    from suiren.api import app as api_app

    client, made, engine = hostile
    monkeypatch.setattr(api_app, "BODY_BYTES_MAX", 256)
    before = written(engine)
    long_body = json.dumps({"reason": "x" * 1000}).encode()
    described = client.get("/api/v1/openapi.json").json()["paths"]
    json_posts = [  # every route with a JSON body, and the calculator, which reads its own
        path
        for path, operations in described.items()
        if "requestBody" in operations.get("post", {}) and not path.endswith("/history")
    ] + ["/api/v1/pension/calc"]
    assert len(json_posts) >= 12, json_posts
    for n, template in enumerate(json_posts):
        path = re.sub(r"\{[a-z_]+\}", "gz-to-hz", template)
        pieces = iter([long_body[i : i + 100] for i in range(0, len(long_body), 100)])
        headers = made.auth("gz") | {
            "Idempotency-Key": f"c-{n}",
            "Content-Type": "application/json",
        }
        streamed = client.post(path, content=pieces, headers=headers)
        assert "content-length" not in streamed.request.headers
        assert_problem(streamed, 413, "too-large")
    history = ("resident_id,region\n" + "x" * 300 + "\n").encode()  # past 256, an upload
    headers = made.auth("gz") | {"Idempotency-Key": "hist", "Content-Type": "text/csv"}
    answer = client.post("/api/v1/workers/history", content=history, headers=headers)
    assert answer.status_code != 413, answer.text
    as_json = json.dumps({"stints": [{"resident_id": "x" * 300}]}).encode()
    headers = made.auth("gz") | {"Content-Type": "application/json; charset=utf-8"}
    for n, content in enumerate((as_json, iter([as_json[:100], as_json[100:]]))):
        sent = client.post("/api/v1/workers/history", content=content,
                           headers=headers | {"Idempotency-Key": f"hist-json-{n}"})  # fmt: skip
        assert_problem(sent, 413, "too-large")
    assert written(engine)[0] == before[0]


def test_a_session_token_is_read_only_as_it_was_issued(hostile) -> None:  # type: ignore[no-untyped-def]
    """A worker's or a clerk's token with padding added or a character outside its alphabet
    is not that token (base64 decoders skip such characters)."""
    client, made, _engine = hostile
    for actor, path in (("gz_session", "/api/v1/me/phone"), ("gz_clerk", "/api/v1/workers")):
        token = made.tokens[actor]
        assert client.get(path, headers=made.auth(actor)).status_code == 200
        body, mac = token.split(".")
        for retyped in (token + "==", token + "=", f"{body}.!{mac}", f"{body}=.{mac}"):
            answer = client.get(path, headers={"Authorization": f"Bearer {retyped}"})
            assert_problem(answer, 401, "unauthorized")


def test_the_bearer_scheme_is_read_in_any_case_and_nothing_else_is_it(hostile) -> None:  # type: ignore[no-untyped-def]
    """``Authorization: bearer <key>`` (RFC 9110 §11.1: the scheme is case-insensitive; some
    HTTP libraries write it so) was refused 401 on every route: it is the caller, on each way a
    route reads one — a route's actor, a kept worker read (an agency's or a worker's own), a
    route that checks the bearer itself, a write's own check of its caller; what is no
    ``Bearer`` scheme followed by a space stays refused."""
    client, made, engine = hostile
    worker = made.workers["gz_worker"]
    reads = [
        ("/api/v1/transfers", "gz"),
        (f"/api/v1/workers/{worker}/statement", "gz"),
        ("/api/v1/me/statement", "gz_session"),
        ("/api/v1/me/pension/estimate", "gz_session"),
        ("/api/v1/workers", "gz_clerk"),
    ]
    for path, actor in reads:
        token = made.tokens[actor]
        expected = client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert expected.status_code == 200, (path, expected.text)
        for scheme in ("bearer", "BEARER", "beaRer"):
            answer = client.get(path, headers={"Authorization": f"{scheme} {token}"})
            assert answer.status_code == 200 and answer.json() == expected.json(), (path, scheme)
        for other in (f"Bearer{token}", f"Basic {token}", f"Bearer\t{token}", f"Bearers {token}"):
            assert_problem(client.get(path, headers={"Authorization": other}), 401, "unauthorized")
    before = written(engine)
    headers = {"Authorization": f"bearer {made.tokens['gz']}", "Idempotency-Key": "lower"}
    rejected = client.post("/api/v1/transfers/gz-to-hz/reject", json={"reason": "no"},
                           headers=headers)  # fmt: skip
    assert rejected.status_code == 200, rejected.text
    assert written(engine) != before


def test_two_idempotency_keys_in_one_request_are_refused(hostile) -> None:  # type: ignore[no-untyped-def]
    client, made, engine = hostile
    before = written(engine)
    headers = [
        ("Authorization", made.auth("gz")["Authorization"]),
        ("Idempotency-Key", "one"),
        ("Idempotency-Key", "two"),
    ]
    refused = client.post(
        "/api/v1/transfers/gz-to-hz/reject", json={"reason": "why"}, headers=headers
    )
    assert assert_problem(refused, 422, "invalid-input")["field"] == "Idempotency-Key"
    assert written(engine) == before


def test_two_authorization_headers_are_refused_never_one_of_them_taken(hostile) -> None:  # type: ignore[no-untyped-def]
    """A proxy and this service might each take another of two ``Authorization`` headers:
    refused (401) on every way a route reads its caller — a route's actor, a kept worker read
    (an agency's or a worker's own), a route that checks the bearer itself."""
    client, made, _ = hostile
    national, worker = made.auth("national")["Authorization"], made.workers["gz_worker"]
    session = made.auth("gz_session")["Authorization"]
    for path, first in [
        ("/api/v1/transfers", national),
        (f"/api/v1/workers/{worker}/statement", national),
        ("/api/v1/me/statement", session),
        ("/api/v1/aggregates/regions", national),
    ]:
        assert client.get(path, headers={"Authorization": first}).status_code == 200, path
        for second in (first, "Bearer sk_nobody_nothing", "Basic eDp5"):
            twice = client.get(path, headers=[("Authorization", first), ("Authorization", second)])
            assert_problem(twice, 401, "unauthorized")


def test_a_value_the_database_cannot_store_is_refused_not_retried(hostile, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Whatever input still reaches the database and is refused as data (SQLSTATE class 22)
    is a 422 in the API and in the portal: sending it again would fail again."""
    from sqlalchemy.exc import DataError

    from suiren.services import transfers

    def unstorable(*_args: Any, **_kwargs: Any) -> Any:
        raise DataError("UPDATE transfers ...", {}, ValueError("a value out of range"))

    monkeypatch.setattr(transfers, "reject_transfer", unstorable)
    client, made, _engine = hostile
    refused = _post(client, made, "gz", "/api/v1/transfers/gz-to-hz/reject", {"reason": "r"}, 0)
    detail = assert_problem(refused, 422, "invalid-request")["detail"]
    assert detail == "请求中有数据库无法存储的值；未写入任何内容"


def _api_routes(routes: Any) -> Iterator[Any]:
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _api_routes(included.routes)
        elif isinstance(route, APIRoute):
            yield route


def test_every_route_of_the_api_reads_its_body_strictly() -> None:
    """Each area's router gives its routes the strict reader (``api.body``): a new area
    whose router forgets it fails here."""
    from suiren.api.app import create_app as create_api

    routes = list(_api_routes(create_api(settings_for()).routes))
    assert len(routes) >= 40
    loose = sorted(r.path for r in routes if not isinstance(r, JsonBodyRoute))
    assert not loose, f"routes that read JSON as FastAPI does: {loose}"


RACES = {  # a route, two bodies under one Idempotency-Key, the service call both reach
    "a payment id taken by the other": (
        "/api/v1/contributions",
        lambda made: [
            {"payment_id": "race-pay", "worker_id": made.workers["gz_worker"],
             "from_month": "2026-06", "base_yuan": base}
            for base in ("6000", "6001")
        ],
        ("suiren.services.contributions", "contribute"),
    ),
    "two people": (
        "/api/v1/workers",
        lambda _made: [
            {"resident_id": resident_id(n), "work_region": "440100"} for n in (401, 402)
        ],
        ("suiren.services.workers", "enrol"),
    ),
}  # fmt: skip


@pytest.mark.parametrize("race", sorted(RACES))
def test_two_bodies_racing_under_one_key_are_told_the_key_is_reused(
    hostile, monkeypatch, race
) -> None:  # type: ignore[no-untyped-def]
    """Two requests under one Idempotency-Key with other bodies, at once: one is answered,
    the other refused as a reused key (422) on both databases, and one is written. On
    PostgreSQL both looked for the key before either wrote (a barrier in the service): the
    loser's payment id was taken by the winner's payment, which it answered 409
    transaction-conflict, and a request the database let through first answered otherwise
    than one that came second. SQLite's writers queue whole transactions: there the second
    finds the key stored."""
    import importlib
    import threading

    client, made, engine = hostile
    path, bodies, (module_name, name) = RACES[race]
    if engine.dialect.name == "postgresql":
        module = importlib.import_module(module_name)
        both_looked = threading.Barrier(2, timeout=30)
        once = getattr(module, name)

        def after_both_looked(*args: Any, **kwargs: Any) -> Any:
            both_looked.wait()  # broken (a 500) if the requests cannot run side by side
            return once(*args, **kwargs)

        monkeypatch.setattr(module, name, after_both_looked)
    before = written(engine)
    start = threading.Barrier(2)
    answers: list[Any] = [None, None]

    def send(i: int, body: dict[str, str]) -> None:
        start.wait()
        answers[i] = _post(client, made, "gz", path, body, 0)  # both: Idempotency-Key h-0

    threads = [threading.Thread(target=send, args=pair) for pair in enumerate(bodies(made))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won = [a for a in answers if a.status_code == 201]
    lost = [a for a in answers if a.status_code != 201]
    assert len(won) == 1, [a.text for a in answers]
    assert_problem(lost[0], 422, "idempotency-key-reused")
    assert written(engine)[1:] == (before[1] + 1, before[2] + 1)  # one logged, one key kept


@pytest.mark.parametrize("actor", ["gz", "gz_clerk"])
def test_a_write_whose_caller_is_revoked_meanwhile_writes_nothing(
    hostile, monkeypatch, actor
) -> None:  # type: ignore[no-untyped-def]
    """A key revoked (or a clerk moved to another region's desk) after the request was let
    in and before its write: the write checks its caller again in its own transaction and
    writes nothing (401); it was written under a key revoked before it committed."""
    import threading

    from starlette.concurrency import run_in_threadpool

    from suiren.api.auth import revoke_key
    from suiren.api.routes import common
    from suiren.services.clerks import move_clerk
    from tests.conftest import NOW

    client, made, engine = hostile
    let_in, go_on = threading.Event(), threading.Event()
    read_body = common._request_content

    async def held(request: Any) -> bytes:  # after ``actor_of``, before the write
        let_in.set()
        await run_in_threadpool(go_on.wait, 30)
        return await read_body(request)

    monkeypatch.setattr(common, "_request_content", held)
    payment = {"payment_id": "revoked-meanwhile", "worker_id": made.workers["gz_worker"],
               "from_month": "2026-06", "base_yuan": "6000"}  # fmt: skip
    before = written(engine)
    answer: list[Any] = []
    request = threading.Thread(
        target=lambda: answer.append(
            _post(client, made, actor, "/api/v1/contributions", payment, 0)
        )
    )
    request.start()
    assert let_in.wait(30)
    with unit_of_work(engine) as c:
        if actor == "gz":
            revoke_key(c, made.tokens["gz"], NOW)
        else:
            move_clerk(c, "gz.clerk", "110000", NOW)
    go_on.set()
    request.join()
    assert_problem(answer[0], 401, "unauthorized")
    assert written(engine)[1:] == before[1:]  # (the journal holds the revocation)
    with unit_of_work(engine) as c:
        months = select(func.count()).where(contribution_months.c.tx_id.like("revoked-%"))
        assert c.execute(months).scalar_one() == 0


def test_a_json_history_sent_again_in_another_order_is_the_same_request(hostile) -> None:  # type: ignore[no-untyped-def]
    """``POST /workers/history`` reads its JSON body itself: under one Idempotency-Key its
    content is compared, as every JSON body's is (it compared the bytes: a client that
    serialised the same rows again, in another key order or after a byte-order mark, was
    refused as reusing the key)."""
    client, made, _engine = hostile
    stint = {"resident_id": resident_id(410, "19800301"), "region": "440100",
             "from_month": "2010-01", "to_month": "2019-12", "kind": "paid",
             "base_yuan": "5000"}  # fmt: skip
    path = "/api/v1/workers/history"
    first = _post(client, made, "gz", path, {"stints": [stint]}, 0)
    assert first.status_code == 200, first.text
    for again in (
        json.dumps({"stints": [dict(reversed(stint.items()))]}, indent=2),
        b"\xef\xbb\xbf" + json.dumps({"stints": [stint]}).encode(),
    ):
        retried = _post(client, made, "gz", path, again, 0)
        assert (retried.status_code, retried.json()) == (200, first.json())
    other = _post(client, made, "gz", path, {"stints": [{**stint, "base_yuan": "5001"}]}, 0)
    assert_problem(other, 422, "idempotency-key-reused")


def test_a_refused_upload_does_not_name_where_the_server_kept_it(hostile) -> None:  # type: ignore[no-untyped-def]
    """An upload is written to a temporary folder before it is read: a refusal of it names
    the file as the route calls it, never the server's folder (an empty file was "/tmp/
    suiren-upload-…/payments.csv is empty")."""
    import tempfile

    client, made, engine = hostile
    before = written(engine)
    bodies = [
        ("text/csv", b""),
        ("application/vnd.apache.parquet", b""),
        ("application/vnd.apache.parquet", b"PAR1\x00\x00"),
        ("application/vnd.apache.parquet", b"PAR1" + b"\x00" * 64 + b"PAR1"),
        ("text/csv", b"resident_id\x00,region\n"),
        ("text/csv", b"\xff\xfe,\n"),
    ]
    routes = ("contributions/files", "workers/files", "workers/history")
    for n, (route, (kind, body)) in enumerate((r, b) for r in routes for b in bodies):
        headers = made.auth("gz") | {"Idempotency-Key": f"u-{n}", "Content-Type": kind}
        refused = client.post(f"/api/v1/{route}", content=body, headers=headers)
        assert_problem(refused, 422, "file-refused")
        for where in (tempfile.gettempdir(), "suiren-upload-"):
            assert where not in refused.text, (route, kind, body, refused.text)
    assert written(engine) == before


LONG_ID = "w" * 5_000


@pytest.mark.parametrize("actor", ["gz", "platform", "auditor"])
def test_a_404_repeats_at_most_the_start_of_a_long_id(hostile, actor: str) -> None:  # type: ignore[no-untyped-def]
    """Every GET of the API whose path names an id, sent a 5,000-character one, answers a
    problem that repeats at most ``access.ID_SHOWN_MAX`` characters of it (three routes
    echoed the whole id; the others cut it at 40, 60 or 120)."""
    from suiren.api.app import create_app as create_api

    client, made, _engine = hostile
    headers = made.auth(actor)
    paths = sorted(
        {
            route.path
            for route in _api_routes(create_api(settings_for()).routes)
            if "GET" in route.methods and "{" in route.path
        }
    )
    assert len(paths) >= 5, paths
    for path in paths:
        url = re.sub(r"\{[^}]+\}", LONG_ID, path)
        answer = client.get(url if url.startswith("/api/") else "/api/v1" + url, headers=headers)
        assert 400 <= answer.status_code < 500, (path, answer.status_code, answer.text[:300])
        assert answer.headers["content-type"].startswith("application/problem+json"), (
            path,
            answer.status_code,
            answer.text[:200],
        )
        detail = answer.json().get("detail", "")
        assert "w" * (access.ID_SHOWN_MAX + 1) not in detail, (path, detail[:200])


def test_an_upload_sent_again_as_another_kind_of_file_is_another_request(hostile) -> None:  # type: ignore[no-untyped-def]
    """An Idempotency-Key's request is the bytes *and* the media type they were sent as: the
    same bytes sent again as Parquet, or a history's JSON sent again as a CSV stints file,
    under the key are refused as reusing it (422), never answered with the first's kept
    answer (the key hashed only the bytes); the same media type spelled otherwise
    (``; charset=utf-8``, upper case) is the same request and replays."""
    client, made, engine = hostile
    stint = {"from_month": "2010-01", "kind": "paid", "region": "440100",
             "resident_id": resident_id(421, "19800301"), "to_month": "2019-12"}  # fmt: skip
    cases = [  # a route, the bytes, the media type they are first sent as, another one
        ("workers/files", f"resident_id,work_region\n{resident_id(420)},440100\n".encode(),
         "text/csv", "application/vnd.apache.parquet"),
        # canonical JSON (keys sorted, no spaces): its bytes are what the key hashed
        ("workers/history", json.dumps({"stints": [stint]}, separators=(",", ":")).encode(),
         "application/json", "text/csv"),
    ]  # fmt: skip
    for n, (route, body, kind, other) in enumerate(cases):

        def send(media: str, route: str = route, body: bytes = body, n: int = n) -> Any:
            headers = made.auth("gz") | {"Idempotency-Key": f"kind-{n}", "Content-Type": media}
            return client.post(f"/api/v1/{route}", content=body, headers=headers)

        first = send(kind)
        assert first.status_code == 200, first.text
        for same in (f"{kind}; charset=utf-8", kind.upper()):
            again = send(same)
            assert (again.status_code, again.json()) == (200, first.json()), (route, same)
        before = written(engine)
        assert_problem(send(other), 422, "idempotency-key-reused")
        assert written(engine) == before
