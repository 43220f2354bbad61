"""The workers platforms declare they engage (``platform_engagements``, a projection).

Revision ID: 0006_platforms
Revises: 0005_receipts
"""

from alembic import op

from suiren.store.tables import platform_engagements

revision = "0006_platforms"
down_revision = "0005_receipts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    platform_engagements.create(op.get_bind())


def downgrade() -> None:
    platform_engagements.drop(op.get_bind())
