"""The ledger's promises at the command line (issue 8): one key per database wherever the
command runs, signed checkpoints, reversals only of months; and files of payments and workers
(issue 9), with their exit statuses."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import Any

from tests.cli.runner import SECRET, TODAY, Done, Run, invoke, refusal
from tests.ledger_helpers import resident_id

RID = resident_id(21)


def ok(done: Done) -> Any:
    assert done.returncode == 0, done.stderr
    assert RID not in done.stdout + done.stderr
    return json.loads(done.stdout) if done.stdout.lstrip().startswith(("{", "[")) else done.stdout


def refused(done: Done) -> str:
    return refusal(done)


def enrol(cli: Run) -> str:
    return str(
        ok(cli("worker", "enrol", "--resident-id", RID, "--work-region", "440100", "--json"))[
            "worker_id"
        ]
    )


def test_the_embedded_database_keeps_its_key_beside_it(tmp_path: Path) -> None:
    """No SUIREN_SECRET_KEY: the key is made beside a new database (0600, with the database),
    and the same person is the same worker when the command runs from another folder."""
    database = tmp_path / "data" / "ledger.db"
    database.parent.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"SUIREN_DATABASE_URL": f"sqlite:///{database}", "SUIREN_TODAY": TODAY}
    ok(invoke(["db", "upgrade"], env, tmp_path))
    key = database.with_name("ledger.db.key")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert not (tmp_path / "suiren.key").exists() and not (elsewhere / "suiren.key").exists()
    args = ["worker", "enrol", "--resident-id", RID, "--work-region", "440100", "--json"]
    first = ok(invoke(args, env, tmp_path))
    again = ok(invoke(args, env, elsewhere))
    assert (again["worker_id"], again["created"]) == (first["worker_id"], False)
    other = base64.b64encode(b"o" * 32).decode()
    message = refused(invoke(args, env | {"SUIREN_SECRET_KEY": other}, elsewhere))
    assert "another secret key" in message
    key.unlink()
    assert "is missing" in refused(invoke(["audit", "verify"], env, tmp_path))


def test_a_postgres_database_refuses_another_key_and_no_key(
    cli: Run, database_url, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    enrol(cli)
    url, extra = database_url
    other = base64.b64encode(b"o" * 32).decode()
    wrong = invoke(
        ["worker", "statement", "W1", "--json"],
        extra | {"SUIREN_DATABASE_URL": url, "SUIREN_SECRET_KEY": other, "SUIREN_TODAY": TODAY},
        tmp_path,
    )
    assert "another secret key" in refused(wrong)
    for value, match in (("", "set but empty"), ("abc", "not base64"), ("４" * 44, "not base64")):
        done = invoke(
            ["audit", "verify"],
            extra | {"SUIREN_DATABASE_URL": url, "SUIREN_SECRET_KEY": value},
            tmp_path,
        )
        assert match in refused(done)


def test_a_key_file_folder_and_generate(tmp_path: Path) -> None:
    env = {
        "SUIREN_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
        "SUIREN_KEY_FILE": str(tmp_path),
    }
    assert "is a folder" in refused(invoke(["audit", "verify"], env, tmp_path))
    made = tmp_path / "agency.key"
    ok(invoke(["key", "generate", "--out", str(made)], {}, tmp_path))
    assert (
        stat.S_IMODE(made.stat().st_mode) == 0o600 and len(base64.b64decode(made.read_text())) == 32
    )
    assert "never overwritten" in refused(
        invoke(["key", "generate", "--out", str(made)], {}, tmp_path)
    )
    printed = ok(invoke(["key", "generate"], {}, tmp_path)).strip()
    assert len(base64.b64decode(printed)) == 32


def test_checkpoint_then_verify_against_it(cli: Run, tmp_path: Path) -> None:
    worker = enrol(cli)
    ok(
        cli(
            "contribute",
            worker,
            "--from",
            "2026-01",
            "--to",
            "2026-02",
            "--base",
            "6000",
            "--id",
            "p",
        )
    )
    ok(cli("audit", "checkpoint", "--out", "anchor.json"))
    assert "never overwritten" in refused(cli("audit", "checkpoint", "--out", "anchor.json"))
    data = json.loads((tmp_path / "anchor.json").read_text())
    assert data["format"] == "suiren-checkpoint-v1" and data["heads"]
    report = ok(cli("audit", "verify", "--checkpoint", "anchor.json", "--json"))
    assert report["ok"] and report["checkpoint"]["signature_ok"]
    kept = (tmp_path / "anchor.json").read_bytes()
    (tmp_path / "resaved.json").write_bytes(b"\xef\xbb\xbf" + kept)  # re-saved with a BOM
    report = ok(cli("audit", "verify", "--checkpoint", "resaved.json", "--json"))
    assert report["ok"] and report["checkpoint"]["signature_ok"]
    data["heads"][0]["seq"] += 5  # claims more than the database holds
    (tmp_path / "forged.json").write_text(json.dumps(data))
    done = cli("audit", "verify", "--checkpoint", "forged.json", "--json")
    assert done.returncode == 1
    assert {p["table"] for p in json.loads(done.stdout)["problems"]} >= {"checkpoint", "journal"}
    (tmp_path / "junk.json").write_text("{not json")
    assert "not JSON" in refused(cli("audit", "verify", "--checkpoint", "junk.json"))


def test_only_a_month_is_reversed_at_the_command_line(cli: Run) -> None:
    worker = enrol(cli)
    ok(cli("contribute", worker, "--month", "2026-01", "--base", "6000", "--id", "p"))
    assert "single month" in refused(cli("reverse", "months/440100/2", "--id", "undo"))
    assert "by a transfer" in refused(
        cli("reverse", f"enrol/{worker}/employee_pension", "--id", "undo")
    )
    assert "end like a month" in refused(cli("reverse", "p/2026-01", "--id", "fix/2026-02"))
    ok(cli("reverse", "p/2026-01", "--id", "fix"))
    assert "already been reversed" in refused(cli("reverse", "p/2026-01", "--id", "fix-2"))


def test_files_at_the_command_line(cli: Run, tmp_path: Path) -> None:
    workers = tmp_path / "workers.csv"
    workers.write_text(
        f"resident_id,work_region\n{RID},440100\n{resident_id(22)},440100\n123,440100\n"
    )
    (tmp_path / "map.csv").write_text("an older file\n")
    (tmp_path / "map.csv").chmod(0o644)  # os.open's mode is for a new file: it stayed 0644
    done = cli("worker", "enrol", "--file", str(workers), "--out", "map.csv", "--json")
    assert done.returncode == 1  # one row refused, the others enrolled
    summary = json.loads(done.stdout)
    assert (summary["created"], summary["refused"]) == (2, 1)
    mapping = dict(line.split(",") for line in (tmp_path / "map.csv").read_text().splitlines()[1:])
    assert stat.S_IMODE((tmp_path / "map.csv").stat().st_mode) == 0o600
    payments = tmp_path / "pay.csv"
    payments.write_text(
        "payment_id,month,base_yuan,resident_id\n"
        f"f,2026-01,6000,{RID}\nf,2026-02,6000.50,{RID}\nf,2026-03,60,{RID}\n"
    )
    done = cli("contribute", "--file", str(payments), "--errors", "errors.json", "--json")
    assert done.returncode == 1, done.stderr
    assert (json.loads(done.stdout)["posted"], json.loads(done.stdout)["refused"]) == (2, 1)
    assert json.loads((tmp_path / "errors.json").read_text())[0]["row"] == 3
    again = cli("contribute", "--file", str(payments), "--all-or-nothing", "--json")
    assert again.returncode == 2 and json.loads(again.stdout)["posted"] == 0
    good = tmp_path / "good.csv"
    good.write_text(f"payment_id,month,base_yuan,worker_id\ng,2026-04,6000,{mapping[RID]}\n")
    assert ok(cli("contribute", "--file", str(good), "--all-or-nothing", "--json"))["posted"] == 1
    assert "takes no" in refused(cli("contribute", mapping[RID], "--file", str(good)))
    assert "is not a file" in refused(cli("contribute", "--file", str(workers.with_suffix(".txt"))))
    (tmp_path / "pay.txt").write_text("payment_id,month,base_yuan,worker_id\n")
    assert "is .csv or .parquet" in refused(cli("contribute", "--file", str(tmp_path / "pay.txt")))
    statement = ok(cli("worker", "statement", mapping[RID], "--json"))
    assert statement["contribution_months_total"] == 3
    assert ok(cli("audit", "verify", "--json"))["ok"]


def test_a_damaged_parquet_file_is_refused_with_exit_2_and_nothing_written(
    database_url: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    """A workers file and a payments file in row groups of ten rows, posted ten rows at a
    time, whose third row group cannot be read (a page header overwritten; a value changed
    that only the page's checksum shows): each command is refused (exit 2) naming the row
    group, and nothing of the file is written — the intact file then enrols every person
    anew and posts every month anew."""
    import pyarrow as pa

    from tests.parquet_damage import damage, write_in_row_groups

    url, extra = database_url
    env = extra | {
        "SUIREN_DATABASE_URL": url,
        "SUIREN_SECRET_KEY": SECRET,
        "SUIREN_TODAY": TODAY,
        "SUIREN_INTAKE_CHUNK_ROWS": "10",
    }
    n = 40
    people = pa.table(
        {"resident_id": [resident_id(200 + k) for k in range(n)], "work_region": ["440100"] * n}
    )

    def refused_then_taken(args: list[str], table: pa.Table, how: str) -> Any:
        path = tmp_path / f"file-{how.replace(' ', '-')}.parquet"
        write_in_row_groups(path, table, 10)
        intact = path.read_bytes()
        damage(path, 2, how)
        message = refusal(invoke([*args, str(path), "--json"], env, tmp_path))
        assert "row group 3 of 4 (rows 21–30)" in message
        assert "checksum" in message or how != "value"
        path.write_bytes(intact)
        return ok(invoke([*args, str(path), "--json"], env, tmp_path))

    enrol_file = ["worker", "enrol", "--out", "map.csv", "--file"]
    assert refused_then_taken(enrol_file, people, "page header")["created"] == n
    workers = [line.split(",")[1] for line in (tmp_path / "map.csv").read_text().splitlines()[1:]]
    payments = pa.table(
        {
            "payment_id": [f"d{k}" for k in range(n)],
            "month": ["2026-01"] * n,
            "base_yuan": ["6000"] * n,
            "worker_id": workers,
        }
    )
    for how in ("page header", "value"):
        taken = refused_then_taken(["contribute", "--file"], payments, how)
        assert (taken["posted"], taken["replayed"]) == ((n, 0) if how == "page header" else (0, n))


def test_a_json_error_carries_its_code(cli: Run) -> None:
    worker = enrol(cli)
    done = cli("contribute", worker, "--month", "2026-01", "--base", "100", "--id", "low", "--json")
    assert (done.returncode, done.stdout) == (2, "")
    error = json.loads(done.stderr)["error"]
    assert (
        error["code"] == "contribution-refused" and "outside the allowed range" in error["message"]
    )
    unknown = json.loads(cli("worker", "statement", "WNOBODY", "--json").stderr)["error"]
    assert unknown["code"] == "unknown-worker"


def test_the_refused_rows_of_a_large_file_are_streamed_not_held(cli: Run, tmp_path: Path) -> None:
    """Every refused row reaches --errors (CSV or JSON), chunk by chunk; the summary printed
    keeps the first ERRORS_KEPT of them and says it was cut (issue 9: bounded memory)."""
    from suiren.services.intake import ERRORS_KEPT

    rows = ERRORS_KEPT + 250
    payments = tmp_path / "nobody.csv"
    payments.write_text(
        "payment_id,month,base_yuan,worker_id\n"
        + "".join(f"n{k},2026-01,6000,WNOBODY{k}\n" for k in range(rows))
    )
    for name in ("errors.json", "errors.csv"):
        (tmp_path / name).write_text("an older file\n")
        (tmp_path / name).chmod(0o644)
        done = cli("contribute", "--file", str(payments), "--errors", name, "--json")
        assert done.returncode == 1, done.stderr
        summary = json.loads(done.stdout)
        assert (summary["refused"], summary["errors_truncated"]) == (rows, True)
        assert len(summary["errors"]) == ERRORS_KEPT
        written = (tmp_path / name).read_text()
        if name.endswith(".json"):
            listed = [e["row"] for e in json.loads(written)]
        else:
            listed = [int(line.split(",")[0]) for line in written.splitlines()[1:]]
        assert listed == list(range(1, rows + 1))
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    empty = tmp_path / "empty.csv"
    empty.write_text("payment_id,month,base_yuan,worker_id\n")
    assert cli("contribute", "--file", str(empty), "--errors", "none.json").returncode == 0
    assert json.loads((tmp_path / "none.json").read_text()) == []


def test_a_workers_file_maps_each_person_once_by_the_id_the_service_stores(
    cli: Run, tmp_path: Path
) -> None:
    """``worker enrol --file --out``: one person spelt several ways (lower-case x, digits
    grouped by spaces, the 15-digit first-generation number) is one line of the map, its
    resident id as the service checks and stores it (it repeated each spelling as written:
    "…x" and "…X" were two lines for one worker). Each refused row names the column at
    fault and a code of its own, at the command line as in the API: a second enrolment in
    another region is ``work_region``, ``enrolled-elsewhere`` (was ``row``,
    ``invalid-input``), an unknown hukou region is ``hukou_region`` (was ``work_region``),
    a person too young is ``resident_id`` (was ``row``)."""
    from suiren.domain.resident_id import check_character, convert_15_to_18

    with_x = resident_id(1)
    assert with_x.endswith("X")
    grouped = f"{with_x[:6]} {with_x[6:14]} {with_x[14:].lower()}"
    old = "440106800301001"  # 15 digits: 440106198003010012
    young = "44010620150101009"
    workers = tmp_path / "workers.csv"
    workers.write_text(
        "resident_id,work_region,hukou_region\n"
        f"{with_x},440100,\n"  # 1
        f"{with_x.lower()},440100,\n"  # 2 the same person
        f"{grouped},440100,\n"  # 3 the same person
        f"{old},440100,\n"  # 4 another, 15 digits
        f"{convert_15_to_18(old)},440100,\n"  # 5 the same as row 4
        f"{with_x},110000,\n"  # 6 enrolled in 440100 already
        f"{resident_id(3)},440100,999999\n"  # 7 no such hukou region
        f"{young + check_character(young)},440100,\n"  # 8 eleven years old
        f"{with_x[:10]}１{with_x[11:]},440100,\n",  # 9 a full-width digit: refused
        encoding="utf-8",
    )
    done = cli(
        "worker", "enrol", "--file", str(workers), "--out", "map.csv",
        "--errors", "errors.json", "--json",
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["created"], summary["existing"], summary["refused"]) == (2, 3, 4)
    lines = (tmp_path / "map.csv").read_text().splitlines()
    assert lines[0] == "resident_id,worker_id"
    mapping = [line.split(",") for line in lines[1:]]
    assert [number for number, _ in mapping] == [with_x, convert_15_to_18(old)]
    assert len({worker for _, worker in mapping}) == 2
    errors = json.loads((tmp_path / "errors.json").read_text())
    assert [(e["row"], e["field"], e["code"]) for e in errors] == [
        (6, "work_region", "enrolled-elsewhere"),
        (7, "hukou_region", "unknown-region"),
        (8, "resident_id", "enrolment-refused"),
        (9, "resident_id", "invalid-resident-id"),
    ]
    assert errors == summary["errors"]
    assert "moving needs a transfer" in errors[0]["reason"]
    # one person at the command line: the same code and field
    again = cli("worker", "enrol", "--resident-id", with_x, "--work-region", "110000", "--json")
    assert again.returncode == 2
    error = json.loads(again.stderr)["error"]
    assert (error["code"], error["field"]) == ("enrolled-elsewhere", "work_region")
