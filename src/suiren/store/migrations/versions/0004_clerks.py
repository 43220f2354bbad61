"""Agency clerks' console logins (``clerks``).

Revision ID: 0004_clerks
Revises: 0003_history
"""

from alembic import op

from suiren.store.api_tables import clerks

revision = "0004_clerks"
down_revision = "0003_history"
branch_labels = None
depends_on = None


def upgrade() -> None:
    clerks.create(op.get_bind())


def downgrade() -> None:
    clerks.drop(op.get_bind())
