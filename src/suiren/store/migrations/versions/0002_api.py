"""The service's tables: API keys, idempotency keys, the access log.

Revision ID: 0002_api
Revises: 0001_ledger
"""

from alembic import op

from suiren.store.api_tables import ADDED_IN_0004, APPEND_ONLY_API, api_metadata

revision = "0002_api"
down_revision = "0001_ledger"
branch_labels = None
depends_on = None
LATER = frozenset(ADDED_IN_0004)  # tables a later revision creates


def upgrade() -> None:
    bind = op.get_bind()
    api_metadata.create_all(
        bind, tables=[t for t in api_metadata.sorted_tables if t.name not in LATER]
    )
    for table in APPEND_ONLY_API:
        if bind.dialect.name == "postgresql":
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
                " FOR EACH ROW EXECUTE FUNCTION suiren_append_only()"
            )
        else:
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}"
                    f" BEGIN SELECT RAISE(ABORT, 'table {table} is append-only: {action} refused');"
                    " END"
                )


def downgrade() -> None:
    api_metadata.drop_all(
        op.get_bind(), tables=[t for t in api_metadata.sorted_tables if t.name not in LATER]
    )
