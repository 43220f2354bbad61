"""What the ledger audit names is said in Chinese and in English (store/audit.py ``Problem``:
``what_zh`` beside ``what``, with the same values). The tamper cases (tests/store/
test_tamper.py, test_tamper_columns.py) check every problem they meet as it is named
(tests/store/conftest.py ``audit_said_in_both``); here: that the check bites, and that no
problem is named with an English string of its own, which no tamper case might reach."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from suiren.domain.messages import CATALOGUE, text
from suiren.store.audit import Problem
from tests.bilingual import english_words, what_problems

STORE = Path(__file__).resolve().parents[2] / "src" / "suiren" / "store"
NAMING = ("audit.py", "checkpoint.py", "projections.py")  # the modules that name problems


def test_the_check_fails_on_a_problem_not_said_in_both() -> None:
    said = text("audit.sequence-gap", expected=7)
    assert what_problems(said.en, said.zh) == []
    assert what_problems(said.en, "") != []  # no Chinese
    assert what_problems(said.en, said.en) != []  # the English again
    assert what_problems(said.en, "序号不连续：应为 8（有分录被删除）") != []  # another value
    assert what_problems(said.en, "序号不连续：missing 7") != []  # English of its own


def test_every_problem_named_is_kept_for_the_check(audit_said_in_both) -> None:  # type: ignore[no-untyped-def]
    named = Problem.of("journal", "440100/3", text("audit.sequence-gap", expected=3))
    assert named.to_json() == {
        "table": "journal",
        "row": "440100/3",
        "what": "sequence gap: expected 3 (entries were deleted)",
        "what_zh": "序号不连续：应为 3（有分录被删除）",
    }
    assert named.lines() == (f"journal 440100/3：{named.what_zh}", str(named))
    assert audit_said_in_both == [named]  # what the fixture checks after the test


def _english_of_its_own(node: ast.expr) -> bool:
    """A sentence written in place (a string, an f-string, strings joined), not a code's."""
    return isinstance(node, ast.Constant | ast.JoinedStr | ast.BinOp)


@pytest.mark.parametrize("module", NAMING)
def test_every_problem_is_named_by_a_code(module: str) -> None:
    """Each ``result.add(table, row, said)``, ``Problem.of`` and ``Difference`` is given a
    ``domain.messages`` text (``message("audit.…")``, or a variable holding one), never a
    sentence of its own: one in English alone would read as a value the audit cannot use."""
    tree = ast.parse((STORE / module).read_text(encoding="utf-8"))
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Attribute) and node.func.attr in ("add", "of"))
            or (isinstance(node.func, ast.Name) and node.func.id == "Difference")
        )
        and len(node.args) == 3
    ]
    assert calls, module
    written = [ast.unparse(c) for c in calls if _english_of_its_own(c.args[2])]
    assert written == [], written


ALIKE = {"JSON", "UTF"}  # written so in Chinese too


@pytest.mark.parametrize("code", sorted(c for c in CATALOGUE if c.startswith("audit.")))
def test_each_chinese_text_has_no_english_of_its_own(code: str) -> None:
    """Only what it quotes (a value, a column's name, a driver's reason) is English in a
    problem's Chinese: its own words are Chinese (``what_problems`` can tell an English word
    of its own only where the English half lacks it)."""
    zh = re.sub(r"\{[a-z_]+\}", "", CATALOGUE[code][0])
    assert set(english_words(zh)) <= ALIKE, (code, zh)


def test_every_audit_code_is_the_audits() -> None:
    """The catalogue's ``audit.`` codes are named by the modules that name problems."""
    source = "\n".join((STORE / m).read_text(encoding="utf-8") for m in NAMING)
    codes = {code for code in CATALOGUE if code.startswith("audit.")}
    assert len(codes) > 40 and {c for c in codes if f'"{c}"' not in source} == set()
