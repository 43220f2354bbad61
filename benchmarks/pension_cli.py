"""Throughput of ``suiren pension calc FILE > /dev/null`` on a million cases, and of the
table path ``suiren pension calc cases.parquet --out results.parquet`` against its anchor, a
bare Python process that reads the same Parquet file and writes a results-shaped one.

The whole command as a user runs it, in a subprocess: start-up, reading and parsing the JSON
(numbers as ``Decimal``), checking every field, the formula, and writing the JSON result.
The cases follow the same mix as ``benchmarks.pension`` (90% 500000, 5% 440100, 5% 310000),
written as JSON numbers with their decimals (contribution years to two decimals, spread
evenly over 15 to 45), with a divisor of 139 months.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.pension import synthetic_cases
from suiren.services.pension_table import decimal_column

CASES = 1_000_000
RULES_DATE = "2025-08-01"
REPEAT = 3
TIMEOUT_S = 1800


def write_cases(path: Path, count: int) -> int:
    """Write ``count`` cases as one JSON array; return the file's size in bytes."""
    cases = synthetic_cases(count)
    columns = zip(
        cases.region.tolist(),
        cases.base_fen.tolist(),
        cases.index_1e6.tolist(),
        cases.account_fen.tolist(),
        strict=True,
    )
    with path.open("w", encoding="utf-8") as handle:
        handle.write("[\n")
        for i, (region, base, index, account) in enumerate(columns):
            years_100 = 1500 + (i * 7919) % 3001  # 15.00 to 45.00 years, spread evenly
            handle.write(
                f'{{"id": {i}, "region": "{region}", "base_yuan": {base // 100}.{base % 100:02d},'
                f' "average_index": {index // 10**6}.{index % 10**6:06d},'
                f' "contribution_years": {years_100 // 100}.{years_100 % 100:02d},'
                f' "account_yuan": {account // 100}.{account % 100:02d}, "divisor_months": 139}}'
                + (",\n" if i < count - 1 else "\n")
            )
        handle.write("]\n")
    return path.stat().st_size


def command(path: Path) -> list[str]:
    script = Path(sys.executable).with_name("suiren")
    entry = [str(script)] if script.is_file() else [sys.executable, "-m", "suiren.cli.main"]
    return [*entry, "pension", "calc", str(path), "--date", RULES_DATE]


# Runs the command and reports its wall-clock time and peak memory. The peak is read in this
# small wrapper, not in the benchmark process: Linux counts a child's memory from before its
# exec, and a child spawned by the benchmark would inherit the benchmark's own high-water mark.
TIMED_RUN = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
print(json.dumps({
    "seconds": time.perf_counter() - start,
    "peak_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    "status": done.returncode,
    "stderr": done.stderr[-2000:],
}))
"""


def timed_run(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Seconds and peak MiB of one run of ``argv`` with stdout to /dev/null."""
    wrapper = [sys.executable, "-c", TIMED_RUN, *argv]
    done = subprocess.run(
        wrapper, capture_output=True, text=True, timeout=TIMEOUT_S, check=True, env=env
    )
    report = json.loads(done.stdout)
    if report["status"] != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {report['stderr'].strip()}")
    return report["seconds"], report["peak_kib"] / 1024


def write_table(path: Path, count: int) -> None:
    """The same cases as ``write_cases``, as a Parquet table with decimal columns."""
    cases = synthetic_cases(count)
    years_100 = 1500 + (np.arange(count, dtype=np.int64) * 7919) % 3001
    pq.write_table(
        pa.table(
            {
                "id": pa.array(np.arange(count, dtype=np.int64)),
                "region": pa.array(cases.region.astype(str)),
                "base_yuan": decimal_column(cases.base_fen, 2),
                "average_index": decimal_column(cases.index_1e6, 6),
                "contribution_years": decimal_column(years_100, 2),
                "account_yuan": decimal_column(cases.account_fen, 2),
                "divisor_months": pa.array(np.full(count, 139, dtype=np.int64)),
            }
        ),
        path,
    )


ANCHOR = """
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
table = pq.read_table(sys.argv[1])
n = table.num_rows
zeros = np.zeros(n, dtype=np.int64)
pq.write_table(pa.table({"id": table.column("id"), "basic_pension_fen": zeros,
    "account_pension_fen": zeros, "transitional_pension_fen": zeros, "total_fen": zeros}), sys.argv[2])
"""


def run_table(count: int) -> None:
    label = f"pension CLI table {count:,} cases"
    with tempfile.TemporaryDirectory(prefix="suiren-bench-") as folder:
        cases, results = Path(folder) / "cases.parquet", Path(folder) / "results.parquet"
        write_table(cases, count)
        argv = [*command(cases)[:-2], "--out", str(results), "--date", RULES_DATE]
        anchor = [sys.executable, "-c", ANCHOR, str(cases), str(results)]
        help_argv = [*command(cases)[:-4], "--help"]
        timings = {
            "suiren": [timed_run(argv) for _ in range(REPEAT)],
            "anchor": [timed_run(anchor) for _ in range(REPEAT)],
            "start-up": [timed_run(help_argv) for _ in range(REPEAT)],
        }
    best = {k: min(s for s, _ in v) for k, v in timings.items()}
    peak = max(m for _, m in timings["suiren"])
    print(
        f"{label}: `suiren pension calc cases.parquet --out results.parquet` {best['suiren']:.2f} s"
        f" (best of {REPEAT}, start-up included; peak {peak:,.0f} MiB) = "
        f"{count / best['suiren']:,.0f} cases/s; anchor (a bare Python process reading the"
        f" cases and writing a results table) {best['anchor']:.2f} s, ratio"
        f" {best['anchor'] / best['suiren']:.2f}×; `suiren --help` start-up {best['start-up']:.2f} s"
    )


def run(scale: float = 1.0) -> None:
    run_table(max(1_000, int(CASES * scale)))
    count = max(1_000, int(CASES * scale))
    label = f"pension CLI {count:,} cases"
    with tempfile.TemporaryDirectory(prefix="suiren-bench-") as folder:
        path = Path(folder) / "cases.json"
        start = time.perf_counter()
        size_mib = write_cases(path, count) / 2**20
        written_s = time.perf_counter() - start
        print(f"{label}: wrote {size_mib:,.1f} MiB of JSON in {written_s:.1f} s", flush=True)
        argv = command(path)
        runs = [timed_run(argv) for _ in range(REPEAT)]
    seconds = min(s for s, _ in runs)
    peak_mib = max(m for _, m in runs)
    shown = " ".join(["suiren", *argv[-5:-3], "FILE", *argv[-2:]])
    print(
        f"{label}: `{shown} > /dev/null` {seconds:.1f} s (best of {REPEAT}, wall clock,"
        f" start-up included) = {count / seconds:,.0f} cases/s;"
        f" peak memory of the command {peak_mib:,.0f} MiB"
    )
