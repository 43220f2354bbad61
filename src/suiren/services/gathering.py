"""Gathering at retirement (归集): everything the worker paid goes to the paying region.

Under ``current_law`` (国办发〔2009〕66号 第六条, 人社部发〔2009〕187号) the pension is paid by
one province (``career.paying_province``). Before it can be paid:

- every temporary account (临时基本养老保险缴费账户) is gathered there with all its
  contributions and interest (``gather``: the individual account and the whole pooled part,
  with interest at the crediting rate — a temporary account is never a paying region);
- the insurance relation, if it is held elsewhere, moves there as a normal transfer would
  (``claim``: 12% of the bases since 1998 under current law; the whole entitlement under the
  reform), without opening a temporary account.

Each is a transfer ``{gather_id}/{from_region}`` through the same idempotent steps (approve
by the region the money leaves, accept by the paying region, complete), deadlines, clearing
and settlement as any other. Asking again with the same id returns the same transfers.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
from sqlalchemy import Connection, select

from suiren.domain.errors import InvalidInput
from suiren.domain.messages import text as message
from suiren.domain.month import Month
from suiren.domain.region import RegionCode
from suiren.ledger.accounts import Scheme
from suiren.ledger.transaction import GATHER_ID_CHARS_MAX, TX_ID_RE
from suiren.policy import Policy
from suiren.policy.retirement import (
    category_index,
    flexible_window,
    retirement_rule,
    statutory_retirement,
)
from suiren.services.career import paying_province
from suiren.services.transfer_quotes import Kind, TransferRefused, holds_money, quote_for
from suiren.services.transfers import (
    TransferView,
    get_transfer,
    insert_transfer,
    refuse_if_open,
)
from suiren.services.workers import Worker, enrolment_region, get_worker, relation_region
from suiren.store.ledger_repo import lock_chain_heads
from suiren.store.lines import paid_months
from suiren.store.tables import contribution_months, history_stints, transfers

ID_MAX = GATHER_ID_CHARS_MAX


def gather_for_retirement(
    connection: Connection,
    policy: Policy,
    gather_id: str,
    worker_id: str,
    now: datetime,
    to_region: str | None = None,
    scheme: Scheme = Scheme.EMPLOYEE_PENSION,
) -> list[TransferView]:
    """Start gathering the worker's temporary accounts and relation to the paying region.

    ``to_region``: the city in the paying province that pays (its province must be the
    paying province); by default where the relation or the last months there were paid.
    """
    if not TX_ID_RE.match(gather_id) or len(gather_id) > ID_MAX:
        raise InvalidInput(message("gather.id-form", chars_max=ID_MAX))
    worker = get_worker(connection, worker_id)
    region, _, _ = enrolment_region(connection, worker_id, scheme)
    refuse_before_retirement_age(policy, worker, now.date())
    prior = _started(connection, gather_id)
    if prior:
        return _replay(connection, gather_id, worker_id, prior, to_region)
    # serialised with every writer of those regions
    lock_chain_heads(connection, _regions(connection, worker_id, scheme, region))
    prior = _started(connection, gather_id)
    if prior:
        return _replay(connection, gather_id, worker_id, prior, to_region)
    refuse_if_open(connection, worker_id, scheme)
    day = now.date()
    paying = paying_province(connection, policy, worker_id, day, scheme)
    target = _paying_city(connection, worker_id, scheme, paying.province, to_region)
    relation = relation_region(connection, worker_id, scheme)
    # a temporary account where the relation has since come to be held (possible once the
    # reform ended temporary accounts) is part of the relation's money: it moves with it
    temporary = _temporary_regions(connection, worker_id, scheme)
    plans = [(Kind.GATHER, r) for r in temporary if r not in (target, relation)]
    if relation is not None and relation != target:
        plans.append((Kind.CLAIM, relation))
    if not plans:
        raise TransferRefused(
            message("gather.nothing", worker=worker_id, region=target, why=paying.reason)
        )
    for kind, source in sorted(plans, key=lambda p: p[1]):
        quote = quote_for(connection, policy, worker_id, source, target, day, scheme, kind)
        transfer_id = f"{gather_id}/{source}"
        insert_transfer(
            connection, policy, transfer_id, worker_id, scheme, kind, source, target, quote, now
        )
    return [get_transfer(connection, t) for t in _started(connection, gather_id)]


def refuse_before_retirement_age(policy: Policy, worker: Worker, day: date) -> None:
    """Gathering is for retirement: from the earliest age the worker may retire at (the
    flexible window of the 2025 reform, never below the original age) on."""
    rule = retirement_rule(policy, day)
    category = np.array([category_index(worker.sex, None, policy, day)], dtype=np.int64)
    birth = np.array([worker.birth_month.ordinal], dtype=np.int64)
    _, age, _ = statutory_retirement(rule, birth, category)
    earliest, _ = flexible_window(rule, age, category)
    allowed = Month(worker.birth_month.ordinal + int(earliest[0]))
    if Month.from_date(day) < allowed:
        raise TransferRefused(
            message(
                "gather.before-retirement",
                worker=worker.worker_id,
                allowed=allowed,
                age=int(earliest[0]) // 12,
                day=day.isoformat(),
            )
        )


def _started(connection: Connection, gather_id: str) -> list[str]:
    return [
        r.transfer_id
        for r in connection.execute(
            select(transfers.c.transfer_id)
            .where(
                transfers.c.transfer_id.startswith(f"{gather_id}/", autoescape=True),
                transfers.c.kind.in_((Kind.GATHER.value, Kind.CLAIM.value)),
            )
            .order_by(transfers.c.transfer_id)
        )
    ]


def _replay(
    connection: Connection, gather_id: str, worker_id: str, ids: list[str], to_region: str | None
) -> list[TransferView]:
    views = [get_transfer(connection, t) for t in ids]
    if any(v.worker_id != worker_id for v in views):
        raise TransferRefused(message("gather.id-used", shown=repr(gather_id)))
    asked = None if to_region is None else RegionCode.parse(to_region).code
    if asked is not None and any(v.to_region != asked for v in views):
        raise TransferRefused(
            message(
                "gather.other-target", shown=repr(gather_id), region=views[0].to_region, asked=asked
            )
        )
    return views


def _regions(connection: Connection, worker_id: str, scheme: Scheme, region: str) -> list[str]:
    """Every region the worker has paid in or whose records hold their imported history,
    where they are insured, where their relation is held and where a temporary account of
    theirs waits: what may be locked (at once, ascending)."""
    paid = {
        r.region
        for r in connection.execute(
            select(contribution_months.c.region)
            .where(
                contribution_months.c.worker_id == worker_id,
                contribution_months.c.scheme == scheme.value,
            )
            .distinct()
        )
    }
    held = {
        r.held_region
        for r in connection.execute(
            select(history_stints.c.held_region)
            .where(
                history_stints.c.worker_id == worker_id,
                history_stints.c.scheme == scheme.value,
            )
            .distinct()
        )
    }
    # the relation and the temporary accounts: the regions the money leaves (``plans``)
    relation = relation_region(connection, worker_id, scheme)
    leaving = set(_temporary_regions(connection, worker_id, scheme)) | {relation or region}
    return sorted(paid | held | leaving | {region})


def _temporary_regions(connection: Connection, worker_id: str, scheme: Scheme) -> list[str]:
    """Regions holding a temporary account of the worker not yet gathered: a month paid into
    one stands there, or the account still holds money (the interest credited on months
    that were reversed afterwards is the worker's, and is gathered with the rest; so is what
    a reversal's ``gather`` brought to a temporary account, see ``reversals``)."""
    paid = {r.region for r in paid_months(connection, worker_id, scheme.value) if r.temporary}
    ever = set(
        connection.execute(
            select(contribution_months.c.region)
            .where(
                contribution_months.c.worker_id == worker_id,
                contribution_months.c.scheme == scheme.value,
                contribution_months.c.temporary == 1,
            )
            .distinct()
        ).scalars()
    )
    gathers = connection.execute(
        select(transfers.c.from_region, transfers.c.to_region).where(
            transfers.c.worker_id == worker_id,
            transfers.c.scheme == scheme.value,
            transfers.c.kind == Kind.GATHER.value,
            transfers.c.state == "completed",
        )
    ).all()
    ever |= {g.to_region for g in gathers}
    # a region gathered already that holds money again (the worker came back to it after a
    # reversal's gathering emptied it) is gathered once more
    holding = {region for region in ever if holds_money(connection, worker_id, scheme, region)}
    return sorted((paid - {g.from_region for g in gathers}) | holding)


def _paying_city(
    connection: Connection, worker_id: str, scheme: Scheme, province: str, asked: str | None
) -> str:
    if asked is not None:
        code = RegionCode.parse(asked).code
        if code[:2] != province[:2]:
            raise TransferRefused(message("gather.not-in-province", region=code, province=province))
        return code
    relation = relation_region(connection, worker_id, scheme)
    if relation is not None and relation[:2] == province[:2]:
        return relation
    last = next(  # months paid through Suiren and imported ones alike
        (
            r
            for r in reversed(paid_months(connection, worker_id, scheme.value))
            if not r.temporary and r.region[:2] == province[:2]
        ),
        None,
    )
    if last is not None:
        return str(last.region)
    hukou = get_worker(connection, worker_id).hukou_region
    return hukou if hukou[:2] == province[:2] else province
