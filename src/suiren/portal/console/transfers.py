"""The transfers waiting for the clerk's region (转移接续待办), and their steps.

The list is the region's outgoing ``requested`` transfers (the old region approves) and its
incoming ``approved`` (the new region accepts) and ``accepted`` ones (it completes), the
earliest deadline first, so the overdue come first. Each card offers only the step that is
the clerk's region's (``access.offered_steps``), with a reject-with-reason form beside it.

A step is a POST form that calls the transfer service with the request's ``now``, checked
first by the one access policy: a step of another region, or a transfer the clerk's region
is no side of, is the same 404 as an unknown transfer, and nothing is done. Done, it
answers with the card in its new state (htmx swaps it in place), or, without htmx, the
transfer's own page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from suiren.api import access
from suiren.domain.errors import SuirenError
from suiren.portal import text
from suiren.portal.console.desk import (
    Desk,
    clerk_page,
    is_htmx,
    posted,
    record,
    refusal,
    render,
    status_of,
)
from suiren.portal.render import segment
from suiren.services.transfers import NOTE_CHARS_MAX, TransferView

router = APIRouter(include_in_schema=False)
STEP_NAMES = ("approve", "accept", "complete", "reject")


def card(desk: Desk, view: TransferView, masked_id: str, **extra: Any) -> dict[str, Any]:
    """What a transfer's card shows: the transfer, the worker's masked id, the steps the
    clerk may take, whether it is overdue."""
    from suiren.services.transfers import OPEN_STATES

    return {
        "t": view,
        "masked_id": masked_id,
        "steps": access.offered_steps(desk.actor, view),
        "overdue": view.state in OPEN_STATES and view.due_on < desk.now.date(),
        # the worker's records are the region's that holds them: the old one until completed
        "sees_worker": desk.actor.covers_region(
            view.to_region if view.state == "completed" else view.from_region
        ),
        **extra,
    }


@router.get("/console/transfers")
@access.rule(access.AGENCY_OF_REGION)
def waiting_page(request: Request) -> Response:
    """The transfers waiting for this region, grouped by step, overdue first."""
    from suiren.services.agency import waiting_transfers

    def build(desk: Desk) -> Response:
        with desk.service.transaction() as connection:
            waiting, cut = waiting_transfers(connection, desk.prefix, desk.now.date())
        groups: dict[str, list[dict[str, Any]]] = {"approve": [], "accept": [], "complete": []}
        for w in waiting:
            groups[w.step].append(card(desk, w.view, w.masked_id))
        return render(
            request,
            desk,
            "transfers.html",
            title=text.N_("Transfers waiting for this region"),
            active="transfers",
            groups=groups,
            overdue_count=sum(1 for w in waiting if w.overdue),
            cut=cut,
        )

    return clerk_page(request, build)


def _visible(desk: Desk, transfer_id: str, step: str) -> tuple[TransferView, str]:
    from suiren.services.agency import masked_worker

    with desk.service.transaction() as connection:
        view = access.transfer(connection, desk.actor, transfer_id, step)
        return view, masked_worker(connection, view.worker_id)


@router.get("/console/transfers/{transfer_id:path}")
@access.rule(access.TRANSFER_PARTY)
def transfer_page(request: Request, transfer_id: str, done: str = "") -> Response:
    """One transfer (either side's clerk), with the steps the clerk may take now."""

    def build(desk: Desk) -> Response:
        view, masked = _visible(desk, transfer_id[:200], "view")
        message = text.CONSOLE_MESSAGES.get(done) if done in STEP_NAMES else None
        return render(
            request,
            desk,
            "transfer.html",
            title=text.N_("Transfer"),
            active="transfers",
            message=message,
            message_kind="notice",
            **card(desk, view, masked),
        )

    return clerk_page(request, build)


def _step_route(step: str) -> None:
    async def take(request: Request, transfer_id: str) -> Response:
        checked = await posted(request)
        if not isinstance(checked, tuple):
            return checked
        desk, form = checked
        reason = form.get("reason", "").strip()
        if step == "reject" and not 0 < len(reason) <= NOTE_CHARS_MAX:
            return _answer(request, desk, transfer_id, text.CONSOLE_MESSAGES["reason"], 422)
        try:
            view, masked = await run_in_threadpool(_take, request, desk, transfer_id, step, reason)
        except SuirenError as error:
            if status_of(error) in (401, 404):  # no card: not this clerk's (any more)
                return refusal(request, desk, error)
            return _answer(request, desk, transfer_id, text.message_for(error), status_of(error))
        if not is_htmx(request):
            return RedirectResponse(
                f"/console/transfers/{segment(transfer_id)}?done={step}", status_code=303
            )
        message = text.CONSOLE_MESSAGES[step]
        context = card(desk, view, masked, message=message, message_kind="notice")
        return render(request, desk, "_transfer.html", **context)

    take.__name__ = f"{step}_transfer"
    take.__doc__ = f"{step.capitalize()} the transfer (the clerk's region's step only)."
    rule = access.rule(access.TRANSFER_PARTY)
    router.post(f"/console/transfers/{{transfer_id:path}}/{step}")(rule(take))


def _take(
    request: Request, desk: Desk, transfer_id: str, step: str, reason: str
) -> tuple[TransferView, str]:
    """The step, its clerk and access checked first, and its access-log row: one unit of
    work."""
    from suiren.services import transfers
    from suiren.services.agency import masked_worker

    with desk.service.transaction() as connection:
        desk.confirm(connection)
        view = access.transfer(connection, desk.actor, transfer_id, step)
        if step == "reject":
            view = transfers.reject_transfer(connection, transfer_id, desk.now, reason)
        else:
            action = {
                "approve": transfers.approve_transfer,
                "accept": transfers.accept_transfer,
                "complete": transfers.complete_transfer,
            }[step]
            view = action(connection, transfer_id, desk.now)
        record(connection, request, desk.clerk, desk.now, 200)
        return view, masked_worker(connection, view.worker_id)


def _answer(
    request: Request, desk: Desk, transfer_id: str, message: text.Said, status: int
) -> Response:
    """A step refused by the service (out of order, a missing reason): the card as it is now,
    with why."""
    try:
        view, masked = _visible(desk, transfer_id, "view")
    except SuirenError as error:
        return refusal(request, desk, error)
    context = card(desk, view, masked, message=message, message_kind="error")
    if is_htmx(request):
        return render(request, desk, "_transfer.html", status, **context)
    return render(
        request,
        desk,
        "transfer.html",
        status,
        title=text.N_("Transfer"),
        active="transfers",
        **context,
    )


for _step in STEP_NAMES:
    _step_route(_step)
