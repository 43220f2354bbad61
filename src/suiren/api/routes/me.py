"""A worker's own records, with their session token (``/me/…``)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from suiren.api import access
from suiren.api.routes.common import (
    ActorDep,
    BearerDep,
    GrowthQuery,
    RateQuery,
    RatioQuery,
    RetireQuery,
    ServiceDep,
    _estimate_read,
    _medical_status,
    _worker_read,
)

router = APIRouter()


@router.get("/me/statement")
@access.rule(access.WORKER_SELF)
async def my_statement(request: Request, service: ServiceDep, _bearer: BearerDep) -> Response:
    """The logged-in worker's own months and balances."""
    from suiren.services.statement import statement

    return await _worker_read(request, service, None, ("statement",), statement)


@router.get("/me/pension/estimate")
@access.rule(access.WORKER_SELF)
async def my_pension_estimate(
    request: Request,
    service: ServiceDep,
    _bearer: BearerDep,
    retire: RetireQuery = None,
    base_ratio: RatioQuery = None,
    wage_growth: GrowthQuery = "0",
    interest: RateQuery = None,
    paid_only: bool = False,
) -> Response:
    """The logged-in worker's own pension estimate, both scenarios (多缴多得 ladder included)."""
    return await _estimate_read(
        request, service, None, retire, base_ratio, wage_growth, interest, paid_only
    )


@router.get("/me/medical/status")
@access.rule(access.WORKER_SELF)
def my_medical_status(actor: ActorDep, service: ServiceDep) -> JSONResponse:
    """The logged-in worker's own employee medical record (months, break, waiting period,
    lifetime cover)."""
    worker_id = access.worker_self(actor)
    with service.transaction(read_only=True) as connection:
        return JSONResponse(_medical_status(connection, service, worker_id))
