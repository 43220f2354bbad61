"""Ledger invariants, checked on plain data (used by tests and by the auditor)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from suiren.ledger.transaction import Transaction


def balances_from(transactions: Iterable[Transaction]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for tx in transactions:
        for posting in tx.postings:
            totals[str(posting.account)] += posting.amount_fen
    return dict(totals)


def is_balanced(tx: Transaction) -> bool:
    return sum(p.amount_fen for p in tx.postings) == 0
