"""The ledger on SQLite and PostgreSQL: posting, idempotency, refusals, reversals, audit."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from suiren.domain.errors import InvalidInput, InvalidResidentId, UnknownRegion
from suiren.domain.month import Month
from suiren.services.contributions import ContributionRefused, contribute
from suiren.services.interest import credit_interest
from suiren.services.reversals import ReversalRefused, reverse
from suiren.services.statement import statement
from suiren.services.workers import UnknownWorker, enrol
from suiren.store.audit import verify
from suiren.store.db import unit_of_work
from suiren.store.ledger_repo import TransactionConflict
from suiren.store.tables import accounts, contribution_months, facts, journal, postings
from tests.conftest import NOW
from tests.ledger_helpers import POLICY, VAULT, base_bounds_shown, enrol_workers, resident_id

JAN = Month.of(2026, 1)


def counts(engine):
    with unit_of_work(engine) as c:
        return tuple(
            c.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (journal, postings, accounts, contribution_months, facts)
        )


def pay(engine, worker, first, last, base_fen, request_id):
    with unit_of_work(engine) as c:
        return contribute(
            c, POLICY, request_id, worker, Month.parse(first), Month.parse(last), base_fen, NOW
        )


def test_contribution_posts_balanced_split_and_balances(engine):
    [worker] = enrol_workers(engine, 1)
    paid = pay(engine, worker, "2026-01", "2026-03", 600_000, "pay-1")
    assert [p.due_fen for p in paid] == [120_000] * 3
    assert [p.individual_account_fen for p in paid] == [48_000] * 3
    assert [p.pooled_fen for p in paid] == [72_000] * 3
    with unit_of_work(engine) as c:
        s = statement(c, worker)
        assert s["contribution_months_total"] == 3
        assert s["contribution_months_by_region"] == {"440100": 3}
        kinds = {b["kind"]: b["balance_fen"] for b in s["balances"]}
        assert kinds == {"individual_account": 144_000, "pooled_entitlement": 216_000}
        assert s["worker"]["resident_id"] == "44" + "*" * 16
        total = c.execute(select(func.sum(accounts.c.balance_fen))).scalar_one()
        assert total == 0
        assert verify(c).ok


def test_replay_returns_first_result_and_writes_nothing(engine):
    [worker] = enrol_workers(engine, 1)
    first = pay(engine, worker, "2026-01", "2026-02", 600_000, "pay-1")
    before = counts(engine)
    again = pay(engine, worker, "2026-01", "2026-02", 600_000, "pay-1")
    assert counts(engine) == before
    assert all(p.replayed for p in again)
    assert [p.tx_id for p in again] == [p.tx_id for p in first]


def test_same_id_with_other_content_is_a_conflict(engine):
    [worker] = enrol_workers(engine, 1)
    pay(engine, worker, "2026-01", "2026-01", 600_000, "pay-1")
    before = counts(engine)
    with pytest.raises(TransactionConflict):
        pay(engine, worker, "2026-01", "2026-01", 700_000, "pay-1")
    assert counts(engine) == before


def test_a_month_cannot_be_paid_twice_until_reversed(engine):
    [worker] = enrol_workers(engine, 1)
    pay(engine, worker, "2026-01", "2026-01", 600_000, "pay-1")
    with pytest.raises(ContributionRefused, match="already paid"):
        pay(engine, worker, "2026-01", "2026-01", 600_000, "pay-2")
    with unit_of_work(engine) as c:
        reverse(c, "pay-1/2026-01", "rev-1", NOW)
    with unit_of_work(engine) as c, pytest.raises(ReversalRefused, match="already been reversed"):
        reverse(c, "pay-1/2026-01", "rev-2", NOW)
    pay(engine, worker, "2026-01", "2026-01", 700_000, "pay-2")
    with unit_of_work(engine) as c:
        s = statement(c, worker)
        assert [m["status"] for m in s["months"]] == ["paid", "reversed"] or [
            m["status"] for m in s["months"]
        ] == ["reversed", "paid"]
        assert s["contribution_months_total"] == 1
        kinds = {b["kind"]: b["balance_fen"] for b in s["balances"]}
        assert kinds["individual_account"] == 56_000
        assert verify(c).ok


@pytest.mark.parametrize(
    ("first", "last", "base_fen", "error", "message"),
    [
        ("2026-01", "2026-01", 100_000, ContributionRefused, base_bounds_shown("440100", JAN)),
        ("2026-01", "2026-01", 3_000_000, ContributionRefused, "outside the allowed range"),
        ("2026-07", "2026-07", 600_000, ContributionRefused, "in the future"),
        ("2025-12", "2025-12", 600_000, ContributionRefused, "back-payment"),
        ("2026-03", "2026-01", 600_000, InvalidInput, "before it starts"),
        ("2025-01", "2026-06", 600_000, InvalidInput, "at most 12 months"),
    ],
)
def test_bad_contributions_are_refused_and_write_nothing(
    engine, first, last, base_fen, error, message
):
    [worker] = enrol_workers(engine, 1)
    before = counts(engine)
    with pytest.raises(error, match=message):
        pay(engine, worker, first, last, base_fen, "bad-1")
    assert counts(engine) == before


def test_range_with_one_bad_month_writes_nothing(engine):
    [worker] = enrol_workers(engine, 1)
    before = counts(engine)
    with pytest.raises(ContributionRefused, match="in the future"):
        pay(engine, worker, "2026-05", "2026-08", 600_000, "bad-2")
    assert counts(engine) == before


def test_unknown_worker_region_and_bad_id(engine):
    with pytest.raises(UnknownWorker):
        pay(engine, "WNOSUCH", "2026-01", "2026-01", 600_000, "x")
    with unit_of_work(engine) as c, pytest.raises(UnknownRegion):
        enrol(c, POLICY, VAULT, resident_id(1), "440199", None, NOW)
    with unit_of_work(engine) as c, pytest.raises(InvalidResidentId):
        enrol(
            c,
            POLICY,
            VAULT,
            resident_id(1)[:-1] + "0"
            if not resident_id(1).endswith("0")
            else resident_id(1)[:-1] + "1",
            "440100",
            None,
            NOW,
        )
    assert counts(engine) == (0, 0, 0, 0, 0)


def test_enrolling_twice_returns_the_same_worker_and_ids_are_encrypted(engine):
    with unit_of_work(engine) as c:
        a = enrol(c, POLICY, VAULT, resident_id(7), "440100", None, NOW)
    with unit_of_work(engine) as c:
        b = enrol(c, POLICY, VAULT, resident_id(7), "440100", None, NOW)
        raw = c.execute(
            text("SELECT resident_id_cipher, blind_index, masked_id FROM workers")
        ).one()
    assert a.worker.worker_id == b.worker.worker_id and a.created and not b.created
    assert resident_id(7).encode() not in bytes(raw[0])
    assert resident_id(7) not in raw[1] and raw[2] == "44" + "*" * 16
    assert VAULT.decrypt(bytes(raw[0]), a.worker.worker_id) == resident_id(7)


def test_hashed_tables_refuse_update_and_delete(engine):
    [worker] = enrol_workers(engine, 1)
    pay(engine, worker, "2026-01", "2026-02", 600_000, "pay-1")
    with unit_of_work(engine) as c:
        reverse(c, "pay-1/2026-02", "rev-1", NOW)  # a transaction with postings
    tables = ("journal", "postings", "facts", "contribution_months", "month_segments", "workers")
    with unit_of_work(engine) as c:
        assert all(c.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in tables)
    for table in tables:
        column = {
            "journal": "memo",
            "postings": "amount_fen",
            "facts": "data",
            "contribution_months": "base_fen",
            "month_segments": "hash",
            "workers": "sex",
        }[table]
        for statement_sql in (f"UPDATE {table} SET {column} = {column}", f"DELETE FROM {table}"):
            with pytest.raises(DBAPIError), unit_of_work(engine) as c:
                c.execute(text(statement_sql))
    with unit_of_work(engine) as c:
        assert verify(c).ok


def test_interest_is_exact_and_idempotent_per_year(engine):
    workers = enrol_workers(engine, 2)
    # 2025: back-payment is refused in 2026, so post 2025 months as of 2025-12
    from datetime import UTC, datetime

    late_2025 = datetime(2025, 12, 20, tzinfo=UTC)
    with unit_of_work(engine) as c:
        contribute(
            c,
            POLICY,
            "p25",
            workers[0],
            Month.parse("2025-07"),
            Month.parse("2025-12"),
            600_000,
            late_2025,
        )
    pay(engine, workers[1], "2026-01", "2026-01", 600_000, "p26")
    with unit_of_work(engine) as c:
        runs = credit_interest(c, POLICY, 2025, NOW)
    # 6 months × 480.00 credited in 2025: interest = 288000 × 1.5% × 0.5415 = 2339.28 fen -> 2339
    [run] = runs
    assert (run.accounts, run.total_fen, run.skipped) == (1, 2339, False)
    with unit_of_work(engine) as c:
        again = credit_interest(c, POLICY, 2025, NOW)
        assert again[0].skipped
        s = statement(c, workers[0])
        kinds = {b["kind"]: b["balance_fen"] for b in s["balances"]}
        assert kinds["individual_account"] == 288_000 + 2339
        assert verify(c).ok
        with pytest.raises(InvalidInput):
            credit_interest(c, POLICY, 2026, NOW)


def test_bulk_copy_keeps_free_text_and_nulls_exact(engine):
    """Enough rows to take PostgreSQL's COPY path: tabs, newlines, backslashes and NULLs survive."""
    from suiren.ledger.accounts import Scheme, collection, pooled_fund
    from suiren.ledger.transaction import Posting, Transaction, TxCode
    from suiren.store.ledger_repo import post_transactions

    memo = "back\\slash \\t \\N 中文 'quoted' \"double\""
    txs = [
        Transaction.build(
            f"copy-{i}",
            TxCode.BENEFIT,
            "440100",
            Month.parse("2026-01"),
            NOW,
            [
                Posting(collection(Scheme.EMPLOYEE_PENSION, "440100"), -(i + 1)),
                Posting(pooled_fund(Scheme.EMPLOYEE_PENSION, "440100"), i + 1),
            ],
            worker_id=None,
            memo=memo,
        )
        for i in range(100)
    ]
    with unit_of_work(engine) as c:
        post_transactions(c, txs)
    with unit_of_work(engine) as c:
        rows = c.execute(select(journal.c.memo, journal.c.worker_id, journal.c.reverses)).all()
        assert len(rows) == 100 and all(r == (memo, None, None) for r in rows)
        assert verify(c).ok
