"""Workers enrolled from a file (issue 9: ``suiren worker enrol --file``), next to a raw
insert of the same rows.

``python -m benchmarks enrolment [--scale S]``. On PostgreSQL (the local server, a fresh
schema per run, ``SUIREN_BENCH_POSTGRES_URL``) and on SQLite (a temporary file):

1. a CSV file of N people (N = 100,000 at scale 1: one chunk of the default
   ``intake_chunk_rows``) with valid synthetic resident ids (check character included; born
   1980-1999, so all of working age) working in 440100 is written (not timed);
2. **anchor**: the file's rows read and loaded into an unindexed table of four text columns
   the plainest way (PostgreSQL: COPY of the Arrow-formatted CSV; SQLite: one executemany);
3. **enrolling**: the file through the path of ``suiren worker enrol --file`` (read in
   chunks, each one unit of work: ids checked, people locked and looked up by blind index,
   policy checks, a ``workers`` and an ``enrolments`` fact per person in one journal entry,
   the facts hashed and chained, written and applied to their tables);
4. **again**: the same file once more (everyone found enrolled, nothing written).

Wall time and CPU time (this process plus the PostgreSQL backend serving it) are printed
with each ratio to the anchor, as ``benchmarks.intake`` does, because the machine is shared.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
from sqlalchemy import Column, Engine, MetaData, Table

from benchmarks.intake import NOW, SECRET, Clock, on_both_databases, timed, warm_up, watch_backends
from suiren.domain.resident_id import check_character
from suiren.policy import load_policy
from suiren.services.identity import IdentityVault
from suiren.services.intake import (
    CHUNK_ROWS,
    WORKER_COLUMNS,
    WORKER_REQUIRED,
    EnrolSummary,
    enrol_workers,
    read_chunks,
)
from suiren.store.bulk import insert_arrow
from suiren.store.db import unit_of_work
from suiren.store.migrate import upgrade

PEOPLE = 100_000  # at scale 1
REGION = "440100"
ADDRESS = "440106"  # the ids' address: Guangdong, so the hukou is in the work province
DAYS = 7_305  # birth days from 1980-01-01: 1980-1999


def write_file(path: Path, count: int) -> None:
    """``count`` distinct valid resident ids (birth day, then the serial, varied)."""
    first = date(1980, 1, 1)
    lines = [",".join(WORKER_COLUMNS)]
    for n in range(count):
        born = first + timedelta(days=n % DAYS)
        first17 = f"{ADDRESS}{born:%Y%m%d}{n // DAYS:03d}"
        lines.append(f"{first17}{check_character(first17)},{REGION},,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def raw_insert(engine: Engine, path: Path) -> Clock:
    """The anchor: the file's rows into an unindexed table of text columns, the plainest way."""
    with engine.begin() as c:
        c.exec_driver_sql(
            f"CREATE TABLE raw_workers ({', '.join(f'{n} text' for n in WORKER_COLUMNS)})"
        )
    table = Table("raw_workers", MetaData(), *(Column(n) for n in WORKER_COLUMNS))
    text_columns = pacsv.ConvertOptions(column_types=dict.fromkeys(WORKER_COLUMNS, "string"))

    def load() -> None:
        rows = pacsv.read_csv(path, convert_options=text_columns)
        with engine.begin() as c:
            for start in range(0, rows.num_rows, CHUNK_ROWS):
                insert_arrow(c, table, rows.slice(start, CHUNK_ROWS))

    clock, _ = timed(engine, load)
    return clock


def enrol_file(engine: Engine, path: Path) -> EnrolSummary:
    policy, vault = load_policy(), IdentityVault.from_secret(SECRET)
    summary = EnrolSummary()
    for chunk in read_chunks(path, WORKER_COLUMNS, WORKER_REQUIRED, CHUNK_ROWS):
        with unit_of_work(engine) as c:
            summary.add(enrol_workers(c, policy, vault, chunk, NOW))
    return summary


def run_backend(name: str, engine: Engine, scale: float, folder: Path) -> None:
    count = max(int(PEOPLE * scale), 1)
    watch_backends(engine)
    warm_up()
    upgrade(engine)
    path = folder / "workers.csv"
    write_file(path, count)
    anchor = raw_insert(engine, path)
    print(
        f"[{name}] anchor: {count:,} rows of the workers file into an unindexed table:"
        f" {anchor.wall:.2f} s wall, {anchor.cpu:.2f} s CPU ({count / anchor.wall:,.0f} rows/s)"
    )

    def line(label: str, clock: Clock, summary: Any) -> None:
        print(
            f"[{name}] {label}: {clock.wall:.2f} s wall ({count / clock.wall:,.0f} rows/s),"
            f" {clock.cpu:.2f} s CPU; ratio to the anchor {anchor.wall / clock.wall:.3f}x wall,"
            f" {anchor.cpu / clock.cpu:.3f}x CPU — enrolled {summary.created:,},"
            f" already enrolled {summary.existing:,}, refused {summary.refused:,}"
        )

    enrolled, summary = timed(engine, lambda: enrol_file(engine, path))
    assert summary.created == count, summary.errors[:3]
    line("enrolling the file (`suiren worker enrol --file`)", enrolled, summary)
    again, summary = timed(engine, lambda: enrol_file(engine, path))
    assert summary.existing == count, summary.errors[:3]
    line("enrolling it again (everyone found)", again, summary)


def run(scale: float) -> None:
    on_both_databases(run_backend, scale, "enrol")
