"""Kept answers of the read routes (``api.reads``, issue 11 §7), on both databases: a
worker's statement and estimate are answered again from the cache only while the ledger has
not moved — a write by another process (another engine here) is seen at once — and who may
see them is decided on every request, never kept with the answer."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from suiren.api.app import create_app
from suiren.api.auth import ActorKind, issue_key
from suiren.api.listener import Listener
from suiren.api.reads import ReadCache
from suiren.api.routes import common
from suiren.domain.month import Month
from suiren.services.contributions import contribute
from suiren.services.identity import token_key
from suiren.services.logins import sign_token, worker_token
from suiren.services.reversals import reverse
from suiren.services.statement import statement
from suiren.services.workers import enrol
from suiren.store.db import make_engine, unit_of_work
from suiren.store.ledger_repo import ledger_version
from tests.api import assert_problem, auth, settings_for
from tests.conftest import KEYS, NOW, SECRET
from tests.ledger_helpers import POLICY, VAULT, base_bounds_fen, resident_id

TODAY = "2026-06-15"


@pytest.fixture
def api(database_url: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A Guangzhou worker with three paid months; keys of Guangzhou, Guangdong and Beijing;
    the worker's session; and an engine of its own (another process's view)."""
    url, extra = database_url
    for name, value in extra.items():
        monkeypatch.setenv(name, value)
    engine = make_engine(url, keys=KEYS)
    with unit_of_work(engine) as c:
        keys = {
            name: issue_key(c, ActorKind.AGENCY, region, name, NOW)[0]
            for name, region in (("gz", "440100"), ("gd", "440000"), ("bj", "110000"))
        }
        keys["platform"] = issue_key(c, ActorKind.PLATFORM, "courier-co", "p", NOW)[0]
        worker = enrol(c, POLICY, VAULT, resident_id(7), "440100", None, NOW).worker.worker_id
        contribute(c, POLICY, "first", worker, Month.of(2026, 1), Month.of(2026, 3), _floor(), NOW)
    with unit_of_work(engine) as c:  # logged in: a token of their sessions' generation
        keys["session"] = worker_token(c, token_key(SECRET), worker, NOW)
    with TestClient(
        create_app(settings_for(url, today=TODAY)), raise_server_exceptions=False
    ) as client:
        yield client, keys, worker, engine
    engine.dispose()


def _floor() -> int:
    return base_bounds_fen("440100", Month.of(2026, 1), Month.of(2026, 5))[0]


def _fresh(engine: Any, worker: str) -> Any:
    """The statement as the service computes it now, as JSON would carry it."""
    with unit_of_work(engine, read_only=True) as c:
        return json.loads(json.dumps(statement(c, worker), default=str))


def wait_healthy(listener: Listener, seconds: float = 10.0) -> bool:
    """Whether ``listener`` is listening, waiting for it at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while not listener.healthy and time.monotonic() < deadline:
        time.sleep(0.01)
    return listener.healthy


def _mark(client: TestClient) -> tuple[int, int] | None:
    """What the process's listener has heard for this ledger (PostgreSQL; None on SQLite,
    where every request reads the version)."""
    service = client.app.state.service
    if service.listener is None:
        return None
    assert wait_healthy(service.listener) and service.known.schema is not None
    return service.listener.epoch(service.known.schema)  # type: ignore[no-any-return]


def _heard(client: TestClient, mark: tuple[int, int] | None, which: int = 0) -> None:
    """Wait until the listener has heard a write (``which`` 0) or a revocation (1) since
    ``mark``: on PostgreSQL another process's commit is seen once its notification
    arrives."""
    if mark is None:
        return
    service = client.app.state.service
    deadline = time.monotonic() + 10
    while service.listener.epoch(service.known.schema)[which] <= mark[which]:
        assert time.monotonic() < deadline, "the commit's notification never arrived"
        time.sleep(0.002)


def test_a_kept_statement_follows_every_write_of_another_process(api) -> None:
    client, keys, worker, engine = api
    reads = client.app.state.service.reads
    path = f"/api/v1/workers/{worker}/statement"
    first = client.get(path, headers=auth(keys["gz"]))
    assert first.status_code == 200 and first.json() == _fresh(engine, worker)
    hits = reads.hits
    assert client.get(path, headers=auth(keys["gz"])).json() == first.json()
    assert reads.hits == hits + 1  # answered from the cache: nothing moved

    writes = [
        lambda c: contribute(c, POLICY, "april", worker, Month.of(2026, 4), Month.of(2026, 4),
                             _floor(), NOW),
        lambda c: reverse(c, "april/2026-04", "undo-april", NOW, "paid twice"),
        lambda c: contribute(c, POLICY, "may", worker, Month.of(2026, 5), Month.of(2026, 5),
                             _floor(), NOW),
    ]  # fmt: skip
    seen = [first.json()]
    for write in writes:
        mark = _mark(client)
        with unit_of_work(engine) as c:  # another engine: only PostgreSQL tells this process
            before = ledger_version(c)
            write(c)
            assert ledger_version(c) > before
        _heard(client, mark)
        answer = client.get(path, headers=auth(keys["gz"]))
        assert answer.status_code == 200
        assert answer.json() == _fresh(engine, worker) != seen[-1]
        seen.append(answer.json())
    statuses = {m["month"]: m["status"] for m in seen[-1]["months"]}
    assert statuses["2026-04"] == "reversed" and statuses["2026-05"] == "paid"
    # the worker's own route shares the answer, and sees the same
    mine = client.get("/api/v1/me/statement", headers=auth(keys["session"]))
    assert mine.status_code == 200 and mine.json() == seen[-1]


def test_who_may_see_a_kept_answer_is_decided_on_every_request(api) -> None:
    client, keys, worker, _ = api
    reads = client.app.state.service.reads
    for route in ("statement", "pension/estimate"):
        path = f"/api/v1/workers/{worker}/{route}"
        assert client.get(path, headers=auth(keys["gz"])).status_code == 200  # kept now
        hits = reads.hits
        assert client.get(path, headers=auth(keys["gd"])).status_code == 200  # its province
        assert reads.hits == hits + 1
        unknown = assert_problem(
            client.get(f"/api/v1/workers/w-unknown/{route}", headers=auth(keys["bj"])),
            404,
            "not-found",
        )
        for other in ("bj", "session", "platform"):  # another region, the worker, a platform
            refused = assert_problem(client.get(path, headers=auth(keys[other])), 404, "not-found")
            assert refused["title"] == unknown["title"]
        assert_problem(client.get(path), 401, "unauthorized")


def test_an_estimate_is_kept_per_day_and_assumptions(api) -> None:
    client, keys, worker, engine = api
    path = f"/api/v1/workers/{worker}/pension/estimate"
    low = client.get(path, params={"base_ratio": "0.6"}, headers=auth(keys["gz"]))
    high = client.get(path, params={"base_ratio": "3"}, headers=auth(keys["gz"]))
    assert low.status_code == high.status_code == 200
    assert low.json() != high.json()
    assert client.get(path, params={"base_ratio": "0.6"}, headers=auth(keys["gz"])).json() == (
        low.json()
    )
    paid_only = client.get(path, params={"paid_only": "true"}, headers=auth(keys["gz"])).json()
    mark = _mark(client)
    with unit_of_work(engine) as c:  # one more month paid: the paid-only estimate moves
        contribute(c, POLICY, "april", worker, Month.of(2026, 4), Month.of(2026, 5), _floor(), NOW)
    _heard(client, mark)
    again = client.get(path, params={"paid_only": "true"}, headers=auth(keys["gz"])).json()
    assert again != paid_only
    service = client.app.state.service
    fresh = create_app(settings_for(service.settings.database_url, today="2027-02-15"))
    with TestClient(fresh) as later:  # a new process on another day
        expected = later.get(path, params={"paid_only": "true"}, headers=auth(keys["gz"])).json()
    service.settings = settings_for(service.settings.database_url, today="2027-02-15")
    answer = client.get(path, params={"paid_only": "true"}, headers=auth(keys["gz"])).json()
    assert answer == expected != again  # the day is in the key


def test_the_cache_is_bounded_by_bytes_and_keeps_only_the_current_version() -> None:
    built: list[str] = []

    def build(value: str) -> Any:
        return lambda: built.append(value) or value

    cache: ReadCache[str] = ReadCache(45, len)  # bytes; an answer over 11 is not kept
    assert cache.answer((1, 1), "a", build("a" * 10)) == "a" * 10
    assert cache.answer((1, 1), "a", build("changed")) == "a" * 10  # kept
    assert cache.answer((1, 2), "a", build("b" * 10)) == "b" * 10  # the ledger moved
    for key in "cd":
        cache.answer((1, 2), key, build(key * 10))
    assert cache.answer((1, 2), "a", build("x")) == "b" * 10  # used again: the most recent
    cache.answer((1, 2), "e", build("e" * 10))  # 40 bytes: all kept
    assert len(cache) == 4
    cache.answer((1, 2), "f", build("f" * 10))  # 50 > 45: the least recent (c) goes
    assert len(cache) == 4
    assert cache.answer((1, 2), "a", build("x")) == "b" * 10
    assert cache.answer((1, 2), "c", build("C" * 10)) == "C" * 10  # built again; d goes
    assert cache.answer((1, 2), "d", build("D" * 10)) == "D" * 10
    assert cache.answer((1, 2), "big", build("z" * 12)) == "z" * 12  # over a quarter
    assert cache.answer((1, 2), "big", build("y" * 12)) == "y" * 12  # was not kept
    assert built == ["a" * 10, "b" * 10, "c" * 10, "d" * 10, "e" * 10, "f" * 10, "C" * 10,
                     "D" * 10, "z" * 12, "y" * 12]  # fmt: skip
    off: ReadCache[str] = ReadCache(0, len)
    assert off.version(None) is None  # type: ignore[arg-type]  # off: no read at all
    assert off.answer(None, "a", build("1")) == "1" and off.answer(None, "a", build("2")) == "2"


def test_a_phone_whose_copy_is_current_gets_304_and_only_then(api) -> None:
    client, keys, worker, engine = api
    path = f"/api/v1/workers/{worker}/statement"
    first = client.get(path, headers=auth(keys["gz"]))
    etag = first.headers["etag"]
    assert etag.startswith('"') and first.headers["cache-control"] == "private, no-cache"
    same = client.get(path, headers=auth(keys["gz"], **{"If-None-Match": f'"other", {etag}'}))
    assert same.status_code == 304 and same.content == b"" and same.headers["etag"] == etag
    foreign = client.get(path, headers=auth(keys["bj"], **{"If-None-Match": etag}))
    assert_problem(foreign, 404, "not-found")  # the tag says nothing to another region
    mine = client.get(
        "/api/v1/me/statement", headers=auth(keys["session"], **{"If-None-Match": etag})
    )
    assert mine.status_code == 304  # the same answer, the same tag
    mark = _mark(client)
    with unit_of_work(engine) as c:
        contribute(c, POLICY, "april", worker, Month.of(2026, 4), Month.of(2026, 4), _floor(), NOW)
    _heard(client, mark)
    moved = client.get(path, headers=auth(keys["gz"], **{"If-None-Match": etag}))
    assert moved.status_code == 200 and moved.headers["etag"] != etag
    assert moved.json() == _fresh(engine, worker)


def test_a_revoked_key_is_refused_at_once_even_for_a_kept_answer(api) -> None:
    from suiren.api.auth import revoke_key

    client, keys, worker, engine = api
    reads = client.app.state.service.reads
    path = f"/api/v1/workers/{worker}/statement"
    for _ in range(2):  # the answer; then what PostgreSQL's listener lets the process keep
        assert client.get(path, headers=auth(keys["gz"])).status_code == 200
    hits = reads.hits
    assert client.get(path, headers=auth(keys["gz"])).status_code == 200
    assert reads.hits == hits + 1  # kept (on PostgreSQL with the key's row kept too)
    mark = _mark(client)
    with unit_of_work(engine) as c:  # another process revokes it
        revoke_key(c, keys["gz"], NOW)
    _heard(client, mark, which=1)
    assert_problem(client.get(path, headers=auth(keys["gz"])), 401, "unauthorized")
    # un-revoked behind the ledger's back (and the keys' rows read again): its revocation in
    # the journal still stands, on the kept path as on the full one
    mark = _mark(client)
    with unit_of_work(engine) as c:
        c.execute(text("UPDATE api_keys SET revoked_at = NULL, version = 1"))
        if c.dialect.name == "postgresql":
            c.execute(text("SELECT pg_notify('suiren_keys', current_schema())"))
    _heard(client, mark, which=1)
    for _ in range(2):
        assert_problem(client.get(path, headers=auth(keys["gz"])), 401, "unauthorized")
    assert_problem(client.post("/api/v1/pension/calc", headers=auth(keys["gz"]), json={}),
                   401, "unauthorized")  # fmt: skip
    for bad in ("sk_nope", keys["gd"][:-2] + "xx", "wt_forged.mac"):
        assert_problem(client.get(path, headers=auth(bad)), 401, "unauthorized")
    assert client.get(path, headers=auth(keys["gd"])).status_code == 200  # the province's key
    # a worker's session is answered from the cache too; an expired one is refused
    mine = "/api/v1/me/statement"
    assert client.get(mine, headers=auth(keys["session"])).status_code == 200
    hits = reads.hits
    assert client.get(mine, headers=auth(keys["session"])).status_code == 200
    assert reads.hits == hits + 1
    stale = sign_token(token_key(SECRET), worker, NOW.replace(year=2025), generation=0)
    assert_problem(client.get(mine, headers=auth(stale)), 401, "unauthorized")


def test_a_workers_ended_sessions_are_refused_at_once_even_for_a_kept_answer(api) -> None:
    """A worker's token answered from the kept reads (on PostgreSQL without a round trip,
    the generation of their sessions kept beside the version) is refused as soon as another
    process ends their sessions: the end is notified as a revocation is."""
    from suiren.services.logins import end_sessions

    client, keys, worker, engine = api
    reads = client.app.state.service.reads
    mine = "/api/v1/me/statement"
    for _ in range(2):  # the answer; then what PostgreSQL's listener lets the process keep
        assert client.get(mine, headers=auth(keys["session"])).status_code == 200
    hits = reads.hits
    assert client.get(mine, headers=auth(keys["session"])).status_code == 200
    assert reads.hits == hits + 1
    mark = _mark(client)
    with unit_of_work(engine) as c:  # another process: the worker logged out everywhere
        end_sessions(c, worker, NOW)
    _heard(client, mark, which=1)
    assert_problem(client.get(mine, headers=auth(keys["session"])), 401, "unauthorized")
    with unit_of_work(engine) as c:  # logged in again
        again = worker_token(c, token_key(SECRET), worker, NOW)
    assert client.get(mine, headers=auth(again)).status_code == 200


def test_a_kept_answer_needs_no_round_trip_on_postgresql_until_a_write_is_heard(
    api, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, keys, worker, engine = api
    service = client.app.state.service
    reads: list[str] = []
    real = common._read_kept

    def counted(svc: Any, wanted: str, worker: str = "") -> Any:
        reads.append(wanted)
        return real(svc, wanted, worker)

    monkeypatch.setattr(common, "_read_kept", counted)
    path = f"/api/v1/workers/{worker}/statement"
    for _ in range(3):  # the answer, the schema, then the version and the key's row known
        assert client.get(path, headers=auth(keys["gz"])).status_code == 200
    if service.listener is None:  # SQLite: no one to tell it, the version is read each time
        reads.clear()
        for _ in range(3):
            assert client.get(path, headers=auth(keys["gz"])).status_code == 200
        assert len(reads) == 3
        return
    mark = _mark(client)
    reads.clear()
    for _ in range(5):
        assert client.get(path, headers=auth(keys["gz"])).status_code == 200
    assert reads == []  # nothing heard: nothing read
    with unit_of_work(engine) as c:  # another process pays a month
        contribute(c, POLICY, "june", worker, Month.of(2026, 6), Month.of(2026, 6), _floor(), NOW)
    _heard(client, mark)
    answer = client.get(path, headers=auth(keys["gz"]))
    assert answer.json() == _fresh(engine, worker) and len(reads) == 1
    # a write of this process is seen at once, before its notification is heard
    paid = client.post(
        "/api/v1/contributions",
        headers=auth(keys["gz"], **{"Idempotency-Key": "july"}),
        json={"payment_id": "july", "worker_id": worker, "from_month": "2026-05",
              "base_yuan": str(_floor() // 100)},
    )  # fmt: skip
    assert paid.status_code == 201, paid.text
    assert client.get(path, headers=auth(keys["gz"])).json() == _fresh(engine, worker)
    # while the listener is away, every request reads the version again
    monkeypatch.setattr(service.listener, "healthy", False)
    reads.clear()
    for _ in range(3):
        assert client.get(path, headers=auth(keys["gz"])).status_code == 200
    assert len(reads) == 3
