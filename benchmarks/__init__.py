"""Benchmarks: what ``make bench`` runs (``python -m benchmarks``), never part of ``make test``.

Each module of this package is a benchmark: ``run(scale: float) -> None`` prints its timings
together with the ratio against its anchor, the same work written as the plainest thing that
could work (a bare numpy expression, a Python loop). A ratio near 1 means the formula's
generality (parameters per region and date, exact rounding, explanations) costs little.

Timings are printed, never asserted: a benchmark that fails on a slow machine teaches nothing.
``scale`` shrinks every size for a quick smoke run (``python -m benchmarks --scale 0.01``);
the figures in docs/BENCHMARKS.md are from ``scale = 1``.
"""

from __future__ import annotations

import os
import pkgutil
import platform
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np


def module_names() -> list[str]:
    """Every benchmark module of this package (each has ``run(scale)``), in name order."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


REPEAT = 3
T = TypeVar("T")


def best_of(function: Callable[[], T], repeat: int = REPEAT) -> tuple[float, T]:
    """The fastest of ``repeat`` wall-clock runs (time.perf_counter), in seconds, and the output.

    The previous run's output is let go before the next run starts, so that a benchmark over
    large arrays holds one output at a time.
    """
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    times = []
    value: T | None = None
    for _ in range(repeat):
        value = None
        start = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - start)
    return min(times), value  # type: ignore[return-value]


def best_of_clocks(function: Callable[[], T], repeat: int = REPEAT) -> tuple[float, float, T]:
    """The fastest of ``repeat`` runs by the wall clock (time.perf_counter) and, separately,
    by this process's CPU time (time.process_time: user and system, all threads), in
    seconds, and the output. On a machine others share, the CPU time leaves out the time
    the process waited for a core; the fastest runs of the two may be different runs."""
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    walls, cpus = [], []
    value: T | None = None
    for _ in range(repeat):
        value = None
        wall, cpu = time.perf_counter(), time.process_time()
        value = function()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return min(walls), min(cpus), value  # type: ignore[return-value]


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine_summary() -> str:
    cpus = len(os.sched_getaffinity(0))  # what nproc prints
    return (
        f"machine: {cpus} CPUs ({cpu_model()}); Python {sys.version.split()[0]};"
        f" numpy {np.__version__}; {platform.platform()}"
    )
