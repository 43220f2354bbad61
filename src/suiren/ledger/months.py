"""Contribution months (缴费月) as ledger rows: one row per month, its postings derived.

A month paid by a flexible worker is one row ``(tx_id, worker, scheme, region, month,
attempt, base, due, account, pooled, held, temporary)`` with ``due = account + pooled`` and
``0 ≤ held ≤ pooled``. Its postings are derived, balanced by construction:

    collection (scheme, region)                  −due
    individual account (worker, scheme, region)  +account      (个人账户)
    pooled entitlement (worker, scheme, region)  +pooled − held (the worker's share of the fund)
    clearing (scheme, region)                    +held          (owed to the hukou region's fund)

Months are appended in batches: one journal entry per batch and region, whose content hash
covers its header, its row count and the Merkle root of its segments. A segment is
``SEGMENT_ROWS`` consecutive rows in line order; its hash is SHA-256 over the segment's
columns in ``COLUMNS`` order — for a text column the little-endian int32 byte lengths of its
values, then their UTF-8 bytes; for an integer column its int64 little-endian values. This
is computed column-wise (no Python loop over rows), so writing and auditing a million
months costs about a quarter of a second of hashing. The audit names a changed segment by
comparing each recomputed segment hash with the stored one (both are covered by the root).

``attempt`` counts how often the worker-month was paid before: a month can be paid again
only after every earlier payment of it was reversed, and (worker, scheme, month, attempt) is
unique, so one worker-month is paid once whatever races.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from suiren.domain.errors import require
from suiren.ledger.accounts import AccountKind, OwnerType

SEGMENT_ROWS = 1024
TEXT_COLUMNS = ("tx_id", "worker_id", "scheme", "region")
INT_COLUMNS = (
    "month", "attempt", "base_fen", "due_fen", "account_fen", "pooled_fen", "held_fen",
    "temporary",
)  # fmt: skip
COLUMNS = TEXT_COLUMNS + INT_COLUMNS
_SEGMENT_TAG = b"suiren contribution segment v1"

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class MonthRows:
    """Contribution months as columns, in line order (text as Arrow, integers as int64)."""

    tx_id: pa.Array
    worker_id: pa.Array
    scheme: pa.Array
    region: pa.Array
    month: IntArray
    attempt: IntArray
    base_fen: IntArray
    due_fen: IntArray
    account_fen: IntArray
    pooled_fen: IntArray
    held_fen: IntArray
    temporary: IntArray  # 0 or 1: paid into a temporary account (临时账户)

    def __post_init__(self) -> None:
        n = len(self.tx_id)
        for name in COLUMNS:
            column = getattr(self, name)
            require(len(column) == n, f"month column {name} has {len(column)} rows, not {n}")
        for name in TEXT_COLUMNS:
            object.__setattr__(self, name, _plain_string(getattr(self, name)))
        for name in INT_COLUMNS:
            object.__setattr__(self, name, np.ascontiguousarray(getattr(self, name), dtype="<i8"))
        require(
            bool(np.all(self.due_fen == self.account_fen + self.pooled_fen)),
            "a month's due is its account part plus its pooled part",
        )
        require(
            bool(np.all((self.held_fen >= 0) & (self.held_fen <= self.pooled_fen))),
            "the part held at the hukou region is within the pooled part",
        )

    def __len__(self) -> int:
        return len(self.tx_id)

    @classmethod
    def from_columns(cls, columns: dict[str, object]) -> MonthRows:
        return cls(**{name: columns[name] for name in COLUMNS})  # type: ignore[arg-type]

    def take(self, index: IntArray | list[int]) -> MonthRows:
        """The rows at ``index`` (in that order)."""
        picked = np.asarray(index, dtype=np.int64)
        arrow = pa.array(picked, type=pa.int64())
        return MonthRows(
            **{name: getattr(self, name).take(arrow) for name in TEXT_COLUMNS},
            **{name: getattr(self, name)[picked] for name in INT_COLUMNS},
        )

    def rows(self) -> Iterator[tuple[object, ...]]:
        """The rows as tuples in ``COLUMNS`` order (for small batches and SQLite)."""
        text = [getattr(self, name).to_pylist() for name in TEXT_COLUMNS]
        ints = [getattr(self, name).tolist() for name in INT_COLUMNS]
        return zip(*text, *ints, strict=True)


def _plain_string(given: object) -> pa.Array:
    """A column as one contiguous Arrow ``string`` array (offsets from zero)."""
    column: pa.Array
    if isinstance(given, pa.ChunkedArray):
        column = given.combine_chunks()
    elif isinstance(given, pa.Array):
        column = given
    else:
        column = pa.array(given, type=pa.string())
    if column.type != pa.string():
        column = pc.cast(column, pa.string())
    require(column.null_count == 0, "a month's text column has no nulls")
    if column.offset:
        column = pa.concat_arrays([column])  # re-based copy
    return column


def _text_parts(column: pa.Array) -> tuple[npt.NDArray[np.int32], memoryview]:
    buffers = column.buffers()
    offsets = np.frombuffer(buffers[1], dtype="<i4")[
        column.offset : column.offset + len(column) + 1
    ]
    data = memoryview(buffers[2]) if buffers[2] is not None else memoryview(b"")
    return offsets, data


def segment_hashes(rows: MonthRows) -> list[bytes]:
    """The SHA-256 of every segment of ``rows`` (see module doc), in order."""
    return column_segment_hashes(
        [getattr(rows, name) for name in TEXT_COLUMNS],
        [getattr(rows, name) for name in INT_COLUMNS],
    )


def column_segment_hashes(texts: list[pa.Array], ints: list[IntArray]) -> list[bytes]:
    """``segment_hashes`` of raw columns in ``COLUMNS`` order (nothing else checked: the audit
    hashes what is stored, however wrong)."""
    parts = [_text_parts(_plain_string(column)) for column in texts]
    numbers = [np.ascontiguousarray(column, dtype="<i8") for column in ints]
    n = len(numbers[0]) if numbers else 0
    hashes = []
    for start in range(0, n, SEGMENT_ROWS):
        end = min(start + SEGMENT_ROWS, n)
        digest = hashlib.sha256(_SEGMENT_TAG)
        for offsets, data in parts:
            digest.update(np.diff(offsets[start : end + 1]).astype("<i4").tobytes())
            digest.update(data[offsets[start] : offsets[end]])
        for column in numbers:
            digest.update(column[start:end].tobytes())
        hashes.append(digest.digest())
    return hashes


_BATCH_TAG = b"suiren contribution batch v1"


def batch_fingerprint(scheme: str, texts: list[pa.Array], ints: list[IntArray]) -> str:
    """SHA-256 (hex) of a batch as received: its scheme, then each text column (int32 byte
    lengths, then UTF-8 bytes) and each integer column (int64 little-endian), column-wise as
    the segments are hashed. The same rows in the same order give the same fingerprint."""
    digest = hashlib.sha256(_BATCH_TAG)
    digest.update(len(scheme).to_bytes(4, "little") + scheme.encode())
    digest.update(len(ints[0] if ints else texts[0]).to_bytes(8, "little"))
    for column in texts:
        offsets, data = _text_parts(_plain_string(column))
        digest.update(np.diff(offsets).astype("<i4").tobytes())
        digest.update(data[offsets[0] : offsets[-1]])
    for numbers in ints:
        digest.update(np.ascontiguousarray(numbers, dtype="<i8").tobytes())
    return digest.hexdigest()


BALANCE_COLUMNS = ("account", "owner_type", "owner_id", "scheme", "kind", "region", "balance_fen")


SMALL_ROWS = 64  # below this, summing in Python beats building Arrow group-bys


def balance_deltas(rows: MonthRows, sign: int = 1) -> pa.Table:
    """The derived postings of ``rows`` summed per account, as a table of ``BALANCE_COLUMNS``
    (``sign=-1``: their reversal); accounts whose sum is zero are left out. A few rows (one
    payment) are summed in Python: the Arrow group-bys cost ~3 ms a payment."""
    if len(rows.tx_id) < SMALL_ROWS:
        return _small_balance_deltas(rows, sign)
    table = pa.table(
        {
            "worker_id": rows.worker_id,
            "scheme": rows.scheme,
            "region": rows.region,
            "due": rows.due_fen,
            "account": rows.account_fen,
            "entitled": rows.pooled_fen - rows.held_fen,
            "held": rows.held_fen,
        }
    )
    per_worker = _group_sums(
        table,
        ["worker_id", "scheme", "region"],
        {"account_sum": "account", "entitled_sum": "entitled"},
    )
    per_region = _group_sums(table, ["scheme", "region"], {"due_sum": "due", "held_sum": "held"})
    parts = [
        _deltas(
            OwnerType.WORKER,
            per_worker["worker_id"],
            per_worker,
            AccountKind.INDIVIDUAL_ACCOUNT,
            per_worker["account_sum"],
            sign,
        ),
        _deltas(
            OwnerType.WORKER,
            per_worker["worker_id"],
            per_worker,
            AccountKind.POOLED_ENTITLEMENT,
            per_worker["entitled_sum"],
            sign,
        ),
        _deltas(
            OwnerType.SYSTEM,
            _repeat("collection", len(per_region)),
            per_region,
            AccountKind.COLLECTION,
            per_region["due_sum"],
            -sign,
        ),
        _deltas(
            OwnerType.SYSTEM,
            _repeat("clearing", len(per_region)),
            per_region,
            AccountKind.CLEARING,
            per_region["held_sum"],
            sign,
        ),
    ]
    return pa.concat_tables(parts)


def _group_sums(table: pa.Table, keys: list[str], sums: dict[str, str]) -> pa.Table:
    """``table`` grouped by ``keys`` (text columns) with the exact int64 sum of each column of
    ``sums`` (output name → column): the keys dictionary-coded, one stable sort, ``reduceat``.
    The groups come in the order of their codes' key; no float and no query engine."""
    key = np.zeros(table.num_rows, dtype=np.int64)
    span = 1
    for name in keys:
        encoded = pc.dictionary_encode(table[name]).combine_chunks()
        span *= max(len(encoded.dictionary), 1)
        require(span < 1 << 62, "too many distinct keys to group in one batch")
        key = key * len(encoded.dictionary) + encoded.indices.to_numpy(zero_copy_only=False)
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    first = pa.array(order[starts])
    out = {name: table[name].take(first) for name in keys}
    for name, column in sums.items():
        values = np.asarray(table[column].to_numpy(), dtype=np.int64)[order]
        out[name] = pa.array(np.add.reduceat(values, starts) if len(values) else values)
    return pa.table(out)


def _small_balance_deltas(rows: MonthRows, sign: int) -> pa.Table:
    """``balance_deltas`` for a few rows: the same accounts and sums, summed in dicts."""
    workers: dict[tuple[str, str, str], list[int]] = {}
    regions: dict[tuple[str, str], list[int]] = {}
    columns = zip(
        rows.worker_id.to_pylist(),
        rows.scheme.to_pylist(),
        rows.region.to_pylist(),
        rows.due_fen.tolist(),
        rows.account_fen.tolist(),
        rows.pooled_fen.tolist(),
        rows.held_fen.tolist(),
        strict=True,
    )
    for worker, scheme, region, due, account, pooled, held in columns:
        sums = workers.setdefault((worker, scheme, region), [0, 0])
        sums[0] += account
        sums[1] += pooled - held
        totals = regions.setdefault((scheme, region), [0, 0])
        totals[0] += due
        totals[1] += held
    out: dict[str, list[object]] = {name: [] for name in BALANCE_COLUMNS}

    def add(owner_type: OwnerType, owner: str, scheme: str, kind: AccountKind, region: str,
            amount: int) -> None:  # fmt: skip
        if amount:
            out["account"].append(f"{owner_type.value}:{owner}:{scheme}:{kind.value}:{region}")
            for name, value in (("owner_type", owner_type.value), ("owner_id", owner),
                                ("scheme", scheme), ("kind", kind.value), ("region", region),
                                ("balance_fen", amount)):  # fmt: skip
                out[name].append(value)

    for kind, at in ((AccountKind.INDIVIDUAL_ACCOUNT, 0), (AccountKind.POOLED_ENTITLEMENT, 1)):
        for (worker, scheme, region), sums in workers.items():
            add(OwnerType.WORKER, worker, scheme, kind, region, sums[at] * sign)
    for (scheme, region), totals in regions.items():
        add(
            OwnerType.SYSTEM,
            "collection",
            scheme,
            AccountKind.COLLECTION,
            region,
            -totals[0] * sign,
        )
    for (scheme, region), totals in regions.items():
        add(OwnerType.SYSTEM, "clearing", scheme, AccountKind.CLEARING, region, totals[1] * sign)
    return pa.table(
        {
            name: pa.array(values, type=pa.int64() if name == "balance_fen" else pa.string())
            for name, values in out.items()
        }
    )


def _repeat(text: str, n: int) -> pa.Array:
    return pa.repeat(pa.scalar(text, pa.string()), n)


def _deltas(
    owner_type: OwnerType,
    owner: object,
    keys: pa.Table,
    kind: AccountKind,
    amounts: object,
    sign: int,
) -> pa.Table:
    """One account per row of ``keys`` (scheme, region) with ``amounts``, zero ones left out."""
    amount = np.asarray(amounts, dtype=np.int64) * sign
    keep = pa.array(amount != 0)
    n = len(keys)
    owner_type_ = _repeat(owner_type.value, n)
    kind_ = _repeat(kind.value, n)
    account = pc.binary_join_element_wise(
        owner_type_, owner, keys["scheme"], kind_, keys["region"], ":"
    )
    table = pa.table(
        {
            "account": account,
            "owner_type": owner_type_,
            "owner_id": owner,
            "scheme": keys["scheme"],
            "kind": kind_,
            "region": keys["region"],
            "balance_fen": pa.array(amount),
        }
    )
    return table.filter(keep)


def derived_postings(row: dict[str, object]) -> list[tuple[str, int]]:
    """(account key, amount) of one month's derived postings, zero amounts left out."""
    worker, scheme, region = row["worker_id"], row["scheme"], row["region"]
    due, account = int(row["due_fen"]), int(row["account_fen"])  # type: ignore[call-overload]
    pooled, held = int(row["pooled_fen"]), int(row["held_fen"])  # type: ignore[call-overload]
    lines = [
        (f"system:collection:{scheme}:collection:{region}", -due),
        (f"worker:{worker}:{scheme}:individual_account:{region}", account),
        (f"worker:{worker}:{scheme}:pooled_entitlement:{region}", pooled - held),
        (f"system:clearing:{scheme}:clearing:{region}", held),
    ]
    return [(key, amount) for key, amount in lines if amount]
