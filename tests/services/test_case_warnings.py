"""Each case's warnings held columnar (``pension_calc.WarningsFound`` → ``CaseWarnings``): a
block of cases per warning, not a list per case. Every case must get exactly the warnings it
would get one by one, in the order they were found, and the Parquet column the same."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from suiren.domain.messages import Text
from suiren.services.pension_calc import CaseWarning, CaseWarnings, WarningsFound
from suiren.services.pension_table import WARNING_TYPE, _warnings_column, write_results

KINDS = [
    CaseWarning(f"code-{k}", f"field-{k % 2}", Text(f"提示 {k}", f"warning {k}")) for k in range(4)
]


def one_by_one(n: int, blocks: list[tuple[list[int], int]]) -> list[list[CaseWarning]]:
    """What each case gets when each block's warning is appended to each of its cases."""
    out: list[list[CaseWarning]] = [[] for _ in range(n)]
    for cases, kind in blocks:
        for i in cases:
            out[i].append(KINDS[kind])
    return out


@st.composite
def found_blocks(draw: st.DrawFn) -> tuple[int, list[tuple[list[int], int]]]:
    n = draw(st.integers(0, 12))
    cases = st.lists(st.integers(0, n - 1), unique=True, max_size=n) if n else st.just([])
    blocks = draw(st.lists(st.tuples(cases, st.integers(0, len(KINDS) - 1)), max_size=8))
    return n, blocks


@settings(max_examples=200, deadline=None)
@given(found_blocks())
def test_each_case_gets_its_warnings_in_the_order_found(drawn) -> None:
    n, blocks = drawn
    found = WarningsFound()
    for cases, kind in blocks:
        found.add(np.array(cases, dtype=np.int64), KINDS[kind])
    warnings = CaseWarnings(n, found)
    expected = one_by_one(n, blocks)
    assert [list(w) for w in warnings] == expected
    assert warnings.counts().tolist() == [len(e) for e in expected]
    assert warnings.warned() == sum(1 for e in expected if e)
    first = next(((i, e[0]) for i, e in enumerate(expected) if e), None)
    assert warnings.first() == first
    assert [found.of(i) for i in range(n)] == expected
    # the same warning found twice is held once
    assert len(warnings.distinct) == len(set(warnings.distinct))

    column = _warnings_column(warnings)
    assert column.to_pylist() == [[w.to_json() for w in e] for e in expected]


def test_add_each_makes_one_warning_per_distinct_key_in_case_order() -> None:
    made: list[tuple[int, ...]] = []

    def warning(key: tuple[int, ...]) -> CaseWarning:
        made.append(key)
        return CaseWarning("k", "f", Text(f"{key}", f"{key}"))

    found = WarningsFound()
    cases = np.array([5, 1, 3, 0, 2], dtype=np.int64)
    found.add_each(cases, [np.array([7, 8, 7, 8, 9]), np.array([0, 0, 0, 0, 1])], warning)
    assert sorted(made) == [(7, 0), (8, 0), (9, 1)]  # once each
    warnings = CaseWarnings(6, found)
    keys = {5: (7, 0), 1: (8, 0), 3: (7, 0), 0: (8, 0), 2: (9, 1)}
    for i in range(6):
        expected = [] if i not in keys else [f"{keys[i]}"]
        assert [w.said.zh for w in warnings[i]] == expected


def test_the_results_file_reads_back_as_plain_strings(tmp_path: Path) -> None:
    """The words are dictionary-encoded in memory; the file written says string, as before."""
    found = WarningsFound()
    found.add(np.arange(0, 1000, 3), KINDS[0])
    found.add(np.arange(0, 1000, 7), KINDS[1])
    warnings = CaseWarnings(1000, found)
    path = tmp_path / "results.parquet"
    write_results(path, pa.table({"warnings": _warnings_column(warnings)}))
    read = pq.read_table(path)
    assert read.schema.field("warnings").type == pa.list_(pa.field("element", WARNING_TYPE))
    rows = read.column("warnings").to_pylist()
    assert rows[21] == [KINDS[0].to_json(), KINDS[1].to_json()]
    assert rows[1] == [] and rows[7] == [KINDS[1].to_json()]
