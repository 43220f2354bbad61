"""Who is calling: ``Authorization: Bearer <key>`` with an API key (platforms, agencies,
analysts, auditors). A key is ``sk_<key id>_<secret>``; the database keeps the id and the
SHA-256 of the whole key, compared in constant time. A worker's session token (``wt_…``) and
an agency clerk's (``ct_…``) come from ``POST /api/v1/auth/token`` (or the portal's and
console's logins): a clerk acts as the agency of their region, no more (``clerk_actor``)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Connection, bindparam, insert, select

from suiren.domain.errors import InvalidInput, SuirenError
from suiren.domain.region import NATIONAL, RegionCode
from suiren.services.platforms import PLATFORM_ID_RE
from suiren.store.api_tables import api_keys

if TYPE_CHECKING:
    from suiren.services.clerks import Clerk

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


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key(
    connection: Connection, kind: ActorKind, scope: str, label: str, now: datetime
) -> tuple[str, Actor]:
    """A new key (returned once: only its hash is kept) for an actor."""
    if kind is ActorKind.WORKER:
        raise InvalidInput("workers log in (a code, then a password); they get no API key")
    if kind is ActorKind.AGENCY:
        scope = NATIONAL if scope == NATIONAL else RegionCode.parse(scope).code
    elif kind is ActorKind.PLATFORM:
        if not PLATFORM_ID_RE.fullmatch(scope):  # it names the platform's ledger entries
            raise InvalidInput("a platform key needs its platform id (ASCII letters, digits, -)")
    else:
        scope = ""
    if len(label) > LABEL_CHARS_MAX:
        raise InvalidInput(f"a label has at most {LABEL_CHARS_MAX} characters")
    key_id = secrets.token_hex(KEY_ID_BYTES)
    key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(SECRET_BYTES)}"
    connection.execute(
        insert(api_keys).values(
            key_id=key_id,
            secret_sha256=_digest(key),
            actor=kind.value,
            scope=scope,
            label=label,
            created_at=now,
        )
    )
    return key, Actor(key_id, kind, scope)


# built once: every authenticated request runs it (a select() is rebuilt and keyed per call)
_KEY_BY_ID = select(
    api_keys.c.key_id,
    api_keys.c.secret_sha256,
    api_keys.c.actor,
    api_keys.c.scope,
    api_keys.c.revoked_at,
).where(api_keys.c.key_id == bindparam("key_id"))


def authenticate(
    connection: Connection,
    authorization: str | None,
    token_key: bytes | None = None,
    now: datetime | None = None,
) -> Actor:
    """The actor of a ``Bearer`` API key, worker session token or clerk session token; any
    other header, an unknown or revoked key, a bad or expired token, a clerk who is no more:
    refused, all alike."""
    refused = Unauthorized("send Authorization: Bearer <API key>; this one is not valid")
    if not authorization or not authorization.startswith("Bearer "):
        raise Unauthorized("send Authorization: Bearer <API key>")
    key = authorization.removeprefix("Bearer ").strip()
    if key.startswith(("wt_", "ct_")) and token_key is not None and now is not None:
        return _session_actor(connection, key, token_key, now)
    parts = key.split("_", 2)  # the secret may hold "_" itself (URL-safe base64)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(key) > 128:
        raise refused
    row = connection.execute(_KEY_BY_ID, {"key_id": parts[1]}).first()
    if row is None or row.revoked_at is not None:
        hmac.compare_digest(_digest(key), "0" * 64)  # the same work as a known key
        raise refused
    if not hmac.compare_digest(_digest(key), row.secret_sha256):
        raise refused
    return Actor(row.key_id, ActorKind(row.actor), row.scope)


def _session_actor(connection: Connection, token: str, token_key: bytes, now: datetime) -> Actor:
    """The worker of a ``wt_`` token; the clerk of a ``ct_`` token, as the database has them
    now (their region today; a login that is gone is refused as a bad token)."""
    from suiren.services.clerks import get_clerk, read_clerk_token
    from suiren.services.logins import LoginRefused, read_token

    try:
        if token.startswith("ct_"):
            session = read_clerk_token(token_key, token, now)
            clerk = get_clerk(connection, session.subject)
            if clerk is None:
                raise LoginRefused("the session is not valid or has expired; log in again")
            return clerk_actor(clerk)
        session = read_token(token_key, token, now)
    except LoginRefused as error:
        raise Unauthorized(error.message) from None
    return Actor(f"worker:{session.worker_id}", ActorKind.WORKER, session.worker_id)
