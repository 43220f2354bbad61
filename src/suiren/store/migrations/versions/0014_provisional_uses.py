"""The provisional figures an answer rested on, as first given (``provisional_uses``).

Months paid and transfer steps recorded before this revision have none: a replay of such a
payment, or a read of such a transfer, says no ``provisional-parameter`` warning (their
first answers were not kept; a quote or an estimate asked now says what holds today).

Revision ID: 0014_provisional_uses
Revises: 0013_login_grants
"""

from alembic import op

from suiren.store.tables import provisional_uses
from suiren.store.triggers import append_only_sql

revision = "0014_provisional_uses"
down_revision = "0013_login_grants"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    provisional_uses.create(bind)
    for statement in append_only_sql(bind.dialect.name, provisional_uses.name):
        op.execute(statement)


def downgrade() -> None:
    provisional_uses.drop(op.get_bind())
