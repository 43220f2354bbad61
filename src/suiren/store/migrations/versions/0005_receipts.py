"""Receipts of contribution batches (``intake_receipts``): a batch sent again is a replay.

Revision ID: 0005_receipts
Revises: 0004_clerks
"""

from alembic import op

from suiren.store.tables import intake_receipts
from suiren.store.triggers import append_only_sql

revision = "0005_receipts"
down_revision = "0004_clerks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    intake_receipts.create(bind)
    for statement in append_only_sql(bind.dialect.name, intake_receipts.name):
        op.execute(statement)


def downgrade() -> None:
    intake_receipts.drop(op.get_bind())
