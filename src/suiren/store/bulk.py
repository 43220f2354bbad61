"""Each database's fast path for many rows: PostgreSQL COPY, SQLite executemany.

Both run inside the caller's transaction; nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table

from suiren.store.db import is_postgres

COPY_ROWS_MIN = 64  # below this, a plain multi-row insert is as fast and simpler
COPY_CHUNK_ROWS = 50_000
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _field(value: Any) -> str:
    """One value in COPY text format: \\N for NULL, escapes for text, ISO for datetimes."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    if isinstance(value, bytes):
        return "\\\\x" + value.hex()
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _copy_text(rows: list[tuple[Any, ...]]) -> str:
    return "".join("\t".join([_field(v) for v in row]) + "\n" for row in rows)


def insert_rows(
    connection: Connection, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table``."""
    if not rows:
        return
    if is_postgres(connection) and len(rows) >= COPY_ROWS_MIN:
        raw = connection.connection.driver_connection
        assert raw is not None
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for start in range(0, len(rows), COPY_CHUNK_ROWS):
                copy.write(_copy_text(rows[start : start + COPY_CHUNK_ROWS]))
        return
    connection.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in rows])
