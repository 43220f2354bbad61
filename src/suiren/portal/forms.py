"""The forms the portal's and the console's pages are POSTed: small urlencoded bodies, read
with a limit on their size and on their fields before anything looks at them; and the
access-log row of a worker's form that writes (``record_worker_write``)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl

from fastapi import Request
from sqlalchemy import Connection

from suiren.api import trail

FORM_BYTES_MAX = 4096  # a login form is well under 300 bytes; a rejection with its reason, 1 KB
FORM_FIELDS_MAX = 8


async def read_form(request: Request) -> dict[str, str] | None:
    """An urlencoded form of at most ``FORM_BYTES_MAX`` bytes (the first value of each
    field; no body is an empty form), or None for anything else — a NUL (``%00``) in a
    name or a value too: no form field holds one, and PostgreSQL cannot store it."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = bytearray()
    async for piece in request.stream():
        body += piece
        if len(body) > FORM_BYTES_MAX:
            return None
    if not body:
        return {}
    if kind != "application/x-www-form-urlencoded":
        return None
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=99)
    except (UnicodeDecodeError, ValueError):
        return None
    if len(pairs) > FORM_FIELDS_MAX or any("\x00" in n or "\x00" in v for n, v in pairs):
        return None
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form


def record_worker_write(
    connection: Connection, request: Request, worker_id: str, now: datetime, status: int
) -> None:
    """The access-log row of a worker's write from the portal (a payment, a move, a login),
    in the unit of work of what it did: ``worker:<id>``, the request id, the path (never a
    resident id), the status — as the API's writes and the console's record theirs."""
    trail.record(connection, request, trail.worker_actor_id(worker_id), status, now)


def record_own_write(
    connection: Connection, request: Request, worker_id: str, now: datetime, status: int
) -> None:
    """``record_worker_write`` for a write of a logged-in worker, whose session is checked
    again first in the write's own transaction (``session.confirm``: ended meanwhile, the
    write and all it did are rolled back)."""
    from suiren.api.routes.common import service_of
    from suiren.portal.session import confirm

    confirm(connection, request, service_of(request).token_key, worker_id)
    record_worker_write(connection, request, worker_id, now, status)
