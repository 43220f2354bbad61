"""Agency clerks' logins (经办人员, issue 11 §4): the people who work a region's desk in the
console (``/console/``).

A clerk has a login name, a password (argon2id, checked and locked out exactly as workers'
logins are: ``logins.attempt``) and one region: a city, a province, or ``000000`` for the
national agency. The console acts for the clerk as an agency of that region (its region and
the regions under it), so the one access policy (``api/access.py``) decides what a clerk
may see and do. A clerk's session token (``ct_…``) is signed in its own domain: it is never
a worker's token, nor a worker's a clerk's.

Every refusal of a login reads the same, whether the name exists or not.

A clerk's login grants an agency's rights: its making and every change of its region are
recorded in the national journal (store/grants.py), and a login whose row does not agree
with its record — inserted, moved to another region or given another password behind the
ledger's back — is refused like an unknown one (and named by ``suiren audit verify``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.engine import Row

from suiren.domain.errors import InvalidInput, SuirenError
from suiren.domain.messages import text as message
from suiren.domain.region import NATIONAL, RegionLevel, default_registry
from suiren.services.logins import (
    PASSWORD_CHARS_MAX,
    PASSWORD_CHARS_MIN,
    Session,
    TokenKind,
    attempt,
    hash_password,
    no_such_login,
    read_token,
    sign_token,
)
from suiren.store.api_tables import clerks
from suiren.store.db import ledger_keys
from suiren.store.grants import (
    latest,
    lock_grants,
    next_version,
    post_fact,
    record_grant,
    recorded,
)
from suiren.store.projections import GRANTS, agrees, restate
from suiren.store.readable import first_row

LOGIN_CHARS_MAX = 40
_LOGIN_RE = re.compile(r"[a-z0-9][a-z0-9._-]{2,39}", re.ASCII)
GENERATED_PASSWORD_BYTES = 15  # 20 URL-safe characters, 120 random bits
CLERK_LEVELS = (RegionLevel.PROVINCE, RegionLevel.PREFECTURE)
REFUSED = message("clerk.refused")


class ClerkExists(SuirenError):
    code = "clerk-exists"


@dataclass(frozen=True)
class Clerk:
    login: str
    region: str  # a province's or city's code, or 000000 (national)
    generation: int = 0  # of their sessions: a token signed at another is refused

    @property
    def actor_id(self) -> str:
        """Who the access log names for this clerk's writes."""
        return f"clerk:{self.login}"


def check_login(login: str) -> str:
    """A login name: 3 to 40 of a-z 0-9 . _ - (letters folded to lower case), starting with
    a letter or digit."""
    name = login.strip().lower()
    if not _LOGIN_RE.fullmatch(name):
        raise InvalidInput(message("clerk.login-form", chars_max=LOGIN_CHARS_MAX), field="login")
    return name


def check_region(region: str) -> str:
    """A clerk's region: 000000 (national), a province or a city (地级市) of GB/T 2260."""
    if region == NATIONAL:
        return region
    known = default_registry().get(region)  # UnknownRegion for a code it does not know
    if known.level not in CLERK_LEVELS:
        raise InvalidInput(
            message("clerk.region-level", name=known.name, code=known.code), field="region"
        )
    return known.code


def generate_password() -> str:
    return secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)


def add_clerk(
    connection: Connection, login: str, region: str, password: str, now: datetime
) -> Clerk:
    """A new clerk of ``region``; the password is kept only as its argon2id hash."""
    name, code = check_login(login), check_region(region)
    if not PASSWORD_CHARS_MIN <= len(password) <= PASSWORD_CHARS_MAX:
        raise InvalidInput(
            message("password.length", chars_min=PASSWORD_CHARS_MIN, chars_max=PASSWORD_CHARS_MAX),
            field="password",
        )
    lock_grants(connection)
    if connection.execute(select(clerks.c.login).where(clerks.c.login == name)).first():
        raise ClerkExists(message("clerk.exists", shown=repr(name)))
    version = next_version(connection, clerks, name)
    row = {
        "login": name,
        "region": code,
        "password_hash": hash_password(password),
        "created_at": now,
        "version": version,
        "session_generation": 0,
    }
    connection.execute(insert(clerks).values(failures=0, locked_until=None, **row))
    record_grant(connection, clerks, row, now, f"clerk added: {name} of {code}")
    return Clerk(name, code)


def move_clerk(connection: Connection, login: str, region: str, now: datetime) -> Clerk:
    """Give the clerk ``login`` another region's desk (a change recorded in the journal)."""
    name, code = check_login(login), check_region(region)
    was = _as_recorded(connection, name)
    if was["region"] == code:
        return Clerk(name, code, int(was["session_generation"]))
    memo = f"clerk moved: {name} from {was['region']} to {code}; sessions ended"
    return _write_change(connection, was, now, memo, region=code)


def end_clerk_sessions(connection: Connection, login: str, now: datetime, by: str) -> Clerk:
    """End every session of the clerk ``login`` signed so far — their logout, on whichever
    computer, ends them all (``by``: ``clerk:<login>``), as ``suiren clerk sessions-end``
    does (``command-line``): the next generation, written to their row and recorded in the
    national journal as its next fact, under the grants' lock; every token signed before is
    refused from the next request on, and a write of one under way writes nothing."""
    name = check_login(login)
    was = _as_recorded(connection, name)
    return _write_change(connection, was, now, f"clerk sessions ended: {name} by {by}")


def _as_recorded(connection: Connection, name: str) -> dict[str, Any]:
    """Under the grants' lock (taken here): the latest fact of the clerk ``name``, whose row
    agrees with it; a clerk unknown, or whose row does not agree, is refused."""
    lock_grants(connection)
    row = _clerk_row(connection, name)
    was = latest(connection, clerks, name)
    if row is None:
        raise InvalidInput(message("clerk.unknown", shown=repr(name)), field="login")
    if was is None or not _agrees(row):
        raise InvalidInput(message("clerk.tampered", shown=repr(name)), field="login")
    return was


def _write_change(
    connection: Connection, was: dict[str, Any], now: datetime, memo: str, **changes: Any
) -> Clerk:
    """The clerk's row as its latest fact (``was``) with ``changes`` and the next generation
    of their sessions, written and recorded as the next fact (under ``lock_grants``)."""
    version = int(was["version"]) + 1
    values = {**changes, "session_generation": int(was["session_generation"]) + 1}
    connection.execute(
        update(clerks).where(clerks.c.login == was["login"]).values(version=version, **values)
    )
    post_fact(connection, restate(clerks, was, version=version, **values), version, now, memo)
    region = values.get("region", was["region"])
    return Clerk(was["login"], region, values["session_generation"])


# what must agree with the clerk's latest fact: their desk, their password, and the
# generation of their sessions (set back, it would revive tokens signed before an end)
_GRANTING = ("region", "password_hash", "session_generation")


def _clerk_row(connection: Connection, login: str, hold: bool = False) -> Row[Any] | None:
    """The clerk's row and, as ``recorded``, its latest fact's data (None also for a row that
    cannot be loaded: it holds a value the service never writes, store/readable.py).
    ``hold``: the row held until the transaction ends (PostgreSQL: FOR SHARE; SQLite's
    writer holds the whole database), so that a move or removal waits for it."""
    statement = select(clerks, recorded(clerks, clerks.c.login).label("recorded")).where(
        clerks.c.login == login
    )
    if hold:
        statement = statement.with_for_update(read=True, of=clerks)
    return first_row(connection, statement).row


def _agrees(row: Row[Any]) -> bool:
    return agrees(GRANTS["clerks"], row._mapping, row.recorded, _GRANTING)


_NAME_LABEL = b"suiren clerk login name v1\x00"  # apart from every seal's and code's message


def name_index(connection: Connection, login: str) -> str:
    """What ``login_failures`` keeps of a clerk's login name that has no login: its HMAC
    under the service's seal key (a name typed is not kept as typed — it may be a password
    typed in the wrong field)."""
    key = ledger_keys(connection).seal_key
    return hmac.new(key, _NAME_LABEL + login.encode(), hashlib.sha256).hexdigest()


def log_in_clerk(connection: Connection, login: str, password: str, now: datetime) -> Clerk | None:
    """The clerk of a right login name and password, or None: a wrong password is counted
    (commit it, then refuse with ``REFUSED``) and locks the login as a worker's
    (``LoginLocked``, raised before the password is looked at)."""
    name = login.strip().lower()
    row = _clerk_row(connection, name) if _LOGIN_RE.fullmatch(name) else None
    if row is None or not _agrees(row):  # unknown, or not the login the journal recorded
        no_such_login(connection, name_index(connection, name), password, now)
        return None
    tried = attempt(row.password_hash, row.failures, row.locked_until, password, now)
    connection.execute(
        update(clerks)
        .where(clerks.c.login == name)
        .values(failures=tried.failures, locked_until=tried.locked_until)
    )
    return Clerk(row.login, row.region, row.session_generation) if tried.ok else None


def get_clerk(connection: Connection, login: str, hold: bool = False) -> Clerk | None:
    """The clerk as the database has them now (a session names the login only, so a clerk's
    region is always today's); None for no such clerk, or a row that does not agree with
    its record in the journal. ``hold``: as ``_clerk_row``'s (a write's check of its
    caller)."""
    row = _clerk_row(connection, login, hold)
    if row is None or not _agrees(row):
        return None
    return Clerk(row.login, row.region, row.session_generation)


def session_clerk(connection: Connection, session: Session, hold: bool = False) -> Clerk | None:
    """The clerk of a session (``read_clerk_token``'s) as ``get_clerk`` has them, or None —
    also for a session of an earlier generation: ended since it was signed (a logout, a
    move, ``suiren clerk sessions-end``)."""
    clerk = get_clerk(connection, session.subject, hold)
    return clerk if clerk is not None and clerk.generation == session.generation else None


def sign_clerk_token(key: bytes, login: str, now: datetime, generation: int) -> str:
    """A token of the clerk ``login``, at the generation of their sessions (``Clerk``'s, read
    with their row; a session renewed: its own)."""
    return sign_token(key, login, now, TokenKind.CLERK, generation)


def read_clerk_token(key: bytes, token: str, now: datetime) -> Session:
    """The clerk's session (``subject``: the login), or ``LoginRefused`` for anything else."""
    return read_token(key, token, now, TokenKind.CLERK)
