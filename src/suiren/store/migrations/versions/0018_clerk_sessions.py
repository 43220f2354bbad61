"""The generation of each clerk's sessions (``clerks.session_generation``).

A clerk's console token (``ct_…``) was signed, not stored: the console's logout only removed
the browser's cookie, and a copy of it taken before — on a shared agency computer, say —
went on opening the console for what remained of its 30 minutes, renewed with every page.
From this revision a clerk's token carries the generation of their sessions it was signed
at, every request it authenticates compares it with the clerk's row (read already, for
their region), and the logout, a move to another region's desk and ``suiren clerk
sessions-end`` add one. The generation is one of the columns the clerk's facts in the
national journal record and authentication checks against them, so a generation set back
lets the clerk in nowhere, and the audit names it.

Each clerk's latest fact recorded before this revision has no generation: it is recorded
again (the next version, code ``access``) from that fact — not from the row, which may have
been changed behind the service — with generation 0, and the row's ``version`` follows it
where the row was the fact's version. Tokens signed before the upgrade carry no generation
and are refused: their clerks log in again.

Revision ID: 0018_clerk_sessions
Revises: 0017_sessions_journalled
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0018_clerk_sessions"
down_revision = "0017_sessions_journalled"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from suiren.store.api_tables import clerks
    from suiren.store.db import KEYS_INFO
    from suiren.store.grants import latest, post_fact
    from suiren.store.projections import restate

    bind = op.get_bind()
    if "session_generation" not in {c["name"] for c in sa.inspect(bind).get_columns("clerks")}:
        op.add_column(  # a database made by this release's 0004 or 0011 has it
            "clerks",
            sa.Column("session_generation", sa.Integer, nullable=False, server_default="0"),
        )
    found = bind.execute(sa.select(clerks.c.login, clerks.c.version)).all()
    older = [
        (login, version, was)
        for login, version in found
        if (was := latest(bind, clerks, login)) is not None and "session_generation" not in was
    ]
    if not older:
        return
    if bind.info.get(KEYS_INFO) is None:
        raise RuntimeError(
            "记录经办人员的会话代次需要账本密钥 / recording the generation of clerks' sessions"
            " needs the ledger's key: run `suiren db upgrade` with it configured"
        )
    now = datetime.now(UTC)
    for login, version, was in older:
        recorded = int(was["version"]) + 1
        item = restate(clerks, was, session_generation=0, version=recorded)
        post_fact(bind, item, recorded, now, f"recorded at upgrade 0018: clerks ({login})")
        if version == was["version"]:  # else the row's edit stays for the audit to name
            bind.execute(sa.update(clerks).where(clerks.c.login == login).values(version=recorded))


def downgrade() -> None:
    with op.batch_alter_table("clerks") as batch:
        batch.drop_column("session_generation")
