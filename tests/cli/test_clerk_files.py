"""Files as a careless agency clerk sends them, on SQLite and PostgreSQL: each malformed cell
is its row's refusal (the good rows posted, or none with ``--all-or-nothing``), a row that
names two workers is refused, and a file that cannot be read is refused before anything is
read or written (exit 2, the reason) — never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.cli.runner import Done, Run, refusal
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
