"""The yearly interest run in batches of workers (issue 9 §2: the run on a million accounts).

A region's accounts are credited in batches of at most ``BATCH_ACCOUNTS_MAX`` by worker id,
each batch reading only its own workers' postings and months. Worker ids are chosen so that
their order differs from their account keys' order (``WI1`` < ``WI10`` as ids, but
``worker:WI10:…`` < ``worker:WI1:…`` as keys): a batching by one while reading by the other
would miss or double accounts. Small batches must credit exactly what one batch credits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, select

from suiren.domain.month import Month
from suiren.services import interest
from suiren.services.contributions import ContributionRows, post_batch
from suiren.services.interest import credit_interest
from suiren.store.audit import verify
from suiren.store.db import unit_of_work
from suiren.store.tables import postings
from tests.ledger_helpers import POLICY, enrol_in_bulk

WORKERS = ["WI1", "WI10", "WI100", "WI2", "WI20", "WI3", "WI30", "WI31", "WI4", "WI9"]
PAID = datetime(2025, 12, 20, 12, tzinfo=UTC)
LATER = datetime(2026, 6, 15, 12, tzinfo=UTC)


def credited(engine: Engine, batch_max: int, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    enrol_in_bulk(
        engine, WORKERS, "440100", Month.of(2024, 1), now=datetime(2024, 1, 5, tzinfo=UTC)
    )
    for month, paid_at, payers in (  # a month before the year (all), one in it (every other)
        (Month.of(2024, 11), datetime(2024, 12, 20, 12, tzinfo=UTC), WORKERS),
        (Month.of(2025, 3), PAID, WORKERS[::2]),
    ):
        with unit_of_work(engine) as c:
            outcome = post_batch(
                c,
                POLICY,
                ContributionRows(
                    [f"i-{w}/{month}" for w in payers],
                    payers,
                    np.full(len(payers), month.ordinal, dtype=np.int64),
                    np.array([600_000 + 1_000 * k for k in range(len(payers))], dtype=np.int64),
                ),
                paid_at,
            )
        assert not outcome.refusals, outcome.refusals
    monkeypatch.setattr(interest, "BATCH_ACCOUNTS_MAX", batch_max)
    with unit_of_work(engine) as c:
        [run] = credit_interest(c, POLICY, 2025, LATER)
        assert run.batches == -(-len(WORKERS) // batch_max) and run.accounts == len(WORKERS)
        rows: Any = c.execute(
            select(postings.c.account, postings.c.amount_fen).where(
                postings.c.code == "interest", postings.c.account.like("worker:%")
            )
        ).all()
        assert verify(c).ok
    return dict(rows)


@pytest.mark.parametrize("batch_max", [1, 3, 4])
def test_small_batches_credit_every_account_once_as_one_batch_does(
    engine_factory: Any, batch_max: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = credited(engine_factory(), 50_000, monkeypatch)
    assert len(whole) == len(WORKERS) and all(v > 0 for v in whole.values())
    assert credited(engine_factory(), batch_max, monkeypatch) == whole
