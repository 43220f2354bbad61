"""``suiren medical`` end to end, as a user runs it, one command at a time (in-process,
tests/cli/runner.py).

Shanghai (310000) charges 10% of the base from 2024-03-01, 2% of it to the individual
account; its 2026 base range is 7,460.00 to 37,302.00 yuan (see the parameter files).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.runner import Run, runner
from tests.cli.test_ledger_cli import RESIDENT_ID, ok_json, user_error


@pytest.fixture
def mfp_cli(database_url: tuple[str, dict[str, str]], tmp_path: Path) -> Run:
    url, extra = database_url
    return runner(url, extra | {"SUIREN_SCENARIO": "money_follows_person"}, tmp_path)


# the person every test enrols: working in Shanghai, hukou in Henan
PERSON = ("--resident-id", RESIDENT_ID, "--work-region", "310000", "--hukou-region", "410000")


def enrol(cli: Run) -> str:
    enrolled = ok_json(cli("worker", "enrol", "--scheme", "employee_medical", *PERSON, "--json"))
    assert (enrolled["scheme"], enrolled["region"], enrolled["created"]) == (
        "employee_medical",
        "310000",
        True,
    )
    assert enrolled["resident_id"] == RESIDENT_ID[:2] + "*" * 16
    return str(enrolled["worker_id"])


def test_enrol_pay_replay_and_status(cli: Run) -> None:
    worker = enrol(cli)
    pay = (
        "medical",
        "contribute",
        worker,
        "--from",
        "2026-01",
        "--to",
        "2026-02",
        "--base",
        "10000.05",
        "--id",
        "med-1",
    )
    paid = ok_json(cli(*pay, "--json"))
    assert [
        (p["tx_id"], p["due_fen"], p["individual_account_fen"], p["pooled_fen"], p["replayed"])
        for p in paid
    ] == [(f"med-1/2026-0{m}", 100_001, 20_000, 80_001, False) for m in (1, 2)]
    assert ok_json(cli(*pay, "--json")) == [{**p, "replayed": True} for p in paid]
    human = cli(*pay)
    assert human.returncode == 0 and human.stdout.count("replayed]") == 2, human.stderr
    one = ok_json(
        cli(
            "medical",
            "contribute",
            worker,
            "--month",
            "2026-03",
            "--base",
            "8000",
            "--id",
            "med-2",
            "--json",
        )
    )
    assert [(p["month"], p["due_fen"]) for p in one] == [("2026-03", 80_000)]

    status = ok_json(cli("medical", "status", worker, "--json"))
    assert status["months_by_region"] == {"310000": 3}
    assert (status["last_paid"], status["gap_months"], status["waiting_months"]) == (
        "2026-03",
        2,
        0,
    )
    assert status["lifetime"]["required_total_months"] == 180
    assert status["lifetime"]["shortfall_months"] == 177
    text = cli("medical", "status", worker)
    assert text.returncode == 0 and "缴费月数：3" in text.stdout, text.stderr
    assert ok_json(cli("audit", "verify", "--json"))["ok"] is True


def test_refusals_exit_2_and_write_nothing(cli: Run) -> None:
    # the same hukou as ``enrol``'s: a contrary one is refused, not dropped
    pension = ok_json(cli("worker", "enrol", *PERSON, "--json"))["worker_id"]
    refused = user_error(
        cli("medical", "contribute", pension, "--month", "2026-01", "--base", "10000", "--id", "x")
    )
    assert "not enrolled in employee_medical" in refused
    worker = enrol(cli)
    assert worker == pension  # one person, enrolled in two schemes
    ok_json(
        cli(
            "medical",
            "contribute",
            worker,
            "--month",
            "2026-01",
            "--base",
            "10000",
            "--id",
            "first",
            "--json",
        )
    )
    before = ok_json(cli("audit", "verify", "--json"))["transactions"]
    cases = [
        (("--month", "2026-01", "--base", "10000", "--id", "second"), "already paid"),
        (("--month", "2026-02", "--base", "7459.99", "--id", "low"), "outside the allowed range"),
        (("--month", "2026-07", "--base", "10000", "--id", "future"), "in the future"),
        (("--month", "2026-02", "--from", "2026-02", "--base", "10000", "--id", "both"), "--month"),
        (("--month", "2026-01", "--base", "12000", "--id", "first"), "already used"),
    ]
    for args, message in cases:
        assert message in user_error(cli("medical", "contribute", worker, *args))
    assert "no worker" in user_error(cli("medical", "status", "WNOBODY"))
    assert ok_json(cli("audit", "verify", "--json"))["transactions"] == before


def test_money_follows_person_books_the_pooled_part_at_the_hukou_region(mfp_cli: Run) -> None:
    worker = enrol(mfp_cli)
    paid = ok_json(
        mfp_cli(
            "medical",
            "contribute",
            worker,
            "--month",
            "2026-01",
            "--base",
            "15000",
            "--id",
            "hi",
            "--json",
        )
    )
    assert [(p["pooled_fen"], p["pooled_hukou_region_fen"], p["hukou_region"]) for p in paid] == [
        (120_000, 120_000, "410000")
    ]
    human = mfp_cli(
        "medical", "contribute", worker, "--month", "2026-01", "--base", "15000", "--id", "hi"
    )
    assert "at hukou region 410000" in human.stdout, human.stderr
    audit = ok_json(mfp_cli("audit", "verify", "--json"))
    # the enrolment, the month (a batch of one) and its hukou part
    assert (audit["ok"], audit["transactions"], audit["months"]) == (True, 3, 1)


def test_enrol_refuses_an_unknown_scheme(cli: Run) -> None:
    refused = user_error(
        cli(
            "worker",
            "enrol",
            "--scheme",
            "dental",
            "--resident-id",
            RESIDENT_ID,
            "--work-region",
            "310000",
        )
    )
    assert "--scheme must be one of employee_pension, employee_medical" in refused
