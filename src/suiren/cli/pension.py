"""``suiren pension calc`` (the calculator on JSON in, JSON out) and ``suiren pension estimate``
(a worker's pension from their whole record, under each scenario)."""

from __future__ import annotations

import json
import sys
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import typer

from suiren.cli import options
from suiren.cli.context import Context, emit, warning_lines
from suiren.domain.errors import InvalidInput
from suiren.domain.messages import quoted
from suiren.domain.messages import text as message
from suiren.domain.money import fen_to_yuan_str
from suiren.domain.month import Month
from suiren.policy import SCENARIOS, load_policy
from suiren.policy.projection import (
    GROWTH_MAX,
    GROWTH_MIN,
    INTEREST_MAX,
    RATIO_MAX,
    RATIO_MIN,
    assumptions_ahead,
)

app = typer.Typer(help="养老金测算 / Pension calculation and estimates.", no_args_is_help=True)
INPUT_BYTES_MAX = 2_000_000_000


def read_json(source: str) -> Any:
    """Parse JSON from a file or stdin ('-'), as ``pension_calc.parse_json`` reads it."""
    from suiren.services.pension_calc import parse_json

    try:
        if source == "-":
            text = sys.stdin.read(INPUT_BYTES_MAX + 1)
        else:
            path = Path(source)
            if not path.is_file():
                raise InvalidInput(message("cases.no-file", path=source))
            if path.stat().st_size > INPUT_BYTES_MAX:
                raise InvalidInput(message("cases.too-large", bytes_max=INPUT_BYTES_MAX))
            text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(message("cases.not-utf8", path=source)) from None
    except OSError as exc:
        raise InvalidInput(
            message("cases.cannot-read", path=source, error=quoted(exc.strerror))
        ) from None
    if len(text) > INPUT_BYTES_MAX:
        raise InvalidInput(message("cases.too-large", bytes_max=INPUT_BYTES_MAX))
    if not text.strip(" \t\r\n\ufeff"):  # nothing, or a byte order mark alone
        raise InvalidInput(message("cases.empty", path="-" if source == "-" else source))
    return parse_json(text)


# a file of rows the calculator does not read (a spreadsheet's): said so, not "not JSON"
SHEETS = {".csv": "CSV", ".tsv": "TSV", ".xlsx": "Excel", ".xls": "Excel"}


@app.command("calc")
def calc(
    source: str = typer.Argument(
        "-",
        metavar="[FILE|-]",
        help="测算案例：JSON 对象或数组，或 Parquet 表；- 表示标准输入 / the cases: a JSON object"
        " or array, or a Parquet table; - for stdin",
        parser=options.source("FILE"),
    ),
    explain: bool = typer.Option(
        False,
        "--explain",
        help="数组的结果也附上计算说明 / include explanations for an array",
    ),
    strict: bool = typer.Option(
        False,
        "--strict",
        help="拒绝有提示的案例（不在退休区间内、缴费年限不足） / refuse a case with a warning"
        " (outside the retirement window, years below the minimum)",
    ),
    out: Path = typer.Option(
        None,
        "--out",
        help="结果写入 FILE（.parquet 为表格；.json），不写到标准输出 / write the results to"
        " FILE (.parquet: a table; .json) instead of standard output",
        metavar="FILE",
        parser=options.output_file("--out"),
    ),
    on: date = typer.Option(
        None,
        "--date",
        help="未给出退休月份时所用规则的日期（YYYY-MM-DD） / date for the rules when no retire"
        " month is given (YYYY-MM-DD)",
        metavar="YYYY-MM-DD",
        parser=options.day("--date"),
    ),
) -> None:
    """养老金计算：基础养老金、个人账户养老金和过渡性养老金，单位为分 / Compute monthly
    pensions: basic, individual-account and transitional parts, in fen.

    每个案例给出待遇领取地，因此按现行政策（current_law）计算；方案改变的是在哪里领取、什么随人
    转移，见 suiren pension estimate --scenario。每个结果都带有其提示（warnings）。Parquet
    测算表（FILE.parquet，每个字段一列；小数为 decimal128 或文本，不用浮点数）配合
    --out RESULTS.parquet 得到 Parquet 结果表。

    The paying region is given with each case, so the calculation is the law's (current_law);
    a scenario changes where a career is paid and what moves with the worker, which
    suiren pension estimate --scenario shows. Every result carries its warnings.

    A Parquet table of cases (FILE.parquet, one column per field; decimals as decimal128 or
    text, never floats) gives a Parquet table of results with --out RESULTS.parquet."""
    from suiren.services.output_files import distinct_files, write_private
    from suiren.services.pension_calc import (
        calculate,
        case_warnings,
        output_records,
        parse_cases,
        parse_input,
        refuse_warnings,
    )
    from suiren.services.pension_table import (
        case_input,
        read_cases_table,
        results_table,
        write_results,
    )

    out_kind = None if out is None else out.suffix.lower()  # as the intake reads FILE.CSV
    if out_kind not in (None, ".parquet", ".json"):
        raise InvalidInput(message("cases.out-kind"))
    suffix = "" if source == "-" else Path(source).suffix.lower()
    if suffix in SHEETS:
        raise InvalidInput(message("cases.sheet", path=source, kind=SHEETS[suffix]))
    table_in = suffix == ".parquet"
    if table_in and out_kind != ".parquet":
        raise InvalidInput(message("cases.table-out"))
    if explain and out_kind == ".parquet":
        raise InvalidInput(message("cases.explain-table"))
    distinct_files({"FILE": None if source == "-" else Path(source)}, {"--out": out})
    today = on or date.today()
    policy = load_policy("current_law")
    single = False
    if table_in:
        parsed = parse_input(case_input(read_cases_table(Path(source))), policy, today)
    else:
        data = read_json(source)
        single = isinstance(data, dict)
        if not single and not isinstance(data, list):
            raise InvalidInput(message("cases.input-kind"))
        parsed = parse_cases([data] if single else data, policy, today)
    warnings = case_warnings(parsed, policy, today)
    if strict:
        refuse_warnings(warnings)
    result = calculate(parsed, policy)
    if out is not None and out_kind == ".parquet":
        write_results(out, results_table(parsed, result, warnings), "--out")
        warned = warnings.warned()
        cases = len(warnings)
        print(
            f"{cases} 个案例 → {out}（{warned} 个有提示）\n"
            f"{cases} cases → {out} ({warned} with warnings)",
            file=sys.stderr,
        )
        return
    records = output_records(parsed, result, policy, explain or single, warnings)
    text = json.dumps(
        records[0] if single else records,
        ensure_ascii=False,
        indent=2 if single else None,
        default=str,
    )
    if out is None:
        sys.stdout.write(text + "\n")
    else:
        write_private(out, text + "\n", "--out")


# --paid-only, then the assumptions about the months ahead it cannot be given with
NAMES_AHEAD = ("--paid-only", "--base-ratio", "--wage-growth", "--interest")


@app.command("estimate")
def estimate(
    worker_id: str = typer.Argument(
        ..., help=options.WORKER_HELP, metavar="WORKER", parser=options.worker()
    ),
    scenario: str = typer.Option(
        None,
        "--scenario",
        help="只测算一个方案；默认两个方案并列 / one scenario; default both side by side",
        metavar="NAME",
        parser=options.choice("--scenario", SCENARIOS, "scenario"),
    ),
    retire: Month = typer.Option(
        None,
        "--retire",
        help="退休月份 YYYY-MM，在最后缴费月之后（默认：法定退休月份；已过则为第一个未缴费的"
        "月份） / retirement month YYYY-MM, after the last month paid (default: the statutory"
        " one; past it, the first month not paid)",
        metavar="YYYY-MM",
        parser=options.month("--retire"),
    ),
    base_ratio: Fraction = typer.Option(
        None,
        "--base-ratio",
        help="今后各月的缴费基数占当地社平工资的比例，0.6–3（默认：最后一个月的比例） / the"
        " months ahead at this share of the local average wage, 0.6–3 (default: the last"
        " month's)",
        metavar="RATIO",
        parser=options.rate("--base-ratio", RATIO_MIN, RATIO_MAX, "1.5"),
    ),
    wage_growth: Fraction = typer.Option(
        None,
        "--wage-growth",
        help="今后社平工资的年增长率，-0.1–0.2（默认 0：按今天的币值） / yearly growth of the"
        " average wage ahead, -0.1–0.2 (default 0: today's money)",
        metavar="RATE",
        parser=options.rate("--wage-growth", GROWTH_MIN, GROWTH_MAX, "0.03"),
    ),
    interest: Fraction = typer.Option(
        None,
        "--interest",
        help="今后的年记账利率，0–0.2（默认：最近公布的） / yearly crediting rate ahead, 0–0.2"
        " (default: the latest published)",
        metavar="RATE",
        parser=options.rate("--interest", Fraction(0), INTEREST_MAX, "0.02"),
    ),
    paid_only: bool = typer.Option(
        False,
        "--paid-only",
        help="只计已缴月份（不计今后各月） / only the months paid so far (no months ahead)",
    ),
    strict: bool = typer.Option(
        False,
        "--strict",
        help="拒绝有提示的测算（不在弹性退休区间内、缴费年限不足、申请已过期限、有未建模的部分）"
        " / refuse an estimate with a warning (outside the elective retirement window, years"
        " below the minimum, an application past its deadline, a part not modelled)",
    ),
    explain: bool = typer.Option(
        False,
        "--explain",
        help="列出每个方案的计算过程，先中文后英文（--json 总是带有） / each scenario's steps,"
        " Chinese first, then English (--json always has them)",
    ),
    as_json: bool = typer.Option(False, "--json", help=options.JSON_HELP),
) -> None:
    """养老金测算：按劳动者的全部记录，在现行政策和改革方案下测算 / The pension from the
    worker's whole record, under current law and the reform.

    假设继续缴费至退休（假设会列出，可以修改）；列出无用人单位劳动者的弹性退休区间，所选月份
    不在区间内则给出提示。

    Paying on until retirement (the assumptions are stated and can be changed); the elective
    retirement window of a worker without an employer is shown and a month outside it
    warned."""
    from suiren.services.career import compare

    ctx = Context.build()
    names = [scenario] if scenario else list(SCENARIOS)
    policies = [load_policy(n) for n in names]
    assumptions = assumptions_ahead(paid_only, base_ratio, wage_growth, interest, NAMES_AHEAD)
    with ctx.transaction() as connection:
        data = compare(
            connection, policies, worker_id, ctx.now().date(), retire, assumptions, strict
        )
    emit(data, as_json, "\n".join(estimate_lines(data, explain)))


CHOSEN_TEXT = {
    "early": ("弹性提前", "early"),
    "statutory": ("法定", "statutory"),
    "late": ("弹性延迟", "late"),
}


def window_lines(window: dict[str, Any]) -> list[str]:
    """The elective retirement window (弹性退休区间): a Chinese line, then its English line,
    with the same months and ages."""
    w = window

    def years(key: str) -> tuple[int, int]:
        return divmod(w[key], 12)

    def age_zh(key: str) -> str:
        return "{}岁{}个月".format(*years(key))

    def age_en(key: str) -> str:
        return "{}y{}m".format(*years(key))

    if w["later_offered"]:
        later_zh = (
            f"最晚 {w['latest_month']}（{age_zh('latest_age_months')}），"
            f"弹性延迟须于 {w['late_apply_by']} 前向社保经办机构申请"
        )
        later_en = (
            f"latest {w['latest_month']} ({age_en('latest_age_months')}),"
            f" apply to the agency by {w['late_apply_by']}"
        )
    elif w["no_later_reason"] == "before-flexible-rule":
        later_zh = "不能弹性延迟（法定退休年龄在2025-01-01前已达到）"
        later_en = "no later age (reached before the flexible rule of 2025-01-01)"
    else:
        later_zh, later_en = "不能弹性延迟（无用人单位）", "no later age (no employer)"
    chosen_zh, chosen_en = CHOSEN_TEXT[w["chosen"]]
    if not w["chosen_in_window"]:
        chosen_zh, chosen_en = f"{chosen_zh} — 不在区间内", f"{chosen_en} — outside"
    if w["chosen_apply_by"]:
        chosen_zh += f"，申请截止 {w['chosen_apply_by']}"
        chosen_en += f", apply by {w['chosen_apply_by']}"
    early, notice = w["early_minimum_years"], w["early_notice_months"]
    return [
        f"弹性退休区间：最早 {w['earliest_month']}（{age_zh('earliest_age_months')}，"
        f"须缴费满 {early} 年，提前 {notice} 个月申请）；法定 {w['statutory_month']}"
        f"（{age_zh('statutory_age_months')}）；{later_zh}；所选：{chosen_zh}",
        f"retirement window: earliest {w['earliest_month']} ({age_en('earliest_age_months')},"
        f" needs {early} years, apply {notice} months ahead); statutory {w['statutory_month']}"
        f" ({age_en('statutory_age_months')}); {later_en}; chosen: {chosen_en}",
    ]


def explanation_lines(steps: list[dict[str, Any]]) -> list[str]:
    """An estimate's steps (``rules.explain.Step``), each in Chinese, then in English."""
    lines = []
    for n, step in enumerate(steps, 1):
        lines += [
            f"  {n}. {step['step_zh']}：{step['result_zh']}",
            f"  {' ' * len(str(n))}  {step['step_en']}: {step['result_en']}",
            f"     公式：{step['formula_zh']}",
            f"     formula: {step['formula_en']}",
        ]
        if step["inputs_zh"]:
            lines += [
                "     输入：" + "，".join(f"{k} = {v}" for k, v in step["inputs_zh"].items()),
                "     inputs: " + ", ".join(f"{k} = {v}" for k, v in step["inputs_en"].items()),
            ]
    return lines


def percent(rate: str) -> str:
    """A rate written as a decimal ("0.03") as a percentage ("3%"), exactly."""
    return f"{(Decimal(rate) * 100).normalize():f}%"


# a scenario's parts of its total, in the order they are added (zh, en); the basic and the
# account pension always shown, the others where not zero
_PARTS = (
    ("basic_pension_fen", "基础养老金", "basic"),
    ("account_pension_fen", "个人账户养老金", "account"),
    ("transitional_pension_fen", "过渡性养老金", "transitional"),
    ("extra_pension_fen", "地方加发", "local extras"),
)


def pension_parts(scenario: dict[str, Any]) -> tuple[str, str]:
    """The sum a scenario's total is, in Chinese and in English: every part it adds, and what
    rounding the total added (见分进角 and the like) where the parts do not make it alone — so
    that the line's sum is the total's, to the fen."""
    shown = [
        (scenario[key], zh, en)
        for n, (key, zh, en) in enumerate(_PARTS)
        if n < 2 or scenario.get(key, 0)
    ]
    rest = scenario["total_fen"] - sum(fen for fen, _, _ in shown)
    if rest:
        shown.append((rest, "总额取整", "the total's rounding"))
    return (
        " + ".join(f"{zh} {fen_to_yuan_str(fen)}" for fen, zh, _ in shown),
        " + ".join(f"{en} {fen_to_yuan_str(fen)}" for fen, _, en in shown),
    )


def estimate_lines(data: dict[str, Any], explain: bool = False) -> list[str]:
    """The estimate for a person: each scenario (with its steps where ``explain``), the
    assumptions ahead, what paying more adds, and what differs between the scenarios."""
    lines = window_lines(data["scenarios"][0]["retirement_window"])
    for s in data["scenarios"]:
        parts_zh, parts_en = pension_parts(s)
        total, name = fen_to_yuan_str(s["total_fen"]), f"{s['scenario']:<22}"
        lines += [
            f"{name} 领取地 {s['paying_province']}，指数 Ī {s['average_index']}，"
            f"退休 {s['retirement_month']}：{parts_zh} = {total} 元/月",
            f"{name} paid by {s['paying_province']}, index Ī {s['average_index']},"
            f" retire {s['retirement_month']}: {parts_en} = {total} yuan/month",
        ]
        lines += warning_lines(s.get("warnings", []))
        if explain:
            lines += [f"计算过程（{s['scenario']}）：", f"how it is computed ({s['scenario']}):"]
            lines += explanation_lines(s["explanation"])
    ahead = data["scenarios"][0]["projection"]
    if ahead is not None:
        last = ahead["base_ratio_is_the_last_months"]
        growth = percent(ahead["wage_growth"])
        today = Decimal(ahead["wage_growth"]) == 0
        lines += [
            f"假设：{ahead['from']}–{ahead['to']} 在 {ahead['region']} 继续缴费（{ahead['months']}"
            f" 个月），缴费基数为社平工资的 {ahead['base_ratio']} 倍{'（上月比例）' if last else ''}；"
            f"社平工资年增长 {growth}{'（按今天的币值）' if today else ''}；"
            f"记账利率 {ahead['interest_rate_zh']}",
            f"assumptions: paying on {ahead['from']}–{ahead['to']} ({ahead['months']} months)"
            f" in {ahead['region']} at {ahead['base_ratio']} × the average wage"
            f"{' (the last month’s)' if last else ''}; wage growth {growth} a year"
            f"{' (in today’s money)' if today else ''}; interest {ahead['interest_rate_en']}",
        ]
        for s in data["scenarios"]:
            ladder = ", ".join(
                f"{row['base_ratio']}: {fen_to_yuan_str(row['total_fen'])}"
                for row in s["projection"]["ladder"]
            )
            lines += [
                f"多缴多得（{s['scenario']}），元/月：{ladder}",
                f"paying more ({s['scenario']}), yuan/month: {ladder}",
            ]
    else:
        lines += ["只计已缴月份（不计今后的月份）", "months paid so far only (no months ahead)"]
    if "difference_fen" in data:
        difference = fen_to_yuan_str(data["difference_fen"]["total_fen"])
        lines += [
            f"差额：{difference} 元/月；{'；'.join(data['causes_zh'])}",
            f"difference: {difference} yuan/month; {'; '.join(data['causes'])}",
        ]
    return lines
