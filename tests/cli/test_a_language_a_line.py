"""Each line the terminal prints is in one language: a Chinese line, then its English line
with the same months, ages and amounts (tests/bilingual.py ``line_problems``), for what
``pension estimate`` prints (the retirement window, each scenario, its notes and steps, the
assumptions, 多缴多得, the difference) and for the whole of what ``contribute`` (a month, a
replay, a file) and ``transfer`` (request, each step, gather, status) print, over a few
workers:

- a man born 1990 insured in Guangzhou who paid 2026-01..05 (tests/cli/test_transfer_cli.py
  ``enrol_and_pay``): a month outside his window, months paid only, a base ratio and wage
  growth of his own; and his window with every branch (each month chosen, in or outside the
  window, a later age offered or not and why);
- a man paying 2026-07 on 广东's 2025 bounds on 2026-08-15 (2026's are not out);
- a woman born 1984 with a Henan hukou who paid in Guangzhou 2022–2025 and then in Hangzhou
  on a temporary account: the scenarios differ in the province that pays her, and the
  gathering at 55 is on an interest rate not yet published.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from suiren.cli.ledger import paid_lines
from suiren.cli.pension import pension_parts, window_lines
from suiren.domain.month import Month
from suiren.services.contributions import MonthPaid
from tests.bilingual import line_problems
from tests.cli.runner import Run
from tests.cli.test_transfer_cli import enrol_and_pay, ok_json
from tests.cli.test_transfer_gather_cli import GUANGZHOU, HANGZHOU, HUKOU, RETIRED, ZHENGZHOU, pay
from tests.ledger_helpers import resident_id

NOTES = ("  注意", "  note")


def said(done: Any) -> list[str]:
    assert done.returncode == 0, done.stderr
    lines: list[str] = done.stdout.splitlines()
    return lines


def whole(done: Any, worker: str) -> list[str]:
    """All a command printed, its worker's id (W and 12 hex digits, which may hold a run of
    letters such as ABC: a code, no language's word) written as W."""
    return [line.replace(worker, "W") for line in said(done)]


def notes(lines: list[str]) -> list[str]:
    """A command's notes (its other lines are not this test's)."""
    return [line for line in lines if line.startswith(NOTES)]


def adds_up(line: str) -> bool:
    """Whether a scenario's line (``…：基础养老金 a + … = t 元/月``) sums its parts to its total."""
    parts, total = line.rsplit(" = ", 1)
    amounts = [Decimal(a) for a in re.findall(r"-?[0-9]+\.[0-9]{2}", re.split("：|: ", parts)[-1])]
    return sum(amounts) == Decimal(total.split()[0]) and len(amounts) >= 2


def test_a_scenarios_parts_add_up_to_its_total() -> None:
    """The basic and account pensions always, the transitional and the local extras where not
    zero, and what rounding the total added (见分进角): the printed sum is the total's."""
    scenario = {
        "basic_pension_fen": 150_012,
        "account_pension_fen": 40_005,
        "transitional_pension_fen": 0,
        "extra_pension_fen": 12_000,
        "total_fen": 202_020,
    }
    zh, en = pension_parts(scenario)
    assert zh == "基础养老金 1500.12 + 个人账户养老金 400.05 + 地方加发 120.00 + 总额取整 0.03"
    assert en == "basic 1500.12 + account 400.05 + local extras 120.00 + the total's rounding 0.03"
    assert adds_up(f"x：{zh} = 2020.20 元/月") and adds_up(f"x: {en} = 2020.20 yuan/month")
    plain = scenario | {"extra_pension_fen": 0, "total_fen": 190_017}
    assert pension_parts(plain)[1] == "basic 1500.12 + account 400.05"


def test_the_check_finds_a_line_in_both_languages() -> None:
    """What was printed before: one line in both languages, a note 中文 / English."""
    assert line_problems(["所选 chosen: 弹性提前 early"]) != []
    assert line_problems(["  注意 note: 2026-07 所用年度数值 / 2026-07 uses a figure"]) != []
    assert line_problems(["差额：1.00 元/月", "difference: 2.00 yuan/month"]) != []
    assert line_problems(["差额：1.00 元/月"]) != []
    assert line_problems(["差额：1.00 元/月", "difference: 1.00 yuan/month"]) == []


def test_pension_estimate_says_each_line_in_one_language(cli: Run) -> None:
    worker = enrol_and_pay(cli, 51)
    walked = []
    for options in (
        ("--retire", "2049-12", "--explain"),
        ("--retire", "2050-01", "--paid-only"),
        ("--base-ratio", "2", "--wage-growth", "0.025", "--scenario", "current_law"),
    ):
        lines = said(cli("pension", "estimate", worker, *options))
        assert len(lines) > 8 and line_problems(lines) == [], "\n".join(line_problems(lines))
        sums = [line for line in lines if " 领取地 " in line or " paid by " in line]
        assert len(sums) >= 2 and all(adds_up(line) for line in sums), sums
        walked += lines
    starts = (
        "弹性退休区间",
        "current_law",
        "  注意",
        "假设",
        "多缴多得",
        "只计已缴",
        "差额",
        "  1. ",
    )
    assert all(any(line.startswith(s) for line in walked) for s in starts)  # each was walked


@pytest.mark.parametrize("replayed", [True, False])
@pytest.mark.parametrize("hukou_fen", [0, 12_345])
def test_every_month_paid_is_said_in_one_language_a_line(replayed: bool, hukou_fen: int) -> None:
    """A medical month whose pooled part is held in part at the hukou region, replayed or not."""
    paid = MonthPaid(
        "m1/2026-03", Month.of(2026, 3), "330100", 800_000, 80_000, 16_000, 64_000, replayed,
        "employee_medical", "410100" if hukou_fen else None, hukou_fen,
    )  # fmt: skip
    lines = paid_lines(paid).splitlines()
    assert len(lines) == 2 and line_problems(lines) == [], "\n".join(line_problems(lines))
    assert ("123.45" in lines[0]) == ("123.45" in lines[1]) == bool(hukou_fen)
    assert lines[1].endswith(" [replayed]") == replayed


@pytest.mark.parametrize("chosen", ["early", "statutory", "late"])
@pytest.mark.parametrize("in_window", [True, False])
@pytest.mark.parametrize("later", ["offered", "before-flexible-rule", "no-employer"])
def test_every_retirement_window_is_said_in_one_language_a_line(
    window: dict[str, Any], chosen: str, in_window: bool, later: str
) -> None:
    varied = window | {
        "chosen": chosen,
        "chosen_in_window": in_window,
        "chosen_apply_by": "2052-12" if in_window and chosen != "statutory" else None,
        "later_offered": later == "offered",
        "no_later_reason": None if later == "offered" else later,
    }
    lines = window_lines(varied)
    assert len(lines) == 2 and line_problems(lines) == [], "\n".join(line_problems(lines))


@pytest.fixture(scope="module")
def window() -> dict[str, Any]:
    """A window as ``pension estimate --json`` gives it (born 1990-01, tests/cli/
    test_estimate_window_cli.py)."""
    return {
        "earliest_month": "2050-01",
        "earliest_age_months": 720,
        "early_minimum_years": 20,
        "early_notice_months": 3,
        "statutory_month": "2053-01",
        "statutory_age_months": 756,
        "latest_month": "2056-01",
        "latest_age_months": 792,
        "late_apply_by": "2052-12",
    }


def test_a_month_a_replay_and_a_file_on_provisional_bounds(cli: Run, tmp_path: Path) -> None:
    """Each month's line (应缴, 个人账户, 统筹, 重放) and a file's summary (读取, 入账, 重放,
    拒绝, 各地区应缴), with the notes under them."""
    worker = enrol_and_pay(cli, 52)
    pay_month = ("contribute", worker, "--month", "2026-07", "--base", "6000", "--id", "p7")
    paid = whole(cli(*pay_month, today="2026-08-15"), worker)
    replayed = whole(cli(*pay_month, today="2026-08-15"), worker)
    assert (
        paid[0].endswith("）")
        and replayed[0].endswith(" [重放]")
        and replayed[1:]
        == [line + " [replayed]" if n == 1 else line for n, line in enumerate(paid) if n]
    )
    payments = tmp_path / "payments.csv"
    payments.write_text(
        f"payment_id,month,base_yuan,worker_id\nf1,2026-08,6000,{worker}\nf2,2026-09,6000,{worker}\n"
    )
    filed = whole(cli("contribute", "--file", str(payments), today="2026-10-15"), worker)
    assert filed[0] == "读取 2 行：入账 2，重放 0，拒绝 0；各地区应缴：440100 2400.00", filed
    for lines in paid, replayed, filed:
        assert notes(lines), lines
        assert line_problems(lines) == [], "\n".join(line_problems(lines))


def test_a_worker_on_a_temporary_account_and_her_gathering(cli: Run) -> None:
    enrolled = ok_json(
        cli(
            "worker", "enrol", "--resident-id", resident_id(53, "19840101", male=False),
            "--work-region", GUANGZHOU, "--hukou-region", HUKOU, "--json", today="2022-03-02",
        )
    )  # fmt: skip
    worker = str(enrolled["worker_id"])
    for year in (2023, 2024, 2025):
        pay(cli, worker, f"{year}-01", f"{year}-12", f"gz{year}", f"{year}-12-15")
    move = ("transfer", "request", "to-hz", "--worker", worker, "--to", HANGZHOU)
    walked = whole(cli(*move, today="2026-01-05"), worker)
    for step in ("approve", "accept", "complete"):
        walked += whole(cli("transfer", step, "to-hz", today="2026-01-05"), worker)
    walked += whole(cli("transfer", "status", "to-hz", today="2026-01-05"), worker)
    assert len(walked) >= 10 and line_problems(walked) == [], "\n".join(line_problems(walked))
    assert any("临时账户" in line for line in walked)  # each of her transfer's parts was said
    pay(cli, worker, "2026-01", "2026-05", "hz26", "2026-06-15")
    paid = whole(cli("contribute", worker, "--month", "2026-06", "--base", "8000", "--id",
                     "hz6", today="2026-07-15"), worker)  # fmt: skip
    assert line_problems(paid) == [], "\n".join(line_problems(paid))
    estimate = ok_json(cli("pension", "estimate", worker, "--json", today="2026-06-15"))
    assert estimate["difference_causes"] != [{"code": "none"}]  # the paying province differs
    lines = said(cli("pension", "estimate", worker, "--explain", today="2026-06-15"))
    assert line_problems(lines) == [], "\n".join(line_problems(lines))
    gathered = whole(cli("transfer", "gather", worker, "--id", "g1", "--to", ZHENGZHOU,
                         today=RETIRED), worker)  # fmt: skip
    assert notes(gathered) and line_problems(gathered) == [], "\n".join(line_problems(gathered))
