"""The migrated database has the indexes the tables declare, on both databases.

The tables (``store.tables``) are what the code is written against; the migrations are what a
database has. A migration that changes an index must leave a database created by an older
release in the same state as a fresh one: here both are compared with the declared indexes.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text

from suiren.api.auth import Unauthorized, authenticate
from suiren.store.audit import verify
from suiren.store.db import unit_of_work
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


def test_an_older_databases_keys_and_clerks_are_recorded_at_the_upgrade(
    backend: str, tmp_path: Path
) -> None:
    """A database of the release before 0011: its API keys (one revoked) and clerks had no
    facts; the upgrade records each as it stands, so the audit agrees and they still work."""
    engine, schema = engine_for(backend, tmp_path)
    keys = {key_id: f"sk_{key_id}_old" for key_id in ("0a0a0a0a0a0a", "0b0b0b0b0b0b")}
    when = datetime(2026, 6, 1, tzinfo=UTC)
    try:
        upgrade(engine, "0010_accounts_owner_order")
        with engine.begin() as connection:  # as 0004 made it before 0018's column
            connection.execute(text("ALTER TABLE clerks DROP COLUMN session_generation"))
            for key_id, revoked in (("0a0a0a0a0a0a", None), ("0b0b0b0b0b0b", when)):
                connection.execute(
                    text(
                        "INSERT INTO api_keys (key_id, secret_sha256, actor, scope, label,"
                        " created_at, revoked_at) VALUES (:id, :sha, 'agency', '440100', '',"
                        " :when, :revoked)"
                    ),
                    {
                        "id": key_id,
                        "sha": hashlib.sha256(keys[key_id].encode()).hexdigest(),
                        "when": when,
                        "revoked": revoked,
                    },
                )
            connection.execute(
                text(
                    "INSERT INTO clerks (login, region, password_hash, failures, created_at)"
                    " VALUES ('old.clerk', '440100', '$argon2id$old', 0, :when)"
                ),
                {"when": when},
            )
        upgrade(engine)
        with unit_of_work(engine) as connection:
            assert verify(connection).ok
            facts = connection.execute(
                text("SELECT kind, key FROM facts WHERE region = '000000' ORDER BY kind, key")
            ).all()
            assert [tuple(f) for f in facts] == [
                ("api_keys", "0a0a0a0a0a0a"),
                ("api_keys", "0b0b0b0b0b0b"),
                ("clerks", "old.clerk"),
            ]
            versions = connection.execute(text("SELECT version FROM api_keys")).scalars().all()
            assert versions == [1, 1]
            assert authenticate(connection, f"Bearer {keys['0a0a0a0a0a0a']}").scope == "440100"
            with pytest.raises(Unauthorized):  # revoked before: recorded revoked
                authenticate(connection, f"Bearer {keys['0b0b0b0b0b0b']}")
    finally:
        engine.dispose()
        if schema:
            drop_postgres_schema(schema)


def test_an_older_databases_logins_are_sealed_at_the_upgrade(backend: str, tmp_path: Path) -> None:
    """A database of the release before 0012 (its login tables and kept answers without
    ``seal``): a worker's login, bound number and a kept answer are sealed as they stand and
    go on working; a pending one-time code is dropped; the audit agrees."""
    from suiren.services.logins import hash_password, log_in, log_in_with_code, request_code
    from suiren.services.workers import enrol
    from tests.ledger_helpers import POLICY, VAULT, resident_id

    engine, schema = engine_for(backend, tmp_path)
    when = datetime(2026, 6, 1, tzinfo=UTC)
    phone = "13912345678"
    try:
        upgrade(engine, "0011_grants")
        with engine.begin() as connection:
            for table in (
                "logins",
                "login_codes",
                "login_phones",
                "idempotency_keys",
            ):  # as the older 0002/0008 made them
                connection.execute(text(f"ALTER TABLE {table} DROP COLUMN seal"))
        with unit_of_work(engine) as connection:
            worker = enrol(
                connection, POLICY, VAULT, resident_id(7), "440100", None, when
            ).worker.worker_id
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO logins (blind_index, worker_id, password_hash, failures,"
                    " created_at) VALUES (:index, :worker, :hash, 0, :when)"
                ),
                {
                    "index": VAULT.blind_index(resident_id(7)),
                    "worker": worker,
                    "hash": hash_password("an old password"),
                    "when": when,
                },
            )
            connection.execute(
                text(
                    "INSERT INTO login_phones (phone_index, worker_id, masked, bound_at)"
                    " VALUES (:index, :worker, '139****5678', :when)"
                ),
                {"index": VAULT.phone_index(phone), "worker": worker, "when": when},
            )
            connection.execute(
                text(
                    "INSERT INTO login_codes (blind_index, code_sha256, expires_at, attempts)"
                    " VALUES (:index, :sha, :until, 0)"
                ),
                {"index": VAULT.blind_index(resident_id(7)), "sha": "0" * 64, "until": when},
            )
            connection.execute(  # an answer kept for a platform's Idempotency-Key
                text(
                    "INSERT INTO idempotency_keys (key_id, idempotency_key, request_sha256,"
                    " status, body, created_at) VALUES ('0a0a0a0a0a0a', 'k-1', :sha, 201,"
                    " '{}', :when)"
                ),
                {"sha": "f" * 64, "when": when},
            )
        upgrade(engine)
        with unit_of_work(engine) as connection:
            assert verify(connection).ok, verify(connection).problems  # all sealed as found
            assert connection.execute(text("SELECT COUNT(*) FROM login_codes")).scalar_one() == 0
            assert log_in(connection, VAULT, resident_id(7), "an old password", when) == worker
            code = request_code(connection, VAULT, phone, when)
            assert log_in_with_code(connection, VAULT, phone, code, when) == worker
    finally:
        engine.dispose()
        if schema:
            drop_postgres_schema(schema)


def test_an_upgrade_with_another_databases_key_migrates_nothing(
    backend: str, tmp_path: Path
) -> None:
    """0012 seals what it finds with the configured key: with a key of another database it
    would leave every login refused. The key is checked first: WrongKey, still at 0011."""
    from alembic.migration import MigrationContext

    from suiren.services.identity import ledger_keys
    from suiren.store.db import WrongKey, make_engine

    engine, schema = engine_for(backend, tmp_path)
    try:
        upgrade(engine, "0011_grants")
        with unit_of_work(engine):
            pass  # the database's key recorded, as on its first use
        wrong = make_engine(
            engine.url.render_as_string(hide_password=False),
            keys=ledger_keys(b"another agency's secret key 32b!"),
            **({"connect_args": {"options": f"-csearch_path={schema}"}} if schema else {}),
        )
        with pytest.raises(WrongKey):
            upgrade(wrong, "head")
        wrong.dispose()
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == "0011_grants"
        upgrade(engine)  # the database's own key: migrated
        with engine.connect() as connection:
            assert (
                MigrationContext.configure(connection).get_current_revision()
                == "0020_login_failures"
            )
    finally:
        engine.dispose()
        if schema:
            drop_postgres_schema(schema)


# --- the suite's quick migration (tests/conftest.py ``migrate``) -----------------------------

_POSTGRES_SCHEMA = """
SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' '
       || is_nullable || ' ' || coalesce(column_default, '')
  FROM information_schema.columns WHERE table_schema = current_schema()
UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = current_schema()
UNION ALL SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' '
       || pg_get_constraintdef(oid)
  FROM pg_constraint WHERE connamespace = current_schema()::regnamespace
UNION ALL SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM pg_trigger t
  JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal
UNION ALL SELECT 'function ' || pg_get_functiondef(p.oid) FROM pg_proc p
 WHERE p.pronamespace = current_schema()::regnamespace
"""


def _schema_and_rows(engine: Engine) -> list[str]:
    """Every table, column, index, constraint, trigger and function, and every row, as text
    (the schema's own name taken out)."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            found = [
                f"{r.type} {r.name} {r.sql}"
                for r in connection.exec_driver_sql("SELECT type, name, sql FROM sqlite_master")
            ]
            schema = ""
        else:
            found = [r[0] for r in connection.exec_driver_sql(_POSTGRES_SCHEMA)]
            schema = str(connection.exec_driver_sql("SELECT current_schema()").scalar_one())
        for table in sorted(inspect(connection).get_table_names()):
            found += [
                f"{table} {tuple(r)}" for r in connection.exec_driver_sql(f"SELECT * FROM {table}")
            ]
    return sorted(line.replace(schema, "SCHEMA") if schema else line for line in found)


def test_the_suites_quick_migration_makes_the_database_alembic_makes(
    backend: str, tmp_path: Path
) -> None:
    """The suite migrates most test databases by replaying the statements of the first upgrade
    (PostgreSQL) or copying its database (SQLite): the result has every table, column, index,
    constraint, trigger, function and row that Alembic's upgrade gives."""
    from tests.conftest import migrate

    made = []
    try:
        for name in ("first", "replayed", "alembic"):
            (tmp_path / name).mkdir()
            engine, schema = engine_for(backend, tmp_path / name)
            made.append((engine, schema))
            if name == "alembic":
                upgrade(engine)
            else:
                migrate(engine)  # the first may be this process's real one: the second is not
        assert _schema_and_rows(made[1][0]) == _schema_and_rows(made[2][0])
    finally:
        for engine, schema in made:
            engine.dispose()
            if schema:
                drop_postgres_schema(schema)


def test_a_database_before_0015_drops_its_pending_codes_and_records_uses(
    backend: str, tmp_path: Path
) -> None:
    """0015 (``login_code_uses``): a code pending at the upgrade was asked for before uses
    were recorded, and is dropped (a worker asks again); a code asked for after is used once
    and its use recorded; the audit agrees."""
    from suiren.services import logins
    from suiren.services.logins import log_in_with_code, request_code
    from suiren.services.workers import enrol
    from tests.ledger_helpers import POLICY, VAULT, resident_id

    engine, schema = engine_for(backend, tmp_path)
    when = datetime(2026, 6, 1, tzinfo=UTC)
    try:
        upgrade(engine, "0014_provisional_uses")
        with unit_of_work(engine) as connection:
            worker = enrol(
                connection, POLICY, VAULT, resident_id(7), "440100", None, when
            ).worker.worker_id
            with pytest.MonkeyPatch.context() as patch:  # as then: no day's count (0019)
                patch.setattr(logins, "_count_code", lambda *_: None)
                old = request_code(connection, VAULT, resident_id(7), when)
        upgrade(engine)
        with unit_of_work(engine) as connection:
            assert log_in_with_code(connection, VAULT, resident_id(7), old, when) is None
            code = request_code(connection, VAULT, resident_id(7), when)
            assert log_in_with_code(connection, VAULT, resident_id(7), code, when) == worker
            used = text("SELECT COUNT(*) FROM login_code_uses")
            assert connection.execute(used).scalar_one() == 1
            assert verify(connection).ok, verify(connection).problems
    finally:
        engine.dispose()
        if schema:
            drop_postgres_schema(schema)


def test_a_database_at_0016_has_its_sessions_recorded_at_the_upgrade(
    backend: str, tmp_path: Path
) -> None:
    """0017 (``worker_sessions`` journalled): the rows of a database at 0016 — a worker who
    logged in once, one whose sessions were ended twice — get ``version`` 1, ``ended_by``
    NULL and a fact each, as they stand; their tokens of the current generation go on, an
    earlier one stays refused, the audit agrees, and the next end is the next fact. The
    facts' index is the declared one (kind, key, region, seq) in place of (kind, key)."""
    from suiren.services.logins import (
        LoginRefused,
        Session,
        check_session,
        end_sessions,
    )
    from suiren.services.workers import enrol
    from tests.ledger_helpers import POLICY, VAULT, resident_id

    engine, schema = engine_for(backend, tmp_path)
    when = datetime(2026, 6, 1, tzinfo=UTC)
    try:
        upgrade(engine, "0016_worker_sessions")
        with engine.begin() as connection:  # as 0016 made the table and the facts' index
            for column in ("ended_by", "version"):
                connection.execute(text(f"ALTER TABLE worker_sessions DROP COLUMN {column}"))
            connection.execute(text("DROP INDEX ix_facts_kind_key_region_seq"))
            connection.execute(text("CREATE INDEX ix_facts_kind_key ON facts (kind, key)"))
        with unit_of_work(engine) as connection:
            workers = [
                enrol(
                    connection, POLICY, VAULT, resident_id(n), "440100", None, when
                ).worker.worker_id
                for n in (7, 8)
            ]
        with engine.begin() as connection:
            for worker, generation, ended in ((workers[0], 0, None), (workers[1], 2, when)):
                connection.execute(
                    text(
                        "INSERT INTO worker_sessions (worker_id, generation, ended_at)"
                        " VALUES (:w, :g, :e)"
                    ),
                    {"w": worker, "g": generation, "e": ended},
                )
        upgrade(engine)
        assert _found(engine, {"facts"})["facts"] == _declared()["facts"]
        with unit_of_work(engine) as connection:
            assert verify(connection).ok, verify(connection).problems
            stored = connection.execute(
                text(
                    "SELECT generation, ended_by, version FROM worker_sessions ORDER BY generation"
                )
            ).all()
            assert [tuple(r) for r in stored] == [(0, None, 1), (2, None, 1)]
            recorded = connection.execute(
                text("SELECT key FROM facts WHERE kind = 'worker_sessions' ORDER BY key")
            ).scalars()
            assert list(recorded) == sorted(workers)
            later = when.replace(hour=1)
            for worker, generation in ((workers[0], 0), (workers[1], 2)):
                check_session(connection, Session(worker, later, generation))
            with pytest.raises(LoginRefused):
                check_session(connection, Session(workers[1], later, 1))
            assert end_sessions(connection, workers[1], when, "command-line") == 3
            assert verify(connection).ok, verify(connection).problems
            with pytest.raises(LoginRefused):
                check_session(connection, Session(workers[1], later, 2))
    finally:
        engine.dispose()
        if schema:
            drop_postgres_schema(schema)


def test_a_database_at_0017_has_its_clerks_generations_recorded_at_the_upgrade(
    backend: str, tmp_path: Path
) -> None:
    """0018 (``clerks.session_generation``): a database at 0017 whose clerks' facts have no
    generation — one clerk as recorded, one moved behind the service — gets the column at 0
    and, for each clerk, a fact restating their latest with generation 0 (not the row as it
    stands: the move stays named by the audit); the clerk as recorded logs in, at generation
    0, and their logout is the next fact."""
    import json

    from suiren.ledger.transaction import Fact
    from suiren.services.clerks import end_clerk_sessions, get_clerk, log_in_clerk
    from suiren.services.logins import hash_password
    from suiren.store.api_tables import clerks
    from suiren.store.grants import post_fact
    from suiren.store.projections import fact

    engine, schema = engine_for(backend, tmp_path)
    when = datetime(2026, 6, 1, tzinfo=UTC)
    try:
        upgrade(engine, "0017_sessions_journalled")
        with engine.begin() as connection:  # as 0004 made it before 0018's column
            connection.execute(text("ALTER TABLE clerks DROP COLUMN session_generation"))
        with unit_of_work(engine) as connection:
            for login in ("kept.clerk", "moved.clerk"):
                row = {
                    "login": login,
                    "region": "440100",
                    "password_hash": hash_password("a clerk's pass phrase"),
                    "created_at": when,
                    "version": 1,
                }
                connection.execute(
                    text(
                        "INSERT INTO clerks (login, region, password_hash, failures, created_at,"
                        " version) VALUES (:login, :region, :password_hash, 0, :created_at, 1)"
                    ),
                    row,
                )
                data = json.loads(fact(clerks, **row, session_generation=0).data)
                del data["session_generation"]  # as 0017's facts of a clerk were
                older = Fact(
                    "clerks", login, json.dumps(data, sort_keys=True, separators=(",", ":"))
                )
                post_fact(connection, older, 1, when, f"clerk added: {login}")
            connection.execute(
                text("UPDATE clerks SET region = '000000' WHERE login = 'moved.clerk'")
            )
        upgrade(engine)
        with unit_of_work(engine) as connection:
            audit = verify(connection)
            assert {(p.table, p.row) for p in audit.problems} == {("clerks", "moved.clerk")}
            stored = connection.execute(
                text("SELECT login, session_generation, version FROM clerks ORDER BY login")
            ).all()
            assert [tuple(r) for r in stored] == [("kept.clerk", 0, 2), ("moved.clerk", 0, 2)]
            assert get_clerk(connection, "moved.clerk") is None
            clerk = log_in_clerk(connection, "kept.clerk", "a clerk's pass phrase", when)
            assert clerk is not None and clerk.generation == 0
            assert (
                end_clerk_sessions(connection, "kept.clerk", when, "clerk:kept.clerk").generation
                == 1
            )
            assert {(p.table, p.row) for p in verify(connection).problems} == {
                ("clerks", "moved.clerk")
            }
    finally:
        engine.dispose()
        if schema:
            drop_postgres_schema(schema)


# --- the suite's reused PostgreSQL schemas (tests/conftest.py ``release``) -------------------


def _sequences(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        found = connection.exec_driver_sql(
            "SELECT sequencename, last_value FROM pg_sequences"
            " WHERE schemaname = current_schema() ORDER BY sequencename"
        )
        return [f"{name} {last}" for name, last in found]


def test_a_reused_schema_is_the_database_alembic_makes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A schema a test wrote into (rows in the append-only journal, a sequence advanced) and
    released is given to the next test with every table, column, index, constraint, trigger,
    function, row and sequence state of a database Alembic's upgrade makes."""
    from suiren.api.trail import record_row
    from suiren.services.workers import enrol
    from tests import conftest
    from tests.conftest import NOW, migrated_engine, release
    from tests.ledger_helpers import POLICY, VAULT, resident_id

    monkeypatch.setattr(conftest, "_POOL", [])
    engine, schema = migrated_engine("postgres", tmp_path)
    alembic, other = engine_for("postgres", tmp_path)
    try:
        with unit_of_work(engine) as connection:
            enrol(connection, POLICY, VAULT, resident_id(3), "440100", None, NOW)
            record_row(connection, "request-1", "gz", "GET", "/api/v1/workers", 200, NOW)
        assert "access_log_id_seq 1" in _sequences(engine)  # written, a number taken
        release(engine, schema)
        assert [schema] == conftest._POOL
        engine, again = migrated_engine("postgres", tmp_path)
        assert again == schema and conftest._POOL == []
        upgrade(alembic)
        assert _schema_and_rows(engine) == _schema_and_rows(alembic)
        assert _sequences(engine) == _sequences(alembic)
    finally:
        engine.dispose()
        alembic.dispose()
        for name in (schema, other):
            drop_postgres_schema(str(name))


@pytest.mark.parametrize(
    "alteration",
    [
        "DROP INDEX ix_accounts_kind_region_owner",
        "ALTER TABLE journal DISABLE TRIGGER USER",
        "ALTER TABLE accounts SET (fillfactor = 100)",
        "ALTER TABLE workers ADD COLUMN extra INTEGER",
        "ALTER TABLE workers ALTER COLUMN resident_id_cipher DROP NOT NULL",
        "ALTER TABLE access_log ALTER COLUMN request_id SET DEFAULT 'x'",
        "ALTER TABLE journal ADD CONSTRAINT extra CHECK (seq >= 0)",
        "ALTER SEQUENCE access_log_id_seq INCREMENT BY 2",
        "CREATE FUNCTION extra() RETURNS integer LANGUAGE sql AS 'SELECT 1'",
        "CREATE TABLE extra (n integer)",
        "CREATE VIEW extra AS SELECT 1 AS n",
        "GRANT SELECT ON journal TO PUBLIC",
    ],
)
def test_an_altered_schema_is_not_used_again(
    alteration: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A test that altered its schema's catalog has it dropped, not given to the next test."""
    from tests import conftest
    from tests.conftest import migrated_engine, release, schema_exists

    monkeypatch.setattr(conftest, "_POOL", [])
    engine, schema = migrated_engine("postgres", tmp_path)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(alteration)
    finally:
        release(engine, schema)
    assert conftest._POOL == []
    assert not schema_exists(str(schema))
