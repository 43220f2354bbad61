"""Alembic environment: the engine comes from the caller (``suiren.store.migrate``).

An engine made with the ledger's keys must hold the database's own key before anything
migrates: a revision that records rows (0011 records the grants in the journal, 0012 seals
the logins and kept answers, 0013 records the logins and bound numbers, 0017 the workers'
sessions, 0018 the generation of clerks' sessions) writes with the configured key, and one key of another
database would leave every row it touched refused afterwards."""

from __future__ import annotations

from alembic import context
from sqlalchemy import inspect

from suiren.store.db import KEYS_INFO, LedgerKeys, check_fingerprint
from suiren.store.tables import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    keys = connection.info.get(KEYS_INFO)
    if (
        isinstance(keys, LedgerKeys)
        and keys.chain_key
        and inspect(connection).has_table("ledger_meta")
    ):
        check_fingerprint(connection)  # WrongKey: nothing migrated
    context.configure(connection=connection, target_metadata=metadata)
    context.run_migrations()
