"""A worker's own records, with their session token (``/me/…``)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from suiren.api import access
from suiren.api.routes.common import (
    ActorDep,
    GrowthQuery,
    RateQuery,
    RatioQuery,
    RetireQuery,
    ServiceDep,
    _estimate,
    _medical_status,
    _plain,
)

router = APIRouter()


@router.get("/me/statement")
@access.rule(access.WORKER_SELF)
def my_statement(actor: ActorDep, service: ServiceDep) -> JSONResponse:
    """The logged-in worker's own months and balances."""
    from suiren.services.statement import statement

    worker_id = access.worker_self(actor)
    with service.transaction(read_only=True) as connection:
        return JSONResponse(_plain(statement(connection, worker_id)))


@router.get("/me/pension/estimate")
@access.rule(access.WORKER_SELF)
def my_pension_estimate(
    actor: ActorDep,
    service: ServiceDep,
    retire: RetireQuery = None,
    base_ratio: RatioQuery = None,
    wage_growth: GrowthQuery = "0",
    interest: RateQuery = None,
    paid_only: bool = False,
) -> JSONResponse:
    """The logged-in worker's own pension estimate, both scenarios (多缴多得 ladder included)."""
    worker_id = access.worker_self(actor)
    with service.transaction(read_only=True) as connection:
        data = _estimate(
            connection, service, worker_id, retire, base_ratio, wage_growth, interest, paid_only
        )
    return JSONResponse(data)


@router.get("/me/medical/status")
@access.rule(access.WORKER_SELF)
def my_medical_status(actor: ActorDep, service: ServiceDep) -> JSONResponse:
    """The logged-in worker's own employee medical record (months, break, waiting period,
    lifetime cover)."""
    worker_id = access.worker_self(actor)
    with service.transaction(read_only=True) as connection:
        return JSONResponse(_medical_status(connection, service, worker_id))
