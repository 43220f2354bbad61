"""Portal tests: in-process (TestClient, both databases) and in Chromium (Playwright)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Engine

from suiren.domain.month import Month
from suiren.services.contributions import contribute
from suiren.services.logins import session_generation
from suiren.services.workers import enrol
from suiren.store.db import unit_of_work
from tests.conftest import NOW
from tests.ledger_helpers import POLICY, VAULT, resident_id

TODAY = "2026-06-15"
CSRF_RE = re.compile(r'name="csrf" value="((?:[0-9a-f]{32}\.)?[0-9a-f]{64})"')
CODE_RE = re.compile(r'id="demo-code">([0-9]{6})<')


def two_workers(engine: Engine) -> dict[str, Any]:
    """Two workers of Guangzhou: "mine" paid five months at 6,000 yuan, "theirs" three at
    7,000 (so that each one's balances, month by month too, are their own figures)."""
    with unit_of_work(engine) as c:
        mine = enrol(c, POLICY, VAULT, resident_id(1), "440100", None, NOW).worker
        theirs = enrol(c, POLICY, VAULT, resident_id(2), "440100", None, NOW).worker
        contribute(c, POLICY, "mine", mine.worker_id, Month.of(2026, 1), Month.of(2026, 5),
                   600_000, NOW)  # fmt: skip
        contribute(c, POLICY, "theirs", theirs.worker_id, Month.of(2026, 1), Month.of(2026, 3),
                   700_000, NOW)  # fmt: skip
        for worker in (mine, theirs):  # each has logged in once: their sessions' row, at 0
            session_generation(c, worker.worker_id, NOW)
    return {
        "mine": mine.worker_id,
        "theirs": theirs.worker_id,
        "my_id": resident_id(1),
        "their_id": resident_id(2),
    }


def csrf_of(html: str) -> str:
    found = CSRF_RE.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)
