"""Who is calling: ``Authorization: Bearer <key>`` with an API key (platforms, agencies,
analysts, auditors). A key is ``sk_<key id>_<secret>``; the database keeps the id and the
SHA-256 of the whole key, compared in constant time. A worker's session token (``wt_…``) and
an agency clerk's (``ct_…``) come from ``POST /api/v1/auth/token`` (or the portal's and
console's logins): a clerk acts as the agency of their region, no more (``clerk_actor``); a
worker's token is refused once their sessions are ended (``services/logins.end_sessions``),
checked against one row read by its primary key on every request."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, insert, select, update

from suiren.domain.errors import InvalidInput, SuirenError
from suiren.domain.messages import text as message
from suiren.domain.region import NATIONAL, RegionCode
from suiren.services.platforms import PLATFORM_ID_RE
from suiren.store.api_tables import api_keys
from suiren.store.db import as_utc
from suiren.store.grants import latest, lock_grants, post_fact, record_grant, recorded
from suiren.store.projections import GRANTS, agrees, restate
from suiren.store.readable import first_row

if TYPE_CHECKING:
    from suiren.services.clerks import Clerk
    from suiren.services.logins import Session

KEY_PREFIX = "sk"
KEY_ID_BYTES = 6
SECRET_BYTES = 32
LABEL_CHARS_MAX = 200


class ActorKind(StrEnum):
    WORKER = "worker"  # their own records only (a session token from a login)
    PLATFORM = "platform"  # its workers, orders, batches and claims
    AGENCY = "agency"  # its region and the regions under it
    ANALYST = "analyst"  # read-only aggregates
    AUDITOR = "auditor"  # verification only


class Unauthorized(SuirenError):
    code = "unauthorized"


@dataclass(frozen=True)
class Actor:
    key_id: str
    kind: ActorKind
    scope: str  # an agency's region code; a platform's id; "" for analysts and auditors

    def region_prefix(self) -> str | None:
        """What every region an agency covers begins with ("" for the national agency; None
        for any other actor), for a query's LIKE."""
        if self.kind is not ActorKind.AGENCY:
            return None
        if self.scope == NATIONAL:
            return ""
        code = RegionCode.parse(self.scope).code
        if code.endswith("0000"):
            return code[:2]
        return code[:4] if code.endswith("00") else code

    def covers_region(self, region: str) -> bool:
        """An agency covers its own region and the regions under it (a province its cities)."""
        if self.kind is not ActorKind.AGENCY:
            return False
        if self.scope == NATIONAL:
            return True
        own = RegionCode.parse(self.scope)
        prefix = own.code[:2] if own.code.endswith("0000") else own.code[:4]
        return region.startswith(prefix) if own.code.endswith("00") else region == own.code


def clerk_actor(clerk: Clerk) -> Actor:
    """What a clerk (经办人员) may do, with a console session or an API token: exactly what an
    agency key of their region may (their region and the regions under it; 000000, the
    national agency's). Their writes are logged, and their Idempotency-Keys kept, under
    ``clerk:<login>``."""
    return Actor(clerk.actor_id, ActorKind.AGENCY, clerk.region)


def named(actor: Actor) -> str:
    """How the journal names ``actor`` where it records who did something (who ended a
    worker's sessions): a worker or a clerk as the access log does (``worker:<id>``,
    ``clerk:<login>``), an API key as ``key:<id>``."""
    return actor.key_id if ":" in actor.key_id else f"key:{actor.key_id}"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key(
    connection: Connection, kind: ActorKind, scope: str, label: str, now: datetime
) -> tuple[str, Actor]:
    """A new key (returned once: only its hash is kept) for an actor."""
    if kind is ActorKind.WORKER:
        raise InvalidInput(message("key.worker"))
    if kind is ActorKind.AGENCY:
        scope = NATIONAL if scope == NATIONAL else RegionCode.parse(scope).code
    elif kind is ActorKind.PLATFORM:
        if not PLATFORM_ID_RE.fullmatch(scope):  # it names the platform's ledger entries
            raise InvalidInput(message("key.platform-scope"))
    else:
        scope = ""
    if len(label) > LABEL_CHARS_MAX:
        raise InvalidInput(message("key.label-too-long", chars_max=LABEL_CHARS_MAX))
    key_id = secrets.token_hex(KEY_ID_BYTES)
    key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(SECRET_BYTES)}"
    row = {
        "key_id": key_id,
        "secret_sha256": _digest(key),
        "actor": kind.value,
        "scope": scope,
        "label": label,
        "created_at": now,
        "revoked_at": None,
        "version": 1,
    }
    connection.execute(insert(api_keys).values(**row))
    # recorded in the national journal (its SHA-256's SHA-256 only): a key the journal does
    # not hold, or holds otherwise, lets no one in (``key_actor``) and the audit names it
    record_grant(connection, api_keys, row, now, f"API key issued: {kind.value} {scope}".strip())
    return key, Actor(key_id, kind, scope)


KEYS_CHANNEL = "suiren_keys"  # PostgreSQL: notified at the commit of a key's revocation
REFUSED = message("auth.refused")
# built once: every authenticated request runs it (a select() is rebuilt and keyed per call):
# the key's row and, beside it, its latest fact in the national journal
_KEY_BY_ID = select(
    api_keys.c.key_id,
    api_keys.c.secret_sha256,
    api_keys.c.actor,
    api_keys.c.scope,
    api_keys.c.revoked_at,
    recorded(api_keys, api_keys.c.key_id),
).where(api_keys.c.key_id == bindparam("key_id"))
# a write's own check of its caller (``authenticate(…, hold=True)``): the key's row held until
# the write commits (PostgreSQL: FOR SHARE; SQLite's writer holds the whole database), so that
# a revocation (an UPDATE of the row) is wholly before the write or after it
_KEY_BY_ID_HELD = _KEY_BY_ID.with_for_update(read=True, of=api_keys)
KEY_ROW = ("key_id", "secret_sha256", "actor", "scope", "revoked_at")  # and the fact's data
GRANTING = ("secret_sha256", "actor", "scope", "revoked_at")  # what must agree with the fact


def revoke_key(connection: Connection, key: str, now: datetime) -> datetime:
    """Revoke the API key whose id is ``key`` (or the key itself): it is refused from the
    next request on, kept answers included. When it was revoked (an earlier revocation
    stands: the journal's, whatever the row says)."""
    wanted = key_id(key) if key.startswith(f"{KEY_PREFIX}_") else key
    lock_grants(connection)  # a second revocation at the same time waits, then sees this one
    row = connection.execute(select(api_keys).where(api_keys.c.key_id == wanted)).first()
    if row is None:
        raise InvalidInput(message("key.unknown", shown=repr(wanted[:40])))
    was = latest(connection, api_keys, wanted)
    if was is not None and was.get("revoked_at") is not None:
        when = datetime.fromisoformat(str(was["revoked_at"]))
        if row.revoked_at is None:  # un-revoked behind the ledger's back: revoked again
            _revoke_row(connection, wanted, when, int(was["version"]))
        return when
    if row.revoked_at is not None:
        return as_utc(row.revoked_at)
    if was is None:  # never recorded (the audit names it): refused already, marked so too
        _revoke_row(connection, wanted, now, int(row.version))
        return now
    # the next fact is the recorded one, revoked: a row changed behind the ledger's back is
    # not recorded as it was found (the audit keeps naming what differs)
    version = int(was["version"]) + 1
    _revoke_row(connection, wanted, now, version)
    revoked = restate(api_keys, was, revoked_at=now, version=version)
    post_fact(connection, revoked, version, now, f"API key revoked: {wanted}")
    return now


def _revoke_row(connection: Connection, wanted: str, when: datetime, version: int) -> None:
    connection.execute(
        update(api_keys).where(api_keys.c.key_id == wanted).values(revoked_at=when, version=version)
    )
    if connection.dialect.name == "postgresql":  # processes that keep key rows drop them
        connection.exec_driver_sql(f"SELECT pg_notify('{KEYS_CHANNEL}', current_schema())")


def list_keys(connection: Connection) -> list[dict[str, Any]]:
    """Every API key issued: id, actor, scope, label, when issued and revoked (never the
    key: only its hash is kept)."""
    k = api_keys.c
    return [
        {
            "key_id": r.key_id,
            "actor": r.actor,
            "scope": r.scope,
            "label": r.label,
            "created_at": as_utc(r.created_at).isoformat(),
            "revoked_at": None if r.revoked_at is None else as_utc(r.revoked_at).isoformat(),
        }
        for r in connection.execute(
            select(k.key_id, k.actor, k.scope, k.label, k.created_at, k.revoked_at).order_by(
                k.created_at, k.key_id
            )
        )
    ]


def authenticate(
    connection: Connection,
    authorization: str | None,
    token_key: bytes | None = None,
    now: datetime | None = None,
    hold: bool = False,
) -> Actor:
    """The actor of a ``Bearer`` API key, worker session token or clerk session token; any
    other header, an unknown or revoked key, a bad or expired token, a clerk who is no more:
    refused, all alike. ``hold``: an API key's row, or a clerk's, is held until the
    transaction ends (a write's check of its caller, ``confirm_caller``)."""
    key = bearer_token(authorization)
    if key is None:
        raise Unauthorized(message("auth.bearer"))
    if key.startswith(("wt_", "ct_")) and token_key is not None and now is not None:
        return _session_actor(connection, key, token_key, now, hold)
    # a row that cannot be loaded (a value the service never writes) is refused as unknown
    statement = _KEY_BY_ID_HELD if hold else _KEY_BY_ID
    return key_actor(key, first_row(connection, statement, {"key_id": key_id(key)}).row)


def bearer_token(authorization: str | None) -> str | None:
    """The key or token of an ``Authorization: Bearer <token>`` header, or None for any other
    header or none. The scheme is read as RFC 9110 §11.1 has it, case-insensitively: a client
    that sends ``bearer`` (as some HTTP libraries write it) is let in as ``Bearer`` is."""
    scheme, space, token = (authorization or "").partition(" ")
    if not space or scheme.lower() != "bearer":
        return None
    return token.strip()


def confirm_caller(
    connection: Connection,
    actor: Actor,
    authorization: str | None,
    token_key: bytes,
    now: datetime,
) -> None:
    """A write's own check of its caller, in the write's own transaction: ``authorization``
    must still be ``actor`` there, else 401 and nothing is written. The caller was let in by
    a transaction of its own (``actor_of``, the console's ``desk_of``); a key revoked, or a
    clerk moved to another region's desk, logged out or removed, since then would otherwise
    write as it was. The key's, clerk's or worker's sessions' row is held until the write commits
    (``hold``), so that a revocation, a move or the end of a worker's sessions is wholly
    before the write or after it."""
    if authenticate(connection, authorization, token_key, now, hold=True) != actor:
        raise Unauthorized(message("auth.changed"))


def key_id(key: str) -> str:
    """The id part of an API key ``sk_<id>_<secret>``; anything else is refused."""
    parts = key.split("_", 2)  # the secret may hold "_" itself (URL-safe base64)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(key) > 128:
        raise Unauthorized(REFUSED)
    return parts[1]


def key_actor(key: str, row: Any) -> Actor:
    """The actor of ``key`` given its stored row (key_id, secret_sha256, actor, scope,
    revoked_at, and its latest fact's data — or None: unknown); an unknown, revoked or wrong
    key is refused alike, and so is a row that does not agree with its fact (inserted,
    re-scoped or un-revoked behind the ledger's back)."""
    if (
        row is None
        or row[4] is not None
        or not agrees(GRANTS["api_keys"], dict(zip(KEY_ROW, row, strict=False)), row[5], GRANTING)
    ):
        hmac.compare_digest(_digest(key), "0" * 64)  # the same work as a known key
        raise Unauthorized(REFUSED)
    if not hmac.compare_digest(_digest(key), row[1]):
        raise Unauthorized(REFUSED)
    return Actor(row[0], ActorKind(row[2]), row[3])


def worker_session(token: str, token_key: bytes, now: datetime) -> Session:
    """The session of a ``wt_`` token as signed (its signature and expiry; no database
    read): ``worker_actor`` then checks its generation."""
    from suiren.services.logins import LoginRefused, read_token

    try:
        return read_token(token_key, token, now)
    except LoginRefused as error:
        raise Unauthorized(error.said) from None


def worker_actor(session: Session, generation: Any) -> Actor:
    """The worker of a session whose generation is ``generation``, their sessions' row's now
    (None: no row); a session ended since it was signed — the worker logged out everywhere,
    an agency ended their sessions, a new password — is refused as a bad token."""
    from suiren.services.logins import SESSION_REFUSED, session_current

    if not session_current(session, generation):
        raise Unauthorized(SESSION_REFUSED)
    return Actor(f"worker:{session.worker_id}", ActorKind.WORKER, session.worker_id)


def _session_actor(
    connection: Connection, token: str, token_key: bytes, now: datetime, hold: bool = False
) -> Actor:
    """The worker of a ``wt_`` token, the clerk of a ``ct_`` token, as the database has them
    now (a worker's or clerk's sessions not ended since the token was signed; a clerk's
    region today, a login that is gone refused as a bad token), their row held until the
    transaction ends with ``hold``."""
    from suiren.services.clerks import read_clerk_token, session_clerk
    from suiren.services.logins import SESSION_REFUSED, LoginRefused, check_session

    if not token.startswith("ct_"):
        session = worker_session(token, token_key, now)
        try:
            check_session(connection, session, hold=hold)
        except LoginRefused as error:
            raise Unauthorized(error.said) from None
        return worker_actor(session, session.generation)
    try:
        session = read_clerk_token(token_key, token, now)
        clerk = session_clerk(connection, session, hold=hold)
        if clerk is None:
            raise LoginRefused(SESSION_REFUSED)
    except LoginRefused as error:
        raise Unauthorized(error.said) from None
    return clerk_actor(clerk)
