"""A yearly interest run replayed says what its first run said (issue: a replay returns the
first answer), on SQLite and PostgreSQL.

2026's crediting rate is not in the parameters: a run for 2026 credits at 2025's 1.5%
(provisional, warned ``provisional-parameter``). The run records that figure
(``provisional_uses``, subject ``interest/{scheme}/{region}/{year}``); a replay answers from
it, not from the parameters as they stand when it is asked. ``PUBLISHED`` is the parameters
once a 2026 rate is out: 2% here is a test's figure, not a published rate.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete

from suiren.domain.month import Month
from suiren.policy import Policy
from suiren.policy.interest import year_rate
from suiren.services.contributions import contribute
from suiren.services.interest import InterestRun, credit_interest
from suiren.store.audit import verify
from suiren.store.db import unit_of_work
from suiren.store.tables import provisional_uses
from tests.conftest import NOW
from tests.ledger_helpers import POLICY, enrol_workers, policy_with
from tests.store.test_tamper import tampering

GUANGZHOU = "440100"
LATER = datetime(2027, 3, 1, tzinfo=UTC)


def rate_2026_published(tmp_path: Path) -> Policy:
    """The parameters once a 2026 crediting rate is out (2%: a test's figure)."""
    return policy_with(
        tmp_path / "rate_2026.yaml",
        "name: rate_2026\n"
        "description: a 2026 crediting rate published (a test's figure)\n"
        "reference: {verified: false, why: a test's figure}\n"
        "overrides:\n"
        "  account.interest_rate:\n"
        "    values: {2026-01-01: 0.02}\n",
    )


@pytest.fixture
def published(tmp_path: Path) -> Policy:
    return rate_2026_published(tmp_path)


def _paid_in_2026(engine: Engine) -> None:
    [canton] = enrol_workers(engine, 1, GUANGZHOU)
    with unit_of_work(engine) as c:
        contribute(c, POLICY, "p1", canton, Month.of(2026, 3), Month.of(2026, 3), 600_000, NOW)


def _run(engine: Engine, policy: Policy) -> InterestRun:
    with unit_of_work(engine) as c:
        [run] = credit_interest(c, policy, 2026, LATER)
    return run


def _said(run: InterestRun) -> dict[str, object]:
    """What a run says of its rate (its counts are a replay's zeros)."""
    shown = run.to_json()
    return {k: shown[k] for k in ("region", "year", "rate", "provisional", "warnings")}


def test_a_provisional_run_replayed_once_the_rate_is_published_says_what_it_used(
    engine: Engine, published: Policy
) -> None:
    assert year_rate(POLICY, 2026).provisional and not year_rate(published, 2026).provisional
    _paid_in_2026(engine)
    first = _run(engine, POLICY)
    assert first.provisional and first.rate == "3/200" and not first.skipped
    again = _run(engine, published)
    assert again.skipped and _said(again) == _said(first)
    [warning] = again.to_json()["warnings"]  # type: ignore[misc]
    assert warning["parameters"][0]["value"] == "0.015"
    with unit_of_work(engine) as c:
        assert verify(c).ok, verify(c).problems


def test_a_run_on_a_published_rate_replayed_under_older_parameters_warns_nothing(
    engine: Engine, published: Policy
) -> None:
    """The other way: the first run had 2026's own rate (2%); the parameters a replay reads
    lack it (2025's stands in), but the run used a published rate and says so again."""
    _paid_in_2026(engine)
    first = _run(engine, published)
    assert not first.provisional and first.rate == "1/50" and first.warnings() == []
    again = _run(engine, POLICY)
    assert again.skipped and _said(again) == _said(first)


def test_a_run_posted_before_its_rate_was_kept_says_what_its_entry_said(
    engine: Engine, published: Policy
) -> None:
    """A run posted before ``provisional_uses`` kept the rate (its use row absent) is
    answered from its entry's memo (``interest 2026 at 3/200 (provisional)``): provisional,
    at the rate it credited, whatever the parameters say now."""
    _paid_in_2026(engine)
    first = _run(engine, POLICY)
    with tampering(engine) as c:
        c.execute(delete(provisional_uses))
        [again] = credit_interest(c, published, 2026, LATER)
    assert again.skipped and again.provisional and again.rate == first.rate == "3/200"
