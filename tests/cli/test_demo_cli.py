"""``suiren demo`` (the short walk-through at the command line) works on a fresh database
and runs again; ``suiren serve --demo`` (``make run``) seeds its world once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.runner import Run, refusal
from tests.ledger_helpers import quick_hashes  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("quick_hashes")  # 32 clerks' passwords hashed


def test_demo_runs_twice_and_compares_the_scenarios(cli: Run) -> None:
    first = cli("demo")
    assert first.returncode == 0, first.stderr
    for shown in ("2255.34", "audit: ok", "current_law", "money_follows_person", "330100"):
        assert shown in first.stdout, shown
    again = cli("demo")
    assert again.returncode == 0, again.stderr
    assert "already enrolled" in again.stdout and "3 replayed" in again.stdout


def test_serve_demo_seeds_once_and_writes_its_logins(cli: Run, tmp_path: Path) -> None:
    """What ``make run`` does before it serves (``--seed-only`` stops there)."""
    first = cli("serve", "--demo", "--seed-only", "--demo-people", "2")
    assert first.returncode == 0, first.stderr
    assert "seeded in" in first.stdout
    logins = tmp_path / "demo-logins.json"
    assert logins.stat().st_mode & 0o777 == 0o600
    again = cli("serve", "--demo", "--seed-only", "--demo-people", "2")
    assert again.returncode == 0 and "already seeded" in again.stdout
    assert "--demo" in refusal(cli("serve", "--seed-only"))
