"""``store.bulk.select_columns``: a query's rows as Arrow columns, exactly, on both databases —
text with the characters CSV gives meaning to (commas, quotes, newlines), large and negative
integers, many rows and none."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from suiren.store.bulk import select_columns

SCHEMA = pa.schema([("name", pa.string()), ("amount", pa.int64())])
TEXTS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)
ROWS = st.lists(st.tuples(TEXTS, st.integers(-(2**63), 2**63 - 1)), max_size=30)


def _values(rows: list[tuple[str, int]]) -> str:
    if not rows:
        return "SELECT CAST('' AS TEXT) AS name, CAST(0 AS BIGINT) AS amount WHERE 1 = 0"
    return " UNION ALL ".join(
        f"SELECT CAST(:n{i} AS TEXT) AS name, CAST(:a{i} AS BIGINT) AS amount"
        for i in range(len(rows))
    )


def test_awkward_text_and_extreme_integers_come_back_exactly(engine: Engine) -> None:
    @settings(max_examples=40, deadline=None)
    @given(ROWS)
    @example([("a\nb", 1), ('\r\n"x,y""', -1), ("", 2**63 - 1), ('"', -(2**63))])
    def check(rows: list[tuple[str, int]]) -> None:
        params = {f"n{i}": r[0] for i, r in enumerate(rows)} | {
            f"a{i}": r[1] for i, r in enumerate(rows)
        }
        with engine.connect() as connection:
            table = select_columns(connection, _values(rows), params, SCHEMA)
        assert table.schema == SCHEMA
        got = sorted(zip(table["name"].to_pylist(), table["amount"].to_pylist(), strict=True))
        assert got == sorted(rows)

    check()


def test_a_hundred_thousand_rows(engine: Engine) -> None:
    sql = (
        "SELECT 'a,\"' || CAST(n AS TEXT) AS name, CAST(n AS BIGINT) * 3 AS amount"
        " FROM ({}) AS s".format(
            "SELECT generate_series(1, 100000) AS n"
            if engine.dialect.name == "postgresql"
            else "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c"
            " WHERE n < 100000) SELECT n FROM c"
        )
    )
    with engine.connect() as connection:
        table = select_columns(connection, sql, {}, SCHEMA)
    assert table.num_rows == 100_000
    assert sum(table["amount"].to_pylist()) == 3 * 100_000 * 100_001 // 2
    assert set(table["name"].to_pylist()) == {f'a,"{n}' for n in range(1, 100_001)}


def test_a_null_is_refused_not_read_as_empty_or_dropped(engine: Engine) -> None:
    for sql in (
        "SELECT CAST(NULL AS TEXT) AS name, CAST(1 AS BIGINT) AS amount",
        "SELECT 'a' AS name, CAST(NULL AS BIGINT) AS amount"
        " UNION ALL SELECT 'b' AS name, CAST(2 AS BIGINT) AS amount",
    ):
        with engine.connect() as connection, pytest.raises(AssertionError, match="NULL"):
            select_columns(connection, sql, {}, SCHEMA)
    one = pa.schema([("amount", pa.int64())])
    # a row of one NULL field would be an empty CSV line, which Arrow skips
    with engine.connect() as connection, pytest.raises(AssertionError, match="NULL"):
        select_columns(
            connection,
            "SELECT CAST(NULL AS BIGINT) AS amount UNION ALL SELECT CAST(5 AS BIGINT)",
            {},
            one,
        )


def test_a_server_setting_holds_inside_and_is_put_back(engine: Engine) -> None:
    """``store.db.server_setting`` (the interest run's sums without parallel workers): the
    value inside, what it was after; on SQLite nothing is asked of the database."""
    from suiren.store.db import is_postgres, server_setting

    name = "max_parallel_workers_per_gather"
    with engine.begin() as c:
        if not is_postgres(c):
            with server_setting(c, name, "0"):
                assert select_columns(c, "SELECT 'x' AS name, 1 AS amount", {}, SCHEMA).num_rows
            return
        c.exec_driver_sql(f"SET LOCAL {name} = 3")
        with server_setting(c, name, "0"):
            assert c.exec_driver_sql(f"SHOW {name}").scalar() == "0"
        assert c.exec_driver_sql(f"SHOW {name}").scalar() == "3"


def test_a_size_is_raised_to_at_least_and_never_lowered(engine: Engine) -> None:
    """``server_setting(..., at_least=True)`` (the large balance update's ``work_mem``): a
    smaller size raised for the statements inside and put back; a larger one left as it is."""
    from suiren.store.db import is_postgres, server_setting

    with engine.begin() as c:
        if not is_postgres(c):
            return
        for before, inside in (("4MB", "128MB"), ("256MB", "256MB")):
            c.exec_driver_sql(f"SET LOCAL work_mem = '{before}'")
            with server_setting(c, "work_mem", "128MB", at_least=True):
                assert c.exec_driver_sql("SHOW work_mem").scalar() == inside
            assert c.exec_driver_sql("SHOW work_mem").scalar() == before
