"""A worker's login and bound number put back from an older copy (issue: every tamper found).

A seal proves that the service wrote a row, not that it is still the latest: someone who can
write the database and kept an older copy of a row — a password hash since changed, a number
since unbound or moved to another worker — could put it back whole, its seal still matching.
Each such change is a fact in the national journal (migration 0013, services/logins.py), so
the row put back disagrees with its latest fact: it opens nothing, and the audit names it.
Both databases.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, Table, delete, func, insert, select

from suiren.services.logins import (
    bind_phone,
    log_in,
    log_in_with_code,
    phone_of,
    register,
    request_code,
    unbind_phone,
)
from suiren.store.api_tables import login_code_uses, login_codes, login_phones, logins
from suiren.store.audit import AuditResult, verify
from suiren.store.db import unit_of_work
from suiren.store.tables import facts
from tests.ledger_helpers import VAULT, enrol_workers, resident_id
from tests.store.test_tamper import tampering

T0 = datetime(2026, 6, 1, 9, tzinfo=UTC)
PHONE = "13912345678"
OLD, NEW = "the first password", "a second password"


def rid(n: int) -> str:
    """Worker n's resident id, as ``enrol_workers`` enrolled it."""
    return resident_id(n, "19700101")


@pytest.fixture
def two(engine: Engine) -> list[str]:
    """Workers 0 and 1 of Guangzhou; worker 0 has set a password."""
    enrolled = enrol_workers(engine, 2)
    _register(engine, 0, OLD, T0)
    return enrolled


def _register(engine: Engine, n: int, password: str, now: datetime) -> None:
    with unit_of_work(engine) as c:
        code = request_code(c, VAULT, rid(n), now)
    with unit_of_work(engine) as c:
        assert register(c, VAULT, rid(n), code, password, now) is not None


def _bind(engine: Engine, worker: str, now: datetime) -> None:
    with unit_of_work(engine) as c:
        code = request_code(c, VAULT, PHONE, now)
    with unit_of_work(engine) as c:
        assert bind_phone(c, VAULT, worker, PHONE, code, now) == "139****5678"


def _copy(engine: Engine, table: Table) -> list[dict[str, Any]]:
    with unit_of_work(engine) as c:
        return [dict(r) for r in c.execute(select(table)).mappings()]


@contextmanager
def _put_back(engine: Engine, table: Table, rows: list[dict[str, Any]]) -> Iterator[Connection]:
    """The table as it was in ``rows`` (seals and all), in a transaction rolled back after."""
    with engine.connect() as c, c.begin() as transaction:
        c.execute(delete(table))
        c.execute(insert(table), rows)
        try:
            yield c
        finally:
            transaction.rollback()


def _named(result: AuditResult) -> set[str]:
    return {p.table for p in result.problems}


def _by_phone(c: Connection, now: datetime) -> str | None:
    code = request_code(c, VAULT, PHONE, now)
    return log_in_with_code(c, VAULT, PHONE, code, now)


def test_an_old_password_put_back_opens_nothing_and_is_named(engine: Engine, two) -> None:
    before = _copy(engine, logins)  # a backup holding the first password's row
    _register(engine, 0, NEW, T0 + timedelta(days=1))
    with unit_of_work(engine) as c:
        assert log_in(c, VAULT, rid(0), NEW, T0 + timedelta(days=1)) == two[0]
        assert verify(c).ok
    with _put_back(engine, logins, before) as c:
        assert log_in(c, VAULT, rid(0), OLD, T0 + timedelta(days=2)) is None
        assert log_in(c, VAULT, rid(0), NEW, T0 + timedelta(days=2)) is None
        result = verify(c)
        assert not result.ok and "logins" in _named(result), result.problems


def test_an_unbound_number_put_back_opens_nothing_and_is_named(engine: Engine, two) -> None:
    _bind(engine, two[0], T0)
    bound = _copy(engine, login_phones)
    with unit_of_work(engine) as c:
        assert unbind_phone(c, two[0], T0 + timedelta(hours=1))
        assert not unbind_phone(c, two[0], T0 + timedelta(hours=1))  # done already is done
    with unit_of_work(engine) as c:
        assert phone_of(c, two[0]) is None
        assert _by_phone(c, T0 + timedelta(hours=2)) is None  # the number opens no one now
        assert verify(c).ok
    with _put_back(engine, login_phones, bound) as c:
        assert phone_of(c, two[0]) is None
        assert _by_phone(c, T0 + timedelta(hours=3)) is None
        result = verify(c)
        assert not result.ok and "login_phones" in _named(result), result.problems


def test_a_number_moved_away_and_put_back_opens_nothing(engine: Engine, two) -> None:
    """Worker 0's number is reassigned (the carrier's) to worker 1, who binds it: the row
    that bound it to worker 0, put back, lets the new holder's codes into no one's portal."""
    _bind(engine, two[0], T0)
    was = _copy(engine, login_phones)
    _bind(engine, two[1], T0 + timedelta(days=30))
    with unit_of_work(engine) as c:
        assert phone_of(c, two[0]) is None and phone_of(c, two[1]) == "139****5678"
        assert _by_phone(c, T0 + timedelta(days=30)) == two[1]
        assert verify(c).ok
    with _put_back(engine, login_phones, was) as c:
        assert _by_phone(c, T0 + timedelta(days=31)) is None
        assert not verify(c).ok


def test_every_change_is_a_fact_and_the_latest_one_opens(engine: Engine, two) -> None:
    """Bound, unbound, bound again, moved, a password set twice: one fact each, the audit
    agrees throughout, and what the worker last did is what opens their portal."""

    def recorded(kind: str) -> int:
        with unit_of_work(engine) as c:
            query = select(func.count()).select_from(facts).where(facts.c.kind == kind)
            return int(c.execute(query).scalar_one())

    assert recorded("logins") == 1
    _bind(engine, two[0], T0)
    with unit_of_work(engine) as c:
        assert unbind_phone(c, two[0], T0 + timedelta(hours=1))
    _bind(engine, two[0], T0 + timedelta(hours=2))
    _bind(engine, two[1], T0 + timedelta(hours=3))  # moved: one row, one fact
    _register(engine, 0, NEW, T0 + timedelta(hours=4))
    assert (recorded("login_phones"), recorded("logins")) == (4, 2)
    with unit_of_work(engine) as c:
        assert verify(c).ok, verify(c).problems
        assert log_in(c, VAULT, rid(0), NEW, T0 + timedelta(hours=5)) == two[0]
        assert _by_phone(c, T0 + timedelta(hours=5)) == two[1]
        phone_version = c.execute(select(login_phones.c.version)).scalar_one()
        assert (phone_version, c.execute(select(logins.c.version)).scalar_one()) == (4, 2)


def test_a_pending_code_cannot_be_read_off_the_table(engine: Engine, two) -> None:
    """Whoever reads ``login_codes`` (a backup, a replica) gets no code: a plain SHA-256 of
    six digits is undone by trying all million of them; the kept digest is keyed."""
    import hashlib

    with unit_of_work(engine) as c:
        code = request_code(c, VAULT, rid(1), T0)
        kept = c.execute(select(login_codes.c.code_sha256)).scalar_one()
    tried = {hashlib.sha256(f"{n:06d}".encode()).hexdigest() for n in range(1_000_000)}
    assert kept not in tried
    with unit_of_work(engine) as c:  # and the code itself still opens the login, once
        assert log_in_with_code(c, VAULT, rid(1), code, T0) == two[1]
        assert log_in_with_code(c, VAULT, rid(1), code, T0) is None


def _use(engine: Engine, how: str, workers: list[str], code: str, now: datetime) -> object:
    """Use ``code`` as ``how`` does: log in with it, set a password with it, bind with it."""
    with unit_of_work(engine) as c:
        if how == "log in":
            return log_in_with_code(c, VAULT, rid(1), code, now)
        if how == "register":
            return register(c, VAULT, rid(1), code, NEW, now)
        return bind_phone(c, VAULT, workers[1], PHONE, code, now)


@pytest.mark.parametrize("how", ["log in", "register", "bind"])
def test_a_used_code_put_back_opens_nothing_and_is_named(engine: Engine, two, how: str) -> None:
    """A ``login_codes`` row saved before its code was used (a backup) and put back after,
    seal and all: the code, which would open the login for the rest of its five minutes,
    opens nothing — its use is a fact in the national journal — and the audit names the
    row. Nor does deleting the use's row as well (append-only; the fact stays)."""
    name = PHONE if how == "bind" else rid(1)
    with unit_of_work(engine) as c:
        code = request_code(c, VAULT, name, T0)
    saved = _copy(engine, login_codes)
    assert _use(engine, how, two, code, T0) is not None  # a code not used yet opens
    with unit_of_work(engine) as c:
        assert verify(c).ok, verify(c).problems
    if how == "bind":  # bound already: a retried bind needs no code, so unbind it first
        with unit_of_work(engine) as c:
            assert unbind_phone(c, two[1], T0)
    later = T0 + timedelta(minutes=1)
    with tampering(engine) as c:
        c.execute(delete(login_codes))
        c.execute(insert(login_codes), saved)
        c.execute(delete(login_code_uses))  # the record of its use too, as far as it can
        if how == "log in":
            assert log_in_with_code(c, VAULT, rid(1), code, later) is None
        elif how == "register":
            assert register(c, VAULT, rid(1), code, "a third password", later) is None
        else:
            assert bind_phone(c, VAULT, two[1], PHONE, code, later) is None
            assert phone_of(c, two[1]) is None
        result = verify(c)
        assert {"login_codes", "login_code_uses"} <= _named(result), result.problems
    with unit_of_work(engine) as c:  # a new code opens, once
        fresh = request_code(c, VAULT, rid(1), later)
        assert log_in_with_code(c, VAULT, rid(1), fresh, later) == two[1]
        assert log_in_with_code(c, VAULT, rid(1), fresh, later) is None
        assert verify(c).ok, verify(c).problems


def test_a_code_used_once_is_never_given_again(engine: Engine, two, monkeypatch) -> None:
    """A new code for a name is never one its use recorded: drawn again (one draw in a
    million per code the name has used), so the record of a use refuses only that use."""
    from suiren.services import logins as service

    draws = iter([123456, 123456, 654321])
    monkeypatch.setattr(service.secrets, "randbelow", lambda _: next(draws))
    with unit_of_work(engine) as c:
        assert request_code(c, VAULT, rid(1), T0) == "123456"
        assert log_in_with_code(c, VAULT, rid(1), "123456", T0) == two[1]
        assert request_code(c, VAULT, rid(1), T0) == "654321"
        assert log_in_with_code(c, VAULT, rid(1), "654321", T0) == two[1]
        assert verify(c).ok, verify(c).problems
