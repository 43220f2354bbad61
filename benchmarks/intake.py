"""Contributions from a file into the ledger (issue 9), next to a raw COPY of the same rows.

``python -m benchmarks intake [--scale S]``. On PostgreSQL (the local server, a fresh schema
per run, ``SUIREN_BENCH_POSTGRES_URL``) and on SQLite (a temporary file):

1. a Parquet file of N contribution months (workers × 12 months of 2026; N = 1,000,000 at
   scale 1) is written (not timed); the workers are registered and enrolled as facts;
2. **anchor**: the same rows read from the file and loaded into an unindexed table the
   plainest way (PostgreSQL: COPY of the Arrow-formatted CSV; SQLite: one executemany);
3. **posting**: the file through the intake path of ``suiren contribute --file`` (column-wise
   checks, enrolments, bounds and split per distinct (month, region), the optimistic insert
   of rows, segment hashes and journal entries, balances), one unit of work per chunk;
4. **replay** of the same file (every row found and returned, nothing written);
5. **audit** of the result (``store.audit.verify``: chains, segments, projections, balances);
6. **interest** for 2025 on N individual accounts (N more workers, one 2025 month each).
7. **interest with history**: for 2025 again, on N/24 accounts of another region that were
   paid every month of 2016-2025 and credited every year, next to as many accounts paid in
   2025 only (``interest_with_history``): a run reads a year of lines and the balance, so
   the ratio of the two should stay near 1.

Wall time and CPU time are both printed (CPU: this process plus the PostgreSQL backend serving
it, read from /proc), with each ratio to the anchor, because the machine is shared.
"""

from __future__ import annotations

import base64
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine, MetaData, create_engine, event, text

from benchmarks.pension_cli import timed_run
from suiren.domain.month import Month
from suiren.ledger.accounts import Scheme
from suiren.ledger.transaction import Transaction, TxCode
from suiren.policy import load_policy
from suiren.policy.contribution import contribution_bounds, split_contribution
from suiren.rules.vector import day_number
from suiren.rules.vector_pairs import COMPILED_ROWS_MIN
from suiren.services.identity import IdentityVault, ledger_keys
from suiren.services.intake import CHUNK_ROWS as INTAKE_CHUNK_ROWS
from suiren.services.intake import (
    PAYMENT_COLUMNS,
    PAYMENT_REQUIRED,
    FileRows,
    post_payments,
    read_chunks,
)
from suiren.services.interest import _credit_region, credit_interest
from suiren.store.audit import verify
from suiren.store.bulk import insert_arrow, select_columns
from suiren.store.db import make_engine, unit_of_work
from suiren.store.ledger_repo import post_transactions
from suiren.store.migrate import upgrade
from suiren.store.projections import fact
from suiren.store.tables import contribution_months, enrolments, workers

URL = os.environ.get(
    "SUIREN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REGION = "440100"
HISTORY_REGION = "440600"  # accounts with ten years of history (interest_with_history)
ONE_YEAR_REGION = "441900"  # as many with one year, beside them
NOW = datetime(2026, 12, 20, 12, 0, tzinfo=UTC)
LATE_2025 = datetime(2025, 12, 20, 12, 0, tzinfo=UTC)
MONTHS = 12
CHUNK_ROWS = INTAKE_CHUNK_ROWS  # the CLI's default, so that its re-run meets the receipts
SECRET = b"b" * 32
ENROL_BATCH = 50_000


@dataclass
class Clock:
    """Wall and CPU seconds of a step: this process, plus the database backend's (PostgreSQL)."""

    wall: float
    cpu: float


_PIDS: dict[int, set[int]] = {}


def _record_pid(dbapi: Any, record: Any, _proxy: Any) -> None:
    for pids in _PIDS.values():
        pids.add(dbapi.info.backend_pid)


def _backend_cpu(engine: Engine) -> Callable[[], dict[int, float]]:
    """CPU seconds used so far by the PostgreSQL backends serving ``engine`` (0 on SQLite)."""
    if engine.dialect.name != "postgresql":
        return dict
    pids = _PIDS.setdefault(id(engine), set())
    if not event.contains(engine, "checkout", _record_pid):
        event.listen(engine, "checkout", _record_pid)
    ticks = os.sysconf("SC_CLK_TCK")

    def read() -> dict[int, float]:
        seconds = {}
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                seconds[pid] = (int(fields[11]) + int(fields[12])) / ticks
            except (OSError, IndexError, ValueError):
                pass
        return seconds

    return read


def watch_backends(engine: Engine) -> None:
    """Record every backend ``engine`` checks out from now on (call before its first use):
    a pooled connection first seen during a timed step would otherwise bring the CPU of all
    the work it did before."""
    _backend_cpu(engine)


def timed(engine: Engine, work: Callable[[], Any]) -> tuple[Clock, Any]:
    backend = _backend_cpu(engine)
    before_cpu, before_backend = time.process_time(), backend()
    start = time.perf_counter()
    value = work()
    wall = time.perf_counter() - start
    after = backend()  # a backend started during the step counts from its start
    used = sum(seconds - before_backend.get(pid, 0.0) for pid, seconds in after.items())
    return Clock(wall, time.process_time() - before_cpu + used), value


def write_file(path: Path, worker_ids: list[str]) -> int:
    months = np.array([Month.of(2026, m).ordinal for m in range(1, MONTHS + 1)])
    n = len(worker_ids) * MONTHS
    worker = np.repeat(np.array(worker_ids, dtype=object), MONTHS)
    month = np.tile(months, len(worker_ids))
    month_text = np.array([str(Month(int(m))) for m in months], dtype=object)[
        np.tile(np.arange(MONTHS), len(worker_ids))
    ]
    rng = np.random.default_rng(7)
    base = rng.integers(5_510, 27_549, n).astype(str)
    cents = rng.integers(0, 100, n)
    base_text = np.char.add(np.char.add(base, "."), np.char.zfill(cents.astype(str), 2))
    pq.write_table(
        pa.table(
            {
                "payment_id": pa.array(
                    np.char.add("b-", np.arange(n // MONTHS).astype(str))[
                        np.arange(n) // MONTHS
                    ].tolist()
                ),
                "month": pa.array(month_text.tolist()),
                "base_yuan": pa.array(base_text.tolist()),
                "worker_id": pa.array(worker.tolist()),
            }
        ),
        path,
        row_group_size=CHUNK_ROWS,
    )
    del month
    return n


def at_6000(path: Path, payment_ids: list[str], months: list[str], worker_ids: list[str]) -> None:
    """A payments file of these rows (payment id, month YYYY-MM, worker), each at a base of
    6,000 yuan — the interest steps' files (not timed)."""
    table = {"payment_id": payment_ids, "month": months, "base_yuan": ["6000"] * len(months)}
    pq.write_table(pa.table({**table, "worker_id": worker_ids}), path)


def enrol(
    engine: Engine,
    vault: IdentityVault,
    ids: list[str],
    region: str = REGION,
    first: Month = Month.of(2025, 1),
    at: datetime = LATE_2025,
) -> None:
    for start in range(0, len(ids), ENROL_BATCH):
        facts = []
        for w in ids[start : start + ENROL_BATCH]:
            facts.append(
                fact(
                    workers,
                    worker_id=w,
                    resident_id_cipher=b"bench",
                    blind_index=f"bench-{w}",
                    masked_id="44" + "*" * 16,
                    sex="M",
                    birth_month=Month.of(1990, 1).ordinal,
                    hukou_region="410000",
                    work_region=region,
                    created_at=at,
                )
            )
            facts.append(
                fact(
                    enrolments,
                    worker_id=w,
                    scheme="employee_pension",
                    region=region,
                    start_month=first.ordinal,
                    temporary=False,
                    relation_region=region,
                    created_at=at,
                    version=1,
                )
            )
        with unit_of_work(engine) as c:
            post_transactions(
                c,
                [
                    Transaction.build(
                        f"enrol/bench-{ids[start]}",
                        TxCode.ENROLMENT,
                        region,
                        first,
                        at,
                        [],
                        facts=facts,
                    )
                ],
            )


def raw_copy(engine: Engine, path: Path) -> Clock:
    """The anchor: the file's rows into an unindexed table, the plainest way."""
    with engine.begin() as c:
        c.exec_driver_sql(
            "CREATE TABLE raw_months (payment_id text, month text, base_yuan text, worker_id text)"
        )
    from sqlalchemy import Column, Table

    table = Table(
        "raw_months",
        MetaData(),
        *(Column(n) for n in ("payment_id", "month", "base_yuan", "worker_id")),
    )

    def load() -> None:
        with engine.begin() as c:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=CHUNK_ROWS):
                insert_arrow(c, table, pa.Table.from_batches([batch]))

    clock, _ = timed(engine, load)
    return clock


def keyed_copy(engine: Engine) -> Clock:
    """What the schema alone costs: the month rows the posting wrote, read back (not timed),
    into an empty copy of ``contribution_months`` with its unique keys and checks, through the
    same bulk insert (PostgreSQL COPY, SQLite executemany) — no check, journal or balance.
    Posting cannot be faster than this; its ratio to the anchor is the schema's cap."""
    floor_table = contribution_months.to_metadata(MetaData(), name="floor_months")
    for constraint in floor_table.constraints:
        constraint.name = None  # named by the database: the originals' names are taken
    floor_table.create(engine)
    columns = [c.name for c in contribution_months.columns]
    schema = pa.schema(
        [
            (c.name, pa.int64() if c.type.python_type is int else pa.string())
            for c in contribution_months.columns
        ]
    )
    with engine.begin() as c:
        rows = select_columns(
            c, f"SELECT {', '.join(columns)} FROM contribution_months", {}, schema
        )

    def load() -> None:
        with engine.begin() as c:
            for start in range(0, rows.num_rows, CHUNK_ROWS):
                insert_arrow(c, floor_table, rows.slice(start, CHUNK_ROWS))

    clock, _ = timed(engine, load)
    with engine.begin() as c:
        c.exec_driver_sql("DROP TABLE floor_months")
    return clock


def intake(engine: Engine, path: Path, now: datetime) -> Any:
    policy = load_policy()
    totals = [0, 0, 0]
    earlier = FileRows()
    for chunk in read_chunks(path, PAYMENT_COLUMNS, PAYMENT_REQUIRED, CHUNK_ROWS):
        with unit_of_work(engine) as c:
            summary = post_payments(c, policy, None, chunk, now, earlier)
        totals[0] += summary.posted
        totals[1] += summary.replayed
        totals[2] += summary.refused
    return totals


def cli_replay(engine: Engine, path: Path) -> tuple[float, float]:
    """The installed command on the file, in a child process (its own peak memory)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUIREN_")}
    env |= {
        "SUIREN_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "SUIREN_SECRET_KEY": base64.b64encode(SECRET).decode(),
        "SUIREN_TODAY": NOW.date().isoformat(),
    }
    if engine.dialect.name == "postgresql":
        env["PGOPTIONS"] = _SEARCH_PATHS[id(engine)]
    return timed_run(
        [sys.executable, "-m", "suiren.cli.main", "contribute", "--file", str(path)], env
    )


_SEARCH_PATHS: dict[int, str] = {}


def warm_up() -> None:
    """The policy parsed and the parameter look-up's compiled loop loaded (numba), as in a
    running service: the first call of a process pays about a second for them."""
    policy = load_policy()
    rows = COMPILED_ROWS_MIN  # the compiled loop serves batches of this many rows or more
    days = np.full(rows, day_number(Month.of(2026, 1).first_day()), dtype=np.int64)
    regions = np.full(rows, REGION)
    contribution_bounds(policy, days, regions)
    split_contribution(policy, days, regions, np.full(rows, 600_000, dtype=np.int64))


def run_backend(name: str, engine: Engine, scale: float, folder: Path) -> None:
    count = max(int(1_000_000 * scale) // MONTHS, 1)
    ids = [f"W{n:011d}" for n in range(count)]
    watch_backends(engine)
    warm_up()  # parsed and compiled once before timing, as a running service has them
    upgrade(engine)
    enrol(engine, IdentityVault.from_secret(SECRET), ids)
    path = folder / "payments.parquet"
    n = write_file(path, ids)
    anchor = raw_copy(engine, path)
    print(
        f"[{name}] anchor: {n:,} rows from the file into an unindexed table: {anchor.wall:.2f} s wall,"
        f" {anchor.cpu:.2f} s CPU ({n / anchor.wall:,.0f} rows/s)"
    )

    def line(label: str, clock: Clock, extra: str = "") -> None:
        print(
            f"[{name}] {label}: {clock.wall:.2f} s wall ({n / clock.wall:,.0f} rows/s), {clock.cpu:.2f} s CPU;"
            f" ratio to the anchor {anchor.wall / clock.wall:.2f}x wall, {anchor.cpu / clock.cpu:.2f}x CPU{extra}"
        )

    posting, totals = timed(engine, lambda: intake(engine, path, NOW))
    line("posting the file", posting, f" — posted {totals[0]:,}, refused {totals[2]:,}")
    floor = keyed_copy(engine)
    line(
        "the floor: the posted month rows alone into a copy of their table (its keys and checks)",
        floor,
        f" — posting takes {posting.wall / floor.wall:.1f}x this",
    )
    replay, totals = timed(engine, lambda: intake(engine, path, NOW))
    line("replaying the file", replay, f" — replayed {totals[1]:,}, posted {totals[0]:,}")
    seconds, peak_mib = cli_replay(engine, path)
    print(
        f"[{name}] `suiren contribute --file` of the same file (a replay) as its own process: {seconds:.2f} s,"
        f" peak memory {peak_mib:,.0f} MiB (read in chunks of the default intake_chunk_rows)"
    )

    def audit() -> Any:
        with unit_of_work(engine) as c:
            return verify(c)

    audited, result = timed(engine, audit)
    print(
        f"[{name}] audit of {result.months:,} months, {len(ids):,} workers and {result.transactions:,} entries:"
        f" {audited.wall:.2f} s wall, {audited.cpu:.2f} s CPU ({result.months / audited.wall:,.0f} months/s),"
        f" ok={result.ok}"
    )
    # interest: one individual account per worker, as many accounts as the file has months
    # (the figure of 49–64 s was for 1,000,000 accounts)
    savers = [f"S{n:011d}" for n in range(n)]
    enrol(engine, IdentityVault.from_secret(SECRET), savers)
    path_2025 = folder / "payments-2025.parquet"
    at_6000(path_2025, [f"y-{i}" for i in range(n)], ["2025-12"] * n, savers)
    intake(engine, path_2025, LATE_2025)

    def interest() -> Any:
        with unit_of_work(engine) as c:
            return credit_interest(c, load_policy(), 2025, NOW)

    credited, runs = timed(engine, interest)
    accounts = sum(r.accounts for r in runs)
    print(
        f"[{name}] interest for 2025 on {accounts:,} individual accounts: {credited.wall:.2f} s wall,"
        f" {credited.cpu:.2f} s CPU ({accounts / credited.wall:,.0f} accounts/s)"
    )
    interest_with_history(name, engine, max(count // 2, 1), folder)


def interest_with_history(name: str, engine: Engine, count: int, folder: Path) -> None:
    """The yearly run for 2025 on ``count`` accounts paid every month of 2016-2025 and
    credited every year, next to the same run on ``count`` accounts paid in 2025 only, each
    region on its own (``_credit_region``), in alternating rounds rolled back: a run reads
    the year's lines and the balance, so ten years of history should cost about what one
    does (it read every line of every account before)."""
    policy = load_policy()
    for region, first in ((HISTORY_REGION, 2016), (ONE_YEAR_REGION, 2025)):
        ids = [f"H{region}{n:08d}" for n in range(count)]
        vault = IdentityVault.from_secret(SECRET)
        enrol(
            engine, vault, ids, region, Month.of(first, 1), datetime(first - 1, 12, 1, tzinfo=UTC)
        )
        rows = count * MONTHS
        for year in range(first, 2026):
            path = folder / f"history-{region}-{year}.parquet"
            at_6000(
                path,
                [f"h{region}-{year}-{i // MONTHS}" for i in range(rows)],
                [f"{year}-{i % MONTHS + 1:02d}" for i in range(rows)],
                [ids[i // MONTHS] for i in range(rows)],
            )
            refused = intake(engine, path, datetime(year, 12, 20, 12, tzinfo=UTC))[2]
            assert refused == 0, f"{refused} months of {year} refused in {region}"
            if year < 2025:
                with unit_of_work(engine) as c:
                    credit_interest(c, policy, year, datetime(year + 1, 1, 10, tzinfo=UTC))
    if engine.dialect.name == "postgresql":  # the statistics a server would have by now
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("ANALYZE")

    def run_of(region: str) -> Callable[[], Any]:
        def run() -> Any:
            with engine.connect() as c, c.begin() as transaction:
                done = _credit_region(c, policy, Scheme.EMPLOYEE_PENSION, region, 2025, NOW)
                transaction.rollback()
                return done

        return run

    clocks: dict[str, list[Clock]] = {HISTORY_REGION: [], ONE_YEAR_REGION: []}
    for _ in range(3):
        for region in clocks:
            clock, done = timed(engine, run_of(region))
            assert done.accounts == count, (region, done)
            clocks[region].append(clock)
    ten, one = (sorted(clocks[r], key=lambda c: c.wall)[1] for r in clocks)
    print(
        f"[{name}] interest for 2025 on {count:,} accounts with ten years of history (120 months"
        f" and 9 yearly credits each; median of 3, rolled back): {ten.wall:.2f} s wall,"
        f" {ten.cpu:.2f} s CPU; on {count:,} accounts with one year: {one.wall:.2f} s wall,"
        f" {one.cpu:.2f} s CPU — ten years take {ten.wall / one.wall:.2f}x one (CPU"
        f" {ten.cpu / one.cpu:.2f}x)"
    )


def on_both_databases(
    run_backend: Callable[[str, Engine, float, Path], None], scale: float, stem: str = "bench"
) -> None:
    """``run_backend(name, engine, scale, folder)`` on a fresh PostgreSQL schema (dropped after)
    and on a temporary SQLite file."""
    keys = ledger_keys(SECRET)
    schema = f"{stem}_" + uuid.uuid4().hex[:10]
    admin = create_engine(URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(URL, keys=keys, connect_args={"options": f"-csearch_path={schema}"})
    _SEARCH_PATHS[id(engine)] = f"-csearch_path={schema}"
    try:
        with tempfile.TemporaryDirectory() as folder:
            run_backend("postgresql", engine, scale, Path(folder))
    finally:
        engine.dispose()
        with admin.connect() as c:
            c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()
    with tempfile.TemporaryDirectory() as folder:
        lite = make_engine(f"sqlite:///{Path(folder) / f'{stem}.db'}", keys=keys)
        try:
            run_backend("sqlite", lite, scale, Path(folder))
        finally:
            lite.dispose()


def run(scale: float) -> None:
    on_both_databases(run_backend, scale)
