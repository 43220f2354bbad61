"""Engines and units of work for SQLite (embedded default) and PostgreSQL.

SQLite: one writer at a time, taken at the start of the transaction (BEGIN IMMEDIATE),
foreign keys on, WAL journal, a busy timeout; a new database file is created readable by
its owner only (0600). PostgreSQL: psycopg 3; row locks on the region's chain head
serialise writers of one region.

An engine carries the ledger's keys (``LedgerKeys``: the chain key and the fingerprint of
the secret they come from). Every unit of work first checks the fingerprint against the
one the database recorded on first use: a database is used with one key only, so that one
person stays one worker and the chain stays verifiable. Statement parameters are never
shown in database errors (``hide_parameters``): they may hold identity data.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url

from suiren.domain.errors import SuirenError
from suiren.store.tables import ledger_meta

BUSY_TIMEOUT_MS = 30_000
KEYS_INFO = "suiren.keys"
FINGERPRINT = "key_fingerprint"
FINGERPRINT_CHECKED = "suiren.fingerprint_checked"  # connection.info: this connection checked it


class WrongKey(SuirenError):
    """The configured secret is not the one this database was created with."""

    code = "wrong-key"


@dataclass(frozen=True)
class LedgerKeys:
    """What the store needs of the agency's secret (derived in services/identity.py)."""

    chain_key: bytes = b""  # HMAC key of the journal's hash chain
    checkpoint_key: bytes = b""  # HMAC key of signed checkpoints
    fingerprint: str = ""  # identifies the secret without revealing it
    seal_key: bytes = b""  # HMAC key of the seals on logins and kept answers (store/seals.py)

    def __repr__(self) -> str:  # never print key material
        return f"LedgerKeys(fingerprint={self.fingerprint!r})"


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL or an in-memory database)."""
    parsed = make_url(normalise_url(url))
    if (
        parsed.get_backend_name() != "sqlite"
        or not parsed.database
        or parsed.database == ":memory:"
    ):
        return None
    return Path(parsed.database)


def _create_private(path: Path) -> None:
    """Create an empty database file readable by its owner only (SQLite keeps the mode for
    its -wal and -shm files)."""
    if path.exists():
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def normalise_url(url: str) -> str:
    """Accept postgresql:// and postgres:// and use the psycopg 3 driver for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str, keys: LedgerKeys | None = None, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    kwargs.setdefault("hide_parameters", True)
    if make_url(url).get_backend_name() == "sqlite":
        path = sqlite_path(url)
        if path is not None and path.parent.is_dir():
            _create_private(path)
        connect = {"timeout": BUSY_TIMEOUT_MS / 1000, **kwargs.pop("connect_args", {})}
        engine = create_engine(url, connect_args=connect, **kwargs)
        _attach(engine, keys)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Connection) -> None:
            # a reader (``unit_of_work(read_only=True)``) takes no write lock: in WAL mode
            # readers run beside the one writer instead of queueing behind it
            deferred = connection.get_execution_options().get(READ_ONLY_OPTION)
            connection.exec_driver_sql("BEGIN DEFERRED" if deferred else "BEGIN IMMEDIATE")

        return engine
    engine = create_engine(url, **kwargs)
    _attach(engine, keys)
    return engine


def _attach(engine: Engine, keys: LedgerKeys | None) -> None:
    @event.listens_for(engine, "connect")
    def _keys(_dbapi_connection: Any, record: Any) -> None:
        record.info[KEYS_INFO] = keys


def ledger_keys(connection: Connection) -> LedgerKeys:
    """The keys of the engine ``connection`` belongs to (a programmer error if it has none)."""
    keys = connection.info.get(KEYS_INFO)
    if not isinstance(keys, LedgerKeys) or not keys.chain_key:
        raise AssertionError("this engine was made without the ledger's keys (make_engine(keys=…))")
    return keys


def as_utc(moment: datetime) -> datetime:
    """A stored time as UTC: SQLite gives ``DateTime(timezone=True)`` back without its zone."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def is_postgres(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


@contextmanager
def server_setting(
    connection: Connection, name: str, value: str, at_least: bool = False
) -> Iterator[None]:
    """PostgreSQL's setting ``name`` at ``value`` for the statements inside, then back to what
    it was (``set_config`` local to the transaction: a failure rolls it back too).
    ``at_least``: a size (``work_mem``) raised to ``value``, left as it is when larger. SQLite
    has no such settings: nothing is done."""
    if not is_postgres(connection):
        yield
        return
    raise_only = " WHERE pg_size_bytes(current_setting(%(name)s)) < pg_size_bytes(%(value)s)"
    previous = connection.exec_driver_sql(
        "SELECT current_setting(%(name)s), set_config(%(name)s, %(value)s, true)"
        + (raise_only if at_least else ""),
        {"name": name, "value": value},
    ).scalar()
    yield
    if previous is not None:  # None: left as it was
        connection.exec_driver_sql(
            "SELECT set_config(%(name)s, %(previous)s, true)",
            {"name": name, "previous": previous},
        )


# autovacuum's own rule for a table's statistics being stale (autovacuum_analyze_threshold,
# autovacuum_analyze_scale_factor at their defaults): more rows changed since the last
# ANALYZE than 50 + 10% of the table
STALE_ROWS = 50
STALE_FRACTION = 0.1


def analyze_stale(connection: Connection, tables: Sequence[str]) -> list[str]:
    """PostgreSQL: ANALYZE each of ``tables`` whose statistics are missing or stale by
    autovacuum's rule, before a run whose plans rest on them; the tables analyzed, in order.

    A server with autovacuum off or behind (a million rows posted a minute ago) would plan a
    yearly run on a table it believes empty: the interest run took a fifth longer so in the
    benchmark's tables (22.0 s against 18.2 s). ANALYZE samples a fixed number of rows (under
    a second a million-row table); its lock, held to the end of the run, makes no writer wait,
    only a VACUUM or ANALYZE of the same table. SQLite plans without statistics here: nothing
    is done."""
    if not is_postgres(connection):
        return []
    stale = [
        str(name)
        for (name,) in connection.exec_driver_sql(
            "SELECT t.name FROM unnest(%(names)s::text[]) WITH ORDINALITY AS t(name, n)"
            " JOIN pg_class c ON c.oid = to_regclass(t.name)"
            " JOIN pg_stat_all_tables s ON s.relid = c.oid"
            " WHERE c.reltuples < 0"  # never analyzed
            " OR s.n_mod_since_analyze > %(rows)s + %(fraction)s * c.reltuples ORDER BY t.n",
            {"names": list(tables), "rows": STALE_ROWS, "fraction": STALE_FRACTION},
        )
    ]
    for name in stale:
        connection.exec_driver_sql(f"ANALYZE {connection.dialect.identifier_preparer.quote(name)}")
    return stale


def dialect_insert(connection: Connection, table: Any) -> Any:
    """An INSERT of ``table`` in the connection's dialect: one with ``on_conflict_do_…``."""
    return (pg_insert if is_postgres(connection) else sqlite_insert)(table)


def check_fingerprint(connection: Connection) -> None:
    """Refuse a key other than the database's; record the key on the database's first use.

    Checked once per database connection: a connection that found the key's fingerprint
    already recorded remembers it (a fingerprint is written once and never changes; one
    recorded in a transaction that may still roll back is checked again next time)."""
    if connection.info.get(FINGERPRINT_CHECKED):
        return
    keys = ledger_keys(connection)
    stored = connection.execute(
        select(ledger_meta.c.value).where(ledger_meta.c.name == FINGERPRINT)
    ).scalar()
    if stored == keys.fingerprint:
        connection.info[FINGERPRINT_CHECKED] = True
        return
    if stored is None:
        connection.execute(
            dialect_insert(connection, ledger_meta)
            .values(name=FINGERPRINT, value=keys.fingerprint)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        stored = connection.execute(
            select(ledger_meta.c.value).where(ledger_meta.c.name == FINGERPRINT)
        ).scalar_one()
    if stored != keys.fingerprint:
        raise WrongKey(
            f"this database was set up with another secret key (fingerprint {stored[:16]}…,"
            f" the configured one is {keys.fingerprint[:16]}…); nothing was read or written."
            " Use the database's own key: SUIREN_SECRET_KEY or SUIREN_KEY_FILE (for the embedded"
            " database, the .key file beside it)"
        )


READ_ONLY_OPTION = "suiren_read_only"


@contextmanager
def unit_of_work(engine: Engine, read_only: bool = False) -> Iterator[Connection]:
    """One database transaction: committed if the block succeeds, rolled back otherwise.

    With the ledger's keys on the engine, the key's fingerprint is checked first.
    ``read_only``: the block only reads (an API GET); on SQLite it then takes no write lock at
    its start, so that reads do not queue behind each other and the writer."""
    with engine.connect() as connection:
        if read_only:
            connection.execution_options(**{READ_ONLY_OPTION: True})
        with connection.begin():
            if isinstance(connection.info.get(KEYS_INFO), LedgerKeys):
                check_fingerprint(connection)
            yield connection
