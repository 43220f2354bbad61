"""Where the amounts of the real determination tables come from (tables-audit).

A case transcribed from ``liubigfatty/pension-calculator`` says whether its amounts are printed
on the table or only the transcriber's computed expected values (``outputs_from``; found by
tests/policy/audit_printed.py). Only printed amounts are real-table evidence; computed ones are
checked as labelled regression items. The counts are pinned so that a change is a knowing one.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from tests.policy.audit_printed import ARTICLES
from tests.policy.conftest import REGRESSION, _outputs, expand, origin_problem, read_cases

TABLES = Path(__file__).parent / "cases" / "determination_tables.yaml"
REPO = "liubigfatty/pension-calculator"

# printed: every amount found in the repository's text of the table; computed: none; mixed: some
ORIGINS = {"printed": 67, "mixed": 57, "computed": 74}  # of the 198 cases from the repository
# the cases read on articles outside the repository (docs/determination-tables.md, "Tables
# outside the one repository"): every amount as the article prints it
ARTICLE_CASES = 13  # 9 until tables-new added 江苏 2026-03, 2026-02, 2025-03 and 浙江 绍兴 2025-12


def cases() -> list[dict]:
    return read_cases(TABLES)


def test_every_case_from_the_repository_says_where_its_amounts_come_from() -> None:
    missing = [c["name"] for c in cases() if REPO in c["source"] and "outputs_from" not in c]
    assert missing == []


def test_the_origins_are_the_counted_ones() -> None:
    counts = Counter(c["outputs_from"] for c in cases() if REPO in c["source"])
    assert dict(counts) == ORIGINS, (
        "a case moved between printed, mixed and computed: rerun tests/policy/audit_printed.py, "
        "update ORIGINS and docs/determination-tables.md"
    )


def test_the_cases_from_articles_are_printed_and_counted() -> None:
    """A case from outside the repository cites its article and checks printed amounts only."""
    outside = [c for c in cases() if REPO not in c["source"]]
    assert len(outside) == ARTICLE_CASES, "update ARTICLE_CASES and docs/determination-tables.md"
    for case in outside:
        assert case["source"].startswith(("http://", "https://")), case["name"]
        assert case.get("outputs_from") == "printed", case["name"]
        assert origin_problem(case) is None, case["name"]


def test_beijing_2023_has_no_printed_amount() -> None:
    """Its three cases were the transcriber's calculator's at his base 11761: no real-table item."""
    by_name = {c["name"]: c for c in cases()}
    for name in ("bj-2023-04-m60-fangshan", "bj-2023-05-m60-fangshan", "bj-2023-10-f50-fengtai"):
        case = by_name[name]
        assert case["outputs_from"] == "computed"
        assert [n for n, _ in expand(case)] == [name + REGRESSION]


def test_amounts_read_on_an_article_are_real_table_items() -> None:
    """An amount read on an article on the same table (ARTICLES) is printed, not computed."""
    by_name = {c["name"]: c for c in cases()}
    for name, (url, amounts) in ARTICLES.items():
        case = by_name[name]
        assert url in case["source"], name
        read = {Decimal(a) for a in amounts}
        for _, _, _printed, computed in _outputs(case):
            only_computed = {Decimal(v) for k, v in computed.items() if k.endswith("_yuan")}
            assert not read & only_computed, (name, sorted(read & only_computed))


def test_hongze_basic_and_account_are_printed_on_its_article() -> None:
    """淮安洪泽 2025-12: 2856.87 and 638.91 as the 网易号 article prints them (tables-printed)."""
    case = {c["name"]: c for c in cases()}["js-2025-12-m60y3m-hongze"]
    items = dict(expand(case))
    printed = items["js-2025-12-m60y3m-hongze @ 2025-12-01"]["output"]
    assert (printed["basic_yuan"], printed["account_yuan"]) == ("2856.87", "638.91")
    regression = items["js-2025-12-m60y3m-hongze @ 2025-12-01" + REGRESSION]["output"]
    assert regression == {"total_yuan": "4549.3"}


CASE = {
    "name": "t",
    "formula": "pension",
    "period": "2024-01-01",
    "input": {},
    "output": {"basic_yuan": "1", "warnings": ""},
    "computed_output": {"total_yuan": "2"},
}


def test_a_mixed_case_is_a_real_table_item_and_a_regression_item() -> None:
    case = {**CASE, "outputs_from": "mixed"}
    assert origin_problem(case) is None
    items = dict(expand(case))
    assert items["t"]["output"] == {"basic_yuan": "1", "warnings": ""}
    assert items["t" + REGRESSION]["output"] == {"total_yuan": "2"}
    assert items["t" + REGRESSION]["regression"] is True


def test_a_computed_case_checks_everything_as_regression() -> None:
    case = {**CASE, "output": {"warnings": ""}, "outputs_from": "computed"}
    assert origin_problem(case) is None
    assert expand(case) == [
        (
            "t" + REGRESSION,
            {
                **{k: v for k, v in case.items() if k != "computed_output"},
                "output": {"warnings": "", "total_yuan": "2"},
                "regression": True,
            },
        )
    ]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"outputs_from": "printed"}, "outputs_from says printed, the outputs are mixed"),
        ({"outputs_from": "table"}, "outputs_from is one of"),
        ({}, "computed_output without outputs_from"),
        ({"outputs_from": "mixed", "computed_output": {"warnings": ""}}, "amounts only"),
    ],
)
def test_a_case_whose_origin_does_not_match_its_outputs_is_refused(change, problem) -> None:
    case = {k: v for k, v in CASE.items()} | change
    assert problem in (origin_problem(case) or "")
