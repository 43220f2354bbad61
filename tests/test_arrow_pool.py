"""Arrow's allocator is chosen when ``suiren`` is imported (``suiren/__init__.py``): not the
wheels' mimalloc, whose page faults cost seconds a million rows on a kernel with transparent
huge pages "always"; a choice already made in the environment is kept."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SHOW = "import suiren, pyarrow; print(pyarrow.default_memory_pool().backend_name)"
ARROW_FIRST = "import pyarrow, suiren; print(pyarrow.default_memory_pool().backend_name)"


def _pool(show: str = SHOW, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    done = subprocess.run(
        [sys.executable, "-c", show], env={**clean, **env}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="jemalloc: Linux wheels")
def test_suiren_chooses_jemalloc() -> None:
    assert _pool() == "jemalloc"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="jemalloc: Linux wheels")
def test_suiren_chooses_jemalloc_when_pyarrow_came_first() -> None:
    """A benchmark or a notebook that imported pyarrow before suiren: Arrow has read its
    variable already, so the pool is set on it."""
    assert _pool(ARROW_FIRST) == "jemalloc"


def test_a_pool_chosen_in_the_environment_is_kept() -> None:
    assert _pool(ARROW_DEFAULT_MEMORY_POOL="system") == "system"
    assert _pool(ARROW_FIRST, ARROW_DEFAULT_MEMORY_POOL="system") == "system"
