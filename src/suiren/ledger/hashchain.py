"""The hash chain: any change to a journal row, a posting, a fact or a month is detectable.

The content hash is SHA-256 over a canonical text of the transaction: a header line (format
version, id, code, region, legal month, worker, reverses, memo, recording time in UTC
microseconds), one line per posting (account key, amount, in account-key order), and one
line per fact (kind, key, canonical JSON, in the order recorded). A batch of contribution
months has the same header and, instead of postings, the number of rows and the Merkle
root of its segments' hashes (``ledger.months``).

Each transaction's chain hash is HMAC-SHA256, under the ledger's chain key, of the previous
chain hash of the same region's journal and its content hash. The key is derived from the
agency's secret (services/identity.py): whoever can write to the database but does not hold
the secret cannot recompute a chain after editing a row. Rewinding a chain (deleting its
newest entries and the head with them) is found against a signed checkpoint kept outside
the database (store/checkpoint.py).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from itertools import islice

GENESIS = "0" * 64
FORMAT = "suiren-tx-v2"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_CHUNK = 10_000  # postings hashed per update (one joined text: the same bytes, fewer calls)


def micros(moment: datetime) -> int:
    """A datetime as exact integer microseconds since the epoch (naive = UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MICROSECOND


def header_text(
    tx_id: str,
    code: str,
    region: str,
    legal_month: int,
    worker_id: str | None,
    reverses: str | None,
    memo: str,
    recorded_at: datetime,
) -> str:
    return "\x1f".join(
        (
            FORMAT,
            tx_id,
            code,
            region,
            str(legal_month),
            worker_id or "",
            reverses or "",
            memo,
            str(micros(recorded_at)),
        )
    )


def content_hash(
    header: str,
    postings: Iterable[tuple[str, int]],
    facts: Iterable[tuple[str, str, str]] = (),
) -> str:
    digest = hashlib.sha256(header.encode("utf-8"))
    lines = iter(postings)
    while chunk := [f"\n{account}\x1f{amount}" for account, amount in islice(lines, _CHUNK)]:
        digest.update("".join(chunk).encode())  # the same bytes, fed in chunks
    return _with_facts(digest, facts)


def content_hash_of_lines(
    header: str, lines: bytes | memoryview, facts: Iterable[tuple[str, str, str]] = ()
) -> str:
    """``content_hash`` of postings given as the bytes of their lines, already joined: each
    ``"\\n{account}\\x1f{amount}"`` in UTF-8, in account-key order (a million postings built
    column-wise by ``store.ledger_repo.posting_lines``, not a Python string each)."""
    digest = hashlib.sha256(header.encode("utf-8"))
    digest.update(lines)
    return _with_facts(digest, facts)


def _with_facts(digest: hashlib._Hash, facts: Iterable[tuple[str, str, str]]) -> str:
    for kind, key, data in facts:
        digest.update(f"\n#{kind}\x1f{key}\x1f{data}".encode())
    return digest.hexdigest()


def batch_content_hash(header: str, rows: int, root: str) -> str:
    """The content hash of a batch of contribution months: its header, row count and root."""
    return hashlib.sha256(f"{header}\n@months\x1f{rows}\x1f{root}".encode()).hexdigest()


def chain_hash(key: bytes, previous: str, content: str) -> str:
    """HMAC-SHA256(key, previous ‖ content): the link that only the key holder can forge."""
    return hmac.new(
        key, bytes.fromhex(previous) + bytes.fromhex(content), hashlib.sha256
    ).hexdigest()


def merkle_root(leaves: list[bytes]) -> str:
    """The Merkle root (SHA-256, pairs, an odd node promoted) of segment hashes; empty → zeros."""
    if not leaves:
        return GENESIS
    level = leaves
    while len(level) > 1:
        paired = [
            hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0].hex()
