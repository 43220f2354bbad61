"""The HTTP API (``/api/v1``): thin routes over the services, one policy module for access,
problem+json errors, idempotent POSTs. ``suiren serve`` runs it with uvicorn.

This module builds the app: the ``Service``, the error handlers, the request id and body
limits, the OpenAPI description, and the routers of ``suiren.api.routes`` (one module an area:
health, pension, workers, contributions, transfers, oversight, auth, me, platforms; ``common``
holds what they share).

Limits: a request body of at most ``BODY_BYTES_MAX`` (an upload's, a file and not JSON:
``routes.common.UPLOAD_BYTES_MAX``), by its ``Content-Length`` and as it streams (a chunked
body has none); an ``Idempotency-Key`` of at most ``routes.common.IDEMPOTENCY_KEY_CHARS_MAX``
ASCII characters; a JSON body read strictly, no NUL in a path or a query and no query
parameter named twice (``api.body``).
Every write records the actor's key and the request id in the access log, in the same
database transaction as the write.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from suiren.api import access, validation
from suiren.api.body import checked_url
from suiren.api.problems import Problem, documented, from_error, problem
from suiren.api.routes import (
    auth,
    common,
    contributions,
    health,
    me,
    oversight,
    pension,
    platforms,
    transfers,
    workers,
)
from suiren.api.routes.auth import UNION_TAGS
from suiren.api.routes.common import Service
from suiren.domain.errors import SuirenError
from suiren.domain.messages import Text
from suiren.domain.messages import text as message
from suiren.policy import load_policy
from suiren.services.identity import IdentityVault, ledger_keys, token_key
from suiren.settings import Settings, trusted_proxies
from suiren.store.db import make_engine

BODY_BYTES_MAX = 10_000_000  # a JSON batch of about 50,000 pension cases
_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9_.:-]{1,64}", re.ASCII)
log = logging.getLogger("suiren.api")

router = APIRouter(prefix="/api/v1")
for _area in (health, pension, workers, contributions, transfers, oversight, auth, me, platforms):
    router.include_router(_area.router)


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
        dependencies=[Depends(checked_url)],  # every route's, the portal's pages too
        # a path with a slash added is an unknown one (404), never a redirect to an absolute
        # URL that Starlette builds from the request's Host header
        redirect_slashes=False,
    )
    app.state.service = service
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    _errors(app)
    app.add_middleware(RequestIdAndLimits)
    app.add_middleware(HeadAsGet)
    # outermost: everything inside sees the client the trusted proxies name (`suiren serve`
    # runs uvicorn without its own proxy handling, so it is applied once, here)
    app.add_middleware(
        ProxyHeadersMiddleware, trusted_hosts=trusted_proxies(settings.forwarded_allow_ips)
    )
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
        body_itself = tuple(first.get("loc", ())) == ("body",)
        if body_itself and first.get("type") in _NO_OBJECT:  # none, or no object
            return _body_refused(request, first.get("type") == "missing")
        loc = [part for part in first.get("loc", ())[1:] if part not in UNION_TAGS]
        where = ".".join(str(part) for part in loc) or None
        return problem(
            request,
            "invalid-request",
            # pydantic's English, and the Chinese for its error type (``api.validation``)
            message(
                "body.field" if where else "body.schema", where=where, error=validation.said(first)
            ),
            where,
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}.get(
            error.status_code
        )
        # a BodyRefused, a limit of its own: said in both languages; Starlette's own 404 (no
        # such path) and 405 in both too; any other as its words
        said = error.detail if isinstance(error.detail, Text) else str(error.detail)
        if said == "Not Found" and code == "not-found":
            said = message("api.no-path")
        elif said == "Method Not Allowed" and code == "method-not-allowed":
            said = message("api.method")
        if code is None:  # a body that does not parse (400): invalid, as a malformed JSON is
            return problem(request, "invalid-request", said)
        return problem(request, code, said, status=error.status_code, headers=error.headers)

    @app.exception_handler(DataError)
    async def unstorable(request: Request, error: DataError) -> JSONResponse:
        """A value the database cannot take (SQLSTATE class 22): the same request would be
        refused again, so it is no "try again" (503) but a refusal of the request."""
        log.warning(
            "database refused a value on %s: %s", request.url.path, type(error.orig).__name__
        )
        return problem(request, "invalid-request", message("api.unstorable"))

    @app.exception_handler(DBAPIError)
    async def database(request: Request, error: DBAPIError) -> JSONResponse:
        log.warning("database refused %s: %s", request.url.path, type(error.orig).__name__)
        return problem(request, "retry", message("api.database-refused"))

    @app.exception_handler(Exception)
    async def internal(request: Request, error: Exception) -> JSONResponse:
        log.exception("internal error on %s", request.url.path)
        return problem(request, "internal", message("api.internal"))


# pydantic's types of a route's body that is missing or no JSON object (an object its model
# refuses as a whole — a model validator's error, also at ("body",) — is said as such)
_NO_OBJECT = frozenset({"missing", "model_attributes_type", "model_type", "dict_type"})


def _body_refused(request: Request, missing: bool) -> JSONResponse:
    """A route's body that is not a JSON object, said in words a caller can act on (pydantic
    says "Input should be a valid dictionary or object to extract fields from")."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json" and not kind.endswith("+json"):
        shown = Text(kind[:60] or "空", kind[:60] or "none")
        return problem(
            request, "invalid-request", message("body.not-json-type", kind=shown), "Content-Type"
        )
    if missing:
        return problem(request, "invalid-request", message("body.missing"))
    return problem(request, "invalid-request", message("body.not-object"))


class _HttpMiddleware:
    """Plain ASGI middleware of HTTP requests (not ``BaseHTTPMiddleware``, which re-streams
    every response through a task group): lifespan and websocket scopes pass through, an HTTP
    request goes to ``handle``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class HeadAsGet(_HttpMiddleware):
    """``HEAD`` answered as ``GET`` without its body (RFC 9110 §9.3.2: a server that answers
    GET answers HEAD — a load balancer's or an uptime monitor's probe of ``/api/v1/health``):
    the same status and headers, ``Content-Length`` included, and no body; where GET is
    refused, so is HEAD. A 405 whose ``Allow`` names GET names HEAD too."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        head = scope["method"] == "HEAD"

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                message["headers"] = [_allowing_head(k, v) for k, v in message["headers"]]
            elif message["type"] == "http.response.body" and head:
                if message.get("more_body", False):
                    return  # a streamed body: none of it, only its end
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"} if head else scope, receive, answer)


def _allowing_head(name: bytes, value: bytes) -> tuple[bytes, bytes]:
    if name.lower() != b"allow":
        return name, value
    methods = [m.strip() for m in value.decode("latin-1").split(",")]
    if "GET" in methods and "HEAD" not in methods:
        methods.insert(methods.index("GET") + 1, "HEAD")
    return name, ", ".join(methods).encode("latin-1")


class RequestIdAndLimits(_HttpMiddleware):
    """Every request gets an id (its ``X-Request-ID`` if well-formed, else a new one: in
    ``request.state.request_id`` and on the response); a body too long by its
    ``Content-Length`` is refused before it is read, and one without (chunked) as soon as it
    streams past the limit."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        given = headers.get("x-request-id", "")
        request_id = given if _REQUEST_ID_RE.fullmatch(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        tag = (b"x-request-id", request_id.encode())

        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), tag]
            await send(message)

        length = headers.get("content-length")
        limit = body_bytes_max(scope["path"], headers.get("content-type", ""))
        too_large = message("api.request-too-large", bytes_max=limit)
        if length is not None and not (length.isascii() and length.isdigit()):
            # not a length at all (RFC 9110 §8.6: 1*DIGIT): refused as such, not as too large
            refused = problem(
                Request(scope),
                "invalid-content-length",
                message("api.content-length", shown=repr(length[:20])),
            )
            await refused(scope, receive, tagged)
            return
        if length is not None and int(length) > limit:
            refused = problem(Request(scope), "too-large", too_large)
            await refused(scope, receive, tagged)
            return
        received = 0

        async def counted() -> Message:
            """The body as it streams, refused (413) once past the limit: a chunked body
            has no Content-Length to refuse it by."""
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, too_large)
            return message

        await self.app(scope, counted, tagged)


def body_bytes_max(path: str, content_type: str = "") -> int:
    """The longest body a request to ``path`` may send: an upload's (a file of payments or of
    workers, a history), or any other's — a history sent as JSON too, which is read whole
    into memory as every JSON body is (an upload streams to a file)."""
    media = content_type.split(";")[0].strip().lower()
    upload = path.endswith("/files") or path == "/api/v1/workers/history"
    if upload and media != "application/json":
        return common.UPLOAD_BYTES_MAX
    return BODY_BYTES_MAX
