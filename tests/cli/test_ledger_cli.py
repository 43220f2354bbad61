"""The ledger commands end to end, as a user runs them, one command at a time.

Each command runs ``suiren`` in-process (tests/cli/runner.py: the environment, streams and
exit status of a ``python -m suiren.cli.main`` process) against a migrated SQLite file or a
fresh PostgreSQL schema, with a fixed secret and a fixed "today" (SUIREN_TODAY). Success
prints on stdout and exits 0; a user error exits 2 with a message on stderr, nothing on
stdout and nothing written; a failed audit exits 1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from suiren.domain.money import fen_to_yuan_str, yuan_to_fen
from suiren.domain.month import Month
from tests.bilingual import CJK
from tests.cli.runner import TODAY, Done, Run, refusal, runner
from tests.conftest import drop_postgres_schema, postgres_schema_url
from tests.ledger_helpers import base_bounds_fen, base_bounds_shown, resident_id

LATE_2025 = "2025-12-20"
RESIDENT_ID = resident_id(11)


@pytest.fixture
def fresh_cli(backend: str, tmp_path: Path) -> Iterator[Run]:
    """A database that has never been migrated (for ``db upgrade`` itself)."""
    if backend == "sqlite":
        yield runner(f"sqlite:///{tmp_path / 'fresh.db'}", {}, tmp_path)
        return
    url, schema = postgres_schema_url()
    try:
        yield runner(url, {"PGOPTIONS": f"-csearch_path={schema}"}, tmp_path)
    finally:
        drop_postgres_schema(schema)


def ok_json(done: Done) -> Any:
    assert done.returncode == 0, done.stderr
    assert RESIDENT_ID not in done.stdout + done.stderr  # never the full resident id
    return json.loads(done.stdout)


def user_error(done: Done) -> str:
    """The command refused: exit 2, nothing on stdout, the reason on stderr."""
    return refusal(done)


def enrol(cli: Run, today: str = TODAY) -> str:
    enrolled = ok_json(
        cli(
            "worker",
            "enrol",
            "--resident-id",
            RESIDENT_ID,
            "--work-region",
            "440100",
            "--json",
            today=today,
        )
    )
    assert enrolled["created"] is True
    assert enrolled["resident_id"] == RESIDENT_ID[:2] + "*" * 16  # the province only
    assert (enrolled["region"], enrolled["scheme"]) == ("440100", "employee_pension")
    return str(enrolled["worker_id"])


def test_db_upgrade_migrates_a_new_database(fresh_cli: Run) -> None:
    refused = user_error(fresh_cli("worker", "statement", "W000000000000", "--json"))
    assert "suiren db upgrade" in refused
    for _ in range(2):  # a second upgrade finds nothing to do
        done = fresh_cli("db", "upgrade")
        assert done.returncode == 0, done.stderr
        zh, en = done.stdout.splitlines()  # a Chinese line, then its English line
        assert zh.startswith("数据库已是最新版本（") and en.startswith(
            "the database is at the latest"
        )
    assert ok_json(fresh_cli("audit", "verify", "--json"))["ok"] is True


def test_enrol_pay_replay_statement_reverse_and_audit(cli: Run) -> None:
    worker = enrol(cli)
    again = ok_json(
        cli("worker", "enrol", "--resident-id", RESIDENT_ID, "--work-region", "440100", "--json")
    )
    assert (again["worker_id"], again["created"]) == (worker, False)

    pay = (
        "contribute",
        worker,
        "--from",
        "2026-01",
        "--to",
        "2026-03",
        "--base",
        "6000",
        "--id",
        "pay-1",
    )
    paid = ok_json(cli(*pay, "--json"))
    assert [(p["tx_id"], p["replayed"]) for p in paid] == [
        (f"pay-1/2026-0{m}", False) for m in (1, 2, 3)
    ]
    assert {(p["due_fen"], p["individual_account_fen"], p["pooled_fen"]) for p in paid} == {
        (120_000, 48_000, 72_000)  # 20% of 6000.00 yuan, of which 8% to the account
    }
    replayed = ok_json(cli(*pay, "--json"))
    assert replayed == [{**p, "replayed": True} for p in paid]
    human = cli(*pay)
    assert human.returncode == 0 and human.stdout.count("replayed]") == 3, human.stderr

    statement = ok_json(cli("worker", "statement", worker, "--json"))
    assert statement["worker"]["resident_id"] == RESIDENT_ID[:2] + "*" * 16
    assert statement["contribution_months_total"] == 3
    assert [(m["month"], m["status"]) for m in statement["months"]] == [
        ("2026-01", "paid"),
        ("2026-02", "paid"),
        ("2026-03", "paid"),
    ]
    assert {b["kind"]: b["balance_fen"] for b in statement["balances"]} == {
        "individual_account": 144_000,
        "pooled_entitlement": 216_000,
    }

    reversal = ok_json(cli("reverse", "pay-1/2026-02", "--id", "rev-1", "--json"))
    assert (reversal["tx_id"], reversal["replayed"]) == ("rev-1", False)
    statement = ok_json(cli("worker", "statement", worker, "--json"))
    assert statement["contribution_months_total"] == 2
    assert [m["status"] for m in statement["months"]] == ["paid", "reversed", "paid"]
    assert {b["kind"]: b["balance_fen"] for b in statement["balances"]} == {
        "individual_account": 96_000,
        "pooled_entitlement": 144_000,
    }
    audit = ok_json(cli("audit", "verify", "--json"))
    # the enrolment, the batch of three months, its replays (nothing), the reversal
    assert (audit["ok"], audit["transactions"], audit["months"], audit["problems"]) == (
        True,
        3,
        3,
        [],
    )


def test_refusals_exit_2_and_write_nothing(cli: Run) -> None:
    worker = enrol(cli)
    before = cli("worker", "statement", worker, "--json")
    assert before.returncode == 0, before.stderr

    _, ceiling_fen = base_bounds_fen("440100", Month.of(2026, 1))
    for base in ("100", fen_to_yuan_str(ceiling_fen + 1)):
        refused = user_error(
            cli("contribute", worker, "--from", "2026-01", "--base", base, "--id", f"low-{base}")
        )
        assert "outside the allowed range" in refused
        assert base_bounds_shown("440100", Month.of(2026, 1)) in refused
        shown = fen_to_yuan_str(yuan_to_fen(base))  # Chinese first, then the English
        assert refused.startswith(f"详情：缴费基数 {shown} 元超出 440100 2026-01 的允许范围")
    unknown = user_error(
        cli("contribute", "WNOSUCHWORKER", "--from", "2026-01", "--base", "6000", "--id", "x-1")
    )
    assert (
        unknown
        == "详情：没有编号为 'WNOSUCHWORKER' 的人员\nerror: no worker with id 'WNOSUCHWORKER'\n"
    )
    bad_id = RESIDENT_ID[:-1] + ("0" if RESIDENT_ID[-1] != "0" else "1")  # wrong check digit
    refused = user_error(cli("worker", "enrol", "--resident-id", bad_id, "--work-region", "440100"))
    assert "check character" in refused and bad_id not in refused

    after = cli("worker", "statement", worker, "--json")
    assert after.stdout == before.stdout
    audit = ok_json(cli("audit", "verify", "--json"))
    assert (audit["ok"], audit["transactions"], audit["months"]) == (True, 1, 0)  # the enrolment


def test_interest_credit_for_2025(cli: Run) -> None:
    worker = enrol(cli, today=LATE_2025)
    paid = ok_json(
        cli(
            "contribute",
            worker,
            "--from",
            "2025-10",
            "--to",
            "2025-12",
            "--base",
            "6000",
            "--id",
            "pay-2025",
            "--json",
            today=LATE_2025,
        )
    )
    assert len(paid) == 3
    runs = ok_json(cli("interest", "credit", "--year", "2025", "--json"))
    # 3 × 480.00 yuan credited during 2025: 144000 × 1.5% × 0.5415 = 1169.64 -> 1170 fen
    assert runs == [
        {
            "region": "440100",
            "year": 2025,
            "batches": 1,
            "accounts": 1,
            "total_fen": 1170,
            "skipped": False,
            "rate": "3/200",
            "provisional": False,
            "warnings": [],
        }
    ]
    again = ok_json(cli("interest", "credit", "--year", "2025", "--json"))
    assert [r["skipped"] for r in again] == [True]
    statement = ok_json(cli("worker", "statement", worker, "--json"))
    balances = {b["kind"]: b["balance_fen"] for b in statement["balances"]}
    assert balances["individual_account"] == 144_000 + 1170
    assert "a year that has ended" in user_error(cli("interest", "credit", "--year", "2026"))
    assert "four ASCII digits" in user_error(cli("interest", "credit", "--year", "0"))
    assert ok_json(cli("audit", "verify", "--json"))["ok"] is True
    later = cli("interest", "credit", "--year", "2026", today="2027-01-10")
    assert later.returncode == 0, later.stderr
    # 2026's rate is not published: said so, in Chinese first
    zh, en = later.stdout.splitlines()
    assert "利率 0.015（暂定：当年利率尚未公布" in zh
    assert "at 0.015 (provisional: the year's rate is not published yet" in en
    # and in JSON with the warning every output uses for a figure not published yet
    [run] = ok_json(cli("interest", "credit", "--year", "2026", "--json", today="2027-01-10"))
    assert run["skipped"] and run["provisional"]
    assert [w["code"] for w in run["warnings"]] == ["provisional-parameter"]
    assert "account.interest_rate 0.015 (000000, 2025)" in run["warnings"][0]["message"]


def test_interest_credit_replayed_says_what_its_first_run_said(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2026 credited on 2025's rate (provisional), then run again once a 2026 rate is in the
    parameters (a test's 2%): the replay names the rate the first run used and its warning,
    in JSON and in words."""
    from tests.services.test_interest_replay import rate_2026_published

    worker = enrol(cli, today="2026-03-10")
    ok_json(cli("contribute", worker, "--from", "2026-03", "--to", "2026-03", "--base", "6000",
                "--id", "pay-2026", "--json", today="2026-03-10"))  # fmt: skip
    [first] = ok_json(cli("interest", "credit", "--year", "2026", "--json", today="2027-01-10"))
    assert first["provisional"] and first["rate"] == "3/200" and not first["skipped"]
    published = rate_2026_published(tmp_path)
    monkeypatch.setattr("suiren.policy.load_policy", lambda scenario="current_law": published)
    [again] = ok_json(cli("interest", "credit", "--year", "2026", "--json", today="2027-01-10"))
    said = ("rate", "provisional", "warnings")
    assert again["skipped"] and {k: again[k] for k in said} == {k: first[k] for k in said}
    words = cli("interest", "credit", "--year", "2026", today="2027-01-10")
    assert words.returncode == 0, words.stderr
    assert words.stdout.splitlines() == [
        "440100 2026：此前已记息，利率 0.015（暂定：当年利率尚未公布，按最近公布的利率记息）",
        "440100 2026: already credited at 0.015 (provisional: the year's rate is not published"
        " yet; the latest published one was used)",
    ]


def test_a_month_paid_on_provisional_bounds_says_so(cli: Run) -> None:
    """广东's floor and ceiling in the file are of 2025-07: on 2026-08-15, 2026-06 is bounded
    by its own year's figures and 2026-07 by them provisionally (2026's are not out)."""
    worker = enrol(cli)
    pay = ("contribute", worker, "--from", "2026-06", "--to", "2026-07", "--base", "6000")
    paid = ok_json(cli(*pay, "--id", "pay-7", "--json", today="2026-08-15"))
    assert [(p["month"], [w["code"] for w in p["warnings"]]) for p in paid] == [
        ("2026-06", []),
        ("2026-07", ["provisional-parameter"]),
    ]
    assert paid[1]["warnings"][0]["field"] == "base_yuan"
    human = cli(*pay, "--id", "pay-7", today="2026-08-15")
    assert human.returncode == 0, human.stderr
    lines = human.stdout.splitlines()
    zh, en = [line for line in lines if line.startswith(("  注意：", "  note: "))]
    assert lines.index(en) == lines.index(zh) + 1 and zh.startswith("  注意：2026-07 "), lines
    assert en.startswith("  note: 2026-07 ") and "stands in" in en and not CJK.search(en)
    for note in (zh, en):
        assert "contribution.base.published_floor 5510 (440100, 2025)" in note


def test_a_file_sent_again_says_nothing_new_was_written_and_its_first_notes(
    cli: Run, tmp_path: Path
) -> None:
    """The whole file already posted: the summary says plainly that its rows were replayed
    and nothing new was written, and repeats the provisional note of its first run (广东's
    2025-07 bounds standing in for 2026-07 on 2026-08-15)."""
    worker = enrol(cli)
    payments = tmp_path / "payments.csv"
    payments.write_text(
        "payment_id,month,base_yuan,worker_id\n"
        f"f1,2026-06,6000,{worker}\nf2,2026-07,6000,{worker}\n"
    )
    send = ("contribute", "--file", str(payments))
    first = ok_json(cli(*send, "--json", today="2026-08-15"))
    again = ok_json(cli(*send, "--json", today="2026-08-15"))
    assert (first["posted"], first["replayed"], first["replay_note"]) == (2, 0, None)
    assert [(w["region"], w["month"]) for w in first["warnings"]] == [("440100", "2026-07")]
    assert (again["posted"], again["replayed"]) == (0, 2)
    assert again["replay_note"] == (
        "2 行此前均已入账（重放），本次未写入任何新记录"
        " — 2 rows were already posted (replayed): nothing new was written"
    )
    assert again["warnings"] == first["warnings"]
    human = cli(*send, today="2026-08-15")
    assert human.returncode == 0, human.stderr
    lines = human.stdout.splitlines()
    # after the summary's two lines: the JSON's note, a Chinese line then its English line
    assert " — ".join(lines[2:4]) == again["replay_note"], lines
    notes = [line for line in lines if line.startswith(("  注意：", "  note: "))]
    assert len(notes) == 2 and all("2026-07 (440100)" in n for n in notes), lines
    assert notes[0].startswith("  注意：") and notes[1].startswith("  note: "), lines
