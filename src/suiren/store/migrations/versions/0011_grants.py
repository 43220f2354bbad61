"""API keys and clerks' logins recorded in the national journal (store/grants.py).

Each ``api_keys`` and ``clerks`` row gets the ``version`` of the fact that records it, and
every row that exists at the upgrade is recorded as it stands (a fact of version 1 in the
journal of 000000, code ``access``), so that the audit compares it from now on and
authentication accepts it. A row someone had already inserted or changed behind the
service's back is recorded as found: review ``suiren api-key list`` (and the clerks) before
the upgrade.

Revision ID: 0011_grants
Revises: 0010_accounts_owner_order
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from suiren.store.api_tables import api_keys, clerks
from suiren.store.db import KEYS_INFO

revision = "0011_grants"
down_revision = "0010_accounts_owner_order"
branch_labels = None
depends_on = None
TABLES = (api_keys, clerks)


def upgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:  # a database made by this release's 0002 and 0004 has the column
        if "version" not in {c["name"] for c in sa.inspect(bind).get_columns(table.name)}:
            op.add_column(
                table.name, sa.Column("version", sa.Integer, nullable=False, server_default="1")
            )
    # the facts recorded here are of the rows as this release has them: a clerk's with the
    # generation of their sessions (0018's column, made here for a database of an older
    # release; 0018 then finds it)
    if "session_generation" not in {c["name"] for c in sa.inspect(bind).get_columns("clerks")}:
        op.add_column(
            "clerks",
            sa.Column("session_generation", sa.Integer, nullable=False, server_default="0"),
        )
    rows = [(t, r) for t in TABLES for r in bind.execute(sa.select(t)).mappings().all()]
    if not rows:
        return
    if bind.info.get(KEYS_INFO) is None:
        raise RuntimeError(
            "记录已有的 API 密钥和经办人员需要账本密钥 / recording the existing API keys and"
            " clerks needs the ledger's key: run `suiren db upgrade` with it configured"
        )
    from suiren.store.grants import record_grant

    now = datetime.now(UTC)
    for table, row in rows:
        record_grant(bind, table, dict(row), now, f"recorded at upgrade 0011: {table.name}")


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table.name) as batch:
            batch.drop_column("version")
