"""``suiren audit verify``: recompute the chain, every transaction and every balance.

Reads the journal region by region in sequence order, streams the postings alongside,
and checks for each transaction: the sequence has no gap, the postings sum to zero, the
content hash matches the journal row and the postings, and the chain hash follows from
the previous one. Then every balance is recomputed from the postings (in SQL), and the
chain heads and the total of all accounts (zero) are checked. The first problem found is
reported with the transaction (or account) it concerns.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select, text

from suiren.ledger.hashchain import GENESIS, chain_hash, content_hash
from suiren.store.tables import chain_heads, journal, postings


@dataclass(frozen=True)
class AuditResult:
    ok: bool
    transactions: int
    accounts: int
    problem: str | None = None
    tx_id: str | None = None
    account: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "transactions": self.transactions,
            "accounts": self.accounts,
            "problem": self.problem,
            "tx_id": self.tx_id,
            "account": self.account,
        }


def verify(connection: Connection) -> AuditResult:
    checked = 0
    heads = {r.region: (int(r.seq), r.chain_hash) for r in connection.execute(select(chain_heads))}
    lines = connection.execute(
        select(
            postings.c.region, postings.c.seq, postings.c.account, postings.c.amount_fen,
            postings.c.legal_month, postings.c.code, postings.c.account_region,
        ).order_by(postings.c.region, postings.c.seq, postings.c.account)
    )  # fmt: skip
    pending = next(lines, None)
    region, expected_seq, previous = None, 0, GENESIS
    rows = connection.execute(select(journal).order_by(journal.c.region, journal.c.seq))
    for row in rows:
        if row.region != region:
            if region is not None and heads.get(region) != (expected_seq, previous):
                return AuditResult(
                    False, checked, 0, f"chain head of region {region} does not match its journal"
                )
            region, expected_seq, previous = row.region, 0, GENESIS
        expected_seq += 1
        if int(row.seq) != expected_seq:
            return AuditResult(
                False,
                checked,
                0,
                f"sequence gap in region {region} before seq {row.seq}",
                row.tx_id,
            )
        items: list[tuple[str, int]] = []
        disagreeing: str | None = None
        while pending is not None and (pending.region, int(pending.seq)) < (
            row.region,
            int(row.seq),
        ):
            return AuditResult(
                False, checked, 0, "postings without a journal row", None, pending.account
            )
        while (
            pending is not None
            and pending.region == row.region
            and int(pending.seq) == int(row.seq)
        ):
            # a posting's copies of its journal row's month and code, and its account's region
            copies = (int(pending.legal_month), pending.code, pending.account_region)
            if copies != (int(row.legal_month), row.code, pending.account.rsplit(":", 1)[-1]):
                disagreeing = disagreeing or pending.account
            items.append((pending.account, int(pending.amount_fen)))
            pending = next(lines, None)
        if len(items) < 2 or sum(a for _, a in items) != 0:
            return AuditResult(False, checked, 0, "postings do not balance", row.tx_id)
        content = content_hash(
            row.tx_id,
            row.code,
            row.region,
            int(row.legal_month),
            row.worker_id,
            row.reverses,
            row.memo,
            items,
        )
        if content != row.content_hash:
            return AuditResult(
                False, checked, 0, "content hash does not match the row and its postings", row.tx_id
            )
        if row.prev_hash != previous or chain_hash(previous, content) != row.chain_hash:
            return AuditResult(False, checked, 0, "hash chain broken", row.tx_id)
        if disagreeing is not None:
            return AuditResult(
                False, checked, 0, "a posting disagrees with its journal row or account",
                row.tx_id, disagreeing,
            )  # fmt: skip
        previous = row.chain_hash
        checked += 1
    if pending is not None:
        return AuditResult(
            False, checked, 0, "postings without a journal row", None, pending.account
        )
    if region is not None and heads.get(region) != (expected_seq, previous):
        return AuditResult(
            False, checked, 0, f"chain head of region {region} does not match its journal"
        )
    return _verify_balances(connection, checked)


def _verify_balances(connection: Connection, checked: int) -> AuditResult:
    mismatch = connection.execute(
        text(
            "SELECT a.account AS account, a.balance_fen AS stored, COALESCE(s.total, 0) AS computed"
            " FROM accounts a LEFT JOIN (SELECT account, SUM(amount_fen) AS total FROM postings"
            " GROUP BY account) s ON s.account = a.account"
            " WHERE a.balance_fen <> COALESCE(s.total, 0)"
            " UNION ALL"
            " SELECT s.account, NULL, s.total FROM (SELECT account, SUM(amount_fen) AS total"
            " FROM postings GROUP BY account) s LEFT JOIN accounts a ON a.account = s.account"
            " WHERE a.account IS NULL"
            " ORDER BY 1 LIMIT 1"
        )
    ).first()
    count = int(connection.execute(text("SELECT COUNT(*) FROM accounts")).scalar_one())
    if mismatch is not None:
        return AuditResult(
            False, checked, count,
            f"balance {mismatch.stored} does not equal the sum of its postings {mismatch.computed}",
            _last_tx_of(connection, mismatch.account), mismatch.account,
        )  # fmt: skip
    total = int(
        connection.execute(text("SELECT COALESCE(SUM(balance_fen), 0) FROM accounts")).scalar_one()
    )
    if total != 0:
        return AuditResult(False, checked, count, f"accounts sum to {total}, not zero")
    return AuditResult(True, checked, count)


def _last_tx_of(connection: Connection, account: str) -> str | None:
    row = connection.execute(
        text(
            "SELECT j.tx_id FROM postings p JOIN journal j ON j.region = p.region AND j.seq = p.seq"
            " WHERE p.account = :account ORDER BY j.region DESC, j.seq DESC LIMIT 1"
        ),
        {"account": account},
    ).first()
    return None if row is None else row.tx_id
