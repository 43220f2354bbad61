"""A worker's own records, with their session token (``/me/…``)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from suiren.api import access, trail
from suiren.api.body import JsonBodyRoute
from suiren.api.problems import documented
from suiren.api.routes.auth import PhoneField, throttle_logins
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
    confirm,
    end_own_sessions,
)

router = APIRouter(route_class=JsonBodyRoute)


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
    wage_growth: GrowthQuery = None,
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


class PhoneBinding(BaseModel):
    """A mobile number and the one-time code sent to it (``POST /auth/code`` with
    ``phone``), which proves the worker holds the number."""

    model_config = ConfigDict(extra="forbid")

    phone: PhoneField
    code: str = Field(pattern=r"^[0-9]{6}$")


def _phone_answer(masked: str | None) -> dict[str, str | None]:
    return {"phone": masked}


@router.get("/me/phone")
@access.rule(access.WORKER_SELF)
def my_phone(actor: ActorDep, service: ServiceDep) -> JSONResponse:
    """The mobile number bound to the logged-in worker's login, masked (138****5678), or
    null."""
    from suiren.services.logins import phone_of

    worker_id = access.worker_self(actor)
    with service.transaction(read_only=True) as connection:
        return JSONResponse(_phone_answer(phone_of(connection, worker_id)))


@router.put("/me/phone", responses=documented({422, 429}))
@access.rule(access.WORKER_SELF)
def bind_my_phone(
    request: Request, body: PhoneBinding, actor: ActorDep, service: ServiceDep
) -> JSONResponse:
    """Bind a mobile number to the logged-in worker's login, so that they can log in with
    it; it replaces their earlier one, and a number another login held moves here (numbers
    are reassigned: the code proves who holds it now). Sending it again answers alike."""
    from suiren.services.logins import CODE_REFUSED, CodeRefused, bind_phone

    worker_id = access.worker_self(actor)
    throttle_logins(request)
    with service.transaction() as connection:  # a wrong code's attempt is kept: then refused
        confirm(connection, request, actor, service)
        masked = bind_phone(
            connection, service.vault, worker_id, body.phone, body.code, service.now()
        )
        if masked is not None:
            trail.record(connection, request, actor.key_id, 200, service.now())
    if masked is None:
        raise CodeRefused(CODE_REFUSED, field="code")
    return JSONResponse(_phone_answer(masked))


@router.delete("/me/phone", status_code=204)
@access.rule(access.WORKER_SELF)
def unbind_my_phone(request: Request, actor: ActorDep, service: ServiceDep) -> Response:
    """Remove the mobile number from the logged-in worker's login (then only the resident id
    logs in); done already is done."""
    from suiren.services.logins import unbind_phone

    worker_id = access.worker_self(actor)
    now = service.now()
    with service.transaction() as connection:
        confirm(connection, request, actor, service)
        if unbind_phone(connection, worker_id, now):
            trail.record(connection, request, actor.key_id, 204, now)
    return Response(status_code=204)


@router.post("/me/sessions/end", status_code=204)
@access.rule(access.WORKER_SELF)
def end_my_sessions(request: Request, actor: ActorDep, service: ServiceDep) -> Response:
    """Log out everywhere: every session token of the logged-in worker signed so far — this
    one, the portal's, another phone's — is refused from the next request on (401), and a
    write of one under way writes nothing. Log in again for a new one. ``POST /auth/logout``
    does the same."""
    return end_own_sessions(request, actor, service)
