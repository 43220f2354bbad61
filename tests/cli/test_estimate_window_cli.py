"""``suiren pension estimate``: the elective retirement window (弹性退休区间) in the text and
the JSON, its warnings, and ``--strict`` refusing them (exit 2, nothing on stdout).

The worker is born 1990-01 (a man, tests/ledger_helpers.resident_id), insured in Guangzhou.
By hand from the 2025 reform's annex 1 and 第三条: 1990-01 is 300 months after 1965-01,
300 // 4 + 1 = 76 months' delay, capped at 36 → 63y0m, 2053-01; earliest max(60y0m, 63y0m −
36m) = 60y0m → 2050-01; latest 66y0m → 2056-01; late settled by 2052-12.
"""

from __future__ import annotations

import json

from tests.bilingual import CJK, all_said_problems, english_words, said_problems
from tests.cli.runner import Run, refusal
from tests.cli.test_transfer_cli import enrol_and_pay, ok_json


def test_the_window_is_shown_and_a_month_outside_it_warned(cli: Run) -> None:
    worker_id = enrol_and_pay(cli, 31)
    estimate = ok_json(cli("pension", "estimate", worker_id, "--retire", "2050-01", "--json"))
    for s in estimate["scenarios"]:
        window = s["retirement_window"]
        assert (window["statutory_month"], window["earliest_month"], window["latest_month"]) == (
            "2053-01",
            "2050-01",
            "2056-01",
        )
        assert (window["chosen"], window["chosen_in_window"], window["late_apply_by"]) == (
            "early",
            True,
            "2052-12",
        )
        assert "outside-retirement-window" not in [w["code"] for w in s["warnings"]]
    text = cli("pension", "estimate", worker_id, "--retire", "2049-12", "--scenario",
               "current_law").stdout  # fmt: skip
    zh, en = text.splitlines()[:2]
    assert (
        zh.startswith("弹性退休区间：最早 2050-01（60岁0个月，")
        and "法定 2053-01（63岁0个月）" in zh
    )
    assert en.startswith("retirement window: earliest 2050-01 (60y0m,")
    assert "statutory 2053-01 (63y0m)" in en
    assert "最晚 2056-01" in zh and "须于 2052-12 前向社保经办机构申请" in zh
    assert "latest 2056-01" in en and "apply to the agency by 2052-12" in en
    assert zh.endswith("所选：弹性提前 — 不在区间内") and en.endswith("chosen: early — outside")
    assert "apply by 2049-09" not in text  # no deadline for a month outside
    assert "不在弹性退休区间 2050-01–2056-01 内" in text  # the warning, printed as a note
    outside = json.loads(
        cli("pension", "estimate", worker_id, "--retire", "2056-02", "--json").stdout
    )
    assert outside["scenarios"][0]["warnings"][0]["code"] == "outside-retirement-window"


def test_strict_refuses_a_month_outside_the_window(cli: Run) -> None:
    worker_id = enrol_and_pay(cli, 32)
    done = cli("pension", "estimate", worker_id, "--retire", "2056-02", "--strict")
    message = refusal(done)
    assert "outside-retirement-window" in message and "2050-01" in message
    # in the window, --strict still refuses the next warning: 5 months paid are short of
    # the 20 years of one reaching 63 in 2053 (paying on is assumed: the months ahead count)
    done = cli("pension", "estimate", worker_id, "--retire", "2050-01", "--paid-only", "--strict")
    assert "below-minimum-years" in refusal(done)


def test_a_month_at_an_age_without_a_divisor_is_refused_as_the_estimates(cli: Run) -> None:
    """Retiring at 36y6m or at 70y1m: the table of 计发月数 covers 40 to 70; the refusal says the
    month and the ages (it said "case 0 … give divisor_months", the calculator's words)."""
    worker_id = enrol_and_pay(cli, 34)
    for month, age in (("2026-07", "36 years 6 months"), ("2060-02", "70 years 1 months")):
        message = refusal(cli("pension", "estimate", worker_id, "--retire", month))
        assert f"retiring in {month} is at {age}" in message and "40 to 70" in message, message
        assert "case 0" not in message and "divisor_months" not in message
    at_seventy = cli("pension", "estimate", worker_id, "--retire", "2060-01", "--json")
    assert at_seventy.returncode == 0, at_seventy.stderr  # 70y0m has its divisor (56)


def test_paid_only_with_an_assumption_ahead_is_refused(cli: Run) -> None:
    """--paid-only counts no month ahead; --base-ratio, --wage-growth or --interest beside it
    was dropped without a word."""
    worker_id = enrol_and_pay(cli, 35)
    for option, value in (("--base-ratio", "2"), ("--wage-growth", "0"), ("--interest", "0")):
        done = cli("pension", "estimate", worker_id, "--paid-only", option, value)
        assert f"{option}, an assumption about the months ahead" in refusal(done)
    ok_json(cli("pension", "estimate", worker_id, "--paid-only", "--json"))


def test_a_refused_rate_shows_an_example_inside_its_range(cli: Run) -> None:
    """The example was 0.6 for every rate, outside --wage-growth's and --interest's range."""
    worker_id = enrol_and_pay(cli, 36)
    for option, example in (
        ("--wage-growth", "0.03"),
        ("--interest", "0.02"),
        ("--base-ratio", "1.5"),
    ):
        message = refusal(cli("pension", "estimate", worker_id, option, "9"))
        assert f"such as {example}" in message, message


def test_explain_says_each_step_chinese_first_and_the_difference_too(cli: Run) -> None:
    """``--explain``: each scenario's steps, the name 中文 / English, then the formula in
    Chinese (no English word) and in English (no Chinese); the difference's causes the same."""
    worker_id = enrol_and_pay(cli, 33)
    text = cli("pension", "estimate", worker_id, "--explain").stdout
    lines = [line.strip() for line in text.splitlines()]
    for name in ("current_law", "money_follows_person"):
        at = lines.index(f"计算过程（{name}）：")
        assert lines[at + 1] == f"how it is computed ({name}):"
        assert lines[at + 2].startswith("1. 弹性退休区间：")
        assert lines[at + 3].startswith("elective retirement window: ")
    formulas = [line for line in lines if line.startswith(("公式：", "formula: "))]
    chinese, english = formulas[0::2], formulas[1::2]
    assert len(chinese) == len(english) >= 2 * 8
    for zh, en in zip(chinese, english, strict=True):
        assert zh.startswith("公式：") and CJK.search(zh[3:]) and english_words(zh[3:]) == [], zh
        assert en.startswith("formula: ") and not CJK.search(en), en
    [zh] = [line for line in lines if line.startswith("差额：")]
    assert lines[lines.index(zh) + 1] == (
        f"difference: {zh.removeprefix('差额：').partition(' ')[0]} yuan/month;"
        " no difference in paying province, temporary accounts or money left behind"
    )
    assert zh.endswith(" 元/月；待遇领取地、临时账户和留在原参保地的统筹基金均无差别"), zh
    assert "计算过程" not in cli("pension", "estimate", worker_id).stdout  # asked for only


def test_warnings_and_assumptions_are_said_in_chinese_then_in_english(cli: Run) -> None:
    """Each warning of an estimate carries its message in each language (``message_zh``,
    ``message_en``; ``message`` both), and the text prints them, and the assumptions ahead,
    a Chinese line then an English one; the wage growth is a percentage (0%: today's money)."""
    worker_id = enrol_and_pay(cli, 34)
    warned = [
        ok_json(cli("pension", "estimate", worker_id, *options, "--json"))
        for options in (("--retire", "2049-12"), ("--retire", "2050-01", "--paid-only"))
    ]
    warnings = [w for e in warned for s in e["scenarios"] for w in s["warnings"]]
    assert {"outside-retirement-window", "below-minimum-years"} <= {w["code"] for w in warnings}
    assert all_said_problems(warnings) == []
    for options, growth in ((), "0%（按今天的币值）"), (("--wage-growth", "0.025"), "2.5%"):
        lines = cli("pension", "estimate", worker_id, "--retire", "2049-12", *options).stdout
        lines = [line.strip() for line in lines.splitlines()]
        notes = [line for line in lines if line.startswith(("注意", "note"))]
        assert notes and notes[0::2] == [n for n in notes if n.startswith("注意：")]
        [zh] = [line for line in lines if line.startswith("假设")]
        [en] = [line for line in lines if line.startswith("assumptions")]
        assert lines.index(en) == lines.index(zh) + 1
        for line in [*notes[0::2], zh]:
            assert CJK.search(line) and english_words(line) == [], line
        assert english_words(en) and not CJK.search(en), en
        for note_zh, note_en in zip(notes[0::2], notes[1::2], strict=True):
            # Chinese in the English only as the Chinese names it (a part not modelled)
            record = {"message": f"{note_zh[3:]} / {note_en[6:]}"}
            assert (
                said_problems({**record, "message_zh": note_zh[3:], "message_en": note_en[6:]})
                == []
            )
        assert f"社平工资年增长 {growth}；" in zh
        assert f"wage growth {growth.partition('（')[0]} a year" in en
