"""The tables. Every ledger row carries its region, so a region's data can move to its own node.

Append-only (triggers refuse UPDATE and DELETE; the list is ``APPEND_ONLY``): ``journal``,
``postings``, ``contribution_months``, ``interest_runs``, ``interest_carry``,
``transfer_events``, the settlement tables, ``region_obligations`` and
``settled_obligations``. Maintained projections, changed only in the same database
transaction as the rows they summarise: ``accounts`` (balances), ``chain_heads`` (last hash
per region), ``paid_months`` (which months are paid), ``enrolments`` (where each worker is
insured and where the relation is held) and ``transfers`` (each transfer's state).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
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
    Index("ix_accounts_kind_region", "scheme", "kind", "region"),
    Index("ix_accounts_owner", "owner_id"),
)

contribution_months = Table(
    "contribution_months",
    metadata,
    Column("tx_id", String(128), primary_key=True),
    Column("worker_id", String(32), nullable=False),
    Column("scheme", String(32), nullable=False),
    Column("month", Integer, nullable=False),
    Column("region", REGION, nullable=False),
    Column("base_fen", BigInteger, nullable=False),
    Column("due_fen", BigInteger, nullable=False),
    Column("account_fen", BigInteger, nullable=False),
    Column("pooled_fen", BigInteger, nullable=False),
    Column("temporary", Boolean, nullable=False, server_default=false()),  # paid to a 临时账户
    Index("ix_contribution_months_worker", "worker_id", "scheme", "month"),
)

paid_months = Table(
    "paid_months",
    metadata,
    Column("worker_id", String(32), nullable=False),
    Column("scheme", String(32), nullable=False),
    Column("month", Integer, nullable=False),
    Column("tx_id", String(128), nullable=False),
    PrimaryKeyConstraint("worker_id", "scheme", "month"),
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

transfers = Table(  # the current state of each transfer: a projection of transfer_events
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
    "journal", "postings", "contribution_months", "interest_runs", "transfer_events", "interest_carry",
    "settlement_positions", "settlement_flows", "settled_transfers",
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
