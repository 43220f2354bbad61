"""Transactions and postings: immutable, balanced, with a client-supplied id.

``Transaction.build`` checks what a transaction must be before anything is written: at
least two postings, no zero amounts, amounts within limits, the postings summing to zero,
no account posted twice, one region for the whole transaction (its journal's region).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from suiren.domain.errors import InvalidInput, require
from suiren.domain.month import Month
from suiren.ledger.accounts import AccountKey

POSTINGS_MAX = 1_000_000
AMOUNT_FEN_MAX = 10**15
TX_ID_RE = re.compile(r"^[A-Za-z0-9_.:/-]{1,128}$")


class TxCode(StrEnum):
    CONTRIBUTION = "contribution"
    INTEREST = "interest"
    TRANSFER = "transfer"
    SETTLEMENT = "settlement"
    BENEFIT = "benefit"
    PREMIUM = "premium"
    REVERSAL = "reversal"


@dataclass(frozen=True, slots=True)
class Posting:
    account: AccountKey
    amount_fen: int


@dataclass(frozen=True, slots=True)
class Transaction:
    """A balanced set of postings in one region's journal."""

    tx_id: str  # the client's idempotency key
    code: TxCode
    region: str  # the journal (hash chain) it belongs to
    legal_month: Month  # the month it concerns (所属期)
    recorded_at: datetime
    postings: tuple[Posting, ...]
    worker_id: str | None = None
    reverses: str | None = None
    memo: str = ""

    @classmethod
    def build(
        cls,
        tx_id: str,
        code: TxCode,
        region: str,
        legal_month: Month,
        recorded_at: datetime,
        postings: list[Posting] | tuple[Posting, ...],
        worker_id: str | None = None,
        reverses: str | None = None,
        memo: str = "",
    ) -> Transaction:
        if not TX_ID_RE.match(tx_id):
            raise InvalidInput(
                f"transaction id {tx_id!r} must be 1–128 characters of letters, digits and ._:/-"
            )
        require(2 <= len(postings) <= POSTINGS_MAX, "a transaction has 2..POSTINGS_MAX postings")
        seen: set[AccountKey] = set()
        for posting in postings:
            require(posting.amount_fen != 0, f"zero posting to {posting.account}")
            require(abs(posting.amount_fen) <= AMOUNT_FEN_MAX, "posting amount out of range")
            require(posting.account not in seen, f"account {posting.account} posted twice")
            seen.add(posting.account)
        require(sum(p.amount_fen for p in postings) == 0, f"transaction {tx_id} does not balance")
        ordered = tuple(sorted(postings, key=lambda p: str(p.account)))
        return cls(
            tx_id, code, region, legal_month, recorded_at, ordered, worker_id, reverses, memo
        )

    def reversal(self, tx_id: str, recorded_at: datetime, memo: str = "") -> Transaction:
        """The transaction that undoes this one (红冲): every posting negated."""
        return Transaction.build(
            tx_id,
            TxCode.REVERSAL,
            self.region,
            self.legal_month,
            recorded_at,
            [Posting(p.account, -p.amount_fen) for p in self.postings],
            self.worker_id,
            self.tx_id,
            memo or f"reversal of {self.tx_id}",
        )
