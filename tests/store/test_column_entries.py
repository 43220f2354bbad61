"""The column-wise write path (``post_columns``, the yearly interest run) must write what the
per-transaction path would: the same content hash for the same postings, and each account's
balance moved by the sum of its amounts. These compare the column-wise pieces with the plain
Python they replaced, on any keys (non-ASCII, colons, prefixes of one another) and amounts."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from suiren.ledger.hashchain import content_hash, content_hash_of_lines
from suiren.store.ledger_repo import ColumnEntry, _account_sums, _increasing, posting_lines

KEYS = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)  # no lone surrogates
AMOUNTS = st.integers(-(2**62), 2**62)
FACTS = st.lists(st.tuples(st.text(max_size=5), st.text(max_size=5), st.text(max_size=8)))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(KEYS, AMOUNTS), max_size=40), FACTS, st.text(max_size=20))
def test_the_lines_hash_as_the_postings_do(
    lines: list[tuple[str, int]], facts: list[tuple[str, str, str]], header: str
) -> None:
    accounts = pa.array([a for a, _ in lines], type=pa.string())
    amounts = np.array([n for _, n in lines], dtype=np.int64)
    joined = posting_lines(accounts, amounts)
    assert content_hash_of_lines(header, joined, facts) == content_hash(header, lines, facts)
    # a slice of a larger array (an offset into its buffers) gives its own lines only
    padded = pa.concat_arrays([pa.array(["x"], type=pa.string()), accounts]).slice(1)
    assert bytes(posting_lines(padded, amounts)) == bytes(joined)


def _entry(accounts: list[str], amounts: list[int]) -> ColumnEntry:
    from datetime import UTC, datetime

    from suiren.domain.month import Month
    from suiren.ledger.transaction import TxCode

    return ColumnEntry(
        "t",
        TxCode.INTEREST,
        "440100",
        Month.of(2025, 12),
        datetime(2026, 1, 1, tzinfo=UTC),
        pa.array(accounts, type=pa.string()),
        np.array(amounts, dtype=np.int64),
    )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["a", "b", "ab", "a:b", "资金", "z", "", "b\x00"]), AMOUNTS
        ),
        min_size=1,
        max_size=5,
    )
)
def test_the_deltas_are_each_accounts_sum(entries: list[dict[str, int]]) -> None:
    expected: Counter[str] = Counter()
    for entry in entries:
        for account, amount in entry.items():
            expected[account] += amount
    columns = [_entry(list(e), list(e.values())) for e in entries]
    if any(not -(2**63) <= v < 2**63 for v in expected.values()):  # beyond a BIGINT balance
        with pytest.raises(OverflowError):
            _account_sums(columns)
        return
    sums = _account_sums(columns)
    got = dict(zip(sums["account"].to_pylist(), sums["balance_fen"].to_pylist(), strict=True))
    assert got == {a: v for a, v in expected.items() if v}
    assert sums["account"].to_pylist() == sorted(got)  # in key order, each once


@pytest.mark.parametrize(
    ("keys", "once"),
    [([], True), (["a"], True), (["a", "b"], True), (["b", "a"], False), (["a", "a"], False)],
)
def test_increasing_means_each_once_in_order(keys: list[str], once: bool) -> None:
    assert _increasing(pa.array(keys, type=pa.string())) is once
