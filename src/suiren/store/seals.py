"""Seals: an HMAC, under a key only the service holds, on the rows that are not facts in the
journal yet must not change behind the service — workers' portal logins, and the answers kept
for idempotent requests.

A worker's login (``logins``: the argon2id hash of their password), the one-time code that
opens it (``login_codes``) and the mobile number bound to it (``login_phones``) change by
design — a worker sets a password, asks for a code, binds a number. Whoever can write the database
could otherwise put a password hash they know on another worker's login, plant a code, or
bind their own number's row to another worker, and log in as that worker. So each such row
carries ``seal`` = HMAC-SHA256(seal key, the table and the row's sealed columns), computed
by the service when it writes the row (services/logins.py). Then:

- logging in refuses a row whose seal does not match (as if there were no login, no code,
  no number), so a forged row lets no one in, even before the next audit;
- the audit (store/audit.py) names every row whose seal does not match, and every row
  without one.

A row that cannot be loaded, or holds a value of a type the service never writes there
(bytes or a number where text belongs, on SQLite's dynamic typing; store/readable.py), is
not genuine either: refused as absent (a kept answer: not served), named by the audit,
never an error of the request.

A seal does not prove that a row is still the latest the service wrote: a login or a bound
number put back from an older copy would pass it. Those two are therefore also recorded in the
journal as the agency's grants are (store/grants.py, migration 0013): logging in and the audit
compare them with their latest fact too (services/logins.py ``_granted``). One-time codes are
sealed only (a used one put back works until its sealed expiry).

What is not sealed changes on every attempt and grants nothing by itself: a login's failures
and lock, a code's attempts; a row copied whole from another person keeps that person's
blind index (a keyed HMAC of their resident id or number) and opens only their own login.

An answer kept for an ``Idempotency-Key`` (``idempotency_keys``, api/routes/common.py) is
what a platform's retry is told happened — posted, with which amounts. Its key, request
digest, status and body are sealed the same way: a kept answer whose seal does not match is
not served (the retry is refused with a problem, and a new key replays the ledger's own
idempotent ids), and the audit names it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Table, select

from suiren.store.db import LedgerKeys, as_utc, ledger_keys
from suiren.store.readable import Found, first_row, well_typed

SEALED: dict[str, tuple[str, ...]] = {  # per table, the columns a seal covers, in order
    "logins": ("blind_index", "worker_id", "password_hash"),
    "login_codes": ("blind_index", "code_sha256", "expires_at"),
    "login_phones": ("phone_index", "worker_id", "masked"),
    "idempotency_keys": ("key_id", "idempotency_key", "request_sha256", "status", "body"),
}
NAMED_BY: dict[str, tuple[str, ...]] = {  # per table, what names a row in the audit's report
    "logins": ("worker_id",),
    "login_codes": ("blind_index",),
    "login_phones": ("worker_id",),
    "idempotency_keys": ("key_id", "idempotency_key"),
}


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):  # SQLite gives it back without its zone
        return as_utc(value).astimezone(UTC).isoformat(timespec="microseconds")
    return value


def seal(keys: LedgerKeys, table: str, row: Mapping[str, Any]) -> str:
    """The seal of ``row`` (a mapping holding at least the table's sealed columns)."""
    if not keys.seal_key:
        raise AssertionError("the ledger's keys hold no seal key (services/identity.ledger_keys)")
    message = json.dumps(
        [table, *(_canonical(row[column]) for column in SEALED[table])],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hmac.new(keys.seal_key, message.encode(), hashlib.sha256).hexdigest()


_SEAL_RE = re.compile(r"[0-9a-f]{64}")  # what ``seal`` gives: a SHA-256 HMAC in hex


def is_sealed(keys: LedgerKeys, table: str, row: Mapping[str, Any]) -> bool:
    """Whether ``row``'s ``seal`` is the seal of its sealed columns (a missing seal is not,
    nor one over values no seal can be computed of: bytes, a time out of range)."""
    given = row.get("seal")
    if not isinstance(given, str) or not _SEAL_RE.fullmatch(given):
        return False  # compare_digest refuses text that is not ASCII
    try:
        expected = seal(keys, table, row)
    except (TypeError, ValueError, OverflowError):
        return False
    return hmac.compare_digest(given, expected)


def is_genuine(keys: LedgerKeys, table: Table, row: Mapping[str, Any]) -> bool:
    """Whether ``row`` (as read, every column) is as the service wrote it: each value of the
    type the service writes (store/readable.py), and its seal matching."""
    return well_typed(table, row) and is_sealed(keys, table.name, row)


def sealed(connection: Connection, table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with their seal, under the keys of ``connection``'s engine: how the service
    writes every row of a sealed table."""
    return values | {"seal": seal(ledger_keys(connection), table.name, values)}


def genuine(connection: Connection, table: Table, row: Row[Any] | None) -> bool:
    """Whether ``row`` (as read) was written by the service: its values of their types and
    its seal matching. A forged or changed row opens and answers nothing, as if it were not
    there; the audit names it."""
    return row is not None and is_genuine(ledger_keys(connection), table, row._mapping)


def read_sealed(connection: Connection, table: Table, *where: ColumnElement[bool]) -> Found:
    """The row of ``table`` that ``where`` selects, as the service wrote it: ``row`` is None
    when there is none (``present`` False) and when the one there cannot be loaded or is not
    genuine (``present`` True: a kept answer is then refused, not replaced)."""
    found = first_row(connection, select(table).where(*where))
    return found if genuine(connection, table, found.row) else Found(found.present, None)
