"""``python -m benchmarks [NAME ...] [--scale S]``: run the benchmark modules and print results."""

from __future__ import annotations

import argparse
import importlib
import time
from datetime import datetime

from benchmarks import machine_summary, module_names


def main() -> None:
    modules = module_names()
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "names", nargs="*", help=f"modules to run (default all: {' '.join(modules)})"
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply every size by this (smoke runs: 0.01)"
    )
    args = parser.parse_args()
    if not 0 < args.scale <= 1:
        parser.error("--scale must be in (0, 1]")
    unknown = sorted(set(args.names) - set(modules))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(modules)}")
    print(machine_summary())
    print(f"date: {datetime.now().astimezone().isoformat(timespec='seconds')}; scale {args.scale}")
    for name in args.names or modules:
        module = importlib.import_module(f"benchmarks.{name}")
        start = time.perf_counter()
        print(f"== {name}", flush=True)
        module.run(args.scale)
        print(f"== {name} done in {time.perf_counter() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main()
