"""The generation of each worker's sessions recorded in the national journal, with who ended
them (``worker_sessions.version`` and ``ended_by``).

From 0016 a worker's token carried the generation of their sessions and was refused once it
had moved on; but the row was neither sealed nor journalled nor audited: whoever could write
the database could set a generation back and revive the worker's tokens signed before their
sessions were ended, for what remained of their 30 minutes. From this revision the row is a
grant (store/grants.py): its making at the worker's first login and every end of their
sessions — by the worker, an agency's clerk or key, a new password, the command line — is a
fact of the journal of 000000 (code ``access``) with who ended them, a row that does not
agree with its latest fact lets no token in, and the audit names it. The rows that exist at
the upgrade are recorded as they stand (a fact of version 1, who ended them unknown: NULL).

A grant's latest fact is now read on every request a worker's token authenticates, beside
their row, as it was for every API key: ``facts`` are indexed on ``(kind, key, region,
seq)`` in place of ``(kind, key)``, so that the read is one probe of the index. SQLite
answered it by walking the national journal's primary key backwards from its newest entry
(``region = '000000' ORDER BY seq DESC``): its time grew with every grant, code used and
session recorded since (2,000 sessions recorded: 0.87 ms a check of a worker's token, 0.07 ms
for the row alone; 0.14–0.18 ms with this index, medians on a loaded machine). The new index
serves every query of the old one (its prefix), which is dropped.

Revision ID: 0017_sessions_journalled
Revises: 0016_worker_sessions
"""

import sqlalchemy as sa
from alembic import op

from suiren.store.api_tables import worker_sessions
from suiren.store.grants import record_found

revision = "0017_sessions_journalled"
down_revision = "0016_worker_sessions"
branch_labels = None
depends_on = None
ADDED = (
    sa.Column("ended_by", sa.String(64)),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
)


def upgrade() -> None:
    # a database created by this version's 0001 (from the current tables) has the new index
    op.execute("DROP INDEX IF EXISTS ix_facts_kind_key")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_facts_kind_key_region_seq ON facts (kind, key, region, seq)"
    )
    bind = op.get_bind()
    there = {c["name"] for c in sa.inspect(bind).get_columns(worker_sessions.name)}
    for column in ADDED:  # a database made by this release's 0016 has them
        if column.name not in there:
            op.add_column(worker_sessions.name, column)
    record_found(
        bind,
        (worker_sessions,),
        "0017",
        "记录已有的会话代次需要账本密钥 / recording the existing generations of workers'"
        " sessions needs the ledger's key: run `suiren db upgrade` with it configured",
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_facts_kind_key_region_seq")
    op.execute("CREATE INDEX IF NOT EXISTS ix_facts_kind_key ON facts (kind, key)")
    with op.batch_alter_table(worker_sessions.name) as batch:
        for column in ADDED:
            batch.drop_column(column.name)
