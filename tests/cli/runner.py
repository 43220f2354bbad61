"""The CLI tests' one runner: ``suiren ...`` in-process, answering like a subprocess would.

``runner(url, extra, cwd)`` returns ``run(*args, today=..., input=None)``, which calls
``suiren.cli.main.main()`` with ``sys.argv`` patched and returns a ``Done`` with
``returncode``, ``stdout`` and ``stderr``, as ``subprocess.run`` did when each command was a
``python -m suiren.cli.main`` process (about a second each; two such smoke tests are left,
in test_pension_cli.py). For the duration of each call only:

- the environment is what the subprocess got: every ``SUIREN_*`` variable and ``PGOPTIONS``
  removed, then ``SUIREN_DATABASE_URL``, ``SUIREN_SECRET_KEY``, ``SUIREN_TODAY`` and the
  ``extra`` ones (``PGOPTIONS`` for a PostgreSQL schema: libpq reads it when it connects)
  set; the command reads them in ``Context.build()``;
- the working directory is ``cwd``; stdin is ``input`` (empty if none);
- stdout and stderr are captured; the exit status is the process's: ``SystemExit``'s code
  (None is 0, a message is printed and is 1), and an unhandled exception prints its
  traceback on stderr and is 1;
- every engine the command makes (``Context.build()`` makes one per command) is recorded
  and disposed afterwards: a process would close its connections on exit, and hundreds of
  commands in one process would otherwise exhaust PostgreSQL's ``max_connections``;
- Typer's click command tree of the app is built on the first call and used again by the
  next ones (``typer.main.get_command``, which a process calls once: about 10 ms of CPU a
  command, two fifths of tests/cli/test_bad_input.py's time). click runs one command tree
  many times, as its own test runner does: each call parses its arguments into a context
  of its own.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import sys
import traceback
from collections.abc import Callable, Sequence
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer.main
from sqlalchemy import Engine

import suiren.store.db
from suiren.cli.main import main

TODAY = "2026-06-15"
SECRET = base64.b64encode(b"k" * 32).decode()


@dataclass(frozen=True)
class Done:
    """What ``subprocess.run(..., capture_output=True, text=True)`` returned."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str


Run = Callable[..., Done]


def _exit_status(exc: SystemExit) -> int:
    """The status a process ends with on ``SystemExit`` (as the interpreter decides it)."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


_BUILT: dict[int, Any] = {}  # id(Typer app) -> its click command, built once
_build_command = typer.main.get_command


def _command_built_once(app: typer.Typer) -> Any:
    command = _BUILT.get(id(app))
    if command is None:
        command = _BUILT[id(app)] = _build_command(app)
    return command


def invoke(args: Sequence[str], env: dict[str, str], cwd: Path, input: str | None = None) -> Done:
    """``suiren *args`` in-process with ``env`` as the SUIREN_* environment, in ``cwd``."""
    real_make_engine = suiren.store.db.make_engine
    made: list[Engine] = []

    def make_engine(*a: Any, **kw: Any) -> Engine:
        engine = real_make_engine(*a, **kw)
        made.append(engine)
        return engine

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("SUIREN_") or name == "PGOPTIONS":
                patch.delenv(name)
        for name, value in env.items():
            patch.setenv(name, value)
        patch.chdir(cwd)
        patch.setattr(sys, "argv", ["suiren", *args])
        patch.setattr(sys, "stdin", io.StringIO(input or ""))
        patch.setattr(typer.main, "get_command", _command_built_once)
        # every module that imported make_engine by name (suiren.cli.context does)
        for module in [m for name, m in sys.modules.items() if name.startswith("suiren")]:
            if getattr(module, "make_engine", None) is real_make_engine:
                patch.setattr(module, "make_engine", make_engine)
        try:
            with redirect_stdout(out), redirect_stderr(err):
                try:
                    main()
                    status = 0
                except SystemExit as exc:
                    status = _exit_status(exc)
                except Exception:
                    traceback.print_exc()  # what the interpreter prints; the process exits 1
                    status = 1
        finally:
            for engine in made:
                engine.dispose()
    return Done(["suiren", *args], status, out.getvalue(), err.getvalue())


def runner(url: str, extra: dict[str, str], cwd: Path) -> Run:
    """``run(*args, today=TODAY, input=None)`` against the database at ``url``."""
    env = extra | {"SUIREN_DATABASE_URL": url, "SUIREN_SECRET_KEY": SECRET}

    def run(*args: str, today: str = TODAY, input: str | None = None) -> Done:
        return invoke(args, env | {"SUIREN_TODAY": today}, cwd, input)

    return run


CJK = re.compile(r"[\u4e00-\u9fff]")
TITLE = re.compile(
    r"错误：(?P<zh>[^（\n]+)（(?P<en>[^）\n]+)）\n(?:详情：(?P<detail>[^\n]+)\n)?error: "
)


def title_of(stderr: str) -> tuple[str, str]:
    """(Chinese, English) kind of a refusal printed on stderr: its first line is
    ``错误：<kind>（<English kind>）`` and its second starts ``error: ``."""
    found = TITLE.match(stderr)
    assert found is not None, stderr
    return found["zh"], found["en"]


def detail_zh(done: Done) -> str | None:
    """The Chinese line of a refusal's message (``详情：…``, before ``error: …``), or with
    ``--json`` its ``message_zh``; None where the message has no Chinese yet."""
    if "--json" in done.args:
        return json.loads(done.stderr)["error"]["message_zh"]  # type: ignore[no-any-return]
    found = TITLE.match(done.stderr)
    assert found is not None, done.stderr
    return found["detail"]


def refusal(done: Done) -> str:
    """The message of a refused command (exit 2, nothing on stdout): on stderr the kind of
    refusal in Chinese (and English), then what was wrong — ``详情：<中文>`` where the message
    has it, and ``error: <English>``; or with ``--json`` a JSON object with the error's code,
    field, message and message_zh. Returns the message: its Chinese line, if any, and the
    ``error: …`` part."""
    assert (done.returncode, done.stdout) == (2, ""), (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    if "--json" in done.args:
        error = json.loads(done.stderr)["error"]
        assert error["code"] and error["message"], error
        chinese = error["message_zh"]
        assert chinese is None or CJK.search(chinese), error
        return ("" if chinese is None else f"详情：{chinese}\n") + f"error: {error['message']}"
    chinese, english = title_of(done.stderr)
    assert CJK.search(chinese) and english.isascii(), done.stderr  # the kind, Chinese first
    detail = detail_zh(done)
    assert detail is None or CJK.search(detail), done.stderr  # the message, Chinese first
    return done.stderr.split("\n", 1)[1]
