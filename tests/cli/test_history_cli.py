"""``suiren worker import-history`` as an agency runs it (issue 12): the summary, the map
of resident ids to workers, the refused rows' report, a re-run, ``--all-or-nothing`` and
the estimate of a migrated worker."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.cli.runner import Run, refusal, runner, title_of
from tests.ledger_helpers import resident_id

HEADER = "resident_id,region,from_month,to_month,kind,base_yuan,index,hukou_region\n"
A = resident_id(1, "19700301")
B = resident_id(2, "19700301")


def files(tmp_path: Path, bad: bool = False) -> tuple[Path, Path]:
    stints = tmp_path / "stints.csv"
    rows = [
        f"{A},440100,1992-01,1997-12,deemed,,1.0,410100",
        f"{A},440100,1998-01,2022-12,paid,,0.9,",
        f"{A},330100,2023-01,2025-12,paid,8000,,",
        f"{B},440100,2015-01,2025-12,paid,6000,,",
    ]
    if bad:
        rows.append(f"{resident_id(3, '19700301')},440100,2020-01,2019-12,paid,6000,,")
    stints.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    balances = tmp_path / "balances.csv"
    balances.write_text(
        f"resident_id,region,account_yuan,as_of\n{B},440100,40000.00,2025-12-31\n",
        encoding="utf-8",
    )
    return stints, balances


def test_import_report_rerun_and_estimate(cli: Run, tmp_path: Path) -> None:
    stints, balances = files(tmp_path, bad=True)
    done = cli(
        "worker", "import-history", str(stints), "--balances", str(balances),
        "--out", "map.csv", "--errors", "errors.csv", "--json",
    )  # fmt: skip
    assert done.returncode == 1, done.stderr  # a row refused, the others imported
    summary = json.loads(done.stdout)
    assert (summary["imported"], summary["refused"], summary["enrolled"]) == (4, 1, 2)
    assert summary["months_by_kind"] == {"deemed": 72, "paid": 300 + 36 + 132}
    assert summary["account_fen"] == 4_000_000
    with (tmp_path / "errors.csv").open() as handle:
        [error] = list(csv.DictReader(handle))
    assert (error["row"], error["field"], error["code"]) == ("5", "to_month", "invalid-period")
    assert (tmp_path / "map.csv").stat().st_mode & 0o777 == 0o600
    with (tmp_path / "map.csv").open() as handle:
        workers = {r["resident_id"]: r["worker_id"] for r in csv.DictReader(handle)}
    again = cli("worker", "import-history", str(stints), "--balances", str(balances), "--json")
    assert again.returncode == 1, again.stderr  # the same refused row, the others replayed
    again = json.loads(again.stdout)
    assert (again["imported"], again["replayed"], again["enrolled"]) == (0, 4, 0)
    estimate = json.loads(
        cli("pension", "estimate", workers[A], "--retire", "2026-05", "--json").stdout
    )
    [current, reform] = estimate["scenarios"]
    assert current["paying_province"] == "440000"  # relation in 浙江 (3 years): back to 广东
    assert current["deemed_months"] == 72
    assert current["transitional_pension_fen"] > 0
    statement = json.loads(cli("worker", "statement", workers[B], "--json").stdout)
    assert [h["kind"] for h in statement["history"]] == ["paid"]
    assert statement["contribution_months_total"] == 132
    assert cli("audit", "verify").returncode == 0
    del reform


def test_all_or_nothing_writes_nothing(cli: Run, tmp_path: Path) -> None:
    stints, _ = files(tmp_path, bad=True)
    done = cli("worker", "import-history", str(stints), "--all-or-nothing")
    assert "row 5" in refusal(done)
    stints, _ = files(tmp_path)
    done = cli("worker", "import-history", str(stints), "--json")
    assert json.loads(done.stdout)["enrolled"] == 2  # nothing of the first run was kept


def test_a_malformed_file_is_refused(cli: Run, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("resident_id,region\n1,2\n", encoding="utf-8")
    assert "missing column" in refusal(cli("worker", "import-history", str(path)))


def test_a_spaced_header_and_months_no_calendar_holds_are_rows_refused(
    cli: Run, tmp_path: Path
) -> None:
    """Spaces around the header's names (the columns were then looked up under the raw names:
    a KeyError traceback, for stints and for balances alike), and months or dates of the form
    YYYY-MM that no calendar of Suiren's holds (0000-01, 9999-12, 0000-12-31: the whole file
    was refused at that row, exit 2, after the people before it were imported) — each now a
    row refused with its field, the other people imported."""
    c = resident_id(3, "19700301")
    stints = tmp_path / "stints.csv"
    stints.write_text(
        "resident_id , region,from_month,to_month,kind , base_yuan,birth_month\n"
        f"{A},440100,2015-01,2015-12,paid,6000,\n"
        f"{B},440100,0000-01,2015-12,paid,6000,\n"
        f"{c},440100,2015-01,9999-12,paid,6000,\n"
        f"{resident_id(4, '19700301')},440100,2015-01,2015-12,paid,6000,0000-01\n",
        encoding="utf-8",
    )
    done = cli("worker", "import-history", str(stints), "--json")
    assert done.returncode == 1, done.stderr
    summary = json.loads(done.stdout)
    assert [(e["row"], e["field"]) for e in summary["errors"]] == [
        (2, "from_month"),
        (3, "to_month"),
        (4, "birth_month"),
    ]
    assert (summary["imported"], summary["enrolled"]) == (1, 1)
    e = resident_id(5, "19700301")
    more = tmp_path / "more.csv"
    more.write_text(f"{HEADER}{e},440100,2015-01,2015-12,paid,6000,,\n", encoding="utf-8")
    balances = tmp_path / "balances.csv"
    balances.write_text(
        f"resident_id, region ,account_yuan,as_of\n{e},440100,100.00,0000-12-31\n",
        encoding="utf-8",
    )
    done = cli("worker", "import-history", str(more), "--balances", str(balances), "--json")
    assert done.returncode == 1, done.stderr
    [error] = json.loads(done.stdout)["errors"]
    assert (error["row"], error["field"], error["code"]) == (1, "balances.as_of", "invalid-date")


def test_the_same_stints_with_other_balances_are_a_conflict_and_nothing_is_written(
    database_url: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    """The import's id is its stints file; each person's balances are part of what it
    recorded. Run again with the same stints and another balances file (a changed amount,
    none, a file of garbage amounts) it replayed every person, ignored the balances and
    exited 0; it is now refused as a conflict naming each person that differs, before any
    batch writes (here one person per batch: the person the first run refused, whose balance
    row is corrected, comes before the one whose balance changed and is not imported). With
    the first run's balances, corrected only for the refused person, it replays the others
    and imports that one."""
    url, extra = database_url
    cli = runner(url, extra | {"SUIREN_INTAKE_CHUNK_ROWS": "1"}, tmp_path)
    c = resident_id(3, "19700301")
    stints = tmp_path / "stints.csv"
    stints.write_text(
        HEADER
        + f"{A},440100,2015-01,2024-12,paid,6000,,\n"
        + f"{c},440100,2015-01,2024-12,paid,6000,,\n"
        + f"{B},440100,2015-01,2024-12,paid,6000,,\n",
        encoding="utf-8",
    )

    def balances(name: str, *rows: str) -> str:
        path = tmp_path / name
        path.write_text("resident_id,region,account_yuan,as_of\n" + "".join(rows), "utf-8")
        return str(path)

    first = balances(
        "first.csv", f"{c},440100,900.00,2024-06-30\n", f"{B},440100,800.00,2024-12-31\n"
    )
    done = cli("worker", "import-history", str(stints), "--balances", first, "--json")
    assert done.returncode == 1, done.stderr  # C's balance is not at a year's end: C refused
    summary = json.loads(done.stdout)
    assert (summary["imported"], summary["enrolled"], summary["account_fen"]) == (2, 2, 80_000)
    changed = balances(
        "changed.csv", f"{c},440100,900.00,2024-12-31\n", f"{B},440100,850.00,2024-12-31\n"
    )
    garbage = balances("garbage.csv", f"{B},440100,lots,yesterday\n")
    added = balances(
        "added.csv", f"{A},440100,100.00,2024-12-31\n", f"{B},440100,800.00,2024-12-31\n"
    )
    for given, names in [
        (["--balances", changed], ["balances row 2 differs from the balances recorded"]),
        (["--balances", garbage], ["balances row 1 differs from the balances recorded"]),
        ([], ["a balance was recorded; the balances file now gives none"]),
        (["--balances", added], ["no balance was recorded; the balances file now gives row 1"]),
    ]:
        done = cli("worker", "import-history", str(stints), *given)
        message = refusal(done)
        assert title_of(done.stderr) == (
            "与已导入的历史记录不同",
            "Differs from the history imported before",
        )
        assert "imported before with other balances for 1 person" in message, message
        assert all(name in message for name in names), message
        assert "Nothing was written" in message
    fixed = balances(
        "fixed.csv", f"{c},440100,900.00,2024-12-31\n", f"{B},440100,800.00,2024-12-31\n"
    )
    done = cli("worker", "import-history", str(stints), "--balances", fixed, "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["imported"], summary["replayed"], summary["enrolled"]) == (1, 2, 1)
    assert summary["account_fen"] == 90_000  # C's alone: B's was recorded by the first run
    assert cli("audit", "verify").returncode == 0


def test_the_map_gives_the_id_as_the_service_stores_it(cli: Run, tmp_path: Path) -> None:
    """``--out`` of an import: the person's resident id as the service stores it (upper-case
    X, no spaces), however the stints file spelt it, once for the person."""
    with_x = resident_id(9, "19700301")
    assert with_x.endswith("X")
    stints = tmp_path / "stints.csv"
    stints.write_text(
        HEADER
        + f"{with_x.lower()},440100,2015-01,2019-12,paid,6000,,\n"
        + f"{with_x[:6]} {with_x[6:]},440100,2020-01,2025-12,paid,6000,,\n",
        encoding="utf-8",
    )
    done = cli("worker", "import-history", str(stints), "--out", "map.csv", "--json")
    assert done.returncode == 0, done.stderr
    with (tmp_path / "map.csv").open() as handle:
        [row] = list(csv.DictReader(handle))
    assert row["resident_id"] == with_x
