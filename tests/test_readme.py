"""The README's tour runs as written: its shell block, in a fresh folder — every command must
succeed and say what the README says it does.

Its ``suiren`` commands (about thirty) run through a warm launcher (tests/cli_forkserver.py: the CLI
imported once, one forked process per command, with the command's own arguments,
environment, files and exit status), so that the tour costs its work, not as many imports;
the installed entry point itself is proven by the subprocess smoke tests in tests/cli."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_forkserver import SOCKET_ENV, stop

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 900
LAUNCHER = Path(__file__).with_name("cli_forkserver.py")


def tour_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## A tour", 1)[1]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


@pytest.mark.slow
def test_the_readme_tour_runs_as_written(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    bin_dir = tmp_path / ".venv" / "bin"  # the tour starts with ". .venv/bin/activate"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(sys.executable)
    (bin_dir / "activate").write_text(
        f'export VIRTUAL_ENV="{bin_dir.parent}"\nexport PATH="$VIRTUAL_ENV/bin:$PATH"\n'
    )
    suiren = bin_dir / "suiren"
    suiren.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "{LAUNCHER}" --client "$@"\n')
    suiren.chmod(0o755)
    script = tmp_path / "tour.sh"
    script.write_text("set -euo pipefail\n" + tour_block(), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUIREN_") and k != "PGOPTIONS"}
    socket_path = str(tmp_path / "suiren.sock")
    env[SOCKET_ENV] = socket_path
    server = subprocess.Popen(
        [sys.executable, str(LAUNCHER), socket_path], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None and server.stdout.readline() == "ready\n"
        done = subprocess.run(
            ["bash", str(script)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
    finally:
        stop(socket_path)
        server.wait(timeout=60)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "343116" in out  # the Tianjin table, to the fen
    assert "[重放]" in out and "[replayed]" in out  # the second 2025 payment changed nothing
    assert "入账 2，重放 0，拒绝 1" in out and "posted 2, replayed 0, refused 1" in out
    assert "below" not in done.stderr and "Traceback" not in done.stderr
    assert (tmp_path / "refused.csv").read_text().splitlines()[1].startswith("3,base_yuan,")
    assert out.count("核验通过：") == out.count("\nok: ") == 2 and "the checkpoint of" in out
    assert "的所有登录会话，其须重新登录\nevery session of worker W" in out  # sessions-end
    assert "[completed]" in out and "净额 330100：" in out and "net 330100: " in out
    assert "current_law" in out and "money_follows_person" in out
    assert (tmp_path / "suiren.db.key").stat().st_mode & 0o077 == 0


def test_every_variable_the_readmes_commands_use_is_set_in_them() -> None:
    """A new user pastes the README's blocks in order: a variable one uses (``$KEY``,
    ``$PLATFORM_KEY``, ``$RESIDENT_ID``, ``$PASSWORD``) is set in a block before it, else
    the command runs with nothing in its place (a 401, an empty password)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in text.split("```sh\n")[1:]]
    set_before: set[str] = set()
    unset = []
    for block in blocks:
        for line in block.splitlines():
            code = line.split("  #", 1)[0]
            used = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", code))
            unset += [f"${name}: {line.strip()}" for name in sorted(used - set_before)]
            set_before |= set(re.findall(r"(?:^|[\s;(])(?:export\s+)?([A-Z][A-Z0-9_]*)=", code))
            set_before |= set(re.findall(r"\bread\s+(?:-\w+\s+)*([A-Z][A-Z0-9_]*)", code))
    assert unset == [], unset
