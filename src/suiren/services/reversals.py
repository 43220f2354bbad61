"""Corrections (红冲): a reversing transaction that negates every posting of the original.

Nothing is edited or deleted in the ledger. A transaction can be reversed once (the
journal's ``reverses`` column is unique); reversing a contribution frees its month, which
may then be paid again.

An employee-medical month whose pooled part was partly held at the hukou region
(services/medical.py: ``{id}/{YYYY-MM}`` in the work region's journal, ``{id}/{YYYY-MM}/hukou``
in the hukou region's, and the obligation between the two funds) is reversed as a whole:
``{reversal_id}`` reverses the month, ``{reversal_id}/hukou`` the hukou part in the hukou
region's journal, and an opposite obligation ``{reversal_id}/hukou`` (hukou region → work
region, same amount) lets the settlement windows net the debt to zero. The ``/hukou``
transaction is never reversed on its own. Everything happens in the caller's database
transaction; replaying a reversal returns its result and writes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select

from suiren.domain.errors import SuirenError
from suiren.domain.month import Month
from suiren.ledger.accounts import AccountKey
from suiren.ledger.transaction import Posting, Transaction, TxCode
from suiren.services.medical import HUKOU_SUFFIX
from suiren.store.ledger_repo import (
    Posted,
    load_transaction_postings,
    lock_chain_head,
    post_transactions,
)
from suiren.store.tables import journal, paid_months, region_obligations


class ReversalRefused(SuirenError):
    code = "reversal-refused"


def reverse(
    connection: Connection, tx_id: str, reversal_id: str, now: datetime, memo: str = ""
) -> Posted:
    """Reverse ``tx_id`` by ``reversal_id`` (and its hukou part, if it has one); see module doc."""
    row, _ = load_transaction_postings(connection, tx_id)
    if not row:
        raise ReversalRefused(f"no transaction {tx_id!r} to reverse")
    hukou = _obligation(connection, tx_id + HUKOU_SUFFIX)  # append-only: safe to read unlocked
    regions = {row["region"]} | ({hukou["to_region"]} if hukou else set())
    for region in sorted(regions):  # the order every writer uses; checks below hold until commit
        lock_chain_head(connection, region)
    original = _load(connection, tx_id)
    if original.code is TxCode.REVERSAL:
        raise ReversalRefused(f"{tx_id} is itself a reversal; post a new transaction instead")
    if tx_id.endswith(HUKOU_SUFFIX) and _obligation(connection, tx_id):
        month_tx = tx_id[: -len(HUKOU_SUFFIX)]
        raise ReversalRefused(
            f"{tx_id} is the part of the contribution {month_tx} held at the hukou region;"
            f" reverse the month's contribution {month_tx} instead (that reverses both)"
        )
    _refuse_if_reversed(connection, tx_id, reversal_id)
    reversals = [original.reversal(reversal_id, now, memo)]
    if hukou:
        part = _load(connection, hukou["obligation_id"])
        _refuse_if_reversed(connection, part.tx_id, reversal_id + HUKOU_SUFFIX, tx_id)
        reversals.append(part.reversal(reversal_id + HUKOU_SUFFIX, now, memo))
    posted = post_transactions(connection, reversals)
    if not posted[0].replayed and original.code is TxCode.CONTRIBUTION:
        connection.execute(delete(paid_months).where(paid_months.c.tx_id == tx_id))
    if hukou and _obligation(connection, reversal_id + HUKOU_SUFFIX) is None:
        connection.execute(region_obligations.insert().values(
            obligation_id=reversal_id + HUKOU_SUFFIX, scheme=hukou["scheme"],
            from_region=hukou["to_region"], to_region=hukou["from_region"],
            amount_fen=hukou["amount_fen"], on_day=now.date(),
        ))  # fmt: skip
    return posted[0]


def _load(connection: Connection, tx_id: str) -> Transaction:
    row, lines = load_transaction_postings(connection, tx_id)
    return Transaction.build(
        row["tx_id"], TxCode(row["code"]), row["region"], Month(row["legal_month"]), row["recorded_at"],
        [Posting(AccountKey.parse(a), amount) for a, amount in lines],
        row["worker_id"], row["reverses"], row["memo"],
    )  # fmt: skip


def _obligation(connection: Connection, obligation_id: str) -> dict[str, Any] | None:
    row = connection.execute(
        select(region_obligations).where(region_obligations.c.obligation_id == obligation_id)
    ).first()
    return None if row is None else dict(row._mapping)


def _refuse_if_reversed(
    connection: Connection, tx_id: str, reversal_id: str, month_tx: str | None = None
) -> None:
    """Refuse if ``tx_id`` was reversed by another transaction than ``reversal_id``."""
    by = connection.execute(select(journal.c.tx_id).where(journal.c.reverses == tx_id)).scalar()
    if by is None or by == reversal_id:
        return
    if month_tx is None:
        raise ReversalRefused(f"{tx_id} has already been reversed (by {by})")
    raise ReversalRefused(
        f"the hukou-region part {tx_id} of {month_tx} was reversed on its own (by {by});"
        f" {month_tx} cannot be reversed as a whole any more"
    )
