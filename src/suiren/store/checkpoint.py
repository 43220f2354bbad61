"""Signed checkpoints: the chain heads, anchored outside the database.

The hash chain shows that no entry was changed, but whoever can write to the database can
delete a region's newest entries and move its head back, and the chain still verifies. A
checkpoint (``suiren audit checkpoint --out FILE``) is every region's head at one moment —
sequence, chain hash — with the time, the key's fingerprint and an HMAC-SHA256 signature
under a key derived from the agency's secret. The agency keeps it (or publishes it);
``suiren audit verify --checkpoint FILE`` then proves that every region's entry at the
checkpoint's sequence is still there with the same chain hash, so nothing up to the
checkpoint was removed or rewritten.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from suiren.domain.errors import InvalidInput
from suiren.domain.json_numbers import json_integer
from suiren.domain.messages import text as message
from suiren.store.db import ledger_keys
from suiren.store.tables import chain_heads, journal

if TYPE_CHECKING:
    from suiren.store.audit import AuditResult

FORMAT = "suiren-checkpoint-v1"
REGIONS_MAX = 10_000


def _canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _sign(key: bytes, payload: dict[str, Any]) -> str:
    return hmac.new(key, _canonical(payload), hashlib.sha256).hexdigest()


def make_checkpoint(connection: Connection, now: datetime) -> dict[str, Any]:
    keys = ledger_keys(connection)
    heads = [
        {"region": r.region, "seq": int(r.seq), "chain_hash": r.chain_hash}
        for r in connection.execute(select(chain_heads).order_by(chain_heads.c.region))
        if int(r.seq)
    ]
    payload = {
        "format": FORMAT,
        "created_at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "key_fingerprint": keys.fingerprint,
        "heads": heads,
    }
    return payload | {"signature": _sign(keys.checkpoint_key, payload)}


def parse_checkpoint(text: str) -> dict[str, Any]:
    """A checkpoint file's content, its shape checked (not its signature); a byte-order mark
    before it (a file kept or re-saved by a Windows tool) is read past."""
    try:
        data = json.loads(text.removeprefix("\ufeff"), parse_int=json_integer)
    except (ValueError, RecursionError):
        raise InvalidInput(message("checkpoint.not-json")) from None
    heads = data.get("heads") if isinstance(data, dict) else None
    if (
        not isinstance(data, dict)
        or data.get("format") != FORMAT
        or not isinstance(data.get("signature"), str)
        or not isinstance(heads, list)
        or len(heads) > REGIONS_MAX
        or not all(
            isinstance(h, dict)
            and isinstance(h.get("region"), str)
            and type(h.get("seq")) is int
            and isinstance(h.get("chain_hash"), str)
            for h in heads
        )
    ):
        raise InvalidInput(f"the checkpoint file is not a {FORMAT} checkpoint")
    return data


def verify_checkpoint(
    connection: Connection,
    checkpoint: dict[str, Any],
    ends: dict[str, tuple[int, str]] | None,
    result: AuditResult,
) -> dict[str, Any]:
    """Check ``checkpoint`` against the journal; problems go to ``result``. ``ends``: each
    region's last entry (None: the journal's ends could not be read, which the audit has
    named). Each head is read on its own: an entry that cannot be read is named, and the
    other heads are still compared."""
    from suiren.store.audit import guarded  # the audit imports this module when it runs

    keys = ledger_keys(connection)
    payload = {k: v for k, v in checkpoint.items() if k != "signature"}
    signed = hmac.compare_digest(_sign(keys.checkpoint_key, payload), str(checkpoint["signature"]))
    if not signed:
        result.add(
            "checkpoint",
            str(checkpoint.get("created_at")),
            message("audit.checkpoint-signature"),
        )
    for head in checkpoint["heads"]:
        region, seq = head["region"], head["seq"]
        at = f"{region}/{seq}"
        read = guarded(
            connection,
            result,
            "journal",
            lambda region=region, seq=seq: connection.execute(
                select(journal.c.chain_hash).where(journal.c.region == region, journal.c.seq == seq)
            ).all(),
            at,
        )
        if read is None:  # named: the entry is there but cannot be read
            continue
        if not read:
            end = "?" if ends is None else ends.get(region, (0, ""))[0]
            result.add(
                "journal",
                at,
                message("audit.checkpoint-head-gone", region=region, end=end),
            )
        elif read[0].chain_hash != head["chain_hash"]:
            result.add(
                "journal",
                at,
                message("audit.checkpoint-head-rewritten"),
            )
    return {
        "created_at": checkpoint.get("created_at"),
        "regions": len(checkpoint["heads"]),
        "signature_ok": signed,
    }
