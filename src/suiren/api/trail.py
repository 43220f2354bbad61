"""The audit trail of requests (issue 11 §2): every write through the API, the portal or the
console, and every login, leaves one append-only ``access_log`` row — who (an API key's id,
``worker:<id>``, a clerk's actor id, or ``anonymous`` before anyone is known), the request
id, the method, the path (ids of records, never a resident id or a phone number) and the
status — written in the unit of work of what it records, so the two commit together."""

from __future__ import annotations

from datetime import datetime

from fastapi import Request
from sqlalchemy import Connection, insert

from suiren.store.api_tables import access_log

ANONYMOUS = "anonymous"  # a login code asked for: no one is known yet
ACTOR_CHARS_MAX = 48
PATH_CHARS_MAX = 1000


def record(
    connection: Connection, request: Request, actor_id: str, status: int, now: datetime
) -> None:
    """The access-log row of this request, by ``actor_id``, answered with ``status``."""
    record_row(
        connection, request.state.request_id, actor_id, request.method, request.url.path,
        status, now,
    )  # fmt: skip


def record_row(
    connection: Connection,
    request_id: str,
    actor_id: str,
    method: str,
    path: str,
    status: int,
    now: datetime,
) -> None:
    """The access-log row of a request whose parts were taken from it (a worker thread's)."""
    connection.execute(
        insert(access_log).values(
            request_id=request_id,
            key_id=actor_id[:ACTOR_CHARS_MAX],
            method=method,
            path=path[:PATH_CHARS_MAX],
            status=status,
            at=now,
        )
    )


def worker_actor_id(worker_id: str) -> str:
    """The access log's name of a worker (as their session tokens' actor)."""
    return f"worker:{worker_id}"
