"""Every column of every ledger table, changed on one row: the audit finds it, or the database
refuses the change (a key or a CHECK constraint).

``test_tamper`` tries the changes an adversary would choose; this sweep tries a change of each
column in turn, so that a column neither hashed nor rebuilt nor recomputed by the audit (the
owner, kind and region beside an account's key, once; a segment's row count) cannot hide. A
value is changed to the next one the database takes (a number ±1 or +1000, a string's last
character, a region to a code no one uses, a day or a second later, a bit of a ciphertext),
blanked to ``''``, or set to NULL where the column allows it. Each change runs on the shared
ledger of ``test_tamper`` (both backends) in a transaction rolled back afterwards.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    exc,
    select,
    text,
)

from suiren.store.api_tables import api_metadata
from suiren.store.audit import verify
from suiren.store.db import is_postgres
from suiren.store.projections import RECORDED, _agreement_sql, agrees_in_sql
from suiren.store.tables import metadata
from tests.store import test_tamper
from tests.store.test_tamper import GRANTING_NOTHING, KEY_TABLE, Ledger, tampering

# every problem the audit names said in both languages (tests/store/conftest.py)
pytestmark = pytest.mark.usefixtures("audit_said_in_both")
ledger = test_tamper.ledger  # its shared ledger (a module-scoped fixture, both backends)

UNUSED_REGION = "990000"  # a six-digit code no row of the ledger holds
COLUMNS = [
    (table, column)
    for table in metadata.sorted_tables
    if table.name not in KEY_TABLE
    for column in table.columns
]


def changed(value: Any, column: Column[Any]) -> list[Any]:
    """Values to put in place of ``value``, the most plausible first."""
    kind = column.type
    if isinstance(kind, Boolean):
        return [not value]
    if isinstance(kind, DateTime):
        return [value + timedelta(seconds=1)]
    if isinstance(kind, Date):
        return [value + timedelta(days=1)]
    if isinstance(kind, LargeBinary):
        blob = bytes(value)
        return [blob[:-1] + bytes([blob[-1] ^ 1])]
    if isinstance(kind, String | Text):
        if len(value) == 6 and value.isdigit():
            return [UNUSED_REGION]
        return [value[:-1] + ("1" if value.endswith("0") else "0")] if value else ["0"]
    return [value + 1, value - 1, value + 1000]


def blanks(column: Column[Any]) -> list[Any]:
    """``''`` for text, NULL where allowed: the values a careless edit leaves."""
    return ([""] if isinstance(column.type, String | Text) else []) + (
        [None] if column.nullable else []
    )


def one_row(engine: Engine, table: Table, column: Column[Any]) -> dict[str, Any]:
    """A row whose ``column`` is not NULL (any row if every value is NULL), read as the ledger
    is (a plain read: no ``tampering``, whose SQLite transaction drops every trigger)."""
    with engine.connect() as c:
        row = c.execute(select(table).where(column.is_not(None)).limit(1)).mappings().first()
        row = row or c.execute(select(table).limit(1)).mappings().first()
    assert row is not None, f"the ledger holds no row of {table.name}: extend build()"
    return dict(row)


def tamper(ledger: Ledger, table: Table, column: Column[Any], blank: bool) -> list[str]:
    """Each value tried, with what came of it: refused by the database, found by the audit
    (with the tables named), or missed. A change stops at the first value the database
    takes; blanking tries each blank."""
    outcomes: list[str] = []
    row = one_row(ledger.engine, table, column)
    keys = [k.name for k in table.primary_key.columns] or list(row)
    where = " AND ".join(f'"{k}" = :k_{k}' for k in keys)
    for value in blanks(column) if blank else changed(row[column.name], column):
        if value == row[column.name] or (value is None and row[column.name] is None):
            continue
        with tampering(ledger.engine) as c:  # its own transaction: the audit streams
            try:
                touched = c.execute(
                    text(f'UPDATE {table.name} SET "{column.name}" = :new WHERE {where}'),
                    {f"k_{k}": row[k] for k in keys} | {"new": value},
                ).rowcount
            except exc.IntegrityError:
                outcomes.append(f"{value!r}: refused")
                continue
            assert touched == 1
            named = sorted({p.table for p in verify(c).problems if p.row})
        outcomes.append(f"{value!r}: found in {named}" if named else f"{value!r}: MISSED")
        if not blank:
            break
    return outcomes


@pytest.mark.parametrize(
    ("table", "column"), COLUMNS, ids=[f"{t.name}.{c.name}" for t, c in COLUMNS]
)
def test_a_changed_value_of_any_column_is_found(ledger: Ledger, table, column) -> None:  # type: ignore[no-untyped-def]
    outcomes = tamper(ledger, table, column, blank=False)
    assert outcomes and not any("MISSED" in o for o in outcomes), outcomes


@pytest.mark.parametrize(
    ("table", "column"),
    [(t, c) for t, c in COLUMNS if blanks(c)],
    ids=[f"{t.name}.{c.name}" for t, c in COLUMNS if blanks(c)],
)
def test_a_blanked_value_of_any_column_is_found(ledger: Ledger, table, column) -> None:  # type: ignore[no-untyped-def]
    outcomes = tamper(ledger, table, column, blank=True)
    assert not any("MISSED" in o for o in outcomes), outcomes


def test_the_sweep_covers_every_table() -> None:
    assert {t.name for t, _ in COLUMNS} == set(metadata.tables) - KEY_TABLE


def test_postgresql_compares_the_projections_in_one_statement(ledger: Ledger) -> None:
    """The audit's PostgreSQL path (``agrees_in_sql``) answers for the untouched ledger, so the
    sweep above runs through it there: each change must still be found, which proves that it
    never calls equal what ``rebuild`` would not. SQLite always compares in Python."""
    with tampering(ledger.engine) as c:
        translated = [p for p in RECORDED.values() if _agreement_sql(p) is not None]
        answers = {p.table.name: agrees_in_sql(c, p) for p in translated}
        assert answers == {name: is_postgres(c) for name in answers}, answers
        assert {"workers", "enrolments", "transfers", "api_keys", "clerks"} <= set(answers)


TIME_COLUMNS = [(t, c) for t, c in COLUMNS if isinstance(c.type, Date | DateTime)]
# dates no Python date holds: before year 1 (PostgreSQL's BC dates print like AD ones by
# to_char) and ±infinity (to_char gives NULL); SQLite stores any text in such a column
OUT_OF_RANGE = {
    "postgres": {
        "BC": "(to_char({c}, 'YYYY-MM-DD HH24:MI:SS') || ' BC')::{cast}",
        "infinity": "'infinity'::{cast}",
        "-infinity": "'-infinity'::{cast}",
    },
    "sqlite": {"text": "'infinity'", "year 0": "'0000-01-01 00:00:00.000000'"},
}


@pytest.mark.parametrize(
    ("table", "column"), TIME_COLUMNS, ids=[f"{t.name}.{c.name}" for t, c in TIME_COLUMNS]
)
def test_a_date_outside_the_calendar_is_found_not_passed_or_crashed(  # type: ignore[no-untyped-def]
    ledger: Ledger, table, column
) -> None:
    """A date or time no Python value holds, put in any date column: the audit names the
    table (it neither calls the ledger clean nor fails on the value it cannot read), or the
    database refuses the value."""
    row = one_row(ledger.engine, table, column)
    backend = "postgres" if ledger.engine.dialect.name == "postgresql" else "sqlite"
    keys = [k.name for k in table.primary_key.columns] or list(row)
    where = " AND ".join(f'"{k}" = :k_{k}' for k in keys)
    cast = "date" if isinstance(column.type, Date) else "timestamptz"
    for name, value in OUT_OF_RANGE[backend].items():
        with tampering(ledger.engine) as c:
            sql = value.format(c=f'"{column.name}"', cast=cast)
            try:
                touched = c.execute(
                    text(f'UPDATE {table.name} SET "{column.name}" = {sql} WHERE {where}'),
                    {f"k_{k}": row[k] for k in keys},
                ).rowcount
            except exc.IntegrityError:
                continue  # refused by the database (a CHECK on the dates): as good
            assert touched == 1
            problems = verify(c).problems
        assert any(p.table == table.name or p.table == "journal" for p in problems), (
            name,
            problems,
        )


# --- values of a type the service never writes ---------------------------------------------

AUDITED = [  # every table the audit reads: the ledger's, and the service's that grant or seal
    (table, column)
    for table in [*metadata.sorted_tables, *api_metadata.sorted_tables]
    if table.name not in KEY_TABLE | GRANTING_NOTHING
    for column in table.columns
]
# SQLite keeps any value in any column: text that is not UTF-8 (the driver cannot decode it),
# bytes, text in a number's or a date's column, a fraction, a number in a date's. One value
# a column (one audit each, to keep the sweep quick), the kinds taken in turn along a
# table's columns of a type. PostgreSQL keeps only its column's type, so there the value is
# what it takes that the service never writes: the largest number a column holds (sums and
# differences overflow). Text that is not ASCII where a seal is compared: test_tamper.
WRONG_TYPED = {
    "sqlite": {
        "text": ["CAST(x'ff' AS TEXT)", "x'00ff'", "5"],
        "number": ["'x'", "0.5", "x'01'"],
        "time": ["5", "x'00'", "'x'"],
        "bytes": ["'x'", "5"],
    },
    "postgres": {"text": [], "number": ["{max}"], "time": [], "bytes": []},
}
# a whole number the service writes and the audit does not compare, by design: the counts of
# failed logins and of a code's attempts change on every try (store/seals.py)
UNCHECKED = {("logins", "failures"), ("clerks", "failures"), ("login_codes", "attempts")}


def kind_of(column: Column[Any]) -> str:
    kind = column.type
    if isinstance(kind, String | Text):
        return "text"
    if isinstance(kind, Date | DateTime):  # out of the calendar: the test above
        return "time"
    if isinstance(kind, LargeBinary):
        return "bytes"
    return "number"


def wrong_value(backend: str, table: Table, column: Column[Any]) -> str | None:
    """The value to put in ``column``: the next of its kind's values along the table."""
    kind = kind_of(column)
    values = WRONG_TYPED[backend][kind]
    if not values or (backend == "postgres" and isinstance(column.type, Boolean)):
        return None  # PostgreSQL takes no other value there
    turn = [c.name for c in table.columns if kind_of(c) == kind].index(column.name)
    largest = "2147483647" if type(column.type) is Integer else "9223372036854775807"
    return values[turn % len(values)].format(max=largest)


@pytest.mark.parametrize(
    ("table", "column"), AUDITED, ids=[f"{t.name}.{c.name}" for t, c in AUDITED]
)
def test_a_value_of_the_wrong_type_in_any_column_is_named_not_crashed(  # type: ignore[no-untyped-def]
    ledger: Ledger, table, column
) -> None:
    """A value of a type the service never writes, put in any column the audit reads: the
    audit finishes and names the table (or the journal that hashes it), or the database
    refuses the value. Before, a TypeError, AttributeError, AssertionError or a driver's
    error raised out of the audit, and a fraction in a whole number's column passed."""
    row = one_row(ledger.engine, table, column)
    backend = "postgres" if ledger.engine.dialect.name == "postgresql" else "sqlite"
    value = wrong_value(backend, table, column)
    if value is None:
        return
    keys = [k.name for k in table.primary_key.columns] or list(row)
    where = " AND ".join(f'"{k}" = :k_{k}' for k in keys)
    with tampering(ledger.engine) as c:
        try:
            touched = c.execute(
                text(f'UPDATE {table.name} SET "{column.name}" = {value} WHERE {where}'),
                {f"k_{k}": row[k] for k in keys},
            ).rowcount
        except (exc.IntegrityError, exc.DataError):
            return  # refused by the database (a CHECK, a key, a CHECK's sum out of range)
        assert touched == 1
        report = verify(c)
    json.dumps(report.to_json(), ensure_ascii=False).encode()  # as `audit verify --json` prints
    named = {p.table for p in report.problems}
    if backend == "postgres" and (table.name, column.name) in UNCHECKED:
        return  # a count the service writes, unchecked by design: the audit finished
    assert table.name in named or "journal" in named, (value, named)
