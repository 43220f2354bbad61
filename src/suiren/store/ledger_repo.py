"""The ledger repository: append to each region's journal, exactly once — the one write path.

Nothing else writes ``journal``, ``postings``, ``facts``, ``contribution_months``,
``month_segments``, ``accounts`` or ``chain_heads`` (a test greps for it). Two entry points:

``post_transactions`` — transactions with postings and facts, one or a million:

1. lock the region's chain head (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
   ``BEGIN IMMEDIATE`` already holds the only write lock);
2. look up which ids are already in the journal: a replay with the same content returns
   the first result, the same id with other content is refused (``TransactionConflict``);
3. hash and chain the new ones (keyed, ``ledger.hashchain``), insert journal rows,
   postings and facts, apply the facts to their projections (``store.projections``) and
   add the postings to the balances.

``append_months`` — a batch of contribution months as one journal entry per region: the
rows, their segment hashes and the entry whose content hash covers their Merkle root; the
derived postings go to the balances in one set-based step.

Everything runs in the caller's database transaction, which the edge commits once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Column, Connection, MetaData, Table, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from suiren.domain.errors import SuirenError
from suiren.domain.messages import text as message
from suiren.domain.month import Month
from suiren.ledger.accounts import AccountKey
from suiren.ledger.hashchain import (
    GENESIS,
    batch_content_hash,
    chain_hash,
    content_hash,
    content_hash_of_lines,
    header_text,
    merkle_root,
)
from suiren.ledger.months import (
    BALANCE_COLUMNS,
    SEGMENT_ROWS,
    MonthRows,
    balance_deltas,
    segment_hashes,
)
from suiren.ledger.months import COLUMNS as MONTH_COLUMNS
from suiren.ledger.transaction import Fact, Transaction, TxCode, check_memo, check_tx_id, utc
from suiren.store.bulk import fill_keys, insert_arrow, insert_rows
from suiren.store.db import dialect_insert, is_postgres, ledger_keys, server_setting
from suiren.store.projections import apply_facts
from suiren.store.tables import (
    accounts,
    chain_heads,
    contribution_months,
    facts,
    journal,
    month_segments,
    postings,
)

LOOKUP_CHUNK = 500
BALANCE_WORK_MEM = "128MB"  # a large balance update's hash of deltas (add_to_balances)


class TransactionConflict(SuirenError):
    """The id was already used for a transaction with other content."""

    code = "transaction-conflict"


@dataclass(frozen=True, slots=True)
class Posted:
    tx_id: str
    region: str
    seq: int
    chain_hash: str
    replayed: bool


def tx_header(tx: Transaction) -> str:
    return header_text(
        tx.tx_id,
        tx.code.value,
        tx.region,
        tx.legal_month.ordinal,
        tx.worker_id,
        tx.reverses,
        tx.memo,
        tx.recorded_at,
    )


def tx_content_hash(tx: Transaction) -> str:
    return content_hash(
        tx_header(tx),
        ((str(p.account), p.amount_fen) for p in tx.postings),
        ((f.kind, f.key, f.data) for f in tx.facts),
    )


def lock_chain_head(connection: Connection, region: str) -> tuple[int, str]:
    """The region's (last seq, last chain hash), locked until the transaction ends (on
    SQLite the whole database is: ``BEGIN IMMEDIATE``). A region's first use creates its
    head (two first users: the second waits for the first's row, then locks it)."""
    query = select(chain_heads.c.seq, chain_heads.c.chain_hash).where(
        chain_heads.c.region == region
    )
    if is_postgres(connection):
        query = query.with_for_update()
    row = connection.execute(query).first()
    if row is None:
        connection.execute(
            dialect_insert(connection, chain_heads)
            .values(region=region, seq=0, chain_hash=GENESIS)
            .on_conflict_do_nothing(index_elements=["region"])
        )
        row = connection.execute(query).one()
    return int(row.seq), str(row.chain_hash)


def lock_chain_heads(connection: Connection, regions: Iterable[str]) -> None:
    """Lock each region's chain head (``lock_chain_head``) in ascending order, each once — the
    order every writer takes them: two writers meeting the same regions the other way round
    would deadlock on PostgreSQL. A transaction that writes several regions locks all it may
    write, or must hold still, here and before it reads the state (``tests/lock_order.py``
    checks the order in every test)."""
    for region in sorted(set(regions) - {""}):
        lock_chain_head(connection, region)


def ledger_version(connection: Connection) -> tuple[int, int]:
    """(chains, sum of their heads' seq): moves with every committed append to any chain —
    every write of the ledger and its projections goes through here and moves a head — so a
    read computed after seeing a version holds while the version reads the same
    (``api.reads``)."""
    row = connection.execute(_VERSION).one()
    return int(row[0]), int(row[1])


LEDGER_VERSION_SQL = "SELECT count(*) AS n, coalesce(sum(seq), 0) AS s FROM chain_heads"
_VERSION = text(LEDGER_VERSION_SQL)  # built once


class Recorded(NamedTuple):
    """What the journal holds of a transaction id already used."""

    region: str
    seq: int
    content_hash: str
    chain_hash: str
    recorded_at: datetime


def existing(connection: Connection, tx_ids: Sequence[str]) -> dict[str, Recorded]:
    """tx_id -> what the journal recorded, for the ids already journalled.

    PostgreSQL: the ids are COPYed into a temporary table and joined (one round trip for a
    million ids); SQLite: chunks of ``IN (…)`` against the unique index.
    """
    columns = "j.tx_id, j.region, j.seq, j.content_hash, j.chain_hash, j.recorded_at"
    found: dict[str, Recorded] = {}
    if is_postgres(connection) and len(tx_ids) > LOOKUP_CHUNK:
        fill_keys(connection, "wanted_tx", tx_ids)
        rows = connection.execute(
            text(f"SELECT {columns} FROM journal j JOIN wanted_tx w ON w.key = j.tx_id")
        )
        for row in rows:
            found[row.tx_id] = Recorded(
                row.region, int(row.seq), row.content_hash, row.chain_hash, row.recorded_at
            )
        return found
    for start in range(0, len(tx_ids), LOOKUP_CHUNK):
        chunk = list(tx_ids[start : start + LOOKUP_CHUNK])
        rows = connection.execute(
            select(
                journal.c.tx_id,
                journal.c.region,
                journal.c.seq,
                journal.c.content_hash,
                journal.c.chain_hash,
                journal.c.recorded_at,
            ).where(journal.c.tx_id.in_(chunk))
        )
        for row in rows:
            found[row.tx_id] = Recorded(
                row.region, int(row.seq), row.content_hash, row.chain_hash, row.recorded_at
            )
    return found


def post_transactions(
    connection: Connection, transactions: Sequence[Transaction], checked: bool = False
) -> list[Posted]:
    """Append ``transactions`` (each at most once) and update balances; see module doc.

    ``checked=True``: the caller already holds the regions' chain-head locks and has found
    none of the ids in the journal, so the look-up is not repeated.
    """
    by_region: dict[str, list[Transaction]] = defaultdict(list)
    for tx in transactions:
        by_region[tx.region].append(tx)
    results: dict[str, Posted] = {}
    for region in sorted(by_region):  # a fixed lock order: no deadlocks between regions
        results.update(_post_region(connection, region, by_region[region], checked))
    return [results[tx.tx_id] for tx in transactions]


def _post_region(
    connection: Connection, region: str, txs: list[Transaction], checked: bool
) -> dict[str, Posted]:
    key = ledger_keys(connection).chain_key
    seq, previous = lock_chain_head(connection, region)
    hashes = {tx.tx_id: tx_content_hash(tx) for tx in txs}
    if len(hashes) != len(txs):
        raise TransactionConflict(message("ledger.id-twice"))
    done = {} if checked else existing(connection, list(hashes))
    results: dict[str, Posted] = {}
    journal_rows: list[tuple[object, ...]] = []
    posting_rows: list[tuple[object, ...]] = []
    fact_rows: list[tuple[object, ...]] = []
    located = []
    deltas: dict[AccountKey, int] = defaultdict(int)
    for tx in txs:
        if tx.tx_id in done:
            old = done[tx.tx_id]
            # a replay means the same thing: the same content, recorded at its first time
            if old.content_hash != tx_content_hash(replace(tx, recorded_at=utc(old.recorded_at))):
                raise TransactionConflict(message("ledger.id-used", shown=repr(tx.tx_id)))
            results[tx.tx_id] = Posted(tx.tx_id, old.region, old.seq, old.chain_hash, True)
            continue
        seq += 1
        current = chain_hash(key, previous, hashes[tx.tx_id])
        journal_rows.append(
            (
                region,
                seq,
                tx.tx_id,
                tx.code.value,
                tx.legal_month.ordinal,
                tx.worker_id,
                tx.reverses,
                tx.memo,
                tx.recorded_at,
                0,
                hashes[tx.tx_id],
                previous,
                current,
            )
        )
        for line, posting in enumerate(tx.postings):
            posting_rows.append(
                (
                    region,
                    seq,
                    line,
                    str(posting.account),
                    posting.account.region,
                    posting.amount_fen,
                    tx.legal_month.ordinal,
                    tx.code.value,
                )
            )
            deltas[posting.account] += posting.amount_fen
        for line, item in enumerate(tx.facts):
            fact_rows.append((region, seq, line, item.kind, item.key, item.data))
            located.append((region, seq, item))
        previous = current
        results[tx.tx_id] = Posted(tx.tx_id, region, seq, current, False)
    if journal_rows:
        # worker_id and reverses may be NULL, the memo is free text; the rest is plain
        insert_rows(connection, journal, JOURNAL_COLUMNS, journal_rows, unsafe=(5, 6, 7))
        insert_rows(connection, postings, POSTING_COLUMNS, posting_rows, plain=True)
        insert_rows(connection, facts, FACT_COLUMNS, fact_rows, unsafe=(4, 5))
        apply_facts(connection, located)
        add_to_balances(connection, _key_deltas({k: v for k, v in deltas.items() if v}))
        _set_head(connection, region, seq, previous)
    return results


LEDGER_CHANNEL = "suiren_ledger"  # PostgreSQL: notified at the commit of every write


def _set_head(connection: Connection, region: str, seq: int, chain: str) -> None:
    connection.execute(
        chain_heads.update().where(chain_heads.c.region == region).values(seq=seq, chain_hash=chain)
    )
    # delivered at commit (one per transaction), never on rollback; the payload names the
    # schema, so that ledgers sharing a database are told apart
    if is_postgres(connection):
        connection.exec_driver_sql(f"SELECT pg_notify('{LEDGER_CHANNEL}', current_schema())")


JOURNAL_COLUMNS = (
    "region", "seq", "tx_id", "code", "legal_month", "worker_id", "reverses", "memo",
    "recorded_at", "months", "content_hash", "prev_hash", "chain_hash",
)  # fmt: skip
POSTING_COLUMNS = (
    "region", "seq", "line", "account", "account_region", "amount_fen", "legal_month", "code",
)  # fmt: skip
FACT_COLUMNS = ("region", "seq", "line", "kind", "key", "data")


def append_months(
    connection: Connection, region: str, rows: MonthRows, recorded_at: datetime, memo: str = ""
) -> tuple[int, str]:
    """Append ``rows`` (all of ``region``) as one batch entry; returns its (seq, tx id).

    The caller has validated the rows (bounds, split, attempts, replays) under the region's
    chain-head lock; the database's unique keys still refuse a month paid twice.
    """
    check_memo(memo)
    key = ledger_keys(connection).chain_key
    seq, previous = lock_chain_head(connection, region)
    seq += 1
    tx_id = f"months/{region}/{seq}"
    segments = segment_hashes(rows)
    legal = Month(int(rows.month.max())) if len(rows) else Month.from_date(recorded_at.date())
    header = header_text(
        tx_id, TxCode.CONTRIBUTION.value, region, legal.ordinal, None, None, memo, recorded_at
    )
    content = batch_content_hash(header, len(rows), merkle_root(segments))
    current = chain_hash(key, previous, content)
    insert_rows(
        connection,
        journal,
        JOURNAL_COLUMNS,
        [
            (
                region,
                seq,
                tx_id,
                TxCode.CONTRIBUTION.value,
                legal.ordinal,
                None,
                None,
                memo,
                recorded_at,
                len(rows),
                content,
                previous,
                current,
            )
        ],
        unsafe=(5, 6, 7),
    )
    n = len(rows)
    if not bool(pc.all(pc.equal(rows.region, region)).as_py()):
        raise AssertionError(f"a batch of {region} holds months of another region")
    columns = {"seq": pa.array(np.full(n, seq, dtype=np.int64)), "line": pa.array(np.arange(n))}
    columns |= {name: getattr(rows, name) for name in MONTH_COLUMNS}
    insert_arrow(connection, contribution_months, pa.table(columns))
    insert_arrow(
        connection,
        month_segments,
        pa.table(
            {
                "region": pa.array([region] * len(segments), type=pa.string()),
                "seq": pa.array(np.full(len(segments), seq, dtype=np.int64)),
                "segment": pa.array(np.arange(len(segments))),
                "rows": pa.array(
                    [min(SEGMENT_ROWS, n - i * SEGMENT_ROWS) for i in range(len(segments))],
                    type=pa.int64(),
                ),
                "hash": pa.array([h.hex() for h in segments], type=pa.string()),
            }
        ),
    )
    add_to_balances(connection, balance_deltas(rows))
    _set_head(connection, region, seq, current)
    return seq, tx_id


@dataclass(frozen=True)
class ColumnEntry:
    """One transaction with many postings given as columns (a yearly interest batch: one
    posting per account): the same journal entry, content hash and checks as a
    ``Transaction`` with those postings, without a Python object per posting."""

    tx_id: str
    code: TxCode
    region: str
    legal_month: Month
    recorded_at: datetime
    accounts: pa.Array  # account keys (strings), each once
    amounts: np.ndarray  # int64 fen, none zero, summing to zero
    memo: str = ""
    facts: tuple[Fact, ...] = ()


def post_columns(connection: Connection, entries: Sequence[ColumnEntry]) -> list[Posted]:
    """Append ``entries`` (all of one region, new ids only: the caller checked) to the region's
    journal in order, as ``post_transactions`` would one by one: each its own journal entry,
    content hash and link of the chain. The rows of all of them are written together — one
    COPY of the postings, one set-based balance update (a yearly interest run of a million
    accounts in twenty entries touches each balance once, not twenty scans of ``accounts``)."""
    if not entries:
        return []
    region = entries[0].region
    if any(entry.region != region for entry in entries):
        raise AssertionError("post_columns: entries of more than one region")
    key = ledger_keys(connection).chain_key
    seq, previous = lock_chain_head(connection, region)
    journal_rows: list[tuple[object, ...]] = []
    fact_rows: list[tuple[object, ...]] = []
    located: list[tuple[str, int, Fact]] = []
    parts: list[pa.Table] = []
    results: list[Posted] = []
    for entry in entries:
        check_tx_id(entry.tx_id)
        check_memo(entry.memo)
        amounts = np.asarray(entry.amounts, dtype=np.int64)
        n = len(entry.accounts)
        if n < 2 or len(amounts) != n or int(amounts.sum()) != 0 or bool(np.any(amounts == 0)):
            raise AssertionError(f"{entry.tx_id}: postings must be 2+, non-zero and balance")
        # in account-key order, as a Transaction's postings: Arrow sorts strings by their UTF-8
        # bytes, which is Python's order of code points
        order = pc.sort_indices(entry.accounts)
        accounts = pc.take(entry.accounts, order)
        amounts = amounts[order.to_numpy()]
        if not _increasing(accounts):
            raise AssertionError(f"{entry.tx_id}: an account is posted twice")
        seq += 1
        header = header_text(
            entry.tx_id,
            entry.code.value,
            entry.region,
            entry.legal_month.ordinal,
            None,
            None,
            entry.memo,
            entry.recorded_at,
        )
        content = content_hash_of_lines(
            header,
            posting_lines(accounts, amounts),
            ((f.kind, f.key, f.data) for f in entry.facts),
        )
        current = chain_hash(key, previous, content)
        journal_rows.append(
            (
                entry.region,
                seq,
                entry.tx_id,
                entry.code.value,
                entry.legal_month.ordinal,
                None,
                None,
                entry.memo,
                entry.recorded_at,
                0,
                content,
                previous,
                current,
            )
        )
        parts.append(
            pa.table(
                {
                    "seq": pa.array(np.full(n, seq, dtype=np.int64)),
                    "line": pa.array(np.arange(n, dtype=np.int64)),
                    "account": accounts,
                    "amount_fen": pa.array(amounts),
                    "legal_month": pa.array(np.full(n, entry.legal_month.ordinal, dtype=np.int64)),
                    "code": pa.array(np.full(n, entry.code.value)),
                }
            )
        )
        for line, f in enumerate(entry.facts):
            fact_rows.append((entry.region, seq, line, f.kind, f.key, f.data))
            located.append((entry.region, seq, f))
        previous = current
        results.append(Posted(entry.tx_id, entry.region, seq, current, False))
    insert_rows(connection, journal, JOURNAL_COLUMNS, journal_rows, unsafe=(5, 6, 7))
    lines = pa.concat_tables(parts)
    insert_arrow(
        connection,
        postings,
        pa.table(
            {
                "region": pa.array(np.full(lines.num_rows, region)),
                "seq": lines["seq"],
                "line": lines["line"],
                "account": lines["account"],
                "account_region": _key_regions(lines["account"]),
                "amount_fen": lines["amount_fen"],
                "legal_month": lines["legal_month"],
                "code": lines["code"],
            }
        ),
    )
    if fact_rows:
        insert_rows(connection, facts, FACT_COLUMNS, fact_rows, unsafe=(4, 5))
        apply_facts(connection, located)
    add_to_balances(connection, _account_sums(entries))
    _set_head(connection, region, seq, previous)
    return results


def _key_deltas(deltas: dict[AccountKey, int]) -> pa.Table:
    keys = sorted(deltas, key=str)
    return pa.table(
        {
            "account": pa.array([str(k) for k in keys], type=pa.string()),
            "owner_type": pa.array([k.owner_type.value for k in keys], type=pa.string()),
            "owner_id": pa.array([k.owner_id for k in keys], type=pa.string()),
            "scheme": pa.array([k.scheme.value for k in keys], type=pa.string()),
            "kind": pa.array([k.kind.value for k in keys], type=pa.string()),
            "region": pa.array([k.region for k in keys], type=pa.string()),
            "balance_fen": pa.array([deltas[k] for k in keys], type=pa.int64()),
        }
    )


def _key_parts(keys: pa.ChunkedArray | pa.Array) -> dict[str, pa.Array]:
    """The five parts of each account key (``AccountKey``: owner type, owner, scheme, kind,
    region, joined by ':'), split column-wise."""
    split = pc.split_pattern(keys, ":")
    names = ("owner_type", "owner_id", "scheme", "kind", "region")
    return {name: pc.list_element(split, i) for i, name in enumerate(names)}


def _key_regions(keys: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """The region of each account key (its last part)."""
    return pc.list_element(pc.split_pattern(keys, ":", max_splits=1, reverse=True), 1)


def posting_lines(accounts: pa.Array, amounts: np.ndarray) -> memoryview:
    """The postings' part of a content hash (``ledger.hashchain.content_hash``): each
    ``"\\n{account}\\x1f{amount}"``, in the given order, joined — built column-wise: each
    line is one value of an Arrow string array whose data buffer is then the joined bytes."""
    joined = pc.binary_join_element_wise(
        pa.scalar("\n"), accounts, pa.scalar("\x1f"), pc.cast(pa.array(amounts), pa.string()), ""
    )
    if isinstance(joined, pa.ChunkedArray):
        joined = joined.combine_chunks()
    ends = np.frombuffer(joined.buffers()[1], dtype=np.int32)
    first, last = int(ends[joined.offset]), int(ends[joined.offset + len(joined)])
    return memoryview(joined.buffers()[2])[first:last]


INT64_MAX = 2**63 - 1


def _account_sums(entries: Sequence[ColumnEntry]) -> pa.Table:
    """The entries' amounts summed per account, as balance deltas (``account``,
    ``balance_fen``) in account-key order, accounts whose sum is zero left out: sorted and
    summed by runs column-wise (a yearly interest run's million accounts each once, its
    pooled fund once per entry; a hash of a million keys took five times as long)."""
    accounts = pa.concat_arrays([entry.accounts for entry in entries])
    amounts = np.concatenate([np.asarray(entry.amounts, dtype=np.int64) for entry in entries])
    if not len(accounts):
        return pa.table({"account": accounts, "balance_fen": pa.array(amounts)})
    order = pc.sort_indices(accounts)
    keys = pc.take(accounts, order)
    same = pc.equal(keys.slice(0, len(keys) - 1), keys.slice(1)).to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(np.concatenate([[True], ~same]))
    amounts = amounts[order.to_numpy()]
    if max(int(amounts.max()), -int(amounts.min())) > INT64_MAX // len(amounts):
        # a sum could leave int64, where NumPy would wrap round: summed in Python, where a
        # sum too large for a BIGINT balance is refused as before
        ends = [*starts[1:].tolist(), len(amounts)]
        exact = [sum(amounts[a:b].tolist()) for a, b in zip(starts.tolist(), ends, strict=True)]
        sums = pa.array(exact, type=pa.int64()).to_numpy()  # OverflowError if out of range
    else:
        sums = np.add.reduceat(amounts, starts)
    kept = sums != 0
    return pa.table({"account": pc.take(keys, starts[kept]), "balance_fen": pa.array(sums[kept])})


def _increasing(keys: pa.Array | pa.ChunkedArray) -> bool:
    """Whether each key is above the one before it: each once, in order."""
    n = len(keys)
    return n < 2 or bool(pc.all(pc.less(keys.slice(0, n - 1), keys.slice(1))).as_py())


def add_to_balances(connection: Connection, deltas: pa.Table) -> None:
    """balance += delta for each account, creating accounts on first use. ``deltas`` has the
    columns ``account`` and ``balance_fen`` (the delta), each account once; an account's other
    columns (``BALANCE_COLUMNS``) are the parts of its key, taken from ``deltas`` when given
    and else split from the key."""
    if not deltas.num_rows:
        return
    if is_postgres(connection) and deltas.num_rows > LOOKUP_CHUNK:
        raw = connection.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor:
            cursor.execute(
                "CREATE TEMPORARY TABLE IF NOT EXISTS balance_deltas"
                " (account text, balance_fen bigint) ON COMMIT DROP"
            )
            cursor.execute("TRUNCATE balance_deltas")
        keys = deltas["account"]
        if not _increasing(keys) and not _increasing(pc.take(keys, pc.sort_indices(keys))):
            raise AssertionError("balance deltas name an account twice")  # a join adds once
        insert_arrow(connection, balance_deltas_table, deltas.select(["account", "balance_fen"]))
        connection.exec_driver_sql("ANALYZE balance_deltas")  # hash the deltas, not accounts
        parts = ", ".join(f"split_part(d.account, ':', {i})" for i in range(1, 6))
        # the accounts that exist, set-based (a join: in place, HOT with 0007's free room);
        # then the new ones — those the update did not reach, in the same statement, so an
        # account another writer creates meanwhile is added to, never skipped. When the update
        # reached every account (a yearly interest run), a one-time filter skips that search.
        # the join hashes the deltas: in memory (a million accounts take ~115 MB) rather than
        # in sixteen batches spilled to disk at the default 4 MB, for this statement only
        statement = (
            "WITH updated AS (UPDATE accounts a SET balance_fen = a.balance_fen + d.balance_fen"
            " FROM balance_deltas d WHERE a.account = d.account RETURNING a.account)"
            f" INSERT INTO accounts ({', '.join(BALANCE_COLUMNS)})"
            f" SELECT d.account, {parts}, d.balance_fen FROM balance_deltas d"
            f" WHERE (SELECT count(*) FROM updated) < {deltas.num_rows}"
            " AND NOT EXISTS (SELECT 1 FROM updated u WHERE u.account = d.account)"
        )
        # the new accounts inserted plainly, under a savepoint: an arbiter check per row
        # (ON CONFLICT) cost a sixth of the statement. Should another writer have created one
        # of them meanwhile (a unique violation), the same statement again, adding to it.
        with server_setting(connection, "work_mem", BALANCE_WORK_MEM, at_least=True):
            savepoint = connection.begin_nested()
            try:
                connection.exec_driver_sql(statement)
                savepoint.commit()
            except IntegrityError:
                savepoint.rollback()
                connection.exec_driver_sql(
                    f"{statement} ON CONFLICT (account) DO UPDATE"
                    " SET balance_fen = accounts.balance_fen + EXCLUDED.balance_fen"
                )
        return
    if set(BALANCE_COLUMNS) - set(deltas.column_names):
        deltas = pa.table(
            {
                "account": deltas["account"],
                **_key_parts(deltas["account"]),
                "balance_fen": deltas["balance_fen"],
            }
        )
    if is_postgres(connection):
        insert = pg_insert(accounts)
        statement = insert.on_conflict_do_update(
            index_elements=["account"],
            set_={"balance_fen": accounts.c.balance_fen + insert.excluded.balance_fen},
        )
        connection.execute(statement, deltas.select(list(BALANCE_COLUMNS)).to_pylist())
        return
    # SQLite: the driver's executemany over tuples (every value a text or an int, stored as
    # given), not a dictionary and a compiled parameter set per account — about 12 µs an
    # account, 0.5 s of a 250,000-month file's 41,666 new accounts
    connection.exec_driver_sql(
        f"INSERT INTO accounts ({', '.join(BALANCE_COLUMNS)})"
        f" VALUES ({', '.join('?' * len(BALANCE_COLUMNS))}) ON CONFLICT (account)"
        " DO UPDATE SET balance_fen = accounts.balance_fen + excluded.balance_fen",
        list(zip(*(deltas[name].to_pylist() for name in BALANCE_COLUMNS), strict=True)),
    )


# the temporary table a large balance update is staged in (PostgreSQL)
balance_deltas_table = Table("balance_deltas", MetaData(), Column("account"), Column("balance_fen"))


def balances(connection: Connection, account_keys: Iterable[str]) -> dict[str, int]:
    keys = list(account_keys)
    out: dict[str, int] = {}
    for start in range(0, len(keys), LOOKUP_CHUNK):
        rows = connection.execute(
            select(accounts.c.account, accounts.c.balance_fen).where(
                accounts.c.account.in_(keys[start : start + LOOKUP_CHUNK])
            )
        )
        out.update({r.account: int(r.balance_fen) for r in rows})
    return out


def load_transaction_postings(connection: Connection, tx_id: str) -> tuple[dict, list]:  # type: ignore[type-arg]
    """The journal row and postings of ``tx_id`` (for reversals and statements)."""
    row = connection.execute(select(journal).where(journal.c.tx_id == tx_id)).mappings().first()
    if row is None:
        return {}, []
    lines = connection.execute(
        select(postings.c.account, postings.c.amount_fen)
        .where(postings.c.region == row["region"], postings.c.seq == row["seq"])
        .order_by(postings.c.line)
    ).all()
    return dict(row), [(r.account, int(r.amount_fen)) for r in lines]
