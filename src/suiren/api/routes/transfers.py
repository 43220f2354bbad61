"""Transfers between regions (转移接续): request, status, the steps of each side, reject, the
gathering at retirement (归集), and the agency's list of its transfers."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, select
from starlette.exceptions import HTTPException

from suiren.api import access
from suiren.api.body import JsonBodyRoute
from suiren.api.paging import decode_cursor, next_cursor
from suiren.api.routes.common import (
    ActorDep,
    CursorQuery,
    IdempotencyKey,
    PageQuery,
    ServiceDep,
    _idempotent,
)
from suiren.ledger.accounts import Scheme
from suiren.ledger.transaction import GATHER_ID_CHARS_MAX

router = APIRouter(route_class=JsonBodyRoute)
# the insurances a transfer moves (转移接续), as ``suiren transfer request --scheme``
TransferableScheme = Literal["employee_pension", "employee_medical"]
# a transfer's states (``services.transfers.State``): one misspelt listed nothing, unrefused
TransferState = Literal["requested", "approved", "accepted", "completed", "rejected", "expired"]


class TransferRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transfer_id: str = Field(min_length=1, max_length=100)
    worker_id: str = Field(min_length=1, max_length=32)
    to_region: str = Field(pattern=r"^[0-9]{6}$")
    scheme: TransferableScheme = Field(
        default="employee_pension",
        description="the insurance to move: employee_pension (职工养老) or employee_medical (职工医保)",
    )


@router.post("/transfers", status_code=201)
@access.rule(access.AGENCY_OF_WORKER)
async def request_transfer(
    request: Request,
    body: TransferRequest,
    actor: ActorDep,
    service: ServiceDep,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Request a worker's move of their employee pension (or, with ``scheme``, their employee
    medical insurance) to ``to_region`` (the agency holding the worker's insurance in it)."""
    from suiren.services.transfers import request_transfer as request_service

    scheme = Scheme(body.scheme)

    def work(connection: Connection) -> tuple[int, Any]:
        access.worker_region(connection, actor, body.worker_id, scheme)
        view = request_service(
            connection,
            service.policy,
            body.transfer_id,
            body.worker_id,
            body.to_region,
            service.now(),
            scheme,
        )
        return 201, view.to_json()

    return await _idempotent(request, actor, service, idempotency_key, work)


class Gathering(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gather_id: str = Field(
        min_length=1, max_length=GATHER_ID_CHARS_MAX, description="the gathering's own id"
    )
    worker_id: str = Field(min_length=1, max_length=32)
    to_region: str | None = Field(
        default=None,
        pattern=r"^[0-9]{6}$",
        description="the paying city, in the paying province (default: chosen from the record)",
    )


@router.post("/gatherings", status_code=201)
@access.rule(access.AGENCY_OF_WORKER)
async def gather(
    request: Request,
    body: Gathering,
    actor: ActorDep,
    service: ServiceDep,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """归集 at retirement (as ``suiren transfer gather``; the agency holding the worker's
    insurance): the transfers ``GATHER-ID/FROM-REGION`` that bring the temporary accounts and
    the relation to the paying region, each then approved, accepted and completed."""
    from suiren.services.gathering import gather_for_retirement

    def work(connection: Connection) -> tuple[int, Any]:
        access.worker_region(connection, actor, body.worker_id)
        views = gather_for_retirement(
            connection,
            service.policy,
            body.gather_id,
            body.worker_id,
            service.now(),
            body.to_region,
        )
        return 201, {"transfers": [v.to_json() for v in views]}

    return await _idempotent(request, actor, service, idempotency_key, work)


@router.get("/transfers/{transfer_id:path}")
@access.rule(access.TRANSFER_PARTY)
def transfer_status(transfer_id: str, actor: ActorDep, service: ServiceDep) -> JSONResponse:
    """A transfer's state and amounts (either side's agency)."""
    with service.transaction(read_only=True) as connection:
        try:
            view = access.transfer(connection, actor, transfer_id, "view")
        except access.NotFound:
            # ``/transfers/ID/approve`` read with GET: the step's path, whose method is POST
            # (the same 405 whether ID is unknown or another region's: nothing is said of it)
            if STEP_PATH_RE.fullmatch(transfer_id):
                raise HTTPException(405, headers={"Allow": "POST"}) from None
            raise
    return JSONResponse(view.to_json())


STEP_PATH_RE = re.compile(r".+/(approve|accept|complete|reject)", re.ASCII)


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
    router.post(f"/transfers/{{transfer_id:path}}/{step}")(access.rule(access.TRANSFER_PARTY)(take))


for _step in ("approve", "accept", "complete"):
    _transfer_step(_step)


@router.post("/transfers/{transfer_id:path}/reject")
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


@router.get("/transfers")
@access.rule(access.AGENCY_OF_REGION)
def list_transfers(
    actor: ActorDep,
    service: ServiceDep,
    state: Annotated[TransferState | None, Query()] = None,
    overdue: bool = False,
    limit: PageQuery = 50,
    cursor: CursorQuery = None,
) -> JSONResponse:
    """The transfers leaving or entering the agency's region, by id, a page at a time
    (``next_cursor`` gives the next page; null at the end); ``overdue``: only the open ones
    whose current step is past its deadline (as ``suiren transfer status --overdue``)."""
    from sqlalchemy import or_

    from suiren.services.transfers import OPEN_STATES, TransferView, with_warnings
    from suiren.store.tables import transfers

    prefix = actor.region_prefix()
    if prefix is None:
        raise access.NotFound(access.NO_SUCH)
    query = select(transfers).where(
        or_(transfers.c.from_region.like(f"{prefix}%"), transfers.c.to_region.like(f"{prefix}%")),
        transfers.c.transfer_id > decode_cursor(cursor),
    )
    if state is not None:
        query = query.where(transfers.c.state == state)
    if overdue:
        today = service.now().date()
        query = query.where(transfers.c.state.in_(OPEN_STATES), transfers.c.due_on < today)
    with service.transaction(read_only=True) as connection:
        rows = connection.execute(query.order_by(transfers.c.transfer_id).limit(limit)).all()
        views = with_warnings(connection, [TransferView.from_row(r) for r in rows])
    return JSONResponse(
        {
            "items": [v.to_json() for v in views],
            "next_cursor": next_cursor([v.transfer_id for v in views], limit),
        }
    )


@router.post("/transfers/expired")
@access.rule(access.NATIONAL)
async def expire_transfers(
    request: Request, actor: ActorDep, service: ServiceDep, idempotency_key: IdempotencyKey
) -> JSONResponse:
    """Requests never approved by their deadline expire, in every region (the national
    agency; as ``suiren transfer status --expire``): the transfers expired now."""
    from suiren.services.transfers import expire_overdue

    access.national(actor)

    def work(connection: Connection) -> tuple[int, Any]:
        return 200, {"expired": [v.to_json() for v in expire_overdue(connection, service.now())]}

    return await _idempotent(request, actor, service, idempotency_key, work)
