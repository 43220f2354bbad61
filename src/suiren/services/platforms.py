"""Platforms (平台企业) declare the workers they engage and the relation (issue 11).

A platform declares a person it engages — their resident id, the region they work in and
the relation — as the three categories of 人社部发〔2021〕56号 《关于维护新就业形态劳动者劳动
保障权益的指导意见》 (2021-07-16) name it (``Relation``). The person is found by the blind index
of their resident id, or registered as a new worker (one person, one worker: the
``workers`` fact enrolment records, services/workers.py); a declaration does not enrol them
in a scheme — insuring a worker is the worker's or the agency's act, and a worker may be
insured in another region than the platform's — so a declared worker is enrolled or not.

Each engagement of a worker with a platform is a *period* (``platform_engagements``: 1, 2,
…) whose latest version is its state, recorded as facts of ``engage/{platform}/{worker}/
{period}.{version}`` entries (code ``engagement``) in the work region's journal:

- the same declaration again (the open period has this relation and work region) is a
  replay: nothing is written, the answer is the engagement as it is;
- another relation or work region from a later day ends the open period the day before and
  opens the next; from the open period's first day, it corrects that period (its next
  version); before it, it is refused;
- a declaration with no open period opens one after the last one's last day;
- an end records the open period's last day (the same end again is a replay).

Days are not after today (a declaration records what is, not what is planned); the person
is of working age on the first day (``enrolment.age_min_years``, 劳动法 第十五条: 禁止用人单位
招用未满十六周岁的未成年人).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, func, select

from suiren.domain.errors import InvalidInput, ParameterNotFound, SuirenError
from suiren.domain.messages import Text
from suiren.domain.messages import text as message
from suiren.domain.month import Month
from suiren.domain.region import RegionCode
from suiren.domain.resident_id import ResidentId
from suiren.ledger.accounts import Scheme
from suiren.ledger.transaction import Fact, Transaction, TxCode
from suiren.policy import Policy
from suiren.services.identity import IdentityVault
from suiren.services.workers import (
    by_blind_index,
    lock_people,
    new_worker_id,
    worker_fact,
)
from suiren.store.ledger_repo import post_transactions
from suiren.store.projections import fact
from suiren.store.tables import enrolments, platform_engagements, workers

PLATFORM_ID_RE = re.compile(r"[A-Za-z0-9-]{1,64}", re.ASCII)  # fits a transaction id


class Relation(StrEnum):
    """The relation a platform declares (人社部发〔2021〕56号 第一条 (二)(三))."""

    LABOUR = "labour"  # 符合确立劳动关系情形: a labour contract, employee insurance
    INCOMPLETE = "incomplete"  # 不完全符合确立劳动关系情形但企业对劳动者进行劳动管理: 书面协议
    CIVIL = "civil"  # 个人依托平台自主开展经营活动、从事自由职业等: 民事关系

    @property
    def legal_term(self) -> str:
        return RELATION_TERMS[self]


RELATION_TERMS = {
    Relation.LABOUR: "劳动关系（符合确立劳动关系情形）",
    Relation.INCOMPLETE: "不完全符合确立劳动关系情形但企业对劳动者进行劳动管理",
    Relation.CIVIL: "民事关系（依托平台自主开展经营活动、从事自由职业）",
}


class EngagementRefused(SuirenError):
    code = "engagement-refused"


@dataclass(frozen=True)
class Engagement:
    """One period of a worker's engagement with a platform, as it stands."""

    platform_id: str
    worker_id: str
    period: int
    relation: Relation
    work_region: str
    since: date
    until: date | None  # the last day engaged; None: engaged still
    version: int

    def to_json(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "relation": self.relation.value,
            "relation_term": self.relation.legal_term,
            "work_region": self.work_region,
            "since": self.since.isoformat(),
            "until": None if self.until is None else self.until.isoformat(),
        }

    def row(self, recorded_at: datetime) -> dict[str, Any]:
        return {
            "platform_id": self.platform_id,
            "worker_id": self.worker_id,
            "period": self.period,
            "relation": self.relation.value,
            "work_region": self.work_region,
            "since": self.since,
            "until": self.until,
            "recorded_at": recorded_at,
            "version": self.version,
        }


@dataclass(frozen=True)
class Declared:
    worker_id: str
    masked_id: str
    new_worker: bool  # the person was registered by this declaration
    recorded: bool  # False: a replay, nothing written
    engagement: Engagement

    def to_json(self) -> dict[str, Any]:
        """What the platform is told: not whether the person was known before (a platform
        may not probe who is registered; ``new_worker`` is for an operator's CLI)."""
        return {
            "worker_id": self.worker_id,
            "resident_id": self.masked_id,
            "recorded": self.recorded,
            "engagement": self.engagement.to_json(),
        }


def check_platform(platform_id: str) -> str:
    if not PLATFORM_ID_RE.fullmatch(platform_id):
        raise InvalidInput(message("platform.id-form"))
    return platform_id


def not_declared(platform_id: str, worker_id: str) -> Text:
    return message("engage.not-declared", platform=platform_id, worker=worker_id)


def _engagement(row: Any) -> Engagement:
    return Engagement(
        row.platform_id,
        row.worker_id,
        int(row.period),
        Relation(row.relation),
        row.work_region,
        row.since,
        row.until,
        int(row.version),
    )


def engagements(connection: Connection, platform_id: str, worker_id: str) -> list[Engagement]:
    """The periods of ``worker_id`` with ``platform_id``, first first (none: not engaged)."""
    e = platform_engagements.c
    rows = connection.execute(
        select(platform_engagements)
        .where(e.platform_id == platform_id, e.worker_id == worker_id)
        .order_by(e.period)
    )
    return [_engagement(r) for r in rows]


def _day(day: date | None, today: date, what: str) -> date:
    if day is None:
        return today
    if day > today:
        raise EngagementRefused(
            message("engage.after-today", what=what, day=day, today=today), field=what
        )
    return day


def _check_age(policy: Policy, birth_month: Month, since: date) -> None:
    try:
        youngest = int(policy.national(since).value("enrolment.age_min_years"))
    except ParameterNotFound:
        raise EngagementRefused(message("engage.before-rules", since=since), field="from") from None
    age_months = Month.from_date(since) - birth_month
    if age_months < youngest * 12:
        raise EngagementRefused(
            message("engage.too-young", since=since, age=age_months // 12, youngest=youngest),
            field="from",
        )


def declare(
    connection: Connection,
    policy: Policy,
    vault: IdentityVault,
    platform_id: str,
    resident_id: str,
    work_region: str,
    relation: Relation | str,
    since: date | None,
    now: datetime,
) -> Declared:
    """Record that ``platform_id`` engages the person from ``since`` (today if None) in
    ``work_region`` under ``relation``; see the module doc for replays and changes."""
    check_platform(platform_id)
    today = now.date()
    try:
        relation = Relation(relation)
    except ValueError:
        raise InvalidInput(
            message("engage.relation", choices=", ".join(r.value for r in Relation)),
            field="relation",
        ) from None
    region = RegionCode.parse(work_region).code
    first = _day(since, today, "from")
    rid = ResidentId.parse(resident_id, today=today)
    index = vault.blind_index(rid.number)
    lock_people(connection, [index])
    known = by_blind_index(connection, [index]).get(index)
    recorded: list[Fact] = []
    if known is None:
        worker_id, masked = new_worker_id(), rid.masked
        hukou = rid.address_code[:2] + "0000"
        recorded.append(worker_fact(vault, rid, worker_id, index, hukou, region, now))
    else:
        worker_id, masked = known.worker_id, known.masked_id
    periods = engagements(connection, platform_id, worker_id)
    last = periods[-1] if periods else None
    if (
        last is not None
        and last.until is None
        and (last.relation, last.work_region)
        == (
            relation,
            region,
        )
    ):
        return Declared(worker_id, masked, False, False, last)
    _check_age(policy, rid.birth_month, first)
    if last is not None and last.until is None:
        if first < last.since:
            raise EngagementRefused(message("engage.change-before", since=last.since), field="from")
        if first == last.since:  # a correction of the open period
            state = Engagement(
                platform_id, worker_id, last.period, relation, region, first, None, last.version + 1
            )
            recorded.append(fact(platform_engagements, **state.row(now)))
            _post(connection, state, recorded, now, f"engagement corrected: {relation.value}")
            return Declared(worker_id, masked, known is None, True, state)
        ended = Engagement(
            platform_id,
            worker_id,
            last.period,
            last.relation,
            last.work_region,
            last.since,
            first - timedelta(days=1),
            last.version + 1,
        )
        recorded.append(fact(platform_engagements, **ended.row(now)))
    elif last is not None and last.until is not None and first <= last.until:
        raise EngagementRefused(message("engage.after-last", until=last.until), field="from")
    state = Engagement(
        platform_id,
        worker_id,
        1 if last is None else last.period + 1,
        relation,
        region,
        first,
        None,
        1,
    )
    recorded.append(fact(platform_engagements, **state.row(now)))
    _post(connection, state, recorded, now, f"engaged: {relation.value}")
    return Declared(worker_id, masked, known is None, True, state)


def end(
    connection: Connection, platform_id: str, worker_id: str, until: date | None, now: datetime
) -> tuple[Engagement, bool]:
    """Record ``until`` (today if None) as the last day of the worker's open engagement with
    the platform; (the engagement, whether anything was written). The same end again is a
    replay; another day for an ended engagement is refused."""
    check_platform(platform_id)
    last_day = _day(until, now.date(), "until")
    periods = engagements(connection, platform_id, worker_id)
    if not periods:
        raise EngagementRefused(not_declared(platform_id, worker_id))
    last = periods[-1]
    if last.until is not None:
        if last.until == last_day:
            return last, False
        raise EngagementRefused(message("engage.ended", until=last.until), field="until")
    if last_day < last.since:
        raise EngagementRefused(message("engage.end-before-start", since=last.since), field="until")
    state = Engagement(
        platform_id,
        worker_id,
        last.period,
        last.relation,
        last.work_region,
        last.since,
        last_day,
        last.version + 1,
    )
    _post(connection, state, [fact(platform_engagements, **state.row(now))], now, "ended")
    return state, True


def _post(
    connection: Connection, state: Engagement, recorded: list[Fact], now: datetime, memo: str
) -> None:
    post_transactions(
        connection,
        [
            Transaction.build(
                f"engage/{state.platform_id}/{state.worker_id}/{state.period}.{state.version}",
                TxCode.ENGAGEMENT,
                state.work_region,
                Month.from_date(now.date()),
                now,
                [],
                worker_id=state.worker_id,
                memo=memo,
                facts=recorded,
            )
        ],
    )


def engaged(
    connection: Connection, platform_id: str, after: str, limit: int
) -> list[tuple[Engagement, str]]:
    """The platform's workers by id after ``after``, each with its latest engagement and
    masked resident id, ``limit`` at most."""
    e = platform_engagements.c
    latest = (
        select(e.worker_id, func.max(e.period).label("period"))
        .where(e.platform_id == platform_id, e.worker_id > after)
        .group_by(e.worker_id)
        .order_by(e.worker_id)
        .limit(limit)
        .subquery()
    )
    rows = connection.execute(
        select(platform_engagements, workers.c.masked_id)
        .join(
            latest,
            (e.worker_id == latest.c.worker_id) & (e.period == latest.c.period),
        )
        .join(workers, workers.c.worker_id == e.worker_id)
        .where(e.platform_id == platform_id)
        .order_by(e.worker_id)
    )
    return [(_engagement(r), r.masked_id) for r in rows]


def worker_view(connection: Connection, platform_id: str, worker_id: str) -> dict[str, Any]:
    """What a platform may know of a worker it engages: their masked resident id, its
    engagements with them, and whether they are enrolled in the employee pension and
    medical insurance and where — nothing of their months or balances."""
    periods = engagements(connection, platform_id, worker_id)
    if not periods:
        raise EngagementRefused(not_declared(platform_id, worker_id))
    masked = connection.execute(
        select(workers.c.masked_id).where(workers.c.worker_id == worker_id)
    ).scalar_one()
    insured: dict[str, str] = {
        r.scheme: r.region
        for r in connection.execute(
            select(enrolments.c.scheme, enrolments.c.region).where(
                enrolments.c.worker_id == worker_id
            )
        )
    }
    schemes = (Scheme.EMPLOYEE_PENSION, Scheme.EMPLOYEE_MEDICAL)
    return {
        "worker_id": worker_id,
        "resident_id": masked,
        "engagements": [p.to_json() for p in periods],
        "enrolled": {
            s.value: {"enrolled": s.value in insured, "region": insured.get(s.value)}
            for s in schemes
        },
    }
