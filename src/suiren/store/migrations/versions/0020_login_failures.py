"""The wrong passwords of a login name that has no login (``login_failures``).

Five wrong passwords in a row lock a login for 15 minutes (``logins.FAILURES_MAX``,
``logins.LOCK``), but a name with no login — a resident id never registered, a number bound
to no one, a clerk's login no one holds — was refused as a wrong password for ever: six
tries told the two apart (the sixth "locked" for a login, "wrong" for none), so a lock said
who has a login. From this revision such a name counts its failures here and locks alike.
The table starts empty.

Revision ID: 0020_login_failures
Revises: 0019_login_code_days
"""

from alembic import op

from suiren.store.api_tables import login_failures

revision = "0020_login_failures"
down_revision = "0019_login_code_days"
branch_labels = None
depends_on = None


def upgrade() -> None:
    login_failures.create(op.get_bind())


def downgrade() -> None:
    login_failures.drop(op.get_bind())
