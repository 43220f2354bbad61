"""The generation of each worker's sessions (``worker_sessions``).

A worker's session token (``wt_…``) was signed, not stored: nothing could end it before its
30 minutes were over — not the worker logging out everywhere, not an agency after a phone was
lost, not a new password. From this revision a token carries the generation of the worker's
sessions it was signed at, every request it authenticates reads the worker's row (by its
primary key) and refuses a token of an earlier generation, and ending a worker's sessions
adds one. Tokens signed before the upgrade carry no generation and are refused: their
workers log in again.

Revision ID: 0016_worker_sessions
Revises: 0015_login_code_uses
"""

from alembic import op

from suiren.store.api_tables import worker_sessions

revision = "0016_worker_sessions"
down_revision = "0015_login_code_uses"
branch_labels = None
depends_on = None


def upgrade() -> None:
    worker_sessions.create(op.get_bind())


def downgrade() -> None:
    worker_sessions.drop(op.get_bind())
