"""Workers: enrolment (one or a file), earlier history, a worker's statement, pension estimate
and medical record, and the agency's list of its workers."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection, select

from suiren.api import access
from suiren.api.auth import named
from suiren.api.body import JsonBodyRoute, strict_json
from suiren.api.paging import decode_cursor, next_cursor
from suiren.api.routes import common
from suiren.api.routes.common import (
    UPLOAD_TYPES,
    ActorDep,
    BearerDep,
    CursorQuery,
    GrowthQuery,
    IdempotencyKey,
    PageQuery,
    RateQuery,
    RatioQuery,
    RetireQuery,
    ServiceDep,
    _estimate_read,
    _idempotent,
    _medical_status,
    _receive,
    _upload_suffix,
    _worker_read,
)
from suiren.domain.errors import InvalidInput
from suiren.domain.messages import text as message
from suiren.ledger.accounts import Scheme

router = APIRouter(route_class=JsonBodyRoute)


class Enrolment(BaseModel):
    """One person enrolled where they work (one person, one worker: enrolling them again
    returns the same worker)."""

    model_config = ConfigDict(extra="forbid")

    resident_id: str = Field(min_length=15, max_length=18)
    work_region: str = Field(pattern=r"^[0-9]{6}$")
    hukou_region: str | None = Field(default=None, pattern=r"^[0-9]{6}$")


@router.post("/workers", status_code=201)
@access.rule(access.AGENCY_OF_REGION)
async def enrol_worker(
    request: Request,
    person: Enrolment,
    actor: ActorDep,
    service: ServiceDep,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Enrol a person in the work region's employee pension (an agency of that region). The
    answer shows the resident id masked, never in full."""
    from suiren.services.workers import enrol

    def work(connection: Connection) -> tuple[int, Any]:
        access.region(actor, person.work_region)
        done = enrol(
            connection,
            service.policy,
            service.vault,
            person.resident_id,
            person.work_region,
            person.hukou_region,
            service.now(),
        )
        w = done.worker
        return 201, {
            "worker_id": w.worker_id,
            "created": done.created,
            "resident_id": w.masked_id,
            "work_region": person.work_region,
        }

    return await _idempotent(request, actor, service, idempotency_key, work)


@router.post("/workers/{worker_id}/sessions/end")
@access.rule(access.AGENCY_OF_WORKER)
async def end_worker_sessions(
    worker_id: str,
    request: Request,
    actor: ActorDep,
    service: ServiceDep,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """End every session of the worker (an agency of the worker's region, at the desk: a
    phone lost, a login taken over): every session token they hold — the API's, the
    portal's — is refused from the next request on (401), and a write of one under way
    writes nothing. The worker logs in again (a new password through a one-time code ends
    them too)."""
    from suiren.services.logins import end_sessions

    def work(connection: Connection) -> tuple[int, Any]:
        access.worker_region(connection, actor, worker_id)
        end_sessions(connection, worker_id, service.now(), named(actor))
        return 200, {"worker_id": worker_id, "sessions_ended": True}

    return await _idempotent(request, actor, service, idempotency_key, work)


@router.get("/workers/{worker_id}/statement")
@access.rule(access.AGENCY_OF_WORKER)
async def worker_statement(
    worker_id: str, request: Request, service: ServiceDep, _bearer: BearerDep
) -> Response:
    """A worker's months by region and balances (an agency of the worker's region)."""
    from suiren.services.statement import statement

    return await _worker_read(request, service, worker_id, ("statement",), statement)


@router.get("/workers/{worker_id}/pension/estimate")
@access.rule(access.AGENCY_OF_WORKER)
async def pension_estimate(
    worker_id: str,
    request: Request,
    service: ServiceDep,
    _bearer: BearerDep,
    retire: RetireQuery = None,
    base_ratio: RatioQuery = None,
    wage_growth: GrowthQuery = None,
    interest: RateQuery = None,
    paid_only: bool = False,
) -> Response:
    """Both scenarios side by side, paying on to retirement under stated assumptions (as
    ``suiren pension estimate``)."""
    return await _estimate_read(
        request, service, worker_id, retire, base_ratio, wage_growth, interest, paid_only
    )


@router.get("/workers/{worker_id}/medical/status")
@access.rule(access.AGENCY_OF_WORKER)
def medical_status(worker_id: str, actor: ActorDep, service: ServiceDep) -> JSONResponse:
    """A worker's employee medical record (as ``suiren medical status``): months paid per
    region, the break and the waiting period on re-joining today, lifetime cover at
    retirement, each with the parameters it used (the agency of the worker's region)."""
    with service.transaction(read_only=True) as connection:
        access.worker_region(connection, actor, worker_id, Scheme.EMPLOYEE_MEDICAL)
        return JSONResponse(_medical_status(connection, service, worker_id))


@router.post("/workers/files")
@access.rule(access.AGENCY_OF_REGION)
async def enrol_file(
    request: Request,
    actor: ActorDep,
    service: ServiceDep,
    idempotency_key: IdempotencyKey,
    content_type: Annotated[str, Header()] = "",
) -> JSONResponse:
    """A file of people to enrol (CSV or Parquet; columns as ``suiren worker enrol --file``:
    resident_id, work_region, [hukou_region], [scheme]). People who work in the agency's
    regions are enrolled (one person, one worker); every other row comes back refused with
    its row, field and reason. One transaction for the file; the answer maps each enrolled
    row to its worker (no resident id: the answer is stored for replays)."""
    import tempfile
    from pathlib import Path

    from suiren.services.intake import (
        WORKER_COLUMNS,
        WORKER_REQUIRED,
        EnrolSummary,
        enrol_workers,
        read_chunks,
    )

    access.agencies_only(actor)
    suffix = _upload_suffix(content_type)
    with tempfile.TemporaryDirectory(prefix="suiren-upload-") as folder:
        path = Path(folder) / f"workers{suffix}"
        sha256 = await _receive(request, path)

        def work(connection: Connection) -> tuple[int, Any]:
            summary = EnrolSummary()
            rows: list[dict[str, Any]] = []
            for chunk in read_chunks(
                path, WORKER_COLUMNS, WORKER_REQUIRED, service.settings.intake_chunk_rows
            ):
                part = enrol_workers(
                    connection,
                    service.policy,
                    service.vault,
                    chunk,
                    service.now(),
                    visible=actor.covers_region,
                )
                rows += [{"row": r, "worker_id": w} for r, w in part.rows_enrolled]
                summary.add(part)
            return 200, summary.to_json() | {"workers": rows}

        return await _idempotent(request, actor, service, idempotency_key, work, sha256)


HISTORY_JSON_ROWS_MAX = 10_000


class HistoryRows(BaseModel):
    """A few people's earlier history as JSON (a bulk import sends a CSV or Parquet body):
    the rows of a stints file and, optionally, of a balances file, every value as text."""

    model_config = ConfigDict(extra="forbid")

    stints: list[dict[str, str]] = Field(min_length=1, max_length=HISTORY_JSON_ROWS_MAX)
    balances: list[dict[str, str]] = Field(default_factory=list, max_length=HISTORY_JSON_ROWS_MAX)


@router.post("/workers/history")
@access.rule(access.AGENCY_OF_REGION)
async def import_history(
    request: Request,
    actor: ActorDep,
    service: ServiceDep,
    idempotency_key: IdempotencyKey,
    content_type: Annotated[str, Header()] = "",
) -> JSONResponse:
    """Workers' earlier history from the agency's old system (as ``suiren worker
    import-history``): the body is a stints file (CSV or Parquet), or JSON with ``stints``
    and ``balances`` rows. People the agency insures are imported (new ones enrolled where
    their last stint was, in its regions); any other person's rows come back refused, with
    every other refused row (row, field, reason). One transaction for the request. The same
    stints sent again replay the people they recorded; a person recorded with other balances
    is a conflict (409 history-conflict), and nothing is written."""
    import csv
    import io
    import tempfile
    from pathlib import Path

    from suiren.services.history import (
        BALANCE_COLUMNS,
        STINT_COLUMNS,
        HistorySummary,
        file_hash,
        import_people,
        people,
        read_balances,
        refused_rows,
        unmatched_balances,
    )

    access.agencies_only(actor)
    kind = content_type.split(";")[0].strip().lower()
    with tempfile.TemporaryDirectory(prefix="suiren-upload-") as folder:
        balances_path: Path | None = None
        if kind == "application/json":
            body = await request.body()  # at most a JSON body's limit (``app.body_bytes_max``)
            content = strict_json(body)  # as every JSON body (each key once, no NUL, BOM)
            # compared by its content, as every JSON body under an Idempotency-Key: a retry
            # serialised again (another key order, spacing, a BOM) is the same request
            body_sha256 = hashlib.sha256(common.canonical_json(content)).hexdigest()
            try:
                rows = HistoryRows.model_validate(content)
            except ValidationError as error:  # the same 422 as a route's own body model
                raise RequestValidationError(
                    [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
                ) from None
            path = Path(folder) / "stints.csv"
            for target, items, columns in (
                (path, rows.stints, STINT_COLUMNS),
                (Path(folder) / "balances.csv", rows.balances, BALANCE_COLUMNS),
            ):
                if not items:
                    continue
                unknown = sorted({k for item in items for k in item} - set(columns))
                if unknown:
                    raise InvalidInput(
                        message(
                            "api.unknown-fields",
                            shown=", ".join(unknown[:5]),
                            fields=", ".join(columns),
                        ),
                        field=unknown[0][:40],
                    )
                text = io.StringIO()
                writer = csv.DictWriter(text, fieldnames=list(columns), lineterminator="\n")
                writer.writeheader()
                writer.writerows(items)
                target.write_text(text.getvalue(), encoding="utf-8")
            if rows.balances:
                balances_path = Path(folder) / "balances.csv"
            # the stints name the import, as a file does at the command line: the same
            # stints sent again with other balances are a conflict, not a new import
            import_id = file_hash(path)
        else:
            suffix = UPLOAD_TYPES.get(kind)
            if suffix is None:
                raise InvalidInput(
                    message(
                        "api.content-type", choices=", ".join([*UPLOAD_TYPES, "application/json"])
                    ),
                    field="Content-Type",
                )
            path = Path(folder) / f"stints{suffix}"
            import_id = body_sha256 = await _receive(request, path)
        found = read_balances(balances_path)[0] if balances_path else {}

        def work(connection: Connection) -> tuple[int, Any]:
            summary = HistorySummary()
            seen: set[str] = set()
            first_row: dict[str, int] = {}
            for unit in people(path, service.settings.intake_chunk_rows):
                seen.update(p.resident_id for p in unit)
                first_row.update((p.resident_id, p.rows[0][0]) for p in unit)
                summary.add(
                    import_people(
                        connection,
                        service.policy,
                        service.vault,
                        unit,
                        found,
                        import_id,
                        service.now(),
                        visible=actor.covers_region,
                    )
                )
            summary.errors += unmatched_balances(found, seen)
            summary.refused = refused_rows(summary.errors)
            answer = summary.to_json() | {  # no resident id: the answer is stored (replays)
                "import_id": import_id,
                "workers": [
                    {"first_row": first_row[r], "worker_id": w} for r, w in summary.mapping
                ],
            }
            return 200, answer

        return await _idempotent(request, actor, service, idempotency_key, work, body_sha256)


@router.get("/workers")
@access.rule(access.AGENCY_OF_REGION)
def list_workers(
    actor: ActorDep,
    service: ServiceDep,
    limit: PageQuery = 50,
    cursor: CursorQuery = None,
) -> JSONResponse:
    """The workers insured in the agency's region (their pension enrolment), by id, a page at a
    time; resident ids masked."""
    from suiren.store.tables import enrolments, workers

    prefix = actor.region_prefix()
    if prefix is None:
        raise access.NotFound(access.NO_SUCH)
    query = (
        select(
            workers.c.worker_id,
            workers.c.masked_id,
            workers.c.sex,
            enrolments.c.region,
            enrolments.c.relation_region,
            enrolments.c.temporary,
        )
        .join(enrolments, enrolments.c.worker_id == workers.c.worker_id)
        .where(
            enrolments.c.scheme == "employee_pension",
            enrolments.c.region.like(f"{prefix}%"),
            workers.c.worker_id > decode_cursor(cursor),
        )
        .order_by(workers.c.worker_id)
        .limit(limit)
    )
    with service.transaction(read_only=True) as connection:
        rows = connection.execute(query).all()
    items = [
        {
            "worker_id": r.worker_id,
            "resident_id": r.masked_id,
            "sex": r.sex,
            "region": r.region,
            "relation_region": r.relation_region,
            "temporary": bool(r.temporary),
        }
        for r in rows
    ]
    return JSONResponse(
        {"items": items, "next_cursor": next_cursor([i["worker_id"] for i in items], limit)}
    )
