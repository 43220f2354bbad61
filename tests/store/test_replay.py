"""Replaying 100,000 contributions through the bulk path writes nothing and changes nothing.

16,667 workers (enrolled by inserting their rows directly: enrolling one by one would
dominate the test) pay 2026-01 to 2026-06, 100,000 months in one ``post_contributions``
call. The same 100,000 rows are then posted again: every result is a replay of the first,
with the same amounts, and no table gains a row and no balance moves.
"""

from __future__ import annotations

import time
from dataclasses import fields
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, func, select

from suiren.domain.month import Month
from suiren.services.contributions import ContributionRows, MonthPaid, post_contributions
from suiren.store.audit import verify
from suiren.store.db import unit_of_work
from suiren.store.tables import (
    accounts,
    chain_heads,
    contribution_months,
    facts,
    journal,
    postings,
)
from tests.conftest import NOW
from tests.ledger_helpers import POLICY, base_bounds_fen, enrol_in_bulk

CONTRIBUTIONS = 100_000
MONTHS = [Month.of(2026, m) for m in range(1, 7)]
WORKERS = -(-CONTRIBUTIONS // len(MONTHS))  # 16,667: the last worker pays 4 months
REGION = "440100"
BASE_LOW_FEN, BASE_HIGH_FEN = base_bounds_fen(REGION, MONTHS[0], MONTHS[-1])
TABLES = (journal, postings, accounts, contribution_months, facts)
SAME = [f.name for f in fields(MonthPaid) if f.name != "replayed"]  # as the first posting said


def enrol(engine: Engine, count: int) -> list[str]:
    ids = [f"WB{n:010d}" for n in range(count)]
    enrol_in_bulk(engine, ids, REGION, MONTHS[0])
    return ids


def contribution_rows(worker_ids: list[str]) -> ContributionRows:
    pairs = [(w, m) for w in worker_ids for m in MONTHS][:CONTRIBUTIONS]
    rng = np.random.default_rng(20260615)
    return ContributionRows(
        tx_ids=[f"bulk-1/{w}/{m}" for w, m in pairs],
        worker_ids=[w for w, _ in pairs],
        months=np.array([m.ordinal for _, m in pairs], dtype=np.int64),
        base_fen=rng.integers(BASE_LOW_FEN, BASE_HIGH_FEN, len(pairs), endpoint=True),
    )


def snapshot(engine: Engine) -> dict[str, Any]:
    with unit_of_work(engine) as c:
        return {
            "counts": {
                t.name: c.execute(select(func.count()).select_from(t)).scalar_one() for t in TABLES
            },
            "balances": dict(c.execute(select(accounts.c.account, accounts.c.balance_fen)).all()),
            "chain_heads": sorted(c.execute(select(chain_heads)).all()),
        }


@pytest.mark.slow  # a soak: 100,000 contributions posted, replayed and audited per backend
def test_replaying_100000_contributions_changes_nothing(engine: Engine) -> None:
    rows = contribution_rows(enrol(engine, WORKERS))
    started = time.perf_counter()
    with unit_of_work(engine) as c:
        first = post_contributions(c, POLICY, rows, NOW)
    posted_s = time.perf_counter() - started
    assert len(first) == CONTRIBUTIONS and not any(p.replayed for p in first)
    before = snapshot(engine)
    assert before["counts"] == {
        "journal": 3,  # the enrolments, one batch of months and its receipt
        "postings": 0,  # a month's postings are derived from its row
        "accounts": 2 * WORKERS + 1,  # individual account and pooled entitlement, collection
        "contribution_months": CONTRIBUTIONS,
        "facts": 2 * WORKERS + 1,  # each worker and their enrolment, the batch's receipt
    }
    assert sum(before["balances"].values()) == 0

    started = time.perf_counter()
    with unit_of_work(engine) as c:
        again = post_contributions(c, POLICY, rows, NOW)
    replayed_s = time.perf_counter() - started

    assert all(p.replayed for p in again)
    for name in SAME:  # the first results, again (field by field: 100,000 copies cost 0.4 s)
        assert [getattr(p, name) for p in again] == [getattr(p, name) for p in first], name
    assert snapshot(engine) == before
    with unit_of_work(engine) as c:
        result = verify(c)
    assert result.ok and result.months == CONTRIBUTIONS, result
    print(f"\n{engine.dialect.name}: posted in {posted_s:.1f} s, replayed in {replayed_s:.1f} s")
