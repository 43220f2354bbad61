"""Payments from files (issue 9): good, bad and duplicate rows, replays across files, malformed
files, and a process killed at random moments — on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, func, select, text

from suiren.domain.month import Month
from suiren.services.contributions import contribute
from suiren.services.history import BALANCE_COLUMNS, BALANCE_REQUIRED, STINT_COLUMNS, STINT_REQUIRED
from suiren.services.intake import (
    PAYMENT_COLUMNS,
    PAYMENT_REQUIRED,
    WORKER_COLUMNS,
    WORKER_REQUIRED,
    FileRefused,
    FileRows,
    IntakeSummary,
    post_payments,
    read_chunks,
)
from suiren.services.intake import enrol_workers as enrol_workers_file
from suiren.services.reversals import reverse
from suiren.store.db import unit_of_work
from suiren.store.tables import accounts, contribution_months, journal
from suiren.store.tables import workers as workers_table
from tests.conftest import NOW, SECRET, this_source
from tests.ledger_helpers import (
    POLICY,
    VAULT,
    assert_ledger_sound,
    base_bounds_fen,
    enrol_in_bulk,
    enrol_workers,
    resident_id,
)
from tests.parquet_damage import DAMAGES, damage, write_in_row_groups

HEADER = "payment_id,month,base_yuan,worker_id\n"


def post_file(engine: Engine, path: Path, chunk_rows: int = 1_000) -> IntakeSummary:
    total = IntakeSummary()
    earlier = FileRows()
    for chunk in read_chunks(path, PAYMENT_COLUMNS, PAYMENT_REQUIRED, chunk_rows):
        with unit_of_work(engine) as c:
            total.add(post_payments(c, POLICY, VAULT, chunk, NOW, earlier))
    return total


def counts(engine: Engine) -> tuple[int, int, int]:
    with unit_of_work(engine) as c:
        return (
            c.execute(select(func.count()).select_from(journal)).scalar_one(),
            c.execute(select(func.count()).select_from(contribution_months)).scalar_one(),
            c.execute(select(func.sum(accounts.c.balance_fen))).scalar_one() or 0,
        )


def test_good_bad_duplicate_paid_and_reversed_rows(engine: Engine, tmp_path: Path) -> None:
    a, b = enrol_workers(engine, 2)
    with unit_of_work(engine) as c:  # paid before the file: March; February paid and reversed
        contribute(
            c, POLICY, "earlier", a, Month.parse("2026-02"), Month.parse("2026-03"), 600_000, NOW
        )
    with unit_of_work(engine) as c:
        reverse(c, "earlier/2026-02", "fix", NOW)
    path = tmp_path / "pay.csv"
    path.write_text(
        HEADER
        + "".join(
            [
                f"f1,2026-01,6000,{a}\n",  # 1 posted
                f"f1,2026-02,6100.50,{a}\n",  # 2 posted again after the reversal (attempt 1)
                f"f1,2026-03,6000,{a}\n",  # 3 refused: March is paid (earlier/2026-03)
                f"f1,2026-01,6000,{a}\n",  # 4 refused: the same payment and month again
                f"f2,2026-01,6000,{a}\n",  # 5 refused: the same worker and month again
                f"f1,2026-01,6000,{b}\n",  # 6 refused: f1/2026-01 is the first row's id… for b
                f"f3,2026-04,60,00,{b}\n",  # 7 malformed: a comma inside the base
                f"f3,2026-05,abc,{b}\n",  # 8 refused: not an amount
                f"f3,2026-06,6000,{b}\n",  # 9 posted
                f"earlier,2026-03,6000,{a}\n",  # 10 replayed: earlier/2026-03 as recorded
            ]
        )
    )
    with pytest.raises(FileRefused, match="fields where the header has"):
        post_file(engine, path)  # a row with a field too many refuses the whole file first
    path.write_text(path.read_text().replace("60,00", '"60,00"'))
    summary = post_file(engine, path)
    assert (summary.rows, summary.posted, summary.replayed, summary.refused) == (10, 3, 1, 6)
    assert [(e.row, e.field, e.code) for e in summary.errors] == [
        (3, "month", "already-paid"),
        (4, "month", "duplicate-id"),
        (5, "month", "duplicate"),
        (6, "month", "duplicate-id"),
        (7, "base_yuan", "invalid-amount"),
        (8, "base_yuan", "invalid-amount"),
    ]
    before = counts(engine)
    again = post_file(engine, path)  # the same file again: everything it posted replays
    assert (again.posted, again.replayed, again.refused) == (0, 4, 6)
    assert counts(engine) == before
    with unit_of_work(engine) as c:
        assert_ledger_sound(c)
        attempts = dict(
            c.execute(select(contribution_months.c.tx_id, contribution_months.c.attempt)).all()
        )
    assert attempts["f1/2026-02"] == 1 and attempts["earlier/2026-02"] == 0


def test_a_later_file_replays_and_conflicts_with_an_earlier_one(
    engine: Engine, tmp_path: Path
) -> None:
    [a] = enrol_workers(engine, 1)
    first = tmp_path / "day1.csv"
    first.write_text(HEADER + f"d1,2026-01,6000,{a}\nd1,2026-02,6000,{a}\n")
    assert post_file(engine, first).posted == 2
    second = tmp_path / "day2.csv"
    second.write_text(HEADER + f"d1,2026-01,6000,{a}\nd1,2026-02,7000,{a}\nd2,2026-03,6000,{a}\n")
    summary = post_file(engine, second)
    assert (summary.posted, summary.replayed, summary.refused) == (1, 1, 1)
    assert summary.errors[0].code == "conflict" and "already used" in summary.errors[0].reason


@pytest.mark.parametrize("chunk_rows", [1, 2, 1_000])
def test_a_payment_twice_in_a_file_is_refused_wherever_the_chunks_fall(
    engine: Engine, tmp_path: Path, chunk_rows: int
) -> None:
    """A bank's file listing one payment twice: the later row was refused as a duplicate when
    both fell in one chunk, but counted a replay ("already posted", refused 0: the file
    passed) when a chunk boundary lay between them. It is refused alike, and a run of the
    file again replays the first and refuses the second again."""
    [a, b] = enrol_workers(engine, 2)
    path = tmp_path / "pay.csv"
    path.write_text(
        HEADER
        + f"t1,2026-01,6000,{a}\n"
        + f"t2,2026-01,6000,{b}\n"
        + f"t1,2026-01,6000,{a}\n"  # 3: row 1 again
        + f"t1,2026-02,6000,{a}\n"
        + f"t1,2026-01,6000,{a}\n"  # 5: row 1 again
    )
    first = post_file(engine, path, chunk_rows)
    assert (first.posted, first.replayed, first.refused) == (3, 0, 2)
    assert [(e.row, e.field, e.code) for e in first.errors] == [
        (3, "month", "duplicate-id"),
        (5, "month", "duplicate-id"),
    ]
    again = post_file(engine, path, chunk_rows)
    assert (again.posted, again.replayed, again.refused) == (0, 3, 2)
    assert [e.row for e in again.errors] == [3, 5]


def test_a_chunk_run_again_is_not_its_own_duplicate() -> None:
    """``FileRows``: a chunk's keys count for the chunks after it; the same chunk again (its
    unit of work given up in a deadlock and run again) finds nothing of its own first try,
    and the file begun again from its first chunk starts afresh."""
    earlier = FileRows()
    keys = np.array([5, 9, 7], dtype=np.int64)

    def had(first_row: int, *wanted: int) -> list[bool]:
        return earlier.earlier_had(first_row, np.array(wanted, dtype=np.int64)).tolist()

    earlier.record(1, keys)
    assert had(1, 5, 9, 7) == [False] * 3  # the same chunk again
    earlier.record(1, keys)
    assert had(4, 9, 1, 5) == [True, False, True]
    earlier.record(4, np.array([1], dtype=np.int64))
    assert had(4, 1) == [False]  # chunk 4 again: its own first try forgotten
    earlier.record(4, np.array([2], dtype=np.int64))
    for first in range(7, 40, 3):  # sorted runs merged as they grow
        earlier.record(first, np.arange(first * 10, first * 10 + 3, dtype=np.int64))
        assert had(first + 3, first * 10 + 2, 2, 1, 7) == [True, True, False, True]
    assert had(40, 70, 372, 373) == [True, True, False]
    assert had(1, 5, 70) == [False, False]  # the file from its start: afresh


def test_a_chunk_of_refused_rows_then_a_replay_is_no_crash(engine: Engine, tmp_path: Path) -> None:
    """A chunk whose every row is refused as read hands the path no row (no key to keep);
    a later chunk's replayed row — the file run again, after a crash say — was then looked
    up in that empty run (an IndexError: a traceback for the CLI, a 500 for an upload). The
    replays are counted, the rows refused, as on the first run."""
    [a] = enrol_workers(engine, 1)
    path = tmp_path / "pay.csv"
    path.write_text(HEADER + f"bad,2026-13,6000,{a}\nd1,2026-01,6000,{a}\nd2,2026-02,6000,{a}\n")
    runs = [post_file(engine, path, chunk_rows=1) for _ in range(2)]
    assert [(s.posted, s.replayed, s.refused) for s in runs] == [(2, 0, 1), (0, 2, 1)]
    assert [(e.row, e.field) for e in runs[1].errors] == [(1, "month")]
    earlier = FileRows()  # and the class alone: an empty chunk among others
    earlier.record(1, np.array([], dtype=np.int64))
    assert earlier.earlier_had(2, np.array([4], dtype=np.int64)).tolist() == [False]
    earlier.record(2, np.array([4], dtype=np.int64))
    earlier.record(3, np.array([], dtype=np.int64))
    assert earlier.earlier_had(4, np.array([4, 5], dtype=np.int64)).tolist() == [True, False]


@pytest.mark.parametrize("recorded", ["ends", "middle", "scattered"])
def test_a_large_batch_posts_its_new_rows_once_wherever_the_recorded_ones_are(
    engine: Engine, tmp_path: Path, recorded: str
) -> None:
    """A batch big enough for the optimistic insert (OPTIMISTIC_ROWS_MIN), part of it recorded
    before: at both ends (found by the sample, looked up at once), in the middle (the insert
    collides and falls back), or scattered; every row ends posted or replayed exactly once."""
    from suiren.services.contributions import OPTIMISTIC_ROWS_MIN

    n = OPTIMISTIC_ROWS_MIN + 200
    workers = [f"WB{k:08d}" for k in range(n)]
    enrol_in_bulk(engine, workers, "440100", Month.of(2026, 1))
    lines = [f"b{k},2026-03,{6000 + k % 7},{w}\n" for k, w in enumerate(workers)]
    before = {
        "ends": [*range(50), *range(n - 50, n)],
        "middle": list(range(500, 600)),
        "scattered": list(range(3, n, 97)),
    }[recorded]
    early = tmp_path / "early.csv"
    early.write_text(HEADER + "".join(lines[k] for k in before))
    assert post_file(engine, early).posted == len(before)
    whole = tmp_path / "whole.csv"
    whole.write_text(HEADER + "".join(lines))
    summary = post_file(engine, whole, chunk_rows=n)
    assert (summary.posted, summary.replayed, summary.refused) == (n - len(before), len(before), 0)
    again = post_file(engine, whole, chunk_rows=n)
    assert (again.posted, again.replayed, again.refused) == (0, n, 0)
    with unit_of_work(engine) as c:
        assert c.execute(select(func.count()).select_from(contribution_months)).scalar_one() == n
        assert_ledger_sound(c)


def test_resident_ids_and_schemes_and_parquet(engine: Engine, tmp_path: Path) -> None:
    [a] = enrol_workers(engine, 1)
    pq.write_table(
        pa.table(
            {
                "payment_id": ["p1", "p1", "p1"],
                "month": ["2026-01", "2026-02", "2026-03"],
                "base_yuan": pa.array(
                    [Decimal("6000.00"), Decimal("6000.50"), Decimal("0.01")],
                    type=pa.decimal128(12, 4),
                ),
                "resident_id": [
                    resident_id(0, "19700101"),
                    resident_id(0, "19700101"),
                    "110105194912310021",
                ],
                "scheme": ["employee_pension", "", "employee_medical"],
            }
        ),
        tmp_path / "pay.parquet",
    )
    summary = post_file(engine, tmp_path / "pay.parquet")
    assert (summary.posted, summary.refused) == (2, 1), summary.errors
    assert summary.errors[0].field == "resident_id"
    with unit_of_work(engine) as c:
        bases = sorted(c.execute(select(contribution_months.c.base_fen)).scalars())
        assert c.execute(select(contribution_months.c.worker_id).distinct()).scalars().all() == [a]
    assert bases == [600_000, 600_050]


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("empty.csv", b"", "is empty"),
        ("missing.csv", b"payment_id,month,worker_id\nx,2026-01,W1\n", "missing column.*base_yuan"),
        ("unknown.csv", b"payment_id,month,base_yaun,worker_id\n", "unknown column.*base_yaun"),
        ("twice.csv", b"payment_id,month,base_yuan,month,worker_id\n", "unknown|twice"),
        ("latin1.csv", HEADER.encode() + "p,2026-01,6000,W\xe9\n".encode("latin-1"), "not UTF-8"),
        ("huge.csv", HEADER.encode() + b"p," + b"9" * 2_000_000 + b",6000,W\n", "longer than"),
        ("binary.csv", b"\x00\x01\x02PK\x03\x04" * 100, "not UTF-8|unknown column|cannot"),
        ("pay.txt", HEADER.encode(), "is .csv or .parquet"),
        ("fake.parquet", b"PAR1 not really", "not a Parquet file"),
    ],
    ids=lambda value: (
        value if isinstance(value, str) and value.count(".") == 1 and len(value) < 20 else ""
    ),
)
def test_a_malformed_file_is_refused_with_nothing_written(
    engine: Engine, tmp_path: Path, name: str, content: bytes, match: str
) -> None:
    enrol_workers(engine, 1)
    before = counts(engine)
    (tmp_path / name).write_bytes(content)
    with pytest.raises(FileRefused, match=match):
        post_file(engine, tmp_path / name)
    assert counts(engine) == before


def test_float_amounts_and_wrong_types_in_parquet_are_refused(
    engine: Engine, tmp_path: Path
) -> None:
    [a] = enrol_workers(engine, 1)
    pq.write_table(
        pa.table(
            {"payment_id": ["p"], "month": ["2026-01"], "base_yuan": [6000.0], "worker_id": [a]}
        ),
        tmp_path / "f.parquet",
    )
    with pytest.raises(FileRefused, match="binary floats"):
        post_file(engine, tmp_path / "f.parquet")
    pq.write_table(
        pa.table({"payment_id": ["p"], "month": [24313], "base_yuan": ["6000"], "worker_id": [a]}),
        tmp_path / "m.parquet",
    )
    summary = post_file(
        engine, tmp_path / "m.parquet"
    )  # an integer month is text "24313": malformed
    assert summary.errors[0].field == "month"


@pytest.mark.parametrize(
    "header",
    [
        "payment_id , month,base_yuan ,worker_id",  # spaces around the names
        '"payment_id","month","base_yuan","worker_id"',  # quoted, as many programs write it
        "\ufeffpayment_id,month,base_yuan,worker_id",  # a byte-order mark
    ],
    ids=["spaces", "quoted", "bom"],
)
def test_a_header_is_read_as_csv(engine: Engine, tmp_path: Path, header: str) -> None:
    """The names of the header are the columns read (the header was split on commas, its
    names stripped and checked, and the columns then looked up under the raw names: a
    traceback for payments, an empty resident id for every worker)."""
    [a] = enrol_workers(engine, 1)
    path = tmp_path / "pay.csv"
    path.write_bytes(f"{header}\r\nh1,2026-01,6000,{a}\r\n".encode())
    summary = post_file(engine, path)
    assert (summary.posted, summary.refused) == (1, 0), summary.errors
    workers = tmp_path / "workers.csv"
    workers.write_text(f"resident_id , work_region\n{resident_id(40)},440100\n")
    for chunk in read_chunks(workers, WORKER_COLUMNS, WORKER_REQUIRED):
        with unit_of_work(engine) as c:
            enrolled = enrol_workers_file(c, POLICY, VAULT, chunk, NOW)
    assert (enrolled.created, enrolled.errors) == (1, [])
    header_only = tmp_path / "none.csv"
    header_only.write_text(header.replace("\ufeff", ""))  # no line end after the header
    assert post_file(engine, header_only).rows == 0


@pytest.mark.parametrize(
    ("late", "match"),
    [
        ("h9,2026-04,6000,张三\n".encode("gbk"), "not UTF-8"),
        (b"h9,2026-04\n", "fields where the header has"),
    ],
    ids=["gbk", "short-row"],
)
def test_a_file_malformed_past_its_first_block_is_refused_before_a_row_is_posted(
    engine: Engine, tmp_path: Path, late: bytes, match: str
) -> None:
    """The reader parses the file a block (LINE_BYTES_MAX) at a time: a bad line beyond the
    first block was found only after the chunks before it were posted and committed, and the
    command then said the file was refused (exit 2, "nothing written")."""
    from suiren.services.intake import LINE_BYTES_MAX

    [a] = enrol_workers(engine, 1)
    before = counts(engine)
    filler = f"{'x' * 100},2026-13,6000,{a}\n".encode()  # a refused month: nothing posted
    path = tmp_path / "pay.csv"
    path.write_bytes(
        HEADER.encode()
        + f"h1,2026-01,6000,{a}\nh1,2026-02,6000,{a}\n".encode()
        + filler * (LINE_BYTES_MAX // len(filler) + 10)
        + late
    )
    with pytest.raises(FileRefused, match=match):
        post_file(engine, path, chunk_rows=2)
    assert counts(engine) == before


GROUP_ROWS = 10  # rows per row group of a damaged Parquet file; it has four


def payments_table(workers: list[str]) -> pa.Table:
    """A payment of January 2026 for each worker."""
    rows = len(workers)
    return pa.table(
        {
            "payment_id": [f"d{k:03d}" for k in range(rows)],
            "month": ["2026-01"] * rows,
            "base_yuan": ["6000"] * rows,
            "worker_id": workers,
        }
    )


@pytest.mark.parametrize("how", DAMAGES)
def test_a_parquet_file_damaged_past_its_first_row_group_is_refused_before_a_row_is_posted(
    engine: Engine, tmp_path: Path, how: str
) -> None:
    """Parquet was decoded a chunk at a time as it was posted: a page of a later row group
    that could not be read refused the file after the groups before it were committed (and
    the command said nothing was written); a page whose bytes had changed but still decoded
    posted the changed values. Every page of the file is now decoded, and its checksum
    checked, before the first row is posted, as a CSV file's every block is parsed."""
    people = enrol_workers(engine, 4 * GROUP_ROWS)
    before = counts(engine)
    path, intact = tmp_path / "pay.parquet", tmp_path / "intact.parquet"
    write_in_row_groups(intact, payments_table(people), GROUP_ROWS)
    path.write_bytes(intact.read_bytes())
    damage(path, 2, how)
    with pytest.raises(FileRefused, match=r"row group 3 of 4 \(rows 21–30\).*nothing was written"):
        post_file(engine, path, chunk_rows=GROUP_ROWS)
    assert counts(engine) == before
    assert post_file(engine, intact, chunk_rows=GROUP_ROWS).posted == len(people)


@pytest.mark.parametrize("how", DAMAGES)
def test_a_workers_file_damaged_past_its_first_row_group_enrols_no_one(
    engine: Engine, tmp_path: Path, how: str
) -> None:
    """As a payments file: a workers file's damaged later row group refuses the file before
    its first person is enrolled."""
    rows = 4 * GROUP_ROWS
    path = tmp_path / "workers.parquet"
    people = pa.table(
        {
            "resident_id": [resident_id(100 + k) for k in range(rows)],
            "work_region": ["440100"] * rows,
        }
    )
    write_in_row_groups(path, people, GROUP_ROWS)
    intact = path.read_bytes()
    damage(path, 2, how)

    def enrol_file() -> int:
        created = 0
        for chunk in read_chunks(path, WORKER_COLUMNS, WORKER_REQUIRED, GROUP_ROWS):
            with unit_of_work(engine) as c:
                created += enrol_workers_file(c, POLICY, VAULT, chunk, NOW).created
        return created

    with pytest.raises(FileRefused, match=r"row group 3 of 4 \(rows 21–30\)"):
        enrol_file()
    with unit_of_work(engine) as c:
        assert c.execute(select(func.count()).select_from(workers_table)).scalar_one() == 0
    path.write_bytes(intact)
    assert enrol_file() == rows


@pytest.mark.parametrize("how", DAMAGES)
@pytest.mark.parametrize(
    "columns",
    [PAYMENT_REQUIRED, WORKER_REQUIRED, STINT_REQUIRED, BALANCE_REQUIRED],
    ids=["payments", "workers", "stints", "balances"],
)
def test_every_file_reader_refuses_a_damaged_parquet_file_before_its_first_chunk(
    tmp_path: Path, columns: tuple[str, ...], how: str
) -> None:
    """Every command and route that reads a file reads it through ``read_chunks`` (payments,
    workers, and the history import's stints and balances): none is handed a chunk of a
    file whose later row group cannot be read."""
    everything = {
        PAYMENT_REQUIRED: PAYMENT_COLUMNS,
        WORKER_REQUIRED: WORKER_COLUMNS,
        STINT_REQUIRED: STINT_COLUMNS,
        BALANCE_REQUIRED: BALANCE_COLUMNS,
    }[columns]
    rows = 4 * GROUP_ROWS
    path = tmp_path / "file.parquet"
    table = pa.table({name: [f"{name}-{k:03d}" for k in range(rows)] for name in columns})
    write_in_row_groups(path, table, GROUP_ROWS)
    assert sum(c.table.num_rows for c in read_chunks(path, everything, columns, 7)) == rows
    damage(path, 2, how)
    chunks = read_chunks(path, everything, columns, GROUP_ROWS)
    with pytest.raises(FileRefused, match="row group 3 of 4"):
        next(chunks)


def test_integers_nulls_and_dictionaries_in_parquet_are_read_as_csv_text(
    engine: Engine, tmp_path: Path
) -> None:
    """A Parquet column is read as the text a CSV file would hold: an integer base beyond
    the ten digits of a base was multiplied by 100 in int64 and wrapped around (2^62 + 6000
    yuan was posted as 6000.00), an unsigned one beyond int64 was a traceback, a null integer
    a base of 0.00 "out of bounds"; a dictionary-encoded text column (pandas' category) was
    refused as not text."""
    [a] = enrol_workers(engine, 1)
    rows = 5
    pq.write_table(
        pa.table(
            {
                "payment_id": pa.array([f"i{k}" for k in range(rows)]).dictionary_encode(),
                "month": [f"2026-0{k + 1}" for k in range(rows)],
                "base_yuan": pa.array([2**62 + 6000, 6000, None, -6000, 6001], pa.int64()),
                "worker_id": pa.array([a, a, a, a, None]),
            }
        ),
        tmp_path / "ints.parquet",
    )
    summary = post_file(engine, tmp_path / "ints.parquet")
    assert summary.posted == 1
    assert [(e.row, e.field, e.code) for e in summary.errors] == [
        (1, "base_yuan", "invalid-amount"),
        (3, "base_yuan", "invalid-amount"),
        (4, "base_yuan", "invalid-amount"),
        (5, "worker_id", "invalid-worker"),
    ]
    pq.write_table(
        pa.table(
            {
                "payment_id": ["u1"],
                "month": ["2026-06"],
                "base_yuan": pa.array([2**63 + 5], pa.uint64()),
                "worker_id": [a],
            }
        ),
        tmp_path / "unsigned.parquet",
    )
    [error] = post_file(engine, tmp_path / "unsigned.parquet").errors
    assert (error.field, error.code) == ("base_yuan", "invalid-amount")
    with unit_of_work(engine) as c:
        assert c.execute(select(contribution_months.c.base_fen)).scalars().all() == [600_000]
    csv_path = tmp_path / "same.csv"  # the same rows as text: the same refusals
    csv_path.write_text(
        HEADER
        + "".join(f"c{k},2026-0{k + 1},{b},{a}\n" for k, b in enumerate([2**62 + 6000, "", -6000]))
    )
    assert [e.code for e in post_file(engine, csv_path).errors] == ["invalid-amount"] * 3


# --- killed at random moments while it posts, then run again ---------------------------------

KILL_ROWS = 300_000
KILLS = 10
KILL_CHUNK_ROWS = 5_000  # the command's unit of work: 60 chunks, of which the kills take ~15
KILL_WAIT_S = 120  # the longest a run may take to commit its next chunk before the test fails
POLL_S = 0.02


def write_payments(path: Path, workers: list[str]) -> None:
    months = [f"2026-{m:02d}" for m in range(1, 7)]
    n = KILL_ROWS
    rng = np.random.default_rng(11)
    worker = np.repeat(np.array(workers, dtype=object), len(months))[:n]
    month = np.tile(np.array(months, dtype=object), len(workers))[:n]
    floor_fen, ceiling_fen = base_bounds_fen("440100", Month.of(2026, 1), Month.of(2026, 6))
    base = rng.integers(-(-floor_fen // 100), ceiling_fen // 100, n)  # whole yuan within
    pq.write_table(
        pa.table(
            {
                "payment_id": pa.array([f"k{i // 6}" for i in range(n)]),
                "month": pa.array(month.tolist()),
                "base_yuan": pa.array(base.astype(str).tolist()),
                "worker_id": pa.array(worker.tolist()),
            }
        ),
        path,
    )


def months_in_file(path: Path) -> list[tuple[str, str, int, int]]:
    """(tx id, worker, month ordinal, base in fen) of every row in file order, read from the
    file itself."""
    table = pq.read_table(path).to_pydict()
    ordinal = {m: Month.parse(m).ordinal for m in set(table["month"])}
    return [
        (f"{p}/{m}", w, ordinal[m], int(b) * 100)
        for p, m, b, w in zip(
            table["payment_id"], table["month"], table["base_yuan"], table["worker_id"], strict=True
        )
    ]


def committed_months(engine: Engine, counted: bool = True) -> int:
    """The contribution months committed: counted, or as the journal's batch entries say
    (a few rows to sum, where counting reads every month: what the polling reads)."""
    with unit_of_work(engine, read_only=True) as c:
        if counted:
            query = select(func.count()).select_from(contribution_months)
        else:
            query = select(func.coalesce(func.sum(journal.c.months), 0))
        return int(c.execute(query).scalar_one())


class Writer:
    """Whether the command's connection is inside a transaction at this moment: on PostgreSQL
    its session (named by PGAPPNAME) has a transaction open; on SQLite the write lock its
    BEGIN IMMEDIATE takes at a chunk's start cannot be taken (where it can, it is let go)."""

    def __init__(self, engine: Engine, url: str, name: str) -> None:
        self.engine, self.name = engine, name
        self.sqlite = (
            sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
            if url.startswith("sqlite")
            else None
        )

    def in_transaction(self) -> bool:
        if self.sqlite is None:
            with self.engine.connect() as c:
                return bool(
                    c.execute(
                        text(
                            "SELECT count(*) FROM pg_stat_activity"
                            " WHERE application_name = :name AND xact_start IS NOT NULL"
                        ),
                        {"name": self.name},
                    ).scalar_one()
                )
        try:
            self.sqlite.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            assert "locked" in str(error), error
            return True
        self.sqlite.execute("ROLLBACK")
        return False

    def close(self) -> None:
        if self.sqlite is not None:
            self.sqlite.close()


def more_committed(engine: Engine, process: subprocess.Popen[bytes], than: int, log: Path) -> int:
    """Wait (at most KILL_WAIT_S) until the running command has committed more months than
    ``than``; the count then. A command that ends or stalls meanwhile fails the test."""
    deadline = time.monotonic() + KILL_WAIT_S
    while (now := committed_months(engine, counted=False)) <= than:
        assert process.poll() is None, (
            f"the command ended ({process.returncode}): {log.read_text()}"
        )
        assert time.monotonic() < deadline, f"no chunk committed in {KILL_WAIT_S} s ({now} months)"
        time.sleep(POLL_S)
    return now


def test_a_command_run_from_another_directory_runs_the_code_under_test(tmp_path: Path) -> None:
    """The kill tests' commands run in ``tmp_path``: there they import this tree's suiren
    (a relative PYTHONPATH named nothing, and the editable install's tree answered)."""
    import suiren

    probe = [sys.executable, "-c", "import suiren; print(suiren.__file__)"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | this_source()
    done = subprocess.run(probe, env=env, cwd=tmp_path, capture_output=True, text=True, check=True)
    assert Path(done.stdout.strip()).resolve() == Path(suiren.__file__).resolve()


@pytest.mark.slow
def test_a_file_killed_ten_times_while_it_posts_then_run_again_posts_every_row_once(
    backend: str, database_url: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    """Issue 9's kill test: each of the ten kills lands while the command posts — after it
    has committed a chunk more than the last kill left, a random fraction of a chunk's time
    later, so inside a chunk's transaction or between two — and leaves only whole chunks;
    the run after them replays exactly those and posts the rest, every month once."""
    url, extra = database_url
    from suiren.store.db import make_engine
    from tests.conftest import KEYS

    options = {"connect_args": {"options": extra["PGOPTIONS"]}} if "PGOPTIONS" in extra else {}
    engine = make_engine(url, keys=KEYS, **options)
    workers = [f"WK{n:010d}" for n in range(KILL_ROWS // 6)]
    enrol_in_bulk(engine, workers, "440100", Month.of(2026, 1))
    path = tmp_path / "big.parquet"
    write_payments(path, workers)
    name = f"suiren-kill-{os.getpid()}-{tmp_path.name}"[:63]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUIREN_") and k != "PGOPTIONS"}
    env |= extra | {
        "SUIREN_DATABASE_URL": url,
        "SUIREN_SECRET_KEY": base64.b64encode(SECRET).decode(),
        "SUIREN_TODAY": NOW.date().isoformat(),
        "SUIREN_INTAKE_CHUNK_ROWS": str(KILL_CHUNK_ROWS),
        "PGAPPNAME": name,
    }
    env |= this_source()  # the code under test, from tmp_path
    command = [sys.executable, "-m", "suiren.cli.main", "contribute", "--file", str(path)]
    log = tmp_path / "stderr.txt"
    writer = Writer(engine, url, name)
    rng = random.Random(20261201)
    left: list[int] = []  # the months committed after each kill
    inside: list[bool] = []  # whether the command was inside a transaction as it was killed
    chunk_s = 0.0
    try:
        for _ in range(KILLS):
            with log.open("wb") as err:
                process = subprocess.Popen(
                    command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=err
                )
            try:
                seen = more_committed(engine, process, left[-1] if left else 0, log)
                if not chunk_s:  # a chunk's time, from the first run's next chunk
                    started = time.monotonic()
                    more_committed(engine, process, seen, log)
                    chunk_s = time.monotonic() - started
                time.sleep(rng.uniform(0, chunk_s))
                inside.append(writer.in_transaction())
                process.send_signal(signal.SIGKILL)
            finally:
                process.kill()
                process.wait(timeout=60)
            assert process.returncode == -signal.SIGKILL, log.read_text()
            left.append(committed_months(engine))
            assert committed_months(engine, counted=False) == left[-1]  # as the journal says
    finally:
        writer.close()
    print(
        f"{backend}: months after each kill {left}; inside a transaction {inside}; chunk {chunk_s:.2f} s"
    )
    assert all(a < b for a, b in zip([0, *left], left, strict=False)), left  # each run posted
    assert all(n % KILL_CHUNK_ROWS == 0 for n in left), left  # whole chunks, never part of one
    assert left[-1] <= KILL_ROWS // 2, left  # the run after the kills has half the file or more
    assert any(inside), inside  # some kills landed inside a chunk's transaction
    # the run after the kills in the command's own chunks (100,000 rows): the chunks the
    # kills left are not its chunks, so their rows are found again row by row, not by receipt
    # (the killed runs' restarts met their receipts), and 49 commits of 5,000 rows become 3
    rest_env = {k: v for k, v in env.items() if k != "SUIREN_INTAKE_CHUNK_ROWS"}
    done = subprocess.run(
        [*command, "--json"],
        env=rest_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["rows"], summary["replayed"], summary["posted"], summary["refused"]) == (
        KILL_ROWS,
        left[-1],
        KILL_ROWS - left[-1],
        0,
    )
    in_file = months_in_file(path)
    with unit_of_work(engine) as c:
        m = contribution_months.c
        posted = c.execute(select(m.tx_id, m.worker_id, m.month, m.base_fen, m.due_fen)).all()
        assert len(posted) == KILL_ROWS
        assert {(t, w, mo, int(b)) for t, w, mo, b, _ in posted} == set(in_file)  # each once
        assert len({(w, mo) for _, w, mo, _, _ in posted}) == KILL_ROWS  # a worker-month once
        assert c.execute(select(func.sum(m.base_fen))).scalar_one() == sum(r[3] for r in in_file)
        due = {t: int(d) for t, _, _, _, d in posted}  # the run after the kills posted the rest
        rest = sum(due[r[0]] for r in in_file[left[-1] :])
        assert sum(summary["due_fen_by_region"].values()) == rest
        _, balances, audit = assert_ledger_sound(c)  # balances are their months' sums; verify
        assert audit is not None and audit.months == KILL_ROWS
        assert sum(v for a, v in balances.items() if a.startswith("worker:")) > 0
    engine.dispose()


# --- workers from a file ---------------------------------------------------------------------


def test_a_workers_file_enrols_each_person_once(engine: Engine, tmp_path: Path) -> None:
    from suiren.services.intake import WORKER_COLUMNS, WORKER_REQUIRED, EnrolSummary, enrol_workers

    young = "44010620150101009"  # eleven years old
    from suiren.domain.resident_id import check_character

    path = tmp_path / "workers.csv"
    path.write_text(
        "resident_id,work_region,hukou_region,scheme\n"
        + "".join(
            [
                f"{resident_id(1)},440100,,\n",  # 1 new worker
                f"{resident_id(2)},110000,410000,employee_medical\n",  # 2 new, medical, hukou Henan
                f"{resident_id(1)},440100,,\n",  # 3 the same person: the same worker
                f"{young + check_character(young)},440100,,\n",  # 4 too young
                f"{resident_id(1)},110000,,\n",  # 5 already enrolled in Guangzhou
                "12345,440100,,\n",  # 6 not a resident id
                f"{resident_id(3)},449999,,\n",  # 7 no such region
                f"{resident_id(4)},440100,,employee_injury\n",  # 8 no such scheme
            ]
        )
    )

    def run() -> EnrolSummary:
        total = EnrolSummary()
        for chunk in read_chunks(path, WORKER_COLUMNS, WORKER_REQUIRED, 3):
            with unit_of_work(engine) as c:
                total.add(enrol_workers(c, POLICY, VAULT, chunk, NOW))
        return total

    first = run()
    assert (first.created, first.existing, first.refused) == (2, 1, 5)
    assert [e.row for e in first.errors] == [4, 5, 6, 7, 8]
    mapping = dict(first.mapping)
    assert len(set(mapping.values())) == 2
    assert first.mapping.count((resident_id(1), mapping[resident_id(1)])) == 2  # rows 1 and 3
    again = run()  # the same file again: the same workers, nothing new
    assert (again.created, again.existing) == (0, 3) and dict(again.mapping) == mapping
    with unit_of_work(engine) as c:
        assert_ledger_sound(c)


def test_a_workers_file_larger_than_a_lookup_finds_everyone_enrolled_before(
    engine: Engine, tmp_path: Path
) -> None:
    """1,200 people, half of them enrolled by an earlier file: each person and enrolment is
    looked up beyond a statement's 500 keys (PostgreSQL: a temporary table joined), so the
    enrolled half is found again (the same workers) and only the other half is new."""
    from datetime import date, timedelta

    from suiren.domain.resident_id import check_character
    from suiren.services.intake import WORKER_COLUMNS, WORKER_REQUIRED, EnrolSummary, enrol_workers
    from suiren.services.workers import LOOKUP_CHUNK

    people = []
    for n in range(1_200):
        first17 = f"440106{date(1980, 1, 1) + timedelta(days=n):%Y%m%d}00{n % 10}"
        people.append(first17 + check_character(first17))
    assert len(set(people)) == 1_200 > 2 * LOOKUP_CHUNK

    def run(ids: list[str]) -> EnrolSummary:
        path = tmp_path / "workers.csv"
        path.write_text(
            "resident_id,work_region,hukou_region,scheme\n"
            + "".join(f"{i},440100,,\n" for i in ids)
        )
        total = EnrolSummary()
        for chunk in read_chunks(path, WORKER_COLUMNS, WORKER_REQUIRED, 5_000):
            with unit_of_work(engine) as c:
                total.add(enrol_workers(c, POLICY, VAULT, chunk, NOW))
        return total

    first = run(people[::2])
    assert (first.created, first.existing, first.refused) == (600, 0, 0)
    whole = run(people)
    assert (whole.created, whole.existing, whole.refused) == (600, 600, 0)
    assert dict(whole.mapping).items() >= dict(first.mapping).items()  # the same workers
    again = run(people)
    assert (again.created, again.existing) == (0, 1_200)
    assert dict(again.mapping) == dict(whole.mapping)
    with unit_of_work(engine) as c:
        assert_ledger_sound(c)


def test_a_workers_chunk_of_more_facts_than_an_entry_holds_is_several_entries(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk of the default 100,000 new people is 200,000 facts, over what a journal entry
    holds (``FACTS_MAX``, 100,000): the chunk was refused whole. Its facts now go in several
    entries of the one unit of work, a person's worker and enrolment in the same one. Here
    an entry holds 7 facts and 12 people (24 facts) enrol: four entries of three people."""
    from suiren.ledger import transaction
    from suiren.services.intake import WORKER_COLUMNS, WORKER_REQUIRED, enrol_workers
    from suiren.store.tables import facts, journal

    monkeypatch.setattr(transaction, "FACTS_MAX", 7)
    path = tmp_path / "workers.csv"
    path.write_text(
        "resident_id,work_region,hukou_region,scheme\n"
        + "".join(f"{resident_id(n)},440100,,\n" for n in range(12))
    )
    [chunk] = read_chunks(path, WORKER_COLUMNS, WORKER_REQUIRED, 100)
    with unit_of_work(engine) as c:
        summary = enrol_workers(c, POLICY, VAULT, chunk, NOW)
    assert (summary.created, summary.refused) == (12, 0)
    with unit_of_work(engine) as c:
        entries = c.execute(
            select(journal.c.seq, func.count(facts.c.line))
            .join(facts, (facts.c.region == journal.c.region) & (facts.c.seq == journal.c.seq))
            .where(journal.c.code == "enrolment")
            .group_by(journal.c.seq)
        ).all()
        assert [n for _, n in entries] == [6, 6, 6, 6]
        per_entry = c.execute(select(facts.c.seq, facts.c.kind, facts.c.key)).all()
        worker_entry = {k: seq for seq, kind, k in per_entry if kind == "workers"}
        assert all(
            worker_entry[k.split("/")[0]] == seq
            for seq, kind, k in per_entry
            if kind == "enrolments"
        )
        assert_ledger_sound(c)


# --- a file that changes on disk while it is read -------------------------------------------


def changing_file(tmp_path: Path, kind: str, rows: int = 30) -> Path:
    """A payments file of ``rows`` rows (which need not post: only the reading is tried)."""
    lines = [f"c{k},2026-01,6000,W{k:011d}" for k in range(rows)]
    if kind == ".csv":
        path = tmp_path / "changing.csv"
        path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
        return path
    path = tmp_path / "changing.parquet"
    fields = [line.split(",") for line in lines]
    names = HEADER.strip().split(",")
    pq.write_table(pa.table({n: [f[i] for f in fields] for i, n in enumerate(names)}), path)
    return path


def change(path: Path) -> None:
    """What a transfer still writing the file, or a copy over it, does."""
    if path.suffix == ".csv":
        with path.open("a", encoding="utf-8") as handle:
            handle.write("late,2026-02,6000,W00000000099\n")
    else:
        table = pq.read_table(path)
        pq.write_table(table.slice(0, table.num_rows - 1), path)
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000))  # a coarse clock's tick


@pytest.mark.parametrize("kind", [".csv", ".parquet"])
@pytest.mark.parametrize("chunks_out", [1, 3])  # the change seen at the next chunk, or at the end
def test_a_file_changed_while_it_is_read_is_refused_and_a_run_again_reads_it_all(
    tmp_path: Path, kind: str, chunks_out: int
) -> None:
    path = changing_file(tmp_path, kind)
    chunks = read_chunks(path, PAYMENT_COLUMNS, PAYMENT_REQUIRED, 10)
    assert sum(next(chunks).table.num_rows for _ in range(chunks_out)) == 10 * chunks_out
    change(path)
    with pytest.raises(FileRefused, match="changed on disk while it was being read") as refused:
        next(chunks)
    assert f"first {10 * chunks_out} rows were handed to posting" in refused.value.message
    again = sum(c.table.num_rows for c in read_chunks(path, PAYMENT_COLUMNS, PAYMENT_REQUIRED, 10))
    assert again == (31 if kind == ".csv" else 29)


@pytest.mark.parametrize("kind", [".csv", ".parquet"])
def test_a_file_changed_while_it_is_checked_is_refused_with_nothing_written(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Changed during the first reading (the check of every row): no chunk is handed out."""
    import suiren.services.intake as intake

    path = changing_file(tmp_path, kind)
    name = "scan_csv" if kind == ".csv" else "_decode_every_row_group"
    checked = getattr(intake, name)

    def check_then_change(*args: Any) -> Any:
        result = checked(*args)
        change(path)
        return result

    monkeypatch.setattr(intake, name, check_then_change)
    with pytest.raises(FileRefused, match="nothing was written"):
        next(read_chunks(path, PAYMENT_COLUMNS, PAYMENT_REQUIRED, 10))
