"""``store.bulk.key_set``: a set of keys in one statement on both databases — none, a few (an
array on PostgreSQL), many (a temporary table there; a JSON array on SQLite) — exactly the
rows whose key is in it, whatever characters the keys hold."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from suiren.store.bulk import ARRAY_KEYS_MAX, key_set

NAMES = [f"w-{n}" for n in range(3 * ARRAY_KEYS_MAX)] + ["it's", 'a "b", c', "张三", "x y"]


@pytest.mark.parametrize("wanted", [0, 3, ARRAY_KEYS_MAX, ARRAY_KEYS_MAX + 1, 2 * ARRAY_KEYS_MAX])
def test_the_rows_whose_key_is_in_the_set(engine: Engine, wanted: int) -> None:
    odd = NAMES[-4:]
    keys = NAMES[: max(wanted - len(odd), 0)] + odd[: min(wanted, len(odd))]
    asked = keys + [f"absent-{n}" for n in range(wanted)]  # keys with no row come back as none
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TEMPORARY TABLE people (name TEXT, n INTEGER)")
        connection.execute(
            text("INSERT INTO people (name, n) VALUES (:name, :n)"),
            [{"name": name, "n": n} for n, name in enumerate(NAMES)],
        )
        keyed, params = key_set(connection, "wanted_names", asked)
        rows = connection.execute(
            text(f"SELECT name, n FROM people WHERE name IN {keyed}").bindparams(**params)
        ).all()
        connection.exec_driver_sql("DROP TABLE people")
    assert sorted(name for name, _ in rows) == sorted(keys)
    assert all(NAMES[n] == name for name, n in rows)
