"""A file command's unit of work given up by the database for another writer (a deadlock, a
serialisation failure) is run again, as one refused as stale is; any other error is not."""

from __future__ import annotations

from pathlib import Path

import psycopg.errors
import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from suiren.cli.context import ATTEMPTS_MAX, Context
from suiren.domain.errors import InvalidInput
from suiren.store.migrate import upgrade


def given_up(kind: type[Exception]) -> OperationalError:
    return OperationalError("UPDATE chain_heads …", {}, kind("given up"))


@pytest.fixture
def context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Context:
    monkeypatch.setenv("SUIREN_DATABASE_URL", f"sqlite:///{tmp_path / 'suiren.db'}")
    ctx = Context.build()
    upgrade(ctx.engine)
    return ctx


@pytest.mark.parametrize(
    "kind", [psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure]
)
def test_a_unit_of_work_given_up_for_another_writer_is_run_again(
    context: Context, kind: type[Exception]
) -> None:
    tries: list[int] = []

    def work(connection: Connection) -> int:
        tries.append(1)
        connection.execute(text("CREATE TABLE IF NOT EXISTS t (n INTEGER)"))
        connection.execute(text("INSERT INTO t VALUES (:n)"), {"n": len(tries)})
        if len(tries) < ATTEMPTS_MAX:
            raise given_up(kind)  # the attempt's row is rolled back with it
        return int(connection.execute(text("SELECT count(*) FROM t")).scalar_one())

    assert context.run(work) == 1 and len(tries) == ATTEMPTS_MAX
    with context.engine.connect() as c:
        assert c.execute(text("SELECT n FROM t")).scalars().all() == [ATTEMPTS_MAX]


def test_a_unit_given_up_every_time_or_refused_otherwise_is_not_run_again(
    context: Context,
) -> None:
    tries: list[int] = []

    def always(connection: Connection) -> None:
        tries.append(1)
        raise given_up(psycopg.errors.DeadlockDetected)

    with pytest.raises(OperationalError):
        context.run(always)
    assert len(tries) == ATTEMPTS_MAX
    for error in (given_up(psycopg.errors.UniqueViolation), InvalidInput("bad")):
        tries.clear()

        def refused(connection: Connection, error: Exception = error) -> None:
            tries.append(1)
            raise error

        with pytest.raises(type(error)):
            context.run(refused)
        assert len(tries) == 1
