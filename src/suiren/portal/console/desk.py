"""What every console page shares: the clerk from the session, acting as an agency of their
region (``Desk.actor``, for the one access policy); the page around a template; the form of
a POST, checked for this browser's CSRF token before anything else; the access-log row of
every POST, written in the unit of work it records; and refusals as pages (a fragment for
htmx) with the API's status for each error code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection

from suiren.api import trail
from suiren.api.auth import Actor, clerk_actor, confirm_caller
from suiren.api.problems import DEFAULT, PROBLEMS
from suiren.api.routes.common import Service, service_of
from suiren.domain.errors import SuirenError
from suiren.portal import session as portal_session
from suiren.portal import text
from suiren.portal.console import session
from suiren.portal.forms import read_form
from suiren.portal.render import page
from suiren.services.clerks import Clerk

LOGIN_PATH = "/console/login"
HOME_PATH = "/console/transfers"


@dataclass(frozen=True)
class Desk:
    """A request of a logged-in clerk: the service, the clerk as the database has them now,
    and the one ``now`` every service called for this request is given."""

    service: Service
    clerk: Clerk
    now: datetime
    token: str  # the session's (``ct_…``), as the cookie held it

    @property
    def actor(self) -> Actor:
        return clerk_actor(self.clerk)

    def confirm(self, connection: Connection) -> None:
        """A write's check of its clerk in its own transaction (``auth.confirm_caller``, as
        an API write's): the clerk still at this desk, or 401 and nothing written — a clerk
        moved to another region's desk or removed since ``desk_of`` read them writes
        nothing as they were."""
        confirm_caller(
            connection, self.actor, f"Bearer {self.token}", self.service.token_key, self.now
        )

    @property
    def prefix(self) -> str:
        """What the codes of the regions this clerk covers begin with ("" for national)."""
        prefix = self.actor.region_prefix()
        assert prefix is not None, "a clerk acts as an agency"
        return prefix

    @property
    def may_audit(self) -> bool:
        return self.actor.covers_region("000000")


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _to_login(request: Request) -> Response:
    """To the login page (saying the session expired if there was one); htmx follows the
    header with a full page load."""
    target = f"{LOGIN_PATH}?notice=expired" if session.had_session(request) else LOGIN_PATH
    response: Response
    if is_htmx(request):
        response = Response(status_code=204, headers={"HX-Redirect": target})
    else:
        response = RedirectResponse(target, status_code=303)
    if session.had_session(request):
        session.end(request, response)
    return response


def desk_of(request: Request) -> Desk | Response:
    """The logged-in clerk's desk, or the way to the login page."""
    from suiren.services.clerks import session_clerk

    service = service_of(request)
    now = service.now()
    held = session.current(request, service.token_key, now)
    if held is None:
        return _to_login(request)
    with service.transaction() as connection:
        clerk = session_clerk(connection, held)
    if clerk is None:  # the login is gone, or the session ended (a logout, a move)
        return _to_login(request)
    request.state.console_session = held
    return Desk(service, clerk, now, request.cookies[session.CONSOLE_COOKIE])


def clerk_page(request: Request, build: Callable[[Desk], Response]) -> Response:
    """``build`` for the logged-in clerk (a refusal from the services as a page); to the
    login page otherwise."""
    desk = desk_of(request)
    if not isinstance(desk, Desk):
        return desk
    try:
        response = build(desk)
    except SuirenError as error:
        response = refusal(request, desk, error)
    session.renew_if_old(
        request, response, desk.service.token_key, request.state.console_session, desk.now
    )
    return response


def render(
    request: Request, desk: Desk | None, template: str, status: int = 200, **context: Any
) -> HTMLResponse:
    """A console page (or, for a template whose name starts with ``_``, a fragment)."""
    service = desk.service if desk is not None else service_of(request)
    return page(
        request,
        service.token_key,
        f"console/{template}",
        status,
        clerk=desk.clerk if desk is not None else None,
        may_audit=desk.may_audit if desk is not None else False,
        **context,
    )


def status_of(error: SuirenError) -> int:
    return PROBLEMS.get(error.code, DEFAULT)[0]


def refusal(request: Request, desk: Desk | None, error: SuirenError | text.Said) -> Response:
    """A refusal as a page, or as a message fragment for htmx, with the API's status."""
    if isinstance(error, SuirenError):
        status = status_of(error)
        message = text.CONSOLE_MESSAGES["not-found"] if status == 404 else text.message_for(error)
    else:
        status, message = 400, error
    if is_htmx(request):
        return render(request, desk, "_message.html", status, message=message)
    return render(
        request, desk, "refused.html", status, title=text.N_("Not done"),
        message=message,
    )  # fmt: skip


async def posted(request: Request) -> tuple[Desk, dict[str, str]] | Response:
    """The clerk's desk and the POSTed form, if it is a form with this browser's CSRF token
    and the clerk is logged in; else the refusal (or the way to the login page)."""
    form = await read_form(request)
    if form is None:
        return refusal(request, None, text.MESSAGES["bad-form"])
    service = service_of(request)
    if portal_session.forged(request, service.token_key, form.get(portal_session.CSRF_FIELD)):
        refused = refusal(request, None, text.MESSAGES["csrf"])
        refused.status_code = 403
        return refused
    desk = desk_of(request)
    if not isinstance(desk, Desk):
        return desk
    return desk, form


def record(
    connection: Connection, request: Request, clerk: Clerk, now: datetime, status: int
) -> None:
    """The access-log row of a console POST, in the unit of work of what it did: the clerk,
    the request id, the path (transfer and worker ids only; never a resident id)."""
    trail.record(connection, request, clerk.actor_id, status, now)
