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
    AccountKey,
    Scheme,
    clearing,
    individual_account,
    pooled_entitlement,
    pooled_fund,
)
from suiren.ledger.transaction import TX_ID_RE, Posting, Transaction, TxCode
from suiren.policy import Policy, load_policy
from suiren.policy.transfer import (
    TransferInputs,
    TransferQuote,
    quote_gathering,
    quote_transfer,
    temporary_account,
)
from suiren.services.interest import credited, first_year, interest_for, region_credited, year_parts
from suiren.services.medical import quote_medical_transfer
from suiren.services.workers import enrolment_region, get_worker, relation_region
from suiren.store.ledger_repo import Posted, balances, lock_chain_head, post_transactions
from suiren.store.tables import (
    contribution_months,
    enrolments,
    interest_carry,
    journal,
    paid_months,
    postings,
    transfer_events,
    transfers,
)

OPEN_STATES = ("requested", "approved", "accepted")
# move: the relation and its money move to the new region; continue: nothing moves (into a
# temporary account, out of one, or back to where the relation is held); gather: a temporary
# account's money goes to the paying region at retirement (归集); claim: the relation goes
# there (66号 第六条). ``services.gathering`` starts the last two.
KINDS = ("move", "continue", "gather", "claim")
NEXT_STEP = {"requested": "approve", "approved": "accept", "accepted": "complete"}


class TransferRefused(SuirenError):
    code = "transfer-refused"


@dataclass(frozen=True)
class TransferView:
    transfer_id: str
    worker_id: str
    from_region: str
    to_region: str
    scheme: str
    scenario: str
    kind: str
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


def _deadline(policy: Policy, region: str, day: date, scheme: Scheme, step: str) -> date:
    """The deadline of ``step`` (approve, accept or complete) counted from ``day``."""
    if scheme is Scheme.EMPLOYEE_MEDICAL:  # 医保办发〔2021〕43号: out 10, in 5 working days
        name = "out" if step == "approve" else "in"
        days = int(policy.at(day, region).value(f"medical.transfer.{name}_deadline_working_days"))
    else:
        days = int(policy.at(day, region).value("transfer.step_deadline_working_days"))
    return add_working_days(day, days)


def quote_for(connection: Connection, policy: Policy, worker_id: str, from_region: str, to_region: str,
           day: date, scheme: Scheme, kind: str = "move") -> TransferQuote:  # fmt: skip
    """What a transfer of ``kind`` moves out of ``from_region`` today (see ``KINDS``)."""
    if kind == "continue":
        return TransferQuote(False, 0, 0, 0, 0)
    if scheme is Scheme.EMPLOYEE_MEDICAL:  # the account moves, the pooled part stays
        return quote_medical_transfer(connection, policy, worker_id, from_region, to_region, day)
    worker = get_worker(connection, worker_id)
    held_in = _regions_held_in(connection, worker_id, from_region, scheme)
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
    carried = (interest_carry.c.region == postings.c.region) & (interest_carry.c.seq == postings.c.seq) \
        & (interest_carry.c.account == postings.c.account)  # fmt: skip
    credits = connection.execute(
        select(postings.c.legal_month, postings.c.amount_fen, interest_carry.c.prior_fen)
        .outerjoin(interest_carry, carried)
        .where(postings.c.account == keys["entitlement"], postings.c.region == from_region)
    ).all()
    inputs = TransferInputs(
        day=day, from_region=from_region, to_region=to_region, sex=worker.sex,
        age_months=Month.from_date(day) - worker.birth_month, hukou_province=worker.hukou_region,
        account_fen=held.get(keys["account"], 0), entitlement_fen=held.get(keys["entitlement"], 0),
        months=np.array([r.month for r in rows], dtype=np.int64),
        bases_fen=np.array([r.base_fen for r in rows], dtype=np.int64),
        credit_months=np.array([c.legal_month for c in credits], dtype=np.int64),
        credits_fen=np.array([c.amount_fen for c in credits], dtype=np.int64),
        credits_prior_fen=np.array([c.prior_fen or 0 for c in credits], dtype=np.int64),
    )  # fmt: skip
    if kind == "gather":
        return quote_gathering(policy, inputs)
    return quote_transfer(policy, inputs, claim=kind == "claim")


def _regions_held_in(
    connection: Connection, worker_id: str, region: str, scheme: Scheme
) -> set[str]:
    """``region`` and every region whose money reached it by completed transfers (the record
    travels with the money, so the next transfer counts those months' bases too)."""
    moves = connection.execute(
        select(transfers.c.from_region, transfers.c.to_region).where(
            transfers.c.worker_id == worker_id, transfers.c.state == "completed",
            transfers.c.temporary.is_(False), transfers.c.kind != "continue",
            transfers.c.scheme == scheme.value,
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
        if (prior.worker_id, prior.to_region, prior.scheme) != (worker_id, target, scheme.value):
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
        if (prior.worker_id, prior.to_region, prior.scheme) != (worker_id, target, scheme.value):
            raise TransferRefused(
                f"transfer id {transfer_id!r} was already used for another transfer"
            )
        return get_transfer(connection, transfer_id)
    if target == from_region:
        raise TransferRefused(
            f"the worker is already insured in {target}; a transfer needs another region"
        )
    refuse_if_open(connection, worker_id, scheme)
    day = now.date()
    kind, source, quote = _plan(connection, policy, worker_id, from_region, target, day, scheme)
    insert_transfer(
        connection, policy, transfer_id, worker_id, scheme, kind, source, target, quote, now
    )
    return get_transfer(connection, transfer_id)


def refuse_if_open(connection: Connection, worker_id: str, scheme: Scheme) -> None:
    open_one = connection.execute(
        select(transfers.c.transfer_id).where(
            transfers.c.worker_id == worker_id, transfers.c.state.in_(OPEN_STATES),
            transfers.c.scheme == scheme.value,
        )
    ).first()  # fmt: skip
    if open_one is not None:
        raise TransferRefused(
            f"worker {worker_id} already has an open transfer ({open_one.transfer_id})"
        )


def _plan(connection: Connection, policy: Policy, worker_id: str, region: str, target: str, day: date,
          scheme: Scheme) -> tuple[str, str, TransferQuote]:  # fmt: skip
    """(kind, the region the money leaves, what moves) of a move from ``region`` to ``target``.

    Paying into a temporary account in ``region``: it is sealed where it is (gathered at
    retirement); the relation moves from where it is held if ``target`` may hold it, else
    nothing moves (``continue``: into another temporary account, or back to the relation).
    """
    _, _, paying_temporary = enrolment_region(connection, worker_id, scheme)
    if not paying_temporary:
        quote = quote_for(connection, policy, worker_id, region, target, day, scheme)
        return ("continue" if quote.temporary else "move"), region, quote
    worker = get_worker(connection, worker_id)
    relation = relation_region(connection, worker_id, scheme)
    temporary, step = temporary_account(
        policy, day, region, target, worker.sex, Month.from_date(day) - worker.birth_month,
        worker.hukou_region, relation,
    )  # fmt: skip
    if temporary or relation is None or relation == target:
        return "continue", region, TransferQuote(temporary, 0, 0, 0, 0, [step])
    return "move", relation, quote_for(connection, policy, worker_id, relation, target, day, scheme)


def insert_transfer(connection: Connection, policy: Policy, transfer_id: str, worker_id: str, scheme: Scheme,
            kind: str, source: str, target: str, quote: TransferQuote, now: datetime) -> None:  # fmt: skip
    day = now.date()
    connection.execute(
        transfers.insert().values(
            transfer_id=transfer_id, worker_id=worker_id, scheme=scheme.value, from_region=source,
            to_region=target, scenario=policy.name, kind=kind, state="requested", temporary=quote.temporary,
            account_fen=quote.account_fen, pooled_fen=quote.pooled_fen, kept_fen=quote.kept_fen,
            interest_fen=quote.interest_fen, requested_on=day, due_on=_deadline(policy, source, day, scheme, "approve"),
            completed_on=None,
        )
    )  # fmt: skip
    _event(connection, transfer_id, "requested", now, None, f"{kind} to {target}")


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
    scheme = Scheme(view.scheme)
    day = now.date()
    leaving = individual_account(view.worker_id, scheme, view.from_region)
    entitled = pooled_entitlement(view.worker_id, scheme, view.from_region)
    if view.kind == "continue":  # nothing moves; the destination was decided on request
        quote = TransferQuote(view.temporary, 0, 0, 0, 0)
    else:
        quote = quote_for(connection, policy, view.worker_id, view.from_region, view.to_region, day,
                          scheme, view.kind)  # fmt: skip
    if (
        scheme is Scheme.EMPLOYEE_PENSION
        and not quote.temporary
        and quote.total_fen + quote.kept_fen
    ):
        # the years the old region has not credited yet go with the money (see ``interest``;
        # the 记账利率 is the employee pension's)
        _catch_up(connection, policy, str(leaving), view.from_region, range(day.year - 200, day.year),
                  now, f"transfer/{transfer_id}/out-interest", only_if_region_has_not_run=True)  # fmt: skip
        quote = quote_for(connection, policy, view.worker_id, view.from_region, view.to_region, day,
                          scheme, view.kind)  # fmt: skip
    tx_id = None
    if not quote.temporary and quote.total_fen + quote.kept_fen:
        entitlement = quote.pooled_fen - quote.interest_fen + quote.kept_fen
        tx = Transaction.build(
            f"transfer/{transfer_id}/out", TxCode.TRANSFER, view.from_region, Month.from_date(day), now,
            _nonzero([
                (leaving, -quote.account_fen),
                (entitled, -entitlement),
                (pooled_fund(scheme, view.from_region), quote.kept_fen - quote.interest_fen),
                (clearing(scheme, view.from_region), quote.total_fen),
            ]),
            worker_id=view.worker_id, memo=f"transfer {transfer_id} to {view.to_region}",
        )  # fmt: skip
        prior = year_parts(connection, str(leaving), day.year)[0]
        entitlement_prior = year_parts(connection, str(entitled), day.year)[0]
        posted = post_transactions(connection, [tx])[0]
        _carry(connection, posted, str(leaving), -min(prior, quote.account_fen))
        _carry(connection, posted, str(entitled), -min(entitlement_prior, entitlement))
        tx_id = posted.tx_id
    connection.execute(
        update(transfers).where(transfers.c.transfer_id == transfer_id).values(
            state="approved", temporary=quote.temporary, account_fen=quote.account_fen,
            pooled_fen=quote.pooled_fen, kept_fen=quote.kept_fen, interest_fen=quote.interest_fen,
            due_on=_deadline(policy, view.to_region, day, scheme, "accept"),
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
    scheme = Scheme(view.scheme)
    day = now.date()
    tx_id = None
    out = _out_posting(
        connection, transfer_id, individual_account(view.worker_id, scheme, view.from_region)
    )
    if not view.temporary and view.account_fen + view.pooled_fen and out is not None:
        legal_month, prior = out  # the money belongs to the month it left, with its history
        arriving = individual_account(view.worker_id, scheme, view.to_region)
        tx = Transaction.build(
            f"transfer/{transfer_id}/in", TxCode.TRANSFER, view.to_region, legal_month, now,
            _nonzero([
                (clearing(scheme, view.to_region), -(view.account_fen + view.pooled_fen)),
                (individual_account(view.worker_id, scheme, view.to_region), view.account_fen),
                (pooled_entitlement(view.worker_id, scheme, view.to_region), view.pooled_fen),
            ]),
            worker_id=view.worker_id, memo=f"transfer {transfer_id} from {view.from_region}",
        )  # fmt: skip
        posted = post_transactions(connection, [tx])[0]
        _carry(connection, posted, str(arriving), -prior)
        # the pooled part that predates the year (with the interest added) earns the whole year
        left = _out_posting(
            connection, transfer_id, pooled_entitlement(view.worker_id, scheme, view.from_region)
        )
        if left is not None:
            in_year = view.pooled_fen - view.interest_fen + view.kept_fen + left[1]
            _carry(connection, posted, str(pooled_entitlement(view.worker_id, scheme, view.to_region)),
                   max(0, view.pooled_fen - in_year))  # fmt: skip
        tx_id = posted.tx_id
        if scheme is Scheme.EMPLOYEE_PENSION:
            _catch_up(connection, policy, str(arriving), view.to_region,
                      range(legal_month.year, day.year), now, f"transfer/{transfer_id}/in-interest",
                      only_if_region_has_not_run=False)  # fmt: skip
    connection.execute(
        update(transfers)
        .where(transfers.c.transfer_id == transfer_id)
        .values(state="accepted", due_on=_deadline(policy, view.to_region, day, scheme, "complete"))
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
    scheme = Scheme(view.scheme)
    enrolled = (enrolments.c.worker_id == view.worker_id) & (enrolments.c.scheme == scheme.value)
    if view.kind in ("move", "continue"):
        # the worker now pays in the new region; the relation is there unless it is a
        # temporary account, which leaves the relation where it was held
        values: dict[str, Any] = {
            "region": view.to_region, "temporary": view.temporary,
            "start_month": Month.from_date(day).ordinal,
        }  # fmt: skip
        if not view.temporary:
            values["relation_region"] = view.to_region
        connection.execute(update(enrolments).where(enrolled).values(**values))
    elif view.kind == "claim":  # the relation is gathered to the paying region
        connection.execute(
            update(enrolments).where(enrolled).values(relation_region=view.to_region)
        )
        connection.execute(
            update(enrolments)
            .where(enrolled & enrolments.c.temporary.is_(False))
            .values(region=view.to_region)
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

            returned = reverse(
                connection, out, f"transfer/{transfer_id}/return", now, f"rejected: {reason}"[:200]
            )
            leaving = individual_account(view.worker_id, Scheme(view.scheme), view.from_region)
            entitlement = pooled_entitlement(view.worker_id, Scheme(view.scheme), view.from_region)
            for account in (leaving, entitlement):
                carried = _out_posting(connection, transfer_id, account)
                if carried is not None:
                    _carry(connection, returned, str(account), -carried[1])
            tx_id = returned.tx_id
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


def _carry(connection: Connection, posted: Posted, account: str, prior_fen: int) -> None:
    """Record the part of a transfer posting that predates its legal year (see ``interest``)."""
    if prior_fen and not posted.replayed:
        connection.execute(
            interest_carry.insert().values(
                region=posted.region, seq=posted.seq, account=account, prior_fen=prior_fen
            )
        )


def _out_posting(
    connection: Connection, transfer_id: str, account: AccountKey
) -> tuple[Month, int] | None:
    """(legal month, carried prior part) of the transfer's ``out`` posting on ``account``."""
    row = connection.execute(
        select(journal.c.legal_month, interest_carry.c.prior_fen)
        .select_from(journal)
        .outerjoin(interest_carry, (interest_carry.c.region == journal.c.region)
                   & (interest_carry.c.seq == journal.c.seq) & (interest_carry.c.account == str(account)))
        .where(journal.c.tx_id == f"transfer/{transfer_id}/out")
    ).first()  # fmt: skip
    return None if row is None else (Month(row.legal_month), int(row.prior_fen or 0))


def _catch_up(
    connection: Connection, policy: Policy, account: str, region: str, years: range, now: datetime,
    prefix: str, only_if_region_has_not_run: bool,
) -> None:  # fmt: skip
    """Credit ``account`` the interest of ``years`` that the region's yearly run will not give it.

    Leaving a region (``only_if_region_has_not_run``): every year the region has not yet run,
    before the balance leaves. Arriving: every year the region has already run, the
    difference between what the account earns with the money that arrived and what it got.
    """
    key = AccountKey.parse(account)
    first = first_year(connection, account)
    for year in range(max(years.start, first or years.stop), years.stop):
        if region_credited(connection, key.scheme, region, year) == only_if_region_has_not_run:
            continue
        prior, in_year = year_parts(connection, account, year)
        amount = interest_for(policy, year, prior, in_year) - credited(connection, account, year)
        if amount <= 0:
            continue
        post_transactions(connection, [Transaction.build(
            f"{prefix}/{year}", TxCode.INTEREST, region, Month.of(year, 12), now,
            [Posting(pooled_fund(key.scheme, region), -amount), Posting(key, amount)],
            worker_id=key.owner_id, memo=f"interest {year} on a transfer",
        )])  # fmt: skip


def _nonzero(lines: list[tuple[Any, int]]) -> list[Posting]:
    return [Posting(account, amount) for account, amount in lines if amount != 0]
