"""Each one-time code used, recorded in the national journal (``login_code_uses``).

A code's row was deleted when it was used, and nothing else remembered it: a ``login_codes``
row saved before (a backup) and put back after opened the login again with the same code
until it expired, its seal still matching. From this revision each use is a fact (code
``access``, store/grants.py) and a row of ``login_code_uses``, and a code whose use is
recorded opens nothing. The codes pending at the upgrade are dropped (a worker asks for a
new one): a code used before it has no record, and one of them put back would pass.

Revision ID: 0015_login_code_uses
Revises: 0014_provisional_uses
"""

import sqlalchemy as sa
from alembic import op

from suiren.store.api_tables import login_code_uses, login_codes
from suiren.store.triggers import append_only_sql

revision = "0015_login_code_uses"
down_revision = "0014_provisional_uses"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    bind.execute(sa.delete(login_codes))
    login_code_uses.create(bind)
    for statement in append_only_sql(bind.dialect.name, login_code_uses.name):
        op.execute(statement)


def downgrade() -> None:
    login_code_uses.drop(op.get_bind())
