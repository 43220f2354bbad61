"""``suiren demo`` (what ``make run`` shows) works on a fresh database and runs again."""

from __future__ import annotations

from tests.cli.runner import Run


def test_demo_runs_twice_and_compares_the_scenarios(cli: Run) -> None:
    first = cli("demo")
    assert first.returncode == 0, first.stderr
    for shown in ("2255.34", "audit: ok", "current_law", "money_follows_person", "330100"):
        assert shown in first.stdout, shown
    again = cli("demo")
    assert again.returncode == 0, again.stderr
    assert "already enrolled" in again.stdout and "3 replayed" in again.stdout
