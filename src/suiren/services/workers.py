"""Enrolment (参保登记) of flexible workers in the region where they work.

A worker is registered once per person (found again by the blind index of their resident
id: enrolling twice returns the same worker). Whether the hukou must be in the region is a
parameter (``enrolment.hukou_required``): the reform, and current law since
人社部发〔2021〕56号, let a flexible worker enrol where they work.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from suiren.domain.errors import InvalidInput, SuirenError
from suiren.domain.month import Month
from suiren.domain.region import RegionCode
from suiren.domain.resident_id import ResidentId
from suiren.ledger.accounts import Scheme
from suiren.policy import Policy
from suiren.policy.transfer import temporary_account
from suiren.services.identity import IdentityVault
from suiren.store.tables import enrolments, workers


class UnknownWorker(SuirenError):
    code = "unknown-worker"


class EnrolmentRefused(SuirenError):
    code = "enrolment-refused"


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


def _worker(row) -> Worker:  # type: ignore[no-untyped-def]
    return Worker(
        row.worker_id,
        row.masked_id,
        row.sex,
        Month(row.birth_month),
        row.hukou_region,
        row.work_region,
    )


def get_worker(connection: Connection, worker_id: str) -> Worker:
    row = connection.execute(select(workers).where(workers.c.worker_id == worker_id)).first()
    if row is None:
        raise UnknownWorker(f"no worker with id {worker_id!r}")
    return _worker(row)


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
    rid = ResidentId.parse(resident_id, today=today.date())
    work = RegionCode.parse(work_region)
    hukou = RegionCode.parse(hukou_region or rid.address_code[:2] + "0000")
    month = Month.from_date(today.date())
    if policy.at(today.date(), work.code).value("enrolment.hukou_required") and (
        hukou.province.code != work.province.code
    ):
        raise EnrolmentRefused(
            f"in {work.name} a flexible worker may enrol only with a local hukou on this date"
            " (enrolment.hukou_required)"
        )
    index = vault.blind_index(rid.number)
    row = connection.execute(select(workers).where(workers.c.blind_index == index)).first()
    created = row is None
    if row is None:
        worker_id = "W" + secrets.token_hex(6).upper()
        connection.execute(
            workers.insert().values(
                worker_id=worker_id,
                resident_id_cipher=vault.encrypt(rid.number, worker_id),
                blind_index=index,
                masked_id=rid.masked,
                sex=rid.sex,
                birth_month=rid.birth_month.ordinal,
                hukou_region=hukou.code,
                work_region=work.code,
                created_at=today,
            )
        )
        worker = Worker(worker_id, rid.masked, rid.sex, rid.birth_month, hukou.code, work.code)
    else:
        worker = _worker(row)
    existing = connection.execute(
        select(enrolments).where(
            enrolments.c.worker_id == worker.worker_id, enrolments.c.scheme == scheme.value
        )
    ).first()
    if existing is not None:
        if existing.region != work.code:
            raise InvalidInput(
                f"worker {worker.worker_id} is already enrolled in {scheme.value} in region"
                f" {existing.region}; moving needs a transfer (转移接续)"
            )
        return Enrolment(worker, scheme, existing.region, Month(existing.start_month), False,
                         bool(existing.temporary))  # fmt: skip
    temporary = False
    if scheme is Scheme.EMPLOYEE_PENSION:  # first insured at 50+/40+ away from the hukou province
        temporary = temporary_account(
            policy, today.date(), work.code, work.code, worker.sex, month - worker.birth_month,
            worker.hukou_region, None,
        )[0]  # fmt: skip
    connection.execute(
        enrolments.insert().values(
            worker_id=worker.worker_id,
            scheme=scheme.value,
            region=work.code,
            start_month=month.ordinal,
            temporary=temporary,
            relation_region=None if temporary else work.code,
            created_at=today,
        )
    )
    return Enrolment(worker, scheme, work.code, month, created or existing is None, temporary)


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
        raise InvalidInput(f"worker {worker_id} is not enrolled in {scheme.value}; enrol first")
    return row.region, Month(row.start_month), bool(row.temporary)


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
