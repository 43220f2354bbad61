"""Transactions, postings and facts: immutable, balanced, with a client-supplied id.

``Transaction.build`` checks what a transaction must be before anything is written: at
least two postings that sum to zero (or, for a step that moves no money, none at all and at
least one fact), no zero amounts, amounts within limits, no account posted twice, one
region for the whole transaction (its journal's region), a memo within its limit.

A *fact* is a row of one of the ledger's other tables (a worker, an enrolment, a transfer's
state, a settlement's flows…) recorded by the transaction that changed it. Its canonical
text is part of the transaction's content hash, so every table that carries money or
identity meaning is either hashed itself or rebuilt by the audit from hashed facts
(store/projections.py). The transaction's recording time is hashed too.

Contribution months are not transactions of their own: they are rows of one batch entry
per region (``ledger.months``), whose postings are derived from each row.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from suiren.domain.errors import InvalidInput, require
from suiren.domain.messages import Text
from suiren.domain.messages import text as message
from suiren.domain.month import Month
from suiren.ledger.accounts import AccountKey

POSTINGS_MAX = 1_000_000
FACTS_MAX = 100_000
AMOUNT_FEN_MAX = 10**15
MEMO_CHARS_MAX = 200
TX_ID_CHARS_MAX = 128
GATHER_ID_CHARS_MAX = 90  # a gathering id: room for "/" and a region code in a transfer id
TX_ID_RE = re.compile(r"[A-Za-z0-9_.:/-]{1,128}\Z", re.ASCII)
# ``{payment id}/{YYYY-MM}``: the id of a contribution month; no other transaction may end so
MONTH_TX_RE = re.compile(r".*/[0-9]{4}-[0-9]{2}\Z", re.ASCII)


class TxCode(StrEnum):
    CONTRIBUTION = "contribution"  # a batch of contribution months (ledger.months)
    INTEREST = "interest"
    TRANSFER = "transfer"
    SETTLEMENT = "settlement"
    BENEFIT = "benefit"
    PREMIUM = "premium"
    REVERSAL = "reversal"
    ENROLMENT = "enrolment"  # a worker registered or enrolled in a scheme (facts only)
    OPENING = "opening"  # a worker's earlier history and balances from an old system (期初)
    RECEIPT = "receipt"  # a batch of contribution months as first received (facts only)
    PROVISIONAL = "provisional"  # the provisional figures a batch's months rest on (facts only)
    ENGAGEMENT = "engagement"  # a platform's declaration of a worker it engages (facts only)
    ACCESS = "access"  # an API key or a clerk's login issued, changed or revoked (facts only)


@dataclass(frozen=True, slots=True)
class Posting:
    account: AccountKey
    amount_fen: int


@dataclass(frozen=True, slots=True)
class Fact:
    """One row of a projection table, as canonical JSON (store/projections.py encodes it)."""

    kind: str  # the table
    key: str  # the row's key in that table, ``/``-joined
    data: str  # canonical JSON of the row


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC (a naive datetime is taken to be UTC already)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def check_tx_id(tx_id: str, what: Text | None = None) -> str:
    """``tx_id`` if it is an id (``what``: the id a command takes, a catalogue noun)."""
    if not isinstance(tx_id, str) or not TX_ID_RE.match(tx_id):
        shown = repr(tx_id[:40]) if isinstance(tx_id, str) else type(tx_id).__name__
        raise InvalidInput(
            message(
                "id.form",
                what=what or message("noun.transaction-id"),
                shown=shown,
                chars_max=TX_ID_CHARS_MAX,
            )
        )
    return tx_id


def check_memo(memo: str) -> str:
    """A memo (or a rejection's reason): one line of printable text, as the CLI's ``--memo``
    and ``--reason`` are — no character of Unicode's C categories (a line break, a terminal's
    escape, ESC or C1's CSI, DEL, a direction override that shows the text reversed, a
    zero-width one, a private or unassigned one) but a tab, which memos have always taken.
    It is kept and shown again: in a terminal, on the console's and the portal's pages."""
    if not isinstance(memo, str) or len(memo) > MEMO_CHARS_MAX:
        raise InvalidInput(message("memo.too-long", chars_max=MEMO_CHARS_MAX))
    if not (memo.isascii() and memo.replace("\t", " ").isprintable()) and any(
        c != "\t" and unicodedata.category(c).startswith("C") for c in memo
    ):
        raise InvalidInput(message("memo.control"))
    return memo


@dataclass(frozen=True, slots=True)
class Transaction:
    """A balanced set of postings (and the facts it records) in one region's journal."""

    tx_id: str  # the client's idempotency key
    code: TxCode
    region: str  # the journal (hash chain) it belongs to
    legal_month: Month  # the month it concerns (所属期)
    recorded_at: datetime  # UTC
    postings: tuple[Posting, ...]
    worker_id: str | None = None
    reverses: str | None = None
    memo: str = ""
    facts: tuple[Fact, ...] = ()

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
        facts: list[Fact] | tuple[Fact, ...] = (),
    ) -> Transaction:
        check_tx_id(tx_id)
        if MONTH_TX_RE.match(tx_id):
            raise InvalidInput(message("id.month-like", shown=repr(tx_id[:40])))
        check_memo(memo)
        # the content hash reads None and "" alike: only None stands for "none"
        require(worker_id != "" and reverses != "", "no worker or reverses is None, not ''")
        require(len(facts) <= FACTS_MAX, "a transaction records at most FACTS_MAX facts")
        if postings or not facts:
            require(
                2 <= len(postings) <= POSTINGS_MAX,
                "a transaction has 2..POSTINGS_MAX postings (or none and some facts)",
            )
        seen: set[AccountKey] = set()
        for posting in postings:
            require(posting.amount_fen != 0, f"zero posting to {posting.account}")
            require(abs(posting.amount_fen) <= AMOUNT_FEN_MAX, "posting amount out of range")
            require(posting.account not in seen, f"account {posting.account} posted twice")
            seen.add(posting.account)
        require(sum(p.amount_fen for p in postings) == 0, f"transaction {tx_id} does not balance")
        ordered = tuple(sorted(postings, key=lambda p: str(p.account)))
        return cls(
            tx_id,
            code,
            region,
            legal_month,
            utc(recorded_at),
            ordered,
            worker_id,
            reverses,
            memo,
            tuple(facts),
        )

    def reversal(self, tx_id: str, recorded_at: datetime, memo: str = "") -> Transaction:
        """The transaction that undoes this one's postings (红冲): every posting negated."""
        return Transaction.build(
            tx_id,
            TxCode.REVERSAL,
            self.region,
            self.legal_month,
            recorded_at,
            [Posting(p.account, -p.amount_fen) for p in self.postings],
            self.worker_id,
            self.tx_id,
            memo or f"reversal of {self.tx_id}"[:MEMO_CHARS_MAX],
        )
