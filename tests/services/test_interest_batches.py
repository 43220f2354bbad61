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
import pyarrow as pa
import pytest
from sqlalchemy import Engine, select

from suiren.domain.month import Month
from suiren.ledger.accounts import AccountKey, AccountKind, OwnerType, Scheme, individual_account
from suiren.services import interest
from suiren.services.contributions import ContributionRows, post_batch
from suiren.services.interest import credit_interest
from suiren.store.audit import verify
from suiren.store.db import unit_of_work
from suiren.store.ledger_repo import add_to_balances
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


@pytest.mark.parametrize(
    ("count", "size"), [(1, 1), (1, 3), (3, 3), (6, 3), (7, 3), (8, 3), (10, 4), (10, 1), (2, 50)]
)
def test_batch_bounds_cover_the_region_in_order(
    engine: Engine, count: int, size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``_batch_bounds``: the owners at each batch's first and last place in the owner order,
    the last batch ending at the region's last owner whether it is full or not — computed as
    the plain list would be cut. Another region's and another kind's accounts are not
    counted. Owner ids sort otherwise than their numbers (``WB10`` before ``WB2``)."""
    owners = [f"WB{k}" for k in range(1, count + 1)]
    other = [individual_account("WB0", Scheme.EMPLOYEE_PENSION, "440300")]  # another region
    other.append(
        AccountKey(
            OwnerType.WORKER,
            "WBZ",
            Scheme.EMPLOYEE_PENSION,
            AccountKind.POOLED_ENTITLEMENT,
            "440100",
        )
    )
    keys = [individual_account(o, Scheme.EMPLOYEE_PENSION, "440100") for o in owners] + other
    with unit_of_work(engine) as c:
        add_to_balances(
            c, pa.table({"account": [str(k) for k in keys], "balance_fen": [1] * len(keys)})
        )
    monkeypatch.setattr(interest, "BATCH_ACCOUNTS_MAX", size)
    ordered = sorted(owners)
    expected = [(ordered[i], ordered[min(i + size, count) - 1]) for i in range(0, count, size)]
    with unit_of_work(engine) as c:
        got = interest._batch_bounds(c, Scheme.EMPLOYEE_PENSION, "440100")
    assert got == expected


def test_the_regions_of_a_run_are_those_with_individual_accounts(engine: Engine) -> None:
    """``account_regions`` (a loose index scan) names, in order, every region with an
    individual account in the scheme, each once — as ``DISTINCT`` over every account would —
    and not a region whose accounts are of another kind or scheme."""
    pension, medical = Scheme.EMPLOYEE_PENSION, Scheme.EMPLOYEE_MEDICAL
    keys = [
        individual_account(f"WR{k}", pension, r) for k, r in enumerate(["440100", "110000"] * 3)
    ]
    keys += [individual_account("WR9", pension, "650000")]
    keys += [AccountKey(OwnerType.WORKER, "WR8", pension, AccountKind.POOLED_ENTITLEMENT, "320000")]
    keys += [individual_account("WR7", medical, "330000")]
    with unit_of_work(engine) as c:
        assert interest.account_regions(c, pension) == []
        add_to_balances(
            c, pa.table({"account": [str(k) for k in keys], "balance_fen": [1] * len(keys)})
        )
        assert interest.account_regions(c, pension) == ["110000", "440100", "650000"]
        assert interest.account_regions(c, medical) == ["330000"]
