"""Oversight: the audit and signed checkpoints (auditors), settlement windows between regions
(the national agency)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Connection

from suiren.api import access
from suiren.api.body import JsonBodyRoute
from suiren.api.routes.common import (
    ActorDep,
    IdempotencyKey,
    ServiceDep,
    _idempotent,
    _plain,
)
from suiren.domain.errors import InvalidInput
from suiren.domain.messages import text as message
from suiren.ledger.accounts import Scheme

router = APIRouter(route_class=JsonBodyRoute)


@router.post("/audit/verify")
@access.rule(access.AUDITOR)
def audit_verify(actor: ActorDep, service: ServiceDep) -> JSONResponse:
    """Verify the whole ledger: chains, facts, projections, balances (an auditor, or the
    national agency). Reads only."""
    from suiren.store.audit import verify

    access.auditor(actor)
    with service.transaction() as connection:
        result = verify(connection)
    return JSONResponse(result.to_json())


DayPath = Annotated[str, Path(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
SchemeQuery = Annotated[  # the windows of one insurance's transfers, as the CLI's --scheme
    Literal["employee_pension", "employee_medical"],
    Query(description="employee_pension (职工养老, default) or employee_medical (职工医保)"),
]


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(message("api.not-a-day", shown=text), field="window") from None


@router.post("/settlement/windows/{window}/close")
@access.rule(access.NATIONAL)
async def close_settlement(
    request: Request,
    window: DayPath,
    actor: ActorDep,
    service: ServiceDep,
    idempotency_key: IdempotencyKey,
    scheme: SchemeQuery = "employee_pension",
) -> JSONResponse:
    """Net the window's transfers of one insurance per region and post the settlement (the
    national agency; a window closes once its day is over, and closing it again returns the
    first result)."""
    from suiren.services.settlement import close_window

    access.national(actor)
    day = _day(window)

    def work(connection: Connection) -> tuple[int, Any]:
        result = close_window(connection, day, service.now(), Scheme(scheme))
        return 200, result.to_json() | {"scheme": scheme}

    return await _idempotent(request, actor, service, idempotency_key, work)


@router.get("/settlement/windows/{window}")
@access.rule(access.NATIONAL)
def settlement_report(
    window: DayPath,
    actor: ActorDep,
    service: ServiceDep,
    scheme: SchemeQuery = "employee_pension",
) -> JSONResponse:
    """The window's region × region flows and net positions of one insurance's transfers
    (the national agency)."""
    from suiren.services.settlement import report

    access.national(actor)
    with service.transaction(read_only=True) as connection:
        result = report(connection, _day(window), Scheme(scheme)).to_json()
    return JSONResponse(_plain(result | {"scheme": scheme}))


@router.post("/audit/checkpoint")
@access.rule(access.AUDITOR)
def audit_checkpoint(actor: ActorDep, service: ServiceDep) -> JSONResponse:
    """The chain heads, signed: keep it outside the database, and verify against it later
    (``suiren audit verify --checkpoint``)."""
    from suiren.store.checkpoint import make_checkpoint

    access.auditor(actor)
    with service.transaction() as connection:
        return JSONResponse(make_checkpoint(connection, service.now()))


YearQuery = Annotated[int | None, Query(ge=1992, le=2100)]


@router.get("/aggregates/regions")
@access.rule(access.ANALYST)
def region_aggregates(actor: ActorDep, service: ServiceDep, year: YearQuery = None) -> JSONResponse:
    """Per region and scheme: workers insured, workers who paid in ``year`` (default this
    year), the months and amounts paid, the balances now — a region resting on fewer than
    five people is withheld (an analyst, or the national agency)."""
    from suiren.services.aggregates import region_aggregates as aggregates

    access.analyst(actor)
    with service.transaction(read_only=True) as connection:
        data = aggregates(connection, year or service.now().year)
    return JSONResponse(data)
