"""Postings checked against their journal entries once per statement on PostgreSQL.

Every posting belongs to a journal entry ``(region, seq)``. The foreign key said so row by
row: a deferred check at commit for each posting, about 1.2 s of the server's CPU for the
250,000 postings of a yearly interest run (docs/BENCHMARKS.md). A statement-level trigger
over the inserted rows (a transition table) refuses the same thing — a posting whose entry is
not in the journal — with one anti-join per statement. The other half of the foreign key, an
entry deleted under its postings, is refused by the journal's append-only trigger; the audit
still names any posting without its entry. The write path inserts an entry before its
postings, in the same statement order as before. The contribution months (``0001``) have the
same shape: no per-row key, their entry checked by the audit.

SQLite keeps the foreign key (a row check there costs little).

Revision ID: 0009_postings_entries
Revises: 0008_login_phones
"""

from alembic import op

revision = "0009_postings_entries"
down_revision = "0008_login_phones"
branch_labels = None
depends_on = None

FOREIGN_KEY = "postings_region_seq_fkey"  # PostgreSQL's name for the key of 0001

CHECK_FUNCTION = """
CREATE OR REPLACE FUNCTION suiren_postings_have_entries() RETURNS trigger AS $$
DECLARE
  orphan record;
BEGIN
  SELECT n.region, n.seq INTO orphan FROM new_postings n
  WHERE NOT EXISTS (SELECT 1 FROM journal j WHERE j.region = n.region AND j.seq = n.seq)
  LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'postings of %/% have no journal entry', orphan.region, orphan.seq
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql SET search_path FROM CURRENT
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE postings DROP CONSTRAINT IF EXISTS {FOREIGN_KEY}")
    op.execute(CHECK_FUNCTION)
    op.execute(
        "CREATE TRIGGER postings_have_entries AFTER INSERT ON postings"
        " REFERENCING NEW TABLE AS new_postings FOR EACH STATEMENT"
        " EXECUTE FUNCTION suiren_postings_have_entries()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS postings_have_entries ON postings")
    op.execute("DROP FUNCTION IF EXISTS suiren_postings_have_entries()")
    op.execute(
        f"ALTER TABLE postings ADD CONSTRAINT {FOREIGN_KEY} FOREIGN KEY (region, seq)"
        " REFERENCES journal (region, seq) DEFERRABLE INITIALLY DEFERRED"
    )
