"""The ledger: workers, enrolments, journal, postings, balances, contribution months.

Revision ID: 0001_ledger
Revises:
"""

from alembic import op

from suiren.store.tables import (
    ADDED_IN_0003,
    ADDED_IN_0005,
    ADDED_IN_0006,
    ADDED_IN_0014,
    APPEND_ONLY,
    metadata,
)
from suiren.store.triggers import APPEND_ONLY_FUNCTION, append_only_sql

revision = "0001_ledger"
down_revision = None
branch_labels = None
depends_on = None
LATER = frozenset(
    ADDED_IN_0003 + ADDED_IN_0005 + ADDED_IN_0006 + ADDED_IN_0014
)  # tables a later revision creates


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind, tables=[t for t in metadata.sorted_tables if t.name not in LATER])
    if bind.dialect.name == "postgresql":
        op.execute(APPEND_ONLY_FUNCTION)
    for table in (t for t in APPEND_ONLY if t not in LATER):
        for statement in append_only_sql(bind.dialect.name, table):
            op.execute(statement)


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
