"""Helpers for ledger tests: a policy, a vault, enrolled workers, valid resident ids."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, select, text

from suiren.domain.resident_id import check_character
from suiren.policy import load_policy
from suiren.services.identity import IdentityVault
from suiren.services.workers import enrol
from suiren.store.audit import AuditResult, verify
from suiren.store.db import unit_of_work
from suiren.store.tables import accounts
from tests.conftest import NOW

POLICY = load_policy()
VAULT = IdentityVault.from_secret(b"k" * 32)


def resident_id(n: int, born: str = "19900101", male: bool = True) -> str:
    """A valid id: Guangzhou address code, the birth date, a sequence of the right parity."""
    sequence = (n % 500) * 2 + (1 if male else 0)
    first17 = f"440106{born}{sequence:03d}"
    return first17 + check_character(first17)


def enrol_workers(engine: Engine, count: int, region: str = "440100", start: int = 0) -> list[str]:
    ids = []
    with unit_of_work(engine) as connection:
        for n in range(start, start + count):
            born = f"19{70 + n // 500 % 30:02d}0101"
            result = enrol(connection, POLICY, VAULT, resident_id(n, born), region, None, NOW)
            ids.append(result.worker.worker_id)
    return ids


def assert_ledger_sound(
    connection: Connection,
) -> tuple[set[tuple[str, int]], dict[str, int], AuditResult]:
    """The ledger invariants, read from the database: every transaction balances (2+ postings),
    every balance is the sum of its postings, all balances total zero, the audit passes.
    Returns the (region, seq) of every transaction with postings, the balances, the audit."""
    per_tx = connection.execute(
        text(
            "SELECT region, seq, SUM(amount_fen) AS total, COUNT(*) AS n FROM postings"
            " GROUP BY region, seq"
        )
    ).all()
    assert all(r.total == 0 and r.n >= 2 for r in per_tx), per_tx
    summed = {
        r.account: int(r.total)
        for r in connection.execute(
            text("SELECT account, SUM(amount_fen) AS total FROM postings GROUP BY account")
        )
    }
    stored = {
        r.account: int(r.balance_fen)
        for r in connection.execute(select(accounts.c.account, accounts.c.balance_fen))
    }
    assert stored == {a: summed.get(a, 0) for a in stored}
    assert set(summed) <= set(stored)
    assert sum(stored.values()) == 0
    result = verify(connection)
    assert result.ok, result
    return {(r.region, int(r.seq)) for r in per_tx}, stored, result
