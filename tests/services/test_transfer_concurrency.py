"""Two processes doing transfer steps at the same time, on PostgreSQL.

Each call runs in its own process (tests/processes.py), with its own engine and database
transaction, as two API workers or two CLI invocations would. A ``multiprocessing.Barrier``
starts them together. A second barrier, which both processes meet at chosen points, fixes
the interleaving that a real race produces only some of the time:

- ``FIRST_WRITE``: just before the call's first write (INSERT, UPDATE, DELETE) or row lock
  (SELECT … FOR UPDATE, which a write path takes first), that is, after the reads that decide
  what to write;
- ``COMMIT``: once the call has committed (or failed).

Two identical calls both meet at their first write: both have checked before either writes.
A call that must see another one's result after having read (``READ_THEN_WAIT``) meets
twice at its first write while the other (``WRITE_THEN_SIGNAL``) meets at its first write
and after its commit: the first one reads, the second one runs to its commit, then the first
one writes. If the service serialises the calls before that point (a lock taken before
reading), the waiting process never reaches the barrier, which times out and lets the other
one go on: a correct service passes either way.

A clean outcome: the database holds what the calls one after the other would have written,
and each caller gets either the transfer or a ``SuirenError`` — never an unhandled database
error.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.pool import NullPool

from suiren.domain.errors import SuirenError
from suiren.domain.month import Month
from suiren.ledger.accounts import Scheme, clearing, individual_account, pooled_entitlement
from suiren.policy import load_policy
from suiren.services.contributions import contribute
from suiren.services.transfers import (
    accept_transfer,
    approve_transfer,
    complete_transfer,
    reject_transfer,
    request_transfer,
)
from suiren.services.workers import enrol
from suiren.store.db import make_engine, unit_of_work
from suiren.store.ledger_repo import balances
from suiren.store.tables import journal, postings, transfer_events, transfers
from tests.conftest import KEYS, POSTGRES_URL, migrated_engine, release
from tests.ledger_helpers import VAULT, resident_id
from tests.processes import process_context

pytestmark = pytest.mark.postgres

POLICY = load_policy("current_law")
SCHEME = Scheme.EMPLOYEE_PENSION
LATE_2025 = datetime(2025, 12, 20, 12, 0, tzinfo=UTC)
JUNE = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
START_TIMEOUT_S = 60  # starting a process (and, at the first, importing suiren)
HOLD_TIMEOUT_S = 5  # how long a process waits for the other at the second barrier
OUTCOME_TIMEOUT_S = 90
WRITES = ("INSERT", "UPDATE", "DELETE")
LOCKS = " FOR UPDATE"
FIRST_WRITE, COMMIT = "first write", "commit"  # where a process meets the other one
TOGETHER = (FIRST_WRITE,)
READ_THEN_WAIT, WRITE_THEN_SIGNAL = (FIRST_WRITE, FIRST_WRITE), (FIRST_WRITE, COMMIT)
STEPS = {
    "request": lambda c, *args: request_transfer(c, POLICY, *args),
    "approve": approve_transfer,
    "accept": accept_transfer,
    "complete": complete_transfer,
    "reject": lambda c, transfer_id, now: reject_transfer(c, transfer_id, now, "refused"),
}


def schema_engine(schema: str) -> Engine:
    return make_engine(
        POSTGRES_URL,
        keys=KEYS,
        connect_args={"options": f"-csearch_path={schema}"},
        poolclass=NullPool,
    )


@pytest.fixture
def schema(tmp_path: Path) -> Iterator[str]:
    engine, name = migrated_engine("postgres", tmp_path)
    assert name is not None
    engine.dispose()
    yield name
    release(engine, name)


@pytest.fixture
def engine(schema: str) -> Iterator[Engine]:
    """This module's database: PostgreSQL only (overrides the two-backend fixture)."""
    engine = schema_engine(schema)
    yield engine
    engine.dispose()


def worker_paying(engine: Engine, n: int) -> str:
    """A worker insured in 440100 who paid 2025 at a base of 6000 yuan."""
    with unit_of_work(engine) as c:
        enrolment = enrol(c, POLICY, VAULT, resident_id(n), "440100", "410000", LATE_2025)
        worker_id = enrolment.worker.worker_id
        contribute(
            c,
            POLICY,
            f"p25-{n}",
            worker_id,
            Month.of(2025, 1),
            Month.of(2025, 12),
            600_000,
            LATE_2025,
        )
    return worker_id


def transfer_to(engine: Engine, transfer_id: str, worker_id: str, steps: list[str]) -> None:
    """Request a transfer of the worker to 330100 and take it through ``steps``."""
    with unit_of_work(engine) as c:
        request_transfer(c, POLICY, transfer_id, worker_id, "330100", JUNE)
    for step in steps:
        with unit_of_work(engine) as c:
            STEPS[step](c, transfer_id, JUNE)


# --- in the writer's process -----------------------------------------------------------------


def _hold_before_first_write(engine: Engine, barrier: Any, times: int) -> None:
    armed = threading.Event()
    armed.set()

    @event.listens_for(engine, "before_cursor_execute")
    def _hold(_conn, _cursor, statement: str, *_args: object) -> None:  # type: ignore[no-untyped-def]
        words = statement.lstrip().upper()
        if armed.is_set() and (words.startswith(WRITES) or LOCKS in words):
            armed.clear()
            for _ in range(times):
                _meet(barrier)


def _meet(barrier: Any) -> None:
    # broken (timed out): the other process waits for a lock this one holds, so go on
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait(HOLD_TIMEOUT_S)


def _call(
    schema: str,
    step: str,
    args: tuple[Any, ...],
    holds: tuple[str, ...],
    start: Any,
    barrier: Any,
    out: Any,
) -> None:
    """Run one service call in a unit of work; put (step, outcome...) on ``out``."""
    engine = schema_engine(schema)
    _hold_before_first_write(engine, barrier, holds.count(FIRST_WRITE))
    start.wait(START_TIMEOUT_S)
    try:
        with unit_of_work(engine) as connection:
            view = STEPS[step](connection, *args)
        outcome: tuple[Any, ...] = (step, "view", view.to_json())
    except SuirenError as exc:
        outcome = (step, "refused", exc.code, exc.message)
    except Exception as exc:  # what a caller would see: reported to the parent, not raised
        outcome = (step, "database error", type(exc).__name__, str(exc).splitlines()[0][:300])
    finally:
        for _ in range(holds.count(COMMIT)):
            _meet(barrier)
        engine.dispose()
    out.put(outcome)


# --- in the test process ---------------------------------------------------------------------


def race(
    schema: str, *calls: tuple[str, tuple[Any, ...], tuple[str, ...]]
) -> list[tuple[Any, ...]]:
    """Run each (step, arguments, meeting points) call in its own process, together."""
    context = process_context()
    start, barrier = context.Barrier(len(calls)), context.Barrier(len(calls))
    out = context.Queue()
    processes = [
        context.Process(target=_call, args=(schema, step, args, holds, start, barrier, out))
        for step, args, holds in calls
    ]
    for process in processes:
        process.start()
    outcomes = [out.get(timeout=OUTCOME_TIMEOUT_S) for _ in processes]
    for process in processes:
        process.join(OUTCOME_TIMEOUT_S)
        assert process.exitcode == 0
    return sorted(outcomes, key=repr)


def assert_clean(outcomes: list[tuple[Any, ...]]) -> None:
    kinds = [o[1] for o in outcomes]
    assert set(kinds) <= {"view", "refused"}, f"a caller got a database error: {outcomes}"
    assert "view" in kinds, outcomes


def count(engine: Engine, *where: Any) -> int:
    with unit_of_work(engine) as c:
        return int(c.execute(select(func.count()).select_from(journal).where(*where)).scalar_one())


def events(engine: Engine, transfer_id: str) -> list[str]:
    with unit_of_work(engine) as c:
        return sorted(
            c.execute(
                select(transfer_events.c.step).where(transfer_events.c.transfer_id == transfer_id)
            ).scalars()
        )


def state(engine: Engine, transfer_id: str) -> str:
    with unit_of_work(engine) as c:
        return str(
            c.execute(
                select(transfers.c.state).where(transfers.c.transfer_id == transfer_id)
            ).scalar_one()
        )


# --- requests --------------------------------------------------------------------------------


def test_identical_requests_at_once_make_one_transfer(schema, engine):
    worker_id = worker_paying(engine, 1)
    call = ("request", ("same", worker_id, "330100", JUNE), TOGETHER)
    outcomes = race(schema, call, call)
    with unit_of_work(engine) as c:
        rows = c.execute(select(transfers.c.transfer_id, transfers.c.state)).all()
    assert [tuple(r) for r in rows] == [("same", "requested")]
    assert events(engine, "same") == ["requested"]
    assert_clean(outcomes)
    views = [o[2] for o in outcomes if o[1] == "view"]
    assert all(v == views[0] for v in views), outcomes  # a replay returns the first result


def test_requests_with_two_ids_at_once_leave_one_open_transfer(schema, engine):
    """A worker has at most one open transfer, even when two clients ask at the same time."""
    worker_id = worker_paying(engine, 2)
    outcomes = race(
        schema,
        ("request", ("first", worker_id, "330100", JUNE), TOGETHER),
        ("request", ("second", worker_id, "110000", JUNE), TOGETHER),
    )
    with unit_of_work(engine) as c:
        made = c.execute(
            select(transfers.c.transfer_id).where(transfers.c.worker_id == worker_id)
        ).all()
    assert_clean(outcomes)
    assert len(made) == 1, f"two open transfers for one worker: {outcomes}"


# --- one step twice ----------------------------------------------------------------------------

DONE_BEFORE = {"approve": [], "accept": ["approve"], "complete": ["approve", "accept"]}
STEP_EVENT = {"approve": "approved", "accept": "accepted", "complete": "completed"}


@pytest.mark.parametrize("step", sorted(DONE_BEFORE))
def test_the_same_step_twice_at_once_is_done_once(schema, engine, step):
    worker_id = worker_paying(engine, 3)
    transfer_to(engine, "twice", worker_id, DONE_BEFORE[step])
    call = (step, ("twice", JUNE), TOGETHER)
    outcomes = race(schema, call, call)
    assert count(engine, journal.c.tx_id == "transfer/twice/out") == 1
    assert count(engine, journal.c.tx_id == "transfer/twice/in") == (0 if step == "approve" else 1)
    assert events(engine, "twice") == sorted(
        ["requested", *(STEP_EVENT[s] for s in [*DONE_BEFORE[step], step])]
    )
    assert state(engine, "twice") == STEP_EVENT[step]
    assert_clean(outcomes)


# --- a step and a rejection --------------------------------------------------------------------


@pytest.mark.parametrize("step", ["approve", "accept"])
def test_a_rejection_committed_while_a_step_is_checking_wins(schema, engine, step):
    """The step has read the transfer; the rejection commits before the step writes. The
    transfer stays rejected and the worker's money is back where it was, once."""
    worker_id = worker_paying(engine, 4)
    keys = {
        "account 440100": str(individual_account(worker_id, SCHEME, "440100")),
        "entitlement 440100": str(pooled_entitlement(worker_id, SCHEME, "440100")),
        "account 330100": str(individual_account(worker_id, SCHEME, "330100")),
        "entitlement 330100": str(pooled_entitlement(worker_id, SCHEME, "330100")),
        "clearing 440100": str(clearing(SCHEME, "440100")),
        "clearing 330100": str(clearing(SCHEME, "330100")),
    }
    with unit_of_work(engine) as c:
        before = balances(c, keys.values())
    transfer_to(engine, "raced", worker_id, DONE_BEFORE[step])
    outcomes = race(
        schema,
        (step, ("raced", JUNE), READ_THEN_WAIT),
        ("reject", ("raced", JUNE), WRITE_THEN_SIGNAL),
    )
    with unit_of_work(engine) as c:
        after = balances(c, keys.values())
        # interest the old region credited on approval (the years it had not yet run) stays earned
        earned = c.execute(
            select(func.coalesce(func.sum(postings.c.amount_fen), 0)).where(
                postings.c.account == keys["account 440100"], postings.c.code == "interest"
            )
        ).scalar_one()
    assert (earned > 0) == (step == "accept")  # approved before the race, or never
    found = {"state": state(engine, "raced"), **{k: after.get(v, 0) for k, v in keys.items()}}
    wanted = {"state": "rejected", **{k: before.get(v, 0) for k, v in keys.items()}}
    wanted["account 440100"] += earned
    assert found == wanted, outcomes
    assert_clean(outcomes)


def test_a_request_racing_the_completion_of_the_last_transfer_starts_where_the_worker_is(
    schema, engine
):
    """The request has read where the worker is insured (440100); the completion of their
    transfer to 330100 commits before the request writes. The new transfer must start from
    330100 (or be refused) — never quote again the months that already left 440100."""
    worker_id = worker_paying(engine, 5)
    transfer_to(engine, "first", worker_id, ["approve", "accept"])
    outcomes = race(
        schema,
        ("request", ("second", worker_id, "110000", JUNE), READ_THEN_WAIT),
        ("complete", ("first", JUNE), WRITE_THEN_SIGNAL),
    )
    with unit_of_work(engine) as c:
        made = {
            r.transfer_id: (r.from_region, r.state, r.kept_fen)
            for r in c.execute(select(transfers).where(transfers.c.worker_id == worker_id))
        }
    assert made["first"] == ("440100", "completed", 0)
    assert made.get("second", ("330100",))[0] == "330100", (made, outcomes)
    assert_clean(outcomes)
