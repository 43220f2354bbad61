"""The append-only rule of a table as SQL triggers (the migrations create them).

PostgreSQL: one function, ``suiren_append_only()`` (created by the first migration), fired
before UPDATE or DELETE of a row and before TRUNCATE; SQLite: a trigger per action that
aborts. A table's triggers are named after it, so a migration can drop them again.
"""

from __future__ import annotations

APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION suiren_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'table % is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'integrity_constraint_violation';
END $$ LANGUAGE plpgsql
"""


def append_only_sql(dialect: str, table: str, truncate: bool = True) -> list[str]:
    """The statements that make ``table`` append-only on ``dialect``."""
    if dialect == "postgresql":
        statements = [
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION suiren_append_only()"
        ]
        if truncate:
            statements.append(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}"
                " FOR EACH STATEMENT EXECUTE FUNCTION suiren_append_only()"
            )
        return statements
    return [
        f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}"
        f" BEGIN SELECT RAISE(ABORT, 'table {table} is append-only: {action} refused'); END"
        for action in ("UPDATE", "DELETE")
    ]
