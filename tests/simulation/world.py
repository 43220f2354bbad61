"""The whole ledger, simulated from a seed (TigerBeetle's VOPR is the model).

One ``random.Random(seed)`` decides everything: which person enrols where, who pays which
months at which base (sometimes out of bounds, sometimes a batch of several workers), which
month (or other journal entry) someone tries to reverse, which transfers are asked for under
which scenario and how far they get (approve, accept, complete, reject, expire, steps out of
order), which settlement windows close, which years' interest is credited, who gathers at
retirement, and how far the clock moves (``now`` is passed to every service, as tests do).
Onto the steps it injects faults:

- ``retry``: the request is sent again with the same ids — it must return without writing;
- ``lost commit``: the request committed but its answer was lost, and the client retries —
  the same check, the client taking the second answer;
- ``kill``: the process dies after a random number of SQL statements of the request, or just
  before its commit (an exception inside the unit of work): nothing may be written; the
  client then sends the request again, which must then do it as a first;
- ``race``: two requests decided from the same state. On PostgreSQL the second one runs up
  to its first write or lock (its reads done) on one connection, the first one runs to its
  commit on another, then the second one goes on — in one thread, so the interleaving is the
  same every time. SQLite has one writer (``BEGIN IMMEDIATE``) and cannot interleave inside
  a transaction: the two run one after the other, both decided before either ran.

After every step every invariant of ``tests.ledger_helpers.assert_ledger_sound`` is checked
(the audit itself every ``audit_every`` steps and at the end). A request refused with a
``SuirenError`` is a valid outcome and must write nothing; any other exception is a defect.

Worker ids are random (``secrets``), the only thing a seed does not fix; the simulation
never orders by them, so a seed replays the same steps and outcomes.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Engine, event, func, select

from suiren.domain.errors import SuirenError
from suiren.store.db import unit_of_work
from suiren.store.tables import (
    contribution_months,
    enrolments,
    facts,
    journal,
    postings,
    transfers,
)
from tests.conftest import without_fsync
from tests.ledger_helpers import assert_ledger_sound
from tests.simulation.requests import START, Op, Person, Requests

DAYS = (0, 0, 1, 1, 2, 3, 5, 7, 10, 14)  # how far the clock moves before a step
FAULTS = {"retry": 0.06, "lost commit": 0.04, "kill": 0.06, "race": 0.06}
RACE_POSTGRES = 0.15  # races are real on PostgreSQL: more of them there
KILL_STATEMENTS_MAX = 40
TABLES = (journal, postings, contribution_months, facts)
WRITES = ("INSERT", "UPDATE", "DELETE")


class Killed(Exception):
    """The process died here (an injected fault)."""


def row_counts(connection: Connection) -> tuple[int, ...]:
    counts = [select(func.count()).select_from(t).scalar_subquery() for t in TABLES]
    return tuple(connection.execute(select(*counts)).one())


class Simulation(Requests):
    """The loop: a request (or two racing) per step, its fault, then every invariant."""

    def __init__(self, engine: Engine, seed: int, audit_every: int = 50) -> None:
        self.engine, self.seed, self.audit_every = engine, seed, audit_every
        self.rng = random.Random(seed)
        self.postgres = engine.dialect.name == "postgresql"
        without_fsync(engine)  # SQLite: a "kill" here is a rollback, not a power cut
        self.now = START
        self.persons: list[Person] = []
        self.transfer_ids: list[str] = []
        self.months: list[str] = []  # contribution month tx ids, in the order paid
        self.serial = 0
        self.log: list[str] = []  # one line per step, for a failing seed's message
        self.outcomes: Counter[str] = Counter()
        self.faults = {**FAULTS, "race": RACE_POSTGRES} if self.postgres else FAULTS
        self.racing = False  # the step's requests race (a quote read first may be stale)
        self.regions: dict[tuple[str, str], str] = {}  # (worker, scheme) -> region
        self.states: dict[str, str] = {}  # transfer -> state, as of the last step
        self.movers: dict[str, str] = {}  # transfer -> worker
        self.paid_by: dict[str, str] = {}  # contribution month -> worker
        self.written: tuple[int, ...] = ()  # row counts after the last step

    # --- the loop ---------------------------------------------------------------------------

    def run(self, steps: int) -> None:
        self.look(audit=False)
        for step in range(steps):
            self.now += timedelta(days=self.rng.choice(DAYS))
            roll, fault = self.rng.random(), None
            for name, p in self.faults.items():
                if roll < p:
                    fault = name
                    break
                roll -= p
            self.racing = fault == "race"
            op = self.choose()
            if fault == "race":
                pair = self.contenders() if self.rng.random() < 0.6 else None
                first, second = pair or (op, self.choose())
                self.log.append(f"{step} {self.now:%Y-%m-%d} race: {first.name} | {second.name}")
                self.race(first, second)
            else:
                self.log.append(
                    f"{step} {self.now:%Y-%m-%d} {op.name}" + (f" [{fault}]" if fault else "")
                )
                self.perform(op, fault)
            self.look(audit=(step + 1) % self.audit_every == 0)
        self.look(audit=True)

    def look(self, audit: bool) -> tuple[int, ...]:
        """Check every invariant (the audit too if ``audit``) and read what the next requests
        are chosen from, in one unit of work; the row counts, to tell whether a step wrote."""
        with unit_of_work(self.engine) as connection:
            assert_ledger_sound(connection, audit=audit)
            enrolled = select(enrolments.c.worker_id, enrolments.c.scheme, enrolments.c.region)
            self.regions = {(r.worker_id, r.scheme): r.region for r in connection.execute(enrolled)}
            rows = connection.execute(
                select(transfers.c.transfer_id, transfers.c.state, transfers.c.worker_id)
            ).all()
            self.states = {r.transfer_id: r.state for r in rows}
            self.movers = {r.transfer_id: r.worker_id for r in rows}
            self.written = row_counts(connection)
        return self.written

    def perform(self, op: Op, fault: str | None) -> None:
        if fault == "kill":
            self.kill(op)  # the client then sends it again:
        before = self.written
        outcome = self.attempt(op)
        if isinstance(outcome, SuirenError):
            assert self.counts() == before, f"{op.name} was refused ({outcome}) but wrote"
            return
        if fault in ("retry", "lost commit"):
            written = self.counts()
            again = self.attempt(op)
            assert not isinstance(again, SuirenError), f"replaying {op.name} was refused: {again}"
            assert self.counts() == written, f"replaying {op.name} wrote again"
            if fault == "lost commit":
                outcome = again
        op.after(outcome)

    def attempt(self, op: Op) -> Any:
        """``op`` in its own unit of work: its result, or the ``SuirenError`` refusing it."""
        try:
            with unit_of_work(self.engine) as connection:
                result = op.call(connection)
        except SuirenError as refused:
            self.outcomes[f"{op.name.split()[0]}: {type(refused).__name__}"] += 1
            return refused
        self.outcomes[f"{op.name.split()[0]}: done"] += 1
        return result

    def counts(self) -> tuple[int, ...]:
        with unit_of_work(self.engine) as connection:
            return row_counts(connection)

    def kill(self, op: Op) -> None:
        """The process dies after ``limit`` statements of ``op``, or just before its commit."""
        limit, seen = self.rng.randint(1, KILL_STATEMENTS_MAX), [0]

        def die(*_: Any) -> None:
            seen[0] += 1
            if seen[0] > limit:
                raise Killed(f"after {limit} statements")

        before = self.written
        event.listen(self.engine, "before_cursor_execute", die)
        try:
            with unit_of_work(self.engine) as connection:
                op.call(connection)
                raise Killed("before the commit")
        except (Killed, SuirenError):
            pass
        finally:
            event.remove(self.engine, "before_cursor_execute", die)
        assert self.counts() == before, f"{op.name} killed mid-way left rows behind"
        self.outcomes["killed"] += 1

    def race(self, first: Op, second: Op) -> None:
        """``second`` decided and reading, ``first`` committed, then ``second`` writing."""
        if not self.postgres:
            self.perform(first, None)
            self.written = self.counts()
            self.perform(second, None)
            return
        state: dict[str, Any] = {"armed": True}

        def interleave(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            head = statement.lstrip().upper()
            if state["armed"] and (
                head.startswith(WRITES) or "FOR UPDATE" in head or "PG_ADVISORY" in head
            ):
                state["armed"] = False
                state["first"] = self.attempt(first)

        event.listen(self.engine, "before_cursor_execute", interleave)
        try:
            outcome = self.attempt(second)
        finally:
            event.remove(self.engine, "before_cursor_execute", interleave)
        if "first" in state:
            self.outcomes["interleaved"] += 1
        else:  # refused before it wrote anything
            state["first"] = self.attempt(first)
        for op, result in ((first, state["first"]), (second, outcome)):
            if not isinstance(result, SuirenError):
                op.after(result)
        self.outcomes["raced"] += 1
