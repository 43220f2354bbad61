"""Populated test databases, built once per test process and copied for each test.

A fixture that fills a fresh database through the real services (keys, clerks, enrolled
workers with paid months, transfers: ``tests/api/world.py``'s ``populate``) spent about a
second a test doing the same writes again. ``populated(engine, build)`` runs ``build`` once
per test process, backend and ledger keys, into a database of its own, and copies what it
wrote into each test's fresh database:

- SQLite: the built file is kept in memory (sqlite3's ``backup``, as ``migrate`` keeps the
  schema) and backed up into the test's file: the same pages.
- PostgreSQL: the build goes into a template schema (``t_…``, dropped when the session ends:
  ``drop_worlds``); each test's migrated schema gets every table's rows by ``INSERT … SELECT``
  under ``session_replication_role = replica`` — the append-only, hash-chain and derived-row
  triggers (and the foreign keys' checks) do not fire again on rows they passed at the build —
  and each sequence the state the build left it in (``setval``).

Every test gets a copy, the first one too, and a deep copy of what ``build`` returned
(tokens, ids: kept with the template; a test may change its dicts). ``build`` must therefore
depend on nothing but the database it is given: a module-level function (it is known by its
name) of fixed times (``NOW``), no wall clock, no settings — but for the password hasher's
cost, which some modules patch and which is part of a world's key. ``tests/test_worlds.py``
proves a copy equal to its build, row for row, and sound to the ledger's audit.
"""

from __future__ import annotations

import atexit
import copy
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, text

from suiren.store.db import KEYS_INFO, make_engine
from tests.conftest import (
    drop_postgres_schema,
    migrate,
    sqlite_kept,
    sqlite_restore,
    template_schema,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Template:
    """A built world: ``build``'s result, and its rows — a SQLite database in memory, or a
    PostgreSQL schema with the statements that copy it into the ``{target}`` schema."""

    result: Any
    sqlite: sqlite3.Connection | None = None
    schema: str | None = None
    copy_sql: str = ""


_WORLDS: dict[tuple[str, str, str, tuple[int, int, int]], Template] = {}


def populated(engine: Engine, build: Callable[[Engine], T]) -> T:
    """Fill ``engine``'s database — fresh and migrated (``tests.conftest.migrate``) — with what
    ``build`` writes into such a database, and return what it returned: built for real the
    first time in this process (for this backend, these keys and this password hashing),
    copied afterwards."""
    key, keys = _key(engine, build)
    template = _WORLDS.get(key)
    if template is None:
        template = _WORLDS[key] = _built(engine.dialect.name, keys, build)
    _copy(template, engine)
    return copy.deepcopy(template.result)  # type: ignore[no-any-return]


def template_of(engine: Engine, build: Callable[[Engine], Any]) -> Template:
    """The template ``populated(engine, build)`` copied (for the tests that compare them)."""
    return _WORLDS[_key(engine, build)[0]]


def _key(
    engine: Engine, build: Callable[[Engine], Any]
) -> tuple[tuple[str, str, str, tuple[int, int, int]], Any]:
    """The world's key, and the engine's ledger keys. The key holds, beside the backend, the
    keys and the build's name, the cost of the password hashes a build makes (a clerk's):
    modules that log clerks in a dozen times patch ``services.logins._HASHER`` to its
    smallest cost, and a world built there must not be theirs only by chance."""
    from suiren.services import logins

    assert "<locals>" not in build.__qualname__, "a world's build is known by its name"
    with engine.connect() as connection:
        keys = connection.info.get(KEYS_INFO)
    hasher = logins._HASHER
    hashing = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    name = f"{build.__module__}.{build.__qualname__}"
    return (engine.dialect.name, repr(keys), name, hashing), keys


def _built(dialect: str, keys: Any, build: Callable[[Engine], Any]) -> Template:
    """``build`` run on a migrated database of its own, kept as a template."""
    if dialect == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="suiren-world-"))
        try:
            engine = make_engine(f"sqlite:///{folder / 'world.db'}", keys=keys)
            migrate(engine)
            result = build(engine)
            kept = sqlite_kept(engine)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return Template(result, sqlite=kept)
    schema, result, copy_sql = template_schema(keys, build)
    return Template(result, schema=schema, copy_sql=copy_sql)


def _copy(template: Template, engine: Engine) -> None:
    if template.sqlite is not None:
        sqlite_restore(template.sqlite, engine)
        return
    with engine.begin() as connection:
        target = connection.execute(text("SELECT current_schema()")).scalar_one()
        assert target and target != template.schema, "a world is copied into a test's schema"
        connection.exec_driver_sql(template.copy_sql.format(target=target))


def drop_worlds(build: Callable[[Engine], Any] | None = None) -> None:
    """Forget the worlds of this process (those ``build`` built, or all), and drop their
    PostgreSQL template schemas."""
    name = None if build is None else f"{build.__module__}.{build.__qualname__}"
    for key in [k for k in _WORLDS if name in (None, k[2])]:
        template = _WORLDS.pop(key)
        if template.sqlite is not None:
            template.sqlite.close()
        if template.schema is not None:
            drop_postgres_schema(template.schema)


atexit.register(drop_worlds)  # a process that ends without a pytest session's end
