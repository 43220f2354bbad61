"""Answers of the read routes kept while the ledger has not moved (issue 11 §7).

A worker's statement and pension estimate are pure functions of the ledger (and, for the
estimate, of the day and the stated assumptions): nothing they read is written anywhere but
through the one write path (``store.ledger_repo``), which appends to a region's chain and
moves its head. ``ledger_version`` — the number of chains and the sum of their heads'
sequence numbers, one indexed aggregate — therefore changes with every committed write that
could change an answer, and an answer computed after reading version *v* is still the answer
while the version reads *v*.

The version is read first — with the caller's key, in one read transaction — and the answer
after it: the answer is then at least as new as its version (a write committed in between
only makes the entry look older than it is, and the next request computes it again). Kept per process, bounded by bytes,
least recently used first out; the access decision is taken on every request from the
worker's regions kept beside the answer, never cached per actor.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Connection

from suiren.store.ledger_repo import ledger_version

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Entry(Generic[T]):
    version: tuple[int, int]
    value: T
    size: int


class ReadCache(Generic[T]):
    """Values (never None) of ``size(value)`` bytes each, valid at the ledger version they
    were built at.

    ``max_bytes=0`` turns it off (every call computes)."""

    def __init__(self, max_bytes: int, size: Callable[[T], int]) -> None:
        self.max_bytes = max_bytes
        self._size = size
        self._entries: OrderedDict[Hashable, _Entry[T]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def version(self, connection: Connection) -> tuple[int, int] | None:
        """The ledger's version as ``connection`` sees it, read before anything the answer
        reads; None while the cache is off."""
        return ledger_version(connection) if self.max_bytes > 0 else None

    def peek(self, version: tuple[int, int], key: Hashable) -> T | None:
        """The value kept for ``key`` if it was built at ``version``; else None (nothing
        built)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.version != version:
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry.value

    def answer(self, version: tuple[int, int] | None, key: Hashable, build: Callable[[], T]) -> T:
        """The value kept for ``key`` if it was built at ``version`` (read by ``version``
        before ``build`` reads anything); else ``build()``'s, kept."""
        if version is None:
            return build()
        kept = self.peek(version, key)
        if kept is not None:
            return kept
        with self._lock:
            self.misses += 1
        value = build()
        size = self._size(value)
        if size > self.max_bytes // 4:
            return value
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            kept = (
                old if old is not None and old.version > version else _Entry(version, value, size)
            )
            self._entries[key] = kept  # a newer answer that came in meanwhile stays
            self._bytes += kept.size
            while self._bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= dropped.size
        return value

    def __len__(self) -> int:
        return len(self._entries)
