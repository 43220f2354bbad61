"""Contributions: employee pension and medical payments, a file of payments, and the yearly
interest on the individual accounts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from suiren.api import access
from suiren.api.auth import Actor
from suiren.api.body import JsonBodyRoute
from suiren.api.routes.common import (
    MONTH_PATTERN,
    ActorDep,
    IdempotencyKey,
    Service,
    ServiceDep,
    _idempotent,
    _receive,
    _upload_suffix,
)
from suiren.domain.errors import InvalidInput
from suiren.domain.messages import text as message
from suiren.domain.money import yuan_to_fen
from suiren.domain.month import Month
from suiren.ledger.accounts import Scheme

router = APIRouter(route_class=JsonBodyRoute)


class Payment(BaseModel):
    """One payment: months ``from_month``..``to_month`` (or one ``month``) at one base."""

    model_config = ConfigDict(extra="forbid")

    payment_id: str = Field(min_length=1, max_length=100)
    worker_id: str = Field(min_length=1, max_length=32)
    from_month: str = Field(pattern=MONTH_PATTERN)
    to_month: str | None = Field(default=None, pattern=MONTH_PATTERN)
    base_yuan: str = Field(pattern=r"^[0-9]{1,9}(\.[0-9]{1,2})?$")


@router.post("/contributions", status_code=201)
@access.rule(access.AGENCY_OF_WORKER)
async def contribute(
    request: Request,
    payment: Payment,
    actor: ActorDep,
    service: ServiceDep,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Pay the months of a payment (all or nothing). Send it again with the same
    ``Idempotency-Key`` and body: the first response comes back, nothing is paid twice."""
    return await _pay(request, payment, actor, service, idempotency_key, Scheme.EMPLOYEE_PENSION)


async def _pay(
    request: Request,
    payment: Payment,
    actor: Actor,
    service: Service,
    idempotency_key: str,
    scheme: Scheme,
) -> JSONResponse:
    """The one contribution path, for a scheme the agency holds the worker's enrolment in."""
    from suiren.services.contributions import contribute as pay

    def work(connection: Connection) -> tuple[int, Any]:
        access.worker_region(connection, actor, payment.worker_id, scheme)
        first = Month.parse(payment.from_month)
        last = Month.parse(payment.to_month) if payment.to_month else first
        paid = pay(
            connection,
            service.policy,
            payment.payment_id,
            payment.worker_id,
            first,
            last,
            yuan_to_fen(payment.base_yuan, what="base_yuan"),
            service.now(),
            scheme,
        )
        return 201, {"months": [p.to_json() for p in paid]}

    return await _idempotent(request, actor, service, idempotency_key, work)


@router.post("/medical/contributions", status_code=201)
@access.rule(access.AGENCY_OF_WORKER)
async def medical_contribute(
    request: Request,
    payment: Payment,
    actor: ActorDep,
    service: ServiceDep,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Pay a worker's employee medical months (as ``suiren medical contribute``; the agency
    of the region of the worker's medical enrolment): all or nothing, the reform's pooled
    part held at the hukou region. Send it again with the same ``Idempotency-Key`` and
    body: the first response comes back, nothing is paid twice."""
    return await _pay(request, payment, actor, service, idempotency_key, Scheme.EMPLOYEE_MEDICAL)


@router.post("/contributions/files")
@access.rule(access.AGENCY_OF_REGION)
async def contribute_file(
    request: Request,
    actor: ActorDep,
    service: ServiceDep,
    idempotency_key: IdempotencyKey,
    content_type: Annotated[str, Header()] = "",
) -> JSONResponse:
    """A file of payments (the body: CSV, ``text/csv``, or Parquet,
    ``application/vnd.apache.parquet``; columns as ``suiren contribute --file``, workers by
    ``worker_id``). Rows of workers in the agency's region are posted, every other row comes
    back refused with its row, field and reason; one transaction for the file. A worker of
    another region is refused as an unknown one."""
    import tempfile
    from pathlib import Path

    from suiren.services.intake import (
        PAYMENT_COLUMNS,
        PAYMENT_REQUIRED,
        FileRows,
        IntakeSummary,
        file_columns,
        post_payments,
        read_chunks,
    )

    access.agencies_only(actor)
    suffix = _upload_suffix(content_type)
    with tempfile.TemporaryDirectory(prefix="suiren-upload-") as folder:
        path = Path(folder) / f"payments{suffix}"
        sha256 = await _receive(request, path)
        if "resident_id" in file_columns(path, PAYMENT_COLUMNS, PAYMENT_REQUIRED):
            raise InvalidInput(message("api.file-worker-id"), field="resident_id")

        def work(connection: Connection) -> tuple[int, Any]:
            summary = IntakeSummary()
            earlier = FileRows()
            chunks = read_chunks(
                path, PAYMENT_COLUMNS, PAYMENT_REQUIRED, service.settings.intake_chunk_rows
            )
            for chunk in chunks:
                summary.add(
                    post_payments(
                        connection,
                        service.policy,
                        None,
                        chunk,
                        service.now(),
                        earlier,
                        visible=actor.covers_region,
                    )
                )
            return 200, summary.to_json()

        return await _idempotent(request, actor, service, idempotency_key, work, sha256)


class Reversal(BaseModel):
    """A contribution month to reverse (红冲), as ``suiren reverse``."""

    model_config = ConfigDict(extra="forbid")

    month_id: str = Field(
        max_length=120,
        pattern=r"^[^/].{0,110}/[0-9]{4}-(0[1-9]|1[0-2])$",
        description="the month's id: PAYMENT-ID/YYYY-MM",
    )
    reversal_id: str = Field(min_length=1, max_length=100, description="the reversal's own id")
    memo: str = Field(default="", max_length=200)


@router.post("/contributions/reversals", status_code=201)
@access.rule(access.AGENCY_OF_WORKER)
async def reverse_month(
    request: Request,
    body: Reversal,
    actor: ActorDep,
    service: ServiceDep,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Reverse a contribution month (the agency of the region that recorded it): a new,
    negating transaction; the month may then be paid again. A month whose money has since
    moved to another region, or anything that is not a contribution month, is refused."""
    from suiren.services.reversals import reverse

    def work(connection: Connection) -> tuple[int, Any]:
        region = access.contribution_month(connection, actor, body.month_id)
        posted = reverse(
            connection,
            body.month_id,
            body.reversal_id,
            service.now(),
            body.memo,
            service.policy,
        )
        return 201, {
            "reversal_id": posted.tx_id,
            "reverses": body.month_id,
            "region": region,
            "replayed": posted.replayed,
        }

    return await _idempotent(request, actor, service, idempotency_key, work)


class InterestYear(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # strict: a JSON integer only (lax, 2025.0, "2025" and true were taken as years)
    year: int = Field(ge=1998, le=2200, strict=True)


@router.post("/interest/credit")
@access.rule(access.NATIONAL)
async def credit_interest_route(
    request: Request,
    body: InterestYear,
    actor: ActorDep,
    service: ServiceDep,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """The yearly interest (记账利率) on every region's individual accounts for a year that
    has ended (the national agency; a region already run for the year is skipped)."""
    from suiren.services.interest import credit_interest

    access.national(actor)

    def work(connection: Connection) -> tuple[int, Any]:
        runs = credit_interest(connection, service.policy, body.year, service.now())
        return 200, {
            "year": body.year,
            "regions": [
                {
                    "region": r.region,
                    "accounts": r.accounts,
                    "total_fen": r.total_fen,
                    "skipped": r.skipped,
                    "rate": r.rate,
                    "provisional": r.provisional,
                    "warnings": r.warnings(),
                }
                for r in runs
            ],
        }

    return await _idempotent(request, actor, service, idempotency_key, work)
