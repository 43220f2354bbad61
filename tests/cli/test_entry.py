"""What every command pays before it starts, and the one catch-all for a database's refusal."""

from __future__ import annotations

import base64
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.runner import invoke
from tests.conftest import SECRET

HEAVY = ("sqlalchemy", "psycopg", "pydantic", "pyarrow", "numba", "holidays", "rich.progress")


def test_the_entry_point_loads_no_database_nor_table_code() -> None:
    """The commands are registered without importing what only some of them need (the
    database, the settings, Arrow, the compiled kernels): `suiren --help` or a pension
    calculation starts in a third of a second, not a second."""
    probe = (
        "import sys, suiren.cli.main as m; "
        f"print(','.join(n for n in {HEAVY!r} if n in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "", f"loaded at start-up: {done.stdout.strip()}"


def test_a_database_that_refuses_exits_1_with_a_message_and_no_traceback(tmp_path: Path) -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/suiren_no_such_database"
    env = {"SUIREN_DATABASE_URL": url, "SUIREN_SECRET_KEY": base64.b64encode(SECRET).decode()}
    done = invoke(["worker", "statement", "W000000000001"], env, tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("错误：数据库拒绝了请求")  # Chinese first, then English
    assert "the database refused the request (OperationalError)" in done.stderr
    assert "Traceback" not in done.stderr and "suiren_no_such_database" not in done.stderr


def test_python_dash_m_suiren_is_the_command_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``PYTHONPATH=src python -m suiren …`` (a checkout without the entry point installed)
    runs the same command line: it was "No module named suiren.__main__"."""
    monkeypatch.setattr(sys, "argv", ["suiren", "pension", "--help"])
    try:
        runpy.run_module("suiren", run_name="__main__", alter_sys=True)
    except SystemExit as ended:
        assert ended.code in (0, None)
    assert "养老金测算 / Pension calculation" in capsys.readouterr().out
