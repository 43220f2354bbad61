"""A populated world copied into a test's database (tests/worlds.py) is the world that was
built, on SQLite and on PostgreSQL: every table's rows (and each sequence's state) equal to
the template's, sound to the ledger's audit, the tables' triggers in force again after the
copy, a new row numbered after the copied ones, and the template dropped when asked."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.exc import DBAPIError

from suiren.api.trail import record_row
from suiren.store.api_tables import access_log, api_metadata, clerks
from suiren.store.audit import verify
from suiren.store.db import sqlite_path, unit_of_work
from suiren.store.tables import journal, metadata
from tests.api.world import World, populate
from tests.conftest import NOW, schema_exists
from tests.worlds import drop_worlds, populated, template_of


class _RolledBack(Exception):
    pass


def logged(engine: Engine) -> World:
    """The API tests' world, with three access-log rows and a fourth rolled back (on
    PostgreSQL its sequence number is spent: the sequence is ahead of the rows)."""
    made = populate(engine)
    with unit_of_work(engine) as c:
        for n in range(3):
            record_row(c, f"request-{n}", "gz", "GET", "/api/v1/workers", 200, NOW)
    with pytest.raises(_RolledBack), unit_of_work(engine) as c:
        record_row(c, "request-3", "gz", "GET", "/api/v1/workers", 200, NOW)
        raise _RolledBack
    return made


def _sqlite_rows(connection: sqlite3.Connection) -> dict[str, list[str]]:
    names = connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
    ).fetchall()
    return {
        name: sorted(repr(row) for row in connection.execute(f'SELECT * FROM "{name}"'))
        for (name,) in names
    }


def _postgres_rows(engine: Engine, schema: str) -> dict[str, list[str]]:
    with engine.connect() as c:
        kinds = c.execute(
            text(
                "SELECT relname, relkind FROM pg_class WHERE relkind IN ('r', 'S')"
                " AND relnamespace = CAST(:schema AS regnamespace) ORDER BY relname"
            ),
            {"schema": schema},
        ).all()
        return {
            name: sorted(
                repr(tuple(row))
                for row in c.execute(
                    text(
                        f'SELECT last_value, is_called FROM "{schema}"."{name}"'
                        if kind == "S"
                        else f'SELECT * FROM "{schema}"."{name}"'
                    )
                )
            )
            for name, kind in kinds
        }


def rows_of_both(engine: Engine) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Every table's rows (as text, sorted) of the template ``logged`` built, and of the
    copy in ``engine``'s database."""
    template = template_of(engine, logged)
    if template.sqlite is not None:
        path = sqlite_path(str(engine.url))
        assert path is not None
        engine.dispose()
        copy = sqlite3.connect(path)
        try:
            return _sqlite_rows(template.sqlite), _sqlite_rows(copy)
        finally:
            copy.close()
    with engine.connect() as c:
        schema = c.execute(text("SELECT current_schema()")).scalar_one()
    assert template.schema is not None
    return _postgres_rows(engine, template.schema), _postgres_rows(engine, schema)


def test_a_copied_world_has_every_row_of_the_built_one(engine: Engine) -> None:
    made = populated(engine, logged)
    built, copied = rows_of_both(engine)
    assert copied == built
    declared = {t.name for meta in (metadata, api_metadata) for t in meta.sorted_tables}
    assert declared | {"alembic_version"} <= set(built)
    assert len(built["access_log"]) == 3 and len(built["journal"]) >= 10, built
    again = populated(engine, logged)  # the build's result, kept with its template
    assert again == made and again.tokens is not made.tokens  # each test its own copy
    assert rows_of_both(engine)[1] == built  # copied again over a copy: the same
    if engine.dialect.name == "postgresql":  # the rolled-back row's number stays spent
        assert built["access_log_id_seq"] == ["(4, True)"]


def test_a_copied_world_passes_the_audit(engine: Engine) -> None:
    populated(engine, logged)
    with unit_of_work(engine, read_only=True) as c:
        result = verify(c)
    assert result.ok, result.problems
    assert result.transactions >= 10 and result.months > 0


def test_a_copied_world_is_written_to_as_any_other(engine: Engine) -> None:
    """The copy's triggers fire again (the journal is append-only), and a new access-log row
    takes the number after the copied ones."""
    populated(engine, logged)
    with pytest.raises(DBAPIError, match="append-only"), unit_of_work(engine) as c:
        c.execute(update(journal).values(region="110000"))
    with unit_of_work(engine) as c:
        copied = c.execute(select(func.max(access_log.c.id))).scalar_one()
        record_row(c, "request-4", "gz", "GET", "/api/v1/workers", 200, NOW)
        ids = c.execute(select(access_log.c.id).order_by(access_log.c.id)).scalars().all()
    assert copied == 3
    assert ids[:3] == [1, 2, 3] and ids[3] > 3, ids


def test_a_world_is_built_again_for_another_password_hashing(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module that patches the hasher to its smallest cost gets clerks of that cost, not
    those of a world another module built (nor gives them theirs)."""
    from argon2 import PasswordHasher

    from suiren.services import logins

    populated(engine, logged)
    built = template_of(engine, logged)
    monkeypatch.setattr(
        logins, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    populated(engine, logged)
    assert template_of(engine, logged) is not built
    with unit_of_work(engine, read_only=True) as c:
        hashes = c.execute(select(clerks.c.password_hash)).scalars().all()
    assert len(hashes) == 3 and all(",t=1,p=1$" in h and "m=1024," in h for h in hashes), hashes
    monkeypatch.undo()
    assert template_of(engine, logged) is built


def test_a_world_s_template_is_dropped(engine: Engine) -> None:
    populated(engine, logged)
    schema = template_of(engine, logged).schema
    drop_worlds(logged)
    with pytest.raises(KeyError):
        template_of(engine, logged)
    if schema is not None:
        assert not schema_exists(schema)
