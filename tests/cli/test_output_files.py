"""The files the CLI writes (``--out``, ``--errors``): whole or not at all, and a place no
file can be written refused (exit 2, the reason), never a traceback (services/output_files).

``pension calc --out`` wrote its JSON in place: a write that failed half-way (a full disk, a
file size limit) left half a file where the earlier one was, and ended in a traceback; so
did a place the option's check lets through but no file can be made at (``/proc`` for
root). ``--errors`` was truncated when the run began and lost with a run that failed; a map
of resident ids that could not be written was refused only after the workers were enrolled.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.runner import Run, invoke, refusal, runner, title_of
from tests.cli.test_pension_cli import RULES_DATE, WORKED
from tests.ledger_helpers import resident_id

CASE = {k: v for k, v in WORKED.items() if k != "id"}  # the pension CLI's worked case
FILE_BYTES_MAX = 4096  # RLIMIT_FSIZE of the process: a larger file cannot be written whole
LINUX_PROC = pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")


def _limited() -> None:  # in the child, before it runs Python: a "disk" that fills at 4 KiB
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_BYTES_MAX, resource.RLIM_INFINITY))


@pytest.mark.parametrize("suffix", [".json", ".parquet"])
def test_results_that_cannot_be_written_whole_leave_the_earlier_file(
    tmp_path: Path, suffix: str
) -> None:
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps([CASE | {"id": f"case-{n:05d}"} for n in range(2_000)]))
    target = tmp_path / f"results{suffix}"
    target.write_text("an earlier result\n")
    command = [sys.executable, "-m", "suiren.cli.main", "pension", "calc", str(cases)]
    command += ["--date", RULES_DATE, "--out", str(target)]
    env = os.environ | {"PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=120, preexec_fn=_limited, env=env
    )
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    assert title_of(done.stderr) == ("输入无效", "Invalid input")
    assert "详情：--out：无法写入 " in done.stderr, done.stderr
    assert "error: --out: cannot write " in done.stderr, done.stderr
    assert target.read_text() == "an earlier result\n"  # not half of the new one
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases.json", target.name]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases.json", target.name]


@LINUX_PROC
@pytest.mark.parametrize("out", ["/proc/suiren-results.json", "/proc/suiren-results.parquet"])
def test_a_place_where_no_file_can_be_made_is_refused(tmp_path: Path, out: str) -> None:
    done = invoke(
        ["pension", "calc", "-", "--date", RULES_DATE, "--out", out], {}, tmp_path, json.dumps(CASE)
    )
    assert "cannot write" in refusal(done), done.stderr


def test_a_device_is_not_replaced_and_a_link_is_written_through(tmp_path: Path) -> None:
    """A link is followed (the file it names is replaced, the link stays), and a device at
    its end is refused, not replaced by a file (root could have replaced /dev/null)."""
    (tmp_path / "device.json").symlink_to(os.devnull)
    done = invoke(
        ["pension", "calc", "-", "--date", RULES_DATE, "--out", "device.json"],
        {},
        tmp_path,
        json.dumps(CASE),
    )
    assert "not a regular file" in refusal(done)
    assert Path(os.devnull).is_char_device()
    real = tmp_path / "real.json"
    real.write_text("an earlier result\n")
    (tmp_path / "link.json").symlink_to(real)
    done = invoke(
        ["pension", "calc", "-", "--date", RULES_DATE, "--out", "link.json"],
        {},
        tmp_path,
        json.dumps(CASE),
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "link.json").is_symlink()
    assert json.loads(real.read_text())["total_fen"] > 0


def test_a_run_that_fails_leaves_the_earlier_errors_report_whole(
    database_url: tuple[str, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash after the first batch (its refused rows written to the report) used to leave
    the report's first lines where the earlier report was; now the earlier one stays."""
    import suiren.services.intake as intake

    url, extra = database_url
    cli = runner(url, extra | {"SUIREN_INTAKE_CHUNK_ROWS": "1"}, tmp_path)
    payments = tmp_path / "pay.csv"
    payments.write_text(
        "payment_id,month,base_yuan,worker_id\n"
        + "".join(f"p{n},2026-01,6000,WNOSUCHWORKER{n}\n" for n in range(3))
    )
    report = tmp_path / "errors.csv"
    report.write_text("an earlier report\n")
    real = intake.post_payments
    calls = {"n": 0}

    def crash_on_second(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the connection was lost")
        return real(*args, **kwargs)

    monkeypatch.setattr(intake, "post_payments", crash_on_second)
    done = cli("contribute", "--file", str(payments), "--errors", str(report))
    assert "the connection was lost" in done.stderr and done.returncode == 1
    assert report.read_text() == "an earlier report\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    monkeypatch.setattr(intake, "post_payments", real)
    done = cli("contribute", "--file", str(payments), "--errors", str(report))
    assert done.returncode == 1, done.stderr  # every row refused: no such worker
    assert len(report.read_text().splitlines()) == 1 + 3
    assert stat.S_IMODE(report.stat().st_mode) == 0o600


@LINUX_PROC
def test_a_map_that_cannot_be_written_is_refused_before_anyone_is_enrolled(
    cli: Run, tmp_path: Path
) -> None:
    workers = tmp_path / "workers.csv"
    workers.write_text(f"resident_id,work_region\n{resident_id(40)},440100\n")
    done = cli("worker", "enrol", "--file", str(workers), "--out", "/proc/suiren-map.csv")
    assert "cannot write" in refusal(done)
    done = cli("worker", "enrol", "--file", str(workers), "--json")
    assert json.loads(done.stdout)["created"] == 1, done.stdout  # nobody enrolled before


def test_an_output_that_is_an_input_or_another_output_is_refused_before_anything(
    cli: Run, tmp_path: Path
) -> None:
    """``--errors`` or ``--out`` naming the file being read (or a link to it) replaced the
    bank's payments file with its own error report when the run ended — the file the agency
    must correct and send again — and two outputs at one path kept only the last one
    written. Each is refused before a row is read (exit 2), every file left as it was."""
    workers = tmp_path / "workers.csv"
    workers.write_text(f"resident_id,work_region\n{resident_id(40)},440100\nbad,440100\n")
    payments = tmp_path / "payments.csv"
    payments.write_text(
        f"payment_id,month,base_yuan,resident_id\np,2026-01,6000,{resident_id(40)}\n"
    )
    stints = tmp_path / "stints.csv"
    stints.write_text(
        "resident_id,region,from_month,to_month,kind,base_yuan\n"
        f"{resident_id(41)},440100,2010-01,2010-12,paid,5000\n"
    )
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps(CASE))
    (tmp_path / "link.csv").symlink_to(payments)
    map_ = str(tmp_path / "map.csv")
    commands = [
        (["worker", "enrol", "--file", str(workers), "--out", str(workers)], "--file"),
        (["worker", "enrol", "--file", str(workers), "--errors", str(workers)], "--file"),
        (["worker", "enrol", "--file", str(workers), "--out", map_, "--errors", map_], "--out"),
        (["contribute", "--file", str(payments), "--errors", str(tmp_path / "link.csv")], "--file"),
        (["worker", "import-history", str(stints), "--errors", str(stints)], "FILE"),
        (
            ["worker", "import-history", str(stints), "--balances", map_, "--out", map_],
            "--balances",
        ),
        (["pension", "calc", str(cases), "--date", RULES_DATE, "--out", str(cases)], "FILE"),
    ]
    Path(map_).write_text("resident_id,region,account_yuan,as_of\n")  # a balances file too
    before = {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file() and p.suffix != ".db"}
    for args, other in commands:
        said = refusal(cli(*args))
        assert f"is the same file as {other}" in said and f"与 {other} 是同一个文件" in said
    assert {p: p.read_bytes() for p in before} == before
    done = cli("worker", "enrol", "--file", str(workers), "--json")
    assert json.loads(done.stdout)["created"] == 1  # nobody was enrolled by the refused runs
