"""A login's codes of the day (``services/logins._count_code``) counted by one statement: two
first requests of a day at once both count, on both databases — never a duplicate key."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine, select

from suiren.services.logins import CODES_PER_DAY, CodesPerDay, _count_code
from suiren.store.api_tables import login_code_days
from suiren.store.db import unit_of_work

NOW = datetime(2026, 6, 15, 3, 0, tzinfo=UTC)  # 11:00 in Beijing
INDEX = "b" * 64


def sent(engine: Engine) -> tuple[object, int] | None:
    with unit_of_work(engine, read_only=True) as c:
        row = c.execute(
            select(login_code_days.c.day, login_code_days.c.sent).where(
                login_code_days.c.blind_index == INDEX
            )
        ).first()
    return None if row is None else (row.day, row.sent)


def race(engine: Engine, work: Callable[[Connection], object]) -> tuple[bool, object]:
    """``work`` in a transaction that holds what it wrote while ``work`` runs again in
    another: (whether the second waited for the first's commit, what it returned or raised)."""
    first_done, second_done = threading.Event(), threading.Event()
    outcome: list[object] = []

    def second() -> None:
        first_done.wait(10)
        try:
            with unit_of_work(engine) as c:
                outcome.append(work(c))
        except BaseException as error:  # reported to the test, not lost in the thread
            outcome.append(error)
        second_done.set()

    with unit_of_work(engine):  # the key's fingerprint recorded: the second waits on nothing else
        pass
    thread = threading.Thread(target=second)
    thread.start()
    with unit_of_work(engine) as c:
        assert work(c)
        first_done.set()
        waited = not second_done.wait(0.5)
    thread.join(10)
    [second_outcome] = outcome
    return waited, second_outcome


def test_two_first_codes_of_a_day_at_once_both_count(engine: Engine) -> None:
    """The first holds its new row uncommitted while the second counts: the second waits for
    it (PostgreSQL: on the key; SQLite: on the database) and counts on it — the check-then-
    insert it replaced made the second a duplicate key, a 500 for a worker asking for a code."""

    def count(c: Connection) -> bool:
        _count_code(c, INDEX, NOW)
        return True

    waited, second = race(engine, count)
    assert waited and second is True, second
    assert sent(engine) == (date(2026, 6, 15), 2)


def test_the_day_s_codes_are_counted_then_refused_and_a_new_day_counts_from_one(
    engine: Engine,
) -> None:
    for _ in range(CODES_PER_DAY):
        with unit_of_work(engine) as c:
            _count_code(c, INDEX, NOW)
    try:
        with unit_of_work(engine) as c:
            _count_code(c, INDEX, NOW)
    except CodesPerDay:
        pass
    else:
        raise AssertionError("the day's eleventh code was counted")
    assert sent(engine) == (date(2026, 6, 15), CODES_PER_DAY)
    tomorrow = datetime(2026, 6, 15, 16, 0, tzinfo=UTC)  # midnight in Beijing
    with unit_of_work(engine) as c:
        _count_code(c, INDEX, tomorrow)
    assert sent(engine) == (date(2026, 6, 16), 1)


def test_two_code_requests_for_one_login_at_once_send_one_code(engine: Engine) -> None:
    """The count's row puts the two in line: the second sees the first's code and is refused
    (one code a minute), where both had read "no code pending" and both sent one."""
    from suiren.services.logins import LoginLocked, request_code
    from tests.ledger_helpers import VAULT, resident_id

    mine = resident_id(5)
    _, second = race(engine, lambda c: request_code(c, VAULT, mine, NOW))
    assert isinstance(second, LoginLocked), second
    assert "60" in second.message
