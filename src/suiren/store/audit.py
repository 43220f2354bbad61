"""``suiren audit verify``: prove that nothing that carries money or identity meaning changed.

What is checked, and how a change is named (table, row, what differs):

1. **The chains.** Every region's journal is read in sequence order with its postings, facts,
   contribution months and month segments beside it (all ordered by their journal entry and
   line). For each entry: the sequence has no gap; postings balance (two or more summing to
   zero, or none with facts); each posting's copies of its entry's month, code and account
   region agree; a batch's rows are numbered 0..n−1, are of its region, and their
   recomputed segment hashes (and row counts) equal the stored ones, whose Merkle root is in
   the content hash; an absent worker or reversed id is NULL, never ``''``; the content hash
   matches; the keyed chain hash follows from the previous one. Every chain head equals the
   last entry of its region — a head whose region has no journal is a deleted region. Rows
   whose journal entry is missing are named.
2. **The projections.** Every table written by facts (workers, enrolments, transfers and
   their events, interest runs and carries, obligations, settlements) is rebuilt from the
   facts and compared row by row (store/projections.py), and so is every row that grants
   access — an API key, a clerk's login — against its facts in the national journal
   (store/grants.py: a key or login inserted, re-scoped, moved, un-revoked or deleted is
   named). Every portal login opens the worker its resident id's blind index registered;
   every bound mobile number a worker.
3. **The balances.** Every account's balance is recomputed from its postings and the
   postings its contribution months derive; its owner, scheme, kind and region spell its key
   (reads select by them); all balances sum to zero; no worker's account is negative.
4. **A checkpoint** (optional, store/checkpoint.py): its signature is the key's, and every
   region's entry at the checkpoint's sequence still has the chain hash it had then — nothing
   up to the checkpoint was removed or rewritten.

All problems are collected (up to ``PROBLEMS_MAX``), not only the first, each said in English
(``what``) and in Chinese (``what_zh``) with the same values: a code ``audit.…`` of
``domain.messages``, never a sentence written here. Besides them, the
audit lists what the service itself once found altered and repaired (``repaired``: a worker's
sessions' row not as recorded, ended at their next login): no longer a difference, never
forgotten — the repair is a fact in the national journal.
"""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Boolean, Connection, Integer, LargeBinary, Table, select, text
from sqlalchemy.exc import DBAPIError

from suiren.domain.messages import Text, quoted
from suiren.domain.messages import text as message  # sqlalchemy's text is the SQL one
from suiren.domain.region import NATIONAL
from suiren.ledger.hashchain import (
    GENESIS,
    batch_content_hash,
    chain_hash,
    content_hash,
    header_text,
    merkle_root,
)
from suiren.ledger.months import COLUMNS as MONTH_COLUMNS
from suiren.ledger.months import INT_COLUMNS, SEGMENT_ROWS, TEXT_COLUMNS, column_segment_hashes
from suiren.store.api_tables import APPEND_ONLY_API, api_metadata
from suiren.store.db import is_postgres, ledger_keys
from suiren.store.projections import RECORDED, Difference, Projection, agrees_in_sql, rebuild
from suiren.store.readable import well_typed
from suiren.store.seals import NAMED_BY, SEALED, is_genuine
from suiren.store.tables import (
    chain_heads,
    facts,
    journal,
    metadata,
    month_segments,
    postings,
)

PROBLEMS_MAX = 100
STREAM_ROWS = 10_000


@dataclass(frozen=True)
class Problem:
    """What differs, named: the table, the row's key and what, in English (``what``, which
    scripts match) and in Chinese (``what_zh``) with the same values."""

    table: str
    row: str  # the row's key: "region/seq", a tx id, an account…
    what: str
    what_zh: str

    @classmethod
    def of(cls, table: str, row: object, said: Text) -> Problem:
        """``row`` may be a tampered value (bytes, a number, text that is not UTF-8), and so
        may what ``said`` quotes: each is written as text the report can print."""
        return cls(table, _printable(row), _printable(said.en), _printable(said.zh))

    def to_json(self) -> dict[str, str]:
        return {"table": self.table, "row": self.row, "what": self.what, "what_zh": self.what_zh}

    def lines(self) -> tuple[str, str]:
        """The problem in Chinese, then in English (the CLI prints each on a line)."""
        return f"{self.table} {self.row}：{self.what_zh}", str(self)

    def __str__(self) -> str:
        return f"{self.table} {self.row}: {self.what}"


def _printable(value: object) -> str:
    text_ = value if isinstance(value, str) else repr(value)
    return text_.encode("utf-8", "backslashreplace").decode("utf-8")


@dataclass
class AuditResult:
    transactions: int = 0
    months: int = 0
    accounts: int = 0
    facts: int = 0
    problems: list[Problem] = field(default_factory=list)
    checkpoint: dict[str, Any] | None = None
    # rows the service found not as recorded and repaired (``_note_repairs``): not problems
    # now — the row is as its new fact records it —, but never forgotten by the audit
    repaired: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def problem(self) -> str | None:
        return str(self.problems[0]) if self.problems else None

    def add(self, table: str, row: object, said: Text) -> None:
        """Record a problem, ``said`` in both languages (a code of ``domain.messages``)."""
        if len(self.problems) < PROBLEMS_MAX:
            self.problems.append(Problem.of(table, row, said))

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "transactions": self.transactions,
            "months": self.months,
            "accounts": self.accounts,
            "facts": self.facts,
            "problems": [p.to_json() for p in self.problems],
            "repaired": [p.to_json() for p in self.repaired],
            "checkpoint": self.checkpoint,
        }


def verify(connection: Connection, checkpoint: dict[str, Any] | None = None) -> AuditResult:
    """Every check, each step in a savepoint of its own (``guarded``): a step that meets a
    value it cannot read names its table and the audit goes on, so one tamper never hides
    another — the chain heads and a checkpoint are compared with the journal however far
    the walk of the chains got."""
    result = AuditResult()
    guarded(connection, result, "journal", lambda: _verify_chains(connection, result))
    ends = guarded(connection, result, "journal", lambda: journal_ends(connection))
    if ends is not None:
        guarded(connection, result, "chain_heads", lambda: _verify_heads(connection, result, ends))
    _verify_projections(connection, result)
    _verify_logins(connection, result)
    guarded(connection, result, "facts", lambda: _note_repairs(connection, result))
    _verify_balances(connection, result)
    _verify_types(connection, result)
    if checkpoint is not None:
        from suiren.store.checkpoint import verify_checkpoint

        result.checkpoint = verify_checkpoint(connection, checkpoint, ends, result)
    return result


# 1. chains ---------------------------------------------------------------------------------


def _key_of(row: Any) -> tuple[str, int] | None:
    """A row's (region, seq) as the service writes them, or None (a region that is no text,
    a seq that is no whole number: written around the service)."""
    region, seq = row.region, row.seq
    if not isinstance(region, str) or not isinstance(seq, int) or isinstance(seq, bool):
        return None
    return region, seq


class _Stream:
    """Rows of one table ordered by (region, seq, …), taken group by group."""

    def __init__(
        self, connection: Connection, statement: Any, table: str, result: AuditResult
    ) -> None:
        self.table = table
        self.rows: Iterator[Any] = iter(
            connection.execute(
                statement, execution_options={"stream_results": True, "yield_per": STREAM_ROWS}
            )
        )
        self.pending: Any = None
        self.key: tuple[str, int] | None = None
        self._next(result)

    def _next(self, result: AuditResult) -> None:
        """The next row whose key the service could have written; the others are named."""
        while (row := next(self.rows, None)) is not None:
            key = _key_of(row)
            if key is not None:
                self.pending, self.key = row, key
                return
            result.add(
                self.table,
                f"{row.region!r}/{row.seq!r}",
                message("audit.key-never-written"),
            )
        self.pending, self.key = None, None

    def take(self, region: str, seq: int, result: AuditResult) -> list[Any]:
        """The rows of (region, seq); rows of earlier keys have no journal entry."""
        out = []
        while self.key is not None and self.key < (region, seq):
            result.add(
                self.table,
                f"{self.key[0]}/{self.key[1]}",
                message("audit.row-without-entry"),
            )
            self._next(result)
        while self.key == (region, seq):
            out.append(self.pending)
            self._next(result)
        return out

    def rest(self, result: AuditResult) -> None:
        while self.key is not None:
            result.add(
                self.table,
                f"{self.key[0]}/{self.key[1]}",
                message("audit.row-without-entry"),
            )
            self._next(result)


# what a value the service never writes makes Python raise while one entry is checked (an
# int() of text, bytes.fromhex of a number, a hash over bytes): the entry is named and the
# walk goes on with the next
_ENTRY_ERRORS = (TypeError, ValueError, AttributeError, ArithmeticError, LookupError)


def _verify_chains(connection: Connection, result: AuditResult) -> None:
    """Walk every region's chain in sequence order (the heads are compared after, by
    ``_verify_heads``)."""
    key = ledger_keys(connection).chain_key
    streams = {
        "postings": _Stream(
            connection,
            select(postings).order_by(postings.c.region, postings.c.seq, postings.c.line),
            "postings",
            result,
        ),
        "facts": _Stream(
            connection,
            select(facts).order_by(facts.c.region, facts.c.seq, facts.c.line),
            "facts",
            result,
        ),
        "segments": _Stream(
            connection,
            select(month_segments).order_by(
                month_segments.c.region, month_segments.c.seq, month_segments.c.segment
            ),
            "month_segments",
            result,
        ),
    }
    # the months in a savepoint of their own: months that cannot be read name their table,
    # and the walk still checks every entry (a batch's against its stored segment hashes)
    batches = guarded(connection, result, "contribution_months", lambda: month_batches(connection))
    region, expected, previous = None, 0, GENESIS
    entries = connection.execute(
        select(journal).order_by(journal.c.region, journal.c.seq),
        execution_options={"stream_results": True, "yield_per": STREAM_ROWS},
    )
    for row in entries:
        at = _key_of(row)
        if at is None:
            result.add(
                "journal",
                f"{row.region!r}/{row.seq!r}",
                message("audit.key-never-written"),
            )
            continue
        if at[0] != region:
            region, expected, previous = at[0], 0, GENESIS
        expected += 1
        seq = at[1]
        name = f"{region}/{seq} ({row.tx_id})"
        if seq != expected:
            result.add("journal", name, message("audit.sequence-gap", expected=expected))
            expected = seq
        try:
            _verify_entry(row, seq, name, previous, key, streams, batches, result)
        except _ENTRY_ERRORS as error:
            result.add("journal", name, _unreadable_what(error))
        previous = row.chain_hash
    for stream in streams.values():
        stream.rest(result)
    for region_, seq_ in sorted(batches or ()):
        result.add(
            "contribution_months",
            f"{region_}/{seq_}",
            message("audit.rows-without-entry"),
        )


def _verify_entry(
    row: Any,
    seq: int,
    name: str,
    previous: str,
    key: bytes,
    streams: dict[str, _Stream],
    batches: dict[tuple[str, int], Batch] | None,
    result: AuditResult,
) -> None:
    """One journal entry: its lines, content hash and link in the chain."""
    if row.worker_id == "" or row.reverses == "":
        # the header hashes NULL and "" alike; the write path never stores ""
        result.add("journal", name, message("audit.empty-worker-or-reverses"))
    lines = {k: s.take(row.region, seq, result) for k, s in streams.items()}
    batch = None if batches is None else batches.pop((row.region, seq), None)
    content = _entry_content(row, lines, batch, batches is not None, name, result)
    if content != row.content_hash:
        result.add(
            "journal",
            name,
            message("audit.content-hash"),
        )
    if row.prev_hash != previous:
        result.add("journal", name, message("audit.previous-hash"))
    if chain_hash(key, row.prev_hash, row.content_hash) != row.chain_hash:
        result.add("journal", name, message("audit.chain-hash"))
    result.transactions += 1
    result.facts += len(lines["facts"])
    result.months += 0 if batch is None else batch.rows


def journal_ends(connection: Connection) -> dict[str, tuple[int, str]]:
    """Each region's last journal entry, (seq, chain hash), read from the journal itself —
    not from the walk, which a broken row may have stopped (rows whose region or seq the
    service never writes are left out: the walk names them)."""
    rows = connection.execute(
        text(
            "SELECT j.region, j.seq, j.chain_hash FROM journal j JOIN (SELECT region,"
            " MAX(seq) AS seq FROM journal GROUP BY region) m"
            " ON m.region = j.region AND m.seq = j.seq"
        )
    )
    return {key[0]: (key[1], r.chain_hash) for r in rows if (key := _key_of(r)) is not None}


def _verify_heads(
    connection: Connection, result: AuditResult, ends: dict[str, tuple[int, str]]
) -> None:
    """Every chain head equals its region's last entry; a head whose region has no journal
    is a deleted region."""
    heads: dict[str, tuple[Any, Any]] = {}
    for r in connection.execute(select(chain_heads)):
        key = _key_of(r)
        if key is None:
            result.add("chain_heads", r.region, message("audit.head-key-never-written"))
        else:
            heads[key[0]] = (key[1], r.chain_hash)
    for code in sorted(set(heads) | set(ends)):
        if code not in ends:
            if heads[code][0]:
                result.add(
                    "chain_heads",
                    code,
                    message("audit.head-without-journal", seq=heads[code][0]),
                )
        elif heads.get(code) != ends[code]:
            result.add(
                "chain_heads",
                code,
                message("audit.head-not-last", head=heads.get(code), last=ends[code]),
            )


def _entry_content(
    row: Any,
    lines: dict[str, list[Any]],
    batch: Batch | None,
    months_read: bool,
    name: str,
    result: AuditResult,
) -> str:
    header = header_text(
        row.tx_id,
        row.code,
        row.region,
        int(row.legal_month),
        row.worker_id,
        row.reverses,
        row.memo,
        row.recorded_at,
    )
    items, facts_of = lines["postings"], lines["facts"]
    if int(row.months) or batch is not None:
        if items or facts_of:
            result.add("journal", name, message("audit.batch-with-lines"))
        if not months_read:  # named already: the stored segment hashes alone make the content
            return batch_content_hash(
                header,
                int(row.months),
                merkle_root([bytes.fromhex(s.hash) for s in lines["segments"]]),
            )
        return _batch_content(
            row, header, batch or Batch(row.region, int(row.seq)), lines["segments"], name, result
        )
    if lines["segments"]:
        result.add("month_segments", name, message("audit.segments-without-batch"))
    if items and (len(items) < 2 or sum(int(p.amount_fen) for p in items) != 0):
        result.add("postings", name, message("audit.unbalanced"))
    if not items and not facts_of:
        result.add("journal", name, message("audit.empty-entry"))
    for p in items:
        copies = (int(p.legal_month), p.code, p.account_region)
        if copies != (int(row.legal_month), row.code, p.account.rsplit(":", 1)[-1]):
            result.add(
                "postings",
                f"{name} line {p.line}",
                message("audit.posting-copies"),
            )
    for i, group in enumerate((items, facts_of)):
        if [int(x.line) for x in group] != list(range(len(group))):
            result.add(("postings", "facts")[i], name, message("audit.lines-numbered"))
    return content_hash(
        header,
        ((p.account, int(p.amount_fen)) for p in items),
        ((f.kind, f.key, f.data) for f in facts_of),
    )


def _batch_content(
    row: Any, header: str, batch: Batch, segments: list[Any], name: str, result: AuditResult
) -> str:
    n = int(row.months)
    if batch.rows != n:
        result.add(
            "contribution_months", name, message("audit.batch-rows", rows=batch.rows, months=n)
        )
    if not batch.lines_ok:
        result.add("contribution_months", name, message("audit.batch-lines-numbered"))
    for tx_id in batch.unsplit[:10]:
        result.add("contribution_months", tx_id, message("audit.month-unsplit"))
    stored = [bytes.fromhex(s.hash) for s in segments]
    if [int(s.segment) for s in segments] != list(range(len(segments))):
        result.add("month_segments", name, message("audit.segments-numbered"))
    for s in segments:  # the hash does not cover a segment's row count: recomputed here
        held = min(SEGMENT_ROWS, batch.rows - int(s.segment) * SEGMENT_ROWS)
        if int(s.rows) != held:
            result.add(
                "month_segments",
                f"{name} segment {s.segment}",
                message("audit.segment-rows", rows=s.rows, held=held),
            )
    recomputed = batch.hashes
    for i in range(max(len(stored), len(recomputed))):
        if i >= len(stored) or i >= len(recomputed) or stored[i] != recomputed[i]:
            first, last = batch.bounds[i] if i < len(batch.bounds) else ("", "")
            result.add(
                "contribution_months",
                f"{name} segment {i}",
                message(
                    "audit.segment-differs",
                    first_row=i * SEGMENT_ROWS,
                    last_row=(i + 1) * SEGMENT_ROWS - 1,
                    first=first,
                    last=last,
                ),
            )
    return batch_content_hash(header, n, merkle_root(stored))


@dataclass
class Batch:
    """What the audit recomputed of one batch's rows (column-wise)."""

    region: str
    seq: int
    rows: int = 0
    lines_ok: bool = True
    unsplit: list[str] = field(default_factory=list)  # rows whose split does not add up
    hashes: list[bytes] = field(default_factory=list)
    bounds: list[tuple[str, str]] = field(default_factory=list)  # first and last tx id per segment


FETCH_ROWS = 200_000
# a row belongs to the batch (region, seq) it names: a row moved to another region leaves a
# row missing from its batch and shows up where no batch is
_MONTH_SELECT = (
    "SELECT seq, line, "
    + ", ".join(MONTH_COLUMNS)
    + " FROM contribution_months ORDER BY region, seq, line"
)
_MONTH_SELECT_AS_THEY_LIE = _MONTH_SELECT.replace("region, seq, line", "rowid")  # SQLite
_MONTH_TYPES = {"seq": pa.int64(), "line": pa.int64()} | {
    name: pa.string() if name in TEXT_COLUMNS else pa.int64() for name in MONTH_COLUMNS
}


def month_batches(connection: Connection) -> dict[tuple[str, int], Batch]:
    """Every batch's rows recomputed: segment hashes, line numbers, regions, splits — read in
    order as Arrow blocks (PostgreSQL: COPY … TO STDOUT, parsed by Arrow; SQLite: a cursor)
    and hashed column by column, never row by row.

    SQLite first reads the rows as they lie (rowid order: a batch's rows are inserted at once,
    in line order), which spares a sort of every row; when a batch's rows are not one run in
    line order there (a row moved, a table rebuilt), the rows are read again in order, and
    that reading is the answer. Both readings agree whenever the first is taken."""
    if not is_postgres(connection):
        blocks = _month_blocks(connection, in_order=False)
        try:
            return _batches_of(blocks, in_order=False)
        except _NotInOrder:
            pass
        finally:
            blocks.close()  # the cursor with it
    return _batches_of(_month_blocks(connection, in_order=True), in_order=True)


class _NotInOrder(Exception):
    """A batch's rows are not one run in line order as the rows lie."""


def _batches_of(blocks: Iterable[pa.Table], in_order: bool) -> dict[tuple[str, int], Batch]:
    out: dict[tuple[str, int], Batch] = {}
    carry: pa.Table | None = None
    for block in blocks:
        table = block if carry is None else pa.concat_tables([carry, block])
        seqs = table.column("seq").to_numpy()
        regions = table.column("region")
        last_region, last_seq = regions[-1].as_py(), int(seqs[-1])
        tail = np.flatnonzero(
            ~((seqs == last_seq) & pc.equal(regions, last_region).to_numpy(zero_copy_only=False))
        )
        cut = int(tail[-1]) + 1 if len(tail) else 0
        _hash_groups(table.slice(0, cut), out, in_order)
        carry = table.slice(cut)
    if carry is not None:
        _hash_groups(carry, out, in_order)
    return out


def _month_blocks(connection: Connection, in_order: bool) -> Iterator[pa.Table]:
    names = list(_MONTH_TYPES)
    if is_postgres(connection):
        raw = connection.connection.driver_connection
        assert raw is not None
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY ({_MONTH_SELECT}) TO STDOUT (FORMAT csv)") as copy,
        ):
            source = _CopyReader(copy)
            if source.empty():
                return
            reader = pacsv.open_csv(
                pa.PythonFile(source, mode="r"),
                read_options=pacsv.ReadOptions(column_names=names, block_size=16 << 20),
                convert_options=pacsv.ConvertOptions(column_types=_MONTH_TYPES),
            )
            for batch in reader:
                yield pa.Table.from_batches([batch])
        return
    # the driver's own cursor: the rows' values straight into Arrow, no result rows between
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(_MONTH_SELECT if in_order else _MONTH_SELECT_AS_THEY_LIE)
        while block := cursor.fetchmany(FETCH_ROWS):
            columns = list(zip(*block, strict=True))
            yield pa.table(
                {n: pa.array(c, type=_MONTH_TYPES[n]) for n, c in zip(names, columns, strict=True)}
            )
    finally:
        cursor.close()


class _CopyReader(io.RawIOBase):
    """A readable file over a COPY … TO STDOUT stream (for Arrow's CSV reader)."""

    def __init__(self, copy: Any) -> None:
        self._chunks = iter(copy)
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def empty(self) -> bool:
        """Whether the stream has no data at all (Arrow refuses to open an empty CSV)."""
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return True
            self._buffer = bytes(chunk)
        return False

    def readinto(self, target: Any) -> int:
        """Fill ``target`` as far as the stream goes: a short read would make Arrow cut a
        block (and a record batch) at every COPY message, one row each."""
        view = memoryview(target).cast("B")
        filled = 0
        while filled < len(view):
            if not self._buffer:
                chunk = next(self._chunks, None)
                if chunk is None:
                    break
                self._buffer = bytes(chunk)
            n = min(len(view) - filled, len(self._buffer))
            view[filled : filled + n] = self._buffer[:n]
            self._buffer = self._buffer[n:]
            filled += n
        return filled


def _hash_groups(table: pa.Table, out: dict[tuple[str, int], Batch], in_order: bool) -> None:
    n = table.num_rows
    if not n:
        return
    seqs = table.column("seq").to_numpy()
    regions = table.column("region").combine_chunks()
    same_region = pc.equal(regions.slice(1), regions.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    change = np.flatnonzero(~same_region | (seqs[1:] != seqs[:-1])) + 1
    starts = np.concatenate(([0], change)).astype(np.int64)
    ends = np.concatenate((change, [n])).astype(np.int64)
    lines = table.column("line").to_numpy()
    texts = [table.column(c).combine_chunks() for c in TEXT_COLUMNS]
    ints = [table.column(c).to_numpy() for c in INT_COLUMNS]
    due, account, pooled, held = (
        ints[INT_COLUMNS.index(c)] for c in ("due_fen", "account_fen", "pooled_fen", "held_fen")
    )
    unsplit = (due != account + pooled) | (held < 0) | (held > pooled)
    tx = texts[TEXT_COLUMNS.index("tx_id")]
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        size = end - start
        batch = Batch(regions[start].as_py(), int(seqs[start]), rows=size)
        batch.lines_ok = bool(np.array_equal(lines[start:end], np.arange(size)))
        if not in_order and (not batch.lines_ok or (batch.region, batch.seq) in out):
            raise _NotInOrder  # read again in order: that reading names what is wrong
        if unsplit[start:end].any():
            batch.unsplit = (
                tx.slice(start, size).filter(pa.array(unsplit[start:end])).to_pylist()[:10]
            )
        batch.hashes = column_segment_hashes(
            [t.slice(start, size) for t in texts], [c[start:end] for c in ints]
        )
        batch.bounds = [
            (tx[start + i].as_py(), tx[start + min(i + SEGMENT_ROWS, size) - 1].as_py())
            for i in range(0, size, SEGMENT_ROWS)
        ]
        out[(batch.region, batch.seq)] = batch


# 2. projections ----------------------------------------------------------------------------


def _verify_projections(connection: Connection, result: AuditResult) -> None:
    for kind, projection in RECORDED.items():
        if agrees_in_sql(connection, projection):  # PostgreSQL, the common case: all agree
            continue

        def compare(kind: str = kind, projection: Projection = projection) -> list[Difference]:
            rows = connection.execute(  # in any order: versions, not positions, order the facts
                select(facts.c.region, facts.c.seq, facts.c.key, facts.c.data).where(
                    facts.c.kind == kind
                )
            )
            return rebuild(connection, projection, rows)

        for difference in guarded(connection, result, kind, compare) or ():
            _add(result, difference)
    guarded(connection, result, "facts", lambda: _verify_kinds(connection, result))


def _verify_kinds(connection: Connection, result: AuditResult) -> None:
    """A fact of a kind no projection or grant has (its rows could be nowhere)."""
    unknown = connection.execute(
        select(facts.c.region, facts.c.seq, facts.c.kind).where(facts.c.kind.not_in(list(RECORDED)))
    ).first()
    if unknown is not None:
        result.add(
            "facts",
            f"{unknown.region}/{unknown.seq}",
            message("audit.unknown-kind", kind=repr(unknown.kind)),
        )


# A worker's portal login is found by the blind index of the resident id typed and opens the
# worker it names (services/logins.py): a login naming another worker than the one its index
# registered, or a mobile number bound to no worker, would let one person into another's
# records. Passwords and lock-outs change by design and are not compared.
_LOGINS_SQL = """
    SELECT 'logins' AS tbl, l.worker_id AS worker, w.worker_id AS registered FROM logins l
      LEFT JOIN workers w ON w.blind_index = l.blind_index
      WHERE w.worker_id IS NULL OR w.worker_id <> l.worker_id
    UNION ALL SELECT 'login_phones', p.worker_id, w.worker_id FROM login_phones p
      LEFT JOIN workers w ON w.worker_id = p.worker_id
      WHERE p.worker_id IS NOT NULL AND w.worker_id IS NULL
"""


# A worker's sessions ended by a login that found their row not as the national journal
# recorded it (services/logins.py ``BY_LOGIN``): the login repaired the row, so the row no
# longer differs from its fact, but the fact keeps the repair — the audit lists every one.
_REPAIRS_SQL = f"""
    SELECT f.key, f.data, j.recorded_at, j.memo FROM facts f
      JOIN journal j ON j.region = f.region AND j.seq = f.seq
     WHERE f.region = '{NATIONAL}' AND f.kind = 'worker_sessions'
       AND f.data LIKE '%"ended_by":"login"%'
     ORDER BY f.seq
"""


def _note_repairs(connection: Connection, result: AuditResult) -> None:
    for row in connection.execute(text(_REPAIRS_SQL)):
        try:
            data = json.loads(row.data)
        except (TypeError, ValueError, RecursionError):
            continue  # not the service's: the projections' step names it
        if not isinstance(data, dict) or data.get("ended_by") != "login":
            continue
        if len(result.repaired) == PROBLEMS_MAX:
            break
        said = message("audit.repaired-session", recorded_at=row.recorded_at, memo=row.memo)
        result.repaired.append(Problem.of("worker_sessions", row.key, said))


def _verify_logins(connection: Connection, result: AuditResult) -> None:
    _verify_seals(connection, result)
    guarded(connection, result, "logins", lambda: _verify_login_workers(connection, result))
    guarded(connection, result, "login_codes", lambda: _verify_codes_unused(connection, result))


# A pending one-time code whose use the national journal records (services/logins.py): its
# row was deleted when it was used, so this one was put back (a copy taken before).
_USED_CODES_SQL = f"""
    SELECT c.blind_index FROM login_codes c WHERE EXISTS (
      SELECT 1 FROM facts f WHERE f.region = '{NATIONAL}' AND f.kind = 'login_code_uses'
        AND f.key = c.code_sha256)
"""


def _verify_codes_unused(connection: Connection, result: AuditResult) -> None:
    for row in connection.execute(text(f"{_USED_CODES_SQL} LIMIT {PROBLEMS_MAX}")):
        result.add(
            "login_codes",
            row.blind_index,
            message("audit.used-code-back"),
        )


def _verify_login_workers(connection: Connection, result: AuditResult) -> None:
    for row in connection.execute(text(f"{_LOGINS_SQL} LIMIT {PROBLEMS_MAX}")):
        said = (
            message("audit.login-no-worker")
            if row.registered is None
            else message("audit.login-other-worker", registered=row.registered)
        )
        if row.tbl == "login_phones":
            said = message("audit.phone-no-worker")
        result.add(row.tbl, row.worker, said)


# Each login, one-time code, bound number and kept answer carries the seal the service
# computed when it wrote the row (store/seals.py): a password hash, a code, a worker or an
# answer put there by anyone else does not match it, nor does a value of a type the service
# never writes there. The rows are streamed (``STREAM_ROWS`` at a time, a server-side cursor
# on PostgreSQL): a table of millions of kept answers is never held whole.
def _verify_seals(connection: Connection, result: AuditResult) -> None:
    keys = ledger_keys(connection)
    for name, named_by in NAMED_BY.items():
        table = api_metadata.tables[name]

        def check(table: Table = table, named_by: tuple[str, ...] = named_by) -> None:
            rows = connection.execute(
                select(table),
                execution_options={"stream_results": True, "yield_per": STREAM_ROWS},
            ).mappings()
            for row in rows:
                if is_genuine(keys, table, row):
                    continue
                columns = ", ".join(SEALED[table.name])
                if row["seal"] is None:
                    said = message("audit.seal-missing", columns=columns)
                elif not well_typed(table, row):
                    said = message("audit.sealed-wrong-type")
                else:
                    said = message("audit.seal-differs", columns=columns)
                result.add(table.name, "/".join(str(row[c]) for c in named_by), said)

        guarded(connection, result, name, check)


_T = TypeVar("_T")
# what a value the service never writes may make a step raise, in the driver (a DataError, a
# date out of range, SQLite's text that is not UTF-8 or an integer overflow: a DBAPIError) or
# in Python (an int() of text, a hash over bytes, a fact's JSON nested too deep, Arrow's
# conversion of a column); none of them is taken for a failure of the audit itself
STEP_ERRORS = (
    DBAPIError,
    ValueError,
    TypeError,
    AttributeError,
    AssertionError,
    ArithmeticError,
    LookupError,
    RecursionError,
    pa.ArrowException,
    sqlite3.Error,  # the driver's own cursor (the months on SQLite)
)


def _unreadable_what(error: BaseException) -> Text:
    """Why a value could not be read, in each language, with the reason as its reader gave
    it (the driver's or Python's, in English: no catalogue has it), quoted."""
    driver = isinstance(error, DBAPIError)
    cause = error.orig if driver else error  # not the statement
    reason = " ".join(str(cause).split())[:160]
    reporter = message("audit.reported-by-driver" if driver else "audit.reported-by-reader")
    said = quoted(f"{type(cause).__name__}: {reason}")
    return message("audit.unreadable", reporter=reporter, said=said)


def guarded(
    connection: Connection,
    result: AuditResult,
    table: str,
    step: Callable[[], _T],
    row: str = "*",
) -> _T | None:
    """``step``, in a savepoint: a value the database holds but the step cannot read or use
    (``STEP_ERRORS``) — which the service never writes — names ``table`` (and ``row``)
    instead of failing the whole audit, and the audit goes on with its other steps."""
    savepoint = connection.begin_nested()
    try:
        value = step()
    except STEP_ERRORS as error:
        savepoint.rollback()
        result.add(table, row, _unreadable_what(error))
        return None
    savepoint.commit()
    return value


def _add(result: AuditResult, difference: Difference) -> None:
    result.add(difference.table, difference.key, difference.said)


# SQLite keeps any value in any column. A value of another type than its column's — a
# fraction where a whole number belongs (int() and Arrow would quietly truncate 0.5 to 0),
# text in a number's column, bytes in a text's — is named with its row, whatever the other
# steps made of it. (PostgreSQL keeps only its column's type.)
_SQLITE_TYPES = ((Boolean, "integer"), (Integer, "integer"), (LargeBinary, "blob"))
TYPED_TABLES = tuple(
    table
    for table in (*metadata.sorted_tables, *api_metadata.sorted_tables)
    if table.name
    not in ("ledger_meta", *APPEND_ONLY_API)  # checked per unit of work; grants nothing
)


def _verify_types(connection: Connection, result: AuditResult) -> None:
    """One statement over every table; if it cannot be read (a row's key that is not
    UTF-8), table by table, so that each names itself."""
    if is_postgres(connection):
        return
    every = " UNION ALL ".join(f"SELECT * FROM ({_wrong_types_sql(t)})" for t in TYPED_TABLES)
    rows = guarded(connection, AuditResult(), "*", lambda: connection.execute(text(every)).all())
    if rows is None:
        for table in TYPED_TABLES:
            sql = _wrong_types_sql(table)
            rows_of = guarded(
                connection, result, table.name, lambda sql=sql: connection.execute(text(sql)).all()
            )
            for row in rows_of or ():
                result.add(row.tbl, row.name, message("audit.wrong-type"))
        return
    for row in rows:
        result.add(row.tbl, row.name, message("audit.wrong-type"))


def _wrong_types_sql(table: Table) -> str:
    """The rows of ``table`` (its name, and each row's key) holding a value of a type
    other than its column's."""
    wrong = []
    for column in table.columns:
        stored = next((t for sql, t in _SQLITE_TYPES if isinstance(column.type, sql)), "text")
        allowed = f"'{stored}', 'null'" if column.nullable else f"'{stored}'"
        wrong.append(f'typeof("{column.name}") NOT IN ({allowed})')
    names = " || '/' || ".join(f'quote("{c.name}")' for c in table.primary_key.columns) or "rowid"
    return (
        f"SELECT '{table.name}' AS tbl, {names} AS name FROM {table.name}"
        f" WHERE {' OR '.join(wrong)} LIMIT {PROBLEMS_MAX}"
    )


# 3. balances -------------------------------------------------------------------------------

# Every account's sum: its postings, and what the contribution months derive (summed per
# worker, scheme and region first, so that an account key is written once per group, not
# once per month), computed once and compared both ways with the stored balances.
_SUMS_SQL = """
    WITH derived AS (
      SELECT worker_id, scheme, region, SUM(due_fen) AS due, SUM(account_fen) AS account,
             SUM(pooled_fen - held_fen) AS entitled, SUM(held_fen) AS held
      FROM contribution_months GROUP BY worker_id, scheme, region
    ), lines AS (
      SELECT account, amount_fen AS amount FROM postings
      UNION ALL SELECT 'system:collection:' || scheme || ':collection:' || region, -SUM(due)
        FROM derived GROUP BY scheme, region
      UNION ALL SELECT 'worker:' || worker_id || ':' || scheme || ':individual_account:' || region,
        account FROM derived WHERE account <> 0
      UNION ALL SELECT 'worker:' || worker_id || ':' || scheme || ':pooled_entitlement:' || region,
        entitled FROM derived WHERE entitled <> 0
      UNION ALL SELECT 'system:clearing:' || scheme || ':clearing:' || region, SUM(held)
        FROM derived GROUP BY scheme, region
    ), sums AS (
      SELECT account, SUM(amount) AS total FROM lines GROUP BY account
    )
"""


def _verify_balances(connection: Connection, result: AuditResult) -> None:
    """Each check of the accounts in a savepoint of its own: a sum that overflows (SQLite), a
    balance or key the service never writes, names ``accounts`` and the others still run."""
    for step in (_verify_sums, _verify_account_keys, _verify_total, _verify_not_negative):
        guarded(connection, result, "accounts", lambda step=step: step(connection, result))


def _verify_sums(connection: Connection, result: AuditResult) -> None:
    mismatches = connection.execute(
        text(
            f"{_SUMS_SQL} SELECT a.account AS account, a.balance_fen AS stored,"
            " COALESCE(s.total, 0) AS computed"
            " FROM accounts a LEFT JOIN sums s ON s.account = a.account"
            " WHERE a.balance_fen <> COALESCE(s.total, 0)"
            " UNION ALL SELECT s.account, NULL, s.total FROM sums s"
            " LEFT JOIN accounts a ON a.account = s.account WHERE a.account IS NULL AND s.total <> 0"
            f" ORDER BY 1 LIMIT {PROBLEMS_MAX}"
        )
    ).all()
    for m in mismatches:
        stored = message("audit.balance-absent") if m.stored is None else m.stored
        said = message("audit.balance-not-sum", stored=stored, computed=m.computed)
        result.add("accounts", m.account, said)


def _verify_account_keys(connection: Connection, result: AuditResult) -> None:
    # the columns beside the key are what reads select by (interest by kind and region, a
    # statement by owner): each must be the key's own part, or a read finds another account
    disagreeing = connection.execute(
        text(
            "SELECT account, owner_type || ':' || owner_id || ':' || scheme || ':' || kind || ':'"
            " || region AS parts FROM accounts WHERE account <> owner_type || ':' || owner_id"
            " || ':' || scheme || ':' || kind || ':' || region"
            f" ORDER BY account LIMIT {PROBLEMS_MAX}"
        )
    ).all()
    for d in disagreeing:
        result.add(
            "accounts",
            d.account or repr(d.account),
            message("audit.account-key", parts=d.parts),
        )


def _verify_total(connection: Connection, result: AuditResult) -> None:
    result.accounts = int(connection.execute(text("SELECT COUNT(*) FROM accounts")).scalar_one())
    total = int(
        connection.execute(text("SELECT COALESCE(SUM(balance_fen), 0) FROM accounts")).scalar_one()
    )
    if total != 0:
        result.add("accounts", "*", message("audit.accounts-sum", total=total))


def _verify_not_negative(connection: Connection, result: AuditResult) -> None:
    negative = connection.execute(
        text(
            "SELECT account, balance_fen FROM accounts WHERE owner_type = 'worker'"
            f" AND balance_fen < 0 ORDER BY account LIMIT {PROBLEMS_MAX}"
        )
    ).all()
    for n in negative:
        result.add("accounts", n.account, message("audit.negative", balance=n.balance_fen))
