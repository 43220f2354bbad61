"""Corrections (红冲): a contribution month is reversed by a new transaction; nothing else is.

What a user may reverse is a contribution month (``{payment id}/{YYYY-MM}``), once: the
reversal negates the month's derived postings in the region that recorded it, and the month
may then be paid again (its next ``attempt``). Everything else in the journal belongs to a
state machine and is corrected only by it — a transfer step by rejecting the transfer before
it is accepted, a settlement by the next window, interest by an adjustment run, an
enrolment by a transfer — and a request to reverse it is refused, saying so.

A month whose money has left the region it was paid in (a transfer, a gathering or a
retirement claim approved after it, and not rejected) is refused too: its money is held
elsewhere now, and reversing it here would drive the old region's accounts negative while
the new region kept money for a month that no longer stands (docs/ARCHITECTURE.md, "What
can be reversed"). The same holds for the part of an employee-medical month held at the
hukou region (``{tx_id}/hukou``): it is reversed with its month, as a whole — the month, the
hukou part in the hukou region's journal, and an opposite obligation
``{reversal_id}/hukou`` that the settlement windows net with the first — never on its own.

Reversing the last employee-pension month that stands in a region the worker has left (a
temporary account sealed there, 临时账户) leaves the worker's accounts there holding what was
credited on the months (their interest): that money is the worker's, and it follows them
(钱随人走). In the same transaction it goes where they are insured now, as a gathering would
take it (``gather`` transfer ``{reversal_id}/follow``, approved, accepted and completed at
once: everything, with the years the old region has not credited yet); while the worker has
another transfer open, the reversal is refused until it is done.

Everything happens in the caller's database transaction; replaying a reversal returns its
result and writes nothing.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, select

from suiren.domain.errors import SuirenError
from suiren.domain.messages import text as message
from suiren.domain.month import Month
from suiren.ledger.accounts import AccountKey, Scheme, individual_account, pooled_entitlement
from suiren.ledger.months import derived_postings
from suiren.ledger.transaction import (
    MONTH_TX_RE,
    Posting,
    Transaction,
    TxCode,
    check_memo,
    check_tx_id,
)
from suiren.policy import Policy, load_policy
from suiren.services.contributions import HUKOU_SUFFIX, RESERVED_PREFIXES
from suiren.services.transfer_quotes import Kind, quote_for
from suiren.services.transfers import (
    OPEN_STATES,
    TRANSFER_ID_CHARS_MAX,
    accept_transfer,
    approve_transfer,
    complete_transfer,
    insert_transfer,
)
from suiren.services.workers import enrolment_regions
from suiren.store.ledger_repo import (
    Posted,
    balances,
    existing,
    load_transaction_postings,
    lock_chain_heads,
    post_transactions,
)
from suiren.store.projections import fact
from suiren.store.tables import (
    contribution_months,
    journal,
    region_obligations,
    transfer_events,
    transfers,
)

INSTEAD = {  # what to do instead of reversing a transaction of this kind (domain/messages.py)
    TxCode.TRANSFER: "reverse-instead.transfer",
    TxCode.SETTLEMENT: "reverse-instead.settlement",
    TxCode.INTEREST: "reverse-instead.interest",
    TxCode.REVERSAL: "reverse-instead.reversal",
    TxCode.ENROLMENT: "reverse-instead.enrolment",
    TxCode.RECEIPT: "reverse-instead.receipt",
    TxCode.PROVISIONAL: "reverse-instead.provisional",
    TxCode.CONTRIBUTION: "reverse-instead.contribution",
}


class ReversalRefused(SuirenError):
    code = "reversal-refused"


def reverse(
    connection: Connection,
    tx_id: str,
    reversal_id: str,
    now: datetime,
    memo: str = "",
    policy: Policy | None = None,
) -> Posted:
    """Reverse the contribution month ``tx_id`` by ``reversal_id``; see module doc. ``policy``
    (the caller's scenario; default the baseline) quotes and steps the transfer that moves
    what the worker still holds in a region they left."""
    check_tx_id(tx_id, message("noun.month-to-reverse"))
    check_tx_id(reversal_id, message("noun.reversal-id"))
    check_memo(memo)
    if reversal_id.startswith(RESERVED_PREFIXES) or MONTH_TX_RE.match(reversal_id):
        raise ReversalRefused(message("reverse.id-form"))
    month = _month(connection, tx_id)
    held = _obligation(connection, tx_id + HUKOU_SUFFIX)  # append-only: safe to read unlocked
    now_in = _insured_in(connection, month["worker_id"], month["scheme"])
    lock_chain_heads(connection, {month["region"], now_in, held["to_region"] if held else ""})
    done = existing(connection, [reversal_id]).get(reversal_id)
    if done is not None:
        row, _ = load_transaction_postings(connection, reversal_id)
        if row["reverses"] != tx_id:
            raise ReversalRefused(
                message("reverse.id-used", shown=repr(reversal_id), other=row["reverses"])
            )
        return Posted(reversal_id, done.region, done.seq, done.chain_hash, True)
    by = connection.execute(select(journal.c.tx_id).where(journal.c.reverses == tx_id)).scalar()
    if by is not None:
        raise ReversalRefused(message("reverse.already", tx=tx_id, by=by))
    _refuse_if_moved(
        connection, tx_id, month["worker_id"], month["scheme"], month["region"], int(month["seq"])
    )
    if _insured_in(connection, month["worker_id"], month["scheme"]) != now_in:
        raise ReversalRefused(
            message("reverse.moved-meanwhile", worker=month["worker_id"], tx=tx_id)
        )
    text = memo or f"reversal of {tx_id}"
    reversals = [
        Transaction.build(
            reversal_id,
            TxCode.REVERSAL,
            month["region"],
            Month(int(month["month"])),
            now,
            [Posting(AccountKey.parse(k), -a) for k, a in derived_postings(month)],
            worker_id=month["worker_id"],
            reverses=tx_id,
            memo=text,
        )
    ]
    if held:
        part, lines = load_transaction_postings(connection, held["obligation_id"])
        alone = connection.execute(
            select(journal.c.tx_id).where(journal.c.reverses == held["obligation_id"])
        ).scalar()
        if alone is not None:
            raise ReversalRefused(
                message("reverse.part-reversed", part=held["obligation_id"], tx=tx_id, by=alone)
            )
        _refuse_if_moved(
            connection, tx_id, month["worker_id"], month["scheme"], part["region"], int(part["seq"])
        )
        reversals.append(
            Transaction.build(
                reversal_id + HUKOU_SUFFIX,
                TxCode.REVERSAL,
                part["region"],
                Month(int(part["legal_month"])),
                now,
                [Posting(AccountKey.parse(a), -amount) for a, amount in lines],
                worker_id=month["worker_id"],
                reverses=held["obligation_id"],
                memo=text,
                facts=[
                    fact(
                        region_obligations,
                        obligation_id=reversal_id + HUKOU_SUFFIX,
                        scheme=held["scheme"],
                        from_region=held["to_region"],
                        to_region=held["from_region"],
                        amount_fen=held["amount_fen"],
                        on_day=now.date(),
                    )
                ],
            )
        )
    follows = _left_behind(connection, month, now_in)
    posted = post_transactions(connection, reversals)[0]
    if follows:
        _follow_the_worker(connection, policy or load_policy(), month, reversal_id, now_in, now)
    return posted


def _insured_in(connection: Connection, worker_id: str, scheme: str) -> str:
    """The region the worker is insured in (pays into) now."""
    regions = enrolment_regions(connection, worker_id, Scheme(scheme))
    if regions is None:  # a month is paid only by an enrolled worker, who stays enrolled
        raise RuntimeError(f"worker {worker_id} has months but no {scheme} enrolment")
    return regions[0]


def _left_behind(connection: Connection, month: dict[str, Any], now_in: str) -> bool:
    """Whether reversing ``month`` leaves money of the worker's employee pension in a region
    they have left and where nothing of theirs stands any more: not where they are insured,
    not where the relation is held, no other month of theirs standing there. Refused then
    while another transfer of the worker is open (where they will be insured is not settled
    yet; what remains follows them once it is done)."""
    region, worker_id = month["region"], month["worker_id"]
    if month["scheme"] != Scheme.EMPLOYEE_PENSION.value or region == now_in:
        return False
    relation = enrolment_regions(connection, worker_id, Scheme.EMPLOYEE_PENSION)
    if relation is not None and relation[1] == region:
        return False
    standing = connection.execute(
        select(func.count())
        .select_from(contribution_months)
        .where(
            contribution_months.c.worker_id == worker_id,
            contribution_months.c.scheme == month["scheme"],
            contribution_months.c.region == region,
            contribution_months.c.tx_id != month["tx_id"],
            ~select(journal.c.tx_id)
            .where(journal.c.reverses == contribution_months.c.tx_id)
            .exists(),
        )
    ).scalar_one()
    if standing:
        return False
    open_one = connection.execute(
        select(transfers.c.transfer_id).where(
            transfers.c.worker_id == worker_id,
            transfers.c.scheme == month["scheme"],
            transfers.c.state.in_(OPEN_STATES),
        )
    ).scalar()
    if open_one is not None:
        raise ReversalRefused(
            message(
                "reverse.open-transfer",
                tx=month["tx_id"],
                worker=worker_id,
                region=region,
                to=now_in,
                transfer=open_one,
            )
        )
    # what is left: the interest credited on the months (their principal is reversed here)
    scheme = Scheme.EMPLOYEE_PENSION
    keys = (
        str(individual_account(worker_id, scheme, region)),
        str(pooled_entitlement(worker_id, scheme, region)),
    )
    reversed_fen = int(month["account_fen"]) + int(month["pooled_fen"]) - int(month["held_fen"])
    return sum(balances(connection, keys).values()) != reversed_fen


def _follow_the_worker(
    connection: Connection,
    policy: Policy,
    month: dict[str, Any],
    reversal_id: str,
    to_region: str,
    now: datetime,
) -> None:
    """Everything the worker still holds in the month's region goes to ``to_region``: a
    ``gather`` transfer through every step at once (money, interest catch-up, clearing and
    settlement as any other transfer)."""
    transfer_id = f"{reversal_id}/follow"
    if len(transfer_id) > TRANSFER_ID_CHARS_MAX:
        transfer_id = "follow/" + hashlib.sha256(reversal_id.encode()).hexdigest()[:40]
    taken = connection.execute(
        select(transfers.c.transfer_id).where(transfers.c.transfer_id == transfer_id)
    ).scalar()
    if taken is not None:
        raise ReversalRefused(
            message(
                "reverse.follow-id-used",
                shown=repr(transfer_id),
                region=month["region"],
                to=to_region,
            )
        )
    scheme, region = Scheme.EMPLOYEE_PENSION, month["region"]
    quote = quote_for(
        connection, policy, month["worker_id"], region, to_region, now.date(), scheme, Kind.GATHER
    )
    insert_transfer(
        connection,
        policy,
        transfer_id,
        month["worker_id"],
        scheme,
        Kind.GATHER,
        region,
        to_region,
        quote,
        now,
    )
    for step in (approve_transfer, accept_transfer, complete_transfer):
        step(connection, transfer_id, now, policy)


def _month(connection: Connection, tx_id: str) -> dict[str, Any]:
    row = (
        connection.execute(select(contribution_months).where(contribution_months.c.tx_id == tx_id))
        .mappings()
        .first()
    )
    if row is not None:
        return dict(row)
    entry, _ = load_transaction_postings(connection, tx_id)
    if not entry:
        raise ReversalRefused(message("reverse.unknown", shown=repr(tx_id[:60])))
    if entry["code"] == TxCode.CONTRIBUTION.value and tx_id.endswith(HUKOU_SUFFIX):
        month_tx = tx_id[: -len(HUKOU_SUFFIX)]
        raise ReversalRefused(message("reverse.hukou-part", tx=tx_id, month=month_tx))
    instead = INSTEAD.get(TxCode(entry["code"]), "reverse-instead.other")
    raise ReversalRefused(
        message("reverse.not-a-month", tx=tx_id, kind=entry["code"], instead=message(instead))
    )


def _refuse_if_moved(
    connection: Connection, tx_id: str, worker_id: str, scheme: str, region: str, seq: int
) -> None:
    """Refuse if the worker's money in ``region`` left it after (``region``, ``seq``)."""
    out = connection.execute(
        select(transfers.c.transfer_id, transfers.c.to_region, transfers.c.kind)
        .join(
            transfer_events,
            and_(
                transfer_events.c.transfer_id == transfers.c.transfer_id,
                transfer_events.c.step == "approved",
            ),
        )
        .join(journal, journal.c.tx_id == transfer_events.c.tx_id)
        .where(
            transfers.c.worker_id == worker_id,
            transfers.c.scheme == scheme,
            transfers.c.from_region == region,
            transfers.c.state != "rejected",
            journal.c.region == region,
            journal.c.seq > seq,
        )
        .order_by(journal.c.seq)
    ).first()
    if out is not None:
        raise ReversalRefused(
            message(
                "reverse.money-left",
                tx=tx_id,
                region=region,
                kind=out.kind,
                transfer=out.transfer_id,
                to=out.to_region,
            )
        )


def _obligation(connection: Connection, obligation_id: str) -> dict[str, Any] | None:
    row = connection.execute(
        select(region_obligations).where(region_obligations.c.obligation_id == obligation_id)
    ).first()
    return None if row is None else dict(row._mapping)
