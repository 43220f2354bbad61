"""``store.db.analyze_stale``: a table without statistics, or with more rows changed since its
last ANALYZE than autovacuum's rule allows (50 + 10% of the table), is analyzed before a run
that plans on it; a fresh one is left alone. The yearly interest run asks it of the tables its
sums read. SQLite: nothing is asked of the database."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, Engine

from suiren.policy import load_policy
from suiren.services import interest
from suiren.store.db import STALE_FRACTION, STALE_ROWS, analyze_stale, is_postgres
from suiren.store.lines import SUMS_SQL, SUMS_TABLES

PROBE = "stale_probe"
EMPTY = "stale_probe_empty"


def _flushed(engine: Engine) -> None:
    """This backend's pending table counters in the shared statistics (PostgreSQL flushes them
    lazily, up to seconds after a commit): the flush is asked for, then happens when the
    backend goes idle after the request."""
    for _ in range(2):
        with engine.connect() as c:
            c.exec_driver_sql("SELECT pg_stat_force_next_flush()")


def _insert(engine: Engine, rows: int) -> None:
    with engine.begin() as c:
        c.exec_driver_sql(f"INSERT INTO {PROBE} SELECT generate_series(1, {rows})")
    _flushed(engine)


def _reltuples(c: Connection, table: str) -> float:
    sql = f"SELECT reltuples FROM pg_class WHERE oid = '{table}'::regclass"
    return float(c.exec_driver_sql(sql).scalar())


def test_a_table_without_statistics_or_with_many_changes_is_analyzed(engine: Engine) -> None:
    with engine.begin() as c:
        if not is_postgres(c):
            assert analyze_stale(c, SUMS_TABLES) == []
            return
        c.exec_driver_sql(f"CREATE TABLE {PROBE} (n integer)")
        c.exec_driver_sql(f"CREATE TABLE {EMPTY} (n integer)")
    try:
        _insert(engine, 1000)
        with engine.begin() as c:
            assert _reltuples(c, PROBE) < 0 and _reltuples(c, EMPTY) < 0  # never analyzed
            assert analyze_stale(c, [EMPTY, PROBE]) == [EMPTY, PROBE]  # in the order given
            assert _reltuples(c, PROBE) == 1000
        _flushed(engine)
        with engine.begin() as c:
            assert analyze_stale(c, [PROBE, EMPTY]) == []  # fresh, the empty one too
        few = int(STALE_ROWS + STALE_FRACTION * 1000)  # exactly the rule's allowance: fresh
        _insert(engine, few)
        with engine.begin() as c:
            assert analyze_stale(c, [PROBE]) == []
        _insert(engine, 1)  # one more row changed than the rule allows
        with engine.begin() as c:
            assert analyze_stale(c, [PROBE, EMPTY]) == [PROBE]
            assert _reltuples(c, PROBE) == 1000 + few + 1
    finally:
        with engine.begin() as c:
            c.exec_driver_sql(f"DROP TABLE {PROBE}, {EMPTY}")


def test_an_unknown_table_is_no_error(engine: Engine) -> None:
    with engine.begin() as c:
        assert analyze_stale(c, ["no_such_table"]) == []


def test_the_yearly_interest_run_analyzes_the_tables_it_reads(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before its sums, the run asks for the statistics of every table ``SUMS_SQL`` reads."""
    asked: list[tuple[str, ...]] = []

    def spy(c: Connection, tables: tuple[str, ...]) -> list[str]:
        asked.append(tuple(tables))
        return analyze_stale(c, tables)

    monkeypatch.setattr(interest, "analyze_stale", spy)
    with engine.begin() as c:
        interest.credit_interest(c, load_policy(), 2024, datetime(2025, 1, 10, tzinfo=UTC))
    assert asked == [SUMS_TABLES]


def test_the_tables_named_are_the_tables_the_sums_read() -> None:
    """``SUMS_TABLES`` is every table ``SUMS_SQL`` reads, so a table added to the sums is not
    planned on without statistics."""
    read = set(re.findall(r"\b(?:FROM|JOIN)\s+([a-z_]+)\b", SUMS_SQL))
    assert read == set(SUMS_TABLES)
