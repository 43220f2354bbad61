"""Files as a careless agency clerk sends them, on SQLite and PostgreSQL: each malformed cell
is its row's refusal (the good rows posted, or none with ``--all-or-nothing``), a row that
names two workers is refused, and a file that cannot be read is refused before anything is
read or written (exit 2, the reason) — never a traceback."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.cli.runner import Done, Run, refusal, runner
from tests.cli.test_bad_input import COMMANDS
from tests.ledger_helpers import resident_id

HEADER = "payment_id,month,base_yuan,worker_id\n"
BAD_MONTHS = ["", "Jan-2026", "２０２６-01", "2026年1月", "2026-1", "202601", "2026-00", "26-01"]
BAD_BASES = ["6000.001", "-6000", "NaN", "1e3", "６０００", "Infinity", ""]


def enrol(cli: Run, n: int) -> str:
    done = cli(
        "worker", "enrol", "--resident-id", resident_id(n), "--work-region", "440100", "--json"
    )
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["worker_id"])


def months_paid(cli: Run, worker: str) -> list[str]:
    done = cli("worker", "statement", worker, "--json")
    assert done.returncode == 0, done.stderr
    return sorted(m["month"] for m in json.loads(done.stdout)["months"])


def summary(done: Done, status: int) -> dict[str, object]:
    assert done.returncode == status and "Traceback" not in done.stderr, done.stderr
    return dict(json.loads(done.stdout))


def test_each_malformed_month_or_base_is_its_rows_refusal(cli: Run, tmp_path: Path) -> None:
    """A month whose first four or last two characters were not digits ("", "Jan-2026",
    "２０２６-01") beside a good month was cast with the good ones: a traceback for the whole
    chunk (exit 1, no report), where each is a refused row and the good rows are posted."""
    worker = enrol(cli, 40)
    rows = [f"good-1,2026-01,6000,{worker}"]
    rows += [f"m{k},{month},6000,{worker}" for k, month in enumerate(BAD_MONTHS)]
    rows += [f"b{k},2026-02,{base},{worker}" for k, base in enumerate(BAD_BASES)]
    payments = tmp_path / "payments.csv"
    payments.write_text(HEADER + "\n".join(rows) + "\n")
    strict = summary(cli("contribute", "--file", str(payments), "--all-or-nothing", "--json"), 2)
    assert strict["posted"] == 0 and months_paid(cli, worker) == []
    done = summary(cli("contribute", "--file", str(payments), "--json"), 1)
    assert (done["posted"], done["refused"]) == (1, len(BAD_MONTHS) + len(BAD_BASES))
    refused = {(e["row"], e["field"]) for e in done["errors"]}  # type: ignore[union-attr]
    assert refused == {(2 + k, "month") for k in range(len(BAD_MONTHS))} | {
        (2 + len(BAD_MONTHS) + k, "base_yuan") for k in range(len(BAD_BASES))
    }
    assert months_paid(cli, worker) == ["2026-01"]


def test_a_payment_twice_in_a_file_refuses_it_in_chunks_of_one_row(
    database_url: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    """A payment listed twice, the rows a chunk apart: the file passed (exit 0, the second
    "replayed"), even with --all-or-nothing, where the same rows in one chunk were refused."""
    url, extra = database_url
    cli = runner(url, extra | {"SUIREN_INTAKE_CHUNK_ROWS": "1"}, tmp_path)
    worker = enrol(cli, 43)
    payments = tmp_path / "payments.csv"
    payments.write_text(HEADER + f"d1,2026-01,6000,{worker}\nd1,2026-01,6000,{worker}\n")
    strict = summary(cli("contribute", "--file", str(payments), "--all-or-nothing", "--json"), 2)
    assert strict["posted"] == 0 and months_paid(cli, worker) == []
    done = summary(cli("contribute", "--file", str(payments), "--json"), 1)
    assert (done["posted"], done["replayed"], done["refused"]) == (1, 0, 1)
    assert [(e["row"], e["code"]) for e in done["errors"]] == [(2, "duplicate-id")]  # type: ignore[union-attr]


def test_nulls_in_a_parquet_files_required_columns_are_refused_rows(
    cli: Run, tmp_path: Path
) -> None:
    """A null month beside a good one was the same traceback."""
    worker = enrol(cli, 41)
    pq.write_table(
        pa.table(
            {
                "payment_id": ["n1", "n2", None, "n4"],
                "month": ["2026-03", None, "2026-04", "2026-05"],
                "base_yuan": pa.array([6000, 6000, 6000, None], pa.int64()),
                "worker_id": [worker] * 4,
            }
        ),
        tmp_path / "payments.parquet",
    )
    done = summary(cli("contribute", "--file", str(tmp_path / "payments.parquet"), "--json"), 1)
    assert [(e["row"], e["field"]) for e in done["errors"]] == [  # type: ignore[union-attr]
        (2, "month"),
        (3, "payment_id"),
        (4, "base_yuan"),
    ]
    assert months_paid(cli, worker) == ["2026-03"]


def test_a_row_whose_worker_id_and_resident_id_name_two_people_is_refused(
    cli: Run, tmp_path: Path
) -> None:
    """A row with both was paid to its worker_id whatever person its resident_id named (one
    not registered, or another worker): the money of one person posted to another's account
    without a word. Both are now checked: they must name one worker."""
    first, second = enrol(cli, 42), enrol(cli, 43)
    payments = tmp_path / "payments.csv"
    payments.write_text(
        "payment_id,month,base_yuan,worker_id,resident_id\n"
        f"r1,2026-01,6000,{first},{resident_id(42)}\n"  # the same worker: posted
        f"r2,2026-02,6000,{first},{resident_id(43)}\n"  # another worker's id
        f"r3,2026-03,6000,{first},{resident_id(44)}\n"  # nobody registered
        f"r4,2026-04,6000,{first},{resident_id(42)[:-1]}\n"  # not a resident id
        f"r5,2026-05,6000,,{resident_id(43)}\n"  # the resident id alone: its worker
        f"r6,2026-05,6000,{first},\n"  # the worker id alone
    )
    done = summary(cli("contribute", "--file", str(payments), "--json"), 1)
    assert [(e["row"], e["field"]) for e in done["errors"]] == [  # type: ignore[union-attr]
        (2, "resident_id"),
        (3, "resident_id"),
        (4, "resident_id"),
    ]
    assert "not that worker's" in done["errors"][0]["reason"]  # type: ignore[index]
    assert months_paid(cli, first) == ["2026-01", "2026-05"]
    assert months_paid(cli, second) == ["2026-05"]


@pytest.mark.parametrize("kind", ["workers", "stints"])
def test_a_line_too_long_is_refused_in_the_files_own_terms(
    cli: Run, tmp_path: Path, kind: str
) -> None:
    """A 10 MB line in a workers or a stints file was "not a payments file"."""
    path = tmp_path / f"{kind}.csv"
    header = "resident_id,work_region" if kind == "workers" else "resident_id,region"
    path.write_bytes(f"{header}\n".encode() + b"4" * 10_000_000 + b",440100\n")
    args = ["worker", "enrol", "--file"] if kind == "workers" else ["worker", "import-history"]
    message = refusal(cli(*args, str(path)))
    assert "longer than" in message and "payments" not in message


# --- a file that cannot be read ------------------------------------------------------------

STINTS = (
    "resident_id,region,from_month,to_month,kind,base_yuan\n{},440100,2015-01,2015-12,paid,6000"
)
CHECKPOINT = '{"version": 1}\n'
CASE = '{"region": "440100", "sex": "M", "birth": "1970-01", "base_yuan": "8000"}\n'
# every parameter that names a file to read, and a command line that reads it (FILE)
READERS = {
    ("contribute", "--file"): (["contribute", "--file", "FILE"], "payments.csv"),
    ("worker enrol", "--file"): (["worker", "enrol", "--file", "FILE"], "workers.csv"),
    ("worker import-history", "file"): (["worker", "import-history", "FILE"], "stints.csv"),
    ("worker import-history", "--balances"): (
        ["worker", "import-history", "readable.csv", "--balances", "FILE"],
        "balances.csv",
    ),
    ("audit verify", "--checkpoint"): (["audit", "verify", "--checkpoint", "FILE"], "cp.json"),
    ("pension calc", "source"): (["pension", "calc", "FILE"], "case.json"),
}
CONTENT = {
    "payments.csv": f"{HEADER}p1,2026-01,6000,W000000000001\n",
    "workers.csv": f"resident_id,work_region\n{resident_id(45)},440100\n",
    "stints.csv": STINTS.format(resident_id(46)) + "\n",
    "balances.csv": "resident_id,region,account_yuan,as_of\n"
    f"{resident_id(46)},440100,100,2015-12-31\n",
    "cp.json": CHECKPOINT,
    "case.json": CASE,
}


def test_every_file_a_command_reads_is_in_the_list_below() -> None:
    readers = {
        (" ".join(c.path), p.name)
        for c in COMMANDS
        for p in c.params
        if p.kind in ("input-file", "source")
    }
    assert readers == set(READERS)


@contextmanager
def unreadable_to_the_command() -> Iterator[Path]:
    """A folder everyone may enter, for files of mode 000: unreadable to their user — and
    to root only without its rights, so that for root the command runs with the effective
    user nobody (its real user stays root, which takes the rights back after)."""
    folder = Path(tempfile.mkdtemp(prefix="suiren-unreadable-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


@contextmanager
def without_root() -> Iterator[None]:
    if os.geteuid() != 0:
        yield
        return
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)


@pytest.mark.parametrize("reader", sorted(READERS), ids=lambda r: f"{r[0]} {r[1]}")
def test_a_file_that_cannot_be_read_is_refused_before_anything_is_done(
    database_url: tuple[str, dict[str, str]], reader: tuple[str, str]
) -> None:
    """A file its user may not read passed the check that it is a file and was a traceback
    where it was first read (exit 1: "PermissionError"), once the command had started."""
    url, extra = database_url
    args, name = READERS[reader]
    with unreadable_to_the_command() as folder:
        run = runner(url, extra, folder)
        (folder / "readable.csv").write_text(STINTS.format(resident_id(47)) + "\n")
        path = folder / name
        path.write_text(CONTENT[name])
        path.chmod(0)
        with without_root():
            done = run(*[str(path) if a == "FILE" else a for a in args])
    message = refusal(done)
    assert "cannot read" in message and name in message, message
    assert "nothing was written" in message
