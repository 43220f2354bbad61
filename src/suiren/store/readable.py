"""Reading a row that someone may have written around the service.

Whoever can write the database can put in a column a value the service never writes: bytes,
or text that is not UTF-8, where text belongs; text or a fraction where a number does
(SQLite keeps what it is given, whatever the column's type); a date outside years 1 to 9999,
or infinity. Reading such a row fails — in the driver or in SQLAlchemy's conversion
(``TypeError``, ``ValueError``, ``OverflowError``, a ``DataError``; SQLite's
``OperationalError`` for text that is not UTF-8) — or gives Python a value of another type,
on which the code that trusts the row fails later.

Where a row decides who gets in or what a retry is told (a login, a one-time code, a bound
number, a kept answer, a grant), the service reads it with ``first_row`` and asks
``well_typed`` of it: a row that cannot be loaded, or that holds a value of the wrong type,
was not written by the service and is treated as not genuine — refused as if absent, and
named by the audit — never an error of the request (an HTTP 500). The audit guards each of
its steps the same way, more widely (store/audit.py ``guarded``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    DateTime,
    Executable,
    Integer,
    LargeBinary,
    Row,
    String,
    Table,
)
from sqlalchemy.exc import DataError, OperationalError

# what the driver or SQLAlchemy raises for a stored value it cannot turn into Python
_CONVERSION_ERRORS = (TypeError, ValueError, OverflowError, DataError)


def is_unloadable(error: BaseException) -> bool:
    """Whether ``error``, raised while reading rows, says that a stored value cannot be
    loaded (rather than that the database failed: a lost connection is not this)."""
    if isinstance(error, _CONVERSION_ERRORS):
        return True
    # SQLite's text that is not UTF-8 (sqlite3: "Could not decode to UTF-8 column …")
    return isinstance(error, OperationalError) and "decode" in str(error.orig)


@dataclass(frozen=True)
class Found:
    """What a read found: whether a row is there, and the row — None when there is none or
    when it cannot be loaded (or, from ``seals.read_sealed``, is not genuine)."""

    present: bool
    row: Row[Any] | None


def first_row(
    connection: Connection, statement: Executable, parameters: dict[str, Any] | None = None
) -> Found:
    """The first row of ``statement``; a row whose values cannot be loaded is present with
    no row (the transaction stays usable: the statement itself ran)."""
    try:
        row = connection.execute(statement, parameters).first()
    except Exception as error:
        if not is_unloadable(error):
            raise
        return Found(True, None)
    return Found(row is not None, row)


# a column type → the Python type the service writes into it (checked in this order)
_PYTHON_TYPES: tuple[tuple[type, type | tuple[type, ...]], ...] = (
    (Boolean, bool),
    (Integer, int),  # BigInteger too
    (DateTime, datetime),
    (Date, date),
    (LargeBinary, (bytes, memoryview)),
    (String, str),  # Text too
)


def well_typed(table: Table, row: Mapping[str, Any]) -> bool:
    """Whether each of ``table``'s columns in ``row`` holds a value of the type the service
    writes there (NULL only where the column allows it): bytes in a text column, text in a
    number's, or a number in a date's is not."""
    for column in table.columns:
        if column.name not in row:
            continue
        value = row[column.name]
        if value is None:
            if not column.nullable:
                return False
            continue
        wanted = next((py for sql, py in _PYTHON_TYPES if isinstance(column.type, sql)), None)
        if wanted is None:  # pragma: no cover - a new column type needs its Python type here
            raise AssertionError(f"no Python type for {table.name}.{column.name}")
        if not isinstance(value, wanted) or (wanted is int and isinstance(value, bool)):
            return False
    return True
