"""A region's accounts of a kind indexed in owner order.

The yearly interest run reads a region's individual accounts in batches of at most 50,000
owners (``services.interest``: ``owner_id BETWEEN low AND high``). The index on ``(scheme,
kind, region)`` matched the whole region for every batch: at 1,000,000 accounts each of the
20 batches walked all 1,000,000 index entries twice and filtered out 950,000 of them (an
``EXPLAIN ANALYZE`` in docs/BENCHMARKS.md), so the run grew with the square of a region's
accounts. With ``owner_id`` as the last key column a batch reads only its own range, and the
batch bounds come from one ordered scan. The new index serves every query of the old one (its
prefix), which is dropped.

Revision ID: 0010_accounts_owner_order
Revises: 0009_postings_entries
"""

from alembic import op

revision = "0010_accounts_owner_order"
down_revision = "0009_postings_entries"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a database created by this version's 0001 (from the current tables) has the new index
    op.execute("DROP INDEX IF EXISTS ix_accounts_kind_region")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_accounts_kind_region_owner"
        " ON accounts (scheme, kind, region, owner_id)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_accounts_kind_region_owner")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_accounts_kind_region ON accounts (scheme, kind, region)"
    )
