"""The worker portal's pages (门户): log in, my statement, my pension estimate, log out.

Thin pages over the same services as the API (``services/logins``, ``statement``,
``career``); each declares its access rule like an API route (``api/access.py``): the login
pages are public, the others show the logged-in worker's own records only, found from the
session and never from anything the request names. POST forms are checked for their CSRF
token before anything else; login attempts count against the API's limit per address. A
refusal is a page that says what was wrong, in the page's language, never a 500.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from suiren.api import access, trail
from suiren.api.routes.auth import throttle_logins
from suiren.api.routes.common import Service, service_of
from suiren.domain.errors import InvalidInput, InvalidResidentId, SuirenError
from suiren.domain.month import Month
from suiren.domain.phone import is_phone_like
from suiren.portal import session, text
from suiren.portal.forms import read_form, record_worker_write
from suiren.portal.render import language_of, page

router = APIRouter(include_in_schema=False)

RESIDENT_ID_CHARS_MAX = 18
PASSWORD_CHARS_MAX = 128
MONTHS_SHOWN_MAX = 12  # the statement lists the latest months; the API gives them all
_CODE_RE = re.compile(r"[0-9]{6}", re.ASCII)
_MONTH_RE = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])", re.ASCII)
_RATIO_RE = re.compile(r"[0-9](\.[0-9]{1,4})?", re.ASCII)
RATIO_CHOICES = ("0.6", "1", "2", "3")  # 多缴多得: 60%, 100%, 200%, 300% of the average wage
NOTICES = {"expired": "expired", "logged-out": "logged-out", "ended": "ended"}


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _login_text(form: dict[str, str]) -> str:
    """The typed login name: a mobile number as typed (the services read it), or a resident
    id with spaces dropped and x as X, checked further by the services. The field is
    ``login``; ``resident_id`` is read too, as forms before the number had it."""
    typed = form.get("login", form.get("resident_id", "")).strip()
    if unicodedata.normalize("NFKC", typed) != typed:  # ０-９, Ｘ: a Chinese keyboard's 全角
        raise FullWidthLogin("full-width characters: type the number half-width")
    if is_phone_like(typed):
        return typed
    typed = typed.replace(" ", "").upper()
    if not typed or len(typed) > RESIDENT_ID_CHARS_MAX:
        raise _invalid_resident_id()
    return typed


class FullWidthLogin(InvalidResidentId):
    """A login typed in full-width characters (全角, a Chinese keyboard's mode): refused with
    that reason, never read as the half-width number (as every other input of Suiren)."""

    code = "full-width-login"


def _invalid_resident_id() -> SuirenError:
    return InvalidResidentId("a resident id has 18 characters")


def _login_page(
    request: Request,
    service: Service,
    error: SuirenError | text.Said | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    message = text.message_for(error) if isinstance(error, SuirenError) else error
    if is_htmx(request) and "code_status" in context:
        template = "_code_status.html"
    else:
        template = "login.html"
        context.setdefault("code_status", None)
    return page(
        request,
        service.token_key,
        template,
        status,
        title=text.N_("Log in"),
        message=message,
        demo=service.settings.demo_codes,
        **context,
    )


def status_of(error: SuirenError) -> int:
    """The HTTP status of a login or code refusal's page."""
    return {"unauthorized": 401, "locked": 429, "codes-per-day": 429}.get(error.code, 422)


async def _checked_form(
    request: Request, service: Service, for_session: bool = False
) -> dict[str, str] | HTMLResponse:
    """The form, if it is one and carries this browser's CSRF token; else the refusal page.
    ``for_session``: a form that acts for the session (the logout), whose token a browser
    that dropped its session cookie since no longer matches (``session.forged``)."""
    form = await read_form(request)
    if form is None:
        return _login_page(request, service, text.MESSAGES["bad-form"], 400)
    given = form.get(session.CSRF_FIELD)
    if (
        session.forged(request, service.token_key, given)
        if for_session
        else not session.csrf_valid(request, service.token_key, given)
    ):
        return _login_page(request, service, text.MESSAGES["csrf"], 403)
    return form


def _logged_in(request: Request, token: str) -> Response:
    response = RedirectResponse("/statement", status_code=303)
    session.start(request, response, token)
    return response


def _session_of(
    connection: Connection, request: Request, service: Service, worker: str | None
) -> str | None:
    """The logged-in worker's new token (signed in the login's transaction, at their
    sessions' generation), with the login in the access log; None for no worker."""
    from suiren.services.logins import worker_token

    if worker is None:
        return None
    record_worker_write(connection, request, worker, service.now(), 303)
    return worker_token(connection, service.token_key, worker, service.now())


# --- logging in and out ---------------------------------------------------------------------


@router.get("/")
@access.rule(access.PUBLIC)
def home(request: Request) -> Response:
    """My statement when logged in; the login page otherwise."""
    service = service_of(request)
    if session.current(request, service) is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/statement", status_code=303)


@router.get("/login")
@access.rule(access.PUBLIC)
def login_page(request: Request, notice: str | None = None) -> Response:
    """Log in with a one-time code (and set a password), or with a password."""
    service = service_of(request)
    if session.current(request, service) is not None:
        return RedirectResponse("/statement", status_code=303)
    message = text.MESSAGES[NOTICES[notice]] if notice in NOTICES else None
    kind = "notice" if notice in ("logged-out", "ended") else "error"
    return _login_page(request, service, message, message_kind=kind)


@router.post("/login")
@access.rule(access.PUBLIC)
async def login_with_password(request: Request) -> Response:
    """A resident id or bound mobile number, and password: the session, or the same refusal
    for any mistake."""
    from suiren.services.logins import REFUSED, LoginRefused, log_in

    service = service_of(request)
    form = await _checked_form(request, service)
    if isinstance(form, HTMLResponse):
        return form
    try:
        throttle_logins(request)
        login = _login_text(form)
        password = form.get("password", "")
        if not 1 <= len(password) <= PASSWORD_CHARS_MAX:
            raise LoginRefused(REFUSED)

        def work() -> str | None:
            with service.transaction() as connection:  # a failure is counted: then refused
                worker = log_in(connection, service.vault, login, password, service.now())
                return _session_of(connection, request, service, worker)

        token = await run_in_threadpool(work)
        if token is None:
            raise LoginRefused(REFUSED)
    except SuirenError as error:
        return _login_page(request, service, error, status_of(error))
    return _logged_in(request, token)


@router.post("/login/code")
@access.rule(access.PUBLIC)
async def send_code(request: Request) -> Response:
    """Send a one-time code to the phone on record, or to the mobile number typed (demo
    mode: show it). The answer is the same whether the person is insured, or the number
    bound, or not."""
    from suiren.services.logins import request_code

    service = service_of(request)
    form = await _checked_form(request, service)
    if isinstance(form, HTMLResponse):
        return form
    try:
        throttle_logins(request)
        login = _login_text(form)

        def work() -> str:
            with service.transaction() as connection:
                code = request_code(connection, service.vault, login, service.now())
                trail.record(connection, request, trail.ANONYMOUS, 200, service.now())
                return code

        code = await run_in_threadpool(work)
    except SuirenError as error:
        return _login_page(request, service, error, status_of(error), code_status="error")
    shown = code if service.settings.demo_codes else None
    return _login_page(request, service, code_status="sent", demo_code=shown)


@router.post("/login/verify")
@access.rule(access.PUBLIC)
async def login_with_code(request: Request) -> Response:
    """A resident id or bound mobile number and its one-time code: the session; with a new
    password too, the password is set (registered) for the next login."""
    from suiren.services.logins import (
        PASSWORD_CHARS_MIN,
        REFUSED,
        LoginRefused,
        log_in_with_code,
        register,
    )

    service = service_of(request)
    form = await _checked_form(request, service)
    if isinstance(form, HTMLResponse):
        return form
    try:
        throttle_logins(request)
        login = _login_text(form)
        code = form.get("code", "").strip()
        if not _CODE_RE.fullmatch(code):
            return _login_page(request, service, text.MESSAGES["code-format"], 422)
        password = form.get("new_password", "")
        if password and not PASSWORD_CHARS_MIN <= len(password) <= PASSWORD_CHARS_MAX:
            return _login_page(request, service, text.MESSAGES["password"], 422)

        def work() -> str | None:
            with service.transaction() as connection:  # a wrong code is counted: then refused
                if password:
                    worker = register(
                        connection, service.vault, login, code, password, service.now()
                    )
                else:
                    worker = log_in_with_code(connection, service.vault, login, code, service.now())
                return _session_of(connection, request, service, worker)

        token = await run_in_threadpool(work)
        if token is None:
            raise LoginRefused(REFUSED)
    except SuirenError as error:
        return _login_page(request, service, error, status_of(error))
    return _logged_in(request, token)


@router.post("/logout")
@access.rule(access.PUBLIC)
async def logout(request: Request) -> Response:
    """Log out (a form with its CSRF token, so no other site can log a worker out): every
    session of the worker ends on the server, as *Log out on every device* ends them
    (``logins.end_sessions``, recorded by the worker), so that this cookie — or a copy of it
    taken on a shared computer — opens nothing afterwards; the worker's phone logs in again
    too, and the login page says so. The cookies go in any case; a cookie that is no session
    now (expired, ended already, another key's) ends nothing, so an old copy cannot end the
    worker's later sessions."""
    service = service_of(request)
    form = await _checked_form(request, service, for_session=True)
    if isinstance(form, HTMLResponse):
        return form
    ended = await run_in_threadpool(session.end_sessions, request, service)
    notice = "ended" if ended else "logged-out"
    response = RedirectResponse(f"/login?notice={notice}", status_code=303)
    session.end(request, response)
    return response


# --- the worker's own records ---------------------------------------------------------------


def own_page(request: Request, build: Callable[[Service, str, datetime], Response]) -> Response:
    """``build`` for the logged-in worker (from the session, never from the request); to the
    login page otherwise (saying the session expired if there was one) — also when the
    worker's sessions were ended while ``build`` wrote (``session.SessionEnded``: nothing
    was written)."""
    service = service_of(request)
    now = service.now()
    current = session.current(request, service)
    if current is not None:
        try:
            return build(service, current.worker_id, now)
        except session.SessionEnded:
            pass
    target = "/login?notice=expired" if session.had_session(request) else "/login"
    if is_htmx(request):  # htmx follows this header with a full page load
        response: Response = Response(status_code=204, headers={"HX-Redirect": target})
    else:
        response = RedirectResponse(target, status_code=303)
    if session.had_session(request):
        response.delete_cookie(session.SESSION_COOKIE, path="/")
    return response


async def own_form(
    request: Request,
    title: str,
    act: Callable[[Service, str, datetime, dict[str, str]], Response],
) -> Response:
    """``act(service, worker_id, now, form)`` for the logged-in worker (in a worker thread),
    once the form is read and its CSRF token checked; the refusal page (``title``) otherwise."""
    form = await read_form(request)
    service = service_of(request)
    if form is None or session.forged(request, service.token_key, form.get(session.CSRF_FIELD)):
        reason = "bad-form" if form is None else "csrf"
        return page(request, service.token_key, "error.html", 400 if form is None else 403,
                    title=title, message=text.MESSAGES[reason])  # fmt: skip

    def build(service: Service, worker_id: str, now: datetime) -> Response:
        return act(service, worker_id, now, form)

    return await run_in_threadpool(own_page, request, build)


@router.get("/statement")
@access.rule(access.WORKER_SELF)
def statement_page(request: Request) -> Response:
    """My insurance: months paid by region, the balances of my accounts, the latest months,
    and a chart of my individual account over time."""
    from suiren.portal.chart import balance_chart
    from suiren.services.statement import individual_account_months, statement

    lang = language_of(request)

    def build(service: Service, worker_id: str, _now: datetime) -> Response:
        with service.transaction() as connection:
            data = statement(connection, worker_id)
            history = individual_account_months(connection, worker_id)
        charts = [
            balance_chart(f"chart-{scheme}", series, text.label(text.SCHEMES, scheme, lang), lang)
            for scheme, series in history.items()
        ]
        latest = [m for m in reversed(data["months"])][:MONTHS_SHOWN_MAX]
        return page(
            request,
            service.token_key,
            "statement.html",
            title=text.N_("My insurance record"),
            worker=data["worker"],
            data=data,
            latest=latest,
            charts=charts,
            shown_max=MONTHS_SHOWN_MAX,
            active="statement",
        )

    return own_page(request, build)


@router.get("/pension")
@access.rule(access.WORKER_SELF)
def pension_page(request: Request, base_ratio: str = "", retire: str = "") -> Response:
    """My pension estimate under both scenarios, paying on at a chosen share of the local
    average wage to a chosen retirement month, with the 多缴多得 ladder; an htmx request
    (the form changed) gets the result alone."""

    def build(service: Service, worker_id: str, now: datetime) -> Response:
        estimate, error, kind = None, None, "error"
        try:
            estimate = _estimate(service, worker_id, now, base_ratio.strip(), retire.strip())
        except PensionRefused as refused:
            error = text.Message(text.PENSION_MESSAGES[refused.reason], refused.values)
            kind = "notice" if refused.reason == "no-months" else "error"
        except SuirenError as refused:
            error = text.message_for(refused)
        context = {
            "estimate": estimate,
            "message": error,
            "message_kind": kind,
            "base_ratio": base_ratio.strip()[:6],
            "retire": retire.strip()[:7],
            "ratio_choices": RATIO_CHOICES,
        }
        status = 200 if error is None or kind == "notice" else 422
        if is_htmx(request):
            return page(request, service.token_key, "_estimate.html", status, **context)
        with service.transaction() as connection:
            from suiren.services.workers import get_worker

            worker = get_worker(connection, worker_id)
        return page(
            request,
            service.token_key,
            "pension.html",
            status,
            title=text.N_("My pension estimate"),
            worker={"resident_id": worker.masked_id},
            active="pension",
            **context,
        )

    return own_page(request, build)


class PensionRefused(SuirenError):
    """An estimate the pension page cannot show; ``reason`` names its sentence in
    ``text.PENSION_MESSAGES`` (said in the page's language), ``values`` fill it in."""

    code = "pension-refused"

    def __init__(self, reason: str, **values: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.values = values


def _estimate(
    service: Service, worker_id: str, now: datetime, base_ratio: str, retire: str
) -> dict[str, Any]:
    from suiren.policy import SCENARIOS, load_policy
    from suiren.policy.projection import RATIO_MAX, RATIO_MIN, Assumptions
    from suiren.services.career import EstimateRefused, compare

    ratio = Fraction(base_ratio) if _RATIO_RE.fullmatch(base_ratio) else None
    if base_ratio and (ratio is None or not RATIO_MIN <= ratio <= RATIO_MAX):
        low, high = (Decimal(r.numerator) / r.denominator for r in (RATIO_MIN, RATIO_MAX))
        raise PensionRefused("ratio", low=low, high=high)
    if retire and not _MONTH_RE.fullmatch(retire):
        from suiren.domain.errors import InvalidMonth

        raise InvalidMonth(f"the retirement month is YYYY-MM, such as 2055-06, not {retire[:20]!r}")
    retire_month = Month.parse(retire) if retire else None
    assumptions = Assumptions(ratio, Fraction(0), None)
    try:
        with service.transaction() as connection:
            data = compare(
                connection,
                [load_policy(name) for name in SCENARIOS],
                worker_id,
                now.date(),
                retire_month,
                assumptions,
            )
    except EstimateRefused as refused:
        values = {k: Month.parse(str(v)) for k, v in refused.values.items()}
        raise PensionRefused(refused.reason, **values) from refused
    except InvalidInput as refused:  # the rules have no pension for retiring then (the age)
        if retire_month is None:
            raise
        raise PensionRefused("retire-out-of-range", month=retire_month) from refused
    return _ladder_rows(data)


def _ladder_rows(data: dict[str, Any]) -> dict[str, Any]:
    """The 多缴多得 ladder of each scenario as one table: a row per base ratio, a column per
    scenario (the chosen ratio marked)."""
    scenarios = data["scenarios"]
    rows: dict[str, dict[str, Any]] = {}
    for s in scenarios:
        projection = s["projection"]
        if projection is None:
            continue
        for step in projection["ladder"]:
            row = rows.setdefault(
                step["base_ratio"],
                {
                    "base_ratio": step["base_ratio"],
                    "percent": f"{round(Fraction(step['base_ratio']) * 100)}%",
                    "chosen": step["base_ratio"] == projection["base_ratio"],
                    "totals": {},
                },
            )
            row["totals"][s["scenario"]] = step["total_fen"]
    return {**data, "ladder": sorted(rows.values(), key=lambda r: Fraction(r["base_ratio"]))}
