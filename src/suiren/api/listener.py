"""Told when the ledger moves or a key is revoked (PostgreSQL ``LISTEN``), so that a kept
answer needs no round trip to the database (issue 11 §7).

The one write path notifies ``suiren_ledger`` in every transaction that writes
(``store.ledger_repo._set_head``) and ``revoke_key`` notifies ``suiren_keys``; PostgreSQL
delivers a notification when its transaction commits, never on a rollback. One thread per
process and database listens on its own connection and counts what it hears per schema
(the payload: ledgers sharing a database are told apart): ``epoch(schema)`` is (ledger
notifications, key notifications), both also counted up when the thread (re)connects — it
may have missed some while it was away — and by a write of this process (``touch``). A version read from the database at a given epoch stays the ledger's version
while the epoch has not moved; ``healthy`` is False while the thread has no connection, and
the reader then reads the version on every request, as SQLite always does.

A write by another process is seen once its notification arrives — normally well under a
millisecond after its commit; a write by this process at once.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from suiren.api.auth import KEYS_CHANNEL
from suiren.store.ledger_repo import LEDGER_CHANNEL

log = logging.getLogger("suiren.api.listener")
RETRY_SECONDS = 1.0  # after a lost connection
WAIT_SECONDS = 1.0  # how often the thread looks up from waiting (to stop, when asked)


class Listener:
    def __init__(self, conninfo: str) -> None:
        self._conninfo = conninfo
        self._lock = threading.Lock()
        self._base = 0  # every schema's: a (re)connection, a write of this process
        self._heard_by: dict[str, list[int]] = {}  # schema -> [ledger, keys] notifications
        self.healthy = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="suiren-listener", daemon=True)
        self._thread.start()

    def epoch(self, schema: str) -> tuple[int, int]:
        """(ledger, keys) counts of what was heard for ``schema``'s ledger."""
        with self._lock:
            ledger, keys = self._heard_by.get(schema, (0, 0))
            return self._base + ledger, self._base + keys

    def touch(self) -> None:
        """This process wrote: what was read before is no longer known to be current."""
        with self._lock:
            self._base += 1

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        import psycopg

        failures = 0
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as connection:
                    connection.execute(f"LISTEN {LEDGER_CHANNEL}")
                    connection.execute(f"LISTEN {KEYS_CHANNEL}")
                    self.touch()  # whatever happened while no one listened
                    self.healthy, failures = True, 0
                    while not self._stop.is_set():
                        for note in connection.notifies(timeout=WAIT_SECONDS):
                            self._heard(note)
            except Exception as error:  # any failure: every read asks the database
                failures += 1
                (log.warning if failures == 1 else log.debug)(
                    "not listening for ledger writes (%s); every read asks the database", error
                )
            finally:
                self.healthy = False
            self._stop.wait(RETRY_SECONDS)

    def _heard(self, note: Any) -> None:
        with self._lock:
            counts = self._heard_by.setdefault(str(note.payload), [0, 0])
            counts[1 if note.channel == KEYS_CHANNEL else 0] += 1


_LISTENERS: dict[str, Listener] = {}
_REGISTRY = threading.Lock()


def listener_for(engine: Engine) -> Listener | None:
    """The process's listener for ``engine``'s database (started on first use; one per
    database, shared by every app of the process); None for SQLite."""
    if engine.dialect.name != "postgresql":
        return None
    url = make_url(engine.url).set(drivername="postgresql")
    conninfo = url.render_as_string(hide_password=False)
    with _REGISTRY:
        found = _LISTENERS.get(conninfo)
        if found is None:
            found = _LISTENERS[conninfo] = Listener(conninfo)
        return found
