"""``audit_said_in_both``: every problem the audit names in a test, checked in both languages
(tests/bilingual.py ``what_problems``) — used by the tamper cases, which between them reach
every kind of problem."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from suiren.domain.messages import Text
from suiren.store.audit import Problem
from tests.bilingual import what_problems


@pytest.fixture
def audit_said_in_both(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Problem]]:
    """The problems named (and repairs listed) while the test runs; the test fails after if
    one lacks its Chinese beside its English, or differs in its values. Checked after, not
    where it is named: the audit takes an assertion inside a step for a value it cannot
    read, and would name that instead."""
    named: list[Problem] = []
    of = Problem.of

    def kept(cls: type[Problem], table: str, row: object, said: Text) -> Problem:
        problem = of(table, row, said)
        named.append(problem)
        return problem

    monkeypatch.setattr(Problem, "of", classmethod(kept))
    yield named
    wrong = {str(p): what_problems(p.what, p.what_zh) for p in named}
    assert {p: w for p, w in wrong.items() if w} == {}
