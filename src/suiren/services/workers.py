"""Enrolment (参保登记) of flexible workers in the region where they work.

One person is one worker: a worker is found again by the blind index of their resident id
(a keyed HMAC, services/identity.py), so enrolling twice returns the same worker. Two
enrolments of one person at the same moment are serialised by a lock on that person (a
transaction-level advisory lock keyed by the blind index on PostgreSQL; SQLite has one
writer), so both return the same worker. The registration is recorded as facts (the
``workers`` row and the ``enrolments`` row, version 1) in the journal entry
``enrol/{worker_id}/{scheme}`` of the work region; a transfer's completion records the next
version of the enrolment.

A first enrolment needs working age: at least ``enrolment.age_min_years`` (劳动法 第十五条)
and below the worker's statutory retirement age (a worker who reaches it short of the
minimum years continues an existing enrolment). Whether the hukou must be in the region is a
parameter (``enrolment.hukou_required``): the reform, and current law since
人社部发〔2021〕56号, let a flexible worker enrol where they work.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from sqlalchemy import Column, Connection, MetaData, String, Table, bindparam, select, text

from suiren.domain.errors import InvalidInput, SuirenError
from suiren.domain.messages import Text
from suiren.domain.messages import text as message  # sqlalchemy's text is the SQL one
from suiren.domain.month import Month
from suiren.domain.region import RegionCode
from suiren.domain.resident_id import ResidentId
from suiren.ledger import transaction as ledger_transaction
from suiren.ledger.accounts import Scheme
from suiren.ledger.transaction import Fact, Transaction, TxCode
from suiren.policy import Policy
from suiren.policy.retirement import category_index, retirement_rule, statutory_retirement
from suiren.policy.transfer import temporary_account
from suiren.services.identity import IdentityVault
from suiren.store.bulk import fill_keys
from suiren.store.db import is_postgres
from suiren.store.ledger_repo import lock_chain_heads, post_transactions
from suiren.store.projections import fact
from suiren.store.tables import enrolments, workers

ENROLLABLE = (Scheme.EMPLOYEE_PENSION, Scheme.EMPLOYEE_MEDICAL)
LOOKUP_CHUNK = 500


class UnknownWorker(SuirenError):
    code = "unknown-worker"


class EnrolmentRefused(SuirenError):
    code = "enrolment-refused"


class EnrolledElsewhere(EnrolmentRefused):
    """The person is enrolled in the scheme in another region: moving is a transfer."""

    code = "enrolled-elsewhere"


@dataclass(frozen=True)
class Worker:
    worker_id: str
    masked_id: str
    sex: str
    birth_month: Month
    hukou_region: str
    work_region: str


@dataclass(frozen=True)
class Enrolment:
    worker: Worker
    scheme: Scheme
    region: str
    start_month: Month
    created: bool
    temporary: bool = False  # paying into a temporary account (临时账户)


def _worker(row: Any) -> Worker:
    return Worker(
        row.worker_id,
        row.masked_id,
        row.sex,
        Month(row.birth_month),
        row.hukou_region,
        row.work_region,
    )


_WORKER_BY_ID = select(workers).where(workers.c.worker_id == bindparam("worker_id"))  # built once


def get_worker(connection: Connection, worker_id: str) -> Worker:
    row = connection.execute(_WORKER_BY_ID, {"worker_id": worker_id}).first()
    if row is None:
        raise UnknownWorker(message("worker.unknown", shown=repr(str(worker_id)[:40])))
    return _worker(row)


def check_working_age(policy: Policy, sex: str, birth_month: Month, day: date) -> None:
    """A first enrolment needs working age (see module doc)."""
    age_months = Month.from_date(day) - birth_month
    youngest = int(policy.national(day).value("enrolment.age_min_years"))
    if age_months < youngest * 12:
        raise EnrolmentRefused(
            message("enrol.too-young", youngest=youngest, age=age_months // 12),
            field="resident_id",  # the age is the id's birth date
        )
    category = np.array([category_index(sex, None, policy, day)], dtype=np.int64)
    birth = np.array([birth_month.ordinal], dtype=np.int64)
    _, _, reach = statutory_retirement(retirement_rule(policy, day), birth, category)
    if Month.from_date(day).ordinal >= int(reach[0]):
        raise EnrolmentRefused(
            message("enrol.past-retirement-age", month=Month(int(reach[0]))),
            field="resident_id",
        )


@dataclass(frozen=True)
class EnrolRequest:
    resident_id: str
    work_region: str
    hukou_region: str | None = None


def enrol(
    connection: Connection,
    policy: Policy,
    vault: IdentityVault,
    resident_id: str,
    work_region: str,
    hukou_region: str | None,
    today: datetime,
    scheme: Scheme = Scheme.EMPLOYEE_PENSION,
) -> Enrolment:
    """Register the worker (if new) and enrol them in ``scheme`` where they work."""
    [result] = enrol_many(
        connection,
        policy,
        vault,
        [EnrolRequest(resident_id, work_region, hukou_region)],
        today,
        scheme,
    )
    if isinstance(result, SuirenError):
        raise result
    return result


def enrol_many(
    connection: Connection,
    policy: Policy,
    vault: IdentityVault,
    requests: list[EnrolRequest],
    today: datetime,
    scheme: Scheme = Scheme.EMPLOYEE_PENSION,
) -> list[Enrolment | SuirenError]:
    """Enrol many people at once (a workers file): each row's enrolment, or why it was refused.

    The people are locked first (each by their blind index, in one order), so that two files
    or a file and a single enrolment naming one person give one worker. Facts go in one
    journal entry per work region.
    """
    if scheme not in ENROLLABLE:
        raise InvalidInput(message("enrol.schemes", schemes=", ".join(s.value for s in ENROLLABLE)))
    day = today.date()
    month = Month.from_date(day)
    results: list[Enrolment | SuirenError | None] = [None] * len(requests)
    people: list[tuple[int, ResidentId, RegionCode, RegionCode, bool]] = []
    answers = _Answers(policy, day)
    for i, request in enumerate(requests):
        try:
            rid = ResidentId.parse(request.resident_id, today=day)
            work = _region(request.work_region, "work_region")
            hukou = (
                _region(request.hukou_region, "hukou_region")
                if request.hukou_region
                else _region(rid.address_code[:2] + "0000", "resident_id")
            )
            people.append((i, rid, work, hukou, bool(request.hukou_region)))
        except SuirenError as error:
            results[i] = error
    indexes = [vault.blind_index(p[1].number) for p in people]
    lock_people(connection, sorted(set(indexes)))
    known = by_blind_index(connection, indexes)
    enrolled = enrolled_in(connection, [r.worker_id for r in known.values()], scheme)
    facts: dict[str, list[Fact]] = {}
    for (i, rid, work, hukou, given), index in zip(people, indexes, strict=True):
        try:
            results[i] = _enrol_one(
                answers,
                vault,
                rid,
                work,
                hukou,
                given,
                index,
                known,
                enrolled,
                facts,
                today,
                scheme,
                month,
            )
        except SuirenError as error:
            results[i] = error
    transactions = []
    for region, items in sorted(facts.items()):
        for part in _parts(items):
            people_of = sorted({worker_of(item) for item in part})
            one = people_of[0] if len(people_of) == 1 else None
            transactions.append(
                Transaction.build(
                    f"enrol/{one}/{scheme.value}"
                    if one
                    else f"enrol/{region}/{scheme.value}/{people_of[0]}-and-{len(people_of) - 1}",
                    TxCode.ENROLMENT,
                    region,
                    month,
                    today,
                    [],
                    worker_id=one,
                    memo=f"enrolled in {scheme.value}",
                    facts=part,
                )
            )
    post_transactions(connection, transactions)
    return [r for r in results if r is not None]


def _parts(items: list[Fact]) -> list[list[Fact]]:
    """A region's facts in runs of at most ``FACTS_MAX`` (what a journal entry holds), a
    person's facts (consecutive: their worker, then their enrolment) never split: a chunk of
    100,000 new people is 200,000 facts, so two entries (of the one unit of work)."""
    limit = ledger_transaction.FACTS_MAX
    parts, start = [], 0
    while start < len(items):
        end = min(start + limit, len(items))
        while start + 1 < end < len(items) and worker_of(items[end]) == worker_of(items[end - 1]):
            end -= 1
        parts.append(items[start:end])
        start = end
    return parts


def lock_enrolments(
    connection: Connection, vault: IdentityVault, requests: list[EnrolRequest], today: datetime
) -> None:
    """Take, in the ledger's order, the locks that ``enrol_many`` takes for ``requests``:
    their people's, then their work regions' chain heads (a row that names no resident id or
    region locks nothing; ``enrol_many`` refuses it). For a caller that enrols several
    batches in one transaction — a workers file's chunk with rows of several schemes, one
    ``enrol_many`` a scheme: each call would lock its people after the previous one's regions,
    and two such files would wait for each other in a circle (``tests/lock_order.py``)."""
    indexes, regions = set(), set()
    for request in requests:
        try:
            indexes.add(
                vault.blind_index(ResidentId.parse(request.resident_id, today=today.date()).number)
            )
            regions.add(RegionCode.parse(request.work_region).code)
        except SuirenError:
            continue
    lock_people(connection, sorted(indexes))
    lock_chain_heads(connection, regions)


def _region(text: str, field: str) -> RegionCode:
    """``text`` as a region code; refused naming ``field``, the input it came from."""
    try:
        return RegionCode.parse(text)
    except SuirenError as error:
        error.field = field
        raise


def worker_of(item: Fact) -> str:
    """The worker id a worker or enrolment fact is about."""
    return item.key.split("/")[0]


class _Answers:
    """What a batch's enrolments ask of the policy on one day, each distinct question asked
    once: whether a region requires the hukou there, whether a (sex, birth month) is of
    working age, and whether a first enrolment opens a temporary account. A file of 100,000
    people asks a few hundred distinct questions; asked per person, the retirement rule's
    parameters were most of the file's time."""

    def __init__(self, policy: Policy, day: date) -> None:
        self.policy = policy
        self.day = day
        self._of_age: set[tuple[str, Month]] = set()
        self._temporary: dict[tuple[str, str, int, str], bool] = {}
        self._hukou_required: dict[str, bool] = {}

    def hukou_required(self, region: str) -> bool:
        if region not in self._hukou_required:
            self._hukou_required[region] = bool(
                self.policy.at(self.day, region).value("enrolment.hukou_required")
            )
        return self._hukou_required[region]

    def check_working_age(self, sex: str, birth_month: Month) -> None:
        """As ``check_working_age``; a refusal is asked again (a new error for each row)."""
        if (sex, birth_month) not in self._of_age:
            check_working_age(self.policy, sex, birth_month, self.day)
            self._of_age.add((sex, birth_month))

    def temporary(self, region: str, sex: str, age_months: int, hukou: str) -> bool:
        """``temporary_account`` of a first enrolment in ``region`` (no relation held)."""
        key = (region, sex, age_months, hukou)
        if key not in self._temporary:
            self._temporary[key] = temporary_account(
                self.policy, self.day, region, region, sex, age_months, hukou, None
            )[0]
        return self._temporary[key]


def _enrol_one(
    answers: _Answers,
    vault: IdentityVault,
    rid: ResidentId,
    work: RegionCode,
    hukou: RegionCode,
    hukou_given: bool,
    index: str,
    known: dict[str, Any],
    enrolled: dict[str, Any],
    facts: dict[str, list[Fact]],
    today: datetime,
    scheme: Scheme,
    month: Month,
) -> Enrolment:
    """One person's enrolment. A person registered already keeps the hukou recorded: a hukou
    region given that contradicts it is refused (a change of hukou is not an enrolment, and
    was dropped silently before; one more precise, a city of the province recorded, is not a
    contradiction and changes nothing), and the one recorded, not the id's own region, is the hukou a
    region's ``enrolment.hukou_required`` asks about. Every check is made before a fact."""
    row = known.get(index)
    worker = None if row is None else row if isinstance(row, Worker) else _worker(row)
    if worker is not None and worker.hukou_region != hukou.code:
        if hukou_given and not _within(hukou.code, worker.hukou_region):
            raise EnrolmentRefused(
                message(
                    "enrol.hukou-differs",
                    worker=worker.worker_id,
                    recorded=worker.hukou_region,
                    given=hukou.code,
                ),
                field="hukou_region",
            )
        hukou = _region(worker.hukou_region, "hukou_region")
    existing = None if worker is None else enrolled.get(worker.worker_id)
    if (
        existing is None
        and answers.hukou_required(work.code)
        and hukou.province.code != work.province.code
    ):
        raise EnrolmentRefused(
            message("enrol.hukou-required", region=work.name),
            field="hukou_region" if hukou_given else "resident_id",
        )
    if worker is None:
        answers.check_working_age(rid.sex, rid.birth_month)
        worker_id = new_worker_id()
        facts.setdefault(work.code, []).append(
            worker_fact(vault, rid, worker_id, index, hukou.code, work.code, today)
        )
        worker = Worker(worker_id, rid.masked, rid.sex, rid.birth_month, hukou.code, work.code)
        known[index] = worker  # a later row of the same person finds this worker
    if existing is not None:
        if existing.region != work.code:
            raise EnrolledElsewhere(
                message(
                    "enrol.elsewhere",
                    worker=worker.worker_id,
                    scheme=scheme.value,
                    region=existing.region,
                ),
                field="work_region",
            )
        return Enrolment(
            worker,
            scheme,
            existing.region,
            Month(existing.start_month),
            False,
            bool(existing.temporary),
        )
    if row is not None:
        answers.check_working_age(rid.sex, rid.birth_month)
    temporary = False
    if scheme is Scheme.EMPLOYEE_PENSION:  # first insured at 50+/40+ away from the hukou province
        temporary = answers.temporary(
            work.code, worker.sex, month - worker.birth_month, worker.hukou_region
        )
    facts.setdefault(work.code, []).append(
        first_enrolment(
            worker.worker_id,
            scheme,
            work.code,
            month,
            temporary,
            None if temporary else work.code,
            today,
        )
    )
    enrolled[worker.worker_id] = _Enrolled(work.code, month.ordinal, temporary)
    return Enrolment(worker, scheme, work.code, month, True, temporary)


def _within(code: str, region: str) -> bool:
    """Whether the region ``code`` lies in ``region`` (itself, or a city or county of a
    province or city code ending in zeros): a hukou given more precisely than the one
    recorded (the province an id's first digits name) says nothing contrary."""
    return code == region or (
        region.endswith("00")
        and code.startswith(region[:2] if region.endswith("0000") else region[:4])
    )


def new_worker_id() -> str:
    return "W" + secrets.token_hex(6).upper()


def worker_fact(
    vault: IdentityVault,
    rid: ResidentId,
    worker_id: str,
    blind_index: str,
    hukou: str,
    work: str,
    now: datetime,
) -> Fact:
    """The fact that registers a person as a worker (the ``workers`` row)."""
    return fact(
        workers,
        worker_id=worker_id,
        resident_id_cipher=vault.encrypt(rid.number, worker_id),
        blind_index=blind_index,
        masked_id=rid.masked,
        sex=rid.sex,
        birth_month=rid.birth_month.ordinal,
        hukou_region=hukou,
        work_region=work,
        created_at=now,
    )


def first_enrolment(
    worker_id: str,
    scheme: Scheme,
    region: str,
    month: Month,
    temporary: bool,
    relation: str | None,
    now: datetime,
) -> Fact:
    """The fact of a worker's first enrolment in ``scheme`` (version 1)."""
    return fact(
        enrolments,
        worker_id=worker_id,
        scheme=scheme.value,
        region=region,
        start_month=month.ordinal,
        temporary=temporary,
        relation_region=relation,
        created_at=now,
        version=1,
    )


def worker_registration(
    vault: IdentityVault,
    rid: ResidentId,
    worker_id: str,
    blind_index: str,
    hukou: str,
    work: str,
    now: datetime,
    scheme: Scheme,
    month: Month,
    temporary: bool,
    relation: str | None,
) -> list[Fact]:
    """A new worker and their first enrolment, as facts."""
    return [
        worker_fact(vault, rid, worker_id, blind_index, hukou, work, now),
        first_enrolment(worker_id, scheme, work, month, temporary, relation, now),
    ]


@dataclass(frozen=True)
class _Enrolled:
    region: str
    start_month: int
    temporary: bool


PEOPLE_LOCK_CLASS = 0x5352_4E50  # "SRNP": the first key of a person's advisory lock
PEOPLE_LOCK_BUCKETS = 1024  # locks a batch holds at most (PostgreSQL's lock table is shared)


def people_lock_buckets(indexes: list[str]) -> list[int]:
    """The lock buckets of these blind indexes, each once, in order: a person is always the
    same bucket (the first 8 bytes of the SHA-256 of their index, modulo the buckets)."""
    return sorted(
        {
            int.from_bytes(hashlib.sha256(i.encode()).digest()[:8], "big") % PEOPLE_LOCK_BUCKETS
            for i in indexes
        }
    )


def lock_people(connection: Connection, indexes: list[str]) -> None:
    """Serialise every enrolment of these people until the transaction ends (PostgreSQL),
    locking in one order so that two batches never wait for each other in a circle.

    A person's lock is their bucket's (``PEOPLE_LOCK_BUCKETS``, two people may share one and
    then wait for each other): a lock per person would fill PostgreSQL's shared lock table
    (``max_locks_per_transaction`` × connections, 6,400 by default) with a file's chunk of
    100,000 people and fail ("out of shared memory"); a chunk holds at most 1,024."""
    if not is_postgres(connection) or not indexes:
        return
    connection.execute(
        text(
            "SELECT pg_advisory_xact_lock(CAST(:lock_class AS integer), k)"
            " FROM unnest(CAST(:keys AS integer[])) AS k ORDER BY k"
        ),
        {"lock_class": PEOPLE_LOCK_CLASS, "keys": people_lock_buckets(indexes)},
    ).all()


def by_blind_index(connection: Connection, indexes: list[str]) -> dict[str, Any]:
    return {row.blind_index: row for row in _rows_of(connection, workers, "blind_index", indexes)}


def enrolled_in(connection: Connection, worker_ids: list[str], scheme: Scheme) -> dict[str, Any]:
    rows = _rows_of(
        connection, enrolments, "worker_id", worker_ids, enrolments.c.scheme == scheme.value
    )
    return {row.worker_id: row for row in rows}


_WANTED = Table("wanted_people", MetaData(), Column("key", String))  # store.bulk.fill_keys


def _rows_of(
    connection: Connection, table: Table, column: str, keys: list[str], *where: Any
) -> list[Any]:
    """The rows of ``table`` whose ``column`` is one of ``keys`` (plain: blind indexes, worker
    ids) and that meet ``where``. PostgreSQL: a file's keys COPYed into a temporary table and
    joined, one round trip (as ``store.ledger_repo.existing``); SQLite, or a few keys: chunks
    of ``IN (…)``, each a statement of 500 parameters."""
    wanted = sorted(set(keys))
    if is_postgres(connection) and len(wanted) > LOOKUP_CHUNK:
        fill_keys(connection, _WANTED.name, wanted)
        return list(
            connection.execute(
                select(table).join(_WANTED, _WANTED.c.key == table.c[column]).where(*where)
            )
        )
    rows: list[Any] = []
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        rows += connection.execute(select(table).where(table.c[column].in_(chunk), *where))
    return rows


def find_workers(
    connection: Connection, vault: IdentityVault, resident_ids: list[str]
) -> list[tuple[str, Text | None]]:
    """(worker id, None) for each resident id of a registered worker, or ("", why not)."""
    indexes: list[str | None] = []
    problems: list[Text | None] = []
    for number in resident_ids:
        try:
            indexes.append(vault.blind_index(ResidentId.parse(number).number))
            problems.append(None)
        except SuirenError as error:
            indexes.append(None)
            problems.append(error.said)
    wanted = sorted({i for i in indexes if i is not None})
    found: dict[str, str] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        rows = connection.execute(
            select(workers.c.blind_index, workers.c.worker_id).where(
                workers.c.blind_index.in_(wanted[start : start + LOOKUP_CHUNK])
            )
        )
        found.update({r.blind_index: r.worker_id for r in rows})
    return [
        ("", problem)
        if index is None
        else (found[index], None)
        if index in found
        else ("", message("worker.no-such-resident"))
        for index, problem in zip(indexes, problems, strict=True)
    ]


def enrolment_fact(current: dict[str, Any], **changes: Any) -> Fact:
    """The fact of an enrolment's next version: ``current`` (its row) with ``changes``."""
    row = {**current, **changes, "version": int(current["version"]) + 1}
    return fact(enrolments, **row)


def enrolment_region(
    connection: Connection, worker_id: str, scheme: Scheme
) -> tuple[str, Month, bool]:
    """(region, start month, temporary account?) of the worker's enrolment in ``scheme``."""
    row = connection.execute(
        select(enrolments).where(
            enrolments.c.worker_id == worker_id, enrolments.c.scheme == scheme.value
        )
    ).first()
    if row is None:
        get_worker(connection, worker_id)  # unknown worker -> its own error
        raise InvalidInput(message("worker.not-enrolled", worker=worker_id, scheme=scheme.value))
    return row.region, Month(row.start_month), bool(row.temporary)


_REGIONS = select(enrolments.c.region, enrolments.c.relation_region).where(
    enrolments.c.worker_id == bindparam("worker_id"), enrolments.c.scheme == bindparam("scheme")
)  # built once: every read of a worker by an agency checks it


def enrolment_regions(
    connection: Connection, worker_id: str, scheme: Scheme
) -> tuple[str, str] | None:
    """(region of the enrolment, region holding the relation — the enrolment's while only
    temporary accounts exist) in one read; None: unknown worker or not enrolled."""
    row = connection.execute(_REGIONS, {"worker_id": worker_id, "scheme": scheme.value}).first()
    return None if row is None else (row.region, row.relation_region or row.region)


def relation_region(connection: Connection, worker_id: str, scheme: Scheme) -> str | None:
    """Where the worker's insurance relation and its money are held (None: only temporary
    accounts so far)."""
    enrolment_region(connection, worker_id, scheme)  # unknown or not enrolled: its own error
    return connection.execute(
        select(enrolments.c.relation_region).where(
            enrolments.c.worker_id == worker_id, enrolments.c.scheme == scheme.value
        )
    ).scalar_one()


def now_utc() -> datetime:
    return datetime.now(UTC)
