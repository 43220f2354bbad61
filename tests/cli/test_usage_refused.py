"""A command line Typer refuses before any command runs (cli/usage.py) is said as every other
refusal: exit 2, the kind in Chinese first, ``详情：`` in Chinese, ``error: `` in English (or
with ``--json`` the error as JSON, ``message_zh`` beside ``message``), then the command's
usage line and where its help is. It was click's English alone: ``Error: No such option``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.runner import detail_zh, invoke, refusal

CASES = {
    "an unknown command": (["nosuch"], "没有命令 'nosuch'", "No such command 'nosuch'."),
    "an unknown option": (
        ["pension", "calc", "--ou", "x.json"],
        "没有选项 --ou（可用的选项：--out）",
        "No such option: --ou (Possible options: --out)",
    ),
    "a missing argument": (
        ["pension", "estimate"],
        "缺少参数 'WORKER'",
        "Missing argument 'WORKER'.",
    ),
    "a missing option": (
        ["transfer", "gather", "W1"],
        "缺少选项 '--id'",
        "Missing option '--id'.",
    ),
    "an option without its value": (
        ["contribute", "W1", "--month"],
        "选项 '--month' 须带一个值",
        "Option '--month' requires an argument.",
    ),
    "a flag given a value": (
        ["pension", "calc", "--strict=yes"],
        "选项 '--strict' 不带值",
        "Option '--strict' does not take a value.",
    ),
    "an argument too many": (
        ["worker", "statement", "W1", "W2"],
        "多余的参数（W2）",
        "Got unexpected extra argument(s) (W2)",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_refused_command_line_is_said_in_chinese_then_english(tmp_path: Path, case: str) -> None:
    args, chinese, english = CASES[case]
    done = invoke(args, {}, tmp_path)
    said = refusal(done)  # exit 2, nothing on stdout, 错误：输入无效（Invalid input）first
    assert detail_zh(done) == chinese, done.stderr
    assert said.split("\n")[1] == f"error: {english}", done.stderr
    assert "Error:" not in done.stderr  # click's own line is not printed as well
    if done.stderr.count("\n") > 3:  # where click knows the command: its usage and help
        assert "\nUsage: suiren " in done.stderr
        assert done.stderr.rstrip().endswith("--help' for help."), done.stderr
    as_json = invoke([*args, "--json"], {}, tmp_path)
    error = json.loads(as_json.stderr)["error"]
    assert (as_json.returncode, as_json.stdout) == (2, "")
    assert error["code"] == "invalid-input" and error["message_zh"], error


def test_a_missing_options_field_is_named_as_the_other_refusals_name_it(tmp_path: Path) -> None:
    done = invoke(["clerk", "add", "--login", "gz.li", "--json"], {}, tmp_path)
    assert json.loads(done.stderr)["error"]["field"] == "--region"


def test_a_group_without_its_command_still_shows_its_help(tmp_path: Path) -> None:
    done = invoke(["transfer"], {}, tmp_path)
    assert "Usage: suiren transfer" in done.stdout + done.stderr
    assert "错误" not in done.stderr and "Traceback" not in done.stderr
