"""Each database's fast path for many rows: PostgreSQL COPY, SQLite executemany.

Both run inside the caller's transaction; nothing here commits.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Connection, Table, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from suiren.store.db import is_postgres

COPY_ROWS_MIN = 64  # below this, a plain multi-row insert is as fast and simpler
COPY_CHUNK_ROWS = 50_000
COPY_CHUNK_BYTES = 8 << 20
ARRAY_KEYS_MAX = 500  # PostgreSQL: more keys than this are joined from a temporary table
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


@contextmanager
def driver_errors(statement: str) -> Iterator[None]:
    """Errors of a statement run on the driver's own connection (COPY), raised as
    SQLAlchemy's, as every other statement's are (a unique violation is an ``IntegrityError``)."""
    try:
        yield
    except psycopg.IntegrityError as error:
        raise IntegrityError(statement, None, error, hide_parameters=True) from error
    except psycopg.Error as error:
        raise DBAPIError(statement, None, error, hide_parameters=True) from error


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
    names = ", ".join(connection.dialect.identifier_preparer.quote(name) for name in columns)
    if is_postgres(connection) and len(rows) >= COPY_ROWS_MIN:
        raw = connection.connection.driver_connection
        assert raw is not None
        statement = f"COPY {table.name} ({names}) FROM STDIN"
        with driver_errors(statement), raw.cursor() as cursor, cursor.copy(statement) as copy:
            for start in range(0, len(rows), COPY_CHUNK_ROWS):
                copy.write(_copy_text(rows[start : start + COPY_CHUNK_ROWS], plain, unsafe))
        return
    if is_postgres(connection):
        connection.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    # SQLite: the driver's executemany over tuples, each column's values converted as
    # SQLAlchemy's insert would store them (its bind processors: a datetime's text, a
    # boolean's 0/1), column by column — not a dictionary and a compiled parameter set per row
    dialect = connection.dialect
    convert = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]
    if any(convert):
        values = [
            list(column) if process is None else [process(v) for v in column]
            for column, process in zip(zip(*rows, strict=True), convert, strict=True)
        ]
        rows = list(zip(*values, strict=True))
    connection.exec_driver_sql(
        f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' * len(columns))})", rows
    )


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
        cursor.execute(
            f"ANALYZE {name}"
        )  # a temporary table has no statistics: without them the join is planned for 200 keys
    return name


def key_set(connection: Connection, name: str, keys: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """SQL for the set of ``keys`` (``x IN {sql}``) and its parameters, one statement whatever
    their number: on PostgreSQL the temporary table ``name`` (``fill_keys``) for many keys, an
    array for a few; on SQLite a JSON array read by ``json_each`` (chunks of ``IN (…)`` cost a
    statement compiled with 500 parameters each: most of a batch's enrolment look-up)."""
    if is_postgres(connection):
        if len(keys) > ARRAY_KEYS_MAX:
            return f"(SELECT key FROM {fill_keys(connection, name, keys)})", {}
        return f"(SELECT unnest(CAST(:{name} AS text[])))", {name: list(keys)}
    return f"(SELECT value FROM json_each(:{name}))", {name: json.dumps(list(keys))}


def insert_arrow(connection: Connection, table: Table, data: pa.Table) -> None:
    """Insert an Arrow table whose columns are named after ``table``'s, in one go.

    PostgreSQL: COPY in CSV, formatted by Arrow (C++, no Python loop over rows); every text
    value must be plain (ids and codes checked at the edge: no comma, quote or newline).
    SQLite: ``executemany`` over the columns.
    """
    if not data.num_rows:
        return
    columns = data.column_names
    if is_postgres(connection):
        buffer = io.BytesIO()
        pacsv.write_csv(
            data, buffer, pacsv.WriteOptions(include_header=False, quoting_style="none")
        )
        raw = connection.connection.driver_connection
        assert raw is not None
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
        with driver_errors(statement), raw.cursor() as cursor, cursor.copy(statement) as copy:
            view = buffer.getbuffer()
            for start in range(0, len(view), COPY_CHUNK_BYTES):
                copy.write(view[start : start + COPY_CHUNK_BYTES])
        return
    values = [data.column(name).to_pylist() for name in columns]
    statement = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    )
    connection.exec_driver_sql(statement, list(zip(*values, strict=True)))


def _csv_field(field: pa.Field) -> str:
    """SQL for one CSV field of the column ``q.<field>`` (``select_columns``)."""
    value = f'q."{field.name}"::text'
    if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
        value = f"""'"' || replace({value}, '"', '""') || '"'"""
    return f"COALESCE({value}, '')"


def select_columns(
    connection: Connection, sql: str, params: dict[str, Any], schema: pa.Schema
) -> pa.Table:
    """The rows of the query ``sql`` (``:name`` parameters) as an Arrow table of ``schema``
    (its fields in the query's column order, named as the query names its columns).

    PostgreSQL: the rows as one CSV text aggregated by the server, parsed by Arrow (no Python
    object per row), held whole (at most 1 GB: for a batch's rows, not a table's — the audit
    streams). SQLite: the rows fetched and turned into columns. A NULL is refused on both
    (CSV has no NULL: it would read as an empty text, or drop a row of one empty field).
    """
    if not is_postgres(connection):
        rows = connection.execute(text(sql).bindparams(**params)).all()
        table = pa.table(
            [pa.array([row[i] for row in rows], type=f.type) for i, f in enumerate(schema)],
            schema=schema,
        )
        if any(column.null_count for column in table.columns):
            raise AssertionError(f"select_columns: a NULL in a column of {schema.names}")
        return table
    # the rows as one CSV text built by the server: one value to fetch, where COPY TO STDOUT
    # hands the client one message per row (about 2 µs of Python each: 2 s of a yearly
    # interest run on a million accounts). Text is quoted, its quotes doubled; the count of
    # rows and of NULLs come with it, so that no row is lost unseen.
    line = " || ',' || ".join(_csv_field(f) for f in schema)
    nulls = " OR ".join(f'q."{f.name}" IS NULL' for f in schema)
    bundled = text(
        f"SELECT count(*), COALESCE(bool_or({nulls}), false), string_agg({line}, E'\\n')"
        f" FROM ({sql}) AS q"
    ).bindparams(**params)
    count, has_null, csv_text = connection.execute(bundled).one()
    if has_null:  # CSV would read it as an empty text, or drop a row of one empty field
        raise AssertionError(f"select_columns: a NULL in a column of {schema.names}")
    if not count:
        return schema.empty_table()
    table = pacsv.read_csv(
        io.BytesIO(csv_text.encode()),
        read_options=pacsv.ReadOptions(column_names=schema.names),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=schema, strings_can_be_null=False, quoted_strings_can_be_null=False
        ),
    )
    if table.num_rows != count:
        raise AssertionError(f"select_columns: {count} rows sent, {table.num_rows} read")
    return table
