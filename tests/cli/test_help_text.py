"""Every help text of ``suiren`` is Chinese first, then English: ``中文 / English``.

The commands are found in the Typer app, every group and command at any depth, so a new
command, group, argument or option without a bilingual help fails here. For each:

- its short help (the first paragraph, the line ``suiren --help`` and ``suiren GROUP
  --help`` list) and the help of each of its arguments and options start with Chinese and
  carry the English after `` / ``;
- no help holds reStructuredText markup (a double backquote is printed as it is);
- no help loses text to Rich's markup (``[scheme]`` would be read as a style tag and
  vanish from the screen).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.markup import render
from typer.main import get_command

from suiren.cli.main import _ITEM, HELP_OPTION, app, reflowed
from tests.cli.runner import invoke

CHINESE_FIRST = re.compile(r"[\u3400-\u9fff]")
ENGLISH = re.compile(r"[A-Za-z]{2,}(?: [A-Za-z]+)*")


def _walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _walk(sub, (*path, name))


COMMANDS = list(_walk(get_command(app)))


def _where(path: tuple[str, ...]) -> str:
    return " ".join(("suiren", *path))


def _bilingual(text: str) -> bool:
    """``中文 / English``: Chinese from the first character, English after a `` / ``."""
    chinese, slash, english = text.partition(" / ")
    return bool(CHINESE_FIRST.match(chinese) and slash and ENGLISH.search(english))


def _short(command: Any) -> str:
    return (command.help or "").strip().split("\n\n")[0]


def _params(command: Any) -> Iterator[tuple[str, str]]:
    for param in command.params:
        if param.name == "help":
            continue
        yield "/".join(getattr(param, "opts", None) or [param.name]), param.help or ""


def test_the_walk_finds_groups_commands_and_options() -> None:
    """The walk reaches nested commands and their options (else the checks check nothing)."""
    paths = {path for path, _ in COMMANDS}
    assert {(), ("contribute",), ("worker", "enrol"), ("transfer", "gather")} <= paths
    options = {name for _, c in COMMANDS for name, _ in _params(c)}
    assert {"--month", "--base", "--resident-id", "--json", "worker_id"} <= options
    assert len(COMMANDS) > 40


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[_where(p) for p, _ in COMMANDS])
def test_short_help_is_chinese_then_english(path: tuple[str, ...], command: Any) -> None:
    short = _short(command)
    assert _bilingual(short), f"{_where(path)}: {short!r}"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[_where(p) for p, _ in COMMANDS])
def test_every_argument_and_option_help_is_chinese_then_english(
    path: tuple[str, ...], command: Any
) -> None:
    wrong = [(name, text) for name, text in _params(command) if not _bilingual(text)]
    assert not wrong, f"{_where(path)}: {wrong}"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[_where(p) for p, _ in COMMANDS])
def test_no_help_holds_markup_that_is_printed_or_eaten(path: tuple[str, ...], command: Any) -> None:
    texts = [("(command)", command.help or ""), *_params(command)]
    for name, text in texts:
        assert "``" not in text, f"{_where(path)} {name}: {text!r}"
        assert render(text).plain == text, f"{_where(path)} {name}: Rich eats part of {text!r}"


def test_checks_refuse_english_only_and_eaten_text() -> None:
    """The predicates themselves: what the old help texts were is refused."""
    assert not _bilingual("Reverse a transaction (红冲) with a new, negating transaction.")
    assert not _bilingual("缴费")
    assert not _bilingual("Workers / 参保人员")
    assert _bilingual("缴费 / Pay contributions")
    assert render("worker_id or resident_id, [scheme]").plain != (
        "worker_id or resident_id, [scheme]"
    )


def _ragged(text: str) -> list[str]:
    """The paragraphs of ``text`` broken across lines (a list's items may be)."""
    return [
        p
        for p in text.strip().split("\n\n")
        if not p.startswith("\b") and any(not _ITEM.match(line) for line in p.splitlines()[1:])
    ]


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[_where(p) for p, _ in COMMANDS])
def test_every_help_paragraph_is_one_line_for_the_terminal_to_wrap(
    path: tuple[str, ...], command: Any
) -> None:
    """A docstring's line breaks are not printed: Typer kept them, so the list of commands
    showed ``Pay`` / ``contributions for a month`` / ``(--month) or a range``."""
    assert not _ragged(command.help or ""), f"{_where(path)}: {command.help!r}"


def test_reflowing_joins_lines_with_a_space_or_nothing_between_chinese() -> None:
    assert _ragged("Pay contributions for a month\n(--month) or a range")
    assert reflowed(
        "缴费：单月（--month）、连续\n月份 / Pay for a month\n(--month)\n\nMore\ntext."
    ) == ("缴费：单月（--month）、连续月份 / Pay for a month (--month)\n\nMore text.")
    assert reflowed("Steps:\n- one\n- two") == "Steps:\n- one\n- two"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[_where(p) for p, _ in COMMANDS])
def test_the_help_option_is_chinese_then_english(
    path: tuple[str, ...], command: Any, tmp_path: Path
) -> None:
    """``--help`` itself, on every command and group: click's ``Show this message and exit.``
    was the one English-only line of every help page."""
    shown = invoke([*path, "--help"], {}, tmp_path)
    assert shown.returncode == 0, shown.stderr
    help_line = [line for line in shown.stdout.splitlines() if "--help" in line]
    assert help_line and _bilingual(HELP_OPTION), shown.stdout
    assert "显示此帮助并退出" in help_line[0], f"{_where(path)}: {help_line}"
