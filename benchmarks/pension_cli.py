"""Throughput of ``suiren pension calc FILE > /dev/null`` on a million cases.

The whole command as a user runs it, in a subprocess: start-up, reading and parsing the JSON
(numbers as ``Decimal``), checking every field, the formula, and writing the JSON result.
The cases follow the same mix as ``benchmarks.pension`` (90% 410100, 5% 440100, 5% 310000),
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

from benchmarks.pension import synthetic_cases

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


def run(scale: float = 1.0) -> None:
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
