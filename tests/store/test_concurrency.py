"""Concurrent writers on PostgreSQL: every contribution is journalled exactly once.

PostgreSQL only: it is the database with concurrent writers (SQLite takes one writer at a
time with BEGIN IMMEDIATE). Eight processes (tests/processes.py: each has its own connections)
each post 120 single-month contributions, one unit of work each, and resubmit 24 items
that belong to other processes (20% more calls, with the same request ids, racing the
owner). Writers of a region serialise on its chain-head row, so nothing should need a
retry; serialization failures and deadlocks are retried anyway, and counted.

Two races are also played out step by step: a second writer starts while the first holds
the chain head, and must end as if it had come after it (refused, not a database error).
"""

from __future__ import annotations

import queue
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Connection, Engine, create_engine, func, select, text
from sqlalchemy.exc import DBAPIError

from suiren.domain.month import Month
from suiren.ledger.accounts import Scheme, collection, individual_account, pooled_entitlement
from suiren.policy.contribution import split_contribution
from suiren.rules.vector import day_number
from suiren.services.contributions import ContributionRefused, contribute
from suiren.services.reversals import ReversalRefused, reverse
from suiren.services.workers import PEOPLE_LOCK_BUCKETS, lock_people, people_lock_buckets
from suiren.store.audit import verify
from suiren.store.db import make_engine, unit_of_work
from suiren.store.lines import paid_months
from suiren.store.tables import contribution_months, journal
from tests.conftest import KEYS, NOW, POSTGRES_URL, migrated_engine, release
from tests.ledger_helpers import POLICY, base_bounds_fen, enrol_workers
from tests.processes import process_context

PROCESSES = 8
OWN_ITEMS = 120  # per process (300 took 42–65 s of a 2-core machine: the suite's longest test)
RESUBMITTED = 24  # per process: items owned by other processes, same request ids
WORKERS_PER_REGION = 100  # 2 regions × 100 workers × 6 months = 1,200 distinct (worker, month)
MONTHS = [Month.of(2026, m) for m in range(1, 7)]
BASE_BOUNDS_FEN = {r: base_bounds_fen(r, MONTHS[0], MONTHS[-1]) for r in ("440100", "110000")}
RETRY_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected
RETRIES_MAX = 20
TIMEOUT_S = 900  # a bound, not a pause: the soak took 233 s on this machine under load


@dataclass(frozen=True)
class Item:
    request_id: str
    worker_id: str
    region: str
    month: Month
    base_fen: int


def post_items(
    schema: str, items: list[Item], now: datetime, barrier: Any, results: Any, index: int
) -> None:
    """One process: post ``items`` one unit of work each; report (tx id, replayed, due)."""
    engine = make_engine(
        POSTGRES_URL, keys=KEYS, connect_args={"options": f"-csearch_path={schema}"}
    )
    posted: list[tuple[str, bool, int, int, int]] = []
    retries = 0
    try:
        barrier.wait(timeout=TIMEOUT_S)
        for item in items:
            for attempt in range(RETRIES_MAX):
                try:
                    with unit_of_work(engine) as connection:
                        [paid] = contribute(
                            connection,
                            POLICY,
                            item.request_id,
                            item.worker_id,
                            item.month,
                            item.month,
                            item.base_fen,
                            now,
                        )
                    break
                except DBAPIError as error:
                    if getattr(error.orig, "sqlstate", None) not in RETRY_SQLSTATES:
                        raise
                    retries += 1
                    time.sleep(0.001 * 2**attempt)
            else:
                raise AssertionError(f"{item.request_id}: still failing after {RETRIES_MAX}")
            posted.append(
                (
                    paid.tx_id,
                    paid.replayed,
                    paid.due_fen,
                    paid.individual_account_fen,
                    paid.pooled_fen,
                )
            )
        results.put((index, posted, retries, None))
    except BaseException as error:  # report it to the parent instead of dying silently
        results.put((index, posted, retries, f"{type(error).__name__}: {error}"))
    finally:
        engine.dispose()


def make_items(workers: dict[str, list[str]], rng: random.Random) -> list[Item]:
    pairs = [(w, region, m) for region, ids in workers.items() for w in ids for m in MONTHS]
    rng.shuffle(pairs)
    items = []
    for k, (worker_id, region, month) in enumerate(pairs[: PROCESSES * OWN_ITEMS]):
        low, high = BASE_BOUNDS_FEN[region]
        items.append(Item(f"c-{k}", worker_id, region, month, rng.randint(low, high)))
    return items


def expected_balances(items: list[Item]) -> dict[str, int]:
    """Every account's balance after each item is posted once (split by the policy core)."""
    days = np.array([day_number(item.month.first_day()) for item in items], dtype=np.int64)
    regions = np.array([item.region for item in items])
    bases = np.array([item.base_fen for item in items], dtype=np.int64)
    split = split_contribution(POLICY, days, regions, bases)
    scheme = Scheme.EMPLOYEE_PENSION
    expected: dict[str, int] = defaultdict(int)
    for i, item in enumerate(items):
        expected[str(collection(scheme, item.region))] -= int(split.due_fen[i])
        expected[str(individual_account(item.worker_id, scheme, item.region))] += int(
            split.individual_account_fen[i]
        )
        expected[str(pooled_entitlement(item.worker_id, scheme, item.region))] += int(
            split.pooled_fen[i]
        )
    return dict(expected)


@pytest.mark.slow  # a soak: 8 processes, 1,152 calls
def test_concurrent_contributions_are_posted_exactly_once(tmp_path: Path) -> None:
    engine, schema = migrated_engine("postgres", tmp_path)
    assert schema is not None
    try:
        rng = random.Random(20260615)
        workers = {
            "440100": enrol_workers(engine, WORKERS_PER_REGION, "440100", start=0),
            "110000": enrol_workers(engine, WORKERS_PER_REGION, "110000", start=5_000),
        }
        items = make_items(workers, rng)
        plans = []
        for p in range(PROCESSES):
            own = items[p * OWN_ITEMS : (p + 1) * OWN_ITEMS]
            others = items[: p * OWN_ITEMS] + items[(p + 1) * OWN_ITEMS :]
            plan = own + rng.sample(others, RESUBMITTED)
            rng.shuffle(plan)
            plans.append(plan)
        context = process_context()
        barrier = context.Barrier(PROCESSES)
        results = context.Queue()
        processes = [
            context.Process(target=post_items, args=(schema, plan, NOW, barrier, results, p))
            for p, plan in enumerate(plans)
        ]
        for process in processes:
            process.start()
        try:
            reports = collect(results, processes)
        finally:
            for process in processes:
                process.join(timeout=TIMEOUT_S)
                if process.is_alive():
                    process.terminate()
        errors = [error for _, _, _, error in reports if error]
        assert not errors, errors
        retries = sum(r for _, _, r, _ in reports)
        assert retries == 0, f"{retries} retries: writers should serialise on the chain head"
        calls = [call for _, posted, _, _ in reports for call in posted]
        assert len(calls) == PROCESSES * (OWN_ITEMS + RESUBMITTED)
        check_exactly_once(calls, items)
        check_database(engine, items)
    finally:
        release(engine, schema)


def collect(results: Any, processes: list[Any]) -> list[tuple[int, list[Any], int, str | None]]:
    """Each process's report; fails at once if a process died without one."""
    reports = []
    deadline = time.monotonic() + TIMEOUT_S
    while len(reports) < len(processes):
        try:
            reports.append(results.get(timeout=1))
        except queue.Empty:
            dead = [p.exitcode for p in processes if p.exitcode not in (None, 0)]
            assert not dead, f"a writer process died (exit codes {dead})"
            assert time.monotonic() < deadline, f"writers still running after {TIMEOUT_S} s"
    return reports


def check_exactly_once(calls: list[tuple[str, bool, int, int, int]], items: list[Item]) -> None:
    """Each id was written by exactly one call; every call for it got the same amounts."""
    fresh = Counter(tx_id for tx_id, replayed, *_ in calls if not replayed)
    assert set(fresh) == {f"{item.request_id}/{item.month}" for item in items}
    assert set(fresh.values()) == {1}
    amounts: dict[str, set[tuple[int, int, int]]] = defaultdict(set)
    for tx_id, _, due, account, pooled in calls:
        amounts[tx_id].add((due, account, pooled))
    assert all(len(seen) == 1 for seen in amounts.values())


def check_database(engine: Any, items: list[Item]) -> None:
    with unit_of_work(engine) as c:
        batches = select(func.count()).select_from(journal).where(journal.c.code == "contribution")
        assert c.execute(batches).scalar_one() == len(items)  # one batch per call that posted
        months = select(func.count(contribution_months.c.tx_id.distinct()))
        assert c.execute(months).scalar_one() == len(items)
        assert c.execute(select(func.count()).select_from(contribution_months)).scalar_one() == len(
            items
        )
        balances = {
            r.account: int(r.balance_fen)
            for r in c.execute(text("SELECT account, balance_fen FROM accounts"))
        }
        assert balances == expected_balances(items)
        assert sum(balances.values()) == 0
        gaps = c.execute(
            text("SELECT region, COUNT(*) AS n, MAX(seq) AS last FROM journal GROUP BY region")
        ).all()
        assert all(r.n == r.last for r in gaps), gaps  # each chain numbered 1..n, no gaps
        result = verify(c)
        assert result.ok, result
        assert result.months == len(items)


# --- races played out step by step -----------------------------------------------------------

LOCK_WAIT_S = 60  # a bound, not a pause: each wait ends as soon as its condition holds
POLL_S = 0.02


def race(
    engine: Engine,
    schema: str,
    first: Callable[[Connection], object],
    second: Callable[[Connection], object],
) -> object:
    """``first`` runs in an open transaction; ``second`` starts in another and blocks on a
    lock; then ``first`` commits. Returns what ``second`` returned or raised."""
    other = make_engine(
        POSTGRES_URL, keys=KEYS, connect_args={"options": f"-csearch_path={schema}"}
    )
    outcome: list[object] = []
    backend_pid: list[int] = []
    started = threading.Event()  # the second writer has its connection (or has failed)

    def run_second() -> None:
        try:
            with unit_of_work(other) as connection:
                driver = connection.connection.driver_connection
                backend_pid.append(driver.info.backend_pid)  # psycopg: no query needed
                started.set()
                outcome.append(second(connection))
        except Exception as error:  # the outcome under test
            outcome.append(error)
        finally:
            started.set()

    thread = threading.Thread(target=run_second)
    try:
        with unit_of_work(engine) as connection:
            first(connection)
            thread.start()
            first_pid = connection.connection.driver_connection.info.backend_pid
            wait_until_blocked(first_pid, thread, started, backend_pid, outcome)
    finally:  # committed, or rolled back: either way the second writer can finish
        if thread.is_alive():
            thread.join(timeout=LOCK_WAIT_S)
        other.dispose()
    assert not thread.is_alive(), "the second writer did not finish"
    [result] = outcome
    return result


def wait_until_blocked(
    first_pid: int,
    thread: threading.Thread,
    started: threading.Event,
    backend_pid: list[int],
    outcome: list[object],
) -> None:
    """Return once the second writer's backend waits for a lock the first one holds (polled:
    ``pg_blocking_pids``); fail at once if it finishes instead, after ``LOCK_WAIT_S`` if it
    does neither."""
    deadline = time.monotonic() + LOCK_WAIT_S
    assert started.wait(LOCK_WAIT_S), "the second writer did not start"
    assert backend_pid, f"the second writer failed before its transaction: {outcome!r}"
    [pid] = backend_pid
    # autocommit: each poll is its own transaction (a snapshot of pg_stat_activity, for one,
    # would otherwise stay what the first poll saw for the rest of the transaction)
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            while time.monotonic() < deadline:
                assert thread.is_alive(), f"the second writer did not wait: {outcome!r}"
                waiting = connection.execute(
                    text("SELECT CAST(:first AS integer) = ANY(pg_blocking_pids(:pid))"),
                    {"first": first_pid, "pid": pid},
                ).scalar_one()
                if waiting:
                    return
                time.sleep(POLL_S)
    finally:
        admin.dispose()
    raise AssertionError(f"the second writer never waited for the first's lock ({LOCK_WAIT_S} s)")


@pytest.fixture
def pg(tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    """A migrated PostgreSQL schema (the shared ``engine`` fixture would also run SQLite)."""
    engine, schema = migrated_engine("postgres", tmp_path)
    assert schema is not None
    yield engine, schema
    release(engine, schema)


def test_locking_a_file_of_people_holds_a_bounded_number_of_locks(pg: tuple[Engine, str]) -> None:
    """A workers file's chunk locks its people (``lock_people``) in at most
    ``PEOPLE_LOCK_BUCKETS`` advisory locks: one a person filled PostgreSQL's shared lock table
    at a few thousand people ("out of shared memory", the whole chunk refused)."""
    engine, _ = pg
    indexes = [f"index-{n}" for n in range(20_000)]
    with unit_of_work(engine) as c:
        lock_people(c, indexes)
        held = c.execute(
            text(
                "SELECT count(*) FROM pg_locks"
                " WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
            )
        ).scalar_one()
    assert 0 < held <= PEOPLE_LOCK_BUCKETS
    # a person is the same lock whatever batch names them
    assert set(people_lock_buckets(indexes[:1])) <= set(people_lock_buckets(indexes[:5]))


def test_racing_payments_of_one_month_pay_it_once(pg: tuple[Engine, str]) -> None:
    engine, schema = pg
    [worker] = enrol_workers(engine, 1)
    january = Month.of(2026, 1)

    def pay(request_id: str) -> Callable[[Connection], object]:
        return lambda c: contribute(c, POLICY, request_id, worker, january, january, 600_000, NOW)

    outcome = race(engine, schema, pay("pay-a"), pay("pay-b"))
    assert isinstance(outcome, ContributionRefused), outcome
    assert "already paid" in outcome.message
    with unit_of_work(engine) as c:
        assert [r.tx_id for r in paid_months(c, worker, "employee_pension")] == ["pay-a/2026-01"]
        assert verify(c).ok


def test_racing_reversals_of_one_transaction_reverse_it_once(pg: tuple[Engine, str]) -> None:
    """The second reversal waits for the first and is then refused, as it would be after it."""
    engine, schema = pg
    [worker] = enrol_workers(engine, 1)
    with unit_of_work(engine) as c:
        contribute(c, POLICY, "pay-1", worker, Month.of(2026, 1), Month.of(2026, 1), 600_000, NOW)
    outcome = race(
        engine,
        schema,
        lambda c: reverse(c, "pay-1/2026-01", "rev-a", NOW),
        lambda c: reverse(c, "pay-1/2026-01", "rev-b", NOW),
    )
    assert isinstance(outcome, ReversalRefused), repr(outcome)
    assert "already been reversed" in outcome.message
    with unit_of_work(engine) as c:
        reversals = c.execute(
            select(journal.c.tx_id).where(journal.c.reverses == "pay-1/2026-01")
        ).scalars()
        assert list(reversals) == ["rev-a"]
        assert verify(c).ok


def test_a_large_balance_update_adds_to_an_account_created_meanwhile(
    pg: tuple[Engine, str],
) -> None:
    """The large balance update inserts its new accounts plainly (no arbiter check per row):
    an account another writer creates meanwhile makes that insert fail, and the update is then
    made again adding to it — every delta counted once, no error."""
    import pyarrow as pa

    from suiren.store.ledger_repo import LOOKUP_CHUNK, add_to_balances
    from suiren.store.tables import accounts

    engine, schema = pg
    keys = [
        f"worker:W{n:012d}:employee_pension:individual_account:440100"
        for n in range(LOOKUP_CHUNK + 10)
    ]

    def deltas(names: list[str], fen: int) -> pa.Table:
        return pa.table({"account": names, "balance_fen": pa.array([fen] * len(names), pa.int64())})

    with unit_of_work(engine):
        pass  # the ledger's key recorded (its first writer would hold the second one up)
    outcome = race(
        engine,
        schema,
        lambda c: add_to_balances(c, deltas(keys[-1:], 5)),  # creates the last account
        lambda c: add_to_balances(c, deltas(keys, 7)),  # waits for it, then adds to it
    )
    assert outcome is None, outcome
    with unit_of_work(engine) as c:
        found = dict(c.execute(select(accounts.c.account, accounts.c.balance_fen)).all())
    assert found == {**dict.fromkeys(keys, 7), keys[-1]: 12}
