"""``suiren demo`` (the short walk-through at the command line) works on a fresh database
and runs again; ``suiren serve --demo`` (``make run``) seeds its world once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.bilingual import codes_as_letters, line_problems
from tests.cli.runner import Run, refusal
from tests.ledger_helpers import quick_hashes  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("quick_hashes")
TABLE = re.compile(
    "[\u2500-\u257f]"
)  # a table's lines (Rich draws its boxes with these)  # 32 clerks' passwords hashed


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
    lines = first.stdout.splitlines()
    [at] = [n for n, s in enumerate(lines) if s.startswith("seeded in ")]
    zh, en = lines[at - 1 : at + 1]  # a Chinese line, then its English line
    assert "转移：" in zh and not re.search("[A-Za-z]", zh), zh  # the transfers' states too
    assert "transfers: " in en, en
    said = [codes_as_letters(line, str(tmp_path)) for line in lines]
    assert line_problems(said) == [], "\n".join(line_problems(said))
    logins = tmp_path / "demo-logins.json"
    assert logins.stat().st_mode & 0o777 == 0o600
    again = cli("serve", "--demo", "--seed-only", "--demo-people", "2")
    assert again.returncode == 0 and "already seeded" in again.stdout
    assert "--demo" in refusal(cli("serve", "--seed-only"))


def test_the_demo_says_each_line_in_chinese_then_in_english(cli: Run) -> None:
    """A Chinese line, then its English line; the case (its fields) and the steps' table
    (each cell 中文 / English, as the explanation's joined fields) are data, not lines."""
    done = cli("demo")
    assert done.returncode == 0, done.stderr
    lines = [
        codes_as_letters(line)
        for line in done.stdout.splitlines()
        if not line.startswith("{") and not TABLE.search(line)
    ]
    assert len(lines) >= 16 and line_problems(lines) == [], "\n".join(line_problems(lines))
    said = " ".join(line.strip() for line in done.stdout.splitlines())  # as a console wraps it
    for zh, en in (
        ("养老金测算，现行政策", "pension estimate, current law"),
        ("测算案例", "case:"),
        ("元/月", "yuan/month"),
        ("已在广州 440100 参保", "enrolled"),
        ("缴费：", "pay:"),
        ("重放：", "replay:"),
        ("缴费月数", "contribution months"),
        ("审计：通过", "audit: ok"),
        ("假如这位快递员今天转到杭州", "if the courier moved"),
        ("转出个人账户", "moves account"),
        ("现行政策全部转出", "current law moves it all"),
    ):
        assert zh in said and en in said and said.index(zh) < said.index(en), (zh, en)
