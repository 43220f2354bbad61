"""A worker's earlier history migrated from an agency's old system (``history_stints``).

Revision ID: 0003_history
Revises: 0002_api
"""

from alembic import op

from suiren.store.tables import history_stints

revision = "0003_history"
down_revision = "0002_api"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    history_stints.create(bind)
    table = history_stints.name
    if bind.dialect.name == "postgresql":
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION suiren_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION suiren_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}"
                f" BEGIN SELECT RAISE(ABORT, 'table {table} is append-only: {action} refused');"
                " END"
            )


def downgrade() -> None:
    history_stints.drop(op.get_bind())
