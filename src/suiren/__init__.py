"""Suiren (随人): portable social insurance for flexible and platform workers.

Money follows the person (钱随人走): contributions, contribution years and pooled-fund
entitlements are recorded against the person, not the place where they were paid.
"""

import os
import sys

__version__ = "0.1.0"


def _choose_arrow_allocator() -> None:
    """Arrow's allocator: its wheels' default, mimalloc, spent seconds in page faults on a
    kernel with transparent huge pages "always" (each fault zeroing 2 MB): a yearly interest
    run on a million accounts 21.5 s with it, 14.8 s with jemalloc, 15.4 s with the C
    library's (docs/BENCHMARKS.md, 2026-12-04, 22:15 UTC). jemalloc is in Arrow's wheels for
    Linux; elsewhere the C library's. A choice already made in the environment is kept.
    Arrow reads the variable once, at its first allocation: where pyarrow was imported before
    us, the pool is set on it directly (pyarrow is not imported here: start-up stays fast)."""
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    name = "jemalloc" if sys.platform.startswith("linux") else "system"
    os.environ["ARROW_DEFAULT_MEMORY_POOL"] = name
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        try:
            pool = arrow.jemalloc_memory_pool() if name == "jemalloc" else None
        except NotImplementedError:  # a build without jemalloc
            pool = None
        arrow.set_memory_pool(pool or arrow.system_memory_pool())


_choose_arrow_allocator()
