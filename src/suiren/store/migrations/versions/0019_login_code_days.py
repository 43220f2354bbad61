"""How many one-time codes each login was sent on its latest day (``login_code_days``).

A login was sent at most one code a minute (``logins.CODE_RESEND``) but had no cap a day:
1,440 text messages a day to one number, each a cost and a message its holder did not ask
for. From this revision a login is sent at most ``logins.CODES_PER_DAY`` codes a day
(Beijing time); a request past them is refused (429) until the next day. The table starts
empty: every login's count starts at the upgrade.

Revision ID: 0019_login_code_days
Revises: 0018_clerk_sessions
"""

from alembic import op

from suiren.store.api_tables import login_code_days

revision = "0019_login_code_days"
down_revision = "0018_clerk_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    login_code_days.create(op.get_bind())


def downgrade() -> None:
    login_code_days.drop(op.get_bind())
