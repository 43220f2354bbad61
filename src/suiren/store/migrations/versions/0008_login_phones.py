"""Workers' mobile numbers bound to their portal logins (``login_phones``).

Revision ID: 0008_login_phones
Revises: 0007_balances
"""

from alembic import op

from suiren.store.api_tables import login_phones

revision = "0008_login_phones"
down_revision = "0007_balances"
branch_labels = None
depends_on = None


def upgrade() -> None:
    login_phones.create(op.get_bind())


def downgrade() -> None:
    login_phones.drop(op.get_bind())
