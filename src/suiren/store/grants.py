"""Grants: the rows that let someone in (an API key, an agency clerk's login), recorded in the
national agency's journal (000000).

Whoever can write the database could otherwise give themselves a key with an agency's rights,
widen a key's scope, take back a revocation or move a clerk to another region's desk, and
every ledger entry written with it would look legitimate. So each issue, revocation or
change of a grant is a journal entry ``access/{table}/{key}/{version}`` (code ``access``)
whose fact is the row as it now stands (store/projections.py ``GRANTS``: a key's SHA-256
and a password's hash recorded as their SHA-256 only, never a value a login could be tried
against), written in the same transaction as the row. Then:

- the audit compares every grant's row with its latest fact (``audit verify`` names the key
  or login inserted, changed or deleted);
- authentication asks the same of the one row it reads (``recorded``: the latest fact's
  data, read in the same statement by one probe of the facts' (kind, key, region, seq)
  index), so a row that does not agree with its record lets no one in, even before the
  next audit — a revoked key stays refused whatever its row says, until its revocation is
  cut from the hashed journal, which the audit (and, for the newest entries, a checkpoint)
  finds.

Every grant's change locks the national chain's head first (``lock_grants``): two
revocations of one key, or two changes of one clerk, are one after the other.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Connection, ScalarSelect, Table, select

from suiren.domain.month import Month
from suiren.domain.region import NATIONAL
from suiren.ledger.transaction import Fact, Transaction, TxCode, utc
from suiren.store.db import KEYS_INFO
from suiren.store.ledger_repo import lock_chain_head, post_transactions
from suiren.store.projections import GRANTS, fact
from suiren.store.tables import facts

GRANTS_REGION = NATIONAL  # the journal that records every grant


def lock_grants(connection: Connection) -> None:
    """Hold the grants' journal until the transaction ends (one change of a grant at a time)."""
    lock_chain_head(connection, GRANTS_REGION)


def record_grant(
    connection: Connection, table: Table, row: dict[str, Any], now: datetime, memo: str
) -> None:
    """Record ``row`` (as written to ``table``, digested columns as stored) as its next fact."""
    projection = GRANTS[table.name]
    post_fact(
        connection,
        fact(table, **{name: row[name] for name in projection.columns}),
        int(row["version"]),
        now,
        memo,
    )


def record_found(
    connection: Connection, tables: tuple[Table, ...], revision: str, keyless: str
) -> None:
    """Record every row of ``tables`` as it stands (its ``version``, 1 at an upgrade): what a
    migration that makes a table a grant does with the rows already there. ``keyless``: the
    refusal (中文 / English) when there are rows and the migration runs without the ledger's
    key, which the journal's chain needs."""
    rows = [(t, r) for t in tables for r in connection.execute(select(t)).mappings().all()]
    if not rows:
        return
    if connection.info.get(KEYS_INFO) is None:
        raise RuntimeError(keyless)
    now = datetime.now(UTC)
    for table, row in rows:
        record_grant(
            connection, table, dict(row), now, f"recorded at upgrade {revision}: {table.name}"
        )


def post_fact(connection: Connection, item: Fact, version: int, now: datetime, memo: str) -> None:
    """Post a grant's fact (``item``, of ``version``) to the national journal."""
    post_transactions(
        connection,
        [
            Transaction.build(
                f"access/{item.kind}/{item.key}/{version}",
                TxCode.ACCESS,
                GRANTS_REGION,
                Month.from_date(utc(now).date()),
                now,
                [],
                memo=memo,
                facts=[item],
            )
        ],
    )


def recorded(table: Table, key: Column[Any]) -> ScalarSelect[Any]:
    """The latest fact's data of the grant whose key is ``key`` (a column of the statement
    it is selected in), or NULL: none was recorded."""
    return (
        select(facts.c.data)
        .where(facts.c.region == GRANTS_REGION, facts.c.kind == table.name, facts.c.key == key)
        .order_by(facts.c.seq.desc())
        .limit(1)
        .scalar_subquery()
    )


def recorded_sql(table: Table, key: str) -> str:
    """``recorded`` as plain SQL, ``key`` an SQL expression (for a driver-level statement)."""
    return (
        f"(SELECT f.data FROM facts AS f WHERE f.region = '{GRANTS_REGION}'"
        f" AND f.kind = '{table.name}' AND f.key = {key} ORDER BY f.seq DESC LIMIT 1)"
    )


def latest(connection: Connection, table: Table, key: str) -> dict[str, Any] | None:
    """The latest fact of the grant ``key`` of ``table``, decoded (None: none recorded)."""
    data = connection.execute(
        select(facts.c.data)
        .where(facts.c.region == GRANTS_REGION, facts.c.kind == table.name, facts.c.key == key)
        .order_by(facts.c.seq.desc())
        .limit(1)
    ).scalar()
    if data is None:
        return None
    try:
        found = json.loads(data)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def next_version(connection: Connection, table: Table, key: str) -> int:
    """The version of the next fact of grant ``key`` of ``table``: 1 for one never recorded;
    after a row deleted behind the ledger's back, the version after its last fact (the new
    row's is a fact of its own, never a replay)."""
    was = latest(connection, table, key)
    return 1 if was is None else int(was["version"]) + 1
