"""Balances updated in place: ``accounts`` keeps half of each page free on PostgreSQL.

A balance changes with every posting, and a yearly interest run changes every individual
account's. With full pages each new row version goes to another page and into all three
indexes of ``accounts``; with room on the page it is a heap-only (HOT) update that touches
no index. Measured on this machine (docs/BENCHMARKS.md): 500,000 balances updated set-based
in 5.5–8.9 s instead of 26.6 s. A table that already holds rows gets the room as its pages
are next rewritten (``VACUUM FULL accounts`` makes it at once). SQLite has no such setting.

Revision ID: 0007_balances
Revises: 0006_platforms
"""

from alembic import op

revision = "0007_balances"
down_revision = "0006_platforms"
branch_labels = None
depends_on = None

FILLFACTOR = 50  # percent of each page filled by inserts; the rest is for updated versions


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE accounts SET (fillfactor = {FILLFACTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE accounts RESET (fillfactor)")
