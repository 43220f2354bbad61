"""``suiren serve`` compiles (or loads) every loop of the formulas before the first request
needs one (``policy.warm``): after ``make run`` the first worker to open the pension page
waited 26 s for numba on a busy machine (2026-12-03)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# A fresh process: no loop compiled or loaded yet. The warm-up must make each loop the
# formulas use; then a batch of real cases (a determination table, the README's example, a
# parameter look-up big enough for the compiled path) must find every signature it needs.
SCRIPT = """
import json
from datetime import date

import numpy as np

from suiren.domain.month import Month
from suiren.policy import load_policy, pension_kernel
from suiren.policy.contribution import contribution_bounds
from suiren.policy.warm import warm_compiled
from suiren.rules import vector_pairs
from suiren.rules.vector import day_number
from suiren.services.pension_calc import calculate, parse_cases

loops = (*pension_kernel._compile(), *vector_pairs._compiled())
before = [len(loop.signatures) for loop in loops]
policy = load_policy()
warm_compiled(policy)
warmed = [len(loop.signatures) for loop in loops]
case = json.load(open("examples/case.json"))
other = dict(case, region="440100", deemed_years="0", transitional_index=case["average_index"])
calculate(parse_cases([case, other], policy, date(2026, 12, 1)), policy)
rows = vector_pairs.COMPILED_ROWS_MIN
day = day_number(Month.of(2026, 1).first_day())
contribution_bounds(policy, np.full(rows, day, dtype=np.int64), np.full(rows, "440100"))
print(json.dumps({"before": before, "warmed": warmed, "used": [len(l.signatures) for l in loops]}))
"""


def test_the_warm_up_makes_every_loop_a_batch_uses() -> None:
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(root / "src"))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=root, env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert counts["before"] == [0] * len(counts["before"]), "the script's process was not fresh"
    assert all(n >= 1 for n in counts["warmed"]), f"a loop the warm-up did not make: {counts}"
    assert counts["used"] == counts["warmed"], (
        f"a batch compiled what the warm-up had not: {counts}"
    )


def test_serve_starts_the_warm_up_before_it_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64

    import uvicorn

    import suiren.policy.warm
    from suiren.cli.main import serve
    from tests.conftest import SECRET

    monkeypatch.setenv("SUIREN_DATABASE_URL", f"sqlite:///{tmp_path / 'suiren.db'}")
    monkeypatch.setenv("SUIREN_SECRET_KEY", base64.b64encode(SECRET).decode())
    calls: list[str] = []
    monkeypatch.setattr(
        suiren.policy.warm, "warm_in_background", lambda policy: calls.append("warm")
    )
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append("serve"))
    serve(host="127.0.0.1", port=8000, demo=False, seed_only=False, demo_people=100)
    assert calls == ["warm", "serve"]


def test_a_failed_warm_up_is_logged_and_the_server_goes_on(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import suiren.policy.warm as warm
    from suiren.policy import load_policy

    def broken(_policy: Any) -> None:
        raise OSError("no space left on device")

    monkeypatch.setattr(warm, "warm_compiled", broken)
    thread = warm.warm_in_background(load_policy())
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert any("warm-up failed" in r.getMessage() for r in caplog.records), caplog.records
