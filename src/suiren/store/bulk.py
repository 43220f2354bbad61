"""Each database's fast path for many rows: PostgreSQL COPY, SQLite executemany.

Both run inside the caller's transaction; nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table

from suiren.store.db import is_postgres

COPY_ROWS_MIN = 64  # below this, a plain multi-row insert is as fast and simpler


def insert_rows(
    connection: Connection, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table``."""
    if not rows:
        return
    if is_postgres(connection) and len(rows) >= COPY_ROWS_MIN:
        raw = connection.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor:
            with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    connection.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in rows])
