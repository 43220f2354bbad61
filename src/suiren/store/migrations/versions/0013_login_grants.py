"""Workers' portal logins and bound mobile numbers recorded in the national journal
(store/grants.py), so that a row put back from an older copy is found.

A seal (0012) proves that the service wrote a row, not that it is still the latest the
service wrote: an old password hash or a number since unbound, put back whole, passed. From
this revision each ``logins`` and ``login_phones`` row gets the ``version`` of the fact that
records it, every password set and every number bound, moved or unbound is a fact in the
journal of 000000 (code ``access``), and logging in and the audit compare the row with its
latest fact. An unbound number keeps its row with ``worker_id`` NULL (its fact says so):
the column becomes nullable. Rows that exist at the upgrade are recorded as they stand (a
fact of version 1), as 0011 recorded the grants; a row that is not genuine (its seal does
not match) is recorded as found too, and the audit keeps naming its seal.

One-time codes are kept from this revision as an HMAC under the seal key, no longer as the
SHA-256 of six digits (which the million possible codes undo): the codes pending at the
upgrade are dropped, and a worker asks for a new one.

Revision ID: 0013_login_grants
Revises: 0012_seals
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from suiren.store.api_tables import login_codes, login_phones, logins
from suiren.store.db import KEYS_INFO

revision = "0013_login_grants"
down_revision = "0012_seals"
branch_labels = None
depends_on = None
TABLES = (logins, login_phones)


def upgrade() -> None:
    bind = op.get_bind()
    bind.execute(sa.delete(login_codes))
    for table in TABLES:  # a database made by this release's 0002 and 0008 has the column
        if "version" not in {c["name"] for c in sa.inspect(bind).get_columns(table.name)}:
            op.add_column(
                table.name, sa.Column("version", sa.Integer, nullable=False, server_default="1")
            )
    worker = {c["name"]: c for c in sa.inspect(bind).get_columns("login_phones")}["worker_id"]
    if not worker["nullable"]:
        with op.batch_alter_table("login_phones") as batch:
            batch.alter_column("worker_id", existing_type=sa.String(32), nullable=True)
    rows = [(t, r) for t in TABLES for r in bind.execute(sa.select(t)).mappings().all()]
    if not rows:
        return
    if bind.info.get(KEYS_INFO) is None:
        raise RuntimeError(
            "记录已有的登录和绑定的手机号需要账本密钥 / recording the existing logins and bound"
            " numbers needs the ledger's key: run `suiren db upgrade` with it configured"
        )
    from suiren.store.grants import record_grant

    now = datetime.now(UTC)
    for table, row in rows:
        record_grant(bind, table, dict(row), now, f"recorded at upgrade 0013: {table.name}")


def downgrade() -> None:
    bind = op.get_bind()
    bind.execute(sa.delete(login_phones).where(login_phones.c.worker_id.is_(None)))
    with op.batch_alter_table("login_phones") as batch:
        batch.alter_column("worker_id", existing_type=sa.String(32), nullable=False)
        batch.drop_column("version")
    with op.batch_alter_table("logins") as batch:
        batch.drop_column("version")
