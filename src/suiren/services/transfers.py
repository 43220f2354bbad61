"""Transfers between regions (转移接续), pension and medical: a state machine of idempotent steps.

    requested ──approve (old region A)──▶ approved ──accept (new region B)──▶ accepted
        │                                   │                                  │
        ├──reject──▶ rejected ◀──reject─────┘                        complete ─▶ completed
        └──(past its deadline)──▶ expired

Each step is one entry in the journal of the region whose step it is (``STEPS``), and
records as facts the transfer's new state (``transfers``, the next version) and its event
(``transfer_events``); completing also records the worker's new enrolment. Each step has
its deadline (``transfer.step_deadline_working_days`` Chinese working days for the pension;
``medical.transfer.out_/in_deadline_working_days`` for medical insurance). Money moves only
through the ledger:

- approve posts, in A's journal, ``transfer/{id}/out``: the worker's individual account and
  pooled entitlement in A leave; A's pooled fund keeps what the scenario leaves behind (or
  pays the interest the reform adds); the total goes to A's clearing account.
- accept posts, in B's journal, ``transfer/{id}/in``: B's clearing account pays the total
  into the worker's individual account and pooled entitlement in B.
- reject after approval posts ``transfer/{id}/return``, the negation of ``out``.

A's clearing balance (+) and B's (−) are the obligation between the two regional funds,
netted and settled per window by ``settlement``. Repeating a step returns the transfer as
it is; a step out of order is refused with nothing written. What moves is decided in
``transfer_quotes``; interest follows the money (``interest.catch_up`` and the carried
prior part of each transfer posting, ``interest_carry``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, select

from suiren.domain.errors import InvalidInput
from suiren.domain.messages import Text
from suiren.domain.messages import text as message
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
from suiren.ledger.transaction import (
    Fact,
    Posting,
    Transaction,
    TxCode,
    check_memo,
    check_tx_id,
)
from suiren.policy import Policy, load_policy
from suiren.policy.interest import YearRate
from suiren.policy.transfer import TransferQuote
from suiren.rules.parameters import ResolvedValue
from suiren.services.interest import catch_up, year_parts
from suiren.services.provisional import provisional_warning, rate_figures
from suiren.services.provisional_uses import SUBJECTS_PER_QUERY_MAX, use_fact, uses_of
from suiren.services.transfer_quotes import (
    Kind,
    TransferRefused,
    plan,
    quote_for,
)
from suiren.services.workers import enrolment_fact, enrolment_region, relation_region
from suiren.store.ledger_repo import (
    Posted,
    load_transaction_postings,
    lock_chain_heads,
    post_transactions,
)
from suiren.store.projections import fact
from suiren.store.tables import enrolments, interest_carry, journal, transfer_events, transfers

TRANSFER_ID_CHARS_MAX = 100
NOTE_CHARS_MAX = 200

__all__ = ["Kind", "TransferRefused", "quote_for"]


class State(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    ACCEPTED = "accepted"
    COMPLETED = "completed"
    REJECTED = "rejected"
    EXPIRED = "expired"


OPEN_STATES = (State.REQUESTED.value, State.APPROVED.value, State.ACCEPTED.value)
# step -> (the state it needs, the state it leads to, whose region's journal records it)
STEPS = {
    "approve": (State.REQUESTED, State.APPROVED, "from"),
    "accept": (State.APPROVED, State.ACCEPTED, "to"),
    "complete": (State.ACCEPTED, State.COMPLETED, "to"),
}
NEXT_STEP = {State.REQUESTED: "approve", State.APPROVED: "accept", State.ACCEPTED: "complete"}
# a state's and a step's words in a message (domain/messages.py)
STATE_WORDS = {
    State.REQUESTED: "transfer-state.requested",
    State.APPROVED: "transfer-state.approved",
    State.ACCEPTED: "transfer-state.accepted",
    State.COMPLETED: "transfer-state.completed",
    State.REJECTED: "transfer-state.rejected",
    State.EXPIRED: "transfer-state.expired",
}
STEP_WORDS = {
    "approve": "transfer-step.approve",
    "accept": "transfer-step.accept",
    "complete": "transfer-step.complete",
}


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
    version: int
    # ``provisional-parameter`` where the amounts (or the interest credited on the way) rest
    # on a provisional figure, as the steps that decided them first said it (``_warnings``)
    warnings: tuple[dict[str, Any], ...] = field(default=(), compare=False)

    @classmethod
    def from_row(cls, row: Any) -> TransferView:
        """The view of a ``transfers`` row."""
        return cls(**{k: row._mapping[k] for k in cls.__dataclass_fields__ if k != "warnings"})

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "version"}
        for key in ("requested_on", "due_on", "completed_on"):
            data[key] = None if data[key] is None else data[key].isoformat()
        data["next_step"] = NEXT_STEP.get(State(self.state))
        data["warnings"] = list(self.warnings)
        return data

    def row(self, **changes: Any) -> dict[str, Any]:
        """The ``transfers`` row of the next version, with ``changes``."""
        kept = {k: v for k, v in self.__dict__.items() if k != "warnings"}
        return {**kept, **changes, "version": self.version + 1}


TRANSFER_THEN = ("转移金额按此计算", "the amounts moved are computed on it")
# the steps that decide a transfer's amounts (the request, the approval again) or credit it
# interest on the way in (the acceptance); each keeps the provisional figures it rested on
DECIDING = (State.REQUESTED, State.APPROVED, State.ACCEPTED)


def get_transfer(connection: Connection, transfer_id: str) -> TransferView:
    """The transfer as it stands, with the ``provisional-parameter`` warnings its steps said."""
    row = connection.execute(
        select(transfers).where(transfers.c.transfer_id == transfer_id)
    ).first()
    if row is None:
        raise TransferRefused(message("transfer.unknown", shown=repr(transfer_id[:60])))
    [view] = with_warnings(connection, [TransferView.from_row(row)])
    return view


def with_warnings(connection: Connection, views: list[TransferView]) -> list[TransferView]:
    """``views`` (read from their rows) with the warning of each step whose results a
    transfer shows, as the step first said it (``services.provisional_uses``: still so once
    the figure is published): the approval's in place of the request's (it decides the
    amounts again), and the acceptance's (the interest credited on the way in). Every
    output that shows a transfer reads it through here (or ``get_transfer``)."""
    ids = [v.transfer_id for v in views]
    days: dict[str, dict[str, date]] = {i: {} for i in ids}
    e = transfer_events.c
    for at in range(0, len(ids), SUBJECTS_PER_QUERY_MAX):
        for r in connection.execute(
            select(e.transfer_id, e.step, e.on_day).where(
                e.transfer_id.in_(ids[at : at + SUBJECTS_PER_QUERY_MAX])
            )
        ):
            days[r.transfer_id][r.step] = r.on_day
    steps = {  # the steps done that decide; the request's amounts only until an approval
        i: [
            s
            for s in DECIDING
            if s.value in days[i] and not (s is State.REQUESTED and State.APPROVED.value in days[i])
        ]
        for i in ids
    }
    uses = uses_of(connection, [_subject(i, s) for i in ids for s in steps[i]])
    out = []
    for view in views:
        i = view.transfer_id
        said = (
            provisional_warning(
                uses.get((_subject(i, s), 0), ()),
                "transfer_id",
                str(days[i][s.value]),
                TRANSFER_THEN,
            )
            for s in steps[i]
        )
        out.append(replace(view, warnings=tuple(w for w in said if w is not None)))
    return out


def _subject(transfer_id: str, step: State) -> str:
    return f"transfer/{transfer_id}/{step.value}"


def _used(transfer_id: str, step: State, figures: list[ResolvedValue]) -> tuple[Fact, ...]:
    """The fact that ``step`` rested on the provisional ones of ``figures`` (or none)."""
    found = use_fact(_subject(transfer_id, step), 0, figures)
    return () if found is None else (found,)


def _deadline(policy: Policy, region: str, day: date, scheme: Scheme, step: str) -> date:
    """The deadline of ``step`` (approve, accept or complete) counted from ``day``."""
    if scheme is Scheme.EMPLOYEE_MEDICAL:  # 医保办发〔2021〕43号: out 10, in 5 working days
        name = "out" if step == "approve" else "in"
        days = int(policy.at(day, region).value(f"medical.transfer.{name}_deadline_working_days"))
    else:
        days = int(policy.at(day, region).value("transfer.step_deadline_working_days"))
    return add_working_days(day, days)


def _step_entry(
    connection: Connection,
    row: dict[str, Any],
    step: State,
    region: str,
    now: datetime,
    *,
    money: Transaction | None = None,
    note: str = "",
    extra: tuple[Fact, ...] = (),
) -> Posted:
    """Record a step: the money transaction (if any) carries the transfer's new state and
    its event as facts; a step that moves no money is an entry of facts alone."""
    event = fact(
        transfer_events,
        transfer_id=row["transfer_id"],
        step=step.value,
        on_day=now.date(),
        recorded_at=now,
        tx_id=None if money is None else money.tx_id,
        note=note[:NOTE_CHARS_MAX],
    )
    facts = (fact(transfers, **row), event, *extra)
    if money is None:
        entry = Transaction.build(
            f"transfer/{row['transfer_id']}/{step.value}",
            TxCode.TRANSFER,
            region,
            Month.from_date(now.date()),
            now,
            [],
            worker_id=row["worker_id"],
            memo=f"transfer {row['transfer_id']} {step.value}",
            facts=facts,
        )
    else:
        entry = Transaction.build(
            money.tx_id,
            money.code,
            money.region,
            money.legal_month,
            money.recorded_at,
            money.postings,
            money.worker_id,
            money.reverses,
            money.memo,
            (*money.facts, *facts),
        )
    return post_transactions(connection, [entry])[0]


def request_transfer(
    connection: Connection,
    policy: Policy,
    transfer_id: str,
    worker_id: str,
    to_region: str,
    now: datetime,
    scheme: Scheme = Scheme.EMPLOYEE_PENSION,
) -> TransferView:
    """The worker (or the agency for them) asks to move their insurance to ``to_region``."""
    check_transfer_id(transfer_id)
    target = RegionCode.parse(to_region).code
    replay = _replayed_request(connection, transfer_id, worker_id, target, scheme)
    if replay is not None:
        return replay
    from_region, _, _ = enrolment_region(connection, worker_id, scheme)
    # serialise with other requests for this region; and the relation's, in the order every
    # writer uses: a move out of a temporary account takes the money from there (``plan``)
    relation = relation_region(connection, worker_id, scheme)
    lock_chain_heads(connection, {from_region, relation or ""})
    if enrolment_region(connection, worker_id, scheme)[0] != from_region:
        raise TransferRefused(message("transfer.moved-meanwhile", worker=worker_id), reason="moved")
    replay = _replayed_request(connection, transfer_id, worker_id, target, scheme)
    if replay is not None:
        return replay
    if target == from_region:
        raise TransferRefused(message("transfer.same-region", region=target), reason="same-region")
    refuse_if_open(connection, worker_id, scheme)
    kind, source, quote = plan(
        connection, policy, worker_id, from_region, target, now.date(), scheme
    )
    return insert_transfer(
        connection, policy, transfer_id, worker_id, scheme, kind, source, target, quote, now
    )


# the ids of the transfers the service makes itself: a gathering's ``GATHER-ID/FROM-REGION``
# (services/gathering.py), a reversal's follow-up ``ID/follow`` or ``follow/…``
# (services/reversals.py); a transfer requested under one would take it from them
MADE_TRANSFER_ID_RE = re.compile(r"(follow/.*|.*/(follow|[0-9]{6}))\Z", re.ASCII)


def check_transfer_id(transfer_id: str) -> str:
    what = message("noun.transfer-id")
    check_tx_id(transfer_id, what)
    if len(transfer_id) > TRANSFER_ID_CHARS_MAX:
        raise InvalidInput(message("id.too-long", what=what, chars_max=TRANSFER_ID_CHARS_MAX))
    if MADE_TRANSFER_ID_RE.match(transfer_id):
        raise InvalidInput(message("transfer.id-made", shown=repr(transfer_id)))
    return transfer_id


def _replayed_request(
    connection: Connection, transfer_id: str, worker_id: str, target: str, scheme: Scheme
) -> TransferView | None:
    prior = connection.execute(
        select(transfers).where(transfers.c.transfer_id == transfer_id)
    ).first()
    if prior is None:
        return None
    if (prior.worker_id, prior.to_region, prior.scheme) != (worker_id, target, scheme.value):
        raise TransferRefused(message("transfer.id-used", shown=repr(transfer_id)))
    return get_transfer(connection, transfer_id)


def refuse_if_open(connection: Connection, worker_id: str, scheme: Scheme) -> None:
    open_one = connection.execute(
        select(transfers.c.transfer_id).where(
            transfers.c.worker_id == worker_id,
            transfers.c.state.in_(OPEN_STATES),
            transfers.c.scheme == scheme.value,
        )
    ).first()
    if open_one is not None:
        raise TransferRefused(
            message("transfer.open", worker=worker_id, transfer=open_one.transfer_id),
            reason="open",
        )


def insert_transfer(
    connection: Connection,
    policy: Policy,
    transfer_id: str,
    worker_id: str,
    scheme: Scheme,
    kind: Kind,
    source: str,
    target: str,
    quote: TransferQuote,
    now: datetime,
) -> TransferView:
    """Record the request of a transfer of ``kind`` from ``source`` to ``target``."""
    day = now.date()
    row = {
        "transfer_id": transfer_id,
        "worker_id": worker_id,
        "scheme": scheme.value,
        "from_region": source,
        "to_region": target,
        "scenario": policy.name,
        "kind": kind.value,
        "state": State.REQUESTED.value,
        "temporary": quote.temporary,
        "account_fen": quote.account_fen,
        "pooled_fen": quote.pooled_fen,
        "kept_fen": quote.kept_fen,
        "interest_fen": quote.interest_fen,
        "requested_on": day,
        "due_on": _deadline(policy, source, day, scheme, "approve"),
        "completed_on": None,
        "version": 1,
    }
    _step_entry(
        connection,
        row,
        State.REQUESTED,
        source,
        now,
        note=f"{kind.value} to {target}",
        extra=_used(transfer_id, State.REQUESTED, list(quote.provisional)),
    )
    return get_transfer(connection, transfer_id)


def _advance(connection: Connection, transfer_id: str, step: str) -> TransferView:
    """The transfer, its regions locked, if ``step`` may be done now; raises ``_Done`` with the
    transfer if it was already done (a replay).

    Both regions' chain heads are locked first, in code order (the order every writer uses,
    so no two transfers deadlock): each step is serialised with the other writers of those
    regions, and two identical calls cannot both do it.
    """
    needed, reached, _ = STEPS[step]
    view = get_transfer(connection, transfer_id)
    lock_chain_heads(connection, {view.from_region, view.to_region})
    view = get_transfer(connection, transfer_id)
    done = connection.execute(
        select(transfer_events.c.step).where(
            transfer_events.c.transfer_id == transfer_id, transfer_events.c.step == reached.value
        )
    ).first()
    if done is not None:
        raise _Done(view)
    if view.state != needed.value:
        following = NEXT_STEP.get(State(view.state))
        raise TransferRefused(
            message(
                "transfer.wrong-state",
                transfer=transfer_id,
                state=_state(view.state),
                step=message(STEP_WORDS[step]),
                needed=_state(needed),
                next=(
                    message("transfer.next-step", step=message(STEP_WORDS[following]))
                    if following
                    else Text("", "")
                ),
            )
        )
    return view


def _state(state: str) -> Text:
    """A transfer's state in words."""
    return message(STATE_WORDS[State(state)])


class _Done(Exception):
    def __init__(self, view: TransferView) -> None:
        self.view = view


def approve_transfer(
    connection: Connection, transfer_id: str, now: datetime, policy: Policy | None = None
) -> TransferView:
    """The old region releases the money (转出): its accounts to its clearing account."""
    try:
        view = _advance(connection, transfer_id, "approve")
    except _Done as done:
        return done.view
    policy = policy or load_policy(view.scenario)  # the scenario it was requested under
    scheme, day = Scheme(view.scheme), now.date()
    leaving = individual_account(view.worker_id, scheme, view.from_region)
    entitled = pooled_entitlement(view.worker_id, scheme, view.from_region)
    kind = Kind(view.kind)
    quote = (
        TransferQuote(
            temporary=view.temporary, account_fen=0, pooled_fen=0, kept_fen=0, interest_fen=0
        )
        if kind is Kind.CONTINUE
        else quote_for(
            connection, policy, view.worker_id, view.from_region, view.to_region, day, scheme, kind
        )
    )
    moves = not quote.temporary and bool(quote.total_fen + quote.kept_fen)
    credited: list[YearRate] = []
    if moves and scheme is Scheme.EMPLOYEE_PENSION:
        # the years the old region has not credited yet go with the money (see ``interest``;
        # the 记账利率 is the employee pension's)
        credited = catch_up(
            connection,
            policy,
            str(leaving),
            view.from_region,
            range(day.year - 200, day.year),
            now,
            f"transfer/{transfer_id}/out-interest",
            leaving=True,
        )
        quote = quote_for(
            connection, policy, view.worker_id, view.from_region, view.to_region, day, scheme, kind
        )
    money = None
    if moves:
        entitlement = quote.pooled_fen - quote.interest_fen + quote.kept_fen
        prior = year_parts(connection, str(leaving), day.year)[0]
        entitlement_prior = year_parts(connection, str(entitled), day.year)[0]
        money = Transaction.build(
            f"transfer/{transfer_id}/out",
            TxCode.TRANSFER,
            view.from_region,
            Month.from_date(day),
            now,
            _nonzero(
                [
                    (leaving, -quote.account_fen),
                    (entitled, -entitlement),
                    (pooled_fund(scheme, view.from_region), quote.kept_fen - quote.interest_fen),
                    (clearing(scheme, view.from_region), quote.total_fen),
                ]
            ),
            worker_id=view.worker_id,
            memo=f"transfer {transfer_id} to {view.to_region}",
            facts=_carries(
                [
                    (leaving, -min(prior, quote.account_fen)),
                    (entitled, -min(entitlement_prior, entitlement)),
                ]
            ),
        )
    row = view.row(
        state=State.APPROVED.value,
        temporary=quote.temporary,
        account_fen=quote.account_fen,
        pooled_fen=quote.pooled_fen,
        kept_fen=quote.kept_fen,
        interest_fen=quote.interest_fen,
        due_on=_deadline(policy, view.to_region, day, scheme, "accept"),
    )
    _step_entry(
        connection,
        row,
        State.APPROVED,
        view.from_region,
        now,
        money=money,
        note="temporary account" if quote.temporary else "",
        extra=_used(transfer_id, State.APPROVED, [*quote.provisional, *rate_figures(credited)]),
    )
    return get_transfer(connection, transfer_id)


def _carries(parts: list[tuple[AccountKey, int]]) -> tuple[Fact, ...]:
    """The ``interest_carry`` facts of a transfer posting: the part of each account's amount
    that predates its legal year (see ``interest``)."""
    return tuple(
        fact(interest_carry, account=str(account), prior_fen=prior)
        for account, prior in parts
        if prior
    )


def accept_transfer(
    connection: Connection, transfer_id: str, now: datetime, policy: Policy | None = None
) -> TransferView:
    """The new region takes the money in (转入): its clearing account to the worker's accounts."""
    try:
        view = _advance(connection, transfer_id, "accept")
    except _Done as done:
        return done.view
    policy = policy or load_policy(view.scenario)
    scheme, day = Scheme(view.scheme), now.date()
    out = _out_posting(
        connection, transfer_id, individual_account(view.worker_id, scheme, view.from_region)
    )
    arriving = individual_account(view.worker_id, scheme, view.to_region)
    money = None
    if not view.temporary and view.account_fen + view.pooled_fen and out is not None:
        legal_month, prior = out  # the money belongs to the month it left, with its history
        carried = [(arriving, -prior)]
        # the pooled part that predates the year (with the interest added) earns the whole year
        left = _out_posting(
            connection, transfer_id, pooled_entitlement(view.worker_id, scheme, view.from_region)
        )
        if left is not None:
            in_year = view.pooled_fen - view.interest_fen + view.kept_fen + left[1]
            carried.append(
                (
                    pooled_entitlement(view.worker_id, scheme, view.to_region),
                    max(0, view.pooled_fen - in_year),
                )
            )
        money = Transaction.build(
            f"transfer/{transfer_id}/in",
            TxCode.TRANSFER,
            view.to_region,
            legal_month,
            now,
            _nonzero(
                [
                    (clearing(scheme, view.to_region), -(view.account_fen + view.pooled_fen)),
                    (arriving, view.account_fen),
                    (pooled_entitlement(view.worker_id, scheme, view.to_region), view.pooled_fen),
                ]
            ),
            worker_id=view.worker_id,
            memo=f"transfer {transfer_id} from {view.from_region}",
            facts=_carries(carried),
        )
    row = view.row(
        state=State.ACCEPTED.value,
        due_on=_deadline(policy, view.to_region, day, scheme, "complete"),
    )
    _step_entry(connection, row, State.ACCEPTED, view.to_region, now, money=money)
    credited: list[YearRate] = []
    if money is not None and scheme is Scheme.EMPLOYEE_PENSION:
        credited = catch_up(
            connection,
            policy,
            str(arriving),
            view.to_region,
            range(money.legal_month.year, day.year),
            now,
            f"transfer/{transfer_id}/in-interest",
            leaving=False,
        )
    used = _used(transfer_id, State.ACCEPTED, rate_figures(credited))
    if used:  # known once the interest is credited, after the step's own entry
        post_transactions(
            connection,
            [
                Transaction.build(
                    f"transfer/{transfer_id}/in-rates",
                    TxCode.TRANSFER,
                    view.to_region,
                    Month.from_date(day),
                    now,
                    [],
                    worker_id=view.worker_id,
                    memo=f"transfer {transfer_id}: the provisional rates of its interest",
                    facts=used,
                )
            ],
        )
    return get_transfer(connection, transfer_id)


def complete_transfer(
    connection: Connection, transfer_id: str, now: datetime, policy: Policy | None = None
) -> TransferView:
    """The new region finishes (办结): the worker is now insured there (or has a temporary account)."""
    try:
        view = _advance(connection, transfer_id, "complete")
    except _Done as done:
        return done.view
    day = now.date()
    enrolled = (
        connection.execute(
            select(enrolments).where(
                enrolments.c.worker_id == view.worker_id, enrolments.c.scheme == view.scheme
            )
        )
        .mappings()
        .one()
    )
    changes: dict[str, Any] = {}
    if view.kind in (Kind.MOVE.value, Kind.CONTINUE.value):
        # the worker now pays in the new region; the relation is there unless it is a
        # temporary account, which leaves the relation where it was held
        changes = {
            "region": view.to_region,
            "temporary": view.temporary,
            "start_month": Month.from_date(day).ordinal,
        }
        if not view.temporary:
            changes["relation_region"] = view.to_region
    elif view.kind == Kind.CLAIM.value:  # the relation is gathered to the paying region
        changes = {"relation_region": view.to_region}
        if not enrolled["temporary"]:
            changes["region"] = view.to_region
    extra = (enrolment_fact(dict(enrolled), **changes),) if changes else ()
    row = view.row(state=State.COMPLETED.value, completed_on=day)
    _step_entry(connection, row, State.COMPLETED, view.to_region, now, extra=extra)
    return get_transfer(connection, transfer_id)


def reject_transfer(
    connection: Connection, transfer_id: str, now: datetime, reason: str
) -> TransferView:
    """Either region refuses before acceptance; money already in clearing goes back to A."""
    check_memo(reason)  # kept as the step's note (and the money's memo): one line of text
    if not reason.strip():  # as the console's form refuses it: a reason says something
        raise InvalidInput(message("transfer.reason-blank"), field="reason")
    view = get_transfer(connection, transfer_id)
    lock_chain_heads(connection, {view.from_region, view.to_region})
    view = get_transfer(connection, transfer_id)
    if view.state == State.REJECTED.value:
        return view
    if view.state not in (State.REQUESTED.value, State.APPROVED.value):
        raise TransferRefused(
            message("transfer.reject-state", transfer=transfer_id, state=_state(view.state))
        )
    note = reason[:NOTE_CHARS_MAX]
    money = None
    out_id = connection.execute(
        select(transfer_events.c.tx_id).where(
            transfer_events.c.transfer_id == transfer_id, transfer_events.c.step == "approved"
        )
    ).scalar()
    if out_id is not None:
        entry, lines = load_transaction_postings(connection, out_id)
        scheme = Scheme(view.scheme)
        carried = []
        for account in (
            individual_account(view.worker_id, scheme, view.from_region),
            pooled_entitlement(view.worker_id, scheme, view.from_region),
        ):
            out = _out_posting(connection, transfer_id, account)
            if out is not None:
                carried.append((account, -out[1]))
        money = Transaction.build(
            f"transfer/{transfer_id}/return",
            TxCode.REVERSAL,
            entry["region"],
            Month(entry["legal_month"]),
            now,
            [Posting(AccountKey.parse(a), -amount) for a, amount in lines],
            view.worker_id,
            out_id,
            f"rejected: {note}"[:NOTE_CHARS_MAX],
            _carries(carried),
        )
    row = view.row(state=State.REJECTED.value)
    _step_entry(connection, row, State.REJECTED, view.from_region, now, money=money, note=note)
    return get_transfer(connection, transfer_id)


def overdue(connection: Connection, today: date) -> list[TransferView]:
    """Open transfers whose current step is past its deadline."""
    rows = connection.execute(
        select(transfers.c.transfer_id)
        .where(transfers.c.state.in_(OPEN_STATES), transfers.c.due_on < today)
        .order_by(transfers.c.due_on, transfers.c.transfer_id)
    )
    return [get_transfer(connection, r.transfer_id) for r in rows]


def expire_overdue(connection: Connection, now: datetime) -> list[TransferView]:
    """Requested transfers never approved by their deadline expire (no money has moved)."""
    expired = []
    candidates = [c for c in overdue(connection, now.date()) if c.state == State.REQUESTED.value]
    lock_chain_heads(connection, {c.from_region for c in candidates})
    for candidate in candidates:
        view = get_transfer(connection, candidate.transfer_id)
        if view.state != State.REQUESTED.value:
            continue
        _step_entry(
            connection,
            view.row(state=State.EXPIRED.value),
            State.EXPIRED,
            view.from_region,
            now,
            note=f"not approved by {view.due_on}",
        )
        expired.append(get_transfer(connection, view.transfer_id))
    return expired


def _out_posting(
    connection: Connection, transfer_id: str, account: AccountKey
) -> tuple[Month, int] | None:
    """(legal month, carried prior part) of the transfer's ``out`` posting on ``account``."""
    row = connection.execute(
        select(journal.c.legal_month, interest_carry.c.prior_fen)
        .select_from(journal)
        .outerjoin(
            interest_carry,
            (interest_carry.c.region == journal.c.region)
            & (interest_carry.c.seq == journal.c.seq)
            & (interest_carry.c.account == str(account)),
        )
        .where(journal.c.tx_id == f"transfer/{transfer_id}/out")
    ).first()
    return None if row is None else (Month(row.legal_month), int(row.prior_fen or 0))


def _nonzero(lines: list[tuple[Any, int]]) -> list[Posting]:
    return [Posting(account, amount) for account, amount in lines if amount != 0]
