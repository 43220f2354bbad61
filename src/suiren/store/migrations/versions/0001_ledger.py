"""The ledger: workers, enrolments, journal, postings, balances, contribution months.

Revision ID: 0001_ledger
Revises:
"""

from alembic import op

from suiren.store.tables import ADDED_IN_0003, APPEND_ONLY, metadata

revision = "0001_ledger"
down_revision = None
branch_labels = None
depends_on = None
LATER = frozenset(ADDED_IN_0003)  # tables a later revision creates


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind, tables=[t for t in metadata.sorted_tables if t.name not in LATER])
    if bind.dialect.name == "postgresql":
        op.execute(
            """
            CREATE OR REPLACE FUNCTION suiren_append_only() RETURNS trigger AS $$
            BEGIN
              RAISE EXCEPTION 'table % is append-only: % refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'integrity_constraint_violation';
            END $$ LANGUAGE plpgsql
            """
        )
        for table in (t for t in APPEND_ONLY if t not in LATER):
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
                " FOR EACH ROW EXECUTE FUNCTION suiren_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}"
                " FOR EACH STATEMENT EXECUTE FUNCTION suiren_append_only()"
            )
    else:
        for table in (t for t in APPEND_ONLY if t not in LATER):
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}"
                    f" BEGIN SELECT RAISE(ABORT, 'table {table} is append-only: {action} refused');"
                    " END"
                )


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
