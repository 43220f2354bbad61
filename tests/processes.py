"""Fresh processes for the concurrency tests, each with its own engine and connections.

``multiprocessing``'s forkserver: a server process, started once per test session, imports
the modules whose functions the writers run and then forks one process per start. Like a
spawned process, a forked one shares no connection or pool with the test process (the
server never opens one); unlike it, it does not pay for a new interpreter and its imports
(about 2 s of CPU each, measured: 26 writer processes in the suite).
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.context import ForkServerContext

PRELOAD = ["tests.store.test_concurrency", "tests.services.test_transfer_concurrency"]


def process_context() -> ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)  # takes effect when the server starts (first use)
    return context
