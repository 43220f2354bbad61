"""The tests' ledger invariants (tests/ledger_helpers.py ``assert_ledger_sound``) fail on a
ledger that breaks them: a check that cannot fail would let every state machine, soak and
simulation pass whatever the ledger holds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from suiren.domain.month import Month
from suiren.services.contributions import contribute
from suiren.services.workers import enrol
from suiren.store.db import unit_of_work
from suiren.store.tables import accounts, contribution_months
from tests.ledger_helpers import POLICY, VAULT, assert_ledger_sound, resident_id

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def paid(engine: Engine) -> str:
    """A worker of Guangzhou with 2026-01 and 2026-02 paid; the ledger sound."""
    with unit_of_work(engine) as c:
        w = enrol(
            c, POLICY, VAULT, resident_id(1, "19900101", True), "440100", "440100", NOW
        ).worker.worker_id
        contribute(c, POLICY, "pay-1", w, Month.of(2026, 1), Month.of(2026, 2), 600_000, NOW)
    with unit_of_work(engine) as c:
        assert_ledger_sound(c)
    return w


def test_a_month_standing_twice_is_found(engine: Engine) -> None:
    paid(engine)
    with unit_of_work(engine) as c:
        first = c.execute(select(contribution_months).limit(1)).mappings().one()
        # the same worker-month again as a later attempt, no earlier one reversed
        c.execute(
            insert(contribution_months).values(
                {**first, "tx_id": first["tx_id"] + "-again", "attempt": 1}
            )
        )
    with unit_of_work(engine) as c, pytest.raises(AssertionError, match="more than once"):
        assert_ledger_sound(c)


@pytest.mark.parametrize("audit", [True, False])
def test_money_moved_between_a_worker_and_a_fund_is_found(engine: Engine, audit: bool) -> None:
    w = paid(engine)
    with unit_of_work(engine) as c:
        own = c.execute(
            select(accounts.c.account).where(
                accounts.c.owner_id == w, accounts.c.kind == "individual_account"
            )
        ).scalar_one()
        fund = c.execute(
            select(accounts.c.account).where(accounts.c.owner_type != "worker").limit(1)
        ).scalar_one()
        # the balances still total zero: only who holds the fen changed
        c.execute(
            update(accounts)
            .where(accounts.c.account == own)
            .values(balance_fen=accounts.c.balance_fen + 1)
        )
        c.execute(
            update(accounts)
            .where(accounts.c.account == fund)
            .values(balance_fen=accounts.c.balance_fen - 1)
        )
    expected = "workers' money" if audit else "balances"
    with unit_of_work(engine) as c, pytest.raises(AssertionError, match=expected):
        assert_ledger_sound(c, audit=audit)
