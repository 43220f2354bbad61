"""Helpers for ledger tests: a policy, a vault, enrolled workers, valid resident ids, and
the amounts the parameters give (bounds of the base, the split of a month).

Ledger, tamper, replay and concurrency tests ask these for the floor, the ceiling and what
a month costs instead of writing a city's figures down, so that correcting a policy value
(Guangzhou's 2025 floor, say) fails only the policy cases that state it.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest
from sqlalchemy import Connection, Engine, func, select, text

from suiren.domain.money import fen_to_yuan_str
from suiren.domain.month import Month
from suiren.domain.region import default_registry
from suiren.domain.resident_id import check_character
from suiren.ledger.accounts import Scheme, pooled_fund
from suiren.ledger.transaction import Transaction, TxCode
from suiren.policy import Policy, baseline_parameters, load_policy
from suiren.policy.contribution import contribution_bounds, split_contribution
from suiren.policy.medical import split_medical
from suiren.rules.scenario import apply_scenario
from suiren.rules.vector import day_number
from suiren.services.identity import IdentityVault
from suiren.services.workers import EnrolRequest, enrol_many
from suiren.store.audit import AuditResult, verify
from suiren.store.db import unit_of_work
from suiren.store.ledger_repo import post_transactions
from suiren.store.projections import fact
from suiren.store.tables import accounts, contribution_months, enrolments, workers
from tests.conftest import NOW, SECRET

POLICY = load_policy()
POLICIES = {name: load_policy(name) for name in ("current_law", "money_follows_person")}


def policy_with(path: Path, scenario_yaml: str) -> Policy:
    """The baseline parameters with the scenario ``scenario_yaml`` (written to ``path``)
    applied: a test's figures published, say."""
    path.write_text(scenario_yaml, encoding="utf-8")
    registry = default_registry()
    return Policy(apply_scenario(baseline_parameters(), path, registry), registry)


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
    """``count`` new workers of ``region``, enrolled as a file would be (one entry)."""
    requests = [
        EnrolRequest(resident_id(n, f"19{70 + n // 500 % 30:02d}0101"), region)
        for n in range(start, start + count)
    ]
    with unit_of_work(engine) as connection:
        results = enrol_many(connection, POLICY, VAULT, requests, NOW)
    ids = []
    for result in results:
        assert not isinstance(result, Exception), result
        ids.append(result.worker.worker_id)
    return ids


_ACCOUNT_SUMS = text("""
SELECT account, SUM(amount) AS total FROM (
    SELECT account, amount_fen AS amount FROM postings
    UNION ALL SELECT 'system:collection:' || scheme || ':collection:' || region, -due_fen
        FROM contribution_months
    UNION ALL SELECT 'worker:' || worker_id || ':' || scheme || ':individual_account:' || region,
        account_fen FROM contribution_months
    UNION ALL SELECT 'worker:' || worker_id || ':' || scheme || ':pooled_entitlement:' || region,
        pooled_fen - held_fen FROM contribution_months
    UNION ALL SELECT 'system:clearing:' || scheme || ':clearing:' || region, held_fen
        FROM contribution_months
) lines GROUP BY account
""")
# per worker, scheme and month: the payments that stand (not reversed) and their amount;
# and (month 0) the interest credited to the worker's accounts
_STANDING = (  # the months that stand: none of them reversed
    "FROM contribution_months m"
    " WHERE NOT EXISTS (SELECT 1 FROM journal j WHERE j.reverses = m.tx_id)"
)
# per worker and scheme: the months that stand and the interest credited, summed in the
# database (a Python loop over a row per month was seconds at 300,000 months)
_PAID_AND_INTEREST = text(f"""
SELECT worker_id, scheme, SUM(fen) AS fen FROM (
    SELECT m.worker_id, m.scheme, m.account_fen + m.pooled_fen AS fen {_STANDING}
    UNION ALL
    SELECT a.owner_id, a.scheme, p.amount_fen
    FROM postings p JOIN accounts a ON a.account = p.account
    WHERE p.code = 'interest' AND a.owner_type = 'worker'
) paid GROUP BY worker_id, scheme
""")
_PAID_TWICE = text(f"""
SELECT m.worker_id, m.scheme, m.month, COUNT(*) AS n {_STANDING}
GROUP BY m.worker_id, m.scheme, m.month HAVING COUNT(*) > 1
""")
# every transfer whose approval moved money: what it was, and what the worker still had in the
# old region right after (the old region's postings and months up to the ``out`` entry)
_MOVED = text("""
SELECT t.transfer_id, t.worker_id, t.scheme, t.scenario, t.kind, t.state, t.from_region,
    t.to_region, t.account_fen, t.pooled_fen, t.kept_fen, t.interest_fen, e.on_day,
    s.transfer_id IS NOT NULL AS settled,
    COALESCE((SELECT SUM(p.amount_fen) FROM postings p
        WHERE p.region = t.from_region AND p.seq <= j.seq AND p.account IN (
            'worker:' || t.worker_id || ':' || t.scheme || ':individual_account:' || t.from_region,
            'worker:' || t.worker_id || ':' || t.scheme || ':pooled_entitlement:' || t.from_region
        )), 0)
    + COALESCE((SELECT SUM(m.account_fen + m.pooled_fen - m.held_fen) FROM contribution_months m
        WHERE m.worker_id = t.worker_id AND m.scheme = t.scheme AND m.region = t.from_region
        AND m.seq <= j.seq), 0) AS left_fen
FROM transfers t
JOIN transfer_events e ON e.transfer_id = t.transfer_id AND e.step = 'approved'
JOIN journal j ON j.tx_id = e.tx_id
LEFT JOIN settled_transfers s ON s.transfer_id = t.transfer_id
""")
_TRANSFER_LINES = text("""
SELECT j.tx_id, p.account, p.amount_fen FROM journal j
JOIN postings p ON p.region = j.region AND p.seq = j.seq
WHERE j.tx_id LIKE 'transfer/%'
""")
_OBLIGATIONS = text("""
SELECT o.scheme, o.from_region, o.to_region, o.amount_fen FROM region_obligations o
WHERE NOT EXISTS (SELECT 1 FROM settled_obligations s WHERE s.obligation_id = o.obligation_id)
""")
_WHERE_ALLOWED = text("""
SELECT worker_id, region FROM enrolments WHERE scheme = 'employee_pension'
UNION SELECT worker_id, relation_region FROM enrolments
    WHERE scheme = 'employee_pension' AND relation_region IS NOT NULL
UNION SELECT m.worker_id, m.region FROM contribution_months m
    WHERE m.scheme = 'employee_pension' AND m.temporary = 1
    AND NOT EXISTS (SELECT 1 FROM journal j WHERE j.reverses = m.tx_id)
UNION SELECT worker_id, to_region FROM transfers
    WHERE scheme = 'employee_pension'
    AND (state = 'accepted' OR (state = 'completed' AND kind = 'gather'))
""")


def _money_transfers(connection: Connection) -> list[Any]:
    return list(connection.execute(_MOVED).mappings())


def _whole(t: Any) -> bool:
    """Whether the rules in force at approval move the whole pooled entitlement with interest
    (a gathering always; a move or claim where the scenario says so, from its first day)."""
    if t["kind"] == "gather":
        return True
    day = t["on_day"] if isinstance(t["on_day"], date) else date.fromisoformat(t["on_day"])
    return bool(
        POLICIES[t["scenario"]].at(day, t["from_region"]).value("transfer.pooled_entitlement_moves")
    )


def _check_transfers(connection: Connection, moved: list[Any]) -> None:
    """Each money transfer's postings are what its row says, its approval took everything the
    worker held in the old region (``kept + moved - interest`` is the whole entitlement, as
    policy/transfer.py says), the scenario's rule holds, and an accepted or completed
    transfer's money is in the new region."""
    lines: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in connection.execute(_TRANSFER_LINES):
        lines[r.tx_id][r.account] += int(r.amount_fen)
    for t in moved:
        name = f"transfer {t['transfer_id']} ({t['state']})"
        w, s = t["worker_id"], t["scheme"]
        total = t["account_fen"] + t["pooled_fen"]
        leaving = t["account_fen"] + t["pooled_fen"] - t["interest_fen"] + t["kept_fen"]
        assert t["left_fen"] == 0, f"{name}: {t['left_fen']} fen left behind in {t['from_region']}"
        out = lines[f"transfer/{t['transfer_id']}/out"]
        worker_out = {a: v for a, v in out.items() if a.startswith("worker:")}
        assert sum(worker_out.values()) == -leaving, (name, dict(out))
        assert (
            out.get(f"worker:{w}:{s}:individual_account:{t['from_region']}", 0) == -t["account_fen"]
        )
        assert out.get(f"system:clearing:{s}:clearing:{t['from_region']}", 0) == total, (
            name,
            dict(out),
        )
        assert out.get(str(pooled_fund(Scheme(s), t["from_region"])), 0) == (
            t["kept_fen"] - t["interest_fen"]
        ), (name, dict(out))
        if s == "employee_pension":  # the whole entitlement with interest, or a share of the bases
            assert (
                (t["kept_fen"], t["interest_fen"] >= 0) == (0, True)
                if _whole(t)
                else (t["interest_fen"] == 0)
            ), (name, t)
        arrived = lines.get(f"transfer/{t['transfer_id']}/in", {})
        if t["state"] in ("accepted", "completed") and total:
            assert arrived == {
                a: v
                for a, v in {
                    f"system:clearing:{s}:clearing:{t['to_region']}": -total,
                    f"worker:{w}:{s}:individual_account:{t['to_region']}": t["account_fen"],
                    f"worker:{w}:{s}:pooled_entitlement:{t['to_region']}": t["pooled_fen"],
                }.items()
                if v
            }, (f"{name}: its money is not in {t['to_region']}", dict(arrived))
        else:
            assert not arrived, (name, dict(arrived))
        back = lines.get(f"transfer/{t['transfer_id']}/return", {})
        if t["state"] == "rejected":
            assert all(back.get(a, 0) == -v for a, v in out.items()), (name, dict(back))
        else:
            assert not back, (name, dict(back))


def _check_workers(connection: Connection, moved: list[Any], stored: Any) -> None:
    """Every worker's money, wherever it is (their accounts, or in transit), is what they
    paid (months that stand), plus interest credited, plus what the transfers added (the
    reform's interest on the entitlement) or left in an old pooled fund (current law); and a
    month stands at most once."""
    held: dict[tuple[str, str], int] = defaultdict(int)
    for r in stored:
        if r.owner_type == "worker":
            held[(r.owner_id, r.scheme)] += int(r.balance_fen)
    twice = [
        (r.worker_id, r.scheme, str(Month(int(r.month))), r.n)
        for r in connection.execute(_PAID_TWICE)
    ]
    assert not twice, f"months paid more than once (none reversed): {twice}"
    owed: dict[tuple[str, str], int] = defaultdict(int)
    for r in connection.execute(_PAID_AND_INTEREST):
        owed[(r.worker_id, r.scheme)] += int(r.fen)
    for t in moved:
        key = (t["worker_id"], t["scheme"])
        if t["state"] != "rejected":
            owed[key] += t["interest_fen"] - t["kept_fen"]
        if t["state"] == "approved":  # in transit, in the clearing accounts
            held[key] += t["account_fen"] + t["pooled_fen"]
    wrong = {
        k: (held.get(k, 0), owed.get(k, 0))
        for k in held.keys() | owed.keys()
        if held.get(k, 0) != owed.get(k, 0)
    }
    assert not wrong, f"workers' money (held, paid + interest ± transfers): {wrong}"


def _check_clearing(connection: Connection, moved: list[Any], stored: Any) -> None:
    """Each region's clearing account holds what it owes or is owed and no window has
    settled: the transfers out not yet settled (+), in (−), and the obligations; the national
    settlement account nets to zero."""
    expected: dict[tuple[str, str], int] = defaultdict(int)
    for t in moved:
        if t["state"] == "rejected" or t["settled"]:
            continue
        total = t["account_fen"] + t["pooled_fen"]
        expected[(t["scheme"], t["from_region"])] += total
        if t["state"] in ("accepted", "completed"):
            expected[(t["scheme"], t["to_region"])] -= total
    for r in connection.execute(_OBLIGATIONS):
        expected[(r.scheme, r.from_region)] += int(r.amount_fen)
        expected[(r.scheme, r.to_region)] -= int(r.amount_fen)
    found: dict[tuple[str, str], int] = defaultdict(int)
    for r in stored:
        if r.owner_type == "system" and r.kind == "clearing":
            if r.owner_id == "settlement":
                assert r.balance_fen == 0, (
                    f"national settlement account {r.account}: {r.balance_fen}"
                )
            else:
                found[(r.scheme, r.region)] += int(r.balance_fen)
    keys = found.keys() | expected.keys()
    wrong = {
        k: (found.get(k, 0), expected.get(k, 0))
        for k in keys
        if found.get(k, 0) != expected.get(k, 0)
    }
    assert not wrong, f"clearing accounts (held, unsettled): {wrong}"


def _check_where(connection: Connection, stored: Any) -> None:
    """A worker's pension money is only where it may be: where they are insured, where the
    relation is held, a (sealed) temporary account, the new region of an accepted transfer,
    or the paying region a temporary account was gathered to."""
    allowed = {(r[0], r[1]) for r in connection.execute(_WHERE_ALLOWED)}
    stray = [
        (r.owner_id, r.region, int(r.balance_fen))
        for r in stored
        if r.owner_type == "worker"
        and r.scheme == "employee_pension"
        and r.balance_fen
        and (r.owner_id, r.region) not in allowed
    ]
    assert not stray, f"pension money where the worker is neither insured nor held: {stray}"


AUDIT_EVERY = 10  # state machines: the full audit on every 10th check and after the last step
# (an audit finding stays in an append-only ledger: the one after the last step sees it; the
# audit was 23% of the transfer machine's time on PostgreSQL at every 4th check)


def last_audit_due() -> bool:
    """In a state machine's ``teardown``: the history ended without a failure, so the full
    audit runs once more after its last step (a failure in flight is reported as it is,
    not hidden behind the audit's)."""
    return sys.exc_info()[0] is None


def assert_ledger_sound(
    connection: Connection, audit: bool = True
) -> tuple[set[tuple[str, int]], dict[str, int], AuditResult | None]:
    """The ledger's invariants (issue 8 §1), read from the database with a few aggregates:

    - every transaction with postings balances (2+ postings), every month's split adds up;
    - every balance is the sum of its postings and of what its months derive; all balances
      total zero; no worker's account is negative;
    - every worker's money, wherever it is, is what they paid plus interest credited (plus
      or minus what the transfers' rules add or keep behind); a month stands at most once;
    - every money transfer's postings match its row, it took everything the worker held in
      the old region (kept + moved is the whole, per the scenario's rule), and an accepted or
      completed transfer has its money in the new region; a rejected one got it back;
    - clearing accounts hold exactly what is unsettled; the national settlement account is 0;
    - a worker's pension money is only where it may be held;
    - with ``audit``: ``store.audit.verify`` finds no problem (chains, hashes, projections).

    Returns the (region, seq) of every transaction with postings, the balances, the audit."""
    per_tx = connection.execute(
        text(
            "SELECT region, seq, SUM(amount_fen) AS total, COUNT(*) AS n FROM postings"
            " GROUP BY region, seq"
        )
    ).all()
    assert all(r.total == 0 and r.n >= 2 for r in per_tx), [r for r in per_tx if r.total or r.n < 2]
    split = connection.execute(
        select(func.count()).where(
            (
                contribution_months.c.due_fen
                != contribution_months.c.account_fen + contribution_months.c.pooled_fen
            )
            | (contribution_months.c.held_fen > contribution_months.c.pooled_fen)
        )
    ).scalar_one()
    assert split == 0, f"{split} contribution months whose split does not add up"
    rows = connection.execute(select(accounts)).all()
    stored = {r.account: int(r.balance_fen) for r in rows}
    if not audit:  # (the audit recomputes every balance itself)
        summed = {r.account: int(r.total) for r in connection.execute(_ACCOUNT_SUMS)}
        wrong = {
            a: (stored.get(a, 0), summed.get(a, 0))
            for a in stored.keys() | summed.keys()
            if stored.get(a, 0) != summed.get(a, 0)
        }
        assert not wrong, f"balances (stored, from postings and months): {wrong}"
    assert sum(stored.values()) == 0
    negative = {a: v for a, v in stored.items() if a.startswith("worker:") and v < 0}
    assert not negative, f"negative worker accounts: {negative}"
    moved = _money_transfers(connection)
    _check_transfers(connection, moved)
    _check_workers(connection, moved, rows)
    _check_clearing(connection, moved, rows)
    _check_where(connection, rows)
    result = None
    if audit:
        result = verify(connection)
        assert result.ok, result.problems
    return {(r.region, int(r.seq)) for r in per_tx}, stored, result


def enrol_in_bulk(engine: Engine, ids: list[str], region: str, start: Month, now=NOW) -> None:  # type: ignore[no-untyped-def]
    """Synthetic workers (not real resident ids) registered and enrolled as facts, one entry."""
    facts = []
    for w in ids:
        facts.append(
            fact(
                workers,
                worker_id=w,
                resident_id_cipher=VAULT.encrypt(f"synthetic-{w}", w),
                blind_index=f"bulk-{w:0>59}",
                masked_id="44" + "*" * 16,
                sex="M",
                birth_month=Month.of(1990, 1).ordinal,
                hukou_region="440000",
                work_region=region,
                created_at=now,
            )
        )
        facts.append(
            fact(
                enrolments,
                worker_id=w,
                scheme="employee_pension",
                region=region,
                start_month=start.ordinal,
                temporary=False,
                relation_region=region,
                created_at=now,
                version=1,
            )
        )
    with unit_of_work(engine) as c:
        post_transactions(
            c,
            [
                Transaction.build(
                    f"enrol/bulk-{ids[0]}",
                    TxCode.ENROLMENT,
                    region,
                    start,
                    now,
                    [],
                    facts=facts,
                )
            ],
        )


@contextmanager
def quick_password_hashes() -> Iterator[None]:
    """argon2id at its smallest cost (one pass over 1 MiB, one lane) in place of the product's
    while the block runs: the same algorithm, salts and checks, a millisecond a hash instead
    of a third of a second. For tests that hash many passwords (a demo world's 32 clerks, a
    login refused for an unknown name, which hashes all the same) but do not test the hash's
    cost; the other login tests hash at the product's."""
    from argon2 import PasswordHasher

    from suiren.services import logins

    quick = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(logins, "_HASHER", quick)
        yield


@pytest.fixture(scope="module")
def quick_hashes() -> Iterator[None]:
    """``quick_password_hashes`` for a whole module, its module-scoped fixtures too: imported
    by the module and named in its ``pytestmark = pytest.mark.usefixtures("quick_hashes")``."""
    with quick_password_hashes():
        yield
