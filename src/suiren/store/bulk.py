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


def _copy_text(rows: list[tuple[Any, ...]], plain: bool, unsafe: Sequence[int] = ()) -> str:
    if plain:  # ints and strings that need no escaping: let str() and join run at C speed
        return "".join(["\t".join(map(str, row)) + "\n" for row in rows])
    if unsafe:  # only these columns may hold NULLs, bytes or text needing escapes
        lines = []
        for row in rows:
            fields = list(map(str, row))
            for i in unsafe:
                fields[i] = _field(row[i])
            lines.append("\t".join(fields))
        return "\n".join(lines) + "\n"
    return "".join(["\t".join([_field(v) for v in row]) + "\n" for row in rows])


def insert_rows(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    plain: bool = False,
    unsafe: Sequence[int] = (),
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table``.

    ``plain=True`` promises that every value is an int, a datetime or a string with no tab,
    newline or backslash (ids and codes checked at the edge) and none is NULL: COPY then
    skips per-value escaping. ``unsafe`` names the only columns that need it.
    """
    if not rows:
        return
    if is_postgres(connection) and len(rows) >= COPY_ROWS_MIN:
        raw = connection.connection.driver_connection
        assert raw is not None
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for start in range(0, len(rows), COPY_CHUNK_ROWS):
                copy.write(_copy_text(rows[start : start + COPY_CHUNK_ROWS], plain, unsafe))
        return
    connection.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in rows])


def fill_keys(connection: Connection, name: str, keys: Sequence[str]) -> str:
    """PostgreSQL: a temporary one-column table ``name`` holding ``keys`` (for joins).

    Looking up a million ids as one COPY and one join is a round trip; as chunks of
    ``IN (…)`` it is thousands. Dropped at commit. Keys must be plain (no tabs, newlines).
    """
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} (key text) ON COMMIT DROP")
        cursor.execute(f"TRUNCATE {name}")
        with cursor.copy(f"COPY {name} (key) FROM STDIN") as copy:
            for start in range(0, len(keys), COPY_CHUNK_ROWS):
                copy.write("".join([f"{k}\n" for k in keys[start : start + COPY_CHUNK_ROWS]]))
    return name
