"""A worker's earlier history migrated from an agency's old system (``history_stints``).

Revision ID: 0003_history
Revises: 0002_api
"""

from alembic import op

from suiren.store.tables import history_stints
from suiren.store.triggers import append_only_sql

revision = "0003_history"
down_revision = "0002_api"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    history_stints.create(bind)
    for statement in append_only_sql(bind.dialect.name, history_stints.name):
        op.execute(statement)


def downgrade() -> None:
    history_stints.drop(op.get_bind())
