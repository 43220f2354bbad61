"""Shared fixtures: a migrated database on SQLite and on PostgreSQL.

Every database test runs twice, once per backend. The PostgreSQL server is the local one
(``SUIREN_TEST_POSTGRES_URL``, default postgresql+psycopg://postgres@127.0.0.1:5432/test);
each test gets a fresh schema: a new one, or one another test released, made as new again
(``release``). If the server does not answer, the PostgreSQL tests fail — they are never
skipped.
"""

from __future__ import annotations

import atexit
import os
import sqlite3
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.pool import NullPool

from suiren.services.identity import ledger_keys
from suiren.store.db import KEYS_INFO, make_engine, sqlite_path
from suiren.store.migrate import upgrade
from tests import lock_order

lock_order.install()

# Compiled bytecode, kept between runs even where PYTHONDONTWRITEBYTECODE is set (as on these
# machines): there it goes to a directory outside the tree instead of into __pycache__. Each of
# the suite's processes otherwise rewrites the assertions of every test module it collects
# anew, 6-7 s of CPU a worker (measured: `pytest --collect-only`, 12.6-14.7 s of CPU without
# a cache, 6.1-7.6 s with one). Python and pytest check each cached file against its source.
if sys.dont_write_bytecode and sys.pycache_prefix is None:
    sys.pycache_prefix = os.path.join(tempfile.gettempdir(), f"suiren-pycache-{os.getuid()}")
    sys.dont_write_bytecode = False

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


# PostgreSQL's catalogs: the suite creates and drops about a thousand schemas a run, each
# leaving its tables', columns', indexes' and triggers' rows dead in pg_attribute, pg_class,
# pg_depend…; where autovacuum is off (as on these machines and CI's: conf.d/90-ci.conf) they
# pile up across runs (2.2 million dead pg_attribute rows, a 977 MB database, after a day's
# runs: an Alembic upgrade took 0.66–0.81 s instead of 0.23 s). The catalogs are compacted when a session starts and ends, and
# vacuumed every VACUUM_EVERY schemas a test process drops.
CATALOGS = (
    "pg_attribute", "pg_class", "pg_depend", "pg_type", "pg_index", "pg_constraint",
    "pg_trigger", "pg_attrdef", "pg_sequence", "pg_namespace", "pg_shdepend", "pg_statistic",
    "pg_rewrite", "pg_description", "pg_init_privs", "pg_proc",
)  # fmt: skip
VACUUM_EVERY = 100
_dropped = [0]


# Other sessions connected to the test database: another pytest run on the same server (a
# second checkout, a developer's run beside CI's). VACUUM FULL would hold the catalogs under
# an exclusive lock while it rewrites them, and every statement of theirs would wait (seen:
# tests erroring while a run's start compacted the catalogs); then a plain VACUUM is done.
_OTHERS = """
    SELECT count(*) FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid()
       AND backend_type = 'client backend'
"""


def vacuum_catalogs(full: bool) -> None:
    """VACUUM (FULL: compacted, under an exclusive lock: only while no test runs) the catalogs
    the schemas' rows live in. A role that may not vacuum them is warned by the server and
    nothing happens."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            if full and connection.execute(text(_OTHERS)).scalar_one():
                full = False  # another run's tests would wait on the catalogs' lock meanwhile
            tables = ", ".join(f"pg_catalog.{t}" for t in CATALOGS)
            connection.execute(text(f"VACUUM {'FULL ' if full else ''}{tables}"))
    finally:
        admin.dispose()


def _controller(session: pytest.Session) -> bool:
    """Not a pytest-xdist worker (the process that starts and ends the run)."""
    return not hasattr(session.config, "workerinput")


def pytest_sessionstart(session: pytest.Session) -> None:
    if _controller(session):
        try:
            vacuum_catalogs(full=True)
        except Exception as error:  # the PostgreSQL tests fail on their own, with their reason
            print(f"PostgreSQL catalogs not vacuumed: {error}")


def pytest_sessionfinish(session: pytest.Session) -> None:
    from tests.worlds import drop_worlds

    drop_worlds()  # every process's: the templates of its populated worlds (tests/worlds.py)
    drop_pool()  # and its reused schemas
    if _controller(session):
        try:
            vacuum_catalogs(full=True)
        except Exception as error:
            print(f"PostgreSQL catalogs not vacuumed: {error}")


# PostgreSQL's JIT off for every connection the tests make: the server compiled the plan of
# each costly statement (a soak's audit, an interest run over 50,000 accounts) with LLVM
# anew, for results identical to the interpreted plan's. Measured, the 100,000-contribution
# replay and the 50,000-account interest run on PostgreSQL, interleaved on a loaded machine:
# 216.6 s and 64.2 s with the JIT, 60.7 s and 35.9 s without. Engines the tests make are
# covered here (the CLI's in-process runner's too, and the apps the API tests start, which
# read their schema from PGOPTIONS); commands run as subprocesses get it from
# ``database_url``'s PGOPTIONS.
PG_TEST_OPTIONS = "-cjit=off"


@event.listens_for(Engine, "do_connect")
def _without_jit(dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
    if dialect.name == "postgresql":
        # libpq reads PGOPTIONS only when no options are given: the CLI and API tests name
        # their schema there, so it is kept where the engine gives none of its own
        given = params.get("options", os.environ.get("PGOPTIONS", ""))
        params["options"] = f"{given} {PG_TEST_OPTIONS}".strip()


_ADMIN: dict[int, Connection] = {}  # each process's admin connection, by its pid


@contextmanager
def admin_transaction() -> Iterator[Connection]:
    """A transaction on this process's one connection to the PostgreSQL test database for
    making, checking, resetting and dropping schemas (a connection made and closed for each
    cost the server about 10 ms of CPU). It is kept idle between transactions, so it holds no
    lock. A process forked from this one makes its own: the parent's is left alone there —
    never used, and never closed (closing it would end the parent's session). A transaction
    that fails closes the connection; the next is made afresh."""
    pid = os.getpid()
    connection = _ADMIN.get(pid)
    if connection is None:
        # its own options: not PGOPTIONS, which names a CLI test's schema while it runs
        admin = create_engine(POSTGRES_URL, poolclass=NullPool, connect_args={"options": ""})
        connection = _ADMIN[pid] = admin.connect()
    try:
        with connection.begin():
            yield connection
    except BaseException:
        del _ADMIN[pid]
        try:
            connection.close()
        finally:
            raise


def close_admin() -> None:
    """This process's admin connection closed (at its exit, after ``drop_pool``)."""
    connection = _ADMIN.pop(os.getpid(), None)
    if connection is not None:
        connection.close()


atexit.register(close_admin)  # registered before drop_pool: runs after it


def postgres_schema_url() -> tuple[str, str]:
    schema = "t_" + uuid.uuid4().hex[:12]
    with admin_transaction() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    return POSTGRES_URL, schema


def drop_postgres_schema(schema: str) -> None:
    with admin_transaction() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    _dropped[0] += 1
    if _dropped[0] % VACUUM_EVERY == 0:
        vacuum_catalogs(full=False)  # beside the running tests: no exclusive lock


def engine_for(backend: str, tmp_path: Path) -> tuple[Engine, str | None]:
    if backend == "sqlite":
        return make_engine(f"sqlite:///{tmp_path / 'suiren.db'}", keys=KEYS), None
    url, schema = postgres_schema_url()
    engine = make_engine(url, keys=KEYS, connect_args={"options": f"-csearch_path={schema}"})
    return engine, schema


# --- a migrated database, quickly ---------------------------------------------------------
# Each backend's first database in a test process is migrated by Alembic; the next ones are
# made the same without it: on PostgreSQL the statements that upgrade executed are replayed
# in one transaction (0.12 s a schema instead of 0.29 s: no Alembic, no reflection), on SQLite
# the first database is copied with sqlite3's backup (a few ms instead of 50). About 400 tests
# a backend start from a fresh database. tests/store/test_schema.py migrates for real, and
# compares a replayed schema with one Alembic made.
_TEMPLATES: dict[tuple[str, str], Any] = {}
_READS = ("SELECT", "PRAGMA TABLE_INFO", "PRAGMA INDEX", "PRAGMA FOREIGN_KEY_LIST", "SHOW")


def _template_key(engine: Engine) -> tuple[str, str]:
    with engine.connect() as connection:
        return engine.dialect.name, repr(connection.info.get(KEYS_INFO))


def migrate(engine: Engine) -> None:
    """``upgrade(engine)`` to the head, as the first upgrade of its backend (and keys) in this
    test process did it. ``engine`` is a fresh, empty database of ``engine_for``."""
    key = _template_key(engine)
    template = _TEMPLATES.get(key)
    if template is None:
        _TEMPLATES[key] = _migrated_for_real(engine)
    elif engine.dialect.name == "sqlite":
        sqlite_restore(template, engine)
    else:
        with engine.begin() as connection:
            for statement, parameters in template:
                connection.exec_driver_sql(statement, parameters)


def sqlite_kept(engine: Engine) -> sqlite3.Connection:
    """A copy in memory of ``engine``'s SQLite file (kept apart: the file is written on)."""
    path = sqlite_path(str(engine.url))
    assert path is not None
    engine.dispose()
    source = sqlite3.connect(path)
    kept = sqlite3.connect(":memory:", check_same_thread=False)
    try:
        source.backup(kept)
    finally:
        source.close()
    return kept


def sqlite_restore(kept: sqlite3.Connection, engine: Engine) -> None:
    """``engine``'s SQLite file made a copy of ``kept``, the same pages. Not synced to the
    disk: a test's database outlives no crash, and the sync was most of the copy's time
    (measured: 21 ms a copy of the API tests' world, 3.3 ms without)."""
    path = sqlite_path(str(engine.url))
    assert path is not None
    engine.dispose()  # nothing may hold the file while it is replaced
    target = sqlite3.connect(path)
    try:
        target.execute("PRAGMA synchronous=OFF")  # this connection's, not the file's
        kept.backup(target)
    finally:
        target.close()


def without_fsync(engine: Engine) -> None:
    """SQLite (``PRAGMA synchronous=OFF``) commits without waiting for the disk from the next
    connection on: for tests whose process never dies mid-commit (every test on the ``engine``
    and ``engine_factory`` fixtures, the state machines, the simulation, whose "kill" is a
    rollback), which test what a commit writes, not that it survives a power cut. The kill
    tests kill a process of their own, which commits with the product's settings. A state
    machine's example spent a third of its time waiting for fsync, and a fifth of its CPU
    around it. PostgreSQL is left as it is."""
    if engine.dialect.name == "sqlite" and not event.contains(engine, "connect", _no_sync):
        engine.dispose()
        event.listen(engine, "connect", _no_sync)


def _no_sync(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA synchronous=OFF")


def _migrated_for_real(engine: Engine) -> Any:
    if engine.dialect.name == "sqlite":
        upgrade(engine)
        return sqlite_kept(engine)
    recorded: list[tuple[str, Any]] = []

    def record(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(_READS):
            recorded.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        upgrade(engine)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return recorded


# --- PostgreSQL schemas, used again ------------------------------------------------------
# A PostgreSQL test schema cost about half a second of wall time and 0.1 s of the server's CPU
# to create, migrate (even replayed) and drop: its 33 tables, 38 triggers and their indexes
# are files and catalog rows made and removed again (measured with the server backend's CPU
# from /proc: 105 ms a schema). The fixtures instead give a test a schema another test of
# this process has released, brought back to the state of a freshly migrated one:
#
# - its catalog (relations with their options, columns, indexes, constraints, triggers and
#   whether they fire, functions, sequences' definitions; ``SCHEMA_FINGERPRINT``) must equal
#   the pristine schema's, migrated in this process and never given to a test: a test that
#   altered anything is not used again — its schema is dropped;
# - every row and sequence is then made the pristine schema's: each table emptied and filled
#   from it, each sequence set to its state (``copy_statements``, as tests/worlds.py copies
#   a world), under ``session_replication_role = replica``: the append-only triggers do not
#   fire on the emptying.
#
# 2.7 ms of the server's CPU for the reset and 5 ms for the comparison. A schema is dropped
# after REUSES tests (the dead rows of its emptied tables are left behind), and no more than
# POOL_SIZE are kept. tests/store/test_schema.py proves a reused schema equal to one Alembic
# migrated, and each kind of alteration caught.
POOL_SIZE = 4
REUSES = 25
SCHEMA_FINGERPRINT = """
SELECT coalesce(string_agg(replace(line, current_schema(), 'SCHEMA'), E'\\n' ORDER BY line), '')
  FROM (
SELECT 'relation ' || relname || ' ' || relkind::text || ' ' || relpersistence::text || ' '
       || relrowsecurity::text || ' ' || coalesce(reloptions::text, '') || ' '
       || coalesce(relacl::text, '') AS line
  FROM pg_class WHERE relnamespace = current_schema()::regnamespace
UNION ALL SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' '
       || coalesce(character_maximum_length::text, '') || ' ' || is_nullable || ' '
       || coalesce(column_default, '') || ' ' || is_identity || ' ' || is_generated || ' '
       || coalesce(generation_expression, '')
  FROM information_schema.columns WHERE table_schema = current_schema()
UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = current_schema()
UNION ALL SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' '
       || pg_get_constraintdef(oid) || ' ' || condeferrable::text || condeferred::text || convalidated::text
  FROM pg_constraint WHERE connamespace = current_schema()::regnamespace
UNION ALL SELECT 'trigger ' || pg_get_triggerdef(t.oid) || ' ' || t.tgenabled::text FROM pg_trigger t
  JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal
UNION ALL SELECT 'function ' || pg_get_functiondef(p.oid) FROM pg_proc p
 WHERE p.pronamespace = current_schema()::regnamespace
UNION ALL SELECT 'sequence ' || sequencename || ' ' || data_type || ' ' || start_value || ' '
       || min_value || ' ' || max_value || ' ' || increment_by || ' ' || cycle || ' '
       || cache_size
  FROM pg_sequences WHERE schemaname = current_schema()
) found
"""
_POOL: list[str] = []  # released schemas, as fresh ones, of this process
_USES: dict[str, int] = {}
_PRISTINE: dict[str, str] = {}  # the pristine schema: "schema", "fingerprint", "reset"


def schema_engine(schema: str, keys: Any = KEYS) -> Engine:
    """An engine on the PostgreSQL test database whose tables are ``schema``'s."""
    return make_engine(POSTGRES_URL, keys=keys, connect_args={"options": f"-csearch_path={schema}"})


def migrated_engine(backend: str, tmp_path: Path) -> tuple[Engine, str | None]:
    """``engine_for`` and ``migrate``: a fresh, migrated database — on PostgreSQL a schema
    another test released (``release``) where there is one. Give it back with ``release``."""
    if backend == "postgres" and _POOL:
        schema = _POOL.pop()
        return schema_engine(schema), schema
    engine, schema = engine_for(backend, tmp_path)
    migrate(engine)
    return engine, schema


def release(engine: Engine, schema: str | None) -> None:
    """``engine`` disposed, and its PostgreSQL schema made a fresh one for the next test or
    dropped."""
    engine.dispose()
    if schema is not None:
        recycle_postgres_schema(schema)


def recycle_postgres_schema(schema: str) -> None:
    """``schema`` (migrated by ``migrate`` with the tests' keys, nothing of it in use) back in
    the pool with the rows and sequences of a fresh one, if its catalog is a fresh one's;
    dropped otherwise."""
    _USES[schema] = _USES.get(schema, 0) + 1
    pristine = _pristine()
    kept = False
    if _USES[schema] < REUSES and len(_POOL) < POOL_SIZE:
        with admin_transaction() as connection:
            # current_schema() is ``schema`` for the fingerprint; back as it was at the commit
            connection.execute(text("SELECT set_config('search_path', :s, true)"), {"s": schema})
            found = connection.exec_driver_sql(SCHEMA_FINGERPRINT).scalar_one()
            if found == pristine["fingerprint"]:
                connection.exec_driver_sql(pristine["reset"].format(target=schema))
                kept = True
    if kept:
        _POOL.append(schema)
    else:
        _USES.pop(schema)
        drop_postgres_schema(schema)


def _pristine() -> dict[str, str]:
    """The pristine schema of this process (made at the first need): migrated, never given
    to a test, its catalog's fingerprint and the statements that reset a schema to it."""
    if not _PRISTINE:
        schema, fingerprint, reset = template_schema(KEYS, _fingerprint)
        _PRISTINE.update(schema=schema, fingerprint=fingerprint, reset=reset)
    return _PRISTINE


def _fingerprint(engine: Engine) -> str:
    with engine.connect() as connection:
        return str(connection.exec_driver_sql(SCHEMA_FINGERPRINT).scalar_one())


T = TypeVar("T")


def template_schema(keys: Any, build: Callable[[Engine], T]) -> tuple[str, T, str]:
    """A PostgreSQL schema of its own, migrated with ``keys`` and ``build`` run on it: its
    name, what ``build`` returned, and the statements that copy its rows into another
    (``copy_statements``)."""
    _, schema = postgres_schema_url()
    engine = schema_engine(schema, keys)
    try:
        migrate(engine)
        result = build(engine)
        with engine.connect() as connection:
            copy_sql = copy_statements(connection, schema)
    except BaseException:
        engine.dispose()
        drop_postgres_schema(schema)
        raise
    engine.dispose()
    return schema, result, copy_sql


def schema_exists(schema: str) -> bool:
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.connect() as connection:
            found = connection.execute(
                text("SELECT count(*) FROM pg_namespace WHERE nspname = :s"), {"s": schema}
            ).scalar_one()
    finally:
        admin.dispose()
    return bool(found)


def drop_pool() -> None:
    """Drop this process's pooled schemas and its pristine one."""
    for schema in [*_POOL, *([_PRISTINE["schema"]] if _PRISTINE else [])]:
        drop_postgres_schema(schema)
    _POOL.clear()
    _USES.clear()
    _PRISTINE.clear()


atexit.register(drop_pool)  # a process that ends without a pytest session's end


def copy_statements(connection: Any, schema: str) -> str:
    """The statements that copy ``schema``'s rows and sequences into the ``{target}`` schema:
    every table the migration made (``alembic_version`` too: emptied, then copied), every
    column named, identity columns taken as they are."""
    columns = connection.execute(
        text(
            "SELECT c.relname, string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)"
            " FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid"
            " WHERE c.relnamespace = CAST(:schema AS regnamespace) AND c.relkind IN ('r', 'p')"
            " AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''"
            " GROUP BY c.relname ORDER BY c.relname"
        ),
        {"schema": schema},
    ).all()
    sequences = connection.execute(
        text(
            "SELECT c.relname FROM pg_class c"
            " WHERE c.relnamespace = CAST(:schema AS regnamespace) AND c.relkind = 'S'"
            " ORDER BY c.relname"
        ),
        {"schema": schema},
    ).scalars()
    assert columns, f"no tables in the template schema {schema}"
    statements = ["SET LOCAL session_replication_role = replica"]
    for table, names in columns:
        into, source = f'"{{target}}"."{table}"', f'"{schema}"."{table}"'
        statements += [
            f"DELETE FROM {into}",
            f"INSERT INTO {into} ({names}) OVERRIDING SYSTEM VALUE SELECT {names} FROM {source}",
        ]
    for sequence in sequences:
        statements.append(
            f'SELECT setval(\'"{{target}}"."{sequence}"\', last_value, is_called)'
            f' FROM "{schema}"."{sequence}"'
        )
    return ";\n".join(statements)


@pytest.fixture(autouse=True)
def locks_in_one_order() -> Iterator[None]:
    """Every writer in every test takes the ledger's locks in one order: people's, then chain
    heads in ascending region order (``tests/lock_order``)."""
    lock_order.begin_test()
    yield
    assert not lock_order.broken, f"locks taken out of order: {lock_order.broken}"


@pytest.fixture(scope="session")
def pii_capture() -> Iterator[Any]:
    """What every FastAPI app answered and logged in the session (tests/api/pii.py): the API's
    and the portal's tests scan it after each test (their conftest's ``no_resident_id_shown``)."""
    from tests.api.pii import Capture, installed

    with installed(Capture()) as capture:
        yield capture


def this_source() -> dict[str, str]:
    """PYTHONPATH naming the source tree the tests import, as an absolute path, for a command
    a test runs as a subprocess in another directory (``cwd=tmp_path``): there a relative
    ``src`` names nothing, and the command ran the editable install's tree — another
    worktree's code, not the code under test."""
    import suiren

    root = str(Path(suiren.__file__).resolve().parents[1])
    given = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return {"PYTHONPATH": os.pathsep.join([root, *given])}


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    engine, schema = migrated_engine(backend, tmp_path)
    without_fsync(engine)
    yield engine
    release(engine, schema)


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A migrated database for the CLI tests (tests/cli/runner.py): (url, extra environment)."""
    engine, schema = migrated_engine(backend, tmp_path)
    engine.dispose()
    if schema is None:
        yield f"sqlite:///{tmp_path / 'suiren.db'}", {}
    else:
        yield POSTGRES_URL, {"PGOPTIONS": f"-csearch_path={schema} {PG_TEST_OPTIONS}"}
        release(engine, schema)


@pytest.fixture
def engine_factory(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Fresh migrated databases on demand (one per hypothesis example), all released after."""
    made: list[tuple[Engine, str | None]] = []

    def make() -> Engine:
        engine, schema = migrated_engine(backend, tmp_path_factory.mktemp("db"))
        without_fsync(engine)
        made.append((engine, schema))
        return engine

    yield make
    for engine, schema in made:
        release(engine, schema)
