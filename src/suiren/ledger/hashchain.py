"""The hash chain: any change to a journal row or a posting is detectable.

The content hash is SHA-256 over a canonical text of the transaction: a header line
(id, code, region, legal month, worker, reverses, memo) and one line per posting
(account key, amount), postings in account-key order. Each transaction's chain hash is
SHA-256 of the previous chain hash (of the same region's journal) and its content hash.
The recording time is not hashed: it is the database's clock, not the transaction's meaning.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

GENESIS = "0" * 64


def content_hash(
    tx_id: str,
    code: str,
    region: str,
    legal_month: int,
    worker_id: str | None,
    reverses: str | None,
    memo: str,
    postings: Iterable[tuple[str, int]],
) -> str:
    digest = hashlib.sha256()
    header = "\x1f".join(
        (tx_id, code, region, str(legal_month), worker_id or "", reverses or "", memo)
    )
    digest.update(header.encode("utf-8"))
    for account, amount in postings:
        digest.update(f"\n{account}\x1f{amount}".encode())
    return digest.hexdigest()


def chain_hash(previous: str, content: str) -> str:
    return hashlib.sha256(f"{previous}{content}".encode("ascii")).hexdigest()
