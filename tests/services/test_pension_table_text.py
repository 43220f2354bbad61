"""A cases table's text columns read at once (``pension_table._fast``) and per distinct value
(``_distinct``) give exactly what reading every row by the field's rule gives: the same
numbers, the same exact indices, the same notes, or the same refusal naming the same row."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suiren.services import pension_table
from suiren.services.pension_calc import CaseError

COLUMNS = (
    "base_yuan",
    "account_yuan",
    "divisor_months",
    "contribution_years",
    "deemed_years",
    "average_index",
    "transitional_index",
)

digits = st.integers(min_value=0, max_value=10**9)
plain = st.builds(
    lambda whole, fraction, places: (
        f"{whole}.{str(fraction).zfill(places)[-places:]}" if places else str(whole)
    ),
    st.integers(min_value=0, max_value=99_999),
    digits,
    st.integers(min_value=0, max_value=9),
)
value = st.one_of(
    plain,
    plain,
    st.sampled_from(
        [
            "39.83333",  # years as printed: 39年10月
            "42.4167",
            "25.583333333333332",
            "0.733100252737995",
            "30年6月",
            "39年13月",
            "-1.5",
            "",
            " 5",
            "1e3",
            "１２",
            "5000.",
            ".5",
            "9" * 35,
            "0",
            "137.3",
        ]
    ),
    st.none(),
)


def _row_by_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the reader did before: a text column is every row read by its field's rule."""
    monkeypatch.setattr(pension_table, "_fast", pension_table._scaled)
    monkeypatch.setattr(
        pension_table, "_distinct", lambda column: (column.to_pylist(), np.arange(len(column)))
    )


def _read(table: pa.Table) -> Any:
    try:
        got = pension_table.case_input(table)
    except CaseError as refused:
        return ("refused", str(refused))
    return (
        {name: got.numbers[name].tolist() for name in got.numbers},
        {name: (exact.tolist(), finer) for name, (exact, finer) in got.index.items()},
        got.notes,
    )


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.fixed_dictionaries({name: value for name in COLUMNS}), min_size=1, max_size=12
    ),
    repeat=st.integers(min_value=1, max_value=3),
)
def test_text_columns_read_as_row_by_row(
    monkeypatch: pytest.MonkeyPatch, rows: list[dict[str, Any]], repeat: int
) -> None:
    rows = rows * repeat  # values repeated: read once per distinct value
    table = pa.table(
        {"region": ["440100"] * len(rows)}
        | {name: pa.array([r[name] for r in rows], pa.string()) for name in COLUMNS}
    )
    fast = _read(table)
    with monkeypatch.context() as patched:
        _row_by_row(patched)
        slow = _read(table)
    assert fast == slow


def test_plain_text_is_read_without_the_fields_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """A million plain decimals as text are not read one by one (the reason for ``_fast``)."""
    calls = []
    monkeypatch.setattr(pension_table, "number_values", lambda *a: calls.append(a))
    monkeypatch.setattr(pension_table, "index_values", lambda *a: calls.append(a))
    n = 1_000
    table = pa.table(
        {
            "region": ["440100"] * n,
            "base_yuan": [f"{5000 + i}.{i % 100:02d}" for i in range(n)],
            "account_yuan": [f"{i}.5" for i in range(n)],
            "contribution_years": [f"{15 + i % 20}.25" for i in range(n)],
            "average_index": [f"0.{i:06d}" for i in range(n)],
            "divisor_months": ["139"] * n,
        }
    )
    got = pension_table.case_input(table)
    assert calls == []
    assert got.numbers["base_yuan"][7] == 500_707 and got.numbers["account_yuan"][3] == 350
    assert got.index["average_index"][0][12] == 12 and got.numbers["divisor_months"][0] == 1390


def test_printed_years_are_noted_on_every_row_holding_them() -> None:
    table = pa.table(
        {
            "region": ["440100"] * 4,
            "base_yuan": ["7000"] * 4,
            "account_yuan": ["100000"] * 4,
            "contribution_years": ["39.83333", "20", "39.83333", "39年10月"],
            "average_index": ["1"] * 4,
        }
    )
    got = pension_table.case_input(table)
    assert sorted(got.notes) == [0, 2]
    assert got.notes[0]["contribution_years"].en.startswith("39.83333 → 39 years 10 months")
