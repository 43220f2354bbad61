"""The requests of the simulation (tests/simulation/world.py), chosen from its seed.

Each maker returns an ``Op`` — a request with its ids and arguments fixed — or None when it
has nothing to act on yet: enrol a person (new, or again), pay months (one worker, or a
batch of several, bases sometimes out of bounds), reverse a month or any other journal
entry, request a transfer under either scenario (employee pension, or employee medical
for a worker enrolled in it), its next step (or one out of order),
reject, expire, close a settlement window, credit a year's interest, gather at retirement.
``contenders`` picks two that conflict, for a race: a step of an open transfer, and a
payment or a reversal of its worker.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import Connection, Engine, select

from suiren.domain.errors import SuirenError
from suiren.domain.month import Month
from suiren.ledger.accounts import Scheme
from suiren.policy import load_policy
from suiren.policy.contribution import contribution_bounds
from suiren.rules.vector import day_number
from suiren.services.contributions import POSTED, ContributionRows, contribute, post_batch
from suiren.services.gathering import gather_for_retirement
from suiren.services.interest import credit_interest
from suiren.services.reversals import reverse
from suiren.services.settlement import close_window
from suiren.services.transfer_quotes import Kind, quote_for
from suiren.services.transfers import (
    accept_transfer,
    approve_transfer,
    complete_transfer,
    expire_overdue,
    get_transfer,
    reject_transfer,
    request_transfer,
)
from suiren.services.workers import enrol
from suiren.store.db import unit_of_work
from suiren.store.tables import journal
from tests.ledger_helpers import VAULT, resident_id

POLICIES = {name: load_policy(name) for name in ("current_law", "money_follows_person")}
POLICY = POLICIES["current_law"]
REGIONS = ("440100", "330100", "110000", "410100")  # Guangzhou, Hangzhou, Beijing, Zhengzhou
HUKOU = ("440000", "330000", "110000", "410000")
START = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)
NEXT_STEP = {"requested": "approve", "approved": "accept", "accepted": "complete"}
PENSION, MEDICAL = Scheme.EMPLOYEE_PENSION, Scheme.EMPLOYEE_MEDICAL
MEDICAL_SHARE = 0.4  # of enrolments (of enrolled workers), payments and transfers


@dataclass
class Person:
    n: int
    resident_id: str
    hukou: str
    born: date
    worker_id: str | None = None


@dataclass(frozen=True)
class Op:
    """A request: ``call`` does it in the caller's unit of work; ``after`` learns from its
    result (ids to pick from later)."""

    name: str
    call: Callable[[Connection], Any]
    after: Callable[[Any], None] = lambda result: None


@lru_cache(maxsize=512)
def base_bounds_fen(region: str, month: int) -> tuple[int, int]:
    """The month's floor and ceiling of the base in ``region`` (as ``post_batch`` checks)."""
    days = np.array([day_number(Month(month).first_day())], dtype=np.int64)
    bounds = contribution_bounds(POLICY, days, np.array([region], dtype="<U6"))
    return int(bounds.floor_fen[0]), int(bounds.ceiling_fen[0])


class Requests:
    """What the simulation knows to choose from (kept by ``Simulation``), and the makers."""

    engine: Engine
    rng: random.Random
    now: datetime
    racing: bool  # the step's requests race (a quote read first may be stale)
    persons: list[Person]
    transfer_ids: list[str]
    months: list[str]  # contribution month tx ids, in the order paid
    paid_by: dict[str, str]  # contribution month -> worker
    regions: dict[tuple[str, str], str]  # (worker, scheme) -> region, as of the last step
    states: dict[str, str]  # transfer -> state, as of the last step
    movers: dict[str, str]  # transfer -> worker
    serial: int

    def choose(self) -> Op:
        makers: list[tuple[int, Callable[[], Op | None]]] = [
            (10 if len(self.persons) < 4 else 5, self.enrol),
            (25, self.pay),
            (5, self.pay_batch),
            (8, self.reverse_month),
            (4, self.reverse_other),
            (8, self.request),
            (16, self.step),
            (3, self.reject),
            (1, self.expire),
            (4, self.close),
            (3, self.interest),
            (2, self.gather),
        ]
        while True:
            [make] = self.rng.choices([m for _, m in makers], [w for w, _ in makers])
            op = make()
            if op is not None:
                return op

    def next_id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}-{self.serial}"

    def enrolled(self) -> list[Person]:
        return [p for p in self.persons if p.worker_id is not None]

    def worker(self) -> Person | None:
        people = self.enrolled()
        return self.rng.choice(people) if people else None

    def enrol(self) -> Op:
        if self.persons and self.rng.random() < 0.2:
            person = self.rng.choice(self.persons)  # again: the same worker, or a refusal
        else:
            n = len(self.persons)
            male = self.rng.random() < 0.5
            age = self.rng.randint(22, 57 if male else 47)
            born = date(START.year - age, self.rng.randint(1, 12), 1)
            rid = resident_id(n, born.strftime("%Y%m%d"), male)
            person = Person(n, rid, self.rng.choice(HUKOU), born)
            self.persons.append(person)
        region, now, scheme = self.rng.choice(REGIONS), self.now, PENSION
        if person.worker_id is not None and self.rng.random() < MEDICAL_SHARE:
            scheme = MEDICAL  # where the pension is, mostly
            region = self.regions.get((person.worker_id, PENSION.value), region)

        def after(result: Any) -> None:
            person.worker_id = result.worker.worker_id

        return Op(
            f"enrol {person.n} in {region} ({scheme.value})",
            lambda c: enrol(
                c, POLICY, VAULT, person.resident_id, region, person.hukou, now, scheme
            ),
            after,
        )

    def region_of(self, worker_id: str, scheme: Scheme = Scheme.EMPLOYEE_PENSION) -> str:
        return self.regions[(worker_id, scheme.value)]

    def scheme_of(self, worker_id: str) -> Scheme:
        """Employee medical now and then, for a worker enrolled in it; else the pension."""
        if (worker_id, MEDICAL.value) in self.regions and self.rng.random() < MEDICAL_SHARE:
            return MEDICAL
        return PENSION

    def base_fen(self, region: str, month: Month) -> int:
        low, high = base_bounds_fen(region, month.ordinal)
        if self.rng.random() < 0.05:
            return high + 100  # out of bounds: refused
        return self.rng.choice((low, high, self.rng.randint(low, high)))

    def months_to_pay(self) -> tuple[Month, Month]:
        current = Month.from_date(self.now.date())
        first = Month.of(current.year, self.rng.randint(1, current.month))
        return first, Month(min(current.ordinal, first.ordinal + self.rng.randint(0, 2)))

    def pay(self, person: Person | None = None, fresh: bool = False) -> Op | None:
        """A worker's months (with ``fresh``, the current month: likely not paid yet)."""
        person = person or self.worker()
        if person is None:
            return None
        worker_id, (first, last) = person.worker_id, self.months_to_pay()
        if fresh:
            first = last = Month.from_date(self.now.date())
        assert worker_id is not None
        scheme = PENSION if fresh else self.scheme_of(worker_id)
        base = self.base_fen(self.region_of(worker_id, scheme), first)
        request_id, now = self.next_id("pay"), self.now
        return Op(
            f"pay {request_id} {person.n} {first}..{last} ({scheme.value})",
            lambda c: contribute(c, POLICY, request_id, worker_id, first, last, base, now, scheme),
            lambda paid: self.learn([(p.tx_id, worker_id) for p in paid]),
        )

    def pay_batch(self) -> Op | None:
        """Several workers' months at once; the rows that can be taken are taken."""
        people = self.enrolled()
        if not people:
            return None
        rows = []
        for _ in range(self.rng.randint(2, 5)):
            person = self.rng.choice(people)
            first, _ = self.months_to_pay()
            assert person.worker_id is not None
            base = self.base_fen(self.region_of(person.worker_id), first)
            rows.append((f"{self.next_id('batch')}/{first}", person.worker_id, first.ordinal, base))
        columns = ContributionRows(
            tx_ids=pa.array([r[0] for r in rows]),
            worker_ids=pa.array([r[1] for r in rows]),
            months=np.array([r[2] for r in rows], dtype=np.int64),
            base_fen=np.array([r[3] for r in rows], dtype=np.int64),
        )
        now = self.now

        def after(outcome: Any) -> None:
            self.learn(
                [
                    (r[0], r[1])
                    for r, s in zip(rows, outcome.status.tolist(), strict=True)
                    if s == POSTED
                ]
            )

        return Op(
            f"pay a batch of {len(rows)}", lambda c: post_batch(c, POLICY, columns, now), after
        )

    def learn(self, months: list[tuple[str, str]]) -> None:
        for tx_id, worker_id in months:
            self.months.append(tx_id)
            self.paid_by[tx_id] = worker_id

    def reverse_month(self, worker_id: str | None = None) -> Op | None:
        months = [m for m in self.months if worker_id in (None, self.paid_by[m])]
        if not months:
            return None
        tx_id, reversal_id, now = self.rng.choice(months), self.next_id("rev"), self.now
        return Op(f"reverse {tx_id}", lambda c: reverse(c, tx_id, reversal_id, now))

    def reverse_other(self) -> Op | None:
        """Any other journal entry — a transfer step, a settlement, interest, an enrolment, a
        hukou part, a reversal: a user may reverse none of them. A kind first, then an entry
        of it, so that rare kinds (interest) are tried as often as common ones."""
        with unit_of_work(self.engine) as connection:
            entries = connection.execute(
                select(journal.c.code, journal.c.tx_id)
                .where(journal.c.months == 0)
                .order_by(journal.c.region, journal.c.seq)
            ).all()
        if not entries:
            return None
        code = self.rng.choice(sorted({e.code for e in entries}))
        tx_id = self.rng.choice([e.tx_id for e in entries if e.code == code])
        reversal_id, now = self.next_id("rev"), self.now
        return Op(f"reverse {tx_id}", lambda c: reverse(c, tx_id, reversal_id, now))

    def request(self) -> Op | None:
        person = self.worker()
        if person is None:
            return None
        worker_id, to_region = person.worker_id, self.rng.choice(REGIONS)
        assert worker_id is not None
        scenario, transfer_id, now = self.rng.choice(sorted(POLICIES)), self.next_id("t"), self.now
        scheme = self.scheme_of(worker_id)
        return Op(
            f"request {transfer_id} ({scenario}, {scheme.value}) {person.n} to {to_region}",
            lambda c: request_transfer(
                c, POLICIES[scenario], transfer_id, worker_id, to_region, now, scheme
            ),
            lambda view: self.transfer_ids.append(transfer_id),
        )

    def step(self) -> Op | None:
        """The next step of a transfer (or, now and then, any step: out of order is refused)."""
        if not self.transfer_ids:
            return None
        transfer_id = self.rng.choice(self.transfer_ids)
        name = NEXT_STEP.get(self.states.get(transfer_id, "requested"), "approve")
        if self.rng.random() < 0.1:
            name = self.rng.choice(("approve", "accept", "complete"))
        return self.step_op(transfer_id, name)

    def step_op(self, transfer_id: str, name: str) -> Op:
        now = self.now
        if name == "approve":
            check = not self.racing
            return Op(
                f"approve {transfer_id}", lambda c: approve_as_quoted(c, transfer_id, now, check)
            )
        call = accept_transfer if name == "accept" else complete_transfer
        return Op(f"{name} {transfer_id}", lambda c: call(c, transfer_id, now))

    def contenders(self) -> tuple[Op, Op] | None:
        """A step of an open transfer, and a payment or a reversal of a month of its worker."""
        open_ones = [t for t in self.transfer_ids if self.states.get(t) in NEXT_STEP]
        if not open_ones:
            return None
        accepted = [t for t in open_ones if self.states[t] == "accepted"]
        if accepted and self.rng.random() < 0.5:  # a payment racing the move's completion
            open_ones = accepted
        transfer_id = self.rng.choice(open_ones)
        worker_id = self.movers[transfer_id]
        [person] = [p for p in self.persons if p.worker_id == worker_id]
        first = self.step_op(transfer_id, NEXT_STEP[self.states[transfer_id]])
        second = self.reverse_month(worker_id) if self.rng.random() < 0.3 else None
        second = second or self.pay(person, fresh=True)
        assert second is not None
        return first, second

    def reject(self) -> Op | None:
        if not self.transfer_ids:
            return None
        transfer_id, now = self.rng.choice(self.transfer_ids), self.now
        return Op(f"reject {transfer_id}", lambda c: reject_transfer(c, transfer_id, now, "sim"))

    def expire(self) -> Op:
        now = self.now
        return Op("expire overdue transfers", lambda c: expire_overdue(c, now))

    def close(self) -> Op:
        window, now = self.now.date() - timedelta(days=self.rng.randint(1, 6)), self.now
        return Op(f"close window {window}", lambda c: close_window(c, window, now))

    def interest(self) -> Op:
        year, now = self.rng.randint(START.year, self.now.year), self.now  # this year: refused
        return Op(f"credit interest {year}", lambda c: credit_interest(c, POLICY, year, now))

    def gather(self) -> Op | None:
        people = sorted(self.enrolled(), key=lambda p: p.born)[:3]  # the oldest
        if not people:
            return None
        person = self.rng.choice(people)
        worker_id, gather_id, now = person.worker_id, self.next_id("g"), self.now
        assert worker_id is not None
        return Op(
            f"gather {gather_id} {person.n}",
            lambda c: gather_for_retirement(c, POLICY, gather_id, worker_id, now),
            lambda views: self.transfer_ids.extend(v.transfer_id for v in views),
        )


def approve_as_quoted(connection: Connection, transfer_id: str, now: datetime, check: bool) -> Any:
    """Approve, and check that what moved is what the rules quote (policy/transfer.py via
    services/transfer_quotes.py) read in the same transaction just before: the pooled part,
    what stays and the reform's interest exactly; the account with any interest credited on
    the way out (``interest.catch_up``)."""
    view = get_transfer(connection, transfer_id)
    quote = None
    if check and view.state == "requested" and view.kind != Kind.CONTINUE.value:
        try:
            quote = quote_for(
                connection,
                POLICIES[view.scenario],
                view.worker_id,
                view.from_region,
                view.to_region,
                now.date(),
                Scheme(view.scheme),
                Kind(view.kind),
            )
        except SuirenError:
            quote = None
    done = approve_transfer(connection, transfer_id, now)
    if quote is not None and not quote.temporary and done.state == "approved":
        got = (done.pooled_fen, done.kept_fen, done.interest_fen)
        assert got == (quote.pooled_fen, quote.kept_fen, quote.interest_fen), (
            transfer_id,
            got,
            quote,
        )
        assert done.account_fen >= quote.account_fen, (transfer_id, done, quote)
    return done
