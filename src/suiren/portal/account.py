"""My login (我的账户): the mobile number bound to it, so that the worker logs in with the
number as with their resident id (issue 11 §2), bound with a one-time code sent to it and
removed at will; and "log out everywhere" (退出所有设备), which ends every session of the
worker — this browser's, another phone's, the API's.

Thin over ``services.logins`` (``request_code``, ``bind_phone``, ``unbind_phone``,
``phone_of``, ``end_sessions``). The worker is the session's; every form carries its CSRF
token and is checked before anything else; asking for a code and trying one count against
the login routes' limit per address, as on the login page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from suiren.api import access, trail
from suiren.api.routes.auth import throttle_logins
from suiren.api.routes.common import Service
from suiren.domain.errors import SuirenError
from suiren.portal import session, text
from suiren.portal.forms import record_own_write
from suiren.portal.pages import is_htmx, own_form, own_page, status_of
from suiren.portal.render import page

router = APIRouter(include_in_schema=False)

TITLE = text.N_("My login")
_CODE_DIGITS = 6
NOTICES = {"bound": "bound", "removed": "removed"}


def _render(
    request: Request, service: Service, worker_id: str, status: int = 200, **context: Any
) -> Response:
    from suiren.services.logins import phone_of
    from suiren.services.workers import get_worker

    if is_htmx(request) and "code_status" in context:
        return page(request, service.token_key, "_code_status.html", status, **context)
    with service.transaction(read_only=True) as connection:
        phone = phone_of(connection, worker_id)
        worker = get_worker(connection, worker_id)
    context.setdefault("code_status", None)
    context.setdefault("typed_phone", "")
    return page(
        request,
        service.token_key,
        "account.html",
        status,
        title=TITLE,
        worker={"resident_id": worker.masked_id},
        active="account",
        phone=phone,
        demo=service.settings.demo_codes,
        **context,
    )


@router.get("/account")
@access.rule(access.WORKER_SELF)
def account_page(request: Request, notice: str = "") -> Response:
    """The number bound to my login (masked), and the forms to bind or remove one."""

    def build(service: Service, worker_id: str, _now: datetime) -> Response:
        if notice in NOTICES:
            message = text.ACCOUNT_MESSAGES[NOTICES[notice]]
            return _render(request, service, worker_id, message=message, message_kind="notice")
        return _render(request, service, worker_id)

    return own_page(request, build)


@router.post("/account/phone/code")
@access.rule(access.WORKER_SELF)
async def send_phone_code(request: Request) -> Response:
    """Send a one-time code to the number typed (demo mode: show it)."""
    from suiren.domain.phone import Phone
    from suiren.services.logins import request_code

    def act(service: Service, worker_id: str, now: datetime, form: dict[str, str]) -> Response:
        typed = form.get("phone", "").strip()
        try:
            throttle_logins(request)
            number = Phone.parse(typed).number
            with service.transaction() as connection:
                code = request_code(connection, service.vault, number, now)
                record_own_write(connection, request, worker_id, now, 200)
        except SuirenError as error:
            return _render(request, service, worker_id, status_of(error),
                           message=text.message_for(error), code_status="error",
                           typed_phone=typed[:20])  # fmt: skip
        shown = code if service.settings.demo_codes else None
        return _render(request, service, worker_id, code_status="sent", demo_code=shown,
                       typed_phone=typed[:20])  # fmt: skip

    return await own_form(request, TITLE, act)


@router.post("/account/phone")
@access.rule(access.WORKER_SELF)
async def bind_my_phone(request: Request) -> Response:
    """Bind the number with the code sent to it; back to the page (303), or the page with
    what was wrong."""
    from suiren.services.logins import CODE_REFUSED, CodeRefused, bind_phone

    def act(service: Service, worker_id: str, now: datetime, form: dict[str, str]) -> Response:
        typed, code = form.get("phone", "").strip(), form.get("code", "").strip()
        try:
            throttle_logins(request)
            if not (len(code) == _CODE_DIGITS and code.isascii() and code.isdigit()):
                return _render(request, service, worker_id, 422, typed_phone=typed[:20],
                               message=text.MESSAGES["code-format"])  # fmt: skip
            with service.transaction() as connection:  # a wrong code is counted: then refused
                masked = bind_phone(connection, service.vault, worker_id, typed, code, now)
                if masked is not None:
                    record_own_write(connection, request, worker_id, now, 303)
            if masked is None:
                raise CodeRefused(CODE_REFUSED, field="code")
        except SuirenError as error:
            return _render(request, service, worker_id, status_of(error), typed_phone=typed[:20],
                           message=text.message_for(error))  # fmt: skip
        return RedirectResponse("/account?notice=bound", status_code=303)

    return await own_form(request, TITLE, act)


@router.post("/account/phone/remove")
@access.rule(access.WORKER_SELF)
async def remove_my_phone(request: Request) -> Response:
    """Remove the number from my login; back to the page (303)."""
    from suiren.services.logins import unbind_phone

    def act(service: Service, worker_id: str, now: datetime, _form: dict[str, str]) -> Response:
        with service.transaction() as connection:
            if unbind_phone(connection, worker_id, now):
                record_own_write(connection, request, worker_id, now, 303)
        return RedirectResponse("/account?notice=removed", status_code=303)

    return await own_form(request, TITLE, act)


@router.post("/account/sessions/end")
@access.rule(access.WORKER_SELF)
async def end_my_sessions(request: Request) -> Response:
    """Log out everywhere: every session of mine ended (recorded in the national journal, by
    me), this browser's cookie removed, and on to the login page (303)."""
    from suiren.services.logins import end_sessions

    def act(service: Service, worker_id: str, now: datetime, _form: dict[str, str]) -> Response:
        with service.transaction() as connection:
            record_own_write(connection, request, worker_id, now, 303)
            end_sessions(connection, worker_id, now, trail.worker_actor_id(worker_id))
        response = RedirectResponse("/login?notice=ended", status_code=303)
        session.end(request, response)
        return response

    return await own_form(request, TITLE, act)
