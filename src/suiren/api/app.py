"""The HTTP API (``/api/v1``): thin routes over the services, one policy module for access,
problem+json errors, idempotent POSTs. ``suiren serve`` runs it with uvicorn.

Limits: a request body of at most ``BODY_BYTES_MAX``; an ``Idempotency-Key`` of at most
``IDEMPOTENCY_KEY_CHARS_MAX`` ASCII characters. Every write records the actor's key and the
request id in the access log, in the same database transaction as the write.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError
from sqlalchemy import Connection, Engine, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException

from suiren.api import access
from suiren.api.auth import Actor, authenticate
from suiren.api.problems import Problem, documented, from_error, problem
from suiren.domain.errors import InvalidInput, SuirenError
from suiren.domain.money import yuan_to_fen
from suiren.domain.month import Month
from suiren.ledger.accounts import Scheme
from suiren.policy import Policy, load_policy
from suiren.services.clerks import LOGIN_CHARS_MAX as CLERK_LOGIN_CHARS_MAX
from suiren.services.identity import IdentityVault, ledger_keys, token_key
from suiren.settings import Settings
from suiren.store.api_tables import access_log, idempotency_keys
from suiren.store.db import make_engine, unit_of_work

BODY_BYTES_MAX = 10_000_000  # a JSON batch of about 50,000 pension cases
IDEMPOTENCY_KEY_CHARS_MAX = 128
_IDEMPOTENCY_KEY_RE = re.compile(r"[A-Za-z0-9_.:-]{1,128}", re.ASCII)
_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9_.:-]{1,64}", re.ASCII)
log = logging.getLogger("suiren.api")


@dataclass
class Service:
    """What every request needs, built once when the app starts."""

    settings: Settings
    policy: Policy
    engine: Engine
    vault: IdentityVault
    token_key: bytes
    auth_requests: dict[str, list[float]] = field(default_factory=dict)  # address -> times

    def now(self) -> datetime:
        if self.settings.today is not None:
            return datetime.combine(self.settings.today, time(12, 0), tzinfo=UTC)
        return datetime.now(UTC)

    @contextmanager
    def transaction(self, read_only: bool = False) -> Iterator[Connection]:
        with unit_of_work(self.engine, read_only) as connection:
            yield connection


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    secret = settings.secret()
    service = Service(
        settings,
        load_policy(settings.scenario),
        make_engine(settings.database_url, keys=ledger_keys(secret)),
        IdentityVault.from_secret(secret),
        token_key(secret),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        service.engine.dispose()

    app = FastAPI(
        title="Suiren (随人) API",
        version="1",
        description="Portable social insurance for flexible workers — 钱随人走.",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.service = service
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    _errors(app)
    app.middleware("http")(_request_id_and_limits)
    app.include_router(router)
    return app


def problem_statuses(rule: str, method: str) -> set[int]:
    """The refusals a route can answer, from its access rule (documented in the OpenAPI)."""
    statuses = {413, 422, 500, 503}  # any request: too large, invalid, internal, database
    if rule != access.PUBLIC:
        statuses.add(401)
    if rule not in (access.PUBLIC, access.ANY_ACTOR):
        statuses.add(404)  # refused as unknown: a foreign id answers as an unknown one
        if method == "POST" and rule != access.AUDITOR:
            statuses.add(409)  # a write that clashes with a recorded transaction
    return statuses


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's description, with every route's problem+json refusals in place of its
    default 422 (a list of pydantic errors this API never sends)."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = FastAPI.openapi(app)
    paths = schema["paths"]
    for method, path, endpoint in access.operations(app.routes):
        operation = paths.get(path, {}).get(method.lower())
        if operation is None:
            continue  # a page of the portal (not in the API's description)
        rule = access.rule_of(endpoint) or access.PUBLIC
        operation["responses"].pop("422", None)
        operation["responses"].update(documented(problem_statuses(rule, method)))
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    app.openapi_schema = schema
    return schema


def _errors(app: FastAPI) -> None:
    @app.exception_handler(SuirenError)
    async def suiren_error(request: Request, error: SuirenError) -> JSONResponse:
        return from_error(request, error)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        loc = [part for part in first.get("loc", ())[1:] if part not in UNION_TAGS]
        where = ".".join(str(part) for part in loc) or None
        message = str(first.get("msg", "the request does not match its schema"))
        return problem(
            request, "invalid-request", f"{where}: {message}" if where else message, where
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "method-not-allowed"}.get(error.status_code)
        if code is None:  # a body that does not parse (400): invalid, as a malformed JSON is
            return problem(request, "invalid-request", str(error.detail))
        return problem(
            request, code, str(error.detail), status=error.status_code, headers=error.headers
        )

    @app.exception_handler(DBAPIError)
    async def database(request: Request, error: DBAPIError) -> JSONResponse:
        log.warning("database refused %s: %s", request.url.path, type(error.orig).__name__)
        return problem(request, "retry", "the database refused the request; nothing was written")

    @app.exception_handler(Exception)
    async def internal(request: Request, error: Exception) -> JSONResponse:
        log.exception("internal error on %s", request.url.path)
        return problem(request, "internal", "an internal error; nothing was written")


async def _request_id_and_limits(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    given = request.headers.get("x-request-id", "")
    request.state.request_id = given if _REQUEST_ID_RE.fullmatch(given) else uuid.uuid4().hex
    length = request.headers.get("content-length")
    limit = UPLOAD_BYTES_MAX if request.url.path.endswith("/files") else BODY_BYTES_MAX
    if length is not None and (not length.isdigit() or int(length) > limit):
        return problem(request, "too-large", f"a request body has at most {limit} bytes")
    response = await call_next(request)
    response.headers["X-Request-ID"] = request.state.request_id
    return response


def _plain(payload: Any) -> Any:
    """A service's answer as plain JSON values (dates and decimals as text)."""
    return json.loads(json.dumps(payload, default=str))


def service_of(request: Request) -> Service:
    return request.app.state.service  # type: ignore[no-any-return]


BEARER = HTTPBearer(
    auto_error=False,
    description="An API key (sk_…: platforms, agencies, analysts, auditors), or a worker's"
    " (wt_…) or an agency clerk's (ct_…) session token from POST /api/v1/auth/token.",
)


def actor_of(
    request: Request,
    _scheme: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)] = None,
) -> Actor:
    """The caller. ``BEARER`` puts the scheme in the OpenAPI description; the header itself is
    read whole here, so that every malformed one is refused by ``authenticate`` alike."""
    service = service_of(request)
    authorization = request.headers.get("authorization")
    with service.transaction(read_only=True) as connection:
        return authenticate(connection, authorization, service.token_key, service.now())


ActorDep = Annotated[Actor, Depends(actor_of)]
ServiceDep = Annotated[Service, Depends(service_of)]
router = APIRouter(prefix="/api/v1")
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"  # YYYY-MM
IdempotencyKey = Annotated[
    str, Header(max_length=IDEMPOTENCY_KEY_CHARS_MAX, pattern=f"^{_IDEMPOTENCY_KEY_RE.pattern}$")
]
RetireQuery = Annotated[str | None, Query(pattern=MONTH_PATTERN)]
RatioQuery = Annotated[str | None, Query(pattern=r"^[0-9](\.[0-9]{1,4})?$")]
GrowthQuery = Annotated[str, Query(pattern=r"^-?0(\.[0-9]{1,4})?$")]
RateQuery = Annotated[str | None, Query(pattern=r"^0(\.[0-9]{1,4})?$")]


# --- health -------------------------------------------------------------------------------


class Health(BaseModel):
    status: str
    database: str
    revision: str | None


@router.get("/health", response_model=Health)
@access.rule(access.PUBLIC)
def health(service: ServiceDep) -> Health:
    """The database answers, at this migration revision."""
    with service.engine.connect() as connection:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return Health(status="ok", database="ok", revision=revision)


# --- the pension calculator ---------------------------------------------------------------


@router.post("/pension/calc")
@access.rule(access.ANY_ACTOR)
async def pension_calc(request: Request, actor: ActorDep, service: ServiceDep) -> JSONResponse:
    """The calculator of ``suiren pension calc``: a case (JSON object) or an array of cases;
    the same fields, rules, warnings and results."""
    from suiren.services.pension_calc import (
        calculate,
        case_warnings,
        output_records,
        parse_cases,
        parse_json,
    )

    body = await request.body()
    try:
        data = parse_json(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidInput("the body is not UTF-8 text") from None
    single = isinstance(data, dict)
    if not single and not isinstance(data, list):
        raise InvalidInput("the body must be a JSON object or an array of objects")
    today = service.now().date()
    parsed = parse_cases([data] if single else data, service.policy, today)
    warnings = case_warnings(parsed, service.policy, today)
    result = calculate(parsed, service.policy)
    records = output_records(parsed, result, service.policy, single, warnings)
    return JSONResponse(_plain(records[0] if single else records))


# --- workers ------------------------------------------------------------------------------


@router.get("/workers/{worker_id}/statement")
@access.rule(access.AGENCY_OF_WORKER)
def worker_statement(worker_id: str, actor: ActorDep, service: ServiceDep) -> JSONResponse:
    """A worker's months by region and balances (an agency of the worker's region)."""
    from suiren.services.statement import statement

    with service.transaction(read_only=True) as connection:
        access.worker_region(connection, actor, worker_id)
        return JSONResponse(_plain(statement(connection, worker_id)))


# --- contributions ------------------------------------------------------------------------


class Payment(BaseModel):
    """One payment: months ``from_month``..``to_month`` (or one ``month``) at one base."""

    model_config = ConfigDict(extra="forbid")

    payment_id: str = Field(min_length=1, max_length=100)
    worker_id: str = Field(min_length=1, max_length=32)
    from_month: str = Field(pattern=MONTH_PATTERN)
    to_month: str | None = Field(default=None, pattern=MONTH_PATTERN)
    base_yuan: str = Field(pattern=r"^[0-9]{1,9}(\.[0-9]{1,2})?$")


@router.post("/contributions", status_code=201)
@access.rule(access.AGENCY_OF_WORKER)
async def contribute(
    request: Request,
    payment: Payment,
    actor: ActorDep,
    service: ServiceDep,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Pay the months of a payment (all or nothing). Send it again with the same
    ``Idempotency-Key`` and body: the first response comes back, nothing is paid twice."""
    return await _pay(request, payment, actor, service, idempotency_key, Scheme.EMPLOYEE_PENSION)


async def _pay(
    request: Request,
    payment: Payment,
    actor: Actor,
    service: Service,
    idempotency_key: str,
    scheme: Scheme,
) -> JSONResponse:
    """The one contribution path, for a scheme the agency holds the worker's enrolment in."""
    from suiren.services.contributions import contribute as pay

    def work(connection: Connection) -> tuple[int, Any]:
        access.worker_region(connection, actor, payment.worker_id, scheme)
        first = Month.parse(payment.from_month)
        last = Month.parse(payment.to_month) if payment.to_month else first
        paid = pay(
            connection,
            service.policy,
            payment.payment_id,
            payment.worker_id,
            first,
            last,
            yuan_to_fen(payment.base_yuan, what="base_yuan"),
            service.now(),
            scheme,
        )
        return 201, {"months": [p.to_json() for p in paid]}

    return await _idempotent(request, actor, service, idempotency_key, work)


# --- employee medical insurance (职工医保) --------------------------------------------------


@router.post("/medical/contributions", status_code=201)
@access.rule(access.AGENCY_OF_WORKER)
async def medical_contribute(
    request: Request,
    payment: Payment,
    actor: ActorDep,
    service: ServiceDep,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Pay a worker's employee medical months (as ``suiren medical contribute``; the agency
    of the region of the worker's medical enrolment): all or nothing, the reform's pooled
    part held at the hukou region. Send it again with the same ``Idempotency-Key`` and
    body: the first response comes back, nothing is paid twice."""
    return await _pay(request, payment, actor, service, idempotency_key, Scheme.EMPLOYEE_MEDICAL)


@router.get("/workers/{worker_id}/medical/status")
@access.rule(access.AGENCY_OF_WORKER)
def medical_status(worker_id: str, actor: ActorDep, service: ServiceDep) -> JSONResponse:
    """A worker's employee medical record (as ``suiren medical status``): months paid per
    region, the break and the waiting period on re-joining today, lifetime cover at
    retirement, each with the parameters it used (the agency of the worker's region)."""
    with service.transaction(read_only=True) as connection:
        access.worker_region(connection, actor, worker_id, Scheme.EMPLOYEE_MEDICAL)
        return JSONResponse(_medical_status(connection, service, worker_id))


def _medical_status(connection: Connection, service: Service, worker_id: str) -> Any:
    from suiren.services.medical import medical_status as status

    return _plain(status(connection, service.policy, worker_id, service.now().date()).to_json())


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
    commit together."""
    if not _IDEMPOTENCY_KEY_RE.fullmatch(key):
        raise InvalidInput(
            f"Idempotency-Key: 1 to {IDEMPOTENCY_KEY_CHARS_MAX} of A-Z a-z 0-9 _ . : -",
            field="Idempotency-Key",
        )
    if body_sha256 is None:  # a body read whole (an upload was hashed as it streamed)
        body_sha256 = hashlib.sha256(await request.body()).hexdigest()
    digest = hashlib.sha256(
        f"{request.method} {request.url.path}\n{body_sha256}".encode()
    ).hexdigest()
    for _attempt in range(2):
        try:
            with service.transaction() as connection:
                stored = connection.execute(
                    select(idempotency_keys).where(
                        idempotency_keys.c.key_id == actor.key_id,
                        idempotency_keys.c.idempotency_key == key,
                    )
                ).first()
                if stored is not None:
                    if stored.request_sha256 != digest:
                        return problem(
                            request,
                            "idempotency-key-reused",
                            "this Idempotency-Key was sent with another request; use a new key",
                            "Idempotency-Key",
                        )
                    return JSONResponse(json.loads(stored.body), status_code=stored.status)
                status, payload = work(connection)
                now = service.now()
                connection.execute(
                    insert(idempotency_keys).values(
                        key_id=actor.key_id,
                        idempotency_key=key,
                        request_sha256=digest,
                        status=status,
                        body=json.dumps(payload, ensure_ascii=False, default=str),
                        created_at=now,
                    )
                )
                connection.execute(
                    insert(access_log).values(
                        request_id=request.state.request_id,
                        key_id=actor.key_id,
                        method=request.method,
                        path=request.url.path,
                        status=status,
                        at=now,
                    )
                )
            return JSONResponse(_plain(payload), status_code=status)
        except IntegrityError:
            continue  # the same key committed meanwhile by a concurrent retry: read it
    raise InvalidInput("the request raced another under the same key; send it again")


# --- enrolment ----------------------------------------------------------------------------


class Enrolment(BaseModel):
    """One person enrolled where they work (one person, one worker: enrolling them again
    returns the same worker)."""

    model_config = ConfigDict(extra="forbid")

    resident_id: str = Field(min_length=15, max_length=18)
    work_region: str = Field(pattern=r"^[0-9]{6}$")
    hukou_region: str | None = Field(default=None, pattern=r"^[0-9]{6}$")


@router.post("/workers", status_code=201)
@access.rule(access.AGENCY_OF_REGION)
async def enrol_worker(
    request: Request,
    person: Enrolment,
    actor: ActorDep,
    service: ServiceDep,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Enrol a person in the work region's employee pension (an agency of that region). The
    answer shows the resident id masked, never in full."""
    from suiren.services.workers import enrol

    def work(connection: Connection) -> tuple[int, Any]:
        access.region(actor, person.work_region)
        done = enrol(
            connection,
            service.policy,
            service.vault,
            person.resident_id,
            person.work_region,
            person.hukou_region,
            service.now(),
        )
        w = done.worker
        return 201, {
            "worker_id": w.worker_id,
            "created": done.created,
            "resident_id": w.masked_id,
            "work_region": person.work_region,
        }

    return await _idempotent(request, actor, service, idempotency_key, work)


# --- the pension estimate -----------------------------------------------------------------


@router.get("/workers/{worker_id}/pension/estimate")
@access.rule(access.AGENCY_OF_WORKER)
def pension_estimate(
    worker_id: str,
    actor: ActorDep,
    service: ServiceDep,
    retire: RetireQuery = None,
    base_ratio: RatioQuery = None,
    wage_growth: GrowthQuery = "0",
    interest: RateQuery = None,
    paid_only: bool = False,
) -> JSONResponse:
    """Both scenarios side by side, paying on to retirement under stated assumptions (as
    ``suiren pension estimate``)."""
    with service.transaction(read_only=True) as connection:
        access.worker_region(connection, actor, worker_id)
        data = _estimate(
            connection, service, worker_id, retire, base_ratio, wage_growth, interest, paid_only
        )
    return JSONResponse(data)


def _estimate(
    connection: Connection,
    service: Service,
    worker_id: str,
    retire: str | None,
    base_ratio: str | None,
    wage_growth: str,
    interest: str | None,
    paid_only: bool,
) -> Any:
    from fractions import Fraction

    from suiren.policy import SCENARIOS
    from suiren.policy.projection import Assumptions
    from suiren.services.career import compare

    assumptions = None
    if not paid_only:
        assumptions = Assumptions(
            None if base_ratio is None else Fraction(base_ratio),
            Fraction(wage_growth),
            None if interest is None else Fraction(interest),
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


# --- transfers ----------------------------------------------------------------------------


class TransferRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transfer_id: str = Field(min_length=1, max_length=100)
    worker_id: str = Field(min_length=1, max_length=32)
    to_region: str = Field(pattern=r"^[0-9]{6}$")


@router.post("/transfers", status_code=201)
@access.rule(access.AGENCY_OF_WORKER)
async def request_transfer(
    request: Request,
    body: TransferRequest,
    actor: ActorDep,
    service: ServiceDep,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Request a worker's move to ``to_region`` (the agency holding the worker's insurance)."""
    from suiren.services.transfers import request_transfer as request_service

    def work(connection: Connection) -> tuple[int, Any]:
        access.worker_region(connection, actor, body.worker_id)
        view = request_service(
            connection,
            service.policy,
            body.transfer_id,
            body.worker_id,
            body.to_region,
            service.now(),
        )
        return 201, view.to_json()

    return await _idempotent(request, actor, service, idempotency_key, work)


@router.get("/transfers/{transfer_id}")
@access.rule(access.TRANSFER_PARTY)
def transfer_status(transfer_id: str, actor: ActorDep, service: ServiceDep) -> JSONResponse:
    """A transfer's state and amounts (either side's agency)."""
    with service.transaction(read_only=True) as connection:
        view = access.transfer(connection, actor, transfer_id, "view")
    return JSONResponse(view.to_json())


class Rejection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=200)


def _transfer_step(step: str) -> None:
    async def take(
        request: Request,
        transfer_id: str,
        actor: ActorDep,
        service: ServiceDep,
        idempotency_key: IdempotencyKey,
    ) -> JSONResponse:
        from suiren.services import transfers

        action = {
            "approve": transfers.approve_transfer,
            "accept": transfers.accept_transfer,
            "complete": transfers.complete_transfer,
        }[step]

        def work(connection: Connection) -> tuple[int, Any]:
            access.transfer(connection, actor, transfer_id, step)
            return 200, action(connection, transfer_id, service.now()).to_json()

        return await _idempotent(request, actor, service, idempotency_key, work)

    take.__name__ = f"{step}_transfer"
    take.__doc__ = {
        "approve": "The old region releases the money to clearing (转出; its agency).",
        "accept": "The new region takes the money in from clearing (转入; its agency).",
        "complete": "The new region finishes: the worker is insured there (办结; its agency).",
    }[step]
    router.post(f"/transfers/{{transfer_id}}/{step}")(access.rule(access.TRANSFER_PARTY)(take))


for _step in ("approve", "accept", "complete"):
    _transfer_step(_step)


@router.post("/transfers/{transfer_id}/reject")
@access.rule(access.TRANSFER_PARTY)
async def reject_transfer(
    request: Request,
    transfer_id: str,
    rejection: Rejection,
    actor: ActorDep,
    service: ServiceDep,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Refuse a transfer (either side's agency); money already released goes back."""
    from suiren.services.transfers import reject_transfer as reject_service

    def work(connection: Connection) -> tuple[int, Any]:
        access.transfer(connection, actor, transfer_id, "reject")
        return 200, reject_service(
            connection, transfer_id, service.now(), rejection.reason
        ).to_json()

    return await _idempotent(request, actor, service, idempotency_key, work)


# --- audit --------------------------------------------------------------------------------


@router.post("/audit/verify")
@access.rule(access.AUDITOR)
def audit_verify(actor: ActorDep, service: ServiceDep) -> JSONResponse:
    """Verify the whole ledger: chains, facts, projections, balances (an auditor, or the
    national agency). Reads only."""
    from suiren.store.audit import verify

    access.auditor(actor)
    with service.transaction() as connection:
        result = verify(connection)
    return JSONResponse(result.to_json())


# --- a file of payments -------------------------------------------------------------------

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
                raise TooLarge(f"a file has at most {UPLOAD_BYTES_MAX} bytes")
            out.write(piece)
    return hashed.hexdigest()


def _upload_suffix(content_type: str) -> str:
    suffix = UPLOAD_TYPES.get(content_type.split(";")[0].strip().lower())
    if suffix is None:
        raise InvalidInput(f"Content-Type: one of {', '.join(UPLOAD_TYPES)}", field="Content-Type")
    return suffix


@router.post("/workers/files")
@access.rule(access.AGENCY_OF_REGION)
async def enrol_file(
    request: Request,
    actor: ActorDep,
    service: ServiceDep,
    idempotency_key: IdempotencyKey,
    content_type: Annotated[str, Header()] = "",
) -> JSONResponse:
    """A file of people to enrol (CSV or Parquet; columns as ``suiren worker enrol --file``:
    resident_id, work_region, [hukou_region], [scheme]). People who work in the agency's
    regions are enrolled (one person, one worker); every other row comes back refused with
    its row, field and reason. One transaction for the file; the answer maps each enrolled
    row to its worker (no resident id: the answer is stored for replays)."""
    import tempfile
    from pathlib import Path

    from suiren.services.intake import (
        WORKER_COLUMNS,
        WORKER_REQUIRED,
        EnrolSummary,
        enrol_workers,
        read_chunks,
    )

    suffix = _upload_suffix(content_type)
    with tempfile.TemporaryDirectory(prefix="suiren-upload-") as folder:
        path = Path(folder) / f"workers{suffix}"
        sha256 = await _receive(request, path)

        def work(connection: Connection) -> tuple[int, Any]:
            summary = EnrolSummary()
            rows: list[dict[str, Any]] = []
            for chunk in read_chunks(
                path, WORKER_COLUMNS, WORKER_REQUIRED, service.settings.intake_chunk_rows
            ):
                part = enrol_workers(
                    connection,
                    service.policy,
                    service.vault,
                    chunk,
                    service.now(),
                    visible=actor.covers_region,
                )
                rows += [{"row": r, "worker_id": w} for r, w in part.rows_enrolled]
                summary.add(part)
            return 200, summary.to_json() | {"workers": rows}

        return await _idempotent(request, actor, service, idempotency_key, work, sha256)


class InterestYear(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: int = Field(ge=1998, le=2200)


@router.post("/interest/credit")
@access.rule(access.NATIONAL)
async def credit_interest_route(
    request: Request,
    body: InterestYear,
    actor: ActorDep,
    service: ServiceDep,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """The yearly interest (记账利率) on every region's individual accounts for a year that
    has ended (the national agency; a region already run for the year is skipped)."""
    from suiren.services.interest import credit_interest

    access.national(actor)

    def work(connection: Connection) -> tuple[int, Any]:
        runs = credit_interest(connection, service.policy, body.year, service.now())
        return 200, {
            "year": body.year,
            "regions": [
                {
                    "region": r.region,
                    "accounts": r.accounts,
                    "total_fen": r.total_fen,
                    "skipped": r.skipped,
                    "rate": r.rate,
                    "provisional": r.provisional,
                }
                for r in runs
            ],
        }

    return await _idempotent(request, actor, service, idempotency_key, work)


@router.post("/contributions/files")
@access.rule(access.AGENCY_OF_REGION)
async def contribute_file(
    request: Request,
    actor: ActorDep,
    service: ServiceDep,
    idempotency_key: IdempotencyKey,
    content_type: Annotated[str, Header()] = "",
) -> JSONResponse:
    """A file of payments (the body: CSV, ``text/csv``, or Parquet,
    ``application/vnd.apache.parquet``; columns as ``suiren contribute --file``, workers by
    ``worker_id``). Rows of workers in the agency's region are posted, every other row comes
    back refused with its row, field and reason; one transaction for the file. A worker of
    another region is refused as an unknown one."""
    import tempfile
    from pathlib import Path

    from suiren.services.intake import (
        PAYMENT_COLUMNS,
        PAYMENT_REQUIRED,
        IntakeSummary,
        post_payments,
        read_chunks,
    )

    suffix = _upload_suffix(content_type)
    with tempfile.TemporaryDirectory(prefix="suiren-upload-") as folder:
        path = Path(folder) / f"payments{suffix}"
        sha256 = await _receive(request, path)
        first = next(iter(read_chunks(path, PAYMENT_COLUMNS, PAYMENT_REQUIRED, chunk_rows=1)), None)
        if first is not None and "resident_id" in first.table.column_names:
            raise InvalidInput(
                "name workers by worker_id in a file sent to the API", field="resident_id"
            )

        def work(connection: Connection) -> tuple[int, Any]:
            summary = IntakeSummary()
            chunks = read_chunks(
                path, PAYMENT_COLUMNS, PAYMENT_REQUIRED, service.settings.intake_chunk_rows
            )
            for chunk in chunks:
                summary.add(
                    post_payments(
                        connection,
                        service.policy,
                        None,
                        chunk,
                        service.now(),
                        visible=actor.covers_region,
                    )
                )
            return 200, summary.to_json()

        return await _idempotent(request, actor, service, idempotency_key, work, sha256)


HISTORY_JSON_ROWS_MAX = 10_000


class HistoryRows(BaseModel):
    """A few people's earlier history as JSON (a bulk import sends a CSV or Parquet body):
    the rows of a stints file and, optionally, of a balances file, every value as text."""

    model_config = ConfigDict(extra="forbid")

    stints: list[dict[str, str]] = Field(min_length=1, max_length=HISTORY_JSON_ROWS_MAX)
    balances: list[dict[str, str]] = Field(default_factory=list, max_length=HISTORY_JSON_ROWS_MAX)


@router.post("/workers/history")
@access.rule(access.AGENCY_OF_REGION)
async def import_history(
    request: Request,
    actor: ActorDep,
    service: ServiceDep,
    idempotency_key: IdempotencyKey,
    content_type: Annotated[str, Header()] = "",
) -> JSONResponse:
    """Workers' earlier history from the agency's old system (as ``suiren worker
    import-history``): the body is a stints file (CSV or Parquet), or JSON with ``stints``
    and ``balances`` rows. People the agency insures are imported (new ones enrolled where
    their last stint was, in its regions); any other person's rows come back refused, with
    every other refused row (row, field, reason). One transaction for the request."""
    import csv
    import io
    import tempfile
    from pathlib import Path

    from suiren.services.history import (
        BALANCE_COLUMNS,
        STINT_COLUMNS,
        HistorySummary,
        import_people,
        people,
        read_balances,
        refused_rows,
        unmatched_balances,
    )

    kind = content_type.split(";")[0].strip().lower()
    with tempfile.TemporaryDirectory(prefix="suiren-upload-") as folder:
        balances_path: Path | None = None
        if kind == "application/json":
            body = await request.body()
            if len(body) > UPLOAD_BYTES_MAX:
                raise TooLarge(f"at most {UPLOAD_BYTES_MAX} bytes")
            import_id = hashlib.sha256(body).hexdigest()
            try:
                rows = HistoryRows.model_validate_json(body)
            except ValidationError as error:  # the same 422 as a route's own body model
                raise RequestValidationError(error.errors(include_url=False)) from None
            path = Path(folder) / "stints.csv"
            for target, items, columns in (
                (path, rows.stints, STINT_COLUMNS),
                (Path(folder) / "balances.csv", rows.balances, BALANCE_COLUMNS),
            ):
                if not items:
                    continue
                unknown = sorted({k for item in items for k in item} - set(columns))
                if unknown:
                    raise InvalidInput(
                        f"unknown field(s) {', '.join(unknown[:5])}; the fields are"
                        f" {', '.join(columns)}",
                        field=unknown[0][:40],
                    )
                text = io.StringIO()
                writer = csv.DictWriter(text, fieldnames=list(columns), lineterminator="\n")
                writer.writeheader()
                writer.writerows(items)
                target.write_text(text.getvalue(), encoding="utf-8")
            if rows.balances:
                balances_path = Path(folder) / "balances.csv"
        else:
            suffix = UPLOAD_TYPES.get(kind)
            if suffix is None:
                raise InvalidInput(
                    f"Content-Type: one of {', '.join([*UPLOAD_TYPES, 'application/json'])}",
                    field="Content-Type",
                )
            path = Path(folder) / f"stints{suffix}"
            import_id = await _receive(request, path)
        found = read_balances(balances_path)[0] if balances_path else {}

        def work(connection: Connection) -> tuple[int, Any]:
            summary = HistorySummary()
            seen: set[str] = set()
            first_row: dict[str, int] = {}
            for unit in people(path, service.settings.intake_chunk_rows):
                seen.update(p.resident_id for p in unit)
                first_row.update((p.resident_id, p.rows[0][0]) for p in unit)
                summary.add(
                    import_people(
                        connection,
                        service.policy,
                        service.vault,
                        unit,
                        found,
                        import_id,
                        service.now(),
                        visible=actor.covers_region,
                    )
                )
            summary.errors += unmatched_balances(found, seen)
            summary.refused = refused_rows(summary.errors)
            answer = summary.to_json() | {  # no resident id: the answer is stored (replays)
                "import_id": import_id,
                "workers": [
                    {"first_row": first_row[r], "worker_id": w} for r, w in summary.mapping
                ],
            }
            return 200, answer

        return await _idempotent(request, actor, service, idempotency_key, work, import_id)


# --- a worker's own login and records -----------------------------------------------------

AUTH_REQUESTS_PER_MINUTE = 20  # per client address, for the three /auth routes
THROTTLED = documented({429})  # every /auth route, past AUTH_REQUESTS_PER_MINUTE
LOGIN_REFUSED = documented({401, 429})  # a wrong code or password reads alike


def throttle_logins(request: Request) -> None:
    """At most AUTH_REQUESTS_PER_MINUTE login requests a minute from one address (in this
    process; a deployment with several processes puts the same limit at its proxy). The
    portal's login forms count here too."""
    import time as clock

    address = request.client.host if request.client else "?"
    now = clock.monotonic()
    seen = service_of(request).auth_requests
    recent = [t for t in seen.get(address, []) if now - t < 60]
    if len(recent) >= AUTH_REQUESTS_PER_MINUTE:
        from suiren.services.logins import LoginLocked

        raise LoginLocked("too many login requests from this address: wait a minute")
    seen[address] = [*recent, now]


class CodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resident_id: str = Field(min_length=15, max_length=18)


class Registration(CodeRequest):
    code: str = Field(pattern=r"^[0-9]{6}$")
    password: str = Field(min_length=8, max_length=128)


class Credentials(CodeRequest):
    """A worker's resident id and password (set with ``/auth/register``)."""

    password: str = Field(min_length=1, max_length=128)


class ClerkCredentials(BaseModel):
    """An agency clerk's login name and password (``suiren clerk add``; the console's)."""

    model_config = ConfigDict(extra="forbid")

    login: str = Field(min_length=1, max_length=CLERK_LOGIN_CHARS_MAX)
    password: str = Field(min_length=1, max_length=128)


@router.post("/auth/code", status_code=202, responses=THROTTLED)
@access.rule(access.PUBLIC)
def auth_code(request: Request, body: CodeRequest, service: ServiceDep) -> JSONResponse:
    """Send a one-time code to the phone on record (demo mode: the code is in the answer).
    The answer is the same whether the person is insured or not."""
    from suiren.services.logins import request_code

    throttle_logins(request)
    with service.transaction() as connection:
        code = request_code(connection, service.vault, body.resident_id, service.now())
    answer: dict[str, Any] = {"sent": True}
    if service.settings.demo_codes:
        answer["demo_code"] = code
    return JSONResponse(answer, status_code=202)


@router.post("/auth/register", status_code=201, responses=LOGIN_REFUSED)
@access.rule(access.PUBLIC)
def auth_register(request: Request, body: Registration, service: ServiceDep) -> JSONResponse:
    """Set a password with a one-time code (an enrolled person only; any refusal reads the
    same)."""
    from suiren.services.logins import REFUSED, LoginRefused, register

    throttle_logins(request)
    with service.transaction() as connection:  # a wrong code's attempt is kept: then refused
        worker = register(
            connection, service.vault, body.resident_id, body.code, body.password, service.now()
        )
    if worker is None:
        raise LoginRefused(REFUSED)
    return JSONResponse({"registered": True}, status_code=201)


def _credentials_kind(body: Any) -> str:
    """A clerk's credentials name a login; any other body is read as a worker's (so that a
    mistake in either is reported against the fields its sender meant)."""
    return "ClerkCredentials" if isinstance(body, dict) and "login" in body else "Credentials"


UNION_TAGS = frozenset({"Credentials", "ClerkCredentials"})  # not fields: left out of errors
AnyCredentials = Annotated[
    Annotated[Credentials, Tag("Credentials")]
    | Annotated[ClerkCredentials, Tag("ClerkCredentials")],
    Discriminator(_credentials_kind),
]


@router.post("/auth/token", responses=LOGIN_REFUSED)
@access.rule(access.PUBLIC)
def auth_token(request: Request, body: AnyCredentials, service: ServiceDep) -> JSONResponse:
    """A session token (Bearer) for a worker's resident id and password (``wt_…``: their own
    records, under ``/me``), or for an agency clerk's login name and password (``ct_…``:
    what an agency key of the clerk's region may do, no more). The same limit per address
    and lock-out for both; any refusal reads the same, whether the login exists or not."""
    from suiren.services.logins import TOKEN_TTL

    throttle_logins(request)
    if isinstance(body, ClerkCredentials):
        token = _clerk_token(request, body, service)
    else:
        token = _worker_token(body, service)
    return JSONResponse(
        {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": int(TOKEN_TTL.total_seconds()),
        }
    )


def _worker_token(body: Credentials, service: Service) -> str:
    from suiren.services.logins import REFUSED, LoginRefused, log_in, sign_token

    with service.transaction() as connection:  # a failure is counted: then refused
        worker = log_in(connection, service.vault, body.resident_id, body.password, service.now())
    if worker is None:
        raise LoginRefused(REFUSED)
    return sign_token(service.token_key, worker, service.now())


def _clerk_token(request: Request, body: ClerkCredentials, service: Service) -> str:
    """The clerk's token, as the console's login gives (the same check, lock-out and
    refusal); the login is in the access log, as a console login is."""
    from suiren.services.clerks import REFUSED, log_in_clerk, sign_clerk_token
    from suiren.services.logins import LoginRefused

    now = service.now()
    with service.transaction() as connection:  # a failure is counted: then refused
        clerk = log_in_clerk(connection, body.login, body.password, now)
        if clerk is not None:
            connection.execute(
                insert(access_log).values(
                    request_id=request.state.request_id,
                    key_id=clerk.actor_id,
                    method=request.method,
                    path=request.url.path,
                    status=200,
                    at=now,
                )
            )
    if clerk is None:
        raise LoginRefused(REFUSED)
    return sign_clerk_token(service.token_key, clerk.login, now)


@router.get("/me/statement")
@access.rule(access.WORKER_SELF)
def my_statement(actor: ActorDep, service: ServiceDep) -> JSONResponse:
    """The logged-in worker's own months and balances."""
    from suiren.services.statement import statement

    worker_id = access.worker_self(actor)
    with service.transaction(read_only=True) as connection:
        return JSONResponse(_plain(statement(connection, worker_id)))


@router.get("/me/pension/estimate")
@access.rule(access.WORKER_SELF)
def my_pension_estimate(
    actor: ActorDep,
    service: ServiceDep,
    retire: RetireQuery = None,
    base_ratio: RatioQuery = None,
    wage_growth: GrowthQuery = "0",
    interest: RateQuery = None,
    paid_only: bool = False,
) -> JSONResponse:
    """The logged-in worker's own pension estimate, both scenarios (多缴多得 ladder included)."""
    worker_id = access.worker_self(actor)
    with service.transaction(read_only=True) as connection:
        data = _estimate(
            connection, service, worker_id, retire, base_ratio, wage_growth, interest, paid_only
        )
    return JSONResponse(data)


@router.get("/me/medical/status")
@access.rule(access.WORKER_SELF)
def my_medical_status(actor: ActorDep, service: ServiceDep) -> JSONResponse:
    """The logged-in worker's own employee medical record (months, break, waiting period,
    lifetime cover)."""
    worker_id = access.worker_self(actor)
    with service.transaction(read_only=True) as connection:
        return JSONResponse(_medical_status(connection, service, worker_id))


# --- lists, page by page ------------------------------------------------------------------

PAGE_ROWS_MAX = 200
PageQuery = Annotated[int, Query(ge=1, le=PAGE_ROWS_MAX)]
CursorQuery = Annotated[str | None, Query(max_length=200)]


def _cursor(value: str | None) -> str:
    """The key a page starts after (an opaque cursor: the last key of the previous page)."""
    import base64

    if value is None:
        return ""
    try:
        padded = value.encode() + b"=" * (-len(value) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("not a cursor this API gave", field="cursor") from None


def _next(keys: list[str], limit: int) -> str | None:
    import base64

    if len(keys) < limit:
        return None
    return base64.urlsafe_b64encode(keys[-1].encode()).rstrip(b"=").decode()


@router.get("/transfers")
@access.rule(access.AGENCY_OF_REGION)
def list_transfers(
    actor: ActorDep,
    service: ServiceDep,
    state: Annotated[str | None, Query(pattern=r"^[a-z]{1,20}$")] = None,
    limit: PageQuery = 50,
    cursor: CursorQuery = None,
) -> JSONResponse:
    """The transfers leaving or entering the agency's region, by id, a page at a time
    (``next_cursor`` gives the next page; null at the end)."""
    from sqlalchemy import or_

    from suiren.services.transfers import TransferView
    from suiren.store.tables import transfers

    prefix = actor.region_prefix()
    if prefix is None:
        raise access.NotFound("no such resource here")
    query = select(transfers).where(
        or_(transfers.c.from_region.like(f"{prefix}%"), transfers.c.to_region.like(f"{prefix}%")),
        transfers.c.transfer_id > _cursor(cursor),
    )
    if state is not None:
        query = query.where(transfers.c.state == state)
    with service.transaction(read_only=True) as connection:
        rows = connection.execute(query.order_by(transfers.c.transfer_id).limit(limit)).all()
    views = [TransferView.from_row(r) for r in rows]
    return JSONResponse(
        {
            "items": [v.to_json() for v in views],
            "next_cursor": _next([v.transfer_id for v in views], limit),
        }
    )


@router.get("/workers")
@access.rule(access.AGENCY_OF_REGION)
def list_workers(
    actor: ActorDep,
    service: ServiceDep,
    limit: PageQuery = 50,
    cursor: CursorQuery = None,
) -> JSONResponse:
    """The workers insured in the agency's region (their pension enrolment), by id, a page at a
    time; resident ids masked."""
    from suiren.store.tables import enrolments, workers

    prefix = actor.region_prefix()
    if prefix is None:
        raise access.NotFound("no such resource here")
    query = (
        select(
            workers.c.worker_id,
            workers.c.masked_id,
            workers.c.sex,
            enrolments.c.region,
            enrolments.c.relation_region,
            enrolments.c.temporary,
        )
        .join(enrolments, enrolments.c.worker_id == workers.c.worker_id)
        .where(
            enrolments.c.scheme == "employee_pension",
            enrolments.c.region.like(f"{prefix}%"),
            workers.c.worker_id > _cursor(cursor),
        )
        .order_by(workers.c.worker_id)
        .limit(limit)
    )
    with service.transaction(read_only=True) as connection:
        rows = connection.execute(query).all()
    items = [
        {
            "worker_id": r.worker_id,
            "resident_id": r.masked_id,
            "sex": r.sex,
            "region": r.region,
            "relation_region": r.relation_region,
            "temporary": bool(r.temporary),
        }
        for r in rows
    ]
    return JSONResponse(
        {"items": items, "next_cursor": _next([i["worker_id"] for i in items], limit)}
    )


# --- settlement and checkpoints -----------------------------------------------------------

DayPath = Annotated[str, Path(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"not a day: {text}", field="window") from None


@router.post("/settlement/windows/{window}/close")
@access.rule(access.NATIONAL)
async def close_settlement(
    request: Request,
    window: DayPath,
    actor: ActorDep,
    service: ServiceDep,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Net the window's transfers per region and post the settlement (the national agency;
    a window closes once its day is over, and closing it again returns the first result)."""
    from suiren.services.settlement import close_window

    access.national(actor)
    day = _day(window)

    def work(connection: Connection) -> tuple[int, Any]:
        return 200, close_window(connection, day, service.now()).to_json()

    return await _idempotent(request, actor, service, idempotency_key, work)


@router.get("/settlement/windows/{window}")
@access.rule(access.NATIONAL)
def settlement_report(window: DayPath, actor: ActorDep, service: ServiceDep) -> JSONResponse:
    """The window's region × region flows and net positions (the national agency)."""
    from suiren.services.settlement import report

    access.national(actor)
    with service.transaction(read_only=True) as connection:
        return JSONResponse(_plain(report(connection, _day(window)).to_json()))


@router.post("/audit/checkpoint")
@access.rule(access.AUDITOR)
def audit_checkpoint(actor: ActorDep, service: ServiceDep) -> JSONResponse:
    """The chain heads, signed: keep it outside the database, and verify against it later
    (``suiren audit verify --checkpoint``)."""
    from suiren.store.checkpoint import make_checkpoint

    access.auditor(actor)
    with service.transaction() as connection:
        return JSONResponse(make_checkpoint(connection, service.now()))
