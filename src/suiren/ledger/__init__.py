"""The double-entry ledger core (pure: no database, no framework).

Accounts say where money sits; a transaction is a set of postings that sums to zero,
identified by a client-supplied id (its idempotency key), and chained by hash to the
transaction before it in its region's journal. Nothing is ever updated or deleted: a
correction is a reversing transaction.
"""
