"""What the routes share: the ``Service`` every request needs, the caller (``ActorDep``),
idempotent POSTs, streamed uploads, the page size and cursor queries (the cursors themselves:
``api.paging``) and the query parameters of more than one area."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, Engine, insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from suiren.api import access, trail
from suiren.api.auth import (
    KEY_PREFIX,
    Actor,
    Unauthorized,
    authenticate,
    bearer_token,
    confirm_caller,
    key_actor,
    key_id,
    named,
    worker_actor,
    worker_session,
)
from suiren.api.listener import Listener, listener_for
from suiren.api.problems import problem
from suiren.api.reads import ReadCache
from suiren.api.throttle import LoginThrottle
from suiren.domain.errors import InvalidInput, SuirenError
from suiren.domain.messages import text as message
from suiren.domain.month import Month
from suiren.policy import Policy, load_policy
from suiren.services.identity import IdentityVault
from suiren.settings import Settings
from suiren.store.api_tables import api_keys, idempotency_keys, worker_sessions
from suiren.store.db import FINGERPRINT_CHECKED, unit_of_work
from suiren.store.grants import recorded_sql
from suiren.store.ledger_repo import LEDGER_VERSION_SQL
from suiren.store.seals import read_sealed, sealed

IDEMPOTENCY_KEY_CHARS_MAX = 128
_IDEMPOTENCY_KEY_RE = re.compile(r"[A-Za-z0-9_.:-]{1,128}", re.ASCII)
# (the worker's regions, a JSON body, its entity tag)
WorkerAnswer = tuple[tuple[str, str] | None, bytes, str]


@dataclass
class Service:
    """What every request needs, built once when the app starts."""

    settings: Settings
    policy: Policy
    engine: Engine
    vault: IdentityVault
    token_key: bytes
    login_throttle: LoginThrottle = field(default_factory=LoginThrottle)  # per address
    reads: ReadCache[WorkerAnswer] = field(init=False)
    listener: Listener | None = field(init=False)
    known: Known = field(init=False)

    def __post_init__(self) -> None:
        self.reads = ReadCache(self.settings.read_cache_bytes, _answer_bytes)
        kept = self.settings.read_cache_bytes > 0
        self.listener = listener_for(self.engine) if kept else None
        self.known = Known()

    def now(self) -> datetime:
        if self.settings.today is not None:
            return datetime.combine(self.settings.today, time(12, 0), tzinfo=UTC)
        return datetime.now(UTC)

    @contextmanager
    def transaction(self, read_only: bool = False) -> Iterator[Connection]:
        with unit_of_work(self.engine, read_only) as connection:
            yield connection
        if not read_only and self.listener is not None:
            self.listener.touch()  # committed: this process's own write is seen at once


def _plain(payload: Any) -> Any:
    """A service's answer as plain JSON values (dates and decimals as text)."""
    return json.loads(json.dumps(payload, default=str))


def service_of(request: Request) -> Service:
    return request.app.state.service  # type: ignore[no-any-return]


BEARER = HTTPBearer(
    auto_error=False,
    description="An API key (sk_…: platforms, agencies, analysts, auditors), or a worker's"
    " (wt_…) or an agency clerk's (ct_…) session token from POST /api/v1/auth/token. A"
    " worker's token is refused once their sessions are ended (POST /api/v1/me/sessions/end,"
    " POST /api/v1/workers/{worker_id}/sessions/end, a new password).",
)


def authorization_of(request: Request) -> str | None:
    """The ``Authorization`` header, sent once: two are refused (401) rather than one of them
    taken, which a proxy and this service might each choose differently."""
    given = request.headers.getlist("authorization")
    if len(given) > 1:
        raise Unauthorized(message("auth.one-header"))
    return given[0] if given else None


def actor_of(
    request: Request,
    _scheme: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)] = None,
) -> Actor:
    """The caller. ``BEARER`` puts the scheme in the OpenAPI description; the header itself is
    read whole here, so that every malformed one is refused by ``authenticate`` alike."""
    service = service_of(request)
    authorization = authorization_of(request)
    with service.transaction(read_only=True) as connection:
        return authenticate(connection, authorization, service.token_key, service.now())


def confirm(connection: Connection, request: Request, actor: Actor, service: Service) -> None:
    """A write's own check of its caller, first in its own transaction
    (``auth.confirm_caller``), for a route that writes without ``_idempotent`` (which checks
    it itself): a key revoked, a clerk moved, a worker's sessions ended since ``actor_of``
    let the request in — 401, nothing written."""
    confirm_caller(connection, actor, authorization_of(request), service.token_key, service.now())


def end_own_sessions(request: Request, actor: Actor, service: Service) -> Response:
    """A worker's end of their own sessions with their token (``POST /auth/logout``, ``POST
    /me/sessions/end``): every session of theirs signed so far — this token, the portal's
    cookie, another phone's — refused from the next request on (401), recorded by them in the
    national journal; 204. Their caller checked again in the write's own transaction
    (``confirm``): a token ended meanwhile ends nothing again (401)."""
    from suiren.services.logins import end_sessions

    worker_id = access.worker_self(actor)
    now = service.now()
    with service.transaction() as connection:
        confirm(connection, request, actor, service)
        end_sessions(connection, worker_id, now, named(actor))
        trail.record(connection, request, actor.key_id, 204, now)
    return Response(status_code=204)


async def _service(request: Request) -> Service:
    """``service_of`` as a dependency resolved on the event loop (no thread for it)."""
    return service_of(request)


ActorDep = Annotated[Actor, Depends(actor_of)]
ServiceDep = Annotated[Service, Depends(_service)]


async def _bearer_sent(
    request: Request,
    _scheme: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)] = None,
) -> None:
    """A route that authenticates its caller itself (``_worker_read``) still refuses a request
    without a bearer header first, as ``actor_of`` does, before its parameters are read."""
    if bearer_token(authorization_of(request)) is None:
        raise Unauthorized(message("auth.bearer"))


BearerDep = Annotated[None, Depends(_bearer_sent)]
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"  # YYYY-MM
IdempotencyKey = Annotated[
    str, Header(max_length=IDEMPOTENCY_KEY_CHARS_MAX, pattern=f"^{_IDEMPOTENCY_KEY_RE.pattern}$")
]
RetireQuery = Annotated[str | None, Query(pattern=MONTH_PATTERN)]
RatioQuery = Annotated[str | None, Query(pattern=r"^[0-9](\.[0-9]{1,4})?$")]
GrowthQuery = Annotated[str | None, Query(pattern=r"^-?0(\.[0-9]{1,4})?$")]
RateQuery = Annotated[str | None, Query(pattern=r"^0(\.[0-9]{1,4})?$")]


def _answer_bytes(answer: WorkerAnswer) -> int:
    return len(answer[1]) + 200  # the body and about what the entry and its key take


def _json(payload: Any) -> bytes:
    """A service's answer as the JSON body ``JSONResponse`` would send (dates and decimals as
    text)."""
    return json.dumps(
        payload, default=str, ensure_ascii=False, allow_nan=False, separators=(",", ":")
    ).encode()


async def _worker_read(
    request: Request,
    service: Service,
    worker_id: str | None,
    key: tuple[Any, ...],
    build: Callable[[Connection, str], Any],
) -> Response:
    """A read of one worker's records, answered from ``service.reads`` while the ledger has
    not moved (with an ``ETag``: ``If-None-Match`` with it is answered 304, no body);
    ``worker_id`` None: the caller's own (``/me``, a worker's session), which needs no
    enrolment. One thread and one read transaction for all of it: the caller's key
    (as ``actor_of``), the ledger's version, and the answer if it is not kept. An agency's
    request is checked against the worker's regions on every call (kept beside the answer,
    never the decision)."""
    authorization = authorization_of(request)

    def read() -> tuple[Actor, str, WorkerAnswer]:
        kept = _kept(service, authorization or "", worker_id, key)
        if kept is not None:
            return kept
        with service.transaction(read_only=True) as connection:
            actor = authenticate(connection, authorization, service.token_key, service.now())
            if worker_id is None:
                worker = access.worker_self(actor)
            else:
                worker = worker_id
                access.agency(actor, worker)

            def answer() -> WorkerAnswer:
                regions = access.worker_regions(connection, worker)
                if regions is None and worker_id is not None:
                    raise access.not_here("noun.worker", worker)
                body = _json(build(connection, worker))
                return regions, body, f'"{hashlib.sha256(body).hexdigest()[:32]}"'

            version = service.reads.version(connection)
            return actor, worker, service.reads.answer(version, (worker, *key), answer)

    # on PostgreSQL, while nothing has been heard, a kept answer needs no I/O: answered on
    # the event loop, without a thread (a thread's hand-off was most of what remained)
    known = None
    if service.listener is not None:
        known = _kept(service, authorization or "", worker_id, key, may_read=False)
    actor, worker, (regions, body, etag) = known or await run_in_threadpool(read)
    if worker_id is not None:
        access.covered_worker(actor, worker, regions)
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if etag in request.headers.get("if-none-match", "").replace(" ", "").split(","):
        return Response(status_code=304, headers=headers)  # the phone's copy is current
    return Response(body, media_type="application/json", headers=headers)


# the ledger's version (as ``ledger_version``) and, beside it, an API key's stored row and
# its latest fact (as ``auth._KEY_BY_ID``), or a worker's sessions' generation and its
# latest fact (by its primary key, as ``logins.check_session``)
_KEPT_SQL = {  # by the driver's parameter style: SQLite's qmark, psycopg's format
    qmark: "SELECT v.n, v.s, " + ("'main'" if qmark else "current_schema()") + ","
    " k.key_id, k.secret_sha256, k.actor, k.scope, k.revoked_at,"
    f" {recorded_sql(api_keys, 'k.key_id')}, ws.generation,"
    f" {recorded_sql(worker_sessions, 'ws.worker_id')}"
    f" FROM ({LEDGER_VERSION_SQL}) AS v"
    " LEFT JOIN api_keys AS k ON k.key_id = " + ("?" if qmark else "%s") +
    " LEFT JOIN worker_sessions AS ws ON ws.worker_id = " + ("?" if qmark else "%s")
    for qmark in (True, False)
}  # fmt: skip


KEY_ROWS_MAX = 10_000  # API keys' rows kept while no revocation is heard (then all dropped)


@dataclass
class Known:
    """What a process knows without asking while its listener hears nothing (PostgreSQL,
    ``api.listener``): the ledger's version read at a ledger epoch, and keys' rows read at a
    keys epoch."""

    schema: str | None = None  # the ledger's (PostgreSQL), as its writes name it
    version: tuple[int, tuple[int, int]] | None = None  # (ledger epoch, version)
    # a key's id -> (keys epoch, its row); "wt:<worker id>" -> (keys epoch, the generation of
    # the worker's sessions): ending them notifies the keys' channel as a revocation does
    key_rows: dict[str, tuple[int, Any]] = field(default_factory=dict)


def _kept(
    service: Service,
    authorization: str,
    worker_id: str | None,
    key: tuple[Any, ...],
    may_read: bool = True,
) -> tuple[Actor, str, WorkerAnswer] | None:
    """A kept answer for an API key or a worker's session without SQLAlchemy: on PostgreSQL,
    while the listener has heard nothing since the ledger's version and the key's row were
    read, from what was read (no round trip); else with one pooled DBAPI connection and one
    plain statement — the version and the key's row — outside a transaction on PostgreSQL.
    None: anything else (no answer kept at this version, a clerk's token, a connection that
    has not checked the ledger key yet) takes the full path. Refusals are the full path's,
    raised by the same functions. ``may_read=False``: None rather than read (the event
    loop's call, which must not block)."""
    token = bearer_token(authorization)
    if service.reads.max_bytes <= 0 or token is None:
        return None
    if not token.startswith((f"{KEY_PREFIX}_", "wt_")):
        return None
    is_key = token.startswith(f"{KEY_PREFIX}_")
    # a malformed key is refused here, as in full; a worker's token is checked as signed
    # first (its signature and expiry), then against its sessions' generation
    session = None if is_key else worker_session(token, service.token_key, service.now())
    wanted = key_id(token) if session is None else ""
    cached = wanted if session is None else f"wt:{session.worker_id}"
    listener, known = service.listener, service.known
    epoch = None
    if listener is not None and listener.healthy and known.schema is not None:
        epoch = listener.epoch(known.schema)
    version = None
    if epoch is not None and known.version is not None and known.version[0] == epoch[0]:
        version = known.version[1]
    key_row = known.key_rows.get(cached) if epoch is not None else None
    stored = None if key_row is None or key_row[0] != epoch[1] else key_row[1]  # type: ignore[index]
    if version is None or stored is None:
        if not may_read:  # the caller will ask again where it may block
            return None
        worker = "" if session is None else session.worker_id
        row = _read_kept(service, wanted, worker)  # read after the epoch: at least as new
        if row is None:
            return None
        version = (int(row[0]), int(row[1]))
        if session is None:
            stored = None if row[3] is None else row[3:9]
        else:  # the generation, if the row is as its latest fact records it
            from suiren.services.logins import recorded_generation

            stored = recorded_generation(row[9], row[10])
        known.schema = row[2]
        if epoch is not None:
            known.version = (epoch[0], version)
            if len(known.key_rows) >= KEY_ROWS_MAX:
                known.key_rows.clear()
            known.key_rows[cached] = (epoch[1], stored)
    actor = key_actor(token, stored) if session is None else worker_actor(session, stored)
    if worker_id is None:
        worker = access.worker_self(actor)
    else:
        worker = worker_id
        access.agency(actor, worker)
    answer = service.reads.peek(version, (worker, *key))
    return None if answer is None else (actor, worker, answer)


def _read_kept(service: Service, wanted: str, worker: str = "") -> Any:
    """(chains, sum of heads, schema, the key's row…, the worker's sessions' generation and
    its latest fact) with one pooled DBAPI connection and one statement; None if the
    connection has not checked the ledger key yet or is in a transaction."""
    raw = service.engine.raw_connection()
    try:
        if not raw.info.get(FINGERPRINT_CHECKED):
            return None
        driver = raw.driver_connection
        qmark = service.engine.dialect.paramstyle == "qmark"
        alone = not qmark  # psycopg: one statement needs no transaction
        if alone:
            try:
                driver.autocommit = True  # type: ignore[union-attr]
            except Exception:
                return None
        try:
            cursor = raw.cursor()
            cursor.execute(_KEPT_SQL[qmark], (wanted, worker))
            row = cursor.fetchone()
            cursor.close()
        except Exception:  # a value that cannot be loaded, say: the full path answers
            return None
        finally:
            if alone:
                driver.autocommit = False  # type: ignore[union-attr]
            else:
                raw.rollback()
    finally:
        raw.close()
    return row


async def _estimate_read(
    request: Request,
    service: Service,
    worker_id: str | None,
    retire: str | None,
    base_ratio: str | None,
    wage_growth: str | None,
    interest: str | None,
    paid_only: bool,
) -> Response:
    """The estimate through the kept reads: the day and every assumption are in its key."""
    assumptions = (retire, base_ratio, wage_growth, interest, paid_only)
    key = ("estimate", service.now().date(), *assumptions)
    return await _worker_read(
        request,
        service,
        worker_id,
        key,
        lambda c, worker: _estimate(c, service, worker, *assumptions),
    )


def _medical_status(connection: Connection, service: Service, worker_id: str) -> Any:
    from suiren.services.medical import medical_status as status

    return _plain(status(connection, service.policy, worker_id, service.now().date()).to_json())


async def _request_content(request: Request) -> bytes:
    """What a retry must repeat: a JSON body as its canonical text (keys sorted, no spaces,
    escapes resolved), so that a client that serialises the same object again — in another
    key order, with other spacing — is answered with its first response, not refused as
    another request (as Stripe compares the parameters); any other body as its bytes."""
    raw = await request.body()
    if not raw or "json" not in request.headers.get("content-type", "").lower():
        return raw
    try:
        content = await request.json()  # read strictly (api/body.py) and kept by the route
    except HTTPException:  # not JSON after all, on a route that reads no body: its bytes
        return raw
    return canonical_json(content)


def canonical_json(content: Any) -> bytes:
    """A JSON body's content as an Idempotency-Key compares it (``_request_content``): keys
    sorted, no spaces, escapes resolved. A route that reads its JSON body itself hashes this,
    not the bytes sent."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def request_digest(request: Request, body_sha256: str) -> str:
    """What an Idempotency-Key's request is: its method, path and query
    (``?scheme=employee_medical`` is another request), the media type its body was sent as
    (the same bytes as CSV or as Parquet, or as JSON, are read as another file: the body's
    hash alone took them for one request), and its body's SHA-256. The media type's
    parameters (``; charset=utf-8``) and case do not count, nor how the query is spelt: its
    parameters are compared decoded and ordered by name (``?b=2&a=1`` is ``?a=1&b=2``, ``%5F``
    is ``_``; a name's repeated values keep their order)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    query = urlencode(sorted(request.query_params.multi_items(), key=lambda item: item[0]))
    what = f"{request.method} {request.url.path}?{query}\n{media}\n{body_sha256}"
    return hashlib.sha256(what.encode()).hexdigest()


async def _idempotent(
    request: Request,
    actor: Actor,
    service: Service,
    key: str,
    work: Callable[[Connection], tuple[int, Any]],
    body_sha256: str | None = None,
) -> JSONResponse:
    """The first response to ``key`` (of this actor) for this request; another request under
    the same key is refused (422); the work, the stored response and the access log entry
    commit together.

    The answer does not depend on which of two racing requests under one key a database lets
    through first: one whose work is refused (its payment id taken by the other, say) while
    the other committed under the key is answered as if it had come second — the first's
    response, or 422 for another request — never with its own refusal (on PostgreSQL two such
    requests both looked for the key before either stored it; SQLite runs them one after the
    other). And the caller is checked again in the write's own transaction: a key revoked
    (or a clerk moved or removed) since ``actor_of`` read it writes nothing (401), and a
    revocation waits for a write that checked first."""
    if len(request.headers.getlist("idempotency-key")) > 1:  # which would be the retry's?
        raise InvalidInput(message("api.one-idempotency-key"), field="Idempotency-Key")
    if not _IDEMPOTENCY_KEY_RE.fullmatch(key):
        raise InvalidInput(
            message("api.idempotency-key-form", chars_max=IDEMPOTENCY_KEY_CHARS_MAX),
            field="Idempotency-Key",
        )
    if body_sha256 is None:  # a body read whole (an upload was hashed as it streamed)
        body_sha256 = hashlib.sha256(await _request_content(request)).hexdigest()
    digest = request_digest(request, body_sha256)
    request_id = request.state.request_id
    method, path = request.method, request.url.path
    authorization = authorization_of(request)

    def caller(connection: Connection) -> None:
        """The caller as this transaction finds them: the same actor, or refused (401)."""
        confirm_caller(connection, actor, authorization, service.token_key, service.now())

    def kept(connection: Connection) -> tuple[str, int, Any] | None:
        """("unsealed" | "reused" | "stored", status, body) if the key is stored, else None."""
        kept_read = read_sealed(
            connection,
            idempotency_keys,
            idempotency_keys.c.key_id == actor.key_id,
            idempotency_keys.c.idempotency_key == key,
        )
        if not kept_read.present:
            return None
        stored = kept_read.row
        if stored is None:  # changed behind the service (or unloadable): not served
            return "unsealed", 409, None
        if stored.request_sha256 != digest:
            return "reused", 422, None
        return "stored", stored.status, json.loads(stored.body)

    def attempt() -> tuple[str, int, Any]:
        """("stored" | "reused" | "unsealed" | "done", status, body) in one unit of work."""
        with service.transaction() as connection:
            caller(connection)
            found = kept(connection)
            if found is not None:
                return found
            status, payload = work(connection)
            now = service.now()
            row = {
                "key_id": actor.key_id,
                "idempotency_key": key,
                "request_sha256": digest,
                "status": status,
                "body": json.dumps(payload, ensure_ascii=False, default=str),
                "created_at": now,
            }
            connection.execute(
                insert(idempotency_keys).values(sealed(connection, idempotency_keys, row))
            )
            trail.record_row(connection, request_id, actor.key_id, method, path, status, now)
        return "done", status, _plain(payload)

    def kept_meanwhile() -> tuple[str, int, Any] | None:
        """After the work was refused: what a request under the same key stored meanwhile."""
        with service.transaction(read_only=True) as connection:
            caller(connection)
            return kept(connection)

    for _attempt in range(2):
        try:
            # in a worker thread: a write (a file of a million rows too) never holds the event
            # loop, so other requests are answered meanwhile and two with one key truly race
            outcome, status, body = await run_in_threadpool(attempt)
        except IntegrityError:
            continue  # the same key committed meanwhile by a concurrent retry: read it
        except (SuirenError, DBAPIError) as refused:
            try:
                found = await run_in_threadpool(kept_meanwhile)
            except (SuirenError, DBAPIError):
                found = None
            if found is None:
                raise refused from None
            outcome, status, body = found
        if outcome == "unsealed":
            return problem(
                request,
                "kept-answer-unsealed",
                message("api.kept-answer-unsealed"),
                "Idempotency-Key",
            )
        if outcome == "reused":
            return problem(
                request,
                "idempotency-key-reused",
                message("api.idempotency-key-reused"),
                "Idempotency-Key",
            )
        return JSONResponse(body, status_code=status)
    raise InvalidInput(message("api.raced"))


def _estimate(
    connection: Connection,
    service: Service,
    worker_id: str,
    retire: str | None,
    base_ratio: str | None,
    wage_growth: str | None,
    interest: str | None,
    paid_only: bool,
) -> Any:
    from fractions import Fraction

    from suiren.policy import SCENARIOS
    from suiren.policy.projection import assumptions_ahead
    from suiren.services.career import compare

    def exact(value: str | None) -> Fraction | None:
        return None if value is None else Fraction(value)

    assumptions = assumptions_ahead(
        paid_only,
        exact(base_ratio),
        exact(wage_growth),
        exact(interest),
        ("paid_only", "base_ratio", "wage_growth", "interest"),
    )
    data = compare(
        connection,
        [load_policy(name) for name in SCENARIOS],
        worker_id,
        service.now().date(),
        Month.parse(retire) if retire else None,
        assumptions,
    )
    return _plain(data)


# --- uploads ------------------------------------------------------------------------------

UPLOAD_BYTES_MAX = 100_000_000  # about a million rows of CSV
UPLOAD_TYPES = {"text/csv": ".csv", "application/vnd.apache.parquet": ".parquet"}


class TooLarge(SuirenError):
    code = "too-large"  # 413


async def _receive(request: Request, path: Any) -> str:
    """Stream the request's body to ``path``; the body's SHA-256. ``TooLarge`` as soon as it
    is longer than ``UPLOAD_BYTES_MAX`` (what was written is left for the caller's folder)."""
    size, hashed = 0, hashlib.sha256()
    with path.open("wb") as out:
        async for piece in request.stream():
            size += len(piece)
            hashed.update(piece)
            if size > UPLOAD_BYTES_MAX:
                raise TooLarge(message("api.file-too-large", bytes_max=UPLOAD_BYTES_MAX))
            out.write(piece)
    return hashed.hexdigest()


def _upload_suffix(content_type: str) -> str:
    suffix = UPLOAD_TYPES.get(content_type.split(";")[0].strip().lower())
    if suffix is None:
        raise InvalidInput(
            message("api.content-type", choices=", ".join(UPLOAD_TYPES)), field="Content-Type"
        )
    return suffix


# --- lists, page by page (their cursors: ``api.paging``) -----------------------------------

PAGE_ROWS_MAX = 200
PageQuery = Annotated[int, Query(ge=1, le=PAGE_ROWS_MAX)]
CursorQuery = Annotated[str | None, Query(max_length=200)]
