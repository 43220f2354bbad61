"""Tampering with the database behind the ledger's back: the audit finds every case and names it.

One ledger per backend holds every kind of row: contributions in three regions (2025 and
2026), a 2025 interest run, a reversal, a completed transfer (with interest carried), a
transfer rejected after approval (money returned), a settlement window, employee-medical
months under money_follows_person with their hukou parts and obligations, and their
settlement. Each case then changes, deletes or inserts rows directly, around the
append-only triggers (PostgreSQL: ``session_replication_role = replica`` for that
transaction only, which also disables foreign keys; SQLite: the triggers are dropped inside
the transaction), runs the audit in the same transaction, and rolls everything back, so the
cases share one ledger. Every case must be found, naming the table (and the row) that
differs. ``test_every_table_is_covered`` fails when a table is added without being hashed or
rebuilt by the audit.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Connection, Engine, event, insert, text

from suiren.api.auth import ActorKind, Unauthorized, authenticate, issue_key, revoke_key
from suiren.domain.month import Month
from suiren.ledger.accounts import Scheme
from suiren.ledger.months import SEGMENT_ROWS
from suiren.policy import load_policy
from suiren.services.clerks import (
    add_clerk,
    end_clerk_sessions,
    get_clerk,
    log_in_clerk,
    sign_clerk_token,
)
from suiren.services.contributions import ContributionRows, contribute, post_batch
from suiren.services.history import Person, import_people
from suiren.services.identity import ledger_keys
from suiren.services.interest import credit_interest
from suiren.services.logins import (
    bind_phone,
    end_sessions,
    log_in,
    log_in_with_code,
    phone_of,
    register,
    request_code,
    worker_token,
)
from suiren.services.platforms import declare
from suiren.services.platforms import end as end_engagement
from suiren.services.reversals import reverse
from suiren.services.settlement import close_window
from suiren.services.transfers import (
    accept_transfer,
    approve_transfer,
    complete_transfer,
    reject_transfer,
    request_transfer,
)
from suiren.services.workers import enrol
from suiren.store import audit as audit_module
from suiren.store.api_tables import api_metadata, idempotency_keys
from suiren.store.audit import AuditResult, verify
from suiren.store.checkpoint import make_checkpoint
from suiren.store.db import is_postgres, make_engine, unit_of_work
from suiren.store.db import ledger_keys as keys_of
from suiren.store.migrate import upgrade
from suiren.store.projections import GRANTS, PROJECTIONS
from suiren.store.seals import SEALED, read_sealed, seal
from suiren.store.tables import metadata
from tests.bilingual import english_words, what_problems
from tests.conftest import migrated_engine, release
from tests.ledger_helpers import (
    POLICY,
    VAULT,
    base_bounds_fen,
    enrol_in_bulk,
    quick_hashes,  # noqa: F401  (a fixture)
    resident_id,
)

MFP = load_policy("money_follows_person")
LATE_2025 = datetime(2025, 12, 20, 12, 0, tzinfo=UTC)
JUNE = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
CONTRIBUTION = "p26-1/2026-02"  # worker 1, 440100
REVERSED = "p26-1/2026-03"
REVERSAL = "rev-1"
INTEREST = "interest/employee_pension/110000/2025/0"
PHONE = "13812345678"
BULK_REGION = "440300"
BULK_ROWS = SEGMENT_ROWS + 100  # past OPTIMISTIC_ROWS_MIN: a receipt; two segments
# the batch's workers: 100 paying 12 months each (1,200 rows, two segments) audit in a third
# of the time of 1,124 paying one month, and every sweep below runs one audit per change
BULK_WORKERS = 100
HASHED = {"journal", "postings", "facts", "contribution_months", "month_segments"}
MAINTAINED = {"accounts", "chain_heads"}  # recomputed by the audit
KEY_TABLE = {"ledger_meta"}  # checked on every unit of work, not by the audit
# the service's tables that grant no access by themselves (kept answers, the access log, a
# login's one-time code) or whose logins the audit checks against the workers; a login's
# count of codes sent in a day (a row changed or deleted lets more codes be sent, no one in);
# a name with no login's wrong passwords (lets more be tried on a name that opens nothing)
GRANTING_NOTHING = {"access_log", "login_code_days", "login_failures"}
SEALED_TABLES = set(SEALED)  # logins, their codes and numbers, kept answers (store/seals.py)
TOKEN_KEY = b"the tamper ledger's token key 32b"
CLERK = "gz.clerk"
CLERK_PASSWORD = "a clerk's password"
# argon2id at its smallest cost (tests/ledger_helpers.py): the ledger's logins and clerk, and
# every login a case tries (a login refused hashes all the same), a millisecond a hash; every
# problem the audit names said in both languages (tests/store/conftest.py)
pytestmark = pytest.mark.usefixtures("quick_hashes", "audit_said_in_both")


# a worker's earlier history (services/history.py): stints and a balance held in 320100
_RID = resident_id(20, "19700301")
_STINT = {"resident_id": _RID, "region": "320100", "kind": "paid", "base_yuan": "5000"}
HISTORY = Person(
    _RID,
    [
        (1, _STINT | {"from_month": "2000-01", "to_month": "2020-12"}),
        (2, _STINT | {"from_month": "1995-01", "to_month": "1999-12", "kind": "deemed",
                      "base_yuan": "", "index": "1.0"}),
    ],
)  # fmt: skip
HISTORY_BALANCES = {
    _RID: [(1, {"resident_id": _RID, "region": "320100", "account_yuan": "12000.00",
                "as_of": "2020-12-31"})]
}  # fmt: skip


@dataclass(frozen=True)
class Ledger:
    engine: Engine
    workers: list[str]
    checkpoint: dict[str, Any]
    keys: dict[str, str]  # "live": Guangzhou's agency key; "revoked": Beijing's, revoked
    pending_code: str  # worker 2's one-time code, asked for and not used
    ended_token: str  # worker 1's token of generation 0, signed before they logged out everywhere


def build(engine: Engine, bulk_workers: int = BULK_WORKERS) -> Ledger:
    """The shared ledger. ``bulk_workers``: how many workers the file's batch pays for; with
    fewer than ``BULK_ROWS``, each pays the months up to 2026-03 that make the batch at least
    ``BULK_ROWS`` rows (still a receipt; two segments): a quicker audit, the same tables."""

    def run(work: Callable[[Connection], object]) -> object:
        with unit_of_work(engine) as c:
            return work(c)

    workers = []
    for n, region in enumerate(["440100", "440100", "110000", "440100"]):
        workers.append(
            run(
                lambda c, n=n, region=region: (
                    enrol(
                        c, POLICY, VAULT, resident_id(n), region, "410000", LATE_2025
                    ).worker.worker_id
                )
            )
        )
    medical = run(
        lambda c: (
            enrol(
                c,
                MFP,
                VAULT,
                resident_id(9),
                "310000",
                "410000",
                LATE_2025,
                Scheme.EMPLOYEE_MEDICAL,
            ).worker.worker_id
        )
    )
    workers.append(medical)
    for request, n, first, last, base in (
        ("p25-0", 0, "2025-07", "2025-12", 600_000),
        ("p25-2", 2, "2025-10", "2025-12", 800_000),
    ):
        run(
            lambda c, r=request, n=n, f=first, la=last, b=base: contribute(
                c, POLICY, r, workers[n], Month.parse(f), Month.parse(la), b, LATE_2025
            )
        )
    run(lambda c: credit_interest(c, POLICY, 2025, JUNE))
    for request, n, base in (("p26-1", 1, 700_000), ("p26-2", 2, 900_000), ("p26-3", 3, 600_000)):
        run(
            lambda c, r=request, n=n, b=base: contribute(
                c, POLICY, r, workers[n], Month.parse("2026-01"), Month.parse("2026-04"), b, JUNE
            )
        )
    run(lambda c: reverse(c, REVERSED, REVERSAL, JUNE))
    # a month of 郑州 on provisional bounds (河南's 2025-01 figures in 2026): its
    # ``provisional_uses`` row and the entry recording it
    zhengzhou = run(
        lambda c: (
            enrol(c, POLICY, VAULT, resident_id(12), "410100", None, LATE_2025).worker.worker_id
        )
    )
    march = Month.parse("2026-03")
    floor_410100 = base_bounds_fen("410100", march)[0]
    run(lambda c: contribute(c, POLICY, "p26-z", zhengzhou, march, march, floor_410100, JUNE))
    run(
        lambda c: contribute(
            c,
            MFP,
            "h26",
            medical,
            Month.parse("2026-01"),
            Month.parse("2026-02"),
            1_500_000,
            JUNE,
            Scheme.EMPLOYEE_MEDICAL,
        )
    )
    day = datetime(2026, 6, 16, 12, tzinfo=UTC)
    run(lambda c: request_transfer(c, POLICY, "move-0", workers[0], "330100", day))
    for step in (approve_transfer, accept_transfer, complete_transfer):
        run(lambda c, s=step: s(c, "move-0", day))
    run(lambda c: request_transfer(c, POLICY, "back-3", workers[3], "110000", day))
    run(lambda c: approve_transfer(c, "back-3", day))
    run(lambda c: reject_transfer(c, "back-3", day, "wrong region"))
    later = datetime(2026, 6, 18, 12, tzinfo=UTC)
    run(lambda c: close_window(c, date(2026, 6, 16), later))
    run(lambda c: close_window(c, date(2026, 6, 16), later, Scheme.EMPLOYEE_MEDICAL))
    run(lambda c: import_people(c, POLICY, VAULT, [HISTORY], HISTORY_BALANCES, "f" * 64, later))
    # a platform's engagement of worker 0: declared, its relation changed, ended
    for relation, first in (("labour", date(2026, 6, 1)), ("civil", date(2026, 6, 10))):
        run(
            lambda c, r=relation, f=first: declare(
                c, POLICY, VAULT, "courier-co", resident_id(0), "310000", r, f, later
            )
        )
    run(lambda c: end_engagement(c, "courier-co", workers[0], date(2026, 6, 17), later))
    # worker 1's portal login, and a mobile number bound to it
    code = run(lambda c: request_code(c, VAULT, resident_id(1), later))
    run(lambda c: register(c, VAULT, resident_id(1), code, "a long password", later))
    code = run(lambda c: request_code(c, VAULT, PHONE, later))
    run(lambda c: bind_phone(c, VAULT, workers[1], PHONE, code, later))
    pending_code = run(lambda c: request_code(c, VAULT, resident_id(2), later))  # not used
    # worker 1 logged in (their sessions' row, at 0), then out everywhere (1, by themself)
    ended_token = run(lambda c: worker_token(c, TOKEN_KEY, workers[1], later))
    run(lambda c: end_sessions(c, workers[1], later))
    run(lambda c: keep_answer(c, later))
    # a file's batch of months in a region of its own: two segments, and its receipt
    bulk = [f"WB{k:08d}" for k in range(bulk_workers)]
    paid = [Month.of(2026, 3) + -n for n in range(-(-BULK_ROWS // bulk_workers))][::-1]
    enrol_in_bulk(engine, bulk, BULK_REGION, paid[0])
    floor = {m: base_bounds_fen(BULK_REGION, m)[0] for m in paid}
    rows = [(f"b{k}/{m}", w, m) for m in paid for k, w in enumerate(bulk)]
    run(
        lambda c: post_batch(
            c,
            POLICY,
            ContributionRows(
                [r[0] for r in rows],
                [r[1] for r in rows],
                np.array([r[2].ordinal for r in rows], dtype=np.int64),
                np.array([floor[r[2]] for r in rows], dtype=np.int64),
            ),
            later,
        )
    )
    # what grants access: an agency key, another one revoked, a clerk of Guangzhou
    keys = {
        name: run(lambda c, r=region: issue_key(c, ActorKind.AGENCY, r, "desk", later)[0])
        for name, region in (("live", "440100"), ("revoked", "110000"))
    }
    run(lambda c: revoke_key(c, keys["revoked"], later))
    run(lambda c: add_clerk(c, CLERK, "440100", CLERK_PASSWORD, later))
    # the clerk logged out once: their sessions' generation 1, a token of 0 ended
    run(lambda c: end_clerk_sessions(c, CLERK, later, f"clerk:{CLERK}"))
    checkpoint = run(lambda c: make_checkpoint(c, later))
    with unit_of_work(engine) as c:
        result = verify(c)
    assert result.ok, result.problems
    return Ledger(engine, workers, checkpoint, keys, pending_code, ended_token)  # type: ignore[arg-type]


def keep_answer(c: Connection, now: datetime) -> None:
    """An answer kept for an Idempotency-Key, sealed as api/routes/common.py keeps one."""
    kept = {
        "key_id": "0a0a0a0a0a0a",
        "idempotency_key": "k-1",
        "request_sha256": "f" * 64,
        "status": 201,
        "body": '{"months": []}',
        "created_at": now,
    }
    c.execute(
        insert(idempotency_keys).values(kept | {"seal": seal(keys_of(c), "idempotency_keys", kept)})
    )


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def ledger(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Ledger]:
    engine, schema = migrated_engine(request.param, tmp_path_factory.mktemp("tamper"))
    try:
        yield build(engine)
    finally:
        release(engine, schema)


@contextmanager
def tampering(engine: Engine) -> Iterator[Connection]:
    """A database transaction in which the append-only rules do not apply, rolled back after."""
    with engine.connect() as connection:
        if is_postgres(connection):
            transaction = connection.begin()
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            try:
                yield connection
            finally:
                transaction.rollback()
            return
        raw = connection.connection.driver_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys=OFF")  # before BEGIN: inside a transaction a no-op
        transaction = connection.begin()
        try:
            # on the driver's connection, in the transaction just begun: 38 triggers, dropped
            # for each of the sweeps' thousand cases (through SQLAlchemy, 2 ms a case)
            triggers = raw.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            for (name,) in triggers.fetchall():
                raw.execute(f"DROP TRIGGER {name}")
            yield connection
        finally:
            transaction.rollback()
            raw.execute("PRAGMA foreign_keys=ON")


def entry(c: Connection, tx_id: str) -> dict[str, Any]:
    row = c.execute(text("SELECT region, seq FROM journal WHERE tx_id = :t"), {"t": tx_id}).one()
    return {"region": row.region, "seq": int(row.seq)}


def month_entry(c: Connection, tx_id: str) -> dict[str, Any]:
    row = c.execute(
        text("SELECT region, seq, line FROM contribution_months WHERE tx_id = :t"), {"t": tx_id}
    ).one()
    return {"region": row.region, "seq": int(row.seq), "line": int(row.line), "tx": tx_id}


def newest(c: Connection, region: str) -> dict[str, Any]:
    seq = c.execute(
        text("SELECT MAX(seq) FROM journal WHERE region = :r"), {"r": region}
    ).scalar_one()
    return {"region": region, "seq": int(seq)}


E = "WHERE region = :region AND seq = :seq"
M = "WHERE tx_id = :tx"

# (case, SQL statements, parameters from the ledger, the table the audit must name)
Case = tuple[str, list[str], Callable[[Connection, Ledger], dict[str, Any]], str]
move_out = lambda c, lg: entry(c, "transfer/move-0/out")  # noqa: E731
month = lambda c, lg: month_entry(c, CONTRIBUTION)  # noqa: E731
workers = lambda c, lg: {"a": lg.workers[1], "b": lg.workers[2]}  # noqa: E731
opening = lambda c, lg: dict(  # noqa: E731
    c.execute(text("SELECT region, seq FROM journal WHERE code = 'opening'")).one()._mapping
)
no_worker = lambda c, lg: dict(  # noqa: E731
    c.execute(text("SELECT region, seq FROM journal WHERE worker_id IS NULL ORDER BY region, seq"))
    .first()
    ._mapping
)
key_ids = lambda c, lg: {name: key.split("_")[1] for name, key in lg.keys.items()}  # noqa: E731
FORGED = "sk_f0f0f0f0f0f0_forged"
FORGED_KEY = (
    "INSERT INTO api_keys (key_id, secret_sha256, actor, scope, label, created_at, version)"
    " VALUES ('f0f0f0f0f0f0', :sha, 'agency', '000000', 'forged', :when, 1)"
)


def forged_key(c: Connection, lg: Ledger) -> dict[str, Any]:
    return key_ids(c, lg) | {"sha": hashlib.sha256(FORGED.encode()).hexdigest(), "when": JUNE}


def forged_live(lg: Ledger) -> str:
    """A key of the live key's id with the forger's secret."""
    return f"sk_{lg.keys['live'].split('_')[1]}_forged"


FORGED_CLERK = (
    "INSERT INTO clerks (login, region, password_hash, failures, created_at, version)"
    " VALUES ('forged.clerk', '000000', :hash, 0, :when, 1)"
)


def forged_clerk(c: Connection, lg: Ledger) -> dict[str, Any]:
    return {"login": CLERK, "hash": forged_hash(), "when": JUNE}


@functools.cache
def forged_hash() -> str:
    """The argon2id hash of the forger's password (hashed once: argon2 is slow on purpose)."""
    from suiren.services.logins import hash_password

    return hash_password(FORGED_PASSWORD)


FORGED_PASSWORD = "the forger's password"
FORGED_CODE_TEXT = "424242"
FORGED_LOGIN = (
    "INSERT INTO logins (blind_index, worker_id, password_hash, failures, created_at)"
    " VALUES (:index, :b, :hash, 0, :when)"
)
FORGED_CODE = (
    "INSERT INTO login_codes (blind_index, code_sha256, expires_at, attempts)"
    " VALUES (:index, :sha, :until, 0)"
)


def forged_login(c: Connection, lg: Ledger) -> dict[str, Any]:
    """A login for worker 2 (who has none) with the forger's password."""
    return workers(c, lg) | {
        "index": VAULT.blind_index(resident_id(2)),
        "hash": forged_hash(),
        "when": JUNE,
    }


def forged_code(c: Connection, lg: Ledger) -> dict[str, Any]:
    """A code the forger knows, for worker 1 (no code pending: the insert) or in place of
    worker 2's pending one (the updates), valid for a year."""
    return {
        "index": VAULT.blind_index(resident_id(1)),
        "sha": hashlib.sha256(FORGED_CODE_TEXT.encode()).hexdigest(),
        "until": JUNE + timedelta(days=365),
    }


CASES: list[Case] = [
    # the journal
    ("journal memo", [f"UPDATE journal SET memo = 'quiet fix' {E}"], move_out, "journal"),
    ("journal legal month", [f"UPDATE journal SET legal_month = legal_month - 1 {E}"], move_out, "journal"),
    ("journal worker", [f"UPDATE journal SET worker_id = 'WFORGED' {E}"], move_out, "journal"),
    ("journal code", [f"UPDATE journal SET code = 'interest' {E}"], move_out, "journal"),
    ("journal recorded_at", ["UPDATE journal SET recorded_at = :when WHERE region = :region AND seq = :seq"],
     lambda c, lg: move_out(c, lg) | {"when": datetime(2020, 1, 1, tzinfo=UTC)}, "journal"),
    ("journal tx id", [f"UPDATE journal SET tx_id = 'forged-1' {E}"], move_out, "journal"),
    ("journal reverses", [f"UPDATE journal SET reverses = 'p26-2/2026-01' {E}"],
     lambda c, lg: entry(c, REVERSAL), "journal"),
    ("journal content hash", [f"UPDATE journal SET content_hash = '{'0' * 64}' {E}"], move_out, "journal"),
    ("journal chain hash", [f"UPDATE journal SET chain_hash = '{'f' * 64}' {E}"], move_out, "journal"),
    ("journal previous hash", [f"UPDATE journal SET prev_hash = '{'f' * 64}' {E}"], move_out, "journal"),
    ("journal months of a transaction", [f"UPDATE journal SET months = 3 {E}"], move_out, "journal"),
    ("journal months of a batch", [f"UPDATE journal SET months = months - 1 {E}"], month, "contribution_months"),
    ("journal entry deleted", [f"DELETE FROM journal {E}", f"DELETE FROM postings {E}",
                               f"DELETE FROM facts {E}"], move_out, "journal"),
    ("a region's whole journal deleted, its head kept",
     ["DELETE FROM journal WHERE region = '110000'", "DELETE FROM postings WHERE region = '110000'",
      "DELETE FROM facts WHERE region = '110000'", "DELETE FROM contribution_months WHERE region = '110000'",
      "DELETE FROM month_segments WHERE region = '110000'"], lambda c, lg: {}, "chain_heads"),
    ("chain head seq", ["UPDATE chain_heads SET seq = seq - 1 WHERE region = '440100'"],
     lambda c, lg: {}, "chain_heads"),
    ("chain head hash", [f"UPDATE chain_heads SET chain_hash = '{'e' * 64}' WHERE region = '440100'"],
     lambda c, lg: {}, "chain_heads"),
    # postings
    ("posting amount", [f"UPDATE postings SET amount_fen = amount_fen + 1 {E} AND line = 0"], move_out, "postings"),
    ("posting deleted", [f"DELETE FROM postings {E} AND line = 0"], move_out, "postings"),
    ("posting inserted, balanced", [
        "INSERT INTO postings (region, seq, line, account, account_region, amount_fen, legal_month, code)"
        f" SELECT region, seq, 9, account, account_region, 0, legal_month, code FROM postings {E} AND line = 0"],
     move_out, "journal"),
    ("posting to another account", [f"UPDATE postings SET account = REPLACE(account, :a, :b) {E}"],
     lambda c, lg: move_out(c, lg) | {"a": lg.workers[0], "b": lg.workers[1]}, "journal"),
    ("posting legal month copy", [f"UPDATE postings SET legal_month = legal_month - 12 {E} AND line = 0"],
     move_out, "postings"),
    ("posting code copy", [f"UPDATE postings SET code = 'interest' {E} AND line = 0"], move_out, "postings"),
    ("posting region copy", [f"UPDATE postings SET account_region = '110000' {E} AND line = 0"],
     move_out, "postings"),
    ("postings reordered", [f"UPDATE postings SET line = 9 {E} AND line = 0"], move_out, "postings"),
    ("interest posting amount", [f"UPDATE postings SET amount_fen = amount_fen + 100 {E} AND line = 1"],
     lambda c, lg: entry(c, INTEREST), "postings"),
    # facts
    ("fact data", ["UPDATE facts SET data = REPLACE(data, :old, :new) WHERE kind = 'transfers'"],
     lambda c, lg: {"old": '"kept_fen":0', "new": '"kept_fen":1'}, "journal"),
    ("fact deleted", [f"DELETE FROM facts {E} AND line = 0"], move_out, "journal"),
    ("fact inserted", ["INSERT INTO facts (region, seq, line, kind, key, data) SELECT region, seq, 7,"
                       f" kind, key, data FROM facts {E} AND line = 0"], move_out, "journal"),
    ("fact kind", [f"UPDATE facts SET kind = 'workers' {E} AND line = 0"], move_out, "journal"),
    ("fact not JSON", [f"UPDATE facts SET data = 'not json' {E} AND line = 0"], move_out, "journal"),
    ("fact a JSON list", [f"UPDATE facts SET data = '[1]' {E} AND line = 0"], move_out, "journal"),
    # contribution months
    ("month base ×10", [f"UPDATE contribution_months SET base_fen = base_fen * 10 {M}"], month, "contribution_months"),
    ("month moved", [f"UPDATE contribution_months SET month = month - 24 {M}"], month, "contribution_months"),
    ("month of another worker", [f"UPDATE contribution_months SET worker_id = :b {M}"],
     lambda c, lg: month(c, lg) | {"b": lg.workers[4]}, "contribution_months"),
    ("month attempt", [f"UPDATE contribution_months SET attempt = attempt + 1 {M}"], month, "contribution_months"),
    ("month temporary", [f"UPDATE contribution_months SET temporary = 1 {M}"], month, "contribution_months"),
    ("month region", [f"UPDATE contribution_months SET region = '110000' {M}"], month, "contribution_months"),
    ("month deleted", [f"DELETE FROM contribution_months {M}"], month, "contribution_months"),
    ("month inserted", [
        "INSERT INTO contribution_months (tx_id, region, seq, line, worker_id, scheme, month, attempt,"
        " base_fen, due_fen, account_fen, pooled_fen, held_fen, temporary) SELECT 'forged/2026-05',"
        " region, seq, line + 100, worker_id, scheme, month + 36, attempt, base_fen, due_fen, account_fen,"
        f" pooled_fen, held_fen, temporary FROM contribution_months {M}"], month, "contribution_months"),
    ("month line", [f"UPDATE contribution_months SET line = line + 50 {M}"], month, "contribution_months"),
    ("month split shifted", [f"UPDATE contribution_months SET account_fen = account_fen + 100,"
                             f" pooled_fen = pooled_fen - 100 {M}"], month, "contribution_months"),
    ("month held part", ["UPDATE contribution_months SET held_fen = held_fen - 1 WHERE tx_id = 'h26/2026-01'"],
     lambda c, lg: {}, "contribution_months"),
    ("segment hash", [f"UPDATE month_segments SET hash = '{'a' * 64}' {E}"], month, "journal"),
    ("segment deleted", [f"DELETE FROM month_segments {E}"], month, "journal"),
    # projections
    ("transfer state", ["UPDATE transfers SET state = 'requested' WHERE transfer_id = 'move-0'"],
     lambda c, lg: {}, "transfers"),
    ("transfer amount moved", ["UPDATE transfers SET pooled_fen = pooled_fen * 10 WHERE transfer_id = 'move-0'"],
     lambda c, lg: {}, "transfers"),
    ("transfer money left behind", ["UPDATE transfers SET kept_fen = 100 WHERE transfer_id = 'move-0'"],
     lambda c, lg: {}, "transfers"),
    ("transfer deleted", ["DELETE FROM transfers WHERE transfer_id = 'back-3'"], lambda c, lg: {}, "transfers"),
    ("transfer event day", ["UPDATE transfer_events SET on_day = :d WHERE transfer_id = 'move-0'"
                            " AND step = 'accepted'"], lambda c, lg: {"d": date(2026, 5, 1)}, "transfer_events"),
    ("transfer event deleted", ["DELETE FROM transfer_events WHERE transfer_id = 'move-0' AND step = 'completed'"],
     lambda c, lg: {}, "transfer_events"),
    ("enrolment region", ["UPDATE enrolments SET region = '110000' WHERE worker_id = :a"], workers, "enrolments"),
    ("enrolment relation", ["UPDATE enrolments SET relation_region = NULL WHERE worker_id = :a"],
     workers, "enrolments"),
    ("enrolment deleted", ["DELETE FROM enrolments WHERE worker_id = :a"], workers, "enrolments"),
    ("worker ciphertexts swapped", [
        "UPDATE workers SET resident_id_cipher = (SELECT resident_id_cipher FROM workers WHERE worker_id = :b)"
        " WHERE worker_id = :a"], workers, "workers"),
    ("worker blind index", ["UPDATE workers SET blind_index = :b WHERE worker_id = :a"], workers, "workers"),
    ("worker birth month", ["UPDATE workers SET birth_month = birth_month - 120 WHERE worker_id = :a"],
     workers, "workers"),
    ("worker hukou", ["UPDATE workers SET hukou_region = '440000' WHERE worker_id = :a"], workers, "workers"),
    ("interest carry", ["UPDATE interest_carry SET prior_fen = prior_fen - 1"], lambda c, lg: {}, "interest_carry"),
    ("interest run total", ["UPDATE interest_runs SET total_fen = total_fen + 1"], lambda c, lg: {}, "interest_runs"),
    ("settlement position", ["UPDATE settlement_positions SET net_fen = net_fen + 1 WHERE region = '440100'"],
     lambda c, lg: {}, "settlement_positions"),
    ("settlement flow", ["UPDATE settlement_flows SET amount_fen = amount_fen + 1"], lambda c, lg: {}, "settlement_flows"),
    ("settled transfer deleted (settle it twice)", ["DELETE FROM settled_transfers"], lambda c, lg: {},
     "settled_transfers"),
    ("obligation amount", ["UPDATE region_obligations SET amount_fen = amount_fen + 1"], lambda c, lg: {},
     "region_obligations"),
    ("obligation settled twice", ["INSERT INTO settled_obligations (obligation_id, scheme, \"window\")"
                                  " VALUES ('forged', 'employee_medical', :d)"],
     lambda c, lg: {"d": date(2026, 6, 16)}, "settled_obligations"),
    # imported history (opening entries)
    ("history stint base doubled", ["UPDATE history_stints SET base_fen = base_fen * 2 WHERE kind = 'paid'"],
     lambda c, lg: {}, "history_stints"),
    ("history stint extended a year", ["UPDATE history_stints SET to_month = to_month + 12"],
     lambda c, lg: {}, "history_stints"),
    ("history deemed years deleted", ["DELETE FROM history_stints WHERE kind = 'deemed'"],
     lambda c, lg: {}, "history_stints"),
    ("history stint held elsewhere", ["UPDATE history_stints SET held_region = '440100'"],
     lambda c, lg: {}, "history_stints"),
    ("history stint forged", [
        "INSERT INTO history_stints (import_id, row, worker_id, scheme, region, held_region, kind,"
        " from_month, to_month, base_fen, index_1e6, flags) SELECT import_id, row + 100, worker_id,"
        " scheme, region, held_region, kind, from_month - 120, from_month - 1, base_fen, index_1e6,"
        " flags FROM history_stints WHERE kind = 'paid'"], lambda c, lg: {}, "history_stints"),
    ("opening balance amount", [f"UPDATE postings SET amount_fen = amount_fen + 100 {E} AND line = 0"],
     opening, "postings"),
    ("opening entry's facts deleted", [f"DELETE FROM facts {E}"], opening, "journal"),
    # a platform's engagements (人社部发〔2021〕56号 relations)
    ("engagement relation", ["UPDATE platform_engagements SET relation = 'labour' WHERE period = 2"],
     lambda c, lg: {}, "platform_engagements"),
    ("engagement end removed", ["UPDATE platform_engagements SET until = NULL WHERE period = 2"],
     lambda c, lg: {}, "platform_engagements"),
    ("engagement deleted", ["DELETE FROM platform_engagements WHERE period = 1"],
     lambda c, lg: {}, "platform_engagements"),
    ("engagement forged for another platform", [
        "INSERT INTO platform_engagements (platform_id, worker_id, period, relation, work_region,"
        " since, until, recorded_at, version) SELECT 'other-co', worker_id, period, relation,"
        " work_region, since, until, recorded_at, version FROM platform_engagements"],
     lambda c, lg: {}, "platform_engagements"),
    ("engagement fact rewritten", ["UPDATE facts SET data = REPLACE(data, '\"civil\"', '\"labour\"')"
                                   " WHERE kind = 'platform_engagements'"], lambda c, lg: {}, "journal"),
    # balances
    ("balance", ["UPDATE accounts SET balance_fen = balance_fen + 1 WHERE owner_id = :a"
                 " AND kind = 'individual_account'"], workers, "accounts"),
    ("account deleted", ["DELETE FROM accounts WHERE owner_id = :a AND kind = 'pooled_entitlement'"],
     workers, "accounts"),
    ("forged account", ["INSERT INTO accounts (account, owner_type, owner_id, scheme, kind, region, balance_fen)"
                        " VALUES ('worker:WX:employee_pension:individual_account:440100', 'worker', 'WX',"
                        " 'employee_pension', 'individual_account', '440100', 100)"], lambda c, lg: {}, "accounts"),
    # the columns beside an account's key: what the interest run and statements select by
    ("account hidden from the interest run", ["UPDATE accounts SET kind = 'pooled_fund' WHERE owner_id = :a"
                                              " AND kind = 'individual_account'"], workers, "accounts"),
    ("account shown on another worker's statement", ["UPDATE accounts SET owner_id = :b WHERE owner_id = :a"
                                                     " AND kind = 'individual_account'"], workers, "accounts"),
    ("worker's account passed off as the system's", ["UPDATE accounts SET owner_type = 'system'"
                                                     " WHERE owner_id = :a"], workers, "accounts"),
    ("account moved to another region's run", ["UPDATE accounts SET region = '110000' WHERE owner_id = :a"
                                               " AND kind = 'individual_account'"], workers, "accounts"),
    # a batch of a file: its segments' row counts, its receipt
    ("segment row count", ["UPDATE month_segments SET rows = rows - 1 WHERE region = :r AND segment = 0"],
     lambda c, lg: {"r": BULK_REGION}, "month_segments"),
    ("receipt says fewer posted", ["UPDATE intake_receipts SET posted = posted - 1"], lambda c, lg: {},
     "intake_receipts"),
    ("receipt says a row was refused", ["UPDATE intake_receipts SET refused = '7'"], lambda c, lg: {},
     "intake_receipts"),
    ("receipt deleted (the file posts again)", ["DELETE FROM intake_receipts"], lambda c, lg: {},
     "intake_receipts"),
    ("bulk month in the second segment", ["UPDATE contribution_months SET base_fen = base_fen + 1"
                                          " WHERE tx_id = :t"], lambda c, lg: {"t": f"b{BULK_WORKERS - 1}/2026-03"},
     "contribution_months"),
    # made consistently: the balance follows the posting; the entry moved to another chain
    ("posting amount with its balance", [
        "UPDATE accounts SET balance_fen = balance_fen + 100 WHERE account ="
        f" (SELECT account FROM postings {E} AND line = 0)",
        f"UPDATE postings SET amount_fen = amount_fen + 100 {E} AND line = 0"], move_out, "journal"),
    ("entry moved to the end of another region's chain", [
        f"UPDATE {t} SET region = '110000', seq = :next {E}" for t in ("postings", "facts", "journal")
    ] + ["UPDATE chain_heads SET seq = :next, chain_hash = (SELECT chain_hash FROM journal"
         " WHERE region = '110000' AND seq = :next) WHERE region = '110000'"],
     lambda c, lg: move_out(c, lg) | {"next": newest(c, "110000")["seq"] + 1}, "journal"),
    # a portal login: it opens the worker its resident id registered
    ("login opens another worker's records", ["UPDATE logins SET worker_id = :b WHERE worker_id = :a"],
     workers, "logins"),
    ("login of a person who is no worker", ["UPDATE logins SET blind_index = REPLACE(blind_index, '0', '1')"
                                            " WHERE worker_id = :a"], workers, "logins"),
    ("mobile number bound to no worker", ["UPDATE login_phones SET worker_id = 'WFORGED'"], lambda c, lg: {},
     "login_phones"),
    # what lets someone into a worker's portal: sealed rows (store/seals.py)
    ("worker's password replaced", ["UPDATE logins SET password_hash = :hash WHERE worker_id = :a"],
     lambda c, lg: workers(c, lg) | {"hash": forged_hash()}, "logins"),
    ("worker's login inserted", [FORGED_LOGIN], forged_login, "logins"),
    ("one-time code planted", [FORGED_CODE], forged_code, "login_codes"),
    ("pending code replaced", ["UPDATE login_codes SET code_sha256 = :sha"], forged_code, "login_codes"),
    ("pending code's expiry pushed back", ["UPDATE login_codes SET expires_at = :until"], forged_code,
     "login_codes"),
    ("mobile number moved to another worker", ["UPDATE login_phones SET worker_id = :b"], workers,
     "login_phones"),
    # what grants access: API keys and clerks' logins, recorded in the national journal
    ("API key inserted with the national agency's rights", [FORGED_KEY], forged_key, "api_keys"),
    ("API key's actor changed", ["UPDATE api_keys SET actor = 'auditor' WHERE key_id = :live"],
     key_ids, "api_keys"),
    ("API key's scope widened to its province", ["UPDATE api_keys SET scope = '440000'"
                                                 " WHERE key_id = :live"], key_ids, "api_keys"),
    ("API key moved to another region", ["UPDATE api_keys SET scope = '110000' WHERE key_id = :live"],
     key_ids, "api_keys"),
    ("API key's hash replaced", ["UPDATE api_keys SET secret_sha256 = :sha WHERE key_id = :live"],
     lambda c, lg: key_ids(c, lg) | {"sha": hashlib.sha256(forged_live(lg).encode()).hexdigest()},
     "api_keys"),
    ("revoked API key un-revoked", ["UPDATE api_keys SET revoked_at = NULL WHERE key_id = :revoked"],
     key_ids, "api_keys"),
    ("API key deleted", ["DELETE FROM api_keys WHERE key_id = :live"], key_ids, "api_keys"),
    ("API key's revocation cut from the journal", [
        "DELETE FROM facts WHERE kind = 'api_keys' AND key = :revoked AND data LIKE :second",
        "UPDATE api_keys SET revoked_at = NULL, version = 1 WHERE key_id = :revoked"],
     lambda c, lg: key_ids(c, lg) | {"second": '%"version":2%'}, "journal"),
    ("clerk inserted at the national desk", [FORGED_CLERK], forged_clerk, "clerks"),
    ("clerk moved to the national desk", ["UPDATE clerks SET region = '000000' WHERE login = :login"],
     lambda c, lg: {"login": CLERK}, "clerks"),
    ("clerk's password replaced", ["UPDATE clerks SET password_hash = :hash WHERE login = :login"],
     forged_clerk, "clerks"),
    ("clerk deleted", ["DELETE FROM clerks WHERE login = :login"], lambda c, lg: {"login": CLERK},
     "clerks"),
    # the generation of a clerk's sessions, recorded with their login: set back, it would
    # revive the tokens signed before their logout
    ("clerk's sessions' generation set back", ["UPDATE clerks SET session_generation = 0"
                                               " WHERE login = :login"],
     lambda c, lg: {"login": CLERK}, "clerks"),
    ("clerk's logout cut from the journal", [
        "DELETE FROM facts WHERE kind = 'clerks' AND key = :login AND data LIKE :second",
        "UPDATE clerks SET session_generation = 0, version = 1 WHERE login = :login"],
     lambda c, lg: {"login": CLERK, "second": '%"version":2%'}, "journal"),
    # the generation of a worker's sessions, recorded in the national journal: set back, it
    # would revive the tokens signed before they were ended
    ("worker's sessions' generation set back", ["UPDATE worker_sessions SET generation = 0"
                                                " WHERE worker_id = :a"], workers, "worker_sessions"),
    ("worker's sessions' row deleted", ["DELETE FROM worker_sessions WHERE worker_id = :a"], workers,
     "worker_sessions"),
    ("worker's sessions' row inserted", ["INSERT INTO worker_sessions (worker_id, generation, version)"
                                         " VALUES (:b, 0, 1)"], workers, "worker_sessions"),
    ("worker's sessions' end cut from the journal", [
        "DELETE FROM facts WHERE kind = 'worker_sessions' AND key = :a AND data LIKE :second",
        "UPDATE worker_sessions SET generation = 0, ended_at = NULL, ended_by = NULL, version = 1"
        " WHERE worker_id = :a"],
     lambda c, lg: workers(c, lg) | {"second": '%"version":2%'}, "journal"),
    # NULL and '' hash alike: only NULL is written
    ("journal worker blanked", [f"UPDATE journal SET worker_id = '' {E}"], no_worker, "journal"),
    ("journal reverses blanked", [f"UPDATE journal SET reverses = '' {E}"], no_worker, "journal"),
]  # fmt: skip


def run_case(
    ledger: Ledger, statements: list[str], params: Any, checkpoint: bool = False
) -> AuditResult:
    with tampering(ledger.engine) as c:
        values = params(c, ledger)
        touched = 0
        for sql in statements:
            touched += c.execute(text(sql), values).rowcount
        assert touched > 0, "the tamper must touch at least one row"
        return verify(c, ledger.checkpoint if checkpoint else None)


@pytest.mark.parametrize(
    ("statements", "params", "table"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_tamper_is_found_and_named(ledger: Ledger, statements, params, table) -> None:
    result = run_case(ledger, statements, params)
    assert not result.ok
    assert table in {p.table for p in result.problems}, result.problems


def test_the_cases_are_many_and_the_ledger_untouched(ledger: Ledger) -> None:
    assert len(CASES) >= 55
    with unit_of_work(ledger.engine) as c:
        assert verify(c, ledger.checkpoint).ok  # every case was rolled back


def test_every_table_is_covered() -> None:
    """A new table must be hashed, a projection of facts, recomputed, or the key's record;
    a new table of the service's must be a grant recorded in the journal, have its logins
    checked, or grant nothing."""
    covered = HASHED | set(PROJECTIONS) | MAINTAINED | KEY_TABLE
    assert set(metadata.tables) == covered, set(metadata.tables) ^ covered
    service = set(GRANTS) | SEALED_TABLES | GRANTING_NOTHING
    assert set(api_metadata.tables) == service, set(api_metadata.tables) ^ service


# what each tamper of a grant would let in, had authentication trusted the row: refused
LETS_IN: dict[str, Callable[[Connection, Ledger], object]] = {
    "API key inserted with the national agency's rights": lambda c, lg: FORGED,
    "API key's actor changed": lambda c, lg: lg.keys["live"],
    "API key's scope widened to its province": lambda c, lg: lg.keys["live"],
    "API key moved to another region": lambda c, lg: lg.keys["live"],
    "API key's hash replaced": lambda c, lg: forged_live(lg),
    "revoked API key un-revoked": lambda c, lg: lg.keys["revoked"],
    "clerk inserted at the national desk": lambda c, lg: ("forged.clerk", FORGED_PASSWORD),
    "clerk moved to the national desk": lambda c, lg: (CLERK, CLERK_PASSWORD),
    "clerk's password replaced": lambda c, lg: (CLERK, FORGED_PASSWORD),
    "clerk's sessions' generation set back": lambda c, lg: (CLERK, CLERK_PASSWORD),
}


def test_a_clerks_generation_set_back_revives_no_token(ledger: Ledger) -> None:
    """The clerk's token signed before their logout, their row's generation set back to it
    behind the service: refused at once (the row is not as its latest fact records it, so
    the clerk is let in nowhere until it is), not only found by the next audit; untouched,
    the ended token stays refused and one of the current generation is let in."""
    from suiren.api.auth import authenticate as authenticate_token

    now = datetime(2026, 6, 18, 12, 1, tzinfo=UTC)
    ended = f"Bearer {sign_clerk_token(TOKEN_KEY, CLERK, now, 0)}"
    current = f"Bearer {sign_clerk_token(TOKEN_KEY, CLERK, now, 1)}"
    statements, params = next((c[1], c[2]) for c in CASES if c[0].startswith("clerk's sessions'"))
    with tampering(ledger.engine) as c:
        for sql in statements:
            assert c.execute(text(sql), params(c, ledger)).rowcount == 1
        for bearer in (ended, current):
            with pytest.raises(Unauthorized):
                authenticate_token(c, bearer, TOKEN_KEY, now)
    with tampering(ledger.engine) as c:
        with pytest.raises(Unauthorized):
            authenticate_token(c, ended, TOKEN_KEY, now)
        assert authenticate_token(c, current, TOKEN_KEY, now).scope == "440100"


@pytest.mark.parametrize("case", sorted(LETS_IN))
def test_a_grant_changed_behind_the_ledger_lets_no_one_in(ledger: Ledger, case: str) -> None:
    """Authentication asks the row's fact too: the tamper is refused at once, not only found
    by the next audit (no audit runs here)."""
    statements, params = next((c[1], c[2]) for c in CASES if c[0] == case)
    with tampering(ledger.engine) as c:
        values = params(c, ledger)
        for sql in statements:
            assert c.execute(text(sql), values).rowcount == 1
        who = LETS_IN[case](c, ledger)
        if isinstance(who, tuple):
            assert log_in_clerk(c, who[0], who[1], JUNE) is None
            assert get_clerk(c, who[0]) is None
        else:
            with pytest.raises(Unauthorized):
                authenticate(c, f"Bearer {who}")


@pytest.mark.parametrize(
    "case", ["worker's sessions' generation set back", "worker's sessions' row deleted"]
)
def test_a_generation_set_back_revives_no_token(ledger: Ledger, case: str) -> None:
    """Worker 1's token signed before they logged out everywhere, their row set back to its
    generation (or deleted) behind the service: refused at once — the row is not as its
    latest fact records it —, not only found by the next audit. A login then ends every
    earlier session again, above every generation a token was signed at, and the fact's memo
    keeps what it found. (A writer who also cuts the end from the journal revives the token
    until the next audit, which names the cut chain: the case below, as a key's revocation.)"""
    from suiren.api.auth import authenticate as authenticate_token
    from suiren.services.logins import BY_LOGIN, session_generation

    statements, params = next((c[1], c[2]) for c in CASES if c[0] == case)
    bearer = f"Bearer {ledger.ended_token}"
    now = datetime(2026, 6, 18, 12, 1, tzinfo=UTC)  # a minute after build() signed it
    found = "generation 0" if case.endswith("set back") else "missing"
    newest = text("SELECT memo FROM journal WHERE region = '000000' ORDER BY seq DESC LIMIT 1")
    with tampering(ledger.engine) as c:
        for sql in statements:
            assert c.execute(text(sql), params(c, ledger)).rowcount == 1
        with pytest.raises(Unauthorized):
            authenticate_token(c, bearer, TOKEN_KEY, now)
        assert session_generation(c, ledger.workers[1], now) == 2
        memo = c.execute(newest).scalar_one()
        assert f"by {BY_LOGIN}; the row was not as recorded ({found}, recorded 1)" in memo, memo
        with pytest.raises(Unauthorized):
            authenticate_token(c, bearer, TOKEN_KEY, now)
        audit = verify(c)  # the row as its new fact records it: no problem, but not forgotten
        assert audit.ok, audit.problems
        [repair] = audit.repaired
        assert (repair.table, repair.row) == ("worker_sessions", ledger.workers[1])
        assert f"the row was not as recorded ({found}, recorded 1)" in repair.what, repair.what
        assert audit.to_json()["repaired"] == [repair.to_json()]
    with tampering(ledger.engine) as c:  # untouched: the token was ended, a new one is not
        with pytest.raises(Unauthorized):
            authenticate_token(c, bearer, TOKEN_KEY, now)
        fresh = worker_token(c, TOKEN_KEY, ledger.workers[1], now)
        assert authenticate_token(c, f"Bearer {fresh}", TOKEN_KEY, now).scope == ledger.workers[1]


# what each tamper of a worker's login would let in, had logging in trusted the row: the
# forger's password, or code, opens the worker's portal (the code's: worker 1's or 2's)
# (the expiry: worker 2's own code, which the forger got hold of, used long after it expired)
OPENS: dict[str, Callable[[Connection, Ledger], str | None]] = {
    "worker's password replaced": lambda c, lg: log_in(c, VAULT, resident_id(1), FORGED_PASSWORD, JUNE),
    "worker's login inserted": lambda c, lg: log_in(c, VAULT, resident_id(2), FORGED_PASSWORD, JUNE),
    "one-time code planted": lambda c, lg: log_in_with_code(c, VAULT, resident_id(1), FORGED_CODE_TEXT, JUNE),
    "pending code replaced": lambda c, lg: log_in_with_code(c, VAULT, resident_id(2), FORGED_CODE_TEXT, JUNE),
    "pending code's expiry pushed back": lambda c, lg: log_in_with_code(
        c, VAULT, resident_id(2), lg.pending_code, JUNE + timedelta(days=300)
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(OPENS))
def test_a_worker_login_changed_behind_the_service_opens_nothing(ledger: Ledger, case: str) -> None:
    """Logging in checks the row's seal: the forged row is refused at once, not only found by
    the next audit. (For the code cases the forger also wrote the code they hold.)"""
    statements, params = next((c[1], c[2]) for c in CASES if c[0] == case)
    with tampering(ledger.engine) as c:
        values = params(c, ledger)
        if case != "one-time code planted":  # the updates: worker 2's code is the forger's
            values |= {"index": VAULT.blind_index(resident_id(2))}
        for sql in statements:
            assert c.execute(text(sql), values).rowcount == 1
        assert OPENS[case](c, ledger) is None


def test_a_mobile_number_moved_to_another_worker_opens_nothing(ledger: Ledger) -> None:
    """Worker 1's number, re-pointed at worker 2 behind the service: a code sent to that
    number (its holder's, legitimately asked for) opens no one's portal."""
    with tampering(ledger.engine) as c:
        assert c.execute(
            text("UPDATE login_phones SET worker_id = :b"), workers(c, ledger)
        ).rowcount
        code = request_code(c, VAULT, PHONE, JUNE)
        assert log_in_with_code(c, VAULT, PHONE, code, JUNE) is None
    with tampering(ledger.engine) as c:  # the same, untouched: the number opens worker 1's
        code = request_code(c, VAULT, PHONE, JUNE)
        assert log_in_with_code(c, VAULT, PHONE, code, JUNE) == ledger.workers[1]
        assert log_in(c, VAULT, resident_id(1), "a long password", JUNE) == ledger.workers[1]


SEALED_COLUMNS = [(table, column) for table, columns in SEALED.items() for column in columns]


@pytest.mark.parametrize(
    ("table", "column"), SEALED_COLUMNS, ids=[".".join(t) for t in SEALED_COLUMNS]
)
def test_a_sealed_column_changed_or_its_seal_removed_is_found(
    ledger: Ledger, table: str, column: str
) -> None:
    """Each column a seal covers, changed on its one row: the audit names the row's table;
    so does the seal set to NULL (a row written without the service)."""
    with tampering(ledger.engine) as c:
        row = c.execute(text(f"SELECT * FROM {table} LIMIT 1")).mappings().one()
        value = row[column]
        if isinstance(value, datetime):
            new: Any = value + timedelta(seconds=1)
        elif isinstance(value, int):
            new = value + 1
        else:
            new = value[:-1] + ("1" if value.endswith("0") else "0")
        c.execute(text(f"UPDATE {table} SET {column} = :new"), {"new": new})
        assert table in {p.table for p in verify(c).problems}, (table, column)
    with tampering(ledger.engine) as c:
        c.execute(text(f"UPDATE {table} SET seal = NULL"))
        problems = [p for p in verify(c).problems if p.table == table]
        assert problems and "seal is missing" in problems[0].what, problems


# --- what only a checkpoint finds ------------------------------------------------------------


def rewind(c: Connection, ledger: Ledger) -> dict[str, Any]:
    """The newest entry of 440100 deleted and its head moved back: the chain still holds."""
    last = newest(c, "440100")
    previous = c.execute(
        text("SELECT chain_hash FROM journal WHERE region = :region AND seq = :seq"),
        {"region": "440100", "seq": last["seq"] - 1},
    ).scalar_one()
    return last | {"back": last["seq"] - 1, "hash": previous}


REWIND = [  # and the balances put back as they were before it, as a careful forger would
    "UPDATE accounts SET balance_fen = balance_fen - (SELECT SUM(p.amount_fen) FROM postings p"
    " WHERE p.account = accounts.account AND p.region = :region AND p.seq = :seq)"
    " WHERE account IN (SELECT account FROM postings WHERE region = :region AND seq = :seq)",
    f"DELETE FROM postings {E}", f"DELETE FROM facts {E}", f"DELETE FROM journal {E}",
    "UPDATE chain_heads SET seq = :back, chain_hash = :hash WHERE region = :region",
]  # fmt: skip
REGION_GONE = [f"DELETE FROM {t} WHERE region = '110000'" for t in
               ("journal", "postings", "facts", "contribution_months", "month_segments", "chain_heads")]  # fmt: skip


def test_a_rewound_chain_is_found_only_against_a_checkpoint(ledger: Ledger) -> None:
    assert run_case(ledger, REWIND, rewind).ok  # the chain alone cannot tell
    result = run_case(ledger, REWIND, rewind, checkpoint=True)
    assert not result.ok and {p.table for p in result.problems} == {"journal"}, result.problems
    assert "removed" in result.problems[0].what


def test_a_region_deleted_with_its_head_is_found_against_a_checkpoint(ledger: Ledger) -> None:
    result = run_case(ledger, REGION_GONE, lambda c, lg: {}, checkpoint=True)
    assert not result.ok and any(p.row.startswith("110000/") for p in result.problems), (
        result.problems
    )


def test_a_chain_recomputed_without_the_key_is_found(ledger: Ledger) -> None:
    """An edit with every content and chain hash recomputed — but with another key (the
    attacker does not hold the agency's): the first rewritten link is not the key's."""
    from suiren.ledger.hashchain import chain_hash

    forged = ledger_keys(b"attacker" * 4).chain_key

    def forge(c: Connection, lg: Ledger) -> dict[str, Any]:
        key = entry(c, "transfer/move-0/out")
        row = c.execute(text(f"SELECT prev_hash, content_hash FROM journal {E}"), key).one()
        return key | {"chain": chain_hash(forged, row.prev_hash, row.content_hash)}

    result = run_case(ledger, [f"UPDATE journal SET chain_hash = :chain {E}"], forge)
    assert any("not the key's" in p.what for p in result.problems), result.problems


def test_a_forged_checkpoint_is_refused(ledger: Ledger) -> None:
    altered = json.loads(json.dumps(ledger.checkpoint))
    altered["heads"][0]["seq"] -= 1
    with unit_of_work(ledger.engine) as c:
        result = verify(c, altered)
    assert not result.ok and result.problems[0].table == "checkpoint"


def test_a_checkpoint_of_another_key_is_refused(ledger: Ledger, tmp_path: Path) -> None:
    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}", keys=ledger_keys(b"o" * 32))
    upgrade(other)
    with unit_of_work(other) as c:
        foreign = make_checkpoint(c, JUNE)
    other.dispose()
    with unit_of_work(ledger.engine) as c:
        result = verify(c, foreign)
    assert not result.ok and result.problems[0].table == "checkpoint"


def test_the_audit_leaves_the_callers_connection_as_it_found_it(ledger: Ledger) -> None:
    """``verify`` streams its reads per statement: the caller's connection keeps its options,
    so a savepoint taken after an audit works (a streaming connection cannot take one on
    PostgreSQL)."""
    with ledger.engine.connect() as c:
        before = dict(c.get_execution_options())
        result = verify(c)  # worker 1's sessions ended by themself: no repair to list
        assert result.ok and result.repaired == [], result.repaired
        assert dict(c.get_execution_options()) == before
        with c.begin_nested():
            c.execute(text("SELECT 1"))
        c.rollback()


def test_revoking_a_tampered_key_records_the_journals_key_not_the_rows(ledger: Ledger) -> None:
    """A key re-scoped behind the ledger's back and then revoked: the revocation's fact is the
    recorded key, revoked — the audit still names the scope. A key un-revoked behind its
    back and revoked again: its first revocation stands and the row is put back."""
    ids = key_ids(None, ledger)  # type: ignore[arg-type]
    with tampering(ledger.engine) as c:
        c.execute(
            text("UPDATE api_keys SET scope = '000000' WHERE key_id = :k"), {"k": ids["live"]}
        )
        revoke_key(c, ledger.keys["live"], JUNE)
        problems = verify(c).problems
        assert [(p.table, p.row) for p in problems] == [("api_keys", ids["live"])], problems
        assert "scope" in problems[0].what
    with tampering(ledger.engine) as c:
        c.execute(text("UPDATE api_keys SET revoked_at = NULL WHERE key_id = :revoked"), ids)
        july = datetime(2026, 7, 1, tzinfo=UTC)
        assert revoke_key(c, ledger.keys["revoked"], july) < july  # the journal's, not a new one
        assert verify(c).ok


# --- values of a type the service never writes, where a row decides who gets in -----------

# per sealed table, values the database takes that the service never writes (SQLite keeps
# any value; PostgreSQL, a seal that is not ASCII or a time that is infinity)
WRONG_TYPED_SEALED = {
    "sqlite": {
        "logins": {"password_hash": "x'00ff'", "seal": "'封印'", "created_at": "5",
                   "failures": "'x'", "worker_id": "CAST(x'ff' AS TEXT)"},
        "login_codes": {"expires_at": "x'00'", "code_sha256": "CAST(x'ff' AS TEXT)",
                        "seal": "x'00'"},
        "login_phones": {"masked": "x'00ff'", "seal": "'封印'", "worker_id": "0.5"},
        "idempotency_keys": {"body": "x'00'", "status": "'x'", "seal": "'封印'"},
    },
    "postgres": {
        "logins": {"seal": "'封印'", "created_at": "'infinity'", "locked_until": "'-infinity'"},
        "login_codes": {"expires_at": "'infinity'", "seal": "'封印'"},
        "login_phones": {"seal": "'封印'", "bound_at": "'infinity'"},
        "idempotency_keys": {"seal": "'封印'", "created_at": "'infinity'"},
    },
}  # fmt: skip
# what each sealed row opens or answers: worker 1's password and number, worker 2's pending
# code, the kept answer
READS: dict[str, Callable[[Connection, Ledger], object]] = {
    "logins": lambda c, lg: log_in(c, VAULT, resident_id(1), "a long password", JUNE),
    "login_codes": lambda c, lg: log_in_with_code(c, VAULT, resident_id(2), lg.pending_code, JUNE),
    "login_phones": lambda c, lg: phone_of(c, lg.workers[1]),
    "idempotency_keys": lambda c, lg: (
        read_sealed(c, idempotency_keys, idempotency_keys.c.idempotency_key == "k-1").row
    ),
}


@pytest.mark.parametrize("table", sorted(READS))
def test_a_sealed_row_of_the_wrong_type_is_not_genuine_and_named(
    ledger: Ledger, table: str
) -> None:
    """A value of a type the service never writes, in any column of a sealed row (bytes where
    text belongs, a seal that is not ASCII, a time no Python value holds): the row opens
    nothing and answers nothing, as if absent — not an error of the login or the retry (an
    HTTP 500) — and the audit names its table. A kept answer is there but not genuine."""
    with tampering(ledger.engine) as c:
        assert READS[table](c, ledger) is not None  # untouched: it opens, it answers
        backend = "postgres" if is_postgres(c) else "sqlite"
    for column, value in WRONG_TYPED_SEALED[backend][table].items():
        with tampering(ledger.engine) as c:
            assert c.execute(text(f"UPDATE {table} SET {column} = {value}")).rowcount == 1
            assert READS[table](c, ledger) is None, column
            if table == "idempotency_keys":
                kept = read_sealed(c, idempotency_keys, idempotency_keys.c.idempotency_key == "k-1")
                assert kept.present, column  # refused (409), not taken for absent
            assert table in {p.table for p in verify(c).problems}, column


# --- one tamper never hides another ----------------------------------------------------------

BROKEN_ROW = {  # a journal entry the walk cannot read: the walk of the chains stops there
    "sqlite": "UPDATE journal SET recorded_at = 'x' WHERE region = '110000' AND seq = 1",
    "postgres": "UPDATE journal SET recorded_at = 'infinity' WHERE region = '110000' AND seq = 1",
}


def test_a_walk_stopped_at_a_broken_row_still_compares_the_heads_and_the_checkpoint(
    ledger: Ledger,
) -> None:
    """An entry that cannot be read stops the walk; a chain rewound (its newest entry and
    head removed: only the checkpoint can tell) and another region's head rewritten are
    still found. Before, the walk's failure skipped the heads, and the checkpoint failed."""
    with tampering(ledger.engine) as c:
        values = rewind(c, ledger)
        for sql in REWIND:
            c.execute(text(sql), values)
        c.execute(text(BROKEN_ROW["postgres" if is_postgres(c) else "sqlite"]))
        c.execute(text(f"UPDATE chain_heads SET chain_hash = '{'e' * 64}' WHERE region = '330100'"))
        result = verify(c, ledger.checkpoint)
    found = {(p.table, p.row) for p in result.problems}
    assert ("journal", "*") in found, result.problems  # the broken entry: named, not crashed
    assert ("chain_heads", "330100") in found, result.problems
    rewound = f"440100/{values['seq']}"
    assert any(p.row == rewound and "removed" in p.what for p in result.problems), result.problems


def test_a_sum_that_overflows_names_the_accounts_and_the_audit_goes_on(ledger: Ledger) -> None:
    """Balances the service never writes, whose sum no 64-bit integer holds (SQLite refuses
    the sum: an error of the balance step, which was not guarded): the accounts are named,
    and the checks after that one still run (a worker's account made negative is found)."""
    with tampering(ledger.engine) as c:
        c.execute(
            text(
                "UPDATE accounts SET balance_fen = 9223372036854775807 WHERE owner_type <> 'worker'"
            )
        )
        worker = c.execute(
            text("SELECT account FROM accounts WHERE owner_type = 'worker' LIMIT 1")
        ).scalar_one()
        c.execute(text("UPDATE accounts SET balance_fen = -5 WHERE account = :a"), {"a": worker})
        problems = verify(c, ledger.checkpoint).problems
    assert any(p.row == worker and "negative" in p.what for p in problems), problems


def test_the_seal_step_streams_each_sealed_table(ledger: Ledger) -> None:
    """The audit reads each sealed table (kept answers may be millions) in batches — a
    server-side cursor on PostgreSQL — never whole into memory."""
    streamed: dict[str, list[bool]] = {name: [] for name in SEALED}

    def watch(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        for name in SEALED:
            if re.search(rf"\bFROM {name}\b", statement):
                streamed[name].append(bool(context.execution_options.get("stream_results")))

    event.listen(ledger.engine, "before_cursor_execute", watch)
    try:
        with unit_of_work(ledger.engine) as c:
            assert verify(c).ok
    finally:
        event.remove(ledger.engine, "before_cursor_execute", watch)
    assert all(any(seen) for seen in streamed.values()), streamed


@pytest.mark.parametrize("order", ["tx_id DESC", "line, region, seq"])
def test_month_rows_lying_in_another_order_verify_and_a_row_moved_among_them_is_found(
    ledger: Ledger, order: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's months are read first as they lie (rowid order, no sort) and again in order
    only when a batch's rows are not one run in line order there. The rows laid down again in
    another order (a table rebuilt: no tamper) verify, read twice on SQLite; a row then moved
    to another region is named as it is when the rows lie in order; a ledger as the service
    wrote it is read once, as it lies, with the batches the ordered reading gives."""
    read: list[bool] = []
    real = audit_module._month_blocks

    def watched(connection: Connection, in_order: bool) -> Iterator[Any]:
        read.append(in_order)
        return real(connection, in_order)

    monkeypatch.setattr(audit_module, "_month_blocks", watched)
    sqlite = not ledger.engine.url.get_backend_name().startswith("postgres")
    with unit_of_work(ledger.engine) as c:
        assert verify(c).ok
        assert read == ([False] if sqlite else [True])
        if sqlite:
            assert audit_module._batches_of(real(c, False), False) == audit_module._batches_of(
                real(c, True), True
            )
    moved = "UPDATE contribution_months SET region = '110000' WHERE tx_id = :t"
    with tampering(ledger.engine) as c:
        tx = c.execute(text("SELECT max(tx_id) FROM contribution_months")).scalar_one()
        c.execute(text(moved), {"t": tx})
        in_order = {(p.table, p.row) for p in verify(c).problems}
    assert any(table == "contribution_months" for table, _ in in_order), in_order
    with tampering(ledger.engine) as c:
        c.execute(
            text(f"CREATE TEMP TABLE lying AS SELECT * FROM contribution_months ORDER BY {order}")
        )
        c.execute(text("DELETE FROM contribution_months"))
        c.execute(text("INSERT INTO contribution_months SELECT * FROM lying"))
        read.clear()
        assert verify(c).ok
        assert read == ([False, True] if sqlite else [True])
        c.execute(text(moved), {"t": tx})
        assert {(p.table, p.row) for p in verify(c).problems} == in_order


# a value the audit cannot read, and who says why: (SQL on PostgreSQL, on SQLite) -> reporter
UNREADABLE = {
    "a date of infinity": (
        "UPDATE transfers SET requested_on = 'infinity'::date",
        "UPDATE transfers SET requested_on = 'infinity'",
    ),
    "a region not UTF-8 (PostgreSQL keeps none: a date of minus infinity there)": (
        "UPDATE transfers SET requested_on = '-infinity'::date",
        "UPDATE transfers SET to_region = CAST(x'ff' AS TEXT)",
    ),
}
REPORTED = {"数据库驱动报告": "the database driver reports", "读取程序报告": "reading it raised"}


@pytest.mark.parametrize("case", UNREADABLE)
def test_a_value_the_audit_cannot_read_is_said_in_chinese_and_quotes_its_reader(
    ledger: Ledger, case: str
) -> None:
    """A value the audit cannot read names its table with a Chinese sentence, then the
    reason its reader gave (the driver's or Python's, in English: no catalogue has it),
    marked as quoted (``数据库驱动报告：〔原文〕``), never inside the Chinese sentence.
    PostgreSQL's driver refuses a date of infinity; on SQLite, Python does, and the driver
    refuses text that is not UTF-8."""
    with tampering(ledger.engine) as c:
        sql = UNREADABLE[case][0 if is_postgres(c) else 1]
        assert c.execute(text(sql)).rowcount >= 1
        problems = verify(c, ledger.checkpoint).problems
    unreadable = [p for p in problems if p.what.startswith("holds a value the service never")]
    assert unreadable, problems
    for p in unreadable:
        sentence, reporter, quoted = re.fullmatch(
            r"(.+)；(数据库驱动报告|读取程序报告)：〔原文〕(.+)", p.what_zh
        ).groups()
        assert english_words(sentence.replace("UTF-8", "")) == [], p.what_zh  # Chinese alone
        assert p.what.endswith(f"; {REPORTED[reporter]}: {quoted}"), (p.what, p.what_zh)
        assert what_problems(p.what, p.what_zh) == [], p.what_zh
        old = f"{sentence}：{quoted}"  # as it was: the reason inside the Chinese sentence
        assert what_problems(p.what, old) != [], old
    expected = "数据库驱动报告" if is_postgres(c) or "UTF" in case else "读取程序报告"
    assert any(expected in p.what_zh for p in unreadable), unreadable
