"""One write path, in fact: only the ledger repository writes the hashed tables, balances
and chain heads; only the projections module writes the tables that facts project; only
the engine module writes the key's record. A module that writes one of them elsewhere fails
this test (the way round the audit would start there)."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from suiren.store.projections import PROJECTIONS
from suiren.store.tables import metadata

SRC = Path(__file__).resolve().parents[2] / "src" / "suiren"
HASHED = ("journal", "postings", "facts", "contribution_months", "month_segments", "accounts",
          "chain_heads")  # fmt: skip
WRITERS = (
    {name: {"store/ledger_repo.py"} for name in HASHED}
    | {name: {"store/projections.py"} for name in PROJECTIONS}
    | {"ledger_meta": {"store/db.py"}}
)


def writes(source: str, table: str) -> bool:
    patterns = [
        rf"\b{table}\.(insert|update|delete)\(",
        rf"\b(insert|update|delete)\(\s*{table}\b",
        rf"(?i)\b(insert\s+into|update|delete\s+from|copy)\s+{table}\b",
        rf"insert_rows\(\s*\w+,\s*{table}\b",
    ]
    return any(re.search(p, source) for p in patterns)


def test_only_the_owner_of_a_table_writes_it() -> None:
    assert set(WRITERS) == set(metadata.tables)
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        name = path.relative_to(SRC).as_posix()
        if name.startswith("store/migrations/"):
            continue
        source = path.read_text(encoding="utf-8")
        for table, owners in WRITERS.items():
            if writes(source, table) and name not in owners:
                offenders.append(f"{name} writes {table}")
    assert not offenders, offenders


def test_the_check_sees_a_write() -> None:
    assert writes("connection.execute(journal.insert().values(x=1))", "journal")
    assert writes('text("UPDATE transfers SET state = 1")', "transfers")
    assert writes(
        "insert_rows(connection, contribution_months, COLUMNS, rows)", "contribution_months"
    )
    assert not writes("select(journal.c.tx_id)", "journal")


def test_the_audit_reads_a_copy_stream_in_full_blocks() -> None:
    """Arrow cuts a record batch at every short read: the COPY reader fills what it is asked."""
    from suiren.store.audit import _CopyReader

    reader = _CopyReader(iter([b"1,a\n", b"2,b\n", b"3,c\n"]))
    target = bytearray(10)
    assert reader.readinto(target) == 10 and bytes(target) == b"1,a\n2,b\n3,"
    assert reader.readinto(target) == 2 and bytes(target[:2]) == b"c\n"
    assert reader.readinto(target) == 0


def test_a_reader_on_sqlite_runs_beside_the_writer(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An API GET's unit of work (``read_only``) takes no write lock: while a writer holds
    SQLite's lock, a reader answers at once instead of waiting for it (the API benchmark's
    long p99); a writer still waits for the writer."""
    import threading
    import time

    from sqlalchemy import text

    from suiren.store.db import make_engine, unit_of_work
    from tests.conftest import KEYS, migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}", keys=KEYS)
    migrate(engine)
    with unit_of_work(engine):
        pass  # the key's fingerprint recorded
    held = threading.Event()
    release = threading.Event()

    def writer() -> None:
        with unit_of_work(engine) as c:
            c.execute(text("SELECT 1"))
            held.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    assert held.wait(10)
    started = time.perf_counter()
    with unit_of_work(engine, read_only=True) as c:
        assert c.execute(text("SELECT COUNT(*) FROM journal")).scalar_one() == 0
    waited = time.perf_counter() - started
    release.set()
    thread.join()
    engine.dispose()
    assert waited < 2, f"the reader waited {waited:.1f} s for the writer"


def test_every_append_only_table_has_its_triggers(engine) -> None:  # type: ignore[no-untyped-def]
    """The migrations give every append-only table (ledger and service) the triggers that
    refuse UPDATE and DELETE, on both databases (a table added later must not be missed)."""
    from sqlalchemy import text

    from suiren.store.api_tables import APPEND_ONLY_API
    from suiren.store.db import unit_of_work
    from suiren.store.tables import APPEND_ONLY

    with unit_of_work(engine) as c:
        if engine.dialect.name == "postgresql":
            found = {
                r.name
                for r in c.execute(
                    text(
                        "SELECT t.tgname AS name FROM pg_trigger t"
                        " JOIN pg_class k ON k.oid = t.tgrelid"
                        " JOIN pg_namespace n ON n.oid = k.relnamespace"
                        " WHERE n.nspname = current_schema() AND NOT t.tgisinternal"
                    )
                )
            }
            wanted = {f"{t}_append_only" for t in (*APPEND_ONLY, *APPEND_ONLY_API)}
        else:
            found = {
                r.name
                for r in c.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
            }
            wanted = {
                f"{t}_no_{action}"
                for t in (*APPEND_ONLY, *APPEND_ONLY_API)
                for action in ("update", "delete")
            }
    assert wanted <= found, sorted(wanted - found)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["W1", "W2", "W3"]),
            st.sampled_from(["employee_pension", "employee_medical"]),
            st.sampled_from(["440100", "110000"]),
            st.integers(0, 10**9),
            st.integers(0, 10**9),
            st.integers(0, 10**9),
        ),
        min_size=1,
        max_size=40,
    ),
    st.sampled_from([1, -1]),
)
def test_a_payments_balance_deltas_in_python_equal_the_arrow_ones(rows, sign) -> None:  # type: ignore[no-untyped-def]
    """A few months (one payment) are summed in Python, a batch with Arrow: the same
    accounts with the same sums, zeros left out, for postings and for their reversal."""
    import numpy as np
    import pyarrow as pa

    from suiren.ledger import months as m

    held = [min(h, p) for _, _, _, _, p, h in rows]
    batch = m.MonthRows(
        tx_id=pa.array([f"t{i}/2026-01" for i in range(len(rows))]),
        worker_id=pa.array([r[0] for r in rows]),
        scheme=pa.array([r[1] for r in rows]),
        region=pa.array([r[2] for r in rows]),
        month=np.full(len(rows), 24312),
        attempt=np.zeros(len(rows), dtype=np.int64),
        base_fen=np.full(len(rows), 100),
        due_fen=np.array([r[3] + r[4] for r in rows]),
        account_fen=np.array([r[3] for r in rows]),
        pooled_fen=np.array([r[4] for r in rows]),
        held_fen=np.array(held),
        temporary=np.zeros(len(rows), dtype=np.int64),
    )
    small = m._small_balance_deltas(batch, sign)
    original = m.SMALL_ROWS
    try:
        m.SMALL_ROWS = 0
        arrow = m.balance_deltas(batch, sign)
    finally:
        m.SMALL_ROWS = original
    assert small.schema.names == arrow.schema.names
    assert sorted(map(tuple, map(dict.values, small.to_pylist()))) == sorted(
        map(tuple, map(dict.values, arrow.to_pylist()))
    )


def test_a_large_balance_update_adds_exactly_to_old_and_new_accounts(engine) -> None:  # type: ignore[no-untyped-def]
    """Past ``LOOKUP_CHUNK`` deltas PostgreSQL updates the accounts that exist by a join and
    inserts the new ones in the same statement (migration 0007 leaves room on the pages for
    it); SQLite upserts row by row. Either way every balance is its deltas' sum, and on
    PostgreSQL deltas naming an account twice are refused rather than added once."""
    import pyarrow as pa
    import pytest
    from sqlalchemy import select, text

    from suiren.ledger.months import BALANCE_COLUMNS
    from suiren.store.db import unit_of_work
    from suiren.store.ledger_repo import LOOKUP_CHUNK, add_to_balances
    from suiren.store.tables import accounts

    def deltas(owners: range, fen: int) -> pa.Table:
        keys = [f"worker:W{n:012d}:employee_pension:individual_account:440100" for n in owners]
        columns = [keys, ["worker"] * len(keys), [k.split(":")[1] for k in keys],
                   ["employee_pension"] * len(keys), ["individual_account"] * len(keys),
                   ["440100"] * len(keys), [fen] * len(keys)]  # fmt: skip
        return pa.table(dict(zip(BALANCE_COLUMNS, columns, strict=True)))

    def narrow(owners: range, fen: int) -> pa.Table:  # the key and the delta only
        return deltas(owners, fen).select(["account", "balance_fen"])

    n = LOOKUP_CHUNK + 100
    with unit_of_work(engine) as c:
        add_to_balances(c, deltas(range(n), 700))  # all new
        add_to_balances(c, deltas(range(n // 2, n + n // 2), 25))  # half old, half new
        add_to_balances(c, narrow(range(n + n // 2), 3))  # all old: nothing to insert
        add_to_balances(c, narrow(range(n, 2 * n), 4))  # half old, half new, from keys alone
        found = dict(c.execute(select(accounts.c.account, accounts.c.balance_fen)).all())
        stored = c.execute(select(accounts)).all()
    assert len(found) == 2 * n
    for n_, fen in ((0, 703), (n // 2, 728), (n - 1, 728), (n, 32), (n + n // 2 - 1, 32),
                    (n + n // 2, 4), (2 * n - 1, 4)):  # fmt: skip
        assert found[f"worker:W{n_:012d}:employee_pension:individual_account:440100"] == fen
    # an account created from its key alone has the key's parts in its columns
    assert all(tuple(row[:6]) == (row.account, *row.account.split(":")) for row in stored), (
        "an account's columns differ from its key"
    )
    if engine.dialect.name != "postgresql":
        return
    twice = pa.concat_tables([deltas(range(n), 1), deltas(range(1), 1)])
    with pytest.raises(AssertionError, match="twice"), unit_of_work(engine) as c:
        add_to_balances(c, twice)
    with unit_of_work(engine) as c:
        options = c.execute(
            text("SELECT reloptions FROM pg_class WHERE oid = 'accounts'::regclass")
        ).scalar()
    assert "fillfactor=50" in (options or [])


def test_a_posting_without_its_journal_entry_is_refused(engine) -> None:  # type: ignore[no-untyped-def]
    """Every posting belongs to a journal entry: SQLite's foreign key and, on PostgreSQL,
    migration 0009's statement-level check refuse an insert that names no entry, whether
    one row (INSERT) or many (COPY)."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    from suiren.store.bulk import insert_rows
    from suiren.store.db import unit_of_work
    from suiren.store.ledger_repo import POSTING_COLUMNS
    from suiren.store.tables import postings

    account = "worker:W1:employee_pension:individual_account:440100"
    for count in (1, 100):
        rows = [
            ("440100", 7, line, account, "440100", 1, 24300, "interest") for line in range(count)
        ]
        with pytest.raises(IntegrityError), unit_of_work(engine) as c:
            insert_rows(c, postings, POSTING_COLUMNS, rows, plain=True)
