"""A command line that Typer (click) refuses before any command runs — an unknown command or
option, a missing argument, an option without its value — said as every other refusal is:
the kind in Chinese first, ``详情：`` in Chinese and ``error: `` in English (cli/main.py
``refusal_text``), or with ``--json`` the error as JSON; then the command's usage line and
where its help is. Click said it in English alone (``Error: No such option: --bogus``).

Click's messages are matched by their exception's class and its English words (Typer ≥ 0.20
vendors click as ``typer._click``: the classes are matched by name, for either); one this
module does not know keeps its English words, quoted in the Chinese line."""

from __future__ import annotations

import re
from typing import Any

from suiren.domain.errors import InvalidInput
from suiren.domain.messages import Text, quoted
from suiren.domain.messages import text as message

_NO_SUCH_COMMAND = re.compile(r"No such command '(?P<name>.*)'\.")
_EXTRA = re.compile(r"Got unexpected extra argument(?:s|\(s\))? \((?P<args>.*)\)")
_NEEDS_VALUE = re.compile(r"Option '(?P<option>[^']*)' requires (?:an argument|\d+ arguments)\.")
_NO_VALUE = re.compile(r"Option '(?P<option>[^']*)' does not take a value\.")


def usage_error(error: Exception) -> bool:
    """Whether ``error`` is click's refusal of a command line (exit 2) that is said here: not
    a command group called without a command, which shows the group's help."""
    names = {cls.__name__ for cls in type(error).__mro__}
    return "UsageError" in names and "NoArgsIsHelpError" not in names


def refusal(error: Any) -> InvalidInput:
    """Click's usage error ``error`` as the CLI's refusal, in both languages."""
    english = error.format_message()
    kind = type(error).__name__
    if kind == "NoSuchOption":
        said = message("usage.no-such-option", option=error.option_name)
        if error.possibilities:
            said = message(
                "usage.possible", said=said, options=", ".join(sorted(error.possibilities))
            )
        return InvalidInput(Text(said.zh, english), field=error.option_name)
    if kind == "MissingParameter":
        hint = _hint(error)
        what = "usage.missing-option" if _param_type(error) == "option" else "usage.missing-arg"
        field = hint.strip("'") or None  # '--id' as the other refusals name it: --id
        return InvalidInput(Text(message(what, name=hint).zh, english), field=field)
    for pattern, code in (
        (_NO_SUCH_COMMAND, "usage.no-such-command"),
        (_EXTRA, "usage.extra"),
        (_NEEDS_VALUE, "usage.needs-value"),
        (_NO_VALUE, "usage.no-value"),
    ):
        found = pattern.fullmatch(error.message)
        if found:
            return InvalidInput(Text(message(code, **found.groupdict()).zh, english))
    if error.message == "Missing command.":
        return InvalidInput(Text(message("usage.missing-command").zh, english))
    return InvalidInput(message("usage.other", said=quoted(english)))


def usage_lines(error: Any) -> str:
    """The command's usage line and where its help is, in both languages ("" without a
    context: nothing is known of the command)."""
    context = error.ctx
    if context is None:
        return ""
    where = message("usage.help", command=f"{context.command_path} {context.help_option_names[0]}")
    return f"{context.get_usage()}\n{where.joined()}"


def _hint(error: Any) -> str:
    hint = error.param_hint
    if hint is None and error.param is not None:
        hint = error.param.get_error_hint()
    if hint is not None and not isinstance(hint, str):
        hint = " / ".join(repr(h) for h in hint)
    return str(hint or "")


def _param_type(error: Any) -> str:
    if error.param_type is not None:
        return str(error.param_type)
    return str(getattr(error.param, "param_type_name", "parameter"))
