"""The service's own tables (not the ledger's: no money; the chain hashes the grants' facts).

- ``api_keys``: who may call the API. A key is shown once, when issued; only its SHA-256 is
  kept (a key carries 256 random bits, so a fast hash is as safe as a slow one here; people's
  passwords, when the portal comes, are hashed with argon2).
- ``idempotency_keys``: the first response to each ``Idempotency-Key`` of each key, with the
  hash of the request it answered, so that a retried POST returns it again.
- ``access_log``: every write, with the actor and the request id (append-only).
- ``logins`` and ``login_codes``: workers' portal logins (argon2id password hashes, failures
  and lock-outs) and the one-time codes that open them, keyed by the resident id's blind
  index (never the id itself).
- ``clerks``: agency clerks' console logins (经办人员, migration ``0004_clerks``): a login
  name, the region the clerk works for (a city, a province, or 000000 for the national
  agency), an argon2id password hash, failures and lock-outs as workers' logins have, and
  the generation of the clerk's sessions that their tokens carry (migration
  ``0018_clerk_sessions``: the logout, a move and ``suiren clerk sessions-end`` add one).
- ``api_keys`` and ``clerks`` grant access: every issue, revocation or change of one is
  recorded in the national journal (store/grants.py; ``version`` is the fact's, migration
  ``0011_grants``), the audit compares each row with its fact, and authentication refuses a
  row that does not agree with it.
- ``login_phones``: the mobile number a worker bound to their login (migration
  ``0008_login_phones``), so that they log in with it as with their resident id: the
  number's blind index (never the number) and its masked form, 138****5678, for display.
- ``logins``, ``login_codes``, ``login_phones`` and ``idempotency_keys`` are sealed
  (``seal``, migration ``0012_seals``; store/seals.py): a login whose seal does not match
  opens nothing, a kept answer is not served, and the audit names either.
- ``logins`` and ``login_phones`` are also recorded in the national journal as grants are
  (``version``, migration ``0013_login_grants``): each password set and each number bound,
  moved or unbound is a fact, so that an older genuine row put back (an old password, a
  number since unbound) disagrees with its latest fact and opens nothing. An unbound number
  keeps its row, ``worker_id`` NULL, as its last fact records it.
- ``login_code_uses``: each one-time code used (migration ``0015_login_code_uses``), a fact
  in the national journal as the grants' are, written in the transaction that uses it: a
  ``login_codes`` row put back after its code was used (a backup) opens nothing, whatever it
  says, and the audit names it. Append-only.
- ``worker_sessions``: the generation of each worker's sessions (migration
  ``0016_worker_sessions``): a worker's token (``wt_``) carries the generation it was signed
  at and is refused once it has moved on — the worker logged out everywhere, an agency ended
  their sessions, or their password was set again. A row is made at the worker's first
  login; a token with no row is refused. From migration ``0017_sessions_journalled`` each
  row is recorded in the national journal as the grants are (``version``): its making and
  every end of the sessions (``ended_by``: who ended them) is a fact, and a row that does
  not agree with its latest fact — a generation set back, a row deleted or inserted —
  lets no token in, and the audit names it.
- ``login_code_days``: how many one-time codes each login was sent on the day (Beijing
  time) of its last one (migration ``0019_login_code_days``), so that a login is sent at
  most ``CODES_PER_DAY`` a day (services/logins.py). One row a login, counted again from 1
  on its next day; not a grant (a row changed or deleted only lets more codes be sent).
- ``login_failures``: the wrong passwords in a row of a login name that has no login — a
  worker's resident id or number (its blind index, as ``login_codes``'), a clerk's login
  name (its HMAC under the seal key) — and its lock-out (migration
  ``0020_login_failures``), so that such a name locks after ``FAILURES_MAX`` as a login does
  and a lock says nothing of who has one (services/logins.py ``no_such_login``). Not a grant
  (a row changed or deleted only lets more wrong passwords be tried on a name with no login).
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

api_metadata = MetaData()

api_keys = Table(
    "api_keys",
    api_metadata,
    Column("key_id", String(32), primary_key=True),
    Column("secret_sha256", String(64), nullable=False),
    Column("actor", String(16), nullable=False),  # platform | agency | analyst | auditor
    Column("scope", String(64), nullable=False),  # an agency's region code; a platform's id
    Column("label", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("version", Integer, nullable=False, server_default="1"),  # its fact's (1, 2 revoked)
)

idempotency_keys = Table(
    "idempotency_keys",
    api_metadata,
    Column("key_id", String(48), nullable=False),
    Column("idempotency_key", String(128), nullable=False),
    Column("request_sha256", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("seal", String(64)),  # store/seals.py; NULL only in a row never sealed (refused)
    PrimaryKeyConstraint("key_id", "idempotency_key"),
)

access_log = Table(
    "access_log",
    api_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(64), nullable=False),
    Column("key_id", String(48), nullable=False),
    Column("method", String(8), nullable=False),
    Column("path", Text, nullable=False),
    Column("status", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

logins = Table(  # a worker's portal login: by the blind index of their resident id
    "logins",
    api_metadata,
    Column("blind_index", String(64), primary_key=True),
    Column("worker_id", String(32), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),  # argon2id
    Column("failures", Integer, nullable=False),
    Column("locked_until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("seal", String(64)),  # store/seals.py; NULL only in a row never sealed (refused)
    Column("version", Integer, nullable=False, server_default="1"),  # its fact's (0013)
)

login_codes = Table(  # the one-time code a login asks for (SMS in production)
    "login_codes",
    api_metadata,
    Column("blind_index", String(64), primary_key=True),
    # HMAC-SHA256 of the blind index and the code under the seal key (services/logins.py)
    Column("code_sha256", String(64), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("seal", String(64)),  # store/seals.py; NULL only in a row never sealed (refused)
)

clerks = Table(  # an agency clerk's console login (services/clerks.py)
    "clerks",
    api_metadata,
    Column("login", String(40), primary_key=True),  # lower-case letters, digits, . _ -
    Column("region", String(6), nullable=False),  # a province, a city, or 000000
    Column("password_hash", Text, nullable=False),  # argon2id
    Column("failures", Integer, nullable=False),
    Column("locked_until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),  # its fact's (1, 2, …)
    # every token of the clerk carries the generation it was signed at, and is refused once
    # this has moved on: the clerk's logout, a move and ``suiren clerk sessions-end`` add one
    # (0018; recorded with the row's other columns)
    Column("session_generation", Integer, nullable=False, server_default="0"),
)
ADDED_IN_0004 = ("clerks",)  # created by that revision; 0002 creates the others

login_phones = Table(  # a worker's mobile number, bound with a code sent to it
    "login_phones",
    api_metadata,
    Column("phone_index", String(64), primary_key=True),  # IdentityVault.phone_index
    # one number per worker; NULL: unbound (0013: the row stays, as its fact says)
    Column("worker_id", String(32), unique=True),
    Column("masked", String(11), nullable=False),  # 138****5678
    Column("bound_at", DateTime(timezone=True), nullable=False),
    Column("seal", String(64)),  # store/seals.py; NULL only in a row never sealed (refused)
    Column("version", Integer, nullable=False, server_default="1"),  # its fact's (0013)
)
ADDED_IN_0008 = ("login_phones",)

login_code_uses = Table(  # each one-time code used, as its fact records it (services/logins.py)
    "login_code_uses",
    api_metadata,
    # the code's ``login_codes.code_sha256`` (an HMAC of the login name and the code under
    # the seal key): each is used once, and a new code is never one used before
    Column("code_sha256", String(64), primary_key=True),
    Column("used_at", DateTime(timezone=True), nullable=False),
)
ADDED_IN_0015 = ("login_code_uses",)

worker_sessions = Table(  # the generation of a worker's sessions (services/logins.py)
    "worker_sessions",
    api_metadata,
    Column("worker_id", String(32), primary_key=True),
    # every worker token carries the generation it was signed at, and is refused once this
    # has moved on: ending a worker's sessions adds one
    Column("generation", Integer, nullable=False),
    Column("ended_at", DateTime(timezone=True)),  # when their sessions were last ended
    # who ended them last (services/logins.py ``end_sessions``): ``worker:<id>`` themself, an
    # agency's ``clerk:<login>`` or ``key:<id>``, ``password`` (set again with a one-time
    # code), ``command-line``, or ``login`` (a login found the row not as recorded)
    Column("ended_by", String(64)),
    Column("version", Integer, nullable=False, server_default="1"),  # its fact's (0017)
)
ADDED_IN_0016 = ("worker_sessions",)

login_code_days = Table(  # how many one-time codes a login was sent on its latest day
    "login_code_days",
    api_metadata,
    Column("blind_index", String(64), primary_key=True),  # the login's, as ``login_codes``'
    Column("day", Date, nullable=False),  # the date in Beijing time (UTC+8) of its last code
    Column("sent", Integer, nullable=False),  # codes sent that day (``logins.CODES_PER_DAY``)
)
ADDED_IN_0019 = ("login_code_days",)

login_failures = Table(  # the wrong passwords in a row given with each login name (logins.log_in)
    "login_failures",
    api_metadata,
    Column("name_index", String(64), primary_key=True),  # a resident id's, number's or clerk's
    Column("failures", Integer, nullable=False),
    Column("locked_until", DateTime(timezone=True)),
)
ADDED_IN_0020 = ("login_failures",)

APPEND_ONLY_API = ("access_log",)
