"""Shared fixtures: a migrated database on SQLite and on PostgreSQL.

Every database test runs twice, once per backend. The PostgreSQL server is the local one
(``SUIREN_TEST_POSTGRES_URL``, default postgresql+psycopg://postgres@127.0.0.1:5432/test);
each test gets a fresh schema, dropped afterwards. If the server does not answer, the
PostgreSQL tests fail — they are never skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from suiren.services.identity import ledger_keys
from suiren.store.db import make_engine
from suiren.store.migrate import upgrade

POSTGRES_URL = os.environ.get(
    "SUIREN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
SECRET = b"k" * 32  # the tests' agency secret (the CLI tests pass it as SUIREN_SECRET_KEY)
KEYS = ledger_keys(SECRET)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Soaks first: with ``-n auto`` (pytest-xdist) the long tests start at once on their own
    workers while the short ones fill the other, so the suite ends near its longest test."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def postgres_schema_url() -> tuple[str, str]:
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    return POSTGRES_URL, schema


def drop_postgres_schema(schema: str) -> None:
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


def engine_for(backend: str, tmp_path: Path) -> tuple[Engine, str | None]:
    if backend == "sqlite":
        return make_engine(f"sqlite:///{tmp_path / 'suiren.db'}", keys=KEYS), None
    url, schema = postgres_schema_url()
    engine = make_engine(url, keys=KEYS, connect_args={"options": f"-csearch_path={schema}"})
    return engine, schema


@pytest.fixture(scope="session")
def pii_capture() -> Iterator[Any]:
    """What every FastAPI app answered and logged in the session (tests/api/pii.py): the API's
    and the portal's tests scan it after each test (their conftest's ``no_resident_id_shown``)."""
    from tests.api.pii import Capture, installed

    with installed(Capture()) as capture:
        yield capture


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    engine, schema = engine_for(backend, tmp_path)
    upgrade(engine)
    yield engine
    engine.dispose()
    if schema:
        drop_postgres_schema(schema)


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A migrated database for the CLI tests (tests/cli/runner.py): (url, extra environment)."""
    engine, schema = engine_for(backend, tmp_path)
    upgrade(engine)
    engine.dispose()
    if schema is None:
        yield f"sqlite:///{tmp_path / 'suiren.db'}", {}
    else:
        yield POSTGRES_URL, {"PGOPTIONS": f"-csearch_path={schema}"}
        drop_postgres_schema(schema)


@pytest.fixture
def engine_factory(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Fresh migrated databases on demand (one per hypothesis example), all dropped after."""
    made: list[tuple[Engine, str | None]] = []

    def make() -> Engine:
        engine, schema = engine_for(backend, tmp_path_factory.mktemp("db"))
        upgrade(engine)
        made.append((engine, schema))
        return engine

    yield make
    for engine, schema in made:
        engine.dispose()
        if schema:
            drop_postgres_schema(schema)
