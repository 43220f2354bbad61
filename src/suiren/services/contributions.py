"""Contributions (缴费) of flexible workers: one balanced transaction per month.

A request names the worker, a month or a range (monthly, quarterly, yearly payment), the
base the worker chose and an idempotency key; each month becomes the transaction
``{request_id}/{YYYY-MM}``:

    collection (region)                      −due
    individual account (worker, region)      +8% of the base
    pooled entitlement (worker, region)      +the rest (the worker's share of the pooled fund)

Refused, with nothing written: an unknown or unenrolled worker, a base outside the
region's floor and ceiling for that month (the message gives the range), a month in the
future, a back-payment (补缴) beyond what the parameters allow, a month already paid by
another request. Replaying a request returns its first result.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, select, text

from suiren.domain.errors import InvalidInput, SuirenError
from suiren.domain.money import fen_to_yuan_str
from suiren.domain.month import Month
from suiren.ledger.accounts import Scheme, collection, individual_account, pooled_entitlement
from suiren.ledger.transaction import Posting, Transaction, TxCode
from suiren.policy import Policy
from suiren.policy.contribution import contribution_bounds, split_contribution
from suiren.rules.vector import day_number
from suiren.services.workers import enrolment_region
from suiren.store.bulk import fill_keys, insert_rows
from suiren.store.db import is_postgres
from suiren.store.ledger_repo import (
    TransactionConflict,
    existing,
    lock_chain_head,
    post_transactions,
)
from suiren.store.tables import contribution_months, paid_months, transfers

RANGE_MONTHS_MAX = 12
BATCH_ROWS_MAX = 2_000_000
LOOKUP_CHUNK = 500


class ContributionRefused(SuirenError):
    code = "contribution-refused"


@dataclass(frozen=True)
class MonthPaid:
    tx_id: str
    month: Month
    region: str
    base_fen: int
    due_fen: int
    individual_account_fen: int
    pooled_fen: int
    replayed: bool

    def to_json(self) -> dict[str, object]:
        return {
            "tx_id": self.tx_id,
            "month": str(self.month),
            "region": self.region,
            "base_yuan": fen_to_yuan_str(self.base_fen),
            "due_fen": self.due_fen,
            "individual_account_fen": self.individual_account_fen,
            "pooled_fen": self.pooled_fen,
            "replayed": self.replayed,
        }


@dataclass(frozen=True)
class ContributionRows:
    """Many contribution months as columns (the bulk path and the single path alike)."""

    tx_ids: list[str]
    worker_ids: list[str]
    regions: list[str]
    months: np.ndarray  # Month ordinals
    base_fen: np.ndarray
    temporary: list[bool] | None = None  # paid to a temporary account (临时账户); default no


def contribute(
    connection: Connection,
    policy: Policy,
    request_id: str,
    worker_id: str,
    first: Month,
    last: Month,
    base_fen: int,
    now: datetime,
    scheme: Scheme = Scheme.EMPLOYEE_PENSION,
) -> list[MonthPaid]:
    if last < first:
        raise InvalidInput(f"the range ends ({last}) before it starts ({first})")
    if last - first + 1 > RANGE_MONTHS_MAX:
        raise InvalidInput(f"at most {RANGE_MONTHS_MAX} months per payment, got {last - first + 1}")
    region, _, temporary = enrolment_region(connection, worker_id, scheme)
    months = np.arange(first.ordinal, last.ordinal + 1, dtype=np.int64)
    rows = ContributionRows(
        tx_ids=[f"{request_id}/{Month(int(m))}" for m in months],
        worker_ids=[worker_id] * len(months),
        regions=[region] * len(months),
        months=months,
        base_fen=np.full(len(months), base_fen, dtype=np.int64),
        temporary=[temporary] * len(months),
    )
    return post_contributions(connection, policy, rows, now, scheme)


def post_contributions(
    connection: Connection, policy: Policy, rows: ContributionRows, now: datetime,
    scheme: Scheme = Scheme.EMPLOYEE_PENSION,
) -> list[MonthPaid]:  # fmt: skip
    """Post contribution months in one go; all or nothing.

    The regions' chain heads are locked first, so that what is found already paid or
    already journalled stays true until commit. A request id already in the journal is a
    replay: it returns what was recorded (and is refused if the worker, month or base
    differ), whatever has changed since — a reversal, a new year, new bounds. Every other
    row is validated (vectorised) before anything is written.
    """
    n = len(rows.tx_ids)
    if n > BATCH_ROWS_MAX:
        raise InvalidInput(f"at most {BATCH_ROWS_MAX} contribution months per batch, got {n}")
    for region in sorted(set(rows.regions)):
        lock_chain_head(connection, region)
    known = existing(connection, rows.tx_ids)
    replays = _replays(connection, rows, known)
    fresh = [i for i in range(n) if rows.tx_ids[i] not in known]
    new = _subset(rows, fresh)
    paid = _post_new(connection, policy, new, now, scheme) if fresh else []
    results = dict(zip(new.tx_ids, paid, strict=True))
    results.update(replays)
    return [results[tx_id] for tx_id in rows.tx_ids]


def _subset(rows: ContributionRows, index: list[int]) -> ContributionRows:
    if len(index) == len(rows.tx_ids):
        return rows
    return ContributionRows(
        [rows.tx_ids[i] for i in index], [rows.worker_ids[i] for i in index],
        [rows.regions[i] for i in index], rows.months[index], rows.base_fen[index],
        None if rows.temporary is None else [rows.temporary[i] for i in index],
    )  # fmt: skip


def _replays(
    connection: Connection, rows: ContributionRows, known: dict[str, Any]
) -> dict[str, MonthPaid]:
    """The recorded result of each row whose id is already journalled."""
    if not known:
        return {}
    recorded: dict[str, Any] = {}
    ids = [t for t in rows.tx_ids if t in known]
    if is_postgres(connection) and len(ids) > LOOKUP_CHUNK:
        fill_keys(connection, "replayed_tx", ids)
        found = connection.execute(
            text("SELECT m.* FROM contribution_months m JOIN replayed_tx r ON r.key = m.tx_id")
        )
        recorded = {row.tx_id: row for row in found}
    else:
        for start in range(0, len(ids), LOOKUP_CHUNK):
            chunk = ids[start : start + LOOKUP_CHUNK]
            for row in connection.execute(
                select(contribution_months).where(contribution_months.c.tx_id.in_(chunk))
            ):
                recorded[row.tx_id] = row
    out: dict[str, MonthPaid] = {}
    for i, tx_id in enumerate(rows.tx_ids):
        if tx_id not in known:
            continue
        row = recorded.get(tx_id)
        same = row is not None and (row.worker_id, int(row.month), int(row.base_fen)) == (
            rows.worker_ids[i], int(rows.months[i]), int(rows.base_fen[i]),
        )  # fmt: skip
        if not same:
            raise TransactionConflict(
                f"transaction id {tx_id!r} was already used for a different transaction;"
                " use a new id for a new payment"
            )
        out[tx_id] = MonthPaid(tx_id, Month(int(row.month)), row.region, int(row.base_fen),
                               int(row.due_fen), int(row.account_fen), int(row.pooled_fen), True)  # fmt: skip
    return out


def _post_new(
    connection: Connection, policy: Policy, rows: ContributionRows, now: datetime, scheme: Scheme
) -> list[MonthPaid]:
    n = len(rows.tx_ids)
    today = now.date()
    _check_months(policy, rows, today)
    days = np.array([day_number(Month(int(m)).first_day()) for m in rows.months], dtype=np.int64)
    regions = np.array(rows.regions)
    _check_bases(policy, rows, days, regions)
    split = split_contribution(policy, days, regions, rows.base_fen)
    _check_not_paid(connection, rows, scheme)
    transactions = [
        Transaction.build(
            rows.tx_ids[i], TxCode.CONTRIBUTION, rows.regions[i], Month(int(rows.months[i])), now,
            [
                Posting(collection(scheme, rows.regions[i]), -int(split.due_fen[i])),
                Posting(individual_account(rows.worker_ids[i], scheme, rows.regions[i]),
                        int(split.individual_account_fen[i])),
                Posting(pooled_entitlement(rows.worker_ids[i], scheme, rows.regions[i]),
                        int(split.pooled_fen[i])),
            ],
            worker_id=rows.worker_ids[i],
        )
        for i in range(n)
    ]  # fmt: skip
    post_transactions(connection, transactions, checked=True)
    insert_rows(
        connection, contribution_months,
        ("tx_id", "worker_id", "scheme", "month", "region", "base_fen", "due_fen", "account_fen",
         "pooled_fen", "temporary"),
        [(rows.tx_ids[i], rows.worker_ids[i], scheme.value, int(rows.months[i]), rows.regions[i],
          int(rows.base_fen[i]), int(split.due_fen[i]), int(split.individual_account_fen[i]),
          int(split.pooled_fen[i]), bool(rows.temporary[i]) if rows.temporary else False)
         for i in range(n)],
    )  # fmt: skip
    insert_rows(
        connection, paid_months, ("worker_id", "scheme", "month", "tx_id"),
        [(rows.worker_ids[i], scheme.value, int(rows.months[i]), rows.tx_ids[i]) for i in range(n)],
        plain=True,
    )  # fmt: skip
    return [
        MonthPaid(rows.tx_ids[i], Month(int(rows.months[i])), rows.regions[i], int(rows.base_fen[i]),
                  int(split.due_fen[i]), int(split.individual_account_fen[i]), int(split.pooled_fen[i]),
                  False)
        for i in range(n)
    ]  # fmt: skip


def _check_months(policy: Policy, rows: ContributionRows, today) -> None:  # type: ignore[no-untyped-def]
    current = Month.from_date(today).ordinal
    future = np.flatnonzero(rows.months > current)
    if len(future):
        i = int(future[0])
        raise ContributionRefused(
            f"row {i}: month {Month(int(rows.months[i]))} is in the future; pay it when it comes"
        )
    years_back = int(policy.national(today).value("contribution.flexible.back_payment_years_max"))
    earliest = Month.of(today.year - years_back, 1).ordinal
    early = np.flatnonzero(rows.months < earliest)
    if len(early):
        i = int(early[0])
        raise ContributionRefused(
            f"row {i}: back-payment (补缴) of {Month(int(rows.months[i]))} is not allowed; flexible"
            f" workers may pay missed months from {Month(earliest)} on"
        )


def _check_bases(
    policy: Policy, rows: ContributionRows, days: np.ndarray, regions: np.ndarray
) -> None:
    bounds = contribution_bounds(policy, days, regions)
    bad = np.flatnonzero((rows.base_fen < bounds.floor_fen) | (rows.base_fen > bounds.ceiling_fen))
    if len(bad):
        i = int(bad[0])
        raise ContributionRefused(
            f"row {i}: base {fen_to_yuan_str(int(rows.base_fen[i]))} yuan is outside the allowed"
            f" range for {Month(int(rows.months[i]))} in {rows.regions[i]}:"
            f" {fen_to_yuan_str(int(bounds.floor_fen[i]))} to"
            f" {fen_to_yuan_str(int(bounds.ceiling_fen[i]))} yuan"
        )


def _check_not_paid(connection: Connection, rows: ContributionRows, scheme: Scheme) -> None:
    """A month paid by another request cannot be paid again (a replay of the same is fine)."""
    wanted = {
        (w, int(m)): t for w, m, t in zip(rows.worker_ids, rows.months, rows.tx_ids, strict=True)
    }
    if len(wanted) != len(rows.tx_ids):
        raise ContributionRefused("the same worker and month appear twice in one batch")
    workers = sorted(set(rows.worker_ids))
    if is_postgres(connection) and len(workers) > LOOKUP_CHUNK:
        fill_keys(connection, "wanted_workers", workers)
        found = connection.execute(
            text(
                "SELECT p.worker_id, p.month, p.tx_id FROM paid_months p"
                " JOIN wanted_workers w ON w.key = p.worker_id WHERE p.scheme = :scheme"
            ),
            {"scheme": scheme.value},
        )
        _refuse_paid(found, wanted)
        moving = connection.execute(
            text(
                "SELECT t.worker_id, t.transfer_id, t.from_region FROM transfers t"
                " JOIN wanted_workers w ON w.key = t.worker_id"
                " WHERE t.state IN ('approved', 'accepted') AND t.scheme = :scheme"
            ),
            {"scheme": scheme.value},
        )
        _refuse_moving(moving, rows)
        return
    for start in range(0, len(workers), LOOKUP_CHUNK):
        chunk = workers[start : start + LOOKUP_CHUNK]
        found = connection.execute(
            select(paid_months.c.worker_id, paid_months.c.month, paid_months.c.tx_id).where(
                paid_months.c.scheme == scheme.value, paid_months.c.worker_id.in_(chunk)
            )
        )
        _refuse_paid(found, wanted)
        moving = connection.execute(
            select(transfers.c.worker_id, transfers.c.transfer_id, transfers.c.from_region).where(
                transfers.c.scheme == scheme.value,
                transfers.c.state.in_(("approved", "accepted")),
                transfers.c.worker_id.in_(chunk),
            )
        )
        _refuse_moving(moving, rows)


def _refuse_moving(moving: Iterable[Any], rows: ContributionRows) -> None:
    """While a transfer out of a region is under way, the money has left it: no new payments
    there until the transfer is completed (then to the new region) or rejected."""
    paying = set(zip(rows.worker_ids, rows.regions, strict=True))
    for row in moving:
        if (row.worker_id, row.from_region) in paying:
            raise ContributionRefused(
                f"worker {row.worker_id} is being transferred out of {row.from_region}"
                f" ({row.transfer_id}); pay after the transfer is completed"
            )


def _refuse_paid(found: Iterable[Any], wanted: dict[tuple[str, int], str]) -> None:
    for row in found:
        tx = wanted.get((row.worker_id, int(row.month)))
        if tx is not None and tx != row.tx_id:
            raise ContributionRefused(
                f"{Month(int(row.month))} of worker {row.worker_id} is already paid"
                f" (transaction {row.tx_id}); reverse it first to pay it again"
            )
