"""The yearly interest rule (年度计息法) is written once (policy/interest.py); the yearly run's
SQL only sums, and its sums are those of the account's lines read one by one."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from suiren.domain.month import Month
from suiren.policy import load_policy
from suiren.policy.interest import compound, interest_for, year_rate, yearly_interest
from suiren.services.contributions import contribute
from suiren.services.interest import year_parts
from suiren.services.reversals import reverse
from suiren.store.db import unit_of_work
from suiren.store.lines import account_lines
from tests.ledger_helpers import POLICY, base_bounds_fen, enrol_workers

AMOUNTS = st.integers(min_value=0, max_value=10**12)


def reference(year: int, prior: int, in_year: int) -> int:
    """The rule in exact fractions: prior × r + in_year × r × factor, half up, never negative."""
    rate = year_rate(POLICY, year)
    value = prior * rate.rate + in_year * rate.rate * rate.in_year_factor
    return max(0, int(value + Fraction(1, 2)) if value >= 0 else 0)


@settings(max_examples=200, deadline=None)
@given(
    year=st.integers(2016, 2030),
    parts=st.lists(st.tuples(AMOUNTS, AMOUNTS), min_size=1, max_size=20),
)
def test_the_column_equals_the_rule_case_by_case(year: int, parts: list[tuple[int, int]]) -> None:
    rate = year_rate(POLICY, year)
    column = yearly_interest(rate, [p for p, _ in parts], [q for _, q in parts])
    assert column.tolist() == [reference(year, p, q) for p, q in parts]
    assert [interest_for(POLICY, year, p, q) for p, q in parts] == column.tolist()


def test_a_year_without_a_published_rate_is_provisional() -> None:
    assert not year_rate(POLICY, 2025).provisional
    assert year_rate(POLICY, 2030).provisional  # the latest published rate, said so


def test_compounding_adds_each_year_to_the_next() -> None:
    # 100,000 fen credited in 2023, nothing after: 2023 in-year, then 2024 on the balance
    first = interest_for(POLICY, 2023, 0, 100_000)
    second = interest_for(POLICY, 2024, 100_000 + first, 0)
    assert compound(load_policy(), 2023, 2024, {2023: 100_000}) == first + second


LATE_2025 = datetime(2025, 12, 20, 12, tzinfo=UTC)
BOUNDS_FEN = base_bounds_fen("440100", Month.of(2025, 7), Month.of(2025, 12))  # from the parameters


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(bases=st.lists(st.integers(*BOUNDS_FEN), min_size=2, max_size=6), undo=st.integers(0, 5))
def test_the_sql_sums_are_the_lines_sums(engine_factory, bases: list[int], undo: int) -> None:  # type: ignore[no-untyped-def]
    engine: Engine = engine_factory()
    [worker] = enrol_workers(engine, 1)
    months = [Month.of(2025, 7 + i) for i in range(len(bases))]
    with unit_of_work(engine) as c:
        for month, base in zip(months, bases, strict=True):
            contribute(c, POLICY, f"p-{month}", worker, month, month, base, LATE_2025)
        if undo < len(months):
            reverse(c, f"p-{months[undo]}/{months[undo]}", "undo", LATE_2025)
    account = f"worker:{worker}:employee_pension:individual_account:440100"
    with unit_of_work(engine) as c:
        lines = account_lines(c, account)
        for year in (2025, 2026):
            prior = sum(line.amount_fen for line in lines if line.legal_month.year < year)
            in_year = sum(
                line.amount_fen
                for line in lines
                if line.legal_month.year == year and line.code != "interest"
            )
            assert year_parts(c, account, year) == (prior, in_year)
