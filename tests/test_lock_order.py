"""The lock-order checker itself (``tests/lock_order``): it must see a writer that takes the
ledger's locks out of order — else the check every test runs could never fail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from suiren.services import workers
from suiren.store import ledger_repo
from suiren.store.db import unit_of_work
from tests import lock_order
from tests.conftest import migrated_engine, release


def _writer(body: str) -> Any:
    """A function of the project's code (its module named ``suiren.…``, as the checker tells
    an entry into the project apart) running ``body`` with ``c`` its connection."""
    namespace: dict[str, Any] = {
        "__name__": "suiren.lock_order_probe",
        "ledger_repo": ledger_repo,
        "workers": workers,
    }
    source = "def writer(c):\n" + "".join(f"    {line}\n" for line in body.splitlines())
    exec(compile(source, "<lock-order probe>", "exec"), namespace)
    return namespace["writer"]


ORDERED = [
    "workers.lock_people(c, ['b', 'a'])\nledger_repo.lock_chain_heads(c, ['440100', '110000'])",
    "ledger_repo.lock_chain_head(c, '110000')\nledger_repo.lock_chain_head(c, '110000')",
]
BROKEN = [
    (
        "ledger_repo.lock_chain_head(c, '330100')\nledger_repo.lock_chain_head(c, '110000')",
        "region",
    ),
    ("ledger_repo.lock_chain_head(c, '110000')\nworkers.lock_people(c, ['a'])", "people"),
]


@pytest.fixture
def sqlite(tmp_path: Path) -> Any:
    engine, schema = migrated_engine("sqlite", tmp_path)
    yield engine
    release(engine, schema)


@pytest.mark.parametrize("body", ORDERED)
def test_locks_in_order_pass(sqlite: Any, body: str) -> None:
    lock_order.begin_test()
    with unit_of_work(sqlite) as connection:
        _writer(body)(connection)
    assert lock_order.broken == []


@pytest.mark.parametrize(("body", "what"), BROKEN)
def test_locks_out_of_order_are_found(sqlite: Any, body: str, what: str) -> None:
    lock_order.begin_test()
    with unit_of_work(sqlite) as connection:
        _writer(body)(connection)
    found = list(lock_order.broken)
    lock_order.begin_test()  # seen: this test's own breach is not the suite's failure
    assert len(found) == 1 and what in found[0], found


def test_people_buckets_descending_across_calls_are_found(sqlite: Any) -> None:
    low, high = sorted(["a", "b", "c", "d"], key=lambda i: workers.people_lock_buckets([i])[0])[::3]
    body = f"workers.lock_people(c, [{high!r}])\nworkers.lock_people(c, [{low!r}])"
    lock_order.begin_test()
    with unit_of_work(sqlite) as connection:
        _writer(body)(connection)
    found = list(lock_order.broken)
    lock_order.begin_test()
    assert workers.people_lock_buckets([low]) < workers.people_lock_buckets([high])
    assert len(found) == 1 and "people" in found[0], found
