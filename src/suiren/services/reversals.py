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

Everything happens in the caller's database transaction; replaying a reversal returns its
result and writes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, select

from suiren.domain.errors import SuirenError
from suiren.domain.month import Month
from suiren.ledger.accounts import AccountKey
from suiren.ledger.months import derived_postings
from suiren.ledger.transaction import (
    MONTH_TX_RE,
    Posting,
    Transaction,
    TxCode,
    check_memo,
    check_tx_id,
)
from suiren.services.contributions import HUKOU_SUFFIX, RESERVED_PREFIXES
from suiren.store.ledger_repo import (
    Posted,
    existing,
    load_transaction_postings,
    lock_chain_head,
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

INSTEAD = {  # what to do instead of reversing a transaction of this kind
    TxCode.TRANSFER: "a transfer step is undone by rejecting the transfer before it is accepted"
    " (`suiren transfer reject ID --reason …`); a completed transfer is final",
    TxCode.SETTLEMENT: "a settlement is corrected by the next settlement window, never reversed",
    TxCode.INTEREST: "interest is corrected by an adjustment run, never reversed",
    TxCode.REVERSAL: "it is itself a reversal, which is final; pay the month again with a new"
    " payment id",
    TxCode.ENROLMENT: "an enrolment is changed by a transfer, never reversed",
    TxCode.RECEIPT: "a receipt records what a batch did; reverse the months it posted",
    TxCode.CONTRIBUTION: "reverse a single month: its id is PAYMENT-ID/YYYY-MM",
}


class ReversalRefused(SuirenError):
    code = "reversal-refused"


def reverse(
    connection: Connection, tx_id: str, reversal_id: str, now: datetime, memo: str = ""
) -> Posted:
    """Reverse the contribution month ``tx_id`` by ``reversal_id``; see module doc."""
    check_tx_id(tx_id, "the month to reverse")
    check_tx_id(reversal_id, "a reversal id")
    check_memo(memo)
    if reversal_id.startswith(RESERVED_PREFIXES) or MONTH_TX_RE.match(reversal_id):
        raise ReversalRefused(
            "a reversal id may not start with a system prefix or end like a month (/YYYY-MM)"
        )
    month = _month(connection, tx_id)
    held = _obligation(connection, tx_id + HUKOU_SUFFIX)  # append-only: safe to read unlocked
    for region in sorted({month["region"]} | ({held["to_region"]} if held else set())):
        lock_chain_head(connection, region)  # the order every writer uses
    done = existing(connection, [reversal_id]).get(reversal_id)
    if done is not None:
        row, _ = load_transaction_postings(connection, reversal_id)
        if row["reverses"] != tx_id:
            raise ReversalRefused(
                f"reversal id {reversal_id!r} was already used for {row['reverses']}"
            )
        return Posted(reversal_id, done.region, done.seq, done.chain_hash, True)
    by = connection.execute(select(journal.c.tx_id).where(journal.c.reverses == tx_id)).scalar()
    if by is not None:
        raise ReversalRefused(f"{tx_id} has already been reversed (by {by})")
    _refuse_if_moved(
        connection, tx_id, month["worker_id"], month["scheme"], month["region"], int(month["seq"])
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
                f"{held['obligation_id']} of {tx_id} was reversed on its own (by {alone});"
                f" {tx_id} cannot be reversed as a whole any more"
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
    return post_transactions(connection, reversals)[0]


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
        raise ReversalRefused(f"no contribution month {tx_id[:60]!r} to reverse")
    if entry["code"] == TxCode.CONTRIBUTION.value and tx_id.endswith(HUKOU_SUFFIX):
        month_tx = tx_id[: -len(HUKOU_SUFFIX)]
        raise ReversalRefused(
            f"{tx_id} is the part of the contribution {month_tx} held at the hukou region;"
            f" reverse the month's contribution {month_tx} instead (that reverses both)"
        )
    instead = INSTEAD.get(TxCode(entry["code"]), "only a contribution month can be reversed")
    raise ReversalRefused(
        f"{tx_id} is a {entry['code']} entry, not a contribution month: {instead}"
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
            f"the money of {tx_id} has left {region} ({out.kind} {out.transfer_id} to"
            f" {out.to_region}); it cannot be reversed here — the agency that holds it now"
            " corrects it by an adjustment"
        )


def _obligation(connection: Connection, obligation_id: str) -> dict[str, Any] | None:
    row = connection.execute(
        select(region_obligations).where(region_obligations.c.obligation_id == obligation_id)
    ).first()
    return None if row is None else dict(row._mapping)
