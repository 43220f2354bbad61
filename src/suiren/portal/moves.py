"""Move my insurance (转移接续): request a transfer to another region, and follow each of my
transfers — its state, the steps done, the next one, whose agency takes it and by when.

Thin over ``services.transfers.request_transfer`` and ``services.worker_transfers``. The
worker is the session's; the request form carries a random nonce and the transfer id is
derived from the worker and that nonce, so a double submit answers with the same transfer.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from suiren.api import access
from suiren.api.routes.common import Service
from suiren.domain.errors import SuirenError
from suiren.portal import text
from suiren.portal.forms import record_own_write
from suiren.portal.pages import own_form, own_page
from suiren.portal.render import page

router = APIRouter(include_in_schema=False)

REGION_RE = re.compile(r"[0-9]{6}", re.ASCII)
NONCE_RE = re.compile(r"[0-9a-f]{32}", re.ASCII)
NONCE_BYTES = 16
TRANSFER_ID_PREFIX = "portal-move/"
TITLE = text.N_("Move my insurance")


def transfer_id(worker_id: str, nonce: str) -> str:
    """The transfer's id: the same worker and form nonce give the same id (a replay)."""
    return TRANSFER_ID_PREFIX + hashlib.sha256(f"{worker_id}\n{nonce}".encode()).hexdigest()[:40]


def _render(
    request: Request, service: Service, worker_id: str, now: datetime, status: int, **context: Any
) -> HTMLResponse:
    from suiren.ledger.accounts import Scheme
    from suiren.services.worker_transfers import worker_transfers
    from suiren.services.workers import enrolment_region, get_worker

    with service.transaction() as connection:
        moves = worker_transfers(connection, worker_id, now.date())
        worker = get_worker(connection, worker_id)
        region = enrolment_region(connection, worker_id, Scheme.EMPLOYEE_PENSION)[0]
    context.setdefault("to_region", "")
    return page(
        request,
        service.token_key,
        "move.html",
        status,
        title=TITLE,
        worker={"resident_id": worker.masked_id},
        active="move",
        moves=moves,
        insured_in=region,
        nonce=secrets.token_hex(NONCE_BYTES),
        **context,
    )


@router.get("/move")
@access.rule(access.WORKER_SELF)
def move_page(request: Request, notice: str = "") -> Response:
    """My transfers and the form to request one."""

    def build(service: Service, worker_id: str, now: datetime) -> Response:
        if notice in ("requested", "requested-provisional"):
            message = text.MOVE_MESSAGES[notice]
            return _render(request, service, worker_id, now, 200, message=message,
                           message_kind="notice")  # fmt: skip
        return _render(request, service, worker_id, now, 200)

    return own_page(request, build)


@router.post("/move")
@access.rule(access.WORKER_SELF)
async def request_move(request: Request) -> Response:
    """Request the move (the CSRF token checked first); then back to the list (303)."""

    def act(service: Service, worker_id: str, now: datetime, form: dict[str, str]) -> Response:
        return _request(request, service, worker_id, now, form)

    return await own_form(request, TITLE, act)


def _request(
    request: Request, service: Service, worker_id: str, now: datetime, form: dict[str, str]
) -> Response:
    from suiren.services.provisional import PROVISIONAL_PARAMETER
    from suiren.services.transfers import request_transfer

    to_region, nonce = form.get("to_region", "").strip(), form.get("nonce", "")
    try:
        if not REGION_RE.fullmatch(to_region):
            return _render(request, service, worker_id, now, 422, to_region=to_region[:6],
                           message=text.MOVE_MESSAGES["region-format"])  # fmt: skip
        if not NONCE_RE.fullmatch(nonce):
            return _render(request, service, worker_id, now, 422, message=text.MESSAGES["bad-form"])
        with service.transaction() as connection:
            view = request_transfer(
                connection,
                service.policy,
                transfer_id(worker_id, nonce),
                worker_id,
                to_region,
                now,
            )
            record_own_write(connection, request, worker_id, now, 303)
    except SuirenError as error:
        reason = getattr(error, "reason", "")  # a TransferRefused's rule, said in the language
        said = text.MOVE_REFUSALS.get(reason)
        return _render(request, service, worker_id, now, 422, to_region=to_region,
                       message=said or text.message_for(error))  # fmt: skip
    # amounts that rest on a figure not published yet say so (``provisional-parameter``)
    provisional = any(w["code"] == PROVISIONAL_PARAMETER for w in view.warnings)
    notice = "requested-provisional" if provisional else "requested"
    return RedirectResponse(f"/move?notice={notice}", status_code=303)
