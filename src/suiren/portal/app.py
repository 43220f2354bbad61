"""The whole Suiren service in one app: the HTTP API under ``/api/v1``, the worker portal
at ``/`` and the agency console at ``/console/`` (``suiren serve`` runs it).

The portal sits on the API's app and its ``Service`` (settings, policy, engine, vault, token
key and the login counter, built once); it adds its pages, its static files (``/static``:
htmx and one stylesheet, no CDN) and, for every path outside ``/api/``, HTML error pages in
place of problem+json and headers that forbid inline scripts, other origins and framing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, DBAPIError
from starlette.datastructures import MutableHeaders, QueryParams
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from suiren.api.app import create_app as create_api
from suiren.api.routes.common import service_of
from suiren.domain.errors import SuirenError
from suiren.portal import account, console, i18n, moves, pages, pay, text
from suiren.portal.render import language_cookie, page
from suiren.settings import Settings

STATIC = Path(__file__).with_name("static")
API_PREFIX = "/api/"
log = logging.getLogger("suiren.portal")
PORTAL_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"
        " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def create_app(settings: Settings | None = None) -> FastAPI:
    app = create_api(settings)
    app.include_router(pages.router)
    app.include_router(pay.router)
    app.include_router(moves.router)
    app.include_router(account.router)
    app.include_router(console.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _html_errors(app)
    app.add_middleware(PortalHeaders)
    return app


class PortalHeaders:
    """``PORTAL_HEADERS`` on every response outside ``/api/`` that does not set them itself
    (plain ASGI: no re-streamed response); and where ``?lang=`` chose a language, the cookie
    that keeps it on a response that does not set it itself — a redirect (``/?lang=en`` to
    the login page, a page that needs a login) kept the language only on a rendered page, so
    the page redirected to was in Chinese again."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        chosen = QueryParams(scope.get("query_string", b"")).get("lang")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in PORTAL_HEADERS.items():
                    if name not in headers:
                        headers.append(name, value)
                kept = f"{i18n.LANGUAGE_COOKIE}="
                if chosen in i18n.LANGUAGES and not any(
                    c.startswith(kept) for c in headers.getlist("set-cookie")
                ):
                    https = scope.get("scheme") == "https"
                    headers.append("set-cookie", language_cookie(chosen, https))
            await send(message)

        await self.app(scope, receive, with_headers)


def _html_errors(app: FastAPI) -> None:
    """Outside ``/api/``, an error is a page in the page's language; inside, the API's own
    problem+json handler answers as before."""
    for kind in list(app.exception_handlers):
        api_handler = app.exception_handlers[kind]
        app.exception_handlers[kind] = _either(api_handler)


def _either(api_handler: Callable[..., Any]) -> Callable[..., Any]:
    async def handle(request: Request, error: Exception) -> Any:
        if request.url.path.startswith(API_PREFIX):
            return await api_handler(request, error)
        return _error_page(request, error)

    return handle


def _error_page(request: Request, error: Exception) -> Response:
    if isinstance(error, HTTPException):
        status = error.status_code
        message = text.MESSAGES["not-found"] if status == 404 else text.MESSAGES["bad-form"]
    elif isinstance(error, SuirenError):
        status, message = 422, text.message_for(error)
    elif isinstance(error, DataError):  # a value it cannot store: sent again, refused again
        log.warning("database refused a value on %s: %s", request.url.path, type(error).__name__)
        status, message = 422, text.MESSAGES["bad-form"]
    elif isinstance(error, DBAPIError):
        log.warning("database refused %s: %s", request.url.path, type(error).__name__)
        status, message = 503, text.MESSAGES["retry"]
    else:
        log.exception("internal error on %s", request.url.path, exc_info=error)
        status, message = 500, text.MESSAGES["internal"]
    service = service_of(request)
    return page(
        request,
        service.token_key,
        "error.html",
        status,
        title=text.N_("Something went wrong"),
        message=message,
    )
