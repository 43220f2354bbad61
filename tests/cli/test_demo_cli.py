"""``suiren demo`` (the short walk-through at the command line) works on a fresh database
and runs again; ``suiren serve --demo`` (``make run``) seeds its world once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.bilingual import codes_as_letters, line_language, line_problems
from tests.cli.runner import Run, refusal
from tests.ledger_helpers import quick_hashes  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("quick_hashes")
TABLE = re.compile("[\u2500-\u257f]")  # a table's lines (Rich draws its boxes with these)
RULE = re.compile("^[\u2500-\u257f]+$")  # a table's rule: its top, bottom, a section's line


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


def table_problems(lines: list[str]) -> list[str]:
    """What is wrong with a table's lines (its box's lines) said in two languages: each line
    in one language (the box drawn as spaces), and between two rules the Chinese lines
    before the English ones, both there (a cell wraps within its column, so a row may take
    several lines: the header, a step)."""
    problems: list[str] = []
    sections: list[list[str]] = [[]]
    for line in lines:
        if RULE.match(line.replace(" ", "")):
            sections.append([])
        else:
            sections[-1].append(TABLE.sub(" ", line))
    for section in filter(None, sections):
        chinese = " ".join(line for line in section if line_language(line, "") == "zh")
        kinds = [k for k in (line_language(line, chinese) for line in section) if k]
        if "mixed" in kinds:
            problems += [f"mixes Chinese and English: {line!r}" for line in section
                         if line_language(line, chinese) == "mixed"]  # fmt: skip
        elif kinds != sorted(kinds, reverse=True) or set(kinds) != {"zh", "en"}:
            problems.append("not its Chinese lines, then its English ones:\n" + "\n".join(section))
    return problems


@pytest.mark.parametrize("columns", ["80", "200"])
def test_the_demo_says_each_line_in_chinese_then_in_english(
    cli: Run, columns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Chinese line, then its English line; the case (its fields) is data, not lines. The
    steps' table: each step a Chinese row, then its English row, however narrow the
    terminal (a cell wraps within its row)."""
    monkeypatch.setenv("COLUMNS", columns)
    done = cli("demo")
    assert done.returncode == 0, done.stderr
    printed = done.stdout.splitlines()
    lines = [
        codes_as_letters(line)
        for line in printed
        if not line.startswith("{") and not TABLE.search(line)
    ]
    assert len(lines) >= 16 and line_problems(lines) == [], "\n".join(line_problems(lines))
    codes = [line for line in lines if re.search("[a-z]{2}", line) and not line_language(line, "")]
    assert codes == [], codes  # a code alone where a name belongs (a balance's kind)
    table = [line for line in printed if TABLE.search(line)]
    assert len(table) >= 20 and table_problems(table) == [], "\n".join(table_problems(table))
    assert sum(bool(RULE.match(line.replace(" ", ""))) for line in table) >= 7  # a step each
    said = " ".join(line.strip() for line in printed)  # as a console wraps it
    for zh, en in (
        ("养老金测算，现行政策", "pension estimate, current law"),
        ("测算案例", "case:"),
        ("步骤", "step"),
        ("法定退休年龄", "statutory"),
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
