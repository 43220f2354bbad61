"""Pension transfer between regions (养老保险关系转移接续): a state machine with idempotent steps.

    requested ──approve (old region A)──▶ approved ──accept (new region B)──▶ accepted
        │                                   │                                  │
        ├──reject──▶ rejected ◀──reject─────┘                        complete ─▶ completed
        └──(past its deadline)──▶ expired

Each step has its deadline, ``transfer.step_deadline_working_days`` Chinese working days
(调休 included) after the previous step. Money moves only through the ledger:

- approve posts, in A's journal, ``transfer/{id}/out``: the worker's individual account and
  pooled entitlement in A leave; A's pooled fund keeps what the scenario leaves behind (or
  pays the interest the reform adds); the total goes to A's clearing account.
- accept posts, in B's journal, ``transfer/{id}/in``: B's clearing account pays the total
  into the worker's individual account and pooled entitlement in B.
- reject after approval posts ``transfer/{id}/return``, the reversal of ``out``.

A's clearing balance (+) and B's (−) are the obligation between the two regional funds,
netted and settled per window by ``settlement``. Repeating a step returns the transfer as
it is; a step out of order is refused with nothing written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, select, update

from suiren.domain.errors import InvalidInput, SuirenError
from suiren.domain.month import Month
from suiren.domain.region import RegionCode
from suiren.domain.workdays import add_working_days
from suiren.ledger.accounts import (
    Scheme,
    clearing,
    individual_account,
    pooled_entitlement,
    pooled_fund,
)
from suiren.ledger.transaction import TX_ID_RE, Posting, Transaction, TxCode
from suiren.policy import Policy, load_policy
from suiren.policy.transfer import TransferInputs, TransferQuote, quote_transfer
from suiren.services.workers import enrolment_region, get_worker
from suiren.store.ledger_repo import balances, lock_chain_head, post_transactions
from suiren.store.tables import (
    contribution_months,
    enrolments,
    paid_months,
    postings,
    transfer_events,
    transfers,
)

OPEN_STATES = ("requested", "approved", "accepted")
NEXT_STEP = {"requested": "approve", "approved": "accept", "accepted": "complete"}


class TransferRefused(SuirenError):
    code = "transfer-refused"


@dataclass(frozen=True)
class TransferView:
    transfer_id: str
    worker_id: str
    from_region: str
    to_region: str
    scenario: str
    state: str
    temporary: bool
    account_fen: int
    pooled_fen: int
    kept_fen: int
    interest_fen: int
    requested_on: date
    due_on: date
    completed_on: date | None

    def to_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        for key in ("requested_on", "due_on", "completed_on"):
            data[key] = None if data[key] is None else data[key].isoformat()
        data["next_step"] = NEXT_STEP.get(self.state)
        return data


def get_transfer(connection: Connection, transfer_id: str) -> TransferView:
    row = connection.execute(
        select(transfers).where(transfers.c.transfer_id == transfer_id)
    ).first()
    if row is None:
        raise TransferRefused(f"no transfer {transfer_id!r}")
    return TransferView(**{k: row._mapping[k] for k in TransferView.__dataclass_fields__})


def _deadline(policy: Policy, region: str, day: date) -> date:
    days = int(policy.at(day, region).value("transfer.step_deadline_working_days"))
    return add_working_days(day, days)


def _quote(connection: Connection, policy: Policy, worker_id: str, from_region: str, to_region: str,
           day: date, scheme: Scheme) -> TransferQuote:  # fmt: skip
    worker = get_worker(connection, worker_id)
    held_in = _regions_held_in(connection, worker_id, from_region)
    rows = connection.execute(
        select(contribution_months.c.month, contribution_months.c.base_fen, contribution_months.c.pooled_fen)
        .join(paid_months, paid_months.c.tx_id == contribution_months.c.tx_id)
        .where(contribution_months.c.worker_id == worker_id, contribution_months.c.region.in_(held_in),
               contribution_months.c.scheme == scheme.value)
    ).all()  # fmt: skip
    if not rows:
        raise TransferRefused(
            f"worker {worker_id} has paid no contributions in {from_region}; there is nothing to transfer"
        )
    keys = {
        "account": str(individual_account(worker_id, scheme, from_region)),
        "entitlement": str(pooled_entitlement(worker_id, scheme, from_region)),
    }
    held = balances(connection, keys.values())
    credits = connection.execute(
        select(postings.c.legal_month, postings.c.amount_fen).where(
            postings.c.account == keys["entitlement"], postings.c.region == from_region
        )
    ).all()
    inputs = TransferInputs(
        day=day, from_region=from_region, to_region=to_region, sex=worker.sex,
        age_months=Month.from_date(day) - worker.birth_month, hukou_province=worker.hukou_region,
        account_fen=held.get(keys["account"], 0), entitlement_fen=held.get(keys["entitlement"], 0),
        months=np.array([r.month for r in rows], dtype=np.int64),
        bases_fen=np.array([r.base_fen for r in rows], dtype=np.int64),
        credit_months=np.array([c.legal_month for c in credits], dtype=np.int64),
        credits_fen=np.array([c.amount_fen for c in credits], dtype=np.int64),
    )  # fmt: skip
    return quote_transfer(policy, inputs)


def _regions_held_in(connection: Connection, worker_id: str, region: str) -> set[str]:
    """``region`` and every region whose money reached it by completed transfers (the record
    travels with the money, so the next transfer counts those months' bases too)."""
    moves = connection.execute(
        select(transfers.c.from_region, transfers.c.to_region).where(
            transfers.c.worker_id == worker_id, transfers.c.state == "completed",
            transfers.c.temporary.is_(False),
        )
    ).all()  # fmt: skip
    held = {region}
    grew = True
    while grew:
        before = len(held)
        held |= {m.from_region for m in moves if m.to_region in held}
        grew = len(held) > before
    return held


def request_transfer(
    connection: Connection, policy: Policy, transfer_id: str, worker_id: str, to_region: str,
    now: datetime, scheme: Scheme = Scheme.EMPLOYEE_PENSION,
) -> TransferView:  # fmt: skip
    """The worker (or the agency for them) asks to move their insurance to ``to_region``."""
    if not TX_ID_RE.match(transfer_id) or len(transfer_id) > 100:
        raise InvalidInput("a transfer id is 1–100 characters of letters, digits and ._:/-")
    target = RegionCode.parse(to_region).code
    prior = connection.execute(
        select(transfers).where(transfers.c.transfer_id == transfer_id)
    ).first()
    if prior is not None:
        if (prior.worker_id, prior.to_region) != (worker_id, target):
            raise TransferRefused(
                f"transfer id {transfer_id!r} was already used for another transfer"
            )
        return get_transfer(connection, transfer_id)
    from_region, _, _ = enrolment_region(connection, worker_id, scheme)
    lock_chain_head(connection, from_region)  # serialise with other requests for this region
    if enrolment_region(connection, worker_id, scheme)[0] != from_region:
        raise TransferRefused(
            f"worker {worker_id}'s insurance moved while this request was made; send it again"
        )
    prior = connection.execute(
        select(transfers).where(transfers.c.transfer_id == transfer_id)
    ).first()
    if prior is not None:
        if (prior.worker_id, prior.to_region) != (worker_id, target):
            raise TransferRefused(
                f"transfer id {transfer_id!r} was already used for another transfer"
            )
        return get_transfer(connection, transfer_id)
    if target == from_region:
        raise TransferRefused(
            f"the worker is already insured in {target}; a transfer needs another region"
        )
    open_one = connection.execute(
        select(transfers.c.transfer_id).where(
            transfers.c.worker_id == worker_id, transfers.c.state.in_(OPEN_STATES)
        )
    ).first()
    if open_one is not None:
        raise TransferRefused(
            f"worker {worker_id} already has an open transfer ({open_one.transfer_id})"
        )
    day = now.date()
    quote = _quote(connection, policy, worker_id, from_region, target, day, scheme)
    connection.execute(
        transfers.insert().values(
            transfer_id=transfer_id, worker_id=worker_id, scheme=scheme.value, from_region=from_region,
            to_region=target, scenario=policy.name, state="requested", temporary=quote.temporary,
            account_fen=quote.account_fen, pooled_fen=quote.pooled_fen, kept_fen=quote.kept_fen,
            interest_fen=quote.interest_fen, requested_on=day, due_on=_deadline(policy, from_region, day),
            completed_on=None,
        )
    )  # fmt: skip
    _event(connection, transfer_id, "requested", now, None, f"to {target}")
    return get_transfer(connection, transfer_id)


def _event(
    connection: Connection, transfer_id: str, step: str, now: datetime, tx_id: str | None, note: str
) -> None:
    connection.execute(
        transfer_events.insert().values(
            transfer_id=transfer_id,
            step=step,
            on_day=now.date(),
            recorded_at=now,
            tx_id=tx_id,
            note=note[:256],
        )
    )


def _advance(
    connection: Connection, transfer_id: str, expected: str, step: str
) -> TransferView | None:
    """The transfer if ``step`` was already done (a replay); None if it may be done now.

    Both regions' chain heads are locked first, in code order (the order every writer uses,
    so no two transfers deadlock): each step is serialised with the other writers of those
    regions, and two identical calls cannot both do it.
    """
    view = get_transfer(connection, transfer_id)
    for region in sorted({view.from_region, view.to_region}):
        lock_chain_head(connection, region)
    view = get_transfer(connection, transfer_id)
    done = connection.execute(
        select(transfer_events.c.step).where(
            transfer_events.c.transfer_id == transfer_id, transfer_events.c.step == step
        )
    ).first()
    if done is not None:
        return view
    if view.state != expected:
        command = {"approved": "approve", "accepted": "accept", "completed": "complete"}[step]
        raise TransferRefused(
            f"transfer {transfer_id} is {view.state}; {command} needs it to be {expected}"
            + (f" (next step: {NEXT_STEP[view.state]})" if view.state in NEXT_STEP else "")
        )
    return None


def approve_transfer(
    connection: Connection, transfer_id: str, now: datetime, policy: Policy | None = None
) -> TransferView:
    """The old region releases the money (转出): its accounts to its clearing account."""
    replay = _advance(connection, transfer_id, "requested", "approved")
    if replay is not None:
        return replay
    view = get_transfer(connection, transfer_id)
    policy = policy or load_policy(view.scenario)  # the scenario it was requested under
    scheme = Scheme.EMPLOYEE_PENSION
    day = now.date()
    quote = _quote(
        connection, policy, view.worker_id, view.from_region, view.to_region, day, scheme
    )
    tx_id = None
    if not quote.temporary and quote.total_fen + quote.kept_fen:
        entitlement = quote.pooled_fen - quote.interest_fen + quote.kept_fen
        tx = Transaction.build(
            f"transfer/{transfer_id}/out", TxCode.TRANSFER, view.from_region, Month.from_date(day), now,
            _nonzero([
                (individual_account(view.worker_id, scheme, view.from_region), -quote.account_fen),
                (pooled_entitlement(view.worker_id, scheme, view.from_region), -entitlement),
                (pooled_fund(scheme, view.from_region), quote.kept_fen - quote.interest_fen),
                (clearing(scheme, view.from_region), quote.total_fen),
            ]),
            worker_id=view.worker_id, memo=f"transfer {transfer_id} to {view.to_region}",
        )  # fmt: skip
        tx_id = post_transactions(connection, [tx])[0].tx_id
    connection.execute(
        update(transfers).where(transfers.c.transfer_id == transfer_id).values(
            state="approved", temporary=quote.temporary, account_fen=quote.account_fen,
            pooled_fen=quote.pooled_fen, kept_fen=quote.kept_fen, interest_fen=quote.interest_fen,
            due_on=_deadline(policy, view.to_region, day),
        )
    )  # fmt: skip
    _event(
        connection,
        transfer_id,
        "approved",
        now,
        tx_id,
        "temporary account" if quote.temporary else "",
    )
    return get_transfer(connection, transfer_id)


def accept_transfer(
    connection: Connection, transfer_id: str, now: datetime, policy: Policy | None = None
) -> TransferView:
    """The new region takes the money in (转入): its clearing account to the worker's accounts."""
    replay = _advance(connection, transfer_id, "approved", "accepted")
    if replay is not None:
        return replay
    view = get_transfer(connection, transfer_id)
    policy = policy or load_policy(view.scenario)
    scheme = Scheme.EMPLOYEE_PENSION
    day = now.date()
    tx_id = None
    if not view.temporary and view.account_fen + view.pooled_fen:
        tx = Transaction.build(
            f"transfer/{transfer_id}/in", TxCode.TRANSFER, view.to_region, Month.from_date(day), now,
            _nonzero([
                (clearing(scheme, view.to_region), -(view.account_fen + view.pooled_fen)),
                (individual_account(view.worker_id, scheme, view.to_region), view.account_fen),
                (pooled_entitlement(view.worker_id, scheme, view.to_region), view.pooled_fen),
            ]),
            worker_id=view.worker_id, memo=f"transfer {transfer_id} from {view.from_region}",
        )  # fmt: skip
        tx_id = post_transactions(connection, [tx])[0].tx_id
    connection.execute(
        update(transfers)
        .where(transfers.c.transfer_id == transfer_id)
        .values(state="accepted", due_on=_deadline(policy, view.to_region, day))
    )
    _event(connection, transfer_id, "accepted", now, tx_id, "")
    return get_transfer(connection, transfer_id)


def complete_transfer(
    connection: Connection, transfer_id: str, now: datetime, policy: Policy | None = None
) -> TransferView:
    """The new region finishes (办结): the worker is now insured there (or has a temporary account)."""
    replay = _advance(connection, transfer_id, "accepted", "completed")
    if replay is not None:
        return replay
    view = get_transfer(connection, transfer_id)
    day = now.date()
    connection.execute(
        update(enrolments)
        .where(
            enrolments.c.worker_id == view.worker_id,
            enrolments.c.scheme == Scheme.EMPLOYEE_PENSION.value,
        )
        .values(
            region=view.to_region,
            temporary=view.temporary,
            start_month=Month.from_date(day).ordinal,
        )
    )
    connection.execute(
        update(transfers)
        .where(transfers.c.transfer_id == transfer_id)
        .values(state="completed", completed_on=day)
    )
    _event(connection, transfer_id, "completed", now, None, "")
    return get_transfer(connection, transfer_id)


def reject_transfer(
    connection: Connection, transfer_id: str, now: datetime, reason: str
) -> TransferView:
    """Either region refuses before completion; money already in clearing goes back to A."""
    view = get_transfer(connection, transfer_id)
    for region in sorted({view.from_region, view.to_region}):
        lock_chain_head(connection, region)
    view = get_transfer(connection, transfer_id)
    if view.state == "rejected":
        return view
    if view.state not in ("requested", "approved"):
        raise TransferRefused(
            f"transfer {transfer_id} is {view.state}; only a requested or approved one can be rejected"
        )
    tx_id = None
    if view.state == "approved":
        out = connection.execute(
            select(transfer_events.c.tx_id).where(
                transfer_events.c.transfer_id == transfer_id, transfer_events.c.step == "approved"
            )
        ).scalar_one()
        if out is not None:
            from suiren.services.reversals import reverse

            tx_id = reverse(
                connection, out, f"transfer/{transfer_id}/return", now, f"rejected: {reason}"[:200]
            ).tx_id
    connection.execute(
        update(transfers).where(transfers.c.transfer_id == transfer_id).values(state="rejected")
    )
    _event(connection, transfer_id, "rejected", now, tx_id, reason or "rejected")
    return get_transfer(connection, transfer_id)


def overdue(connection: Connection, today: date) -> list[TransferView]:
    """Open transfers whose current step is past its deadline."""
    rows = connection.execute(
        select(transfers.c.transfer_id)
        .where(transfers.c.state.in_(OPEN_STATES), transfers.c.due_on < today)
        .order_by(transfers.c.due_on)
    )
    return [get_transfer(connection, r.transfer_id) for r in rows]


def expire_overdue(connection: Connection, now: datetime) -> list[TransferView]:
    """Requested transfers never approved by their deadline expire (no money has moved)."""
    expired = []
    for view in overdue(connection, now.date()):
        if view.state == "requested":
            connection.execute(
                update(transfers)
                .where(transfers.c.transfer_id == view.transfer_id)
                .values(state="expired")
            )
            _event(
                connection, view.transfer_id, "expired", now, None, f"not approved by {view.due_on}"
            )
            expired.append(get_transfer(connection, view.transfer_id))
    return expired


def _nonzero(lines: list[tuple[Any, int]]) -> list[Posting]:
    return [Posting(account, amount) for account, amount in lines if amount != 0]
