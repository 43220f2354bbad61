"""How a refused command says why: the kind of refusal, then the message in Chinese, then in
English (cli/main.py ``refusal_text``), for the common input checks — a month, a base, a
region, a resident id — and with ``--json`` the same two halves as ``message_zh`` and
``message``. The option parsers refuse before any database is opened, so none is needed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.runner import CJK, invoke
from tests.ledger_helpers import resident_id

WRONG_CHECK = resident_id(5)[:17] + ("0" if resident_id(5)[17] != "0" else "1")
CASES = {
    "month": (
        ["contribute", "W1", "--month", "2026-13", "--base", "6000", "--id", "p"],
        "--month 须为：YYYY-MM 格式的月份（1900 至 2200 年）；收到 '2026-13'",
        "--month must be YYYY-MM, a month from 1900 to 2200, got '2026-13'",
    ),
    "base": (
        ["contribute", "W1", "--month", "2026-01", "--base", "６０００", "--id", "p"],
        "；请用半角数字 0-9 输入",
        "type the digits as ASCII 0-9",
    ),
    "region": (
        ["worker", "enrol", "--resident-id", resident_id(5), "--work-region", "999999"],
        "未知的行政区划代码 999999（GB/T 2260）",
        "unknown region code 999999 (GB/T 2260)",
    ),
    "resident id": (
        ["worker", "enrol", "--resident-id", WRONG_CHECK, "--work-region", "440100"],
        "身份号码的校验码不符（GB 11643-1999）",
        "the resident id's check character does not match (GB 11643-1999)",
    ),
}


@pytest.mark.parametrize(("args", "chinese", "english"), CASES.values(), ids=list(CASES))
def test_the_message_is_in_chinese_then_english(
    args: list[str], chinese: str, english: str, tmp_path: Path
) -> None:
    done = invoke(args, {}, tmp_path)
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    kind, detail, error = done.stderr.rstrip("\n").split("\n")
    assert kind.startswith("错误：") and CJK.search(kind)
    assert detail.startswith("详情：") and chinese in detail
    assert error.startswith("error: ") and english in error and not CJK.search(error)


@pytest.mark.parametrize(("args", "chinese", "english"), CASES.values(), ids=list(CASES))
def test_json_carries_both_halves(
    args: list[str], chinese: str, english: str, tmp_path: Path
) -> None:
    done = invoke([*args, "--json"], {}, tmp_path)
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    error = json.loads(done.stderr)["error"]
    assert chinese in error["message_zh"] and english in error["message"]
    assert error["code"] in ("invalid-input", "unknown-region", "invalid-resident-id")


def test_a_command_lines_own_check_says_it_in_both_languages(tmp_path: Path) -> None:
    """``--out`` and ``--errors`` without ``--file``: the command line's own check, three
    lines as every catalogue message."""
    done = invoke(["worker", "enrol", "--out", str(tmp_path / "map.csv")], {}, tmp_path)
    assert done.returncode == 2
    assert done.stderr.rstrip("\n").split("\n") == [
        "错误：输入无效（Invalid input）",
        "详情：--out 和 --errors 须与 --file 同用",
        "error: --out and --errors go with --file",
    ]


def test_a_message_not_in_the_catalogue_has_no_chinese_line(tmp_path: Path) -> None:
    """``SUIREN_SCENARIO`` naming no scenario (an operator's setting, one of the English-only
    kinds ``tests/domain/test_messages.py`` lists): the kind line is followed by ``error:``
    alone."""
    args = ["worker", "enrol", "--resident-id", resident_id(5), "--work-region", "440100"]
    done = invoke(args, {"SUIREN_SCENARIO": "no_such"}, tmp_path)
    assert done.returncode == 2
    kind, error = done.stderr.rstrip("\n").split("\n")
    assert kind == "错误：输入无效（Invalid input）"
    assert error.startswith("error: unknown scenario 'no_such'; choose one of current_law")
