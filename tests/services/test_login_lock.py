"""Five wrong passwords in a row lock a login for 15 minutes (``logins.LOCK``): a name that
has no login — a resident id never registered, a number bound to no one, a clerk's login no
one holds — locks alike, so that a lock says nothing of who has a login. Before, such a name
was refused as a wrong password for ever, and six tries told the two apart (the sixth: 429
"locked" for a login, 401 for none). Both databases.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, Engine

from suiren.services.clerks import add_clerk, log_in_clerk
from suiren.services.logins import (
    FAILURES_MAX,
    LOCK,
    LoginLocked,
    bind_phone,
    log_in,
    register,
    request_code,
)
from suiren.store.db import unit_of_work
from tests.ledger_helpers import VAULT, enrol_workers, quick_hashes, resident_id

T0 = datetime(2026, 6, 1, 9, tzinfo=UTC)
WRONG = "not the password"
pytestmark = pytest.mark.usefixtures("quick_hashes")
__all__ = ["quick_hashes"]


def rid(n: int) -> str:
    """Worker n's resident id, as ``enrol_workers`` enrolled it."""
    return resident_id(n, "19700101")


def tries(
    engine: Engine, attempt: Callable[[Connection, datetime], object], now: datetime
) -> list[str]:
    """``FAILURES_MAX + 1`` wrong passwords, each in its unit of work (a failure committed, as
    the routes commit it): what each answered."""
    said = []
    for _ in range(FAILURES_MAX + 1):
        try:
            with unit_of_work(engine) as c:
                said.append("refused" if attempt(c, now) is None else "let in")
        except LoginLocked as locked:
            said.append(f"locked: {locked.said.en}")
    return said


def test_a_name_with_no_login_locks_after_five_wrong_passwords_as_a_login_does(
    engine: Engine,
) -> None:
    enrol_workers(engine, 2)  # worker 0 sets a password below; worker 1 never does
    with unit_of_work(engine) as c:
        code = request_code(c, VAULT, rid(0), T0)
    with unit_of_work(engine) as c:
        assert register(c, VAULT, rid(0), code, "the right password", T0) is not None
        add_clerk(c, "gz.clerk", "440100", "a clerk's password", T0)

    def worker(name: str) -> Callable[[Connection, datetime], object]:
        return lambda c, now: log_in(c, VAULT, name, WRONG, now)

    def clerk(name: str) -> Callable[[Connection, datetime], object]:
        return lambda c, now: log_in_clerk(c, name, WRONG, now)

    locked = tries(engine, worker(rid(0)), T0)
    assert locked[:FAILURES_MAX] == ["refused"] * FAILURES_MAX and locked[-1].startswith("locked")
    strangers = [
        worker(rid(1)),  # enrolled, no password set
        worker(resident_id(9, "19800101")),  # never enrolled
        worker("13912345678"),  # a number bound to no one
    ]
    for attempt in strangers:
        assert tries(engine, attempt, T0) == locked
    assert tries(engine, clerk("gz.clerk"), T0) == locked
    assert tries(engine, clerk("no.such.clerk"), T0) == locked
    # the lock ends alike: a name with no login is refused again, its count from 1
    later = T0 + LOCK + timedelta(seconds=1)
    assert tries(engine, worker(rid(0)), later) == locked
    for attempt in strangers:
        assert tries(engine, attempt, later) == locked


def test_a_lock_by_the_resident_id_says_nothing_of_its_number(engine: Engine) -> None:
    """Five wrong passwords with a resident id lock it (429); the tries with its bound number
    are then answered exactly as an unbound number's — by the number's own tries alone — else
    whoever knows the id would learn its number. The locked login lets no one in meanwhile,
    by either name, and the right password opens it once the lock has passed."""
    [worker] = enrol_workers(engine, 1)
    bound, unbound = "13800138000", "13912345678"
    with unit_of_work(engine) as c:
        code = request_code(c, VAULT, rid(0), T0)
    with unit_of_work(engine) as c:
        assert register(c, VAULT, rid(0), code, "the right password", T0) is not None
    with unit_of_work(engine) as c:
        code = request_code(c, VAULT, bound, T0)
    with unit_of_work(engine) as c:
        assert bind_phone(c, VAULT, worker, bound, code, T0) is not None
    by_id = tries(engine, lambda c, now: log_in(c, VAULT, rid(0), WRONG, now), T0)
    assert by_id[-1].startswith("locked")
    with unit_of_work(engine) as c:  # the login is locked: the right password opens nothing
        assert log_in(c, VAULT, bound, "the right password", T0) is None
    with unit_of_work(engine) as c:  # (and the other number is tried once too)
        assert log_in(c, VAULT, unbound, WRONG, T0) is None
    answers = {
        number: tries(engine, lambda c, now, n=number: log_in(c, VAULT, n, WRONG, now), T0)
        for number in (bound, unbound)
    }
    assert answers[bound] == answers[unbound]
    assert answers[bound].count("refused") == FAILURES_MAX - 1  # the 5th in all locks it
    later = T0 + LOCK + timedelta(minutes=2)
    with unit_of_work(engine) as c:
        assert log_in(c, VAULT, bound, "the right password", later) == worker
