"""The service's tables: API keys, idempotency keys, the access log.

Revision ID: 0002_api
Revises: 0001_ledger
"""

from alembic import op

from suiren.store.api_tables import (
    ADDED_IN_0004,
    ADDED_IN_0008,
    ADDED_IN_0015,
    ADDED_IN_0016,
    ADDED_IN_0019,
    ADDED_IN_0020,
    APPEND_ONLY_API,
    api_metadata,
)
from suiren.store.triggers import append_only_sql

revision = "0002_api"
down_revision = "0001_ledger"
branch_labels = None
depends_on = None
# tables a later revision creates
LATER = frozenset(
    ADDED_IN_0004 + ADDED_IN_0008 + ADDED_IN_0015 + ADDED_IN_0016 + ADDED_IN_0019 + ADDED_IN_0020
)


def upgrade() -> None:
    bind = op.get_bind()
    api_metadata.create_all(
        bind, tables=[t for t in api_metadata.sorted_tables if t.name not in LATER]
    )
    for table in APPEND_ONLY_API:  # UPDATE and DELETE refused (TRUNCATE left as 0002 made it)
        for statement in append_only_sql(bind.dialect.name, table, truncate=False):
            op.execute(statement)


def downgrade() -> None:
    api_metadata.drop_all(
        op.get_bind(), tables=[t for t in api_metadata.sorted_tables if t.name not in LATER]
    )
