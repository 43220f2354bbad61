"""Intake from files (文件批量缴费与参保): a bank's, a tax bureau's or a platform's daily file.

A payments file (``suiren contribute --file``) has one row per contribution month:
``payment_id``, ``month`` (YYYY-MM), ``base_yuan`` (decimal text or an exact number) and
``worker_id`` or ``resident_id`` (a row that gives both names one worker by both);
optionally ``scheme`` (default employee_pension). The month's id is ``{payment_id}/{month}``,
as for one payment. A workers file (``suiren worker enrol --file``) has ``resident_id`` and
``work_region``, optionally ``hukou_region`` and ``scheme``.

Files are CSV (UTF-8, a header row) or Parquet, read in chunks of ``CHUNK_ROWS`` (a file of
ten million rows is streamed in bounded memory) and checked column by column: a row whose
field is malformed is reported — row, field, reason — and the others go on to the one
contribution path (services/contributions.py ``post_batch``), which reports its own refusals
the same way. Each chunk is one database transaction that the edge commits: killing the
process at any moment loses and duplicates nothing, and running the file again replays what
was posted and posts the rest. A malformed file (missing or unknown columns, a float where
an exact amount belongs, text that is not UTF-8, a line longer than ``LINE_BYTES_MAX``, a
Parquet page that cannot be decoded or fails its checksum) is refused before anything is
written: the whole file is read once, streamed, before its first row is posted.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from sqlalchemy import Connection

from suiren.domain.errors import SuirenError
from suiren.domain.messages import Text, quoted
from suiren.domain.messages import text as message
from suiren.domain.month import Month
from suiren.domain.resident_id import ResidentId
from suiren.ledger.accounts import Scheme
from suiren.policy import Policy
from suiren.services.contributions import (
    REFUSED,
    REPLAYED,
    REQUEST_ID_CHARS_MAX,
    RESERVED_PREFIXES,
    SCHEMES,
    BatchOutcome,
    ContributionRows,
    post_batch,
)
from suiren.services.identity import IdentityVault
from suiren.services.provisional import BOUNDS_THEN, provisional_warning
from suiren.services.workers import find_workers

CHUNK_ROWS = 100_000
LINE_BYTES_MAX = 1 << 20  # a longer CSV line is not a payment (and is refused with the file)
FILE_ROWS_MAX = 100_000_000
ERRORS_KEPT = 1_000  # a summary keeps the first refused rows; the CLI streams all to --errors
WARNINGS_KEPT = 1_000  # and the first (scheme, region, month)s posted on provisional bounds
BASE_YUAN_MAX_DIGITS = 10  # before the decimal point: 9,999,999,999 yuan
PAYMENT_COLUMNS = ("payment_id", "month", "base_yuan", "worker_id", "resident_id", "scheme")
PAYMENT_REQUIRED = ("payment_id", "month", "base_yuan")
WORKER_COLUMNS = ("resident_id", "work_region", "hukou_region", "scheme")
_ID_RE = f"^[A-Za-z0-9_.:/-]{{1,{REQUEST_ID_CHARS_MAX}}}$"
_WORKER_RE = "^[A-Za-z0-9_.-]{1,32}$"
_MONTH_RE = "^[0-9]{4}-(0[1-9]|1[0-2])$"
_YUAN_RE = f"^[0-9]{{1,{BASE_YUAN_MAX_DIGITS}}}(\\.[0-9]{{1,2}})?$"


class FileRefused(SuirenError):
    """The file as a whole cannot be read as what it claims to be; nothing was written."""

    code = "file-refused"


@dataclass(frozen=True)
class RowError:
    """A refused row: its number, the field at fault, a stable code and why, in both
    languages (``domain.messages``). A report carries ``reason`` (English) and ``reason_zh``
    (Chinese) as an error carries ``message`` and ``message_zh``; a terminal a line each."""

    row: int  # 1-based data row of the file (the header is not a row)
    field: str
    code: str
    said: Text

    @classmethod
    def of(cls, row: int, field_: str, error: SuirenError) -> RowError:
        """The row refused by ``error`` (its code and message)."""
        return cls(row, field_, error.code, error.said)

    @property
    def reason(self) -> str:
        return self.said.en

    @property
    def reason_zh(self) -> str | None:
        return self.said.zh or None

    def line(self) -> str:
        """``中文 / English`` in one line, for a one-line message (a terminal shows each half
        on a line of its own: ``cli.intake``)."""
        return self.said.joined() if self.said.zh else self.said.en

    def to_json(self) -> dict[str, object]:
        return {
            "row": self.row,
            "field": self.field,
            "code": self.code,
            "reason": self.reason,
            "reason_zh": self.reason_zh,
        }

    def as_csv(self) -> list[object]:
        """The row of an ``--errors`` CSV file (``REPORT_COLUMNS``)."""
        return [self.row, self.field, self.code, self.reason, self.reason_zh or ""]


# the columns of a CSV report of refused rows (``--errors FILE.csv``): reason_zh last, so that
# a reader of the four columns it had before reads them as it did
REPORT_COLUMNS = ("row", "field", "code", "reason", "reason_zh")


def refused_row(error: RowError) -> Text:
    """A file refused at its first refused row (``--all-or-nothing``): row, field, reason."""
    return message("file.row-refused", row=error.row, field=error.field, reason=error.said)


def scheme_refused(schemes: tuple[Scheme, ...] = SCHEMES) -> Text:
    """A row's scheme that is none of ``schemes``."""
    return message(
        "row.scheme",
        choices=Text(" 或 ".join(s.value for s in schemes), " or ".join(s.value for s in schemes)),
    )


@dataclass
class IntakeSummary:
    rows: int = 0
    posted: int = 0
    replayed: int = 0
    refused: int = 0
    due_fen_by_region: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    # (scheme, region, month) posted or replayed on provisional bounds -> the warning, as the
    # first posting recorded it (``BatchOutcome.provisional``)
    provisional: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)

    def add(self, other: IntakeSummary) -> None:
        """Add a later chunk's counts; of its refused rows, only as many as keep the summary's
        list at ``ERRORS_KEPT`` (a file of ten million bad rows is not held in memory)."""
        self.rows += other.rows
        self.posted += other.posted
        self.replayed += other.replayed
        self.refused += other.refused
        for region, fen in other.due_fen_by_region.items():
            self.due_fen_by_region[region] = self.due_fen_by_region.get(region, 0) + fen
        self.errors += other.errors[: max(ERRORS_KEPT - len(self.errors), 0)]
        for key, warning in other.provisional.items():
            self.provisional.setdefault(key, warning)

    def replay_said(self) -> Text | None:
        """What a file sent again did, said plainly: its rows already posted were replayed,
        not written again; None where no row was a replay."""
        if not self.replayed:
            return None
        if self.posted:
            return Text(
                f"{self.replayed} 行此前已入账（重放），未重复写入；新入账 {self.posted} 行",
                f"{self.replayed} rows were already posted (replayed) and were not written"
                f" again; {self.posted} new rows were posted",
            )
        return Text(
            f"{self.replayed} 行此前均已入账（重放），本次未写入任何新记录",
            f"{self.replayed} rows were already posted (replayed): nothing new was written",
        )

    def replay_note(self) -> str | None:
        """``replay_said`` in one line, zh-CN then English (the JSON's ``replay_note``)."""
        said = self.replay_said()
        return None if said is None else f"{said.zh} — {said.en}"

    def to_json(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "posted": self.posted,
            "replayed": self.replayed,
            "refused": self.refused,
            # a replayed row's provisional warnings are those its first posting recorded
            "replay_note": self.replay_note(),
            "due_fen_by_region": dict(sorted(self.due_fen_by_region.items())),
            "errors": [e.to_json() for e in self.errors],
            "errors_truncated": len(self.errors) < self.refused,  # the first ERRORS_KEPT
            # one per scheme, region and month posted (or replayed: as first posted) on
            # provisional bounds (the first WARNINGS_KEPT in that order)
            "warnings": [self.provisional[k] for k in sorted(self.provisional)[:WARNINGS_KEPT]],
            "warnings_truncated": len(self.provisional) > WARNINGS_KEPT,
        }


@dataclass(frozen=True)
class Chunk:
    first_row: int  # 1-based number of its first data row
    table: pa.Table


def read_chunks(
    path: Path, columns: tuple[str, ...], required: tuple[str, ...], chunk_rows: int = CHUNK_ROWS
) -> Iterator[Chunk]:
    """The file's rows in chunks, every column as read (CSV: text), the header checked.

    The whole file is read once before the first chunk (``_csv_chunks``' parse,
    ``_decode_every_row_group``), so that a damaged file is refused with nothing written. A
    file that changes on disk meanwhile — a bank's transfer still writing it, a copy over
    it — is refused as soon as the change is seen, at the first chunk (nothing written) or
    at a later one (the chunks before it may have been posted: a run on the complete file
    replays them and posts the rest)."""
    kind = _file_kind(path)  # a path that is no file is refused as such
    before = _identity(path)
    read = 0
    if kind == ".parquet":
        chunks = _parquet_chunks(path, columns, required, chunk_rows)
    else:
        chunks = _csv_chunks(path, columns, required, chunk_rows)
    while True:
        try:
            chunk = next(chunks, None)
        except FileRefused:
            _unchanged(path, before, read)  # a file that changed says so, not "cannot be read"
            raise
        _unchanged(path, before, read)
        if chunk is None:
            return
        yield chunk
        read += chunk.table.num_rows


def _identity(path: Path) -> tuple[int, int, int, int]:
    info = path.stat()
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


def _unchanged(path: Path, before: tuple[int, int, int, int], read: int) -> None:
    try:
        now = _identity(path)
    except OSError:
        now = (-1, -1, -1, -1)  # removed or renamed meanwhile
    if now == before:
        return
    done = message("file.nothing-written") if not read else message("file.rows-handed", rows=read)
    raise FileRefused(message("file.changed", name=path.name, done=done))


def file_columns(path: Path, columns: tuple[str, ...], required: tuple[str, ...]) -> list[str]:
    """The file's column names, checked as ``read_chunks`` checks them, without its rows."""
    if _file_kind(path) == ".parquet":
        names = list(_parquet_file(path).schema_arrow.names)
    else:
        names = csv_header(path)
    _check_header(names, columns, required)
    return names


def _file_kind(path: Path) -> str:
    if not path.is_file():
        raise FileRefused(message("file.not-a-file", path=path))
    if path.stat().st_size == 0:
        raise FileRefused(message("file.empty", name=path.name))
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise FileRefused(message("file.kind", name=path.name))
    return suffix


def _check_header(names: list[str], columns: tuple[str, ...], required: tuple[str, ...]) -> None:
    unknown = [n for n in names if n not in columns]
    if unknown:
        shown = ", ".join(repr(n[:40]) for n in unknown[:5])
        raise FileRefused(message("file.unknown-columns", shown=shown, columns=", ".join(columns)))
    missing = [n for n in required if n not in names]
    if missing:
        raise FileRefused(message("file.missing-columns", missing=", ".join(missing)))
    if len(set(names)) != len(names):
        raise FileRefused(message("file.column-twice"))


SCAN_BYTES = 8 << 20


def scan_csv(path: Path) -> tuple[int, int]:
    """(data rows, longest line in bytes) of a CSV file, read in blocks without parsing."""
    lines = longest = run = 0
    with path.open("rb") as handle:
        while block := handle.read(SCAN_BYTES):
            ends = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10)
            if not len(ends):
                run += len(block)
                longest = max(longest, run)
                continue
            longest = max(longest, run + int(ends[0]) + 1)
            if len(ends) > 1:
                longest = max(longest, int(np.diff(ends).max()))
            run = len(block) - int(ends[-1]) - 1
            lines += len(ends)
    longest = max(longest, run)
    return max(0, lines - 1 + (run > 0)), longest


def csv_header(path: Path) -> list[str]:
    """The column names of a CSV file's header row, read as CSV (a name may be quoted), each
    without the whitespace around it: the names the file's columns are read under."""
    with path.open("rb") as handle:
        header = handle.readline(LINE_BYTES_MAX + 1)
    if len(header) > LINE_BYTES_MAX:
        raise FileRefused(message("file.header-too-long", bytes_max=LINE_BYTES_MAX))
    try:
        line = header.decode("utf-8-sig").rstrip("\r\n")
        rows = list(csv.reader([line]))
    except UnicodeDecodeError:
        raise FileRefused(message("file.not-utf8")) from None
    except csv.Error as error:
        raise FileRefused(message("file.header-not-csv", error=quoted(error))) from None
    return [name.strip() for name in (rows[0] if rows else [])]


def _csv_chunks(
    path: Path, columns: tuple[str, ...], required: tuple[str, ...], chunk_rows: int
) -> Iterator[Chunk]:
    if scan_csv(path)[1] > LINE_BYTES_MAX + 2:
        raise FileRefused(message("file.line-too-long", bytes_max=LINE_BYTES_MAX))
    names = csv_header(path)
    _check_header(names, columns, required)
    with path.open("rb") as handle:
        handle.readline(LINE_BYTES_MAX + 1)
        if not handle.read(1):  # a header and no rows (its line ended or not): nothing to read
            return

    def batches() -> Any:
        return pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(
                block_size=LINE_BYTES_MAX, column_names=names, skip_rows=1
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
            parse_options=pacsv.ParseOptions(newlines_in_values=False),
        )

    try:
        # The whole file is parsed once before its first row is posted: text that is not
        # UTF-8 or a row of the wrong width deep in a large file refuses the file while
        # nothing of it is written, as the first block's would.
        rows = sum(batch.num_rows for batch in batches())
        if rows > FILE_ROWS_MAX:
            raise FileRefused(message("file.rows-max", rows_max=FILE_ROWS_MAX))
        yield from _rechunk(batches(), chunk_rows)
    except pa.ArrowInvalid as error:
        raise FileRefused(_arrow_message(error)) from None


def _arrow_message(error: Exception) -> Text:
    text = str(error)
    if "UTF8" in text or "utf8" in text.lower():
        return message("file.not-utf8")
    if "straddling" in text or "block" in text:
        return message("file.long-line-or-not-csv", bytes_max=LINE_BYTES_MAX)
    columns = re.search(r"Expected (\d+) columns, got (\d+)", text)
    if columns:
        return message("file.row-width", fields=columns.group(2), columns=columns.group(1))
    return message("file.not-csv", error=quoted(text[:120]))


def _rechunk(batches: Any, chunk_rows: int) -> Iterator[Chunk]:
    """Arrow record batches regrouped into chunks of ``chunk_rows`` rows."""
    pending: list[pa.RecordBatch] = []
    size = 0
    first = 1
    for batch in batches:
        pending.append(batch)
        size += batch.num_rows
        if first + size - 1 > FILE_ROWS_MAX:
            raise FileRefused(message("file.rows-max", rows_max=FILE_ROWS_MAX))
        while size >= chunk_rows:
            table = pa.Table.from_batches(pending)
            yield Chunk(first, table.slice(0, chunk_rows))
            rest = table.slice(chunk_rows)
            first += chunk_rows
            pending, size = rest.to_batches(), rest.num_rows
    if size:
        yield Chunk(first, pa.Table.from_batches(pending))


def _parquet_file(path: Path) -> pq.ParquetFile:
    try:
        # A page's checksum (CRC-32), where its writer stored one, is checked as the page is
        # read: bytes changed on a disk or on the way may still decode, to other values.
        return pq.ParquetFile(path, page_checksum_verification=True)
    except (pa.ArrowException, OSError) as error:
        raise FileRefused(
            message("file.not-parquet", name=path.name, error=_reason(error))
        ) from None


def _parquet_chunks(
    path: Path, columns: tuple[str, ...], required: tuple[str, ...], chunk_rows: int
) -> Iterator[Chunk]:
    source = _parquet_file(path)
    _check_header(list(source.schema_arrow.names), columns, required)
    if source.metadata.num_rows > FILE_ROWS_MAX:  # from the footer: refused before a row is read
        raise FileRefused(message("file.rows-max", rows_max=FILE_ROWS_MAX))
    _decode_every_row_group(path, source, chunk_rows)
    try:
        yield from _rechunk(source.iter_batches(batch_size=chunk_rows), chunk_rows)
    except (pa.ArrowException, OSError) as error:
        raise FileRefused(
            message("file.cannot-read", name=path.name, error=_reason(error))
        ) from None


def _decode_every_row_group(path: Path, source: pq.ParquetFile, batch_rows: int) -> None:
    """Every page of the file decoded once (its checksum checked) before the first row is
    posted, a row group and ``batch_rows`` rows at a time, each batch thrown away: a page of
    a later row group that cannot be read — damaged, cut, changed — refuses the file while
    nothing of it is written, as a CSV file's every block is parsed first."""
    metadata = source.metadata
    groups = metadata.num_row_groups
    first = 1  # the group's first data row
    for group in range(groups):
        rows = metadata.row_group(group).num_rows
        decoded = 0
        try:
            for batch in source.iter_batches(batch_size=batch_rows, row_groups=[group]):
                decoded += batch.num_rows
        except (pa.ArrowException, OSError) as error:
            raise FileRefused(
                message(
                    "file.parquet-damaged",
                    name=path.name,
                    group=group + 1,
                    groups=groups,
                    first=first,
                    last=first + rows - 1,
                    at=first + decoded,
                    error=_reason(error),
                )
            ) from None
        first += rows


def _reason(error: Exception) -> Text:
    """A reader's error as one short printable line (Parquet's may hold control bytes),
    quoted as it said it."""
    text = " ".join("".join(c if c.isprintable() else " " for c in str(error)).split())
    return quoted(text[:120])


# payments --------------------------------------------------------------------------------


@dataclass
class _Parsed:
    """A chunk's rows that are well formed, as the contribution path takes them."""

    rows: np.ndarray  # their positions in the chunk
    payment_id: pa.Array
    month: np.ndarray
    base_fen: np.ndarray
    worker_id: pa.Array
    scheme: list[str]
    errors: list[RowError]


def _text(table: pa.Table, name: str) -> pa.Array | None:
    """A column as the text a CSV file would hold: Parquet strings (dictionary-encoded or not)
    and integers as their decimal text, a null as empty, the whitespace around each removed;
    any other type is refused."""
    if name not in table.column_names:
        return None
    column = table.column(name).combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    kind = column.type
    if not (
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_integer(kind)
    ):
        raise FileRefused(message("file.column-not-text", name=name, kind=kind))
    return pc.utf8_trim_whitespace(column.cast(pa.string()).fill_null(""))


def _bad(
    errors: list[RowError],
    ok: np.ndarray,
    mask: np.ndarray,
    first_row: int,
    field_: str,
    code: str,
    reason: Text,
) -> None:
    for i in np.flatnonzero(mask & ok).tolist():
        errors.append(RowError(first_row + i, field_, code, reason))
    ok &= ~mask


def _matches(column: pa.Array, pattern: str) -> np.ndarray:
    return pc.fill_null(pc.match_substring_regex(column, pattern), False).to_numpy(
        zero_copy_only=False
    )


def decimal_text(column: pa.Array) -> pa.Array:
    """An exact decimal column (Parquet's DECIMAL) as its decimal text, without the zeros its
    scale adds beyond the fen: a database's decimal(18,4) writes 6000.5 as "6000.5000", read
    as "6000.50" (and 6000 as "6000"); a value with a digit beyond the fen keeps it, and is
    refused as the text would be. Every reader of an amount takes a decimal column so."""
    text = pc.replace_substring_regex(column.cast(pa.string()), r"^([0-9]+\.[0-9]{2})0+$", r"\1")
    return pc.replace_substring_regex(text, r"^([0-9]+)\.0+$", r"\1")


def _base_fen(
    table: pa.Table, ok: np.ndarray, errors: list[RowError], first_row: int
) -> np.ndarray:
    """base_yuan as exact fen: decimal text (at most 2 places), an integer, or a decimal. An
    integer is read as its decimal text, by the same rule (the limit of digits keeps the fen
    within int64, where a product in int64 would wrap around)."""
    column = table.column("base_yuan").combine_chunks()
    n = len(column)
    if pa.types.is_floating(column.type):
        raise FileRefused(message("file.column-floats", name="base_yuan"))
    exact = pa.types.is_decimal(column.type)  # read as its decimal text
    text = decimal_text(column) if exact else _text(table, "base_yuan")
    assert text is not None
    good = _matches(text, _YUAN_RE)
    _bad(
        errors,
        ok,
        ~good,
        first_row,
        "base_yuan",
        "invalid-amount",
        message("row.base-form", digits_max=BASE_YUAN_MAX_DIGITS),
    )
    fen = np.zeros(n, dtype=np.int64)
    keep = good & ok
    if bool(np.any(keep)):
        # each matches _YUAN_RE: ASCII digits, then a point and one or two digits or not; its
        # digits without the point, times 10 for each of the two places not written
        valid = pc.filter(text, pa.array(keep))
        point = pc.find_substring(valid, ".").to_numpy(zero_copy_only=False)  # -1: none
        length = pc.utf8_length(valid).to_numpy(zero_copy_only=False)
        places = np.where(point < 0, 0, length - point - 1).astype(np.int64)
        digits = pc.cast(pc.replace_substring(valid, ".", ""), pa.int64()).to_numpy()
        fen[keep] = digits * 10 ** (2 - places)
    _bad(
        errors, ok, fen <= 0, first_row, "base_yuan", "invalid-amount", message("row.base-positive")
    )
    return fen


def parse_payments(
    chunk: Chunk, vault: IdentityVault | None, connection: Connection | None
) -> _Parsed:
    """Check a payments chunk column by column; each malformed row is reported and left out."""
    table, first = chunk.table, chunk.first_row
    n = table.num_rows
    ok = np.ones(n, dtype=bool)
    errors: list[RowError] = []
    payment = _text(table, "payment_id")
    month = _text(table, "month")
    assert payment is not None and month is not None
    _bad(
        errors,
        ok,
        ~_matches(payment, _ID_RE),
        first,
        "payment_id",
        "invalid-id",
        message("row.payment-id-form", chars_max=REQUEST_ID_CHARS_MAX),
    )
    reserved = np.zeros(n, dtype=bool)
    for prefix in RESERVED_PREFIXES:
        reserved |= pc.fill_null(pc.starts_with(payment, prefix), False).to_numpy(
            zero_copy_only=False
        )
    _bad(
        errors,
        ok,
        reserved,
        first,
        "payment_id",
        "invalid-id",
        message("row.payment-id-reserved"),
    )
    good_month = _matches(month, _MONTH_RE)
    _bad(
        errors,
        ok,
        ~good_month,
        first,
        "month",
        "invalid-month",
        message("row.month-form"),
    )
    months = np.zeros(n, dtype=np.int64)
    if good_month.any():
        # only text the pattern accepted is cast (a refused row's month reads as 0000-01): a
        # month such as "" or "Jan-2026" beside a good one failed the cast, a traceback
        checked = pc.if_else(pa.array(good_month), month, "0000-01")
        year = pc.cast(pc.utf8_slice_codeunits(checked, 0, 4), pa.int64())
        number = pc.cast(pc.utf8_slice_codeunits(checked, 5, 7), pa.int64())
        values = pc.add(pc.multiply(year, 12), pc.subtract(number, 1))
        months = np.where(good_month, values.to_numpy(zero_copy_only=False), 0)
    base = _base_fen(table, ok, errors, first)
    scheme_column = _text(table, "scheme")
    schemes = np.full(n, Scheme.EMPLOYEE_PENSION.value, dtype=object)
    if scheme_column is not None:
        given = np.asarray(scheme_column.to_pylist(), dtype=object)
        empty = given == ""
        schemes = np.where(empty, Scheme.EMPLOYEE_PENSION.value, given)
        known = np.isin(schemes, [s.value for s in SCHEMES])
        _bad(
            errors,
            ok,
            ~known,
            first,
            "scheme",
            "invalid-scheme",
            scheme_refused(),
        )
    workers = _worker_ids(table, ok, errors, first, vault, connection)
    rows = np.flatnonzero(ok)
    picked = pa.array(rows)
    return _Parsed(
        rows,
        payment.take(picked),
        months[rows],
        base[rows],
        workers.take(picked),
        schemes[rows].tolist(),
        errors,
    )


def _worker_ids(
    table: pa.Table,
    ok: np.ndarray,
    errors: list[RowError],
    first: int,
    vault: IdentityVault | None,
    connection: Connection | None,
) -> pa.Array:
    """Each row's worker: its worker_id, or the worker found by its resident id."""
    n = table.num_rows
    given = _text(table, "worker_id")
    residents = _text(table, "resident_id")
    if given is None and residents is None:
        raise FileRefused(message("file.no-worker-column"))
    if residents is None:
        column = pc.fill_null(given, "")
    else:
        column = _by_resident(connection, vault, given, residents, n, ok, first, errors)
    present = pc.not_equal(column, "").to_numpy(zero_copy_only=False)
    _bad(
        errors,
        ok,
        ~present,
        first,
        "worker_id",
        "invalid-worker",
        message("row.worker-missing"),
    )
    plain = pc.match_substring_regex(column, _WORKER_RE).to_numpy(
        zero_copy_only=False
    )  # RE2: ASCII classes
    _bad(
        errors,
        ok,
        present & ~plain,
        first,
        "worker_id",
        "invalid-worker",
        message("row.worker-form"),
    )
    return pc.if_else(pa.array(ok), column, "")


def _by_resident(
    connection: Connection | None,
    vault: IdentityVault | None,
    given: pa.Array | None,
    residents: pa.Array,
    n: int,
    ok: np.ndarray,
    first: int,
    errors: list[RowError],
) -> pa.Array:
    """Each row's worker: the worker of its resident id, or the worker id it names. A row
    that gives both is checked: its resident id must be that worker's (it was ignored, and
    the payment posted to the worker id whatever person the resident id named)."""
    ids = (
        np.full(n, "", dtype=object)
        if given is None
        else np.asarray(pc.fill_null(given, "").to_pylist(), dtype=object)
    )
    assert vault is not None and connection is not None
    numbers = residents.to_pylist()
    need = [i for i in range(n) if ok[i] and (numbers[i] or not ids[i])]
    found = find_workers(connection, vault, [numbers[i] for i in need])
    for i, (worker, problem) in zip(need, found, strict=True):
        if problem is not None:
            errors.append(RowError(first + i, "resident_id", "invalid-resident-id", problem))
            ok[i] = False
        elif not ids[i]:
            ids[i] = worker
        elif ids[i] != worker:
            errors.append(
                RowError(
                    first + i,
                    "resident_id",
                    "invalid-worker",
                    message("row.worker-and-resident-differ", worker=ids[i]),
                )
            )
            ok[i] = False
    return pa.array(ids.tolist(), type=pa.string())


class FileRows:
    """The payments (payment id and month) of one file's chunks handed to the
    contribution path so far: a later chunk's row that the path replays is refused if an
    earlier chunk of the file had it — a payment listed twice in the file, wherever the chunks
    fall. (Within a chunk, ``post_batch`` refuses it; a repeat in a later chunk found the
    first row posted and was counted a replay — "already posted" of a file never sent — and
    the file passed, even with --all-or-nothing.) A row posted by an earlier run of the file
    is not here: a run after a kill replays it, as before.

    Kept as 64-bit hashes (Python's string hash: one process, one run), 8 bytes a row (a file
    of ten million rows 80 MB); sorted and merged into runs only when a chunk has a replayed
    row to look up, so a file's first run only hashes its rows. Two ids of one file that share
    a hash (about 3 in a million for ten million rows) make the later row, where it replays a
    month posted before the run, a refused duplicate: never posted twice. A chunk's unit of
    work run again (given up in a deadlock) forgets what its first try recorded, and a run
    begun again from the first chunk starts afresh."""

    def __init__(self) -> None:
        self._runs: list[np.ndarray] = []  # sorted; each more than twice the one after it
        self._sorted_through = 0  # the first row of the last chunk in the runs
        self._recorded: list[tuple[int, np.ndarray]] = []  # (first row, keys) not yet sorted

    def record(self, first_row: int, keys: np.ndarray) -> None:
        """The chunk at ``first_row`` was handed to the path with these keys."""
        self._from(first_row)
        self._recorded.append((first_row, keys))

    def earlier_had(self, first_row: int, keys: np.ndarray) -> np.ndarray:
        """Which of ``keys`` the chunks before ``first_row`` had."""
        self._from(first_row)
        if not self._runs and not self._recorded:  # the file's first chunk
            return np.zeros(len(keys), dtype=bool)
        for first, recorded in self._recorded:
            self._merge(recorded)
            self._sorted_through = first
        self._recorded = []
        order = np.argsort(keys)
        wanted = keys[order]  # searched in order: each search starts where the last ended
        found = np.zeros(len(keys), dtype=bool)
        for run in self._runs:
            at = np.minimum(np.searchsorted(run, wanted), len(run) - 1)
            found[order] |= run[at] == wanted
        return found

    def _from(self, first_row: int) -> None:
        """Forget the chunks from ``first_row`` on: the chunk again, or the file from its
        start (all of it: the runs do not say which chunk a key came from)."""
        if first_row <= self._sorted_through:
            self._runs, self._sorted_through = [], 0
        self._recorded = [(f, k) for f, k in self._recorded if f < first_row]

    def _merge(self, keys: np.ndarray) -> None:
        if not len(keys):  # a chunk with no row for the path (every row refused as read)
            return  # an empty run would have no last key to compare with
        self._runs.append(np.sort(keys))  # a key may be there twice: a search finds either
        while len(self._runs) > 1 and len(self._runs[-2]) <= 2 * len(self._runs[-1]):
            small = self._runs.pop()  # two sorted runs merged: the stable sort (timsort)
            # finds them as two runs and merges them in one pass
            self._runs[-1] = np.sort(np.concatenate([self._runs[-1], small]), kind="stable")


def post_payments(
    connection: Connection,
    policy: Policy,
    vault: IdentityVault | None,
    chunk: Chunk,
    now: datetime,
    earlier: FileRows,
    refuse_all: bool = False,
    visible: Callable[[str], bool] | None = None,
) -> IntakeSummary:
    """Post a chunk (one unit of work, the caller's): well-formed rows go to the contribution
    path, scheme by scheme; every refused row is reported with its row number. ``earlier``:
    the file's chunks before this one (one ``FileRows`` a file: a row the path replays that
    one of them had is a payment listed twice in the file, refused). ``visible``: the regions
    the caller may pay in (``post_batch``)."""
    parsed = parse_payments(chunk, vault, connection)
    summary = IntakeSummary(rows=chunk.table.num_rows, errors=list(parsed.errors))
    schemes = np.asarray(parsed.scheme, dtype=object)
    if refuse_all and summary.errors:
        raise FileRefused(refused_row(summary.errors[0]))
    distinct, at_month = np.unique(
        parsed.month, return_inverse=True
    )  # few months: format each once
    labels = pa.array(
        [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in distinct.tolist()], type=pa.string()
    )
    tx_ids = pc.binary_join_element_wise(
        parsed.payment_id, labels.take(pa.array(at_month.ravel())), "/"
    )
    # each row's key: its month's id hashed (a row replays only the same id of its scheme)
    keys = np.fromiter(map(hash, tx_ids.to_pylist()), dtype=np.int64, count=len(tx_ids))
    twice: list[RowError] = []
    for scheme in sorted(set(parsed.scheme)):
        at = np.flatnonzero(schemes == scheme)
        picked = pa.array(at)
        rows = ContributionRows(
            tx_ids.take(picked),
            parsed.worker_id.take(picked),
            parsed.month[at],
            parsed.base_fen[at],
        )
        outcome = post_batch(
            connection,
            policy,
            rows,
            now,
            Scheme(scheme),
            refuse_all=refuse_all,
            visible=visible,
            amounts=False,  # a file's summary counts; it does not list the replayed months
        )
        replayed = np.flatnonzero(outcome.status == REPLAYED)
        if len(replayed):  # a replay of an earlier chunk's row: the row twice in the file
            repeated = replayed[earlier.earlier_had(chunk.first_row, keys[at[replayed]])]
            said = message("payment.earlier-in-file")
            twice += [
                RowError(chunk.first_row + int(parsed.rows[i]), "month", "duplicate-id", said)
                for i in at[repeated].tolist()
            ]
            summary.replayed -= len(repeated)
        summary.posted += outcome.count(0)
        summary.replayed += outcome.count(REPLAYED)
        for key, warning in _provisional_months(Scheme(scheme), outcome).items():
            summary.provisional.setdefault(key, warning)
        for region, fen in outcome.due_by_region().items():
            summary.due_fen_by_region[region] = summary.due_fen_by_region.get(region, 0) + fen
        for refusal in outcome.refusals:
            row = chunk.first_row + int(parsed.rows[at[refusal.row]])
            summary.errors.append(RowError(row, refusal.field, refusal.code, refusal.said))
        assert outcome.count(REFUSED) == len(outcome.refusals)
    if refuse_all and twice:
        raise FileRefused(refused_row(min(twice, key=lambda e: e.row)))
    earlier.record(chunk.first_row, keys)
    summary.errors += twice
    summary.refused = len(summary.errors)
    summary.errors.sort(key=lambda e: e.row)
    return summary


def _provisional_months(
    scheme: Scheme, outcome: BatchOutcome
) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The (scheme, region, month)s of the rows posted or replayed on provisional bounds, each
    with its ``provisional-parameter`` warning (the region and month named in it), as the
    first posting recorded them (a file sent again says what its first run said)."""
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    for (region, _, ordinal), used in sorted(outcome.provisional.items()):
        month = str(Month(ordinal))
        warning = provisional_warning(used, "base_yuan", f"{month} ({region})", BOUNDS_THEN)
        if warning is not None:
            found.setdefault(
                (scheme.value, region, month),
                {**warning, "scheme": scheme.value, "region": region, "month": month},
            )
    return found


def file_rows(path: Path) -> int | None:
    """The number of data rows (Parquet's footer, or a scan of the CSV's lines)."""
    try:
        if path.suffix.lower() == ".parquet":
            return int(pq.ParquetFile(path).metadata.num_rows)
        return scan_csv(path)[0]
    except (pa.ArrowInvalid, OSError):
        return None


# workers ---------------------------------------------------------------------------------

WORKER_REQUIRED = ("resident_id", "work_region")


@dataclass
class EnrolSummary:
    rows: int = 0
    created: int = 0  # new enrolments (and new workers where the person was new)
    existing: int = 0  # already enrolled there: the same worker again
    refused: int = 0
    # (resident id as the service stores it, worker id): a row's, whatever its spelling
    mapping: list[tuple[str, str]] = field(default_factory=list)
    rows_enrolled: list[tuple[int, str]] = field(default_factory=list)  # (row, worker id)
    errors: list[RowError] = field(default_factory=list)

    def add(self, other: EnrolSummary) -> None:
        self.rows += other.rows
        self.created += other.created
        self.existing += other.existing
        self.refused += other.refused
        self.mapping += other.mapping
        self.rows_enrolled += other.rows_enrolled
        self.errors += other.errors

    def to_json(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "created": self.created,
            "existing": self.existing,
            "refused": self.refused,
            "errors": [e.to_json() for e in self.errors],
        }


def enrol_workers(
    connection: Connection,
    policy: Policy,
    vault: IdentityVault,
    chunk: Chunk,
    now: datetime,
    visible: Callable[[str], bool] | None = None,
) -> EnrolSummary:
    """Enrol a chunk of a workers file (one unit of work, the caller's); see module doc.
    ``visible``: the regions the caller (an agency) may enrol in; a row for another region
    is refused."""
    from suiren.services.workers import EnrolRequest, enrol_many, lock_enrolments

    table, first = chunk.table, chunk.first_row
    n = table.num_rows
    summary = EnrolSummary(rows=n)
    columns = {name: _text(table, name) for name in WORKER_COLUMNS}
    values = {name: (c.to_pylist() if c is not None else [""] * n) for name, c in columns.items()}
    schemes: dict[str, list[int]] = {}
    for i in range(n):
        scheme = values["scheme"][i] or Scheme.EMPLOYEE_PENSION.value
        if scheme not in {s.value for s in SCHEMES}:
            summary.errors.append(RowError(first + i, "scheme", "invalid-scheme", scheme_refused()))
            continue
        region = values["work_region"][i]
        if visible is not None and re.fullmatch("[0-9]{6}", region) and not visible(region):
            summary.errors.append(
                RowError(
                    first + i,
                    "work_region",
                    "not-your-region",
                    message("row.not-your-region", region=region),
                )
            )
            continue
        schemes.setdefault(scheme, []).append(i)
    requests = {
        scheme: [
            EnrolRequest(
                values["resident_id"][i],
                values["work_region"][i],
                values["hukou_region"][i] or None,
            )
            for i in rows
        ]
        for scheme, rows in schemes.items()
    }
    if len(requests) > 1:  # one enrol_many a scheme: the chunk's locks first, in one order
        lock_enrolments(connection, vault, [r for each in requests.values() for r in each], now)
    for scheme, rows in sorted(schemes.items()):
        for i, result in zip(
            rows,
            enrol_many(connection, policy, vault, requests[scheme], now, Scheme(scheme)),
            strict=True,
        ):
            if isinstance(result, SuirenError):
                summary.errors.append(RowError.of(first + i, _field_of(result), result))
                continue
            summary.created += result.created
            summary.existing += not result.created
            # the id as the service checked and stored it (upper-case X, no spaces, 18
            # characters), not as the row spelt it: one person is one resident id
            number = ResidentId.parse(values["resident_id"][i], today=now.date()).number
            summary.mapping.append((number, result.worker.worker_id))
            summary.rows_enrolled.append((first + i, result.worker.worker_id))
    summary.refused = len(summary.errors)
    summary.errors.sort(key=lambda e: e.row)
    return summary


def _field_of(error: SuirenError) -> str:
    """The column a refused row names: the one the refusal names (``enrol_many`` names one
    for each), else the resident id's or the work region's by the code."""
    if error.field in WORKER_COLUMNS:
        return error.field
    return {"invalid-resident-id": "resident_id", "unknown-region": "work_region"}.get(
        error.code, "row"
    )
