"""Employee medical insurance (职工医保) of flexible workers: the record and what moves.

Contributions go through the one contribution path (services/contributions.py, scheme
``employee_medical``), including the reform's pooled part held at the hukou region.
``medical_status`` and ``quote_medical_transfer`` read the ledger and apply the medical
rules: years recognised per region, the break and waiting period on re-joining, lifetime
cover at retirement, and what a transfer (转移接续) moves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
from sqlalchemy import Connection

from suiren.domain.errors import ParameterNotFound, SuirenError
from suiren.domain.messages import Text
from suiren.domain.messages import text as message
from suiren.domain.month import Month
from suiren.ledger.accounts import Scheme, individual_account, pooled_entitlement
from suiren.policy import Policy
from suiren.policy.medical import (
    MONTHS_MAX,
    lifetime_cover,
    recognised_years,
    transfer_amounts,
)
from suiren.policy.medical import waiting_months as waiting_period
from suiren.policy.retirement import category_index, retirement_rule, statutory_retirement
from suiren.policy.transfer import TransferQuote
from suiren.rules.explain import Step
from suiren.services.workers import enrolment_region, get_worker
from suiren.store.ledger_repo import balances
from suiren.store.lines import paid_months

SCHEME = Scheme.EMPLOYEE_MEDICAL


class MedicalRefused(SuirenError):
    code = "medical-refused"


# the record: years, breaks, waiting period, lifetime cover ----------------------------------


@dataclass(frozen=True)
class LifetimeStatus:
    """Cover after retirement without further contributions (退休医保), in one region."""

    region: str
    on_day: date  # the statutory retirement month's first day
    met: bool
    required_total_months: int
    required_local_months: int
    shortfall_months: int  # further local months that meet both minimums

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = dict(self.__dict__)
        data["on_day"] = self.on_day.isoformat()
        return data


@dataclass(frozen=True)
class MedicalStatus:
    worker_id: str
    day: date
    region: str  # where the worker is enrolled now
    months_by_region: dict[str, int]  # paid months (not reversed) per region of payment
    total_months: int  # recognised across regions (缴费年限互认累计)
    local_months: int  # paid in the current region (or a region inside it)
    last_paid: Month | None
    gap_months: int | None  # unpaid months since the last paid one; None: never paid
    waiting_months: int  # before benefits start if the worker re-joins today
    lifetime: LifetimeStatus | None  # None: the region has no minimum years on record
    notes: list[str]  # each 中文 / English (``notes_zh``, ``notes_en``: each language alone)
    explanation: list[dict[str, object]]  # each step named as a pension step is (step_zh, …)
    notes_zh: list[str] = field(default_factory=list)
    notes_en: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = dict(self.__dict__)
        data["day"] = self.day.isoformat()
        data["last_paid"] = None if self.last_paid is None else str(self.last_paid)
        data["lifetime"] = None if self.lifetime is None else self.lifetime.to_json()
        return data


def _paid_months(connection: Connection, worker_id: str) -> list[tuple[str, int]]:
    """(region, month) of every employee-medical month paid and not reversed."""
    return [(r.region, int(r.month)) for r in paid_months(connection, worker_id, SCHEME.value)]


def medical_status(
    connection: Connection, policy: Policy, worker_id: str, day: date
) -> MedicalStatus:
    """The worker's employee-medical record on ``day``, read from the ledger.

    The break is the number of unpaid months between the last paid month and the current
    one, both excluded: what a worker re-joining now would pay back (中断缴费). A worker who
    never paid is treated as joining for the first time: the region's full waiting period.
    """
    worker = get_worker(connection, worker_id)
    region, _, _ = enrolment_region(connection, worker_id, SCHEME)
    paid = _paid_months(connection, worker_id)
    by_region: dict[str, int] = {}
    for code, _ in paid:
        by_region[code] = by_region.get(code, 0) + 1
    years = recognised_years(by_region or {region: 0})
    total = int(years.total_months[0])
    local = int(years.months_within(region, policy.registry.ancestry)[0])
    current = Month.from_date(day)
    last = Month(max(m for _, m in paid)) if paid else None
    gap = None if last is None else max(0, current - last - 1)
    said: list[Text] = (
        []
        if paid
        else [
            Text(
                "尚未缴费：首次参保须经过当地的全部待遇等待期",
                "no month paid yet: a first enrolment waits the region's full period",
            )
        ]
    )
    wait = waiting_period(policy, day, region, [MONTHS_MAX if gap is None else gap])
    explanation: list[dict[str, object]] = [
        {
            **Text("待遇等待期", "waiting period").fields("step"),
            "gap_months": gap,
            "waiting_months": int(wait.waiting_months[0]),
            "parameters": wait.cited(0),
        },
    ]
    lifetime = None
    retire_day = max(
        day, _retirement_month(policy, worker.sex, worker.birth_month, day).first_day()
    )
    try:
        cover = lifetime_cover(policy, retire_day, region, worker.sex, [total], [local])
    except ParameterNotFound as exc:
        said.append(
            Text(
                f"{region} 的退休医保最低缴费年限未收录，无法判断退休时能否享受退休医保待遇",
                f"lifetime cover unknown in {region}: {exc.message}",
            )
        )
    else:
        lifetime = LifetimeStatus(
            region,
            retire_day,
            bool(cover.met[0]),
            int(cover.required_total_months[0]),
            int(cover.required_local_months[0]),
            int(cover.shortfall_months[0]),
        )
        explanation.append(
            {
                **Text("退休医保最低缴费年限", "lifetime cover").fields("step"),
                "total_months": total,
                "local_months": local,
                "shortfall_months": lifetime.shortfall_months,
                "parameters": cover.cited(0),
            }
        )
    return MedicalStatus(
        worker_id,
        day,
        region,
        dict(sorted(by_region.items())),
        total,
        local,
        last,
        gap,
        int(wait.waiting_months[0]),
        lifetime,
        [t.joined() for t in said],
        explanation,
        [t.zh for t in said],
        [t.en for t in said],
    )


def _retirement_month(policy: Policy, sex: str, birth: Month, day: date) -> Month:
    """The statutory retirement month (2025 reform; a woman flexible worker's category)."""
    category = np.array([category_index(sex, None, policy, day)], dtype=np.int64)
    births = np.array([birth.ordinal], dtype=np.int64)
    _, _, reach = statutory_retirement(retirement_rule(policy, day), births, category)
    return Month(int(reach[0]))


# transfer ----------------------------------------------------------------------------------


def quote_medical_transfer(
    connection: Connection,
    policy: Policy,
    worker_id: str,
    from_region: str,
    to_region: str,
    day: date,
) -> TransferQuote:
    """What a medical transfer (医保关系转移接续) moves out of ``from_region``.

    The individual-account balance moves; the pooled entitlement moves only where
    ``medical.transfer.pooled_moves`` says so, else it stays in the old region's fund
    (``kept_fen``). Medical has no temporary accounts and no interest on the entitlement.
    """
    get_worker(connection, worker_id)
    keys = (
        str(individual_account(worker_id, SCHEME, from_region)),
        str(pooled_entitlement(worker_id, SCHEME, from_region)),
    )
    held = balances(connection, keys)
    account, entitlement = held.get(keys[0], 0), held.get(keys[1], 0)
    months = len(paid_months(connection, worker_id, SCHEME.value, [from_region]))
    if not months and not account and not entitlement:
        raise MedicalRefused(message("medical.nothing", worker=worker_id, region=from_region))
    moved = transfer_amounts(policy, day, from_region, to_region, [account], [entitlement])
    moves, stays = int(moved.moved_fen[0]), int(moved.kept_fen[0])
    step = Step(
        Text("医保关系转移接续", "medical transfer"),
        Text(
            "个人账户转移；统筹基金权益仅在 medical.transfer.pooled_moves 时转移，否则留在原参保地的"
            "统筹基金",
            "the individual account moves; the pooled entitlement moves only if"
            " medical.transfer.pooled_moves, else it stays in the old region's pooled fund",
        ),
        {"account_fen": str(account), "pooled_entitlement_fen": str(entitlement)},
        Text(f"转移 {moves} 分，留存 {stays} 分", f"moves {moves} fen, stays {stays} fen"),
        tuple(moved.parameters.for_case(0).values()),
    )
    return TransferQuote(
        temporary=False,
        account_fen=int(moved.account_moved_fen[0]),
        pooled_fen=int(moved.pooled_moved_fen[0]),
        kept_fen=int(moved.kept_fen[0]),
        interest_fen=0,
        steps=[step],
    )
