"""The PII scan of the API tests (issue 11 §2, §6): no unmasked 18-character resident id in
any response body, log record or access-log / stored-response row the tests produce.

``Capture`` records, while installed: every HTTP response body an API app sends (its ASGI
``send``, so TestClient and schemathesis's own ASGI transport alike), every log record, and
the parameters of every row written to the API's ``access_log`` and ``idempotency_keys``
tables. tests/conftest.py installs one for the session (``pii_capture``); tests/api and
tests/portal scan what each of their tests added (``scan``, from their conftest).

A resident id is 17 digits and a check character (GB 11643-1999), with a birth date in its
middle, standing alone (not inside a longer run of letters and digits, such as a hash).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.engine import Engine

from suiren.domain.resident_id import check_character

CANDIDATE = re.compile(r"(?<![0-9A-Za-z])([0-9]{17}[0-9Xx])(?![0-9A-Za-z])")
WATCHED_TABLES = ("access_log", "idempotency_keys")  # what the API writes about requests
SHOWN_CHARS_MAX = 300  # of a finding's surroundings


def resident_ids_in(text: str) -> list[str]:
    """Every unmasked resident id in ``text``: a valid check character and birth date."""
    found = []
    for match in CANDIDATE.finditer(text):
        number = match.group(1).upper()
        if check_character(number[:17]) != number[17]:
            continue
        try:
            born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        except ValueError:
            continue
        if 1900 <= born.year <= 2100:
            found.append(number)
    return found


@dataclass
class Capture:
    """What the API said and logged, as (where, text) pairs, in order."""

    seen: list[tuple[str, str]] = field(default_factory=list)

    def findings(self, start: int = 0) -> list[str]:
        """Each captured text from ``start`` on that holds a resident id, described."""
        out = []
        for where, text in self.seen[start:]:
            for number in resident_ids_in(text):
                at = text.find(number)
                around = text[max(0, at - 80) : at + 100][:SHOWN_CHARS_MAX]
                out.append(f"{where}: {number[:2]}****…: {around!r}")
        return out


class _Records(logging.Handler):
    def __init__(self, capture: Capture) -> None:
        super().__init__(logging.DEBUG)
        self.capture = capture

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.capture.seen.append((f"log {record.name}", text))


@contextmanager
def installed(capture: Capture) -> Iterator[Capture]:
    """Record into ``capture`` until the block ends: response bodies of every FastAPI app,
    log records (the ``suiren`` loggers at DEBUG), rows written to ``WATCHED_TABLES``."""
    original_call = FastAPI.__call__

    async def call(app: FastAPI, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await original_call(app, scope, receive, send)
        where = f"response {scope.get('method')} {scope.get('path')}"

        async def recording_send(message: Any) -> None:
            if message["type"] == "http.response.body" and message.get("body"):
                capture.seen.append((where, message["body"].decode("utf-8", "replace")))
            await send(message)

        return await original_call(app, scope, receive, recording_send)

    def rows(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE")) and any(
            table in statement for table in WATCHED_TABLES
        ):
            capture.seen.append((f"row {statement.split('(')[0].strip()}", repr(parameters)))

    handler = _Records(capture)
    suiren_log = logging.getLogger("suiren")
    level = suiren_log.level
    FastAPI.__call__ = call  # type: ignore[method-assign]
    event.listen(Engine, "before_cursor_execute", rows)
    logging.getLogger().addHandler(handler)
    suiren_log.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        FastAPI.__call__ = original_call  # type: ignore[method-assign]
        event.remove(Engine, "before_cursor_execute", rows)
        logging.getLogger().removeHandler(handler)
        suiren_log.setLevel(level)


def scan(capture: Capture) -> None:
    """Fail the test if what it (or a module fixture's set-up before it) captured holds a
    resident id; then forget it, to keep the session's memory flat."""
    import pytest

    findings = capture.findings()
    capture.seen.clear()
    if findings:
        pytest.fail(
            f"{len(findings)} unmasked resident id(s) in what the app said or logged:\n"
            + "\n".join(findings[:10]),
            pytrace=False,
        )
