"""Corrections (红冲): a reversing transaction that negates every posting of the original.

Nothing is edited or deleted in the ledger. A transaction can be reversed once (the
journal's ``reverses`` column is unique); reversing a contribution frees its month, which
may then be paid again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete

from suiren.domain.errors import SuirenError
from suiren.domain.month import Month
from suiren.ledger.accounts import AccountKey
from suiren.ledger.transaction import Posting, Transaction, TxCode
from suiren.store.ledger_repo import (
    Posted,
    existing,
    load_transaction_postings,
    lock_chain_head,
    post_transactions,
)
from suiren.store.tables import paid_months


class ReversalRefused(SuirenError):
    code = "reversal-refused"


def reverse(
    connection: Connection, tx_id: str, reversal_id: str, now: datetime, memo: str = ""
) -> Posted:
    row, _ = load_transaction_postings(connection, tx_id)
    if not row:
        raise ReversalRefused(f"no transaction {tx_id!r} to reverse")
    lock_chain_head(connection, row["region"])  # checks below hold until commit
    row, lines = load_transaction_postings(connection, tx_id)
    if row["code"] == TxCode.REVERSAL.value:
        raise ReversalRefused(f"{tx_id} is itself a reversal; post a new transaction instead")
    original = Transaction.build(
        row["tx_id"], TxCode(row["code"]), row["region"], Month(row["legal_month"]), row["recorded_at"],
        [Posting(AccountKey.parse(a), amount) for a, amount in lines],
        row["worker_id"], row["reverses"], row["memo"],
    )  # fmt: skip
    reversal = original.reversal(reversal_id, now, memo)
    prior = existing(connection, [reversal_id])
    if reversal_id not in prior and _already_reversed(connection, tx_id):
        raise ReversalRefused(f"{tx_id} has already been reversed")
    posted = post_transactions(connection, [reversal])[0]
    if not posted.replayed and original.code is TxCode.CONTRIBUTION:
        connection.execute(delete(paid_months).where(paid_months.c.tx_id == tx_id))
    return posted


def _already_reversed(connection: Connection, tx_id: str) -> bool:
    from sqlalchemy import select

    from suiren.store.tables import journal

    return (
        connection.execute(select(journal.c.tx_id).where(journal.c.reverses == tx_id)).first()
        is not None
    )
