"""The pay page (缴费): choose a month and a base, see the split, confirm.

Thin over ``services.payment_quotes`` (the months open to the worker, their bounds, the split
of a base) and ``services.contributions.contribute`` (the payment). The worker is the one of
the session, never one the request names. The confirm form carries a random nonce; the
payment id is derived from the worker and that nonce, so a double submit (or a reload of the
answer) replays the first payment and answers the same, and nothing is paid twice.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from suiren.api import access
from suiren.api.routes.common import Service, service_of
from suiren.domain.errors import SuirenError
from suiren.domain.money import yuan_to_fen
from suiren.domain.month import Month
from suiren.portal import session, text
from suiren.portal.forms import read_form, record_own_write
from suiren.portal.pages import own_page
from suiren.portal.render import page

router = APIRouter(include_in_schema=False)

MONTH_RE = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])", re.ASCII)
# yuan, up to 9 digits and 2 decimals; a comma only between groups of three (6,000.50), so
# that 60,00 is refused, never read as 6,000 (nor as 60)
BASE_RE = re.compile(r"(?:[0-9]{1,9}|[0-9]{1,3}(?:,[0-9]{3}){1,2})(?:\.[0-9]{1,2})?", re.ASCII)
NONCE_RE = re.compile(r"[0-9a-f]{32}", re.ASCII)
NONCE_BYTES = 16
PAYMENT_ID_PREFIX = "portal-pay/"
TITLE = text.N_("Pay")


class FormRefused(SuirenError):
    """A pay form the page refuses before asking the services; ``reason`` names the message."""

    code = "payment-refused"

    def __init__(self, reason: str, **values: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.values = values


def payment_id(worker_id: str, nonce: str) -> str:
    """The payment's id: the same worker and form nonce give the same id (a replay)."""
    digest = hashlib.sha256(f"{worker_id}\n{nonce}".encode()).hexdigest()[:40]
    return PAYMENT_ID_PREFIX + digest


def pay_message(reason: str, values: dict[str, object]) -> text.Message:
    """The sentence of a refusal, with its month and amounts written for people (a month in
    the page's language, when it is shown)."""
    words: dict[str, object] = {"month": "", "earliest": "", "latest": ""}
    for name in ("month", "earliest", "latest"):
        given = values.get(name)
        if isinstance(given, str):
            try:
                words[name] = Month.parse(given)
            except SuirenError:  # as typed (it is not a month)
                words[name] = given[:7]
    for name in ("floor", "ceiling"):
        words[name] = text.yuan(int(str(values.get(f"{name}_fen", 0))))
    return text.Message(text.PAY_MESSAGES[reason], words)


def _parse(month: str, base_yuan: str) -> tuple[Month, int | None]:
    month, base_yuan = month.strip(), base_yuan.strip()
    if not MONTH_RE.fullmatch(month):
        raise FormRefused("month-format")
    if not base_yuan:
        return Month.parse(month), None
    if not BASE_RE.fullmatch(base_yuan):
        raise FormRefused("base-format", month=month)
    return Month.parse(month), yuan_to_fen(base_yuan)


def _refusal(error: SuirenError) -> text.Said:
    from suiren.services.payment_quotes import PaymentRefused
    from suiren.store.ledger_repo import TransactionConflict

    if isinstance(error, PaymentRefused | FormRefused):
        return pay_message(error.reason, error.values)
    if isinstance(error, TransactionConflict):
        return text.PAY_MESSAGES["used"]
    return text.message_for(error)


def _render(
    request: Request, service: Service, worker_id: str, now: datetime, status: int, **context: Any
) -> HTMLResponse:
    from suiren.services.payment_quotes import open_months
    from suiren.services.workers import get_worker

    with service.transaction() as connection:
        months = open_months(connection, service.policy, worker_id, now.date())
        worker = get_worker(connection, worker_id)
    context.setdefault("chosen", str(months[0].month) if months else "")
    chosen = next((m for m in months if str(m.month) == context["chosen"]), None)
    context.setdefault("quote", None)
    context.setdefault("paid", None)
    context.setdefault("base_yuan", "")
    return page(
        request,
        service.token_key,
        "pay.html",
        status,
        title=TITLE,
        worker={"resident_id": worker.masked_id},
        active="pay",
        months=months,
        bounds=chosen,
        nonce=secrets.token_hex(NONCE_BYTES),
        **context,
    )


@router.get("/pay")
@access.rule(access.WORKER_SELF)
def pay_page(request: Request, month: str = "", base_yuan: str = "") -> Response:
    """The months open to me with their bounds; with a month and a base, the split and a
    button to confirm."""
    from suiren.services.payment_quotes import quote

    def build(service: Service, worker_id: str, now: datetime) -> Response:
        if not month:
            return _render(request, service, worker_id, now, 200)
        context: dict[str, Any] = {"chosen": month[:7], "base_yuan": base_yuan[:16]}
        try:
            chosen, base_fen = _parse(month, base_yuan)
            if base_fen is not None:
                with service.transaction() as connection:
                    context["quote"] = quote(
                        connection, service.policy, worker_id, chosen, base_fen, now.date()
                    )
        except SuirenError as error:
            return _render(
                request, service, worker_id, now, 422, message=_refusal(error), **context
            )
        return _render(request, service, worker_id, now, 200, **context)

    return own_page(request, build)


@router.post("/pay")
@access.rule(access.WORKER_SELF)
async def confirm_payment(request: Request) -> Response:
    """Pay the month at the base (the form's CSRF token checked first); the same form sent
    again answers with the same payment."""
    form = await read_form(request)
    service = service_of(request)
    if form is None or session.forged(request, service.token_key, form.get(session.CSRF_FIELD)):
        reason = "bad-form" if form is None else "csrf"
        status = 400 if form is None else 403
        return page(
            request,
            service.token_key,
            "error.html",
            status,
            title=TITLE,
            message=text.MESSAGES[reason],
        )

    def build(service: Service, worker_id: str, now: datetime) -> Response:
        return _confirm(request, service, worker_id, now, form)

    return await run_in_threadpool(own_page, request, build)


def _confirm(
    request: Request, service: Service, worker_id: str, now: datetime, form: dict[str, str]
) -> Response:
    from suiren.services.contributions import contribute
    from suiren.services.payment_quotes import quote

    month, base_yuan, nonce = (
        form.get("month", ""),
        form.get("base_yuan", ""),
        form.get("nonce", ""),
    )
    context: dict[str, Any] = {"chosen": month[:7], "base_yuan": base_yuan[:16]}
    try:
        chosen, base_fen = _parse(month, base_yuan)
        if base_fen is None or not NONCE_RE.fullmatch(nonce):
            raise FormRefused("base-format", month=month)
        pay_id = payment_id(worker_id, nonce)
        with service.transaction() as connection:
            paid = contribute(
                connection, service.policy, pay_id, worker_id, chosen, chosen, base_fen, now
            )
            record_own_write(connection, request, worker_id, now, 200)
    except SuirenError as first:
        error = first
        if not isinstance(error, FormRefused):  # say which rule, where the quote knows it
            try:
                with service.transaction() as connection:
                    quote(connection, service.policy, worker_id, chosen, base_fen or 0, now.date())
            except SuirenError as named:
                error = named
        return _render(request, service, worker_id, now, 422, message=_refusal(error), **context)
    done = paid[0]
    return _render(
        request,
        service,
        worker_id,
        now,
        200,
        paid=done,
        message=text.N_("Paid."),
        message_kind="notice",
        **context,
    )
