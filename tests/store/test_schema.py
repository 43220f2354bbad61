"""The migrated database has the indexes the tables declare, on both databases.

The tables (``store.tables``) are what the code is written against; the migrations are what a
database has. A migration that changes an index must leave a database created by an older
release in the same state as a fresh one: here both are compared with the declared indexes.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, inspect

from suiren.store.migrate import upgrade
from suiren.store.tables import metadata
from tests.conftest import drop_postgres_schema, engine_for


def _declared() -> dict[str, set[tuple[str, tuple[str, ...]]]]:
    declared: dict[str, set[tuple[str, tuple[str, ...]]]] = {}
    for table in metadata.sorted_tables:
        declared[table.name] = {
            (str(index.name), tuple(c.name for c in index.columns)) for index in table.indexes
        }
    return declared


def _found(engine: Engine, tables: set[str]) -> dict[str, set[tuple[str, tuple[str, ...]]]]:
    inspector = inspect(engine)
    return {
        name: {
            (str(index["name"]), tuple(str(c) for c in index["column_names"]))
            for index in inspector.get_indexes(name)
            if not index.get("unique")  # unique constraints are checked by the write tests
        }
        for name in tables
    }


def test_every_declared_index_exists_and_no_other(engine: Engine) -> None:
    declared = _declared()
    found = _found(engine, set(declared))
    assert found == {name: {i for i in indexes} for name, indexes in declared.items()}


def test_an_older_database_is_brought_to_the_declared_indexes(backend: str, tmp_path: Path) -> None:
    """A database of the release before 0010: accounts indexed on (scheme, kind, region)."""
    engine, schema = engine_for(backend, tmp_path)
    try:
        upgrade(engine, "0009_postings_entries")
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP INDEX ix_accounts_kind_region_owner")
            connection.exec_driver_sql(
                "CREATE INDEX ix_accounts_kind_region ON accounts (scheme, kind, region)"
            )
        upgrade(engine)
        found = _found(engine, {"accounts"})
        assert found["accounts"] == _declared()["accounts"]
    finally:
        engine.dispose()
        if schema:
            drop_postgres_schema(schema)
