"""Workers' logins (issue 11 §2): a one-time code (sent by SMS in production; returned to the
caller in demo mode), a password hashed with argon2id, lock-out after repeated failures, and
short-lived signed tokens.

Nothing here says whether a person is insured: a code is "sent" for any well-formed resident
id, and every refusal reads the same ("the resident id, code or password is not valid").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import Connection, delete, insert, select, update

from suiren.domain.errors import InvalidInput, SuirenError
from suiren.domain.resident_id import ResidentId
from suiren.services.identity import IdentityVault
from suiren.store.api_tables import login_codes, logins
from suiren.store.tables import workers

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=5)
CODE_ATTEMPTS_MAX = 5
FAILURES_MAX = 5  # wrong passwords in a row, then the login is locked
LOCK = timedelta(minutes=15)
TOKEN_TTL = timedelta(minutes=30)
PASSWORD_CHARS_MIN, PASSWORD_CHARS_MAX = 8, 128
TOKEN_PREFIX = "wt_"
_HASHER = PasswordHasher()


class LoginRefused(SuirenError):
    code = "unauthorized"


class LoginLocked(SuirenError):
    code = "locked"


REFUSED = "the resident id, code or password is not valid"


def _index(vault: IdentityVault, resident_id: str, today: datetime) -> str:
    return vault.blind_index(ResidentId.parse(resident_id, today=today.date()).number)


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def request_code(
    connection: Connection, vault: IdentityVault, resident_id: str, now: datetime
) -> str:
    """A new one-time code for this resident id (replacing any earlier one); returned so that
    the edge sends it (demo mode: shows it)."""
    index = _index(vault, resident_id, now)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    connection.execute(delete(login_codes).where(login_codes.c.blind_index == index))
    connection.execute(
        insert(login_codes).values(
            blind_index=index, code_sha256=_digest(code), expires_at=now + CODE_TTL, attempts=0
        )
    )
    return code


def _use_code(connection: Connection, index: str, code: str, now: datetime) -> bool:
    row = connection.execute(select(login_codes).where(login_codes.c.blind_index == index)).first()
    if row is None or _aware(row.expires_at) < now or row.attempts >= CODE_ATTEMPTS_MAX:
        return False
    if not hmac.compare_digest(row.code_sha256, _digest(code)):
        connection.execute(
            update(login_codes)
            .where(login_codes.c.blind_index == index)
            .values(attempts=login_codes.c.attempts + 1)
        )
        return False
    connection.execute(delete(login_codes).where(login_codes.c.blind_index == index))
    return True


def register(
    connection: Connection,
    vault: IdentityVault,
    resident_id: str,
    code: str,
    password: str,
    now: datetime,
) -> str | None:
    """Set (or reset) the password of an enrolled person who holds a valid code; their worker
    id, or None — a wrong code (the attempt is counted: commit it, then refuse with
    ``REFUSED``), an expired one, or a person not enrolled, all alike."""
    if not PASSWORD_CHARS_MIN <= len(password) <= PASSWORD_CHARS_MAX:
        raise InvalidInput(
            f"a password has {PASSWORD_CHARS_MIN} to {PASSWORD_CHARS_MAX} characters",
            field="password",
        )
    index = _index(vault, resident_id, now)
    worker = _worker_of_code(connection, index, code, now)
    if worker is None:
        return None
    connection.execute(delete(logins).where(logins.c.blind_index == index))
    connection.execute(
        insert(logins).values(
            blind_index=index,
            worker_id=worker,
            password_hash=_HASHER.hash(password),
            failures=0,
            locked_until=None,
            created_at=now,
        )
    )
    return str(worker)


def log_in_with_code(
    connection: Connection, vault: IdentityVault, resident_id: str, code: str, now: datetime
) -> str | None:
    """The worker id of an enrolled person who holds a valid one-time code (验证码登录: the
    portal's login without a password), or None, as ``register`` refuses: a wrong code is
    counted (commit it, then refuse with ``REFUSED``), a right one is used up."""
    return _worker_of_code(connection, _index(vault, resident_id, now), code, now)


def _worker_of_code(connection: Connection, index: str, code: str, now: datetime) -> str | None:
    if not _use_code(connection, index, code, now):
        return None
    worker = connection.execute(
        select(workers.c.worker_id).where(workers.c.blind_index == index)
    ).scalar()
    return None if worker is None else str(worker)


def log_in(
    connection: Connection, vault: IdentityVault, resident_id: str, password: str, now: datetime
) -> str | None:
    """The worker id of a correct password, or None: a wrong password is counted (commit it,
    then refuse with ``REFUSED``), and the login locked after ``FAILURES_MAX`` of them for
    ``LOCK`` (``LoginLocked``, before anything is read or written)."""
    index = _index(vault, resident_id, now)
    row = connection.execute(select(logins).where(logins.c.blind_index == index)).first()
    if row is None:
        _HASHER.hash(password)  # the same work as a known login
        return None
    if row.locked_until is not None and _aware(row.locked_until) > now:
        raise LoginLocked(f"too many failed attempts: try again after {LOCK.seconds // 60} minutes")
    try:
        _HASHER.verify(row.password_hash, password)
    except VerificationError:
        failures = row.failures + 1
        connection.execute(
            update(logins)
            .where(logins.c.blind_index == index)
            .values(
                failures=0 if failures >= FAILURES_MAX else failures,
                locked_until=now + LOCK if failures >= FAILURES_MAX else None,
            )
        )
        return None
    connection.execute(
        update(logins).where(logins.c.blind_index == index).values(failures=0, locked_until=None)
    )
    return str(row.worker_id)


def _aware(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Session:
    worker_id: str
    expires_at: datetime


def sign_token(key: bytes, worker_id: str, now: datetime) -> str:
    payload = json.dumps(
        {"sub": worker_id, "exp": int((now + TOKEN_TTL).timestamp())}, separators=(",", ":")
    ).encode()
    mac = hmac.new(key, payload, hashlib.sha256).digest()
    return TOKEN_PREFIX + _b64(payload) + "." + _b64(mac)


def read_token(key: bytes, token: str, now: datetime) -> Session:
    """The session a token carries, or the same refusal for any token not signed by ``key``,
    malformed, or expired."""
    refused = LoginRefused("the session is not valid or has expired; log in again")
    try:
        body, mac = token.removeprefix(TOKEN_PREFIX).split(".")
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        given = base64.urlsafe_b64decode(mac + "=" * (-len(mac) % 4))
    except ValueError:
        raise refused from None
    if not hmac.compare_digest(hmac.new(key, payload, hashlib.sha256).digest(), given):
        raise refused
    data = json.loads(payload)
    expires = datetime.fromtimestamp(int(data["exp"]), tz=now.tzinfo)
    if expires <= now:
        raise refused
    return Session(str(data["sub"]), expires)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
