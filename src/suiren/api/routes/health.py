"""The service's health: the database answers, at its migration revision."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from suiren.api import access
from suiren.api.body import JsonBodyRoute
from suiren.api.routes.common import (
    ServiceDep,
)

router = APIRouter(route_class=JsonBodyRoute)


class Health(BaseModel):
    status: str
    database: str
    revision: str | None


@router.get("/health", response_model=Health)
@access.rule(access.PUBLIC)
def health(service: ServiceDep) -> Health:
    """The database answers, at this migration revision."""
    with service.engine.connect() as connection:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return Health(status="ok", database="ok", revision=revision)
