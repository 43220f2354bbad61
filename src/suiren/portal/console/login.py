"""A clerk logs in to the console (a login name and a password) and out.

Login attempts count against the API's limit per address (``throttle_logins``); a wrong
password counts against the login and five in a row lock it, as a worker's
(``services/clerks``). Every refusal reads the same, whether the login exists or not.
"""

from __future__ import annotations

from contextlib import suppress

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from suiren.api import access
from suiren.api.routes.auth import throttle_logins
from suiren.api.routes.common import service_of
from suiren.domain.errors import InvalidInput, SuirenError
from suiren.portal import session as portal_session
from suiren.portal import text
from suiren.portal.console import session
from suiren.portal.console.desk import (
    HOME_PATH,
    LOGIN_PATH,
    Desk,
    posted,
    record,
    render,
    status_of,
)
from suiren.portal.forms import read_form
from suiren.services.clerks import LOGIN_CHARS_MAX, Clerk

router = APIRouter(include_in_schema=False)
PASSWORD_CHARS_MAX = 128
NOTICES = {"expired": "expired", "logged-out": "logged-out"}


def _login_page(
    request: Request, message: text.Said | None = None, status: int = 200, kind: str = "error"
) -> HTMLResponse:
    return render(
        request,
        None,
        "login.html",
        status,
        title=text.N_("Clerk log in"),
        message=message,
        message_kind=kind,
    )


@router.get("/console")
@router.get("/console/")
@access.rule(access.PUBLIC)
def console_home(request: Request) -> Response:
    """The transfers waiting for the clerk's region (the login page first)."""
    return RedirectResponse(HOME_PATH, status_code=303)


@router.get("/console/login")
@access.rule(access.PUBLIC)
def login_page(request: Request, notice: str | None = None) -> Response:
    service = service_of(request)
    if session.current(request, service.token_key, service.now()) is not None:
        return RedirectResponse(HOME_PATH, status_code=303)
    message = text.MESSAGES[NOTICES[notice]] if notice in NOTICES else None
    return _login_page(request, message, kind="notice" if notice == "logged-out" else "error")


@router.post("/console/login")
@access.rule(access.PUBLIC)
async def log_in(request: Request) -> Response:
    """A login name and password: the console session, or the same refusal for any mistake."""
    from suiren.services.clerks import log_in_clerk

    service = service_of(request)
    form = await read_form(request)
    if form is None:
        return _login_page(request, text.MESSAGES["bad-form"], 400)
    if not portal_session.csrf_valid(
        request, service.token_key, form.get(portal_session.CSRF_FIELD)
    ):
        return _login_page(request, text.MESSAGES["csrf"], 403)
    login, password = form.get("login", ""), form.get("password", "")
    now = service.now()
    try:
        throttle_logins(request)
        if not (0 < len(login) <= LOGIN_CHARS_MAX and 0 < len(password) <= PASSWORD_CHARS_MAX):
            return _login_page(request, text.CONSOLE_MESSAGES["refused"], 401)

        def work() -> Clerk | None:
            with service.transaction() as connection:  # a failure is counted: then refused
                clerk = log_in_clerk(connection, login, password, now)
                if clerk is not None:
                    record(connection, request, clerk, now, 303)
                return clerk

        logged_in = await run_in_threadpool(work)
    except SuirenError as error:
        return _login_page(request, text.message_for(error), status_of(error))
    if logged_in is None:
        return _login_page(request, text.CONSOLE_MESSAGES["refused"], 401)
    response = RedirectResponse(HOME_PATH, status_code=303)
    session.start(request, response, service.token_key, logged_in, now)
    portal_session.set_nonce(request, response, portal_session.new_nonce())
    return response


@router.post("/console/logout")
@access.rule(access.PUBLIC)
async def log_out(request: Request) -> Response:
    """End the clerk's sessions (a form with its CSRF token, so no other site can log a clerk
    out): their generation moved on, so that this cookie, a copy of it or a token renewed
    from it opens nothing afterwards — on this computer or any other — and the cookie
    removed."""
    from suiren.services.clerks import end_clerk_sessions

    checked = await posted(request)
    if not isinstance(checked, tuple):
        return checked
    desk, _ = checked

    def work(desk: Desk) -> None:
        with desk.service.transaction() as connection:
            # removed, or not as recorded, since: its tokens open nothing already
            with suppress(InvalidInput):
                end_clerk_sessions(connection, desk.clerk.login, desk.now, desk.clerk.actor_id)
            record(connection, request, desk.clerk, desk.now, 303)

    await run_in_threadpool(work, desk)
    response = RedirectResponse(f"{LOGIN_PATH}?notice=logged-out", status_code=303)
    session.end(request, response)
    return response
