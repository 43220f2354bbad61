"""The ledger repository: append transactions to their region's journal, exactly once.

``post_transactions`` is the one write path, for one transaction or a million:

1. lock the region's chain head (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
   ``BEGIN IMMEDIATE`` already holds the only write lock);
2. look up which ids are already in the journal: a replay with the same content returns
   the first result, the same id with other content is refused (``TransactionConflict``);
3. hash-chain the new ones, insert journal rows and postings (COPY on PostgreSQL for
   batches), and add the postings to the account balances — all in the caller's
   database transaction, which the edge commits once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from suiren.domain.errors import SuirenError
from suiren.ledger.hashchain import GENESIS, chain_hash, content_hash
from suiren.ledger.transaction import Transaction
from suiren.store.bulk import fill_keys, insert_rows
from suiren.store.db import is_postgres
from suiren.store.tables import accounts, chain_heads, journal, postings

LOOKUP_CHUNK = 500


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


def tx_content_hash(tx: Transaction) -> str:
    return content_hash(
        tx.tx_id,
        tx.code.value,
        tx.region,
        tx.legal_month.ordinal,
        tx.worker_id,
        tx.reverses,
        tx.memo,
        ((str(p.account), p.amount_fen) for p in tx.postings),
    )


def lock_chain_head(connection: Connection, region: str) -> tuple[int, str]:
    """The region's (last seq, last chain hash), locked until the transaction ends."""
    if is_postgres(connection):
        connection.execute(
            pg_insert(chain_heads)
            .values(region=region, seq=0, chain_hash=GENESIS)
            .on_conflict_do_nothing(index_elements=["region"])
        )
        row = connection.execute(
            select(chain_heads.c.seq, chain_heads.c.chain_hash)
            .where(chain_heads.c.region == region)
            .with_for_update()
        ).one()
    else:
        connection.execute(
            sqlite_insert(chain_heads)
            .values(region=region, seq=0, chain_hash=GENESIS)
            .on_conflict_do_nothing(index_elements=["region"])
        )
        row = connection.execute(
            select(chain_heads.c.seq, chain_heads.c.chain_hash).where(
                chain_heads.c.region == region
            )
        ).one()
    return int(row.seq), str(row.chain_hash)


def existing(connection: Connection, tx_ids: Sequence[str]) -> dict[str, tuple[str, int, str, str]]:
    """tx_id -> (region, seq, content hash, chain hash) for the ids already journalled.

    PostgreSQL: the ids are COPYed into a temporary table and joined (one round trip for a
    million ids); SQLite: chunks of ``IN (…)`` against the unique index.
    """
    found: dict[str, tuple[str, int, str, str]] = {}
    if is_postgres(connection) and len(tx_ids) > LOOKUP_CHUNK:
        fill_keys(connection, "wanted_tx", tx_ids)
        rows = connection.execute(
            text(
                "SELECT j.tx_id, j.region, j.seq, j.content_hash, j.chain_hash"
                " FROM journal j JOIN wanted_tx w ON w.key = j.tx_id"
            )
        )
        for row in rows:
            found[row.tx_id] = (row.region, int(row.seq), row.content_hash, row.chain_hash)
        return found
    for start in range(0, len(tx_ids), LOOKUP_CHUNK):
        chunk = list(tx_ids[start : start + LOOKUP_CHUNK])
        rows = connection.execute(
            select(
                journal.c.tx_id, journal.c.region, journal.c.seq, journal.c.content_hash,
                journal.c.chain_hash,
            ).where(journal.c.tx_id.in_(chunk))
        )  # fmt: skip
        for row in rows:
            found[row.tx_id] = (row.region, int(row.seq), row.content_hash, row.chain_hash)
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
    seq, previous = lock_chain_head(connection, region)
    hashes = {tx.tx_id: tx_content_hash(tx) for tx in txs}
    if len(hashes) != len(txs):
        raise TransactionConflict("the same transaction id appears twice in one batch")
    done = {} if checked else existing(connection, list(hashes))
    results: dict[str, Posted] = {}
    journal_rows: list[tuple[object, ...]] = []
    posting_rows: list[tuple[object, ...]] = []
    deltas: dict[str, int] = defaultdict(int)
    keys = {}
    for tx in txs:
        if tx.tx_id in done:
            old_region, old_seq, old_content, old_chain = done[tx.tx_id]
            if old_content != hashes[tx.tx_id]:
                raise TransactionConflict(
                    f"transaction id {tx.tx_id!r} was already used for a different transaction;"
                    " use a new id for a new transaction"
                )
            results[tx.tx_id] = Posted(tx.tx_id, old_region, old_seq, old_chain, True)
            continue
        seq += 1
        current = chain_hash(previous, hashes[tx.tx_id])
        journal_rows.append(
            (region, seq, tx.tx_id, tx.code.value, tx.legal_month.ordinal, tx.worker_id, tx.reverses,
             tx.memo, tx.recorded_at, hashes[tx.tx_id], previous, current)
        )  # fmt: skip
        for line, posting in enumerate(tx.postings):
            key = str(posting.account)
            keys[key] = posting.account
            posting_rows.append(
                (region, seq, line, key, posting.account.region, posting.amount_fen,
                 tx.legal_month.ordinal, tx.code.value)
            )  # fmt: skip
            deltas[key] += posting.amount_fen
        previous = current
        results[tx.tx_id] = Posted(tx.tx_id, region, seq, current, False)
    if journal_rows:
        # worker_id and reverses may be NULL, the memo is free text; the rest is plain
        insert_rows(connection, journal, JOURNAL_COLUMNS, journal_rows, unsafe=(5, 6, 7))
        insert_rows(connection, postings, POSTING_COLUMNS, posting_rows, plain=True)
        add_to_balances(connection, {k: v for k, v in deltas.items() if v}, keys)
        connection.execute(
            chain_heads.update()
            .where(chain_heads.c.region == region)
            .values(seq=seq, chain_hash=previous)
        )
    return results


JOURNAL_COLUMNS = (
    "region", "seq", "tx_id", "code", "legal_month", "worker_id", "reverses", "memo",
    "recorded_at", "content_hash", "prev_hash", "chain_hash",
)  # fmt: skip
POSTING_COLUMNS = (
    "region",
    "seq",
    "line",
    "account",
    "account_region",
    "amount_fen",
    "legal_month",
    "code",
)


def add_to_balances(connection: Connection, deltas: dict[str, int], keys: dict) -> None:  # type: ignore[type-arg]
    """balance += delta for each account, creating accounts on first use."""
    if not deltas:
        return
    rows = [
        (account, keys[account].owner_type.value, keys[account].owner_id, keys[account].scheme.value,
         keys[account].kind.value, keys[account].region, delta)
        for account, delta in deltas.items()
    ]  # fmt: skip
    if is_postgres(connection) and len(rows) > LOOKUP_CHUNK:
        raw = connection.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor:
            cursor.execute(
                "CREATE TEMPORARY TABLE IF NOT EXISTS balance_deltas (LIKE accounts) ON COMMIT DROP"
            )
            cursor.execute("TRUNCATE balance_deltas")
            columns = "account, owner_type, owner_id, scheme, kind, region, balance_fen"
            with cursor.copy(f"COPY balance_deltas ({columns}) FROM STDIN") as copy:
                copy.write("".join("\t".join(map(str, row)) + "\n" for row in rows))
            cursor.execute(
                f"INSERT INTO accounts ({columns}) SELECT {columns} FROM balance_deltas"
                " ON CONFLICT (account) DO UPDATE"
                " SET balance_fen = accounts.balance_fen + EXCLUDED.balance_fen"
            )
        return
    insert = pg_insert(accounts) if is_postgres(connection) else sqlite_insert(accounts)
    statement = insert.on_conflict_do_update(
        index_elements=["account"],
        set_={"balance_fen": accounts.c.balance_fen + insert.excluded.balance_fen},
    )
    names = ("account", "owner_type", "owner_id", "scheme", "kind", "region", "balance_fen")
    connection.execute(statement, [dict(zip(names, row, strict=True)) for row in rows])


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
