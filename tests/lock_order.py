"""The ledger's locks are taken in one order by every writer, in every test.

A writer that locks a region below one it already holds waits in the opposite order to a
writer taking both in ascending order (``post_transactions``, a payment's regions): on
PostgreSQL the two can deadlock (seen once in CI: a history import, which locked each
person's region as the person came up in the file). The order is: people first
(``services.workers.lock_people``, PostgreSQL's advisory locks on their buckets, ascending),
then chain heads (``store.ledger_repo.lock_chain_head``, regions ascending; the grants'
journal is the chain of ``000000``). ``install`` wraps both in every module that has
imported them, and in their own modules for those imported later. Within one transaction,
the locks newly taken under one entry into the project's code (the outermost ``suiren``
frame: a CLI command, an API route, or the service a test calls) must ascend in that order.
People's locks are checked on SQLite too, where they do nothing: the order is the code's.
A test that calls several services in one transaction of its own is setting up, not a
writer anyone runs: each service call is checked by itself. ``tests/conftest.py`` installs
it for the whole suite and fails the test in which a writer broke the order, naming where.
"""

from __future__ import annotations

import sys
import traceback
from types import FrameType
from typing import Any

from suiren.services import workers
from suiren.store import ledger_repo

_original = ledger_repo.lock_chain_head
_original_people = workers.lock_people
# a lock's place in the order: people's buckets (0, bucket) before chain heads (1, region)
Lock = tuple[int, int | str]
# id(root transaction) -> (it, [(lock, the entry frame that took it)])
_held: dict[int, tuple[Any, list[tuple[Lock, FrameType]]]] = {}
broken: list[str] = []  # what broke the order, since the test began


def _entry() -> FrameType | None:
    """The outermost frame of the project's code on this stack."""
    frame: FrameType | None = sys._getframe(2)
    outer = None
    while frame is not None:
        if frame.f_globals.get("__name__", "").startswith("suiren."):  # by module, not path
            outer = frame
        frame = frame.f_back
    return outer


def _take(connection: Any, locks: list[Lock]) -> None:
    """Check ``locks`` (taken in this order by one call) against those the same entry holds."""
    transaction = connection.get_transaction()
    key = id(transaction)
    if key not in _held or _held[key][0] is not transaction:
        _held[key] = (transaction, [])
    held = _held[key][1]
    entry = _entry()
    mine = [lock for lock, e in held if e is entry]
    new = [lock for lock in locks if lock not in mine]
    if mine and new and min(new) < max(mine):
        broken.append(f"{_name(min(new))} locked while holding {_names(mine)}, by {_callers()}")
    held.extend((lock, entry) for lock in new)  # type: ignore[misc]


def _name(lock: Lock) -> str:
    return f"region {lock[1]}" if lock[0] else f"people's bucket {lock[1]}"


def _names(locks: list[Lock]) -> str:
    return ", ".join(_name(lock) for lock in locks)


def _locked(connection: Any, region: str) -> Any:
    _take(connection, [(1, region)])
    return _original(connection, region)


def _people_locked(connection: Any, indexes: list[str]) -> Any:
    _take(connection, [(0, bucket) for bucket in sorted(set(workers.people_lock_buckets(indexes)))])
    return _original_people(connection, indexes)


def _callers() -> str:
    """The project's frames that led here, innermost first (where the order was broken)."""
    frames = [
        f"{f.filename.rsplit('/src/', 1)[-1]}:{f.lineno} {f.name}"
        for f in reversed(traceback.extract_stack()[:-3])
        if "/src/suiren/" in f.filename
    ]
    return " ← ".join(frames[:6])


def install() -> None:
    for module in list(sys.modules.values()):
        if getattr(module, "lock_chain_head", None) is _original:
            module.lock_chain_head = _locked
        if getattr(module, "lock_people", None) is _original_people:
            module.lock_people = _people_locked


def begin_test() -> None:
    _held.clear()
    broken.clear()
