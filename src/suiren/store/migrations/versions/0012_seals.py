"""Workers' logins, one-time codes, bound mobile numbers and kept answers sealed
(store/seals.py).

Each ``logins``, ``login_codes``, ``login_phones`` and ``idempotency_keys`` row gets a
``seal``: an HMAC of the columns that decide who gets in (or what a retry is told), under a
key derived from the ledger's secret. Logins, numbers and kept answers that exist at the
upgrade are sealed as they stand, so that they go on working and the audit compares them
from now on; a row someone had already changed behind the service's back is sealed as found
(nothing could tell it before this revision). One-time codes last minutes: those pending at
the upgrade are dropped, and a worker asks for a new one.

Revision ID: 0012_seals
Revises: 0011_grants
"""

import sqlalchemy as sa
from alembic import op

from suiren.store.api_tables import idempotency_keys, login_codes, login_phones, logins
from suiren.store.db import KEYS_INFO, LedgerKeys
from suiren.store.seals import seal

revision = "0012_seals"
down_revision = "0011_grants"
branch_labels = None
depends_on = None
TABLES = (logins, login_codes, login_phones, idempotency_keys)


def upgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:  # a database made by this release's 0002 and 0008 has the column
        if "seal" not in {c["name"] for c in sa.inspect(bind).get_columns(table.name)}:
            op.add_column(table.name, sa.Column("seal", sa.String(64)))
    bind.execute(sa.delete(login_codes))
    keys = bind.info.get(KEYS_INFO)
    for table in (logins, login_phones, idempotency_keys):
        key = list(table.primary_key.columns)
        present = {c["name"] for c in sa.inspect(bind).get_columns(table.name)}
        # the columns this revision's database has (a later one adds ``version``)
        columns = [column for column in table.columns if column.name in present]
        rows = bind.execute(sa.select(*columns)).mappings().all()
        if not rows:
            continue
        if not isinstance(keys, LedgerKeys) or not keys.seal_key:
            raise RuntimeError(
                "封存已有的登录和保存的答复需要账本密钥 / sealing the existing logins and kept"
                " answers needs the ledger's"
                " key: run `suiren db upgrade` with it configured"
            )
        for row in rows:
            bind.execute(
                sa.update(table)
                .where(*(column == row[column.name] for column in key))
                .values(seal=seal(keys, table.name, row))
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table.name) as batch:
            batch.drop_column("seal")
