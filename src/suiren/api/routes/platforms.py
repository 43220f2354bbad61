"""Platforms (平台企业): the workers a platform declares it engages and the relation
(人社部发〔2021〕56号), as ``suiren platform declare / end / list``. A platform sees the workers
it declared and nothing of anyone else; of its workers, their engagements with it and
whether they are enrolled, never their months or balances (services/platforms.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

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
from suiren.domain.errors import InvalidInput
from suiren.domain.messages import text as message
from suiren.services.platforms import Relation

router = APIRouter(route_class=JsonBodyRoute)
DAY_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"  # YYYY-MM-DD


def _day(value: str | None, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            message("api.param-not-a-day", name=name, value=value), field=name
        ) from None


class Declaration(BaseModel):
    """A person the platform engages: where they work, the relation (人社部发〔2021〕56号:
    ``labour`` 劳动关系, ``incomplete`` 不完全符合确立劳动关系情形, ``civil`` 民事关系) and the
    first day (today if left out; not after today)."""

    model_config = ConfigDict(extra="forbid")

    resident_id: str = Field(min_length=15, max_length=18)
    work_region: str = Field(pattern=r"^[0-9]{6}$")
    relation: Relation
    since: str | None = Field(default=None, alias="from", pattern=DAY_PATTERN)


class Ending(BaseModel):
    """The last day of the engagement (today if left out; not after today)."""

    model_config = ConfigDict(extra="forbid")

    until: str | None = Field(default=None, pattern=DAY_PATTERN)


@router.post("/platform/workers", status_code=201)
@access.rule(access.PLATFORM)
async def declare_worker(
    request: Request,
    declaration: Declaration,
    actor: ActorDep,
    service: ServiceDep,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Declare a worker the platform engages (one person, one worker: the person is found by
    their resident id or registered; not enrolled in any scheme by this). The same
    declaration again answers the engagement as it is (``recorded``: false); another relation
    or work region is a new fact. The resident id is answered masked."""
    from suiren.services.platforms import declare

    since = _day(declaration.since, "from")

    def work(connection: Connection) -> tuple[int, Any]:
        platform = access.platform(actor)
        done = declare(
            connection,
            service.policy,
            service.vault,
            platform,
            declaration.resident_id,
            declaration.work_region,
            declaration.relation,
            since,
            service.now(),
        )
        return 201, done.to_json()

    return await _idempotent(request, actor, service, idempotency_key, work)


@router.post("/platform/workers/{worker_id}/end")
@access.rule(access.PLATFORM_OF_WORKER)
async def end_engagement(
    worker_id: str,
    request: Request,
    actor: ActorDep,
    service: ServiceDep,
    idempotency_key: IdempotencyKey,
    ending: Ending | None = None,
) -> JSONResponse:
    """End the platform's engagement of the worker on its last day (the same end again
    answers it as it is; ``recorded``: false)."""
    from suiren.services.platforms import end

    until = _day(ending.until if ending else None, "until")

    def work(connection: Connection) -> tuple[int, Any]:
        platform = access.platform_worker(connection, actor, worker_id)
        state, recorded = end(connection, platform, worker_id, until, service.now())
        return 200, {"worker_id": worker_id, "recorded": recorded, "engagement": state.to_json()}

    return await _idempotent(request, actor, service, idempotency_key, work)


@router.get("/platform/workers")
@access.rule(access.PLATFORM)
def list_engaged(
    actor: ActorDep,
    service: ServiceDep,
    limit: PageQuery = 50,
    cursor: CursorQuery = None,
) -> JSONResponse:
    """The workers the platform has declared, by id, a page at a time: each with its latest
    engagement (relation, work region, since, until — null while engaged); resident ids
    masked."""
    from suiren.services.platforms import engaged

    platform = access.platform(actor)
    with service.transaction(read_only=True) as connection:
        rows = engaged(connection, platform, decode_cursor(cursor), limit)
    items = [{"worker_id": e.worker_id, "resident_id": masked, **e.to_json()} for e, masked in rows]
    return JSONResponse(
        {"items": items, "next_cursor": next_cursor([i["worker_id"] for i in items], limit)}
    )


@router.get("/platform/workers/{worker_id}")
@access.rule(access.PLATFORM_OF_WORKER)
def engaged_worker(worker_id: str, actor: ActorDep, service: ServiceDep) -> JSONResponse:
    """A worker the platform has declared: its engagements with them, and whether they are
    enrolled in the employee pension and medical insurance and where (nothing of their
    months or balances). Any worker the platform has not declared: 404."""
    from suiren.services.platforms import worker_view

    with service.transaction(read_only=True) as connection:
        platform = access.platform_worker(connection, actor, worker_id)
        return JSONResponse(worker_view(connection, platform, worker_id))
