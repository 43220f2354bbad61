"""Every step of an explanation says itself in Chinese and in English (issue 10 §5).

The calculator's steps are taken from every pension case of the policy files (real
determination tables of every province, the rules' cases) and a few more that give what
those do not (a birth month: the retirement steps; inputs printed to more places; 北京 with
no early years); the transfer's from both scenarios. Each step must have its name and
formula in Chinese with no English word, and in English with no Chinese (``tests.bilingual``),
and the cases must reach every kind of step and every variant of a formula, so that a step
added in one language only fails here.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from suiren.domain.month import Month
from suiren.policy import load_policy
from suiren.policy.transfer import (
    TransferInputs,
    quote_gathering,
    quote_transfer,
    temporary_account,
)
from suiren.services.pension_calc import calculate, output_records, parse_cases
from tests.bilingual import all_problems, step_problems
from tests.policy.conftest import load_cases
from tests.policy.formulas import _period

CASES = Path(__file__).parent / "cases"
CASE_FILES = ("determination_tables.yaml", "pension_rules.yaml", "transitional_coefficients.yaml")
WORKED = {"region": "410100", "base_yuan": "8000", "account_yuan": "100000", "divisor_months": 139}
MORE = [  # (case, day of the rules) for what the policy files' cases do not show
    (
        {**WORKED, "sex": "M", "birth": "1966-03", "average_index": "0.733100252737995",
         "contribution_years": "30.58333"},
        date(2026, 3, 1),
    ),  # the retirement steps, and inputs read as the agency reads them
    (
        {**WORKED, "sex": "F", "birth": "1975-06", "category": "female_worker",
         "average_index": "1.2", "contribution_years": "12"},
        date(2026, 3, 1),
    ),  # the minimum years not met
    (
        {"region": "110111", "base_yuan": "11761", "average_index": "0.7533",
         "contribution_years": "20", "deemed_years": "0", "account_yuan": "98019.99",
         "divisor_months": 139, "retire": "2023-04", "early_actual_years": "0",
         "early_actual_index": "0.5"},
        date(2023, 4, 1),
    ),  # 北京 G实 = 0
]  # fmt: skip
# every kind of step the calculator explains (its Chinese name)
KINDS = {
    "输入读取",
    "法定退休年龄",
    "最低缴费年限",
    "平均缴费工资指数",
    "累计缴费年限",
    "基础养老金",
    "个人账户养老金",
    "过渡性养老金",
    "过渡性养老金 G同 + G实",
    "过渡性养老金 G实",
    "过渡性养老金（新办法）",
    "过渡性养老金新老办法对比",
    "长缴增发（吉林分段增发）",
    "过渡调节金",
    "养老金补贴",
    "缴费年限津贴",
    "月增发养老金",
    "独生子女父母加发",
    "见分进角补足",
    "月养老金合计",
}
# the variants of a formula or a result the cases must reach (their English; the Chinese is
# checked beside it)
VARIANTS = [
    "Ī below the threshold",  # a = Ī / 0.6 …
    ", a to ",  # … to the region's decimals
    "(W) rounded first",
    "below the region's floor",
    "used as it is",
    "printed indexed wage",
    "B_t × Ī_t rounded first",
    "G_deemed + G_early",
    "G_early = 0",
    "T not above O",
    "pays none on this date",
    "not a one-child parent",
    "of the region's set amount",
    "% of basic + account",
    "NOT met: keep paying",
    "30 years 7 months (367 months)",
    "(rounded half up to the region's 4 decimals)",
]


@functools.cache
def explained() -> tuple[dict[str, Any], ...]:
    """The steps of every case, as the calculator's JSON gives them."""
    cases = [
        ({k: v if isinstance(v, int) else str(v) for k, v in case["input"].items()}, _period(case))
        for name in CASE_FILES
        for case in load_cases(CASES / name)
        if case["formula"] == "pension"
    ]
    steps: list[dict[str, Any]] = []
    policy = load_policy()
    for record, day in cases + MORE:
        parsed = parse_cases([record], policy, day, rules_day=day)
        [out] = output_records(parsed, calculate(parsed, policy), policy, explain=True)
        steps += out["explanation"]
    return tuple(steps)


def test_the_cases_reach_every_kind_of_step_and_every_variant() -> None:
    steps = explained()
    assert {s["step_zh"] for s in steps} == KINDS
    said = [
        " ".join([s["formula_en"], s["result_en"], *s["inputs_en"], *s["inputs_en"].values()])
        for s in steps
    ]
    assert [v for v in VARIANTS if not any(v in text for text in said)] == []


def test_every_step_of_the_calculator_says_itself_in_both_languages() -> None:
    steps = explained()
    assert len(steps) > 2000  # 464 cases
    assert all_problems(steps) == []


def test_a_step_that_loses_a_language_is_found() -> None:
    """The check finds a formula left in English on the Chinese side, a Chinese name in the
    English, an input's English word on the Chinese side, and an input said in one only."""
    step = next(s for s in explained() if s["step_zh"] == "基础养老金")
    assert step_problems(step) == []
    english = {**step, "formula_zh": step["formula_en"]}
    assert any("formula_zh has no Chinese" in p for p in step_problems(english))
    chinese = {**step, "step_en": "基础养老金"}
    assert any("Chinese in the English" in p for p in step_problems(chinese))
    word = {**step, "inputs_zh": {**step["inputs_zh"], "整年数": "30 years"}}
    assert any("English in the Chinese" in p for p in step_problems(word))
    lost = {**step, "inputs_zh": dict(list(step["inputs_zh"].items())[1:])}
    assert any("lost a language" in p for p in step_problems(lost))


def test_every_step_of_a_transfer_says_itself_in_both_languages() -> None:
    law, reform = load_policy("current_law"), load_policy("money_follows_person")
    months = np.array([Month.of(2025, m).ordinal for m in range(1, 13)], dtype=np.int64)
    moving = TransferInputs(
        day=date(2026, 1, 5),
        from_region="440100",
        to_region="330100",
        sex="F",
        age_months=42 * 12,
        hukou_province="410000",
        account_fen=480_000,
        entitlement_fen=720_000,
        months=months,
        bases_fen=np.full(12, 500_000, dtype=np.int64),
        credit_months=months,
        credits_fen=np.full(12, 60_000, dtype=np.int64),
    )
    quotes = [
        quote_transfer(law, moving),  # a temporary account: nothing moves
        quote_transfer(law, replace(moving, age_months=30 * 12)),  # 12% of the bases
        quote_transfer(reform, moving),  # the whole entitlement with its interest
        quote_gathering(law, moving),
    ]
    assert quotes[0].temporary and not quotes[1].temporary
    _, before = temporary_account(
        law, date(2009, 12, 31), "440100", "330100", "F", 42 * 12, "410000", None
    )
    steps = [s.to_json() for q in quotes for s in q.steps] + [before.to_json()]
    assert {s["step_zh"] for s in steps} == {
        "临时账户",
        "个人账户",
        "统筹基金（国办发〔2009〕66号）",
        "统筹基金（钱随人走）",
        "临时账户归集",
    }
    assert all_problems(steps) == []
