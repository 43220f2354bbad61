"""Chain heads are locked in one order by every writer, in every test.

A writer that locks a region below one it already holds waits in the opposite order to a
writer taking both in ascending order (``post_transactions``, a payment's regions): on
PostgreSQL the two can deadlock (seen once in CI: a history import, which locked each
person's region as the person came up in the file). ``install`` wraps ``lock_chain_head``
in every module that has imported it, and in ``store.ledger_repo`` for those imported
later. Within one transaction, the regions newly locked under one entry into the project's
code (the outermost ``suiren`` frame: a CLI command, an API route, or the service a test
calls) must ascend. A test that calls several services in one transaction of its own is
setting up, not a writer anyone runs: each service call is checked by itself.
``tests/conftest.py`` installs it for the whole suite and fails the test in which a writer
broke the order, naming where.
"""

from __future__ import annotations

import sys
import traceback
from types import FrameType
from typing import Any

from suiren.store import ledger_repo

_original = ledger_repo.lock_chain_head
# id(root transaction) -> (it, [(region, the entry frame that locked it)])
_held: dict[int, tuple[Any, list[tuple[str, FrameType]]]] = {}
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


def _locked(connection: Any, region: str) -> Any:
    transaction = connection.get_transaction()
    key = id(transaction)
    if key not in _held or _held[key][0] is not transaction:
        _held[key] = (transaction, [])
    held = _held[key][1]
    entry = _entry()
    mine = [r for r, e in held if e is entry]
    if region not in mine:
        if mine and region < max(mine):
            broken.append(f"{region} locked while holding {mine}, by {_callers()}")
        held.append((region, entry))  # type: ignore[arg-type]
    return _original(connection, region)


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


def begin_test() -> None:
    _held.clear()
    broken.clear()
