"""Tampering with one ledger row at a time: ``audit.verify`` fails and names the row.

A ledger with two regions' chains holds contributions (2025 and 2026), a 2025 interest run
and a reversal. Each case then changes, deletes or inserts exactly one row directly in the
database, around the append-only triggers (PostgreSQL: ``session_replication_role =
replica`` for that transaction only, which also disables foreign keys; SQLite: the
triggers are dropped and recreated in the same transaction, foreign keys off), and
checks that verification fails naming the transaction (or the account) concerned.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text

from suiren.domain.month import Month
from suiren.services.contributions import contribute
from suiren.services.interest import credit_interest
from suiren.services.reversals import reverse
from suiren.services.workers import enrol
from suiren.store.audit import AuditResult, verify
from suiren.store.db import is_postgres, make_engine, unit_of_work
from tests.conftest import NOW
from tests.ledger_helpers import POLICY, VAULT, resident_id

LATE_2025 = datetime(2025, 12, 20, 12, 0, tzinfo=UTC)
INTEREST_440100 = "interest/employee_pension/440100/2025/0"
CONTRIBUTION = "p26-1/2026-01"  # worker 1, region 440100, neither first nor last in its chain
REVERSED = "p26-1/2026-02"
REVERSAL = "rev-1"


@dataclass(frozen=True)
class Ledger:
    workers: list[str]


def build_ledger(engine: Engine) -> Ledger:
    """Contributions in 440100 and 110000, 2025 interest, a reversal; verify passes."""
    with unit_of_work(engine) as c:
        workers = [
            enrol(c, POLICY, VAULT, resident_id(n), region, None, LATE_2025).worker.worker_id
            for n, region in enumerate(["440100", "440100", "440100", "110000"])
        ]
    payments = [
        ("p25-0", 0, "2025-07", "2025-09", 600_000, LATE_2025),
        ("p25-3", 3, "2025-10", "2025-12", 800_000, LATE_2025),
        ("p26-1", 1, "2026-01", "2026-03", 700_000, NOW),
        ("p26-2", 2, "2026-04", "2026-04", 551_000, NOW),
        ("p26-3", 3, "2026-01", "2026-02", 900_000, NOW),
    ]
    for request_id, worker, first, last, base_fen, now in payments:
        if request_id == "p26-1":
            with unit_of_work(engine) as c:
                runs = credit_interest(c, POLICY, 2025, NOW)
            assert [(r.region, r.accounts) for r in runs] == [("110000", 1), ("440100", 1)]
        with unit_of_work(engine) as c:
            contribute(
                c, POLICY, request_id, workers[worker], Month.parse(first), Month.parse(last),
                base_fen, now,
            )  # fmt: skip
    with unit_of_work(engine) as c:
        reverse(c, REVERSED, REVERSAL, NOW)
    with unit_of_work(engine) as c:
        result = verify(c)
    assert result.ok and result.transactions == 15, result  # 12 paid, 2 interest, 1 reversal
    return Ledger(workers)


@contextmanager
def tampering(engine: Engine) -> Iterator[Connection]:
    """One committed database transaction in which the append-only rules do not apply."""
    with engine.connect() as connection:
        if is_postgres(connection):
            with connection.begin():
                connection.execute(text("SET LOCAL session_replication_role = replica"))
                yield connection
            return
        raw = connection.connection.driver_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys=OFF")  # before BEGIN: inside a transaction a no-op
        try:
            with connection.begin():
                triggers = connection.execute(
                    text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
                ).all()
                assert triggers, "the migration creates append-only triggers"
                for trigger in triggers:
                    connection.execute(text(f"DROP TRIGGER {trigger.name}"))
                yield connection
                for trigger in triggers:
                    connection.execute(text(trigger.sql))
        finally:
            raw.execute("PRAGMA foreign_keys=ON")


def where(connection: Connection, tx_id: str) -> dict[str, object]:
    row = connection.execute(
        text("SELECT region, seq FROM journal WHERE tx_id = :tx_id"), {"tx_id": tx_id}
    ).one()
    return {"region": row.region, "seq": row.seq}


def first_line(connection: Connection, tx_id: str) -> dict[str, object]:
    """The key of the transaction's first posting (its lowest line number)."""
    key = where(connection, tx_id)
    line = connection.execute(
        text("SELECT MIN(line) FROM postings WHERE region = :region AND seq = :seq"), key
    ).scalar_one()
    return {**key, "line": line}


def tamper(engine: Engine, sql: str, key: dict[str, object]) -> None:
    with tampering(engine) as connection:
        changed = connection.execute(text(sql), key).rowcount
    assert changed == 1, f"the tamper must touch exactly one row, touched {changed}"


def audit(engine: Engine) -> AuditResult:
    with unit_of_work(engine) as c:
        return verify(c)


# --- one changed, deleted or inserted row per case -------------------------------------------

POSTING = "WHERE region = :region AND seq = :seq AND line = :line"
JOURNAL = "WHERE region = :region AND seq = :seq"


@pytest.mark.parametrize("tx_id", [CONTRIBUTION, INTEREST_440100, REVERSAL])
def test_a_changed_posting_amount(engine, tx_id):
    build_ledger(engine)
    with unit_of_work(engine) as c:
        key = first_line(c, tx_id)
    tamper(engine, f"UPDATE postings SET amount_fen = amount_fen + 1 {POSTING}", key)
    result = audit(engine)
    assert (result.ok, result.tx_id, result.problem) == (False, tx_id, "postings do not balance")


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("memo", "'a quiet correction'"),
        ("legal_month", "legal_month - 1"),
        ("worker_id", "'WFORGED'"),
        ("code", "'interest'"),
        ("content_hash", "'" + "0" * 64 + "'"),
    ],
)
def test_a_changed_journal_field(engine, column, value):
    build_ledger(engine)
    with unit_of_work(engine) as c:
        key = where(c, CONTRIBUTION)
    tamper(engine, f"UPDATE journal SET {column} = {value} {JOURNAL}", key)
    result = audit(engine)
    assert (result.ok, result.tx_id) == (False, CONTRIBUTION)
    assert result.problem == "content hash does not match the row and its postings"


def test_a_changed_transaction_id(engine):
    build_ledger(engine)
    with unit_of_work(engine) as c:
        key = where(c, CONTRIBUTION)
    tamper(engine, f"UPDATE journal SET tx_id = 'forged-1' {JOURNAL}", key)
    result = audit(engine)
    assert (result.ok, result.tx_id) == (False, "forged-1")  # the row as it now reads
    assert result.problem == "content hash does not match the row and its postings"


@pytest.mark.parametrize("tx_id", [CONTRIBUTION, INTEREST_440100, REVERSAL])
def test_a_deleted_posting(engine, tx_id):
    build_ledger(engine)
    with unit_of_work(engine) as c:
        key = first_line(c, tx_id)
    tamper(engine, f"DELETE FROM postings {POSTING}", key)
    result = audit(engine)
    assert (result.ok, result.tx_id, result.problem) == (False, tx_id, "postings do not balance")


@pytest.mark.parametrize(
    ("amount_fen", "problem"),
    [
        (100, "postings do not balance"),
        (0, "content hash does not match the row and its postings"),  # balanced, still seen
    ],
)
def test_an_inserted_posting(engine, amount_fen, problem):
    build_ledger(engine)
    with unit_of_work(engine) as c:
        key = where(c, CONTRIBUTION)
    tamper(
        engine,
        "INSERT INTO postings (region, seq, line, account, account_region, amount_fen,"
        " legal_month, code) SELECT region, seq, 99, account, account_region, :amount_fen,"
        f" legal_month, code FROM postings {POSTING}",
        {**key, "line": 0, "amount_fen": amount_fen},
    )
    result = audit(engine)
    assert (result.ok, result.tx_id, result.problem) == (False, CONTRIBUTION, problem)


def test_a_changed_balance(engine):
    ledger = build_ledger(engine)
    account = f"worker:{ledger.workers[1]}:employee_pension:individual_account:440100"
    tamper(
        engine,
        "UPDATE accounts SET balance_fen = balance_fen + 1 WHERE account = :account",
        {"account": account},
    )
    result = audit(engine)
    assert (result.ok, result.account, result.tx_id) == (False, account, REVERSAL)  # its last
    assert result.problem is not None and result.problem.startswith("balance ")


@pytest.mark.parametrize("column", ["chain_hash", "prev_hash"])
def test_a_changed_chain_hash(engine, column):
    build_ledger(engine)
    with unit_of_work(engine) as c:
        key = where(c, CONTRIBUTION)
    tamper(engine, f"UPDATE journal SET {column} = '{'f' * 64}' {JOURNAL}", key)
    result = audit(engine)
    assert (result.ok, result.tx_id, result.problem) == (False, CONTRIBUTION, "hash chain broken")


def test_a_changed_chain_head(engine):
    build_ledger(engine)
    tamper(
        engine,
        f"UPDATE chain_heads SET chain_hash = '{'f' * 64}' WHERE region = :region",
        {"region": "440100"},
    )
    result = audit(engine)
    assert (result.ok, result.problem) == (False, "chain head of region 440100 does not match its journal")  # fmt: skip


def test_a_deleted_journal_row(engine):
    """The gap is found at the next transaction of the region's chain."""
    build_ledger(engine)
    with unit_of_work(engine) as c:
        key = where(c, CONTRIBUTION)
        following = c.execute(
            text("SELECT tx_id FROM journal WHERE region = :region AND seq = :seq + 1"), key
        ).scalar_one()
    tamper(engine, f"DELETE FROM journal {JOURNAL}", key)
    result = audit(engine)
    assert (result.ok, result.tx_id) == (False, following)
    assert result.problem is not None and result.problem.startswith("sequence gap in region 440100")


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("legal_month", "legal_month - 12"),  # moves money into an earlier year (interest)
        ("code", "'interest'"),  # hides a contribution from the in-year interest sum
        ("account_region", "'110000'"),
    ],
)
def test_a_changed_posting_field_that_the_content_hash_leaves_out(engine, column, value):
    """Postings carry copies of the journal's legal month and code (interest reads them) and
    the account's region; a changed copy must be found like any other change."""
    build_ledger(engine)
    with unit_of_work(engine) as c:
        key = first_line(c, CONTRIBUTION)
    tamper(engine, f"UPDATE postings SET {column} = {value} {POSTING}", key)
    result = audit(engine)
    assert (result.ok, result.tx_id) == (False, CONTRIBUTION), result


# --- the command line reports the same, with exit status 1 -----------------------------------


def test_cli_audit_verify_names_the_tampered_transaction(database_url, tmp_path: Path):
    url, extra = database_url
    options = {"options": extra["PGOPTIONS"]} if "PGOPTIONS" in extra else {}
    engine = make_engine(url, connect_args=options) if options else make_engine(url)
    try:
        build_ledger(engine)
        with unit_of_work(engine) as c:
            key = first_line(c, CONTRIBUTION)
        tamper(engine, f"UPDATE postings SET amount_fen = amount_fen - 1 {POSTING}", key)
    finally:
        engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUIREN_") and k != "PGOPTIONS"}
    env |= extra | {
        "SUIREN_DATABASE_URL": url,
        "SUIREN_SECRET_KEY": base64.b64encode(b"k" * 32).decode(),
        "SUIREN_TODAY": "2026-06-15",
    }
    done = subprocess.run(
        [sys.executable, "-m", "suiren.cli.main", "audit", "verify", "--json"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert (report["ok"], report["tx_id"], report["problem"]) == (
        False,
        CONTRIBUTION,
        "postings do not balance",
    )
