"""Workers' logins (issue 11 §2): a one-time code (sent by SMS in production; returned to the
caller in demo mode), a password hashed with argon2id, lock-out after repeated failures, and
short-lived signed tokens.

A worker logs in with their resident id or with the mobile number they bound to their login
(``bind_phone``: a code sent to that number proves they hold it). Both names lead to the one
login, with one count of failures (and each name its own: ``log_in``). Binding a number
another login holds moves it (numbers are reassigned by the carriers; the code proves who
holds it now); the other login keeps its resident id.

Nothing here says whether a person is insured or has bound a number: a code is "sent" for
any well-formed resident id or mobile number, and every refusal reads the same ("the
resident id, code or password is not valid").

A code is used once: its use is a fact in the national journal (``login_code_uses``, as the
grants', store/grants.py), written in the transaction that uses it, and a code whose use is
recorded opens nothing — also when its ``login_codes`` row, deleted on use, is put back from
an older copy (its seal still matches). A new code is never one used before for that name.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    String,
    Table,
    bindparam,
    case,
    delete,
    insert,
    literal,
    select,
    update,
)

from suiren.domain.errors import InvalidInput, SuirenError
from suiren.domain.messages import text as message
from suiren.domain.phone import Phone, is_phone_like
from suiren.domain.resident_id import ResidentId
from suiren.ledger.transaction import MEMO_CHARS_MAX
from suiren.services.identity import IdentityVault
from suiren.store.api_tables import (
    login_code_days,
    login_code_uses,
    login_codes,
    login_failures,
    login_phones,
    logins,
    worker_sessions,
)
from suiren.store.db import as_utc, dialect_insert, is_postgres, ledger_keys
from suiren.store.grants import (
    lock_grants,
    next_version,
    post_fact,
    record_grant,
    recorded,
)
from suiren.store.projections import GRANTS, agrees, fact
from suiren.store.readable import first_row
from suiren.store.seals import genuine, sealed
from suiren.store.tables import workers

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=5)
CODE_ATTEMPTS_MAX = 5
CODE_RESEND = timedelta(seconds=60)  # a login's next code at the earliest (SMS: cost, harassment)
# a login's codes a day (Beijing time), past which none is sent until the next day: SMS cost
# and harassment again — CODE_RESEND alone let 1,440 a day reach one number. Ten is Aliyun
# SMS's default cap of verification codes a day to one number for one signature (with one a
# minute and five an hour; https://developer.aliyun.com/ask/474934, counted there over the
# last 24 hours), and room for a worker's few logins, a number bound and a code mistyped.
CODES_PER_DAY = 10
BEIJING = timezone(timedelta(hours=8))  # China Standard Time: no daylight saving
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


class CodesPerDay(LoginLocked):
    """A login's codes of the day are all sent (``CODES_PER_DAY``): none until the next day
    — a refusal of its own, so that its message (come back tomorrow) is shown as it is."""

    code = "codes-per-day"


REFUSED = message("login.refused")


class CodeRefused(SuirenError):
    """A one-time code that is wrong, expired or used up, given by a worker already logged
    in (binding a mobile number): not a refusal of their session."""

    code = "invalid-code"


CODE_REFUSED = message("login.code-refused")
SESSION_REFUSED = message("login.session")


@dataclass(frozen=True)
class LoginName:
    """What a worker logs in with: their resident id or their bound mobile number, as the
    blind index the tables hold (never the text)."""

    index: str
    phone: bool


def login_name(vault: IdentityVault, text: str, today: datetime) -> LoginName:
    """The login name in ``text`` (a login form's one field): a mobile number if it is
    written as one (11 digits from a 1, perhaps after +86), else a resident id;
    ``InvalidPhone`` or ``InvalidResidentId`` when it is neither."""
    if is_phone_like(text):
        return phone_login(vault, text)
    return resident_login(vault, text, today)


def resident_login(vault: IdentityVault, text: str, today: datetime) -> LoginName:
    """A resident id as a login name (``InvalidResidentId`` if it is not one)."""
    return LoginName(
        vault.blind_index(ResidentId.parse(text, today=today.date()).number), phone=False
    )


def phone_login(vault: IdentityVault, text: str) -> LoginName:
    """A mobile number as a login name (``InvalidPhone`` if it is not one)."""
    return LoginName(vault.phone_index(Phone.parse(text).number), phone=True)


def _name(vault: IdentityVault, name: str | LoginName, today: datetime) -> LoginName:
    return name if isinstance(name, LoginName) else login_name(vault, name, today)


_CODE_LABEL = b"suiren login code v1\x00"  # apart from every seal's message (a JSON array)


def _digest(connection: Connection, index: str, code: str) -> str:
    """What ``login_codes`` keeps of a code: an HMAC under the service's seal key of the
    login's blind index and the code. A plain SHA-256 of six digits is undone by trying the
    million codes: anyone who could read the table (a backup, a replica) would have the
    pending codes and, for five minutes, the logins they open."""
    message = _CODE_LABEL + index.encode() + b"\x00" + code.encode()
    return hmac.new(ledger_keys(connection).seal_key, message, hashlib.sha256).hexdigest()


def request_code(
    connection: Connection, vault: IdentityVault, name: str | LoginName, now: datetime
) -> str:
    """A new one-time code for this resident id or mobile number (replacing any earlier
    one), never one used before for it; returned so that the edge sends it (demo mode:
    shows it). The wrong tries of a pending code carry over to the new one, and once they
    are ``CODE_ATTEMPTS_MAX`` no code is sent until it has expired (``LoginLocked``): a new
    code buys no more guesses. A login is sent one code a minute at most (``CODE_RESEND``)
    and ``CODES_PER_DAY`` a day (``_count_code``), else ``LoginLocked`` (``CodesPerDay``)
    says when to ask again."""
    index = _name(vault, name, now).index
    # counted first: the count's row, locked until commit, puts two requests for one login
    # one after the other, so that the second sees the first's code (a refusal below rolls
    # the count back with the rest)
    _count_code(connection, index, now)
    where = login_codes.c.blind_index == index
    pending = connection.execute(
        select(login_codes.c.expires_at, login_codes.c.attempts).where(where)
    ).first()
    tried = 0 if pending is None or as_utc(pending.expires_at) < now else pending.attempts
    if tried >= CODE_ATTEMPTS_MAX:
        raise LoginLocked(message("login.locked", minutes=CODE_TTL.seconds // 60))
    resend_at = None if pending is None else as_utc(pending.expires_at) - CODE_TTL + CODE_RESEND
    if resend_at is not None and now < resend_at:  # the pending code was sent under a minute ago
        wait = math.ceil((resend_at - now).total_seconds())
        raise LoginLocked(message("login.code-resend", seconds=wait))
    connection.execute(delete(login_codes).where(where))
    while True:  # written unless used before: one draw in a million per code the name used
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        digest = _digest(connection, index, code)
        row = sealed(
            connection,
            login_codes,
            {
                "blind_index": index,
                "code_sha256": digest,
                "expires_at": now + CODE_TTL,
                "attempts": tried,
            },
        )
        columns = list(login_codes.columns)
        unused = select(*(literal(row[c.name], c.type) for c in columns)).where(
            recorded(login_code_uses, literal(digest, String())).is_(None)
        )
        written = insert(login_codes).from_select(columns, unused).returning(login_codes.c.seal)
        if connection.execute(written).first() is not None:
            break
    return code


def _count_code(connection: Connection, index: str, now: datetime) -> None:
    """Count a code about to be sent to the login ``index`` in its day's codes
    (``login_code_days``, one row a login: its latest day's count), or refuse it
    (``CodesPerDay``) when the day's ``CODES_PER_DAY`` are sent. One statement, an upsert
    whose update applies only while the day has codes left: two first requests of a day
    cannot both insert (the second waits for the first's row and counts on it), and a row of
    another day — or one changed behind the service — is counted again from 1.

    Counted per login name, not per handset: a resident id and the number bound to it count
    apart (one handset may be sent up to twice ``CODES_PER_DAY``). One count for both would
    tell whoever spent a number's codes whether a resident id is bound to it (the id's next
    request refused): a link between a person and a number, which no refusal may give."""
    day = now.astimezone(BEIJING).date()
    table = login_code_days
    fresh = dialect_insert(connection, table).values(blind_index=index, day=day, sent=1)
    same_day = table.c.day == fresh.excluded.day
    counted = connection.execute(
        fresh.on_conflict_do_update(
            index_elements=[table.c.blind_index],
            set_={
                "sent": case((same_day, table.c.sent + 1), else_=literal(1)),
                "day": fresh.excluded.day,
            },
            where=~same_day | (table.c.sent < CODES_PER_DAY),
        ).returning(table.c.sent)
    ).first()
    if counted is None:  # the day's codes are sent: the update did not apply
        raise CodesPerDay(message("login.code-daily", count=CODES_PER_DAY))


def _use_code(connection: Connection, index: str, code: str, now: datetime) -> str | None:
    """Use the pending code of ``index`` if ``code`` is it: the code's digest (its row
    deleted; the caller records its use with ``_spent`` in the same transaction), or None —
    none pending, not as the service wrote it, expired, tried too often, wrong (counted),
    used already (its use recorded: a row put back), or used by another request first."""
    where = login_codes.c.blind_index == index
    used = recorded(login_code_uses, login_codes.c.code_sha256).label("used")
    row = first_row(connection, select(login_codes, used).where(where)).row
    if row is None or not genuine(connection, login_codes, row) or row.used is not None:
        return None  # none, not as the service wrote it, or used and put back
    if as_utc(row.expires_at) < now or row.attempts >= CODE_ATTEMPTS_MAX:
        return None
    if not hmac.compare_digest(row.code_sha256, _digest(connection, index, code)):
        connection.execute(
            update(login_codes).where(where).values(attempts=login_codes.c.attempts + 1)
        )
        return None
    taken = connection.execute(
        delete(login_codes).where(where, login_codes.c.code_sha256 == row.code_sha256)
    ).rowcount
    return str(row.code_sha256) if taken == 1 else None  # 0: another request used it first


def _spent(connection: Connection, digest: str, now: datetime) -> None:
    """Record the use of the code ``digest`` names (``_use_code``'s): its row and its fact
    (posting it takes the grants' lock, held to the end of the transaction, as every
    grant's change does)."""
    row = {"code_sha256": digest, "used_at": now}
    connection.execute(insert(login_code_uses).values(row))
    post_fact(connection, fact(login_code_uses, **row), 1, now, "worker login: one-time code used")


def register(
    connection: Connection,
    vault: IdentityVault,
    name: str | LoginName,
    code: str,
    password: str,
    now: datetime,
) -> str | None:
    """Set (or reset) the password of an enrolled person who holds a valid code for their
    resident id or bound mobile number; their worker id, or None — a wrong code (the attempt
    is counted: commit it, then refuse with ``REFUSED``), an expired one, a person not
    enrolled or a number bound to no one, all alike."""
    if not PASSWORD_CHARS_MIN <= len(password) <= PASSWORD_CHARS_MAX:
        raise InvalidInput(
            message("password.length", chars_min=PASSWORD_CHARS_MIN, chars_max=PASSWORD_CHARS_MAX),
            field="password",
        )
    login = _name(vault, name, now)
    used = _use_code(connection, login.index, code, now)
    if used is None:
        return None
    worker = _worker_of(connection, login)
    if worker is None:
        _spent(connection, used, now)  # used all the same
        return None
    person = connection.execute(
        select(workers.c.blind_index).where(workers.c.worker_id == worker)
    ).scalar_one()
    hashed = hash_password(password)  # before the lock: argon2 takes its time
    lock_grants(connection)
    _spent(connection, used, now)
    row = {
        "blind_index": person,
        "worker_id": worker,
        "password_hash": hashed,
        "failures": 0,
        "locked_until": None,
        "created_at": now,
        "version": next_version(connection, logins, person),
    }
    connection.execute(
        delete(logins).where((logins.c.worker_id == worker) | (logins.c.blind_index == person))
    )
    connection.execute(insert(logins).values(sealed(connection, logins, row)))
    record_grant(connection, logins, row, now, f"worker login: password set ({worker})")
    end_sessions(connection, worker, now, BY_PASSWORD)  # it ends every earlier session
    return str(worker)


# What a worker's login and bound number must hold as their latest fact records it (the
# national journal, store/grants.py) to open anything: a row put back from an older copy —
# a password since changed, a number since unbound or moved — is genuine (its seal matches)
# but no longer the latest, and opens nothing, as a forged one.
_GRANTING = {"logins": ("worker_id", "password_hash"), "login_phones": ("worker_id", "masked")}


def _granted(connection: Connection, table: Table, *where: ColumnElement[bool]) -> Row[Any] | None:
    """The login or bound number ``where`` selects, as the service wrote it (sealed) and as
    the journal last recorded it; None when there is none and when it is forged, changed or
    put back from an older copy."""
    key = table.c[GRANTS[table.name].key[0]]
    row = first_row(
        connection, select(table, recorded(table, key).label("recorded")).where(*where)
    ).row
    if row is None or not genuine(connection, table, row):
        return None
    granted = agrees(GRANTS[table.name], row._mapping, row.recorded, _GRANTING[table.name])
    return row if granted else None


def _write_phone(connection: Connection, row: dict[str, Any], now: datetime, memo: str) -> None:
    """Write a number's row (``worker_id`` None: unbound) as its next fact; under
    ``lock_grants``."""
    row = {
        "phone_index": row["phone_index"],
        "worker_id": row["worker_id"],
        "masked": row["masked"],
        "bound_at": row["bound_at"],
        "version": next_version(connection, login_phones, row["phone_index"]),
    }
    connection.execute(delete(login_phones).where(login_phones.c.phone_index == row["phone_index"]))
    connection.execute(insert(login_phones).values(sealed(connection, login_phones, row)))
    record_grant(connection, login_phones, row, now, memo)


def log_in_with_code(
    connection: Connection, vault: IdentityVault, name: str | LoginName, code: str, now: datetime
) -> str | None:
    """The worker id of an enrolled person who holds a valid one-time code for their
    resident id or bound mobile number (验证码登录: the portal's login without a password),
    or None, as ``register`` refuses: a wrong code is counted (commit it, then refuse with
    ``REFUSED``), a right one is used up."""
    login = _name(vault, name, now)
    used = _use_code(connection, login.index, code, now)
    if used is None:
        return None
    worker = _worker_of(connection, login)
    _spent(connection, used, now)  # last: the grants' lock is held only to the commit
    return worker


def _worker_of(connection: Connection, login: LoginName) -> str | None:
    """The worker a login name stands for: by resident id, an enrolled person; by mobile
    number, the worker who bound it."""
    if login.phone:
        bound = _granted(connection, login_phones, login_phones.c.phone_index == login.index)
        return None if bound is None or bound.worker_id is None else str(bound.worker_id)
    found = select(workers.c.worker_id).where(workers.c.blind_index == login.index)
    worker = connection.execute(found).scalar()
    return None if worker is None else str(worker)


def log_in(
    connection: Connection,
    vault: IdentityVault,
    name: str | LoginName,
    password: str,
    now: datetime,
) -> str | None:
    """The worker id of a correct password given with a resident id or a bound mobile
    number, or None: a wrong password is counted (commit it, then refuse with ``REFUSED``).

    Two counts. The login's (``logins.failures``), of the wrong passwords given with either
    of its names: at ``FAILURES_MAX`` the login is locked for ``LOCK``, and while it is no
    password is checked — alternating the names buys no more tries. The name's own
    (``login_failures``, as a name with no login has: ``no_such_login``): at
    ``FAILURES_MAX`` the name is refused as locked (``LoginLocked``, 429) for ``LOCK``. A
    name's 429 follows its own tries alone: five wrong passwords given with a resident id
    must not make the next try with a number a 429 only where the number is the id's bound
    one (who knows the id would learn its number). A locked login's other name is answered
    as a wrong password, its password not checked."""
    login = _name(vault, name, now)
    if login.phone:
        worker = _worker_of(connection, login)
        which = logins.c.worker_id == worker if worker else None
    else:
        which = logins.c.blind_index == login.index
    row = None if which is None else _granted(connection, logins, which)
    if row is None:  # none, or not as the service wrote it and the journal last recorded it
        no_such_login(connection, login.index, password, now)
        return None
    shut = row.locked_until is not None and as_utc(row.locked_until) > now
    # the name's own count first: its lock refuses before any password is looked at
    tried = _count_name(connection, login.index, None if shut else row.password_hash, password, now)
    if not shut:  # the login's count: every wrong password by either name, a right one clears it
        counted = Attempt(True, 0, None) if tried.ok else _failed(row.failures, now)
        connection.execute(
            update(logins)
            .where(logins.c.blind_index == row.blind_index)
            .values(failures=counted.failures, locked_until=counted.locked_until)
        )
    return str(row.worker_id) if tried.ok else None


def bind_phone(
    connection: Connection,
    vault: IdentityVault,
    worker_id: str,
    phone: str,
    code: str,
    now: datetime,
) -> str | None:
    """Bind a mobile number to a worker's login, with the code sent to that number (so the
    worker holds it): its masked form, or None for a wrong, expired or used-up code (the
    attempt is counted: commit it, then refuse with ``REFUSED``). The worker's earlier
    number is replaced, and a number bound to another worker moves here."""
    number = Phone.parse(phone)
    index = vault.phone_index(number.number)
    bound = _granted(connection, login_phones, login_phones.c.phone_index == index)
    if bound is not None and bound.worker_id == worker_id:
        return number.masked  # bound already (a retried request): the code is not needed
    used = _use_code(connection, index, code, now)
    if used is None:
        return None
    lock_grants(connection)
    _spent(connection, used, now)
    _unbind(connection, worker_id, now, index)  # the worker's earlier number
    _write_phone(
        connection,
        {"phone_index": index, "worker_id": worker_id, "masked": number.masked, "bound_at": now},
        now,
        f"worker login: mobile number bound ({worker_id})",
    )
    return number.masked


def _unbind(connection: Connection, worker_id: str, now: datetime, keep: str = "") -> bool:
    """Unbind the worker's number (other than ``keep``), recorded; whether there was one."""
    rows = connection.execute(
        select(login_phones).where(
            login_phones.c.worker_id == worker_id, login_phones.c.phone_index != keep
        )
    ).mappings()
    bound = [dict(row) for row in rows]
    for row in bound:
        memo = f"worker login: mobile number unbound ({worker_id})"
        _write_phone(connection, row | {"worker_id": None}, now, memo)
    return bool(bound)


def unbind_phone(connection: Connection, worker_id: str, now: datetime) -> bool:
    """Remove a worker's mobile number from their login (its row stays, unbound, as its
    fact records it); whether there was one."""
    if (
        connection.execute(
            select(login_phones.c.phone_index).where(login_phones.c.worker_id == worker_id)
        ).first()
        is None
    ):
        return False
    lock_grants(connection)
    return _unbind(connection, worker_id, now)


def phone_of(connection: Connection, worker_id: str) -> str | None:
    """The masked mobile number bound to a worker's login, if any."""
    bound = _granted(connection, login_phones, login_phones.c.worker_id == worker_id)
    return None if bound is None else str(bound.masked)


def hash_password(password: str) -> str:
    """The argon2id hash of a password (with its own salt and parameters)."""
    return _HASHER.hash(password)


def no_such_login(connection: Connection, index: str, password: str, now: datetime) -> None:
    """A password given for a login name that has no login (``index``: its blind index, or
    a clerk's ``clerks.name_index``), answered as a wrong password of a login is: as slowly
    (the password hashed) and counted alike in ``login_failures`` — the ``FAILURES_MAX``-th
    in a row locks the name for ``LOCK`` (``LoginLocked``) — so that neither the time nor a
    lock says who has a login. The caller commits the count, then refuses."""
    _count_name(connection, index, None, password, now)


def _count_name(
    connection: Connection, index: str, password_hash: str | None, password: str, now: datetime
) -> Attempt:
    """A password given with the login name ``index``, checked against ``password_hash``
    (None: always wrong, the same work done) and counted in the name's own row of
    ``login_failures`` (``attempt``: ``LoginLocked`` while the name is locked)."""
    where = login_failures.c.name_index == index
    row = connection.execute(
        select(login_failures.c.failures, login_failures.c.locked_until).where(where)
    ).first()
    failures, locked_until = (0, None) if row is None else (row.failures, row.locked_until)
    tried = attempt(password_hash, failures, locked_until, password, now)
    if row is None and tried.ok:
        return tried  # nothing to count or clear
    counted = {"failures": tried.failures, "locked_until": tried.locked_until}
    connection.execute(
        dialect_insert(connection, login_failures)
        .values(name_index=index, **counted)
        .on_conflict_do_update(index_elements=[login_failures.c.name_index], set_=counted)
    )
    return tried


@dataclass(frozen=True)
class Attempt:
    """What one password attempt did: right or wrong, and its login's failures in a row and
    lock afterwards (the caller writes them back in the same unit of work)."""

    ok: bool
    failures: int
    locked_until: datetime | None


def attempt(
    password_hash: str | None,
    failures: int,
    locked_until: datetime | None,
    password: str,
    now: datetime,
) -> Attempt:
    """Check ``password`` against a login's hash: ``LoginLocked`` while the login is locked
    (the password is not even looked at); a wrong one counts, and the ``FAILURES_MAX``-th in
    a row locks the login for ``LOCK``; a right one clears the count. Shared by workers' and
    clerks' logins (``services/clerks.py``), and by a name with no login (``password_hash``
    None: the password hashed, the same work as checking it, and always wrong)."""
    if locked_until is not None and as_utc(locked_until) > now:
        raise LoginLocked(message("login.locked", minutes=LOCK.seconds // 60))
    if password_hash is None:
        _HASHER.hash(password)
    else:
        try:
            _HASHER.verify(password_hash, password)
            return Attempt(True, 0, None)
        except VerificationError:
            pass
    return _failed(failures, now)


def _failed(failures: int, now: datetime) -> Attempt:
    """A wrong password after ``failures`` in a row: counted, and the ``FAILURES_MAX``-th
    locks for ``LOCK`` (the count starting again)."""
    if failures + 1 >= FAILURES_MAX:
        return Attempt(False, 0, now + LOCK)
    return Attempt(False, failures + 1, None)


class TokenKind(StrEnum):
    """Whose session a token is: its prefix, and the domain its MAC is computed in. A clerk's
    token (``ct_``) is no worker's token (``wt_``) and the reverse, even with its prefix
    changed: the MACs are over different messages."""

    WORKER = TOKEN_PREFIX
    CLERK = "ct_"


_MAC_DOMAIN = {TokenKind.WORKER: b"", TokenKind.CLERK: b"suiren clerk session\n"}


@dataclass(frozen=True)
class Session:
    subject: str  # the worker id; a clerk's login
    expires_at: datetime
    # the generation of the worker's, or the clerk's, sessions it was signed at
    generation: int = 0

    @property
    def worker_id(self) -> str:
        return self.subject


def sign_token(
    key: bytes,
    subject: str,
    now: datetime,
    kind: TokenKind = TokenKind.WORKER,
    generation: int | None = None,
) -> str:
    """A token for ``subject``, valid for ``TOKEN_TTL``, carrying the generation of the
    worker's sessions (``session_generation``, read in the login's transaction) or the
    clerk's (``clerks.session_generation``, read with their row)."""
    if generation is None:
        raise ValueError("a token carries the generation of its subject's sessions")
    claims: dict[str, Any] = {
        "sub": subject,
        "exp": int((now + TOKEN_TTL).timestamp()),
        "gen": generation,
    }
    payload = json.dumps(claims, separators=(",", ":")).encode()
    mac = hmac.new(key, _MAC_DOMAIN[kind] + payload, hashlib.sha256).digest()
    return kind.value + _b64(payload) + "." + _b64(mac)


def read_token(
    key: bytes, token: str, now: datetime, kind: TokenKind = TokenKind.WORKER
) -> Session:
    """The session a token of ``kind`` carries, or the same refusal for any token not signed
    by ``key`` for that kind, malformed, or expired."""
    refused = LoginRefused(SESSION_REFUSED)
    if not token.startswith(kind.value):
        raise refused
    try:
        body, mac = token.removeprefix(kind.value).split(".")
        payload, given = _unb64(body), _unb64(mac)
    except ValueError:
        raise refused from None
    expected = hmac.new(key, _MAC_DOMAIN[kind] + payload, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, given):
        raise refused
    data = json.loads(payload)
    expires = datetime.fromtimestamp(int(data["exp"]), tz=now.tzinfo)
    if expires <= now:
        raise refused
    generation = data.get("gen")
    if type(generation) is not int:  # signed before 0016 (a worker's), 0018 (a clerk's)
        raise refused
    return Session(str(data["sub"]), expires, generation)


# --- ending a worker's sessions ---------------------------------------------------------------

SESSIONS_CHANNEL = "suiren_keys"  # PostgreSQL: as a key's revocation, so kept rows are dropped
# who ended a worker's sessions, as the row and its fact name them (``ended_by``): besides the
# worker themself (``worker:<id>``, the default) and an agency's clerk or key (``clerk:<login>``,
# ``key:<id>``: ``api.auth.named``)
BY_PASSWORD = "password"  # a password set again with a one-time code (``register``)
BY_COMMAND_LINE = "command-line"  # ``suiren worker sessions-end``, at the service's own host
BY_LOGIN = "login"  # a login that found the row not as the journal recorded it
_SESSIONS = GRANTS["worker_sessions"]
_RECORDED = recorded(worker_sessions, worker_sessions.c.worker_id).label("recorded")
_GENERATION = select(worker_sessions.c.generation, _RECORDED).where(
    worker_sessions.c.worker_id == bindparam("worker_id")
)
# a write's own check (``hold``): the row held to its commit (PostgreSQL: FOR SHARE; SQLite's
# writer holds the whole database), so that ending the sessions is wholly before the write or
# after it
_GENERATION_HELD = _GENERATION.with_for_update(read=True, of=worker_sessions)


def recorded_generation(generation: Any, data: str | None) -> int | None:
    """The generation of a worker's sessions their row holds (``generation``), if the row is
    as its latest fact in the national journal (``data``) records it; None — no row, no fact,
    a value the service never writes, or a generation changed behind the service (set back,
    it would revive tokens signed before an end) — and then no token of theirs is let in."""
    if type(generation) is not int:
        return None
    return (
        generation if agrees(_SESSIONS, {"generation": generation}, data, ("generation",)) else None
    )


def session_generation(connection: Connection, worker_id: str, now: datetime) -> int:
    """The generation a new session of the worker is signed at (in the login's transaction):
    their row's, as the journal records it. Their first login makes the row, at 0, and
    records it; a login that finds the row not as recorded — changed, deleted or inserted
    behind the service — ends every earlier session (``BY_LOGIN``, the row as found in the
    fact's memo), so that no token signed before is revived. Both under the grants' lock."""
    found = first_row(connection, _GENERATION, {"worker_id": worker_id}).row
    if found is not None:
        generation = recorded_generation(found.generation, found.recorded)
        if generation is not None:
            return generation
    lock_grants(connection)
    written = _write_generation(connection, worker_id, now, None)
    assert written is not None, "a login always has a generation"
    return written


def worker_token(connection: Connection, key: bytes, worker_id: str, now: datetime) -> str:
    """A new session token (``wt_…``) of the worker, signed at their sessions' generation (in
    the transaction that logged them in)."""
    generation = session_generation(connection, worker_id, now)
    return sign_token(key, worker_id, now, generation=generation)


def end_sessions(
    connection: Connection, worker_id: str, now: datetime, by: str | None = None
) -> int:
    """End every session of the worker signed so far (their tokens are refused from the next
    request on, and a write of one that is under way writes nothing): the new generation,
    written with who ended them (``by``: ``worker:<id>`` when None, the worker themself) and
    recorded in the national journal as its next fact, under the grants' lock. 0: the worker
    never logged in (no row and no fact: no token of theirs is let in), and nothing is
    written."""
    found = first_row(connection, _GENERATION, {"worker_id": worker_id})
    if not found.present and _latest(connection, worker_id) is None:
        return 0
    lock_grants(connection)
    ended = _write_generation(connection, worker_id, now, by or f"worker:{worker_id}")
    return 0 if ended is None else ended


def _write_generation(
    connection: Connection, worker_id: str, now: datetime, by: str | None
) -> int | None:
    """Under ``lock_grants``: the worker's sessions' row written and recorded as its next fact,
    and its generation. A login (``by`` None) keeps a row that is as recorded (another login
    made it meanwhile) and makes one at 0 for a worker with neither row nor fact; anything
    else ends every earlier session: a generation above the row's and its latest fact's, so
    above every generation a token was ever signed at. None: ``by`` ends the sessions of a
    worker with neither row nor fact (nothing to end; nothing written)."""
    found = first_row(
        connection,
        select(worker_sessions, _RECORDED).where(worker_sessions.c.worker_id == worker_id),
    )
    row = found.row
    data = row.recorded if row is not None else _latest(connection, worker_id)
    generation = None if row is None else recorded_generation(row.generation, data)
    if by is None and generation is not None:
        return generation
    if not found.present and data is None:
        if by is not None:
            return None
        values = {"generation": 0, "ended_at": None, "ended_by": None, "version": 1}
        memo = f"worker sessions: first login ({worker_id})"
    else:
        was = _whole(_fact_field(data, "generation"))
        stored = None if row is None else _whole(row.generation)
        values = {
            "generation": max(-1 if g is None else g for g in (was, stored)) + 1,
            "ended_at": now,
            "ended_by": by or BY_LOGIN,
            "version": next_version(connection, worker_sessions, worker_id),
        }
        memo = f"worker sessions ended ({worker_id}) by {values['ended_by']}"
        if generation is None:  # the evidence kept in the journal: the audit no longer sees it
            found_as = "missing" if not found.present else f"generation {_said(stored)}"
            memo += f"; the row was not as recorded ({found_as}, recorded {_said(was)})"
    row_values = {"worker_id": worker_id, **values}
    if found.present:
        connection.execute(
            update(worker_sessions).where(worker_sessions.c.worker_id == worker_id).values(values)
        )
    else:
        connection.execute(insert(worker_sessions).values(row_values))
    record_grant(connection, worker_sessions, row_values, now, memo[:MEMO_CHARS_MAX])
    if values["ended_at"] is not None and is_postgres(connection):  # kept rows are dropped
        connection.exec_driver_sql(f"SELECT pg_notify('{SESSIONS_CHANNEL}', current_schema())")
    return int(values["generation"])


def _latest(connection: Connection, worker_id: str) -> str | None:
    """The data of the latest fact of the worker's sessions (None: none recorded)."""
    latest = recorded(worker_sessions, literal(worker_id, String()))
    return connection.execute(select(latest)).scalar()  # type: ignore[no-any-return]


def _whole(value: Any) -> int | None:
    return value if type(value) is int else None


def _said(generation: int | None) -> str:
    return "none" if generation is None else str(generation)


def _fact_field(data: str | None, name: str) -> Any:
    """A field of a fact's data (None: no fact, or not a JSON object)."""
    try:
        found = json.loads(data) if data is not None else None
    except (TypeError, ValueError, RecursionError):
        return None
    return found.get(name) if isinstance(found, dict) else None


def check_session(connection: Connection, session: Session, hold: bool = False) -> None:
    """Refuse (``LoginRefused``, as a bad token) a worker's session whose generation is not
    their row's now — ended since it was signed — or who has no row, or whose row is not as
    the journal records it (``recorded_generation``); one read by primary key (the latest
    fact beside it, one probe of the facts' (kind, key, region, seq) index), the row held to the end of the
    transaction with ``hold``."""
    statement = _GENERATION_HELD if hold else _GENERATION
    found = first_row(connection, statement, {"worker_id": session.worker_id}).row
    generation = None if found is None else recorded_generation(found.generation, found.recorded)
    if not session_current(session, generation):
        raise LoginRefused(SESSION_REFUSED)


def session_current(session: Session, generation: Any) -> bool:
    """Whether ``session`` is of the worker's sessions' ``generation`` (their row's as
    recorded, ``recorded_generation``; None: no row, or one not as recorded)."""
    return type(generation) is int and generation == session.generation


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    """The bytes of ``_b64``'s text, and only of exactly that text: ``urlsafe_b64decode``
    skips any character outside the alphabet and reads padding, so that ``token==`` or a
    token with ``!`` inside would be read as the token itself. ``ValueError`` otherwise."""
    data = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    if _b64(data) != text:  # padding given, or the unused low bits of the last character set
        raise ValueError("not a token's base64")
    return data
