"""Employee medical insurance (职工医保) of flexible workers in the ledger.

A contribution month is one transaction ``{request_id}/{YYYY-MM}`` in the work region's
journal, with the amounts of ``policy.medical.split_medical``:

    collection (work region)                     −due
    individual account (worker, work region)     +the account share (个人账户)
    pooled entitlement (worker, work region)     +the pooled part (统筹基金)

Under money_follows_person (``medical.hukou_pool.enabled``) a high-income worker's pooled
part is partly held by the hukou region's fund (``policy.medical.hukou_pool``). The work
region collected that part and owes it: its transaction posts it to its clearing account
instead of the entitlement, and ``{request_id}/{YYYY-MM}/hukou`` in the hukou region's
journal takes it from that region's clearing account into the worker's entitlement there.
A row in ``region_obligations`` records the debt; the settlement windows net it with the
transfers (services/settlement.py). Every transaction posts only accounts of its region.

The checks are the pension's (services/contributions.py), called, not copied: replays
return the recorded result, an id used for other content is a conflict, a month already
paid in employee medical is refused, so are future months, back-payment beyond
``contribution.flexible.back_payment_years_max`` and a base outside the province's floor
and ceiling (``contribution_bounds``: flexible workers choose their medical base in the same
60–300% band, RULEBOOK §5.1).

``medical_status`` and ``quote_medical_transfer`` read the ledger and apply the medical
rules: years recognised per region, the break and waiting period on re-joining, lifetime
cover at retirement, and what a transfer (转移接续) moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, func, select

from suiren.domain.errors import InvalidInput, ParameterNotFound, SuirenError
from suiren.domain.month import Month
from suiren.ledger.accounts import (
    Scheme,
    clearing,
    collection,
    individual_account,
    pooled_entitlement,
)
from suiren.ledger.transaction import Posting, Transaction, TxCode
from suiren.policy import Policy
from suiren.policy.contribution import contribution_bounds
from suiren.policy.medical import (
    MONTHS_MAX,
    hukou_pool,
    lifetime_cover,
    recognised_years,
    transfer_amounts,
)
from suiren.policy.medical import waiting_months as waiting_period
from suiren.policy.retirement import category_index, retirement_rule, statutory_retirement
from suiren.policy.transfer import TransferQuote
from suiren.rules.explain import Step
from suiren.rules.vector import day_number
from suiren.services.contributions import (
    RANGE_MONTHS_MAX,
    ContributionRows,
    MonthPaid,
    _check_bases,
    _check_months,
    _check_not_paid,
    _replays,
    _subset,
)
from suiren.services.workers import enrolment_region, get_worker
from suiren.store.ledger_repo import (
    TransactionConflict,
    balances,
    existing,
    lock_chain_head,
    post_transactions,
)
from suiren.store.tables import contribution_months, paid_months, region_obligations

SCHEME = Scheme.EMPLOYEE_MEDICAL
HUKOU_SUFFIX = "/hukou"


class MedicalRefused(SuirenError):
    code = "medical-refused"


# contributions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MedicalMonthPaid(MonthPaid):
    """A month of employee medical: due = account + pooled; pooled = work part + hukou part."""

    hukou_region: str | None = None  # where the hukou-held part went (None: nothing held there)
    hukou_fen: int = 0

    def to_json(self) -> dict[str, object]:
        return super().to_json() | {
            "scheme": SCHEME.value,
            "pooled_work_region_fen": self.pooled_fen - self.hukou_fen,
            "hukou_region": self.hukou_region,
            "pooled_hukou_region_fen": self.hukou_fen,
        }


@dataclass(frozen=True)
class Booking:
    """Per month: the split at the work region and the part held at the hukou region."""

    due_fen: list[int]
    account_fen: list[int]
    pooled_fen: list[int]
    hukou_fen: list[int]

    def subset(self, index: list[int]) -> Booking:
        return Booking(*([values[i] for i in index] for values in
                         (self.due_fen, self.account_fen, self.pooled_fen, self.hukou_fen)))  # fmt: skip


def contribute_medical(
    connection: Connection, policy: Policy, request_id: str, worker_id: str, first: Month,
    last: Month, base_fen: int, now: datetime,
) -> list[MedicalMonthPaid]:  # fmt: skip
    """Pay employee medical for a month or a range (at most ``RANGE_MONTHS_MAX``); all or nothing."""
    if last < first:
        raise InvalidInput(f"the range ends ({last}) before it starts ({first})")
    if last - first + 1 > RANGE_MONTHS_MAX:
        raise InvalidInput(f"at most {RANGE_MONTHS_MAX} months per payment, got {last - first + 1}")
    region, _, _ = enrolment_region(connection, worker_id, SCHEME)
    hukou = get_worker(connection, worker_id).hukou_region
    months = np.arange(first.ordinal, last.ordinal + 1, dtype=np.int64)
    rows = ContributionRows(
        tx_ids=[f"{request_id}/{Month(int(m))}" for m in months],
        worker_ids=[worker_id] * len(months), regions=[region] * len(months), months=months,
        base_fen=np.full(len(months), base_fen, dtype=np.int64), temporary=[False] * len(months),
    )  # fmt: skip
    booking = _booking(policy, rows, hukou)
    held = any(booking.hukou_fen)
    for code in sorted({region, hukou} if held else {region}):  # the order every writer uses
        lock_chain_head(connection, code)
    known = existing(connection, rows.tx_ids)
    results = _medical_replays(connection, rows, known)
    fresh = [i for i in range(len(rows.tx_ids)) if rows.tx_ids[i] not in known]
    if fresh:
        new = _subset(rows, fresh)
        results.update(_post_new(connection, policy, new, booking.subset(fresh), hukou, now))
    return [results[tx_id] for tx_id in rows.tx_ids]


def _days(rows: ContributionRows) -> Any:
    return np.array([day_number(Month(int(m)).first_day()) for m in rows.months], dtype=np.int64)


def _booking(policy: Policy, rows: ContributionRows, hukou: str) -> Booking:
    """Split each month at the work region; the hukou pool decides the hukou region's part,
    against the average monthly wage of the work region (contribution.base, as the bounds)."""
    wages = contribution_bounds(policy, _days(rows), np.array(rows.regions)).wage_fen
    parts = [
        hukou_pool(policy, Month(int(m)).first_day(), region, hukou, [base], [wage])
        for m, region, base, wage in zip(rows.months, rows.regions, rows.base_fen.tolist(),
                                         wages.tolist(), strict=True)
    ]  # fmt: skip
    return Booking(
        [int(p.split.due_fen[0]) for p in parts],
        [int(p.split.individual_account_fen[0]) for p in parts],
        [int(p.split.pooled_fen[0]) for p in parts],
        [int(p.hukou_fen[0]) for p in parts],
    )


def _medical_replays(
    connection: Connection, rows: ContributionRows, known: dict[str, Any]
) -> dict[str, MedicalMonthPaid]:
    """The pension's replay check (same worker, month and base), and the same scheme too."""
    replays: dict[str, MonthPaid] = _replays(connection, rows, known)
    if not replays:
        return {}
    schemes = dict(
        connection.execute(
            select(contribution_months.c.tx_id, contribution_months.c.scheme).where(
                contribution_months.c.tx_id.in_(list(replays))
            )
        ).all()
    )
    for tx_id in replays:
        if schemes.get(tx_id) != SCHEME.value:
            raise TransactionConflict(
                f"transaction id {tx_id!r} was already used for a {schemes.get(tx_id)} payment;"
                " use a new id for an employee medical payment"
            )
    held = {
        r.obligation_id: (r.to_region, int(r.amount_fen))
        for r in connection.execute(
            select(region_obligations).where(
                region_obligations.c.obligation_id.in_([t + HUKOU_SUFFIX for t in replays])
            )
        )
    }
    out = {}
    for tx_id, p in replays.items():
        to_region, amount = held.get(tx_id + HUKOU_SUFFIX, (None, 0))
        out[tx_id] = MedicalMonthPaid(**p.__dict__, hukou_region=to_region, hukou_fen=amount)
    return out


def _post_new(
    connection: Connection, policy: Policy, rows: ContributionRows, booking: Booking, hukou: str,
    now: datetime,
) -> dict[str, MedicalMonthPaid]:  # fmt: skip
    _check_months(policy, rows, now.date())
    _check_bases(policy, rows, _days(rows), np.array(rows.regions))
    _check_not_paid(connection, rows, SCHEME)
    transactions, paid, obligations = [], {}, []
    for i, tx_id in enumerate(rows.tx_ids):
        worker, region, month = rows.worker_ids[i], rows.regions[i], Month(int(rows.months[i]))
        held = booking.hukou_fen[i]
        lines = [
            (collection(SCHEME, region), -booking.due_fen[i]),
            (individual_account(worker, SCHEME, region), booking.account_fen[i]),
            (pooled_entitlement(worker, SCHEME, region), booking.pooled_fen[i] - held),
            (clearing(SCHEME, region), held),
        ]
        transactions.append(Transaction.build(
            tx_id, TxCode.CONTRIBUTION, region, month, now,
            [Posting(account, amount) for account, amount in lines if amount], worker_id=worker,
        ))  # fmt: skip
        if held:
            transactions.append(Transaction.build(
                tx_id + HUKOU_SUFFIX, TxCode.CONTRIBUTION, hukou, month, now,
                [Posting(clearing(SCHEME, hukou), -held),
                 Posting(pooled_entitlement(worker, SCHEME, hukou), held)],
                worker_id=worker, memo=f"pooled part of {tx_id} held at the hukou region",
            ))  # fmt: skip
            obligations.append({
                "obligation_id": tx_id + HUKOU_SUFFIX, "scheme": SCHEME.value, "from_region": region,
                "to_region": hukou, "amount_fen": held, "on_day": now.date(),
            })  # fmt: skip
        paid[tx_id] = MedicalMonthPaid(
            tx_id, month, region, int(rows.base_fen[i]), booking.due_fen[i], booking.account_fen[i],
            booking.pooled_fen[i], False, hukou if held else None, held,
        )  # fmt: skip
    post_transactions(connection, transactions)
    connection.execute(contribution_months.insert(), [
        {"tx_id": p.tx_id, "worker_id": rows.worker_ids[0], "scheme": SCHEME.value,
         "month": p.month.ordinal, "region": p.region, "base_fen": p.base_fen, "due_fen": p.due_fen,
         "account_fen": p.individual_account_fen, "pooled_fen": p.pooled_fen, "temporary": False}
        for p in paid.values()
    ])  # fmt: skip
    connection.execute(paid_months.insert(), [
        {"worker_id": rows.worker_ids[0], "scheme": SCHEME.value, "month": p.month.ordinal,
         "tx_id": p.tx_id}
        for p in paid.values()
    ])  # fmt: skip
    if obligations:
        connection.execute(region_obligations.insert(), obligations)
    return paid


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
    notes: list[str]
    explanation: list[dict[str, object]]

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = dict(self.__dict__)
        data["day"] = self.day.isoformat()
        data["last_paid"] = None if self.last_paid is None else str(self.last_paid)
        data["lifetime"] = None if self.lifetime is None else self.lifetime.to_json()
        return data


def _paid_months(connection: Connection, worker_id: str) -> list[tuple[str, int]]:
    """(region, month) of every employee-medical month paid and not reversed."""
    return [
        (r.region, int(r.month))
        for r in connection.execute(
            select(contribution_months.c.region, contribution_months.c.month)
            .join(paid_months, paid_months.c.tx_id == contribution_months.c.tx_id)
            .where(contribution_months.c.worker_id == worker_id,
                   contribution_months.c.scheme == SCHEME.value)
        )
    ]  # fmt: skip


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
    notes = [] if paid else ["no month paid yet: a first enrolment waits the region's full period"]
    wait = waiting_period(policy, day, region, [MONTHS_MAX if gap is None else gap])
    explanation: list[dict[str, object]] = [
        {"step": "待遇等待期 / waiting period", "gap_months": gap,
         "waiting_months": int(wait.waiting_months[0]), "parameters": wait.cited(0)},
    ]  # fmt: skip
    lifetime = None
    retire_day = max(
        day, _retirement_month(policy, worker.sex, worker.birth_month, day).first_day()
    )
    try:
        cover = lifetime_cover(policy, retire_day, region, worker.sex, [total], [local])
    except ParameterNotFound as exc:
        notes.append(f"lifetime cover unknown in {region}: {exc.message}")
    else:
        lifetime = LifetimeStatus(
            region, retire_day, bool(cover.met[0]), int(cover.required_total_months[0]),
            int(cover.required_local_months[0]), int(cover.shortfall_months[0]),
        )  # fmt: skip
        explanation.append(
            {"step": "退休医保最低缴费年限 / lifetime cover", "total_months": total,
             "local_months": local, "shortfall_months": lifetime.shortfall_months,
             "parameters": cover.cited(0)}
        )  # fmt: skip
    return MedicalStatus(
        worker_id, day, region, dict(sorted(by_region.items())), total, local, last, gap,
        int(wait.waiting_months[0]), lifetime, notes, explanation,
    )  # fmt: skip


def _retirement_month(policy: Policy, sex: str, birth: Month, day: date) -> Month:
    """The statutory retirement month (2025 reform; a woman flexible worker's category)."""
    category = np.array([category_index(sex, None, policy, day)], dtype=np.int64)
    births = np.array([birth.ordinal], dtype=np.int64)
    _, _, reach = statutory_retirement(retirement_rule(policy, day), births, category)
    return Month(int(reach[0]))


# transfer ----------------------------------------------------------------------------------


def quote_medical_transfer(
    connection: Connection, policy: Policy, worker_id: str, from_region: str, to_region: str,
    day: date,
) -> TransferQuote:  # fmt: skip
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
    months = connection.execute(
        select(func.count()).select_from(paid_months)
        .join(contribution_months, contribution_months.c.tx_id == paid_months.c.tx_id)
        .where(paid_months.c.worker_id == worker_id, paid_months.c.scheme == SCHEME.value,
               contribution_months.c.region == from_region)
    ).scalar_one()  # fmt: skip
    if not months and not account and not entitlement:
        raise MedicalRefused(
            f"worker {worker_id} has no employee medical record or money in {from_region};"
            " there is nothing to transfer"
        )
    moved = transfer_amounts(policy, day, from_region, to_region, [account], [entitlement])
    step = Step(
        "医保关系转移接续 / medical transfer",
        "the individual account moves; the pooled entitlement moves only if"
        " medical.transfer.pooled_moves, else it stays in the old region's pooled fund",
        {"account_fen": str(account), "pooled_entitlement_fen": str(entitlement)},
        f"moves {int(moved.moved_fen[0])} fen, stays {int(moved.pooled_stays_fen[0])} fen",
        tuple(moved.parameters.for_case(0).values()),
    )
    return TransferQuote(
        temporary=False, account_fen=int(moved.account_moved_fen[0]),
        pooled_fen=int(moved.pooled_moved_fen[0]), kept_fen=int(moved.pooled_stays_fen[0]),
        interest_fen=0, steps=[step],
    )  # fmt: skip
