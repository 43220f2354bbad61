"""A file of 10,000,000 contribution months through ``suiren contribute --file``, the command in
its own process on a fresh database (a PostgreSQL schema, then a SQLite file): its wall time and
peak memory (issue 9 §3: "a 10M-row file is streamed in bounded memory (under 2 GB)"), next to
the same command on a file a tenth the size — memory that grew with the file would show as a
ratio near 10.

``python -m benchmarks intake_memory [--scale S]``: S × 10,000,000 rows (workers × the 12
months of 2026, as ``benchmarks.intake``; the workers enrolled as facts first, not timed).
The peak is read by ``benchmarks.pension_cli.timed_run``'s wrapper process.
"""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import Engine, func, select

from benchmarks.intake import MONTHS, SECRET, cli_replay, enrol, on_both_databases, write_file
from suiren.services.identity import IdentityVault
from suiren.store.migrate import upgrade
from suiren.store.tables import contribution_months

ROWS = 10_000_000


def post_file(engine: Engine, rows: int, folder: Path) -> tuple[int, float, float]:
    """(rows, seconds, peak MiB) of ``suiren contribute --file`` posting ``rows`` months."""
    upgrade(engine)
    ids = [f"W{n:011d}" for n in range(max(rows // MONTHS, 1))]
    start = time.perf_counter()
    enrol(engine, IdentityVault.from_secret(SECRET), ids)
    path = folder / "payments.parquet"
    written = write_file(path, ids)
    print(
        f"  set-up: {len(ids):,} workers enrolled and {written:,} rows written in"
        f" {time.perf_counter() - start:.0f} s",
        flush=True,
    )
    seconds, peak = cli_replay(engine, path)  # the first run of the file: it posts
    with engine.connect() as c:
        posted = c.execute(select(func.count()).select_from(contribution_months))
        if posted.scalar_one() != written:
            raise RuntimeError("the command did not post every row of the file")
    return written, seconds, peak


def run(scale: float = 1.0) -> None:
    rows = max(int(ROWS * scale), 10 * MONTHS)
    results: dict[str, list[tuple[int, float, float]]] = {}

    def one(name: str, engine: Engine, size: float, folder: Path) -> None:
        written, seconds, peak = post_file(engine, int(size), folder)
        results.setdefault(name, []).append((written, seconds, peak))
        print(
            f"intake memory, {name}: `suiren contribute --file` posting {written:,} months"
            f" {seconds:.1f} s ({written / seconds:,.0f} months/s, start-up included),"
            f" peak memory of the command {peak:,.0f} MiB",
            flush=True,
        )

    for size in (rows // 10, rows):  # each on fresh databases
        on_both_databases(one, size, stem="bench_memory")
    for name, ((small, _, small_peak), (large, _, large_peak)) in results.items():
        print(
            f"intake memory, {name}: {large / small:.0f}× the rows, {large_peak / small_peak:.2f}×"
            " the peak memory"
        )
