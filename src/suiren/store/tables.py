"""The tables. Every ledger row carries its region, so a region's data can move to its own node.

Hashed by the journal's chain (store/ledger_repo.py, the one write path): ``journal``,
``postings``, ``facts``, ``contribution_months`` and ``month_segments``; append-only
(triggers refuse UPDATE, DELETE and TRUNCATE; the list is ``APPEND_ONLY``).

Projections, each written only by applying a hashed fact (store/projections.py) and rebuilt
and compared by the audit: ``workers``, ``enrolments``, ``transfers`` and
``platform_engagements`` (the latest version of each row), and the append-only ``transfer_events``, ``interest_carry``,
``interest_runs``, ``region_obligations``, ``settled_obligations``, ``settled_transfers``,
``settlement_positions``, ``settlement_flows``, ``history_stints``, ``intake_receipts`` and
``provisional_uses``. ``accounts`` (balances) and
``chain_heads`` are maintained in the same database transaction as the rows they summarise
and recomputed by the audit. ``ledger_meta`` holds the key's fingerprint.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData()

REGION = String(6)

workers = Table(
    "workers",
    metadata,
    Column("worker_id", String(32), primary_key=True),
    Column("resident_id_cipher", LargeBinary, nullable=False),  # AES-GCM: nonce || ciphertext
    Column("blind_index", String(64), nullable=False, unique=True),  # HMAC-SHA256, for lookup
    # only the province (2 digits): with sex and birth month it leaves ≥ 10,000 candidates
    Column("masked_id", String(18), nullable=False),
    Column("sex", String(1), nullable=False),
    Column("birth_month", Integer, nullable=False),  # Month.ordinal
    Column("hukou_region", REGION, nullable=False),
    Column("work_region", REGION, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

enrolments = Table(
    "enrolments",
    metadata,
    Column("worker_id", String(32), nullable=False),
    Column("scheme", String(32), nullable=False),
    Column("region", REGION, nullable=False),
    Column("start_month", Integer, nullable=False),
    Column("temporary", Boolean, nullable=False, server_default=false()),  # 临时账户
    # where the insurance relation (基本养老保险关系) and its money are held: the region itself,
    # or, while paying into a temporary account, the region left behind (None: never held one)
    Column("relation_region", REGION),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),  # the fact that set this state (1, 2, …)
    PrimaryKeyConstraint("worker_id", "scheme"),
    ForeignKeyConstraint(["worker_id"], ["workers.worker_id"]),
)

chain_heads = Table(
    "chain_heads",
    metadata,
    Column("region", REGION, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("chain_hash", String(64), nullable=False),
)

journal = Table(
    "journal",
    metadata,
    Column("region", REGION, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("tx_id", String(128), nullable=False, unique=True),
    Column("code", String(16), nullable=False),
    Column("legal_month", Integer, nullable=False),
    Column("worker_id", String(32)),
    Column("reverses", String(128), unique=True),
    Column("memo", String(256), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("months", Integer, nullable=False, server_default="0"),  # contribution rows (a batch)
    Column("content_hash", String(64), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("chain_hash", String(64), nullable=False),
    PrimaryKeyConstraint("region", "seq"),
)

postings = Table(
    "postings",
    metadata,
    Column("region", REGION, nullable=False),  # the journal's region
    Column("seq", BigInteger, nullable=False),
    Column("line", Integer, nullable=False),
    Column("account", String(160), nullable=False),
    Column("account_region", REGION, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("legal_month", Integer, nullable=False),
    Column("code", String(16), nullable=False),
    PrimaryKeyConstraint("region", "seq", "line"),
    ForeignKeyConstraint(
        ["region", "seq"], ["journal.region", "journal.seq"], deferrable=True, initially="DEFERRED"
    ),
    Index("ix_postings_account_month", "account", "legal_month"),
)

accounts = Table(
    "accounts",
    metadata,
    Column("account", String(160), primary_key=True),
    Column("owner_type", String(16), nullable=False),
    Column("owner_id", String(64), nullable=False),
    Column("scheme", String(32), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("region", REGION, nullable=False),
    Column("balance_fen", BigInteger, nullable=False),
    # a region's accounts of a kind in owner order: the yearly interest run reads a batch of
    # owners (a range) and its batch bounds from one ordered scan (migration 0010)
    Index("ix_accounts_kind_region_owner", "scheme", "kind", "region", "owner_id"),
    Index("ix_accounts_owner", "owner_id"),
)

# One row per contribution month; its postings are derived (ledger/months.py). The rows of a
# batch belong to one journal entry (region, seq) in line order.
contribution_months = Table(
    "contribution_months",
    metadata,
    Column("tx_id", String(128), primary_key=True),
    Column("region", REGION, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("line", Integer, nullable=False),
    Column("worker_id", String(32), nullable=False),
    Column("scheme", String(32), nullable=False),
    Column("month", Integer, nullable=False),
    Column("attempt", Integer, nullable=False),  # earlier payments of this month, all reversed
    Column("base_fen", BigInteger, nullable=False),
    Column("due_fen", BigInteger, nullable=False),
    Column("account_fen", BigInteger, nullable=False),
    Column("pooled_fen", BigInteger, nullable=False),
    Column("held_fen", BigInteger, nullable=False),  # of the pooled part, held at the hukou region
    Column("temporary", Integer, nullable=False),  # 1: paid to a 临时账户
    UniqueConstraint("worker_id", "scheme", "month", "attempt", name="uq_month_paid_once"),
    CheckConstraint("due_fen = account_fen + pooled_fen", name="ck_month_split"),
    CheckConstraint("held_fen >= 0 AND held_fen <= pooled_fen", name="ck_month_held"),
    CheckConstraint(
        "account_fen >= 0 AND pooled_fen >= 0 AND base_fen > 0", name="ck_month_positive"
    ),
)

month_segments = Table(  # the hash of every SEGMENT_ROWS rows of a batch (ledger/months.py)
    "month_segments",
    metadata,
    Column("region", REGION, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("segment", Integer, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    PrimaryKeyConstraint("region", "seq", "segment"),
)

facts = Table(  # the rows of the projections, as recorded (and hashed) by their transaction
    "facts",
    metadata,
    Column("region", REGION, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("line", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("key", String(200), nullable=False),
    Column("data", Text, nullable=False),
    PrimaryKeyConstraint("region", "seq", "line"),
    # a grant's latest fact (store/grants.py ``recorded``, read on every request authenticated
    # by a key or a worker's token) is one probe of this index, in SQLite too (0017)
    Index("ix_facts_kind_key_region_seq", "kind", "key", "region", "seq"),
)

ledger_meta = Table(  # the key's fingerprint: a database is used with one key only
    "ledger_meta",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(256), nullable=False),
)

interest_runs = Table(
    "interest_runs",
    metadata,
    Column("scheme", String(32), nullable=False),
    Column("region", REGION, nullable=False),
    Column("year", Integer, nullable=False),
    Column("batch", Integer, nullable=False),
    Column("tx_id", String(128), nullable=False, unique=True),
    Column("accounts", Integer, nullable=False),
    Column("total_fen", BigInteger, nullable=False),
    PrimaryKeyConstraint("scheme", "region", "year", "batch"),
    UniqueConstraint("tx_id", name="uq_interest_runs_tx"),
)

transfers = Table(  # the current state of each transfer: its latest fact
    "transfers",
    metadata,
    Column("transfer_id", String(128), primary_key=True),  # the client's idempotency key
    Column("worker_id", String(32), nullable=False),
    Column("scheme", String(32), nullable=False),
    Column("from_region", REGION, nullable=False),
    Column("to_region", REGION, nullable=False),
    Column("scenario", String(32), nullable=False),
    # move: the relation (or a temporary account) moves; gather: a temporary account's money
    # goes to the paying region at retirement (归集)
    Column("kind", String(8), nullable=False, server_default="move"),
    Column("state", String(16), nullable=False),
    Column("temporary", Boolean, nullable=False),
    Column("account_fen", BigInteger, nullable=False),
    Column("pooled_fen", BigInteger, nullable=False),
    Column("kept_fen", BigInteger, nullable=False),
    Column("interest_fen", BigInteger, nullable=False),
    Column("requested_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),  # the deadline of the step now expected
    Column("completed_on", Date),
    Column("version", Integer, nullable=False),
    Index("ix_transfers_worker", "worker_id"),
    Index("ix_transfers_state_due", "state", "due_on"),
)

transfer_events = Table(
    "transfer_events",
    metadata,
    Column("transfer_id", String(128), nullable=False),
    Column("step", String(16), nullable=False),
    Column("on_day", Date, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("tx_id", String(128)),
    Column("note", String(256), nullable=False),
    PrimaryKeyConstraint("transfer_id", "step"),
)

interest_carry = (
    Table(  # what interest needs to know of a transfer posting on an individual account
        "interest_carry",
        metadata,
        Column("region", REGION, nullable=False),  # the posting's journal region and sequence
        Column("seq", BigInteger, nullable=False),
        Column("account", String(160), nullable=False),
        # the part of the posting's amount that was in the account before its legal year began:
        # it earns a whole year's interest where it lands, the rest the in-year rate (年度计息法)
        Column("prior_fen", BigInteger, nullable=False),
        PrimaryKeyConstraint("region", "seq", "account"),
    )
)

settlement_positions = Table(
    "settlement_positions",
    metadata,
    Column("scheme", String(32), nullable=False),
    Column("window", Date, nullable=False),
    Column("region", REGION, nullable=False),
    Column("net_fen", BigInteger, nullable=False),  # > 0: the region pays out
    Column("tx_id", String(128), nullable=False),
    PrimaryKeyConstraint("scheme", "window", "region"),
)

settlement_flows = Table(
    "settlement_flows",
    metadata,
    Column("scheme", String(32), nullable=False),
    Column("window", Date, nullable=False),
    Column("from_region", REGION, nullable=False),
    Column("to_region", REGION, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("transfers", Integer, nullable=False),
    PrimaryKeyConstraint("scheme", "window", "from_region", "to_region"),
)

settled_transfers = Table(  # which window settled each transfer (once)
    "settled_transfers",
    metadata,
    Column("transfer_id", String(128), primary_key=True),
    Column("scheme", String(32), nullable=False),
    Column("window", Date, nullable=False),
)

APPEND_ONLY = (
    "journal", "postings", "facts", "contribution_months", "month_segments", "workers",
    "interest_runs", "transfer_events", "interest_carry", "settlement_positions",
    "settlement_flows", "settled_transfers",
)  # fmt: skip

# Obligations between regional funds that are not transfers, settled by the same windows as
# transfers (services/settlement.py). Under money_follows_person the hukou-held part of a
# medical contribution (services/medical.py) is one: the work region collected it and owes it
# to the hukou region. The id is the hukou region's transaction that booked it.
region_obligations = Table(
    "region_obligations",
    metadata,
    Column("obligation_id", String(128), primary_key=True),
    Column("scheme", String(32), nullable=False),
    Column("from_region", REGION, nullable=False),  # owes (its clearing account is +)
    Column("to_region", REGION, nullable=False),  # is owed (its clearing account is −)
    Column("amount_fen", BigInteger, nullable=False),
    Column("on_day", Date, nullable=False),  # settled by the first window on or after it
    Index("ix_region_obligations_scheme_day", "scheme", "on_day"),
)

settled_obligations = Table(  # which window settled each obligation (once)
    "settled_obligations",
    metadata,
    Column("obligation_id", String(128), primary_key=True),
    Column("scheme", String(32), nullable=False),
    Column("window", Date, nullable=False),
)

APPEND_ONLY = (*APPEND_ONLY, "region_obligations", "settled_obligations")

# A worker's earlier history, migrated from an agency's old system (services/history.py): one
# row per stint of the import file, recorded as a fact of the worker's opening entry
# (``history/…``, code ``opening``) in the journal of the region that holds the record.
# ``kind``: paid (实际缴费), deemed (视同缴费) or temporary (临时账户). A paid or temporary
# stint has its recorded base (``base_fen``) or the old system's yearly index
# (``index_1e6``, 缴费指数 × 10⁶) or both; ``flags`` says what was accepted as recorded
# without today's checks (a base outside today's bounds, a month before Suiren's parameters).
history_stints = Table(
    "history_stints",
    metadata,
    Column("import_id", String(64), nullable=False),  # SHA-256 of the source file
    Column("row", Integer, nullable=False),  # the stint's 1-based data row in that file
    Column("worker_id", String(32), nullable=False),
    Column("scheme", String(32), nullable=False),
    Column("region", REGION, nullable=False),  # where the months were paid or worked
    Column("held_region", REGION, nullable=False),  # whose record (and money) holds them now
    Column("kind", String(10), nullable=False),
    Column("from_month", Integer, nullable=False),
    Column("to_month", Integer, nullable=False),
    Column("base_fen", BigInteger),
    Column("index_1e6", BigInteger),
    Column("flags", String(100), nullable=False),
    PrimaryKeyConstraint("import_id", "row"),
    Index("ix_history_stints_worker", "worker_id", "scheme"),
    CheckConstraint("from_month <= to_month", name="ck_history_months"),
    CheckConstraint("kind IN ('paid', 'deemed', 'temporary')", name="ck_history_kind"),
)
ADDED_IN_0003 = ("history_stints",)
APPEND_ONLY = (*APPEND_ONLY, "history_stints")

# A batch of contribution months as it was first received (services/contributions.py): the
# SHA-256 of its canonical columns, which of its rows were not posted and the month entries
# that hold the others. A batch received again with the same fingerprint (a file run again
# after a crash, a retried upload) is answered from here — its posted rows are replays — and
# only the rows refused the first time are looked at again. Recorded as a fact of a
# ``receipt/{fingerprint}`` entry in the journal of the batch's first region.
intake_receipts = Table(
    "intake_receipts",
    metadata,
    Column("fingerprint", String(64), primary_key=True),
    Column("scheme", String(32), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("posted", Integer, nullable=False),  # rows written by this batch
    Column("refused", Text, nullable=False),  # 0-based positions not posted: "3,17-20"
    Column("entries", Text, nullable=False),  # its month entries: "440100:7 440300:2"
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)
ADDED_IN_0005 = ("intake_receipts",)
APPEND_ONLY = (*APPEND_ONLY, "intake_receipts")

# The workers a platform (平台企业) declares it engages, and the relation it declares
# (人社部发〔2021〕56号 《关于维护新就业形态劳动者劳动保障权益的指导意见》: labour 劳动关系,
# incomplete 不完全符合确立劳动关系情形, civil 民事关系; services/platforms.py). One row per
# engagement period of a worker with a platform (``period`` 1, 2, …); its latest version is its
# state: the relation and work region, the first day and, once ended, the last day. Recorded
# as facts of ``engage/…`` entries (code ``engagement``) in the work region's journal.
platform_engagements = Table(
    "platform_engagements",
    metadata,
    Column("platform_id", String(64), nullable=False),  # the platform's API key scope
    Column("worker_id", String(32), nullable=False),
    Column("period", Integer, nullable=False),
    Column("relation", String(12), nullable=False),
    Column("work_region", REGION, nullable=False),
    Column("since", Date, nullable=False),  # the first day engaged
    Column("until", Date),  # the last day engaged; None: engaged still
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    PrimaryKeyConstraint("platform_id", "worker_id", "period"),
    ForeignKeyConstraint(["worker_id"], ["workers.worker_id"]),
    CheckConstraint("relation IN ('labour', 'incomplete', 'civil')", name="ck_engagement_relation"),
    CheckConstraint("until IS NULL OR until >= since", name="ck_engagement_days"),
    CheckConstraint("period >= 1 AND version >= 1", name="ck_engagement_numbers"),
)
ADDED_IN_0006 = ("platform_engagements",)

# The yearly figures standing in for unpublished ones (services/provisional.py) that an answer
# rested on, as it first gave them (services/provisional_uses.py): per month of a contribution
# month entry on provisional bounds (``subject`` the entry's tx id, ``months/{region}/{seq}``),
# per transfer step whose amounts rest on one (``transfer/{id}/{step}``, ``month`` 0), and per
# yearly interest run on a rate not published (``interest/{scheme}/{region}/{year}``, 0). A
# replay of a payment, and every read of a transfer, tells what the first answer used from
# here, even once the figure is published. Recorded as facts of the transfer step's entry, or
# of a ``provisional/{region}/{seq}`` entry beside a batch's month entries, or of the run's
# first batch.
provisional_uses = Table(
    "provisional_uses",
    metadata,
    Column("subject", String(160), nullable=False),
    Column("month", Integer, nullable=False),  # the month's ordinal; 0 for a transfer step
    Column("figures", Text, nullable=False),  # JSON: the warning's ``parameters``
    PrimaryKeyConstraint("subject", "month"),
)
ADDED_IN_0014 = ("provisional_uses",)
APPEND_ONLY = (*APPEND_ONLY, "provisional_uses")
