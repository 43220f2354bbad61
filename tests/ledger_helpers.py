"""Helpers for ledger tests: a policy, a vault, enrolled workers, valid resident ids, and
the amounts the parameters give (bounds of the base, the split of a month).

Ledger, tamper, replay and concurrency tests ask these for the floor, the ceiling and what
a month costs instead of writing a city's figures down, so that correcting a policy value
(Guangzhou's 2025 floor, say) fails only the policy cases that state it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

import numpy as np
from sqlalchemy import Connection, Engine, select, text

from suiren.domain.money import fen_to_yuan_str
from suiren.domain.month import Month
from suiren.domain.resident_id import check_character
from suiren.ledger.months import derived_postings
from suiren.ledger.transaction import Transaction, TxCode
from suiren.policy import load_policy
from suiren.policy.contribution import contribution_bounds, split_contribution
from suiren.policy.medical import split_medical
from suiren.rules.vector import day_number
from suiren.services.identity import IdentityVault
from suiren.services.workers import enrol
from suiren.store.audit import AuditResult, verify
from suiren.store.db import unit_of_work
from suiren.store.ledger_repo import post_transactions
from suiren.store.projections import fact
from suiren.store.tables import accounts, contribution_months, enrolments, workers
from tests.conftest import NOW, SECRET

POLICY = load_policy()
VAULT = IdentityVault.from_secret(SECRET)


class MonthSplit(NamedTuple):
    """What one month at a base costs (``due_fen``) and where it goes, in fen."""

    due_fen: int
    individual_account_fen: int
    pooled_fen: int


def _days(months: list[Month]) -> np.ndarray:
    return np.array([day_number(m.first_day()) for m in months], dtype=np.int64)


def base_bounds_fen(region: str, first: Month, last: Month | None = None) -> tuple[int, int]:
    """The floor and ceiling of the monthly pension base (fen) that every month from
    ``first`` to ``last`` (default: ``first`` alone) accepts in ``region``: the highest
    floor and the lowest ceiling, as the parameters give them."""
    months = [Month(o) for o in range(first.ordinal, (last or first).ordinal + 1)]
    bounds = contribution_bounds(POLICY, _days(months), np.array([region] * len(months)))
    return int(bounds.floor_fen.max()), int(bounds.ceiling_fen.min())


def base_bounds_shown(region: str, month: Month) -> str:
    """The allowed range as a refusal prints it: ``"5510.00 to 27549.00"``."""
    floor, ceiling = base_bounds_fen(region, month)
    return f"{fen_to_yuan_str(floor)} to {fen_to_yuan_str(ceiling)}"


def pension_split(region: str, month: Month, base_fen: int) -> MonthSplit:
    """A pension month at ``base_fen``: due, individual account and pooled, from the rates."""
    split = split_contribution(
        POLICY, _days([month]), np.array([region]), np.array([base_fen], dtype=np.int64)
    )
    return MonthSplit(
        int(split.due_fen[0]), int(split.individual_account_fen[0]), int(split.pooled_fen[0])
    )


def medical_split(region: str, month: Month, base_fen: int) -> MonthSplit:
    """An employee-medical month at ``base_fen``, from the region's medical rates."""
    split = split_medical(
        POLICY, _days([month]), np.array([region]), np.array([base_fen], dtype=np.int64)
    )
    return MonthSplit(
        int(split.due_fen[0]), int(split.individual_account_fen[0]), int(split.pooled_fen[0])
    )


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
    """The ledger invariants, read from the database: every transaction with postings
    balances (2+ postings), every month's split adds up, every balance is the sum of its
    postings and of what its months derive, all balances total zero, no worker's account is
    negative, the audit passes. Returns the (region, seq) of every transaction with
    postings, the balances, the audit."""
    per_tx = connection.execute(
        text(
            "SELECT region, seq, SUM(amount_fen) AS total, COUNT(*) AS n FROM postings"
            " GROUP BY region, seq"
        )
    ).all()
    assert all(r.total == 0 and r.n >= 2 for r in per_tx), per_tx
    summed: dict[str, int] = defaultdict(int)
    for r in connection.execute(text("SELECT account, amount_fen FROM postings")):
        summed[r.account] += int(r.amount_fen)
    for m in connection.execute(select(contribution_months)).mappings():
        assert m["due_fen"] == m["account_fen"] + m["pooled_fen"], m
        for account, amount in derived_postings(dict(m)):
            summed[account] += amount
    stored = {
        r.account: int(r.balance_fen)
        for r in connection.execute(select(accounts.c.account, accounts.c.balance_fen))
    }
    assert stored == {a: summed.get(a, 0) for a in stored}
    assert {a for a, v in summed.items() if v} <= set(stored)
    assert sum(stored.values()) == 0
    assert all(v >= 0 for a, v in stored.items() if a.startswith("worker:")), stored
    result = verify(connection)
    assert result.ok, result.problems
    return {(r.region, int(r.seq)) for r in per_tx}, stored, result


def enrol_in_bulk(engine: Engine, ids: list[str], region: str, start: Month, now=NOW) -> None:  # type: ignore[no-untyped-def]
    """Synthetic workers (not real resident ids) registered and enrolled as facts, one entry."""
    facts = []
    for n, w in enumerate(ids):
        facts.append(fact(
            workers, worker_id=w, resident_id_cipher=VAULT.encrypt(f"synthetic-{n}", w),
            blind_index=f"bulk-{n:059d}", masked_id="44" + "*" * 16, sex="M",
            birth_month=Month.of(1990, 1).ordinal, hukou_region="440000", work_region=region,
            created_at=now,
        ))  # fmt: skip
        facts.append(fact(
            enrolments, worker_id=w, scheme="employee_pension", region=region,
            start_month=start.ordinal, temporary=False, relation_region=region, created_at=now,
            version=1,
        ))  # fmt: skip
    with unit_of_work(engine) as c:
        post_transactions(c, [Transaction.build(
            f"enrol/bulk-{ids[0]}", TxCode.ENROLMENT, region, start, now, [], facts=facts,
        )])  # fmt: skip
