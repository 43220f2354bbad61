"""What a transfer moves, read from the ledger: the inputs of ``policy.transfer`` and its quote.

``quote_for`` reads the worker's months whose record is held in the region the money leaves
(that region's and every region's whose money reached it by completed transfers), the
balances there and the entitlement's lines (for the reform's interest), and asks the
policy what moves under the scenario. ``plan`` decides, for a move, the kind of transfer
and the region the money leaves (a temporary account is sealed where it is).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

import numpy as np
from sqlalchemy import Connection, select

from suiren.domain.errors import ParameterNotFound, SuirenError
from suiren.domain.messages import Text
from suiren.domain.messages import text as message
from suiren.domain.month import Month
from suiren.ledger.accounts import Scheme, individual_account, pooled_entitlement
from suiren.policy import Policy
from suiren.policy.projection import WAGE, index_base_fen
from suiren.policy.transfer import (
    TransferInputs,
    TransferQuote,
    quote_gathering,
    quote_transfer,
    temporary_account,
)
from suiren.rules.parameters import ResolvedValue
from suiren.services.medical import quote_medical_transfer
from suiren.services.workers import enrolment_region, get_worker, relation_region
from suiren.store.ledger_repo import balances
from suiren.store.lines import CareerMonth, account_lines, paid_months
from suiren.store.tables import transfers


class Kind(StrEnum):
    """What a transfer does (``transfers.kind``)."""

    MOVE = "move"  # the relation and its money move to the new region
    CONTINUE = "continue"  # nothing moves: into a temporary account, out of one, or back
    GATHER = "gather"  # a temporary account's money to the paying region at retirement (归集)
    CLAIM = "claim"  # the relation to the paying region at retirement (66号 第六条)


NOTHING_MOVES = TransferQuote(
    temporary=False, account_fen=0, pooled_fen=0, kept_fen=0, interest_fen=0
)


class TransferRefused(SuirenError):
    """A transfer step refused; ``reason`` names the rule where a worker can meet it from the
    portal (``same-region``, ``open``, ``nothing-paid``, ``moved``), which says it in the
    worker's language; empty for the others."""

    code = "transfer-refused"

    def __init__(self, said: str | Text, field: str | None = None, *, reason: str = "") -> None:
        super().__init__(said, field)
        self.reason = reason


def quote_for(
    connection: Connection,
    policy: Policy,
    worker_id: str,
    from_region: str,
    to_region: str,
    day: date,
    scheme: Scheme,
    kind: Kind = Kind.MOVE,
) -> TransferQuote:
    """What a transfer of ``kind`` moves out of ``from_region`` on ``day``."""
    if kind is Kind.CONTINUE:
        return NOTHING_MOVES
    if scheme is Scheme.EMPLOYEE_MEDICAL:  # the account moves, the pooled part stays
        return quote_medical_transfer(connection, policy, worker_id, from_region, to_region, day)
    worker = get_worker(connection, worker_id)
    held_in = regions_held_in(connection, worker_id, from_region, scheme)
    rows = paid_months(connection, worker_id, scheme.value, held_in)
    if not rows and not holds_money(connection, worker_id, scheme, from_region):
        raise TransferRefused(
            message("transfer.nothing-paid", worker=worker_id, region=from_region),
            reason="nothing-paid",
        )
    since = _counted_from(policy, day, from_region)
    priced_on: list[ResolvedValue] = []  # the wages that price months recorded as an index
    account = str(individual_account(worker_id, scheme, from_region))
    entitlement = str(pooled_entitlement(worker_id, scheme, from_region))
    held = balances(connection, (account, entitlement))
    credits = account_lines(connection, entitlement, region=from_region)
    inputs = TransferInputs(
        day=day,
        from_region=from_region,
        to_region=to_region,
        sex=worker.sex,
        age_months=Month.from_date(day) - worker.birth_month,
        hukou_province=worker.hukou_region,
        account_fen=held.get(account, 0),
        entitlement_fen=held.get(entitlement, 0),
        months=np.array([r.month for r in rows], dtype=np.int64),
        bases_fen=np.array([_base_fen(policy, r, since, priced_on) for r in rows], dtype=np.int64),
        credit_months=np.array([c.legal_month.ordinal for c in credits], dtype=np.int64),
        credits_fen=np.array([c.amount_fen for c in credits], dtype=np.int64),
        credits_prior_fen=np.array([c.prior_fen for c in credits], dtype=np.int64),
        priced_on=tuple(priced_on),
    )
    if kind is Kind.GATHER:
        return quote_gathering(policy, inputs)
    return quote_transfer(policy, inputs, claim=kind is Kind.CLAIM)


def _counted_from(policy: Policy, day: date, region: str) -> int:
    """The first month whose base the 66号 share counts (1998-01), or none where the rule is
    not in force (the reform moves the whole entitlement)."""
    try:
        return Month.parse(str(policy.at(day, region).value("transfer.pooled_since_month"))).ordinal
    except ParameterNotFound:
        return 0


def _base_fen(
    policy: Policy, month: CareerMonth, counted_from: int, priced_on: list[ResolvedValue]
) -> int:
    """The month's recorded base; for an imported month recorded as an index only, the base
    that index stands for in the month's region (needed only for months the share counts),
    the wage that priced it appended to ``priced_on``."""
    if month.base_fen is not None:
        return month.base_fen
    if month.month < counted_from or month.index_1e6 is None:
        return 0
    try:
        base = index_base_fen(policy, month.region, Month(month.month), month.index_1e6)
        priced_on.append(policy.at(Month(month.month).first_day(), month.region).get(WAGE))
        return base
    except ParameterNotFound:
        raise TransferRefused(
            message(
                "transfer.index-unpriced",
                month=Month(month.month),
                region=month.region,
                year=Month(month.month).year,
            )
        ) from None


def holds_money(connection: Connection, worker_id: str, scheme: Scheme, region: str) -> bool:
    """Whether the worker's individual account or pooled entitlement in ``region`` holds money
    (interest stays when the months it was credited on are reversed)."""
    keys = (
        str(individual_account(worker_id, scheme, region)),
        str(pooled_entitlement(worker_id, scheme, region)),
    )
    return any(amount != 0 for amount in balances(connection, keys).values())


def regions_held_in(
    connection: Connection, worker_id: str, region: str, scheme: Scheme
) -> set[str]:
    """``region`` and every region whose money reached it by completed transfers (the record
    travels with the money, so the next transfer counts those months' bases too)."""
    moves = connection.execute(
        select(transfers.c.from_region, transfers.c.to_region).where(
            transfers.c.worker_id == worker_id,
            transfers.c.state == "completed",
            transfers.c.temporary.is_(False),
            transfers.c.kind != Kind.CONTINUE.value,
            transfers.c.scheme == scheme.value,
        )
    ).all()
    held = {region}
    grew = True
    while grew:
        before = len(held)
        held |= {m.from_region for m in moves if m.to_region in held}
        grew = len(held) > before
    return held


def plan(
    connection: Connection,
    policy: Policy,
    worker_id: str,
    region: str,
    target: str,
    day: date,
    scheme: Scheme,
) -> tuple[Kind, str, TransferQuote]:
    """(kind, the region the money leaves, what moves) of a move from ``region`` to ``target``.

    Paying into a temporary account in ``region``: it is sealed where it is (gathered at
    retirement); the relation moves from where it is held if ``target`` may hold it, else
    nothing moves (``continue``: into another temporary account, or back to the relation).
    """
    _, _, paying_temporary = enrolment_region(connection, worker_id, scheme)
    if not paying_temporary:
        quote = quote_for(connection, policy, worker_id, region, target, day, scheme)
        return (Kind.CONTINUE if quote.temporary else Kind.MOVE), region, quote
    worker = get_worker(connection, worker_id)
    relation = relation_region(connection, worker_id, scheme)
    temporary, step = temporary_account(
        policy,
        day,
        region,
        target,
        worker.sex,
        Month.from_date(day) - worker.birth_month,
        worker.hukou_region,
        relation,
    )
    if temporary or relation is None or relation == target:
        return (
            Kind.CONTINUE,
            region,
            TransferQuote(
                temporary=temporary,
                account_fen=0,
                pooled_fen=0,
                kept_fen=0,
                interest_fen=0,
                steps=[step],
            ),
        )
    return (
        Kind.MOVE,
        relation,
        quote_for(connection, policy, worker_id, relation, target, day, scheme),
    )
