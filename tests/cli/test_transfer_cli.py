"""Transfer, settlement and estimate commands end to end, one command at a time.

Each command runs ``suiren`` in-process (tests/cli/runner.py: the environment, streams and
exit status of a ``python -m suiren.cli.main`` process) against a migrated SQLite file or a
fresh PostgreSQL schema, with a fixed secret and a fixed "today" (SUIREN_TODAY=2026-06-15).
Success prints JSON on stdout and exits 0; a user error exits 2 with a message on stderr,
nothing on stdout and nothing written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from suiren.store.db import unit_of_work
from suiren.store.tables import (
    journal,
    postings,
    settlement_flows,
    settlement_positions,
    transfer_events,
    transfers,
)
from tests.cli.runner import TODAY, Done, Run, refusal, runner
from tests.conftest import POSTGRES_URL, migrated_engine, release
from tests.ledger_helpers import resident_id

NEXT_DAY = "2026-06-16"
TABLES = (journal, postings, transfers, transfer_events, settlement_positions, settlement_flows)


def ok_json(done: Done) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def user_error(done: Done) -> str:
    """The command refused: exit 2, nothing on stdout, the reason on stderr."""
    return refusal(done)


def enrol_and_pay(cli: Run, n: int) -> str:
    """A worker insured in 440100 who paid 2026-01..05 at a base of 8000 yuan."""
    enrolled = ok_json(
        cli("worker", "enrol", "--resident-id", resident_id(n), "--work-region", "440100", "--json")
    )
    worker_id = str(enrolled["worker_id"])
    paid = ok_json(
        cli(
            "contribute",
            worker_id,
            "--from",
            "2026-01",
            "--to",
            "2026-05",
            "--base",
            "8000",
            "--id",
            f"pay-{n}",
            "--json",
        )
    )
    assert [(p["individual_account_fen"], p["pooled_fen"]) for p in paid] == [(64_000, 96_000)] * 5
    return worker_id


def test_estimate_transfer_and_settle(cli: Run) -> None:
    worker_id = enrol_and_pay(cli, 21)

    estimate = ok_json(cli("pension", "estimate", worker_id, "--json"))
    scenarios = {s["scenario"]: s for s in estimate["scenarios"]}
    assert set(scenarios) == {"current_law", "money_follows_person"}
    for s in scenarios.values():
        assert s["contribution_months_paid"] == 5 and s["paying_province"] == "440000"
        ahead = s["projection"]  # paying on in Guangzhou until the statutory age
        assert s["contribution_months"] == 5 + ahead["months"] and ahead["region"] == "440100"
        assert s["basic_pension_fen"] > 0 and s["account_pension_fen"] > 0
        # 广东 pays its 加发 100 and 缴费年限津贴 4 × whole years beside the three (from 2024-05)
        assert s["extra_pension_fen"] == 10_000 + 400 * (s["contribution_months"] // 12)
        assert s["total_fen"] == (
            s["basic_pension_fen"]
            + s["account_pension_fen"]
            + s["transitional_pension_fen"]
            + s["extra_pension_fen"]
        )
        assert s["explanation"]
    assert set(estimate["difference_fen"]) == {
        "basic_pension_fen",
        "account_pension_fen",
        "total_fen",
    }

    request = (
        "transfer",
        "request",
        "move-1",
        "--worker",
        worker_id,
        "--to",
        "330100",
        "--scenario",
        "money_follows_person",
        "--json",
    )
    requested = ok_json(cli(*request))
    assert {
        k: requested[k]
        for k in (
            "transfer_id",
            "worker_id",
            "from_region",
            "to_region",
            "scenario",
            "state",
            "next_step",
            "requested_on",
        )
    } == {
        "transfer_id": "move-1",
        "worker_id": worker_id,
        "from_region": "440100",
        "to_region": "330100",
        "scenario": "money_follows_person",
        "state": "requested",
        "next_step": "approve",
        "requested_on": TODAY,
    }
    # 5 × 640.00 to the account; the whole entitlement, 5 × 960.00 (no 2025 to earn interest)
    assert (requested["account_fen"], requested["pooled_fen"]) == (320_000, 480_000)
    assert ok_json(cli(*request)) == requested  # a replay returns the first result

    for step, state, next_step in (
        ("approve", "approved", "accept"),
        ("accept", "accepted", "complete"),
        ("complete", "completed", None),
    ):
        view = ok_json(cli("transfer", step, "move-1", "--json"))
        assert (view["state"], view["next_step"]) == (state, next_step)
        assert (view["account_fen"], view["pooled_fen"]) == (320_000, 480_000)
    assert view["completed_on"] == TODAY
    assert ok_json(cli("transfer", "status", "move-1", "--json")) == view

    window = ("--window", TODAY, "--json")
    refused = cli("settlement", "close", *window)  # the day is not over yet
    assert (refused.returncode, refused.stdout) == (2, "") and "not over" in refused.stderr
    closed = ok_json(cli("settlement", "close", *window, today=NEXT_DAY))
    reported = ok_json(cli("settlement", "report", *window))
    assert closed == reported
    assert reported["closed"] is True
    assert reported["net_positions_fen"] == {"330100": -800_000, "440100": 800_000}
    assert sum(reported["net_positions_fen"].values()) == 0
    assert reported["regions"] == ["330100", "440100"]
    assert reported["matrix_fen"] == [[0, 0], [800_000, 0]]  # row: from, column: to
    assert reported["flows"] == [
        {"from": "440100", "to": "330100", "amount_fen": 800_000, "transfers": 1}
    ]

    audited = ok_json(cli("audit", "verify", "--json"))
    assert audited["ok"] is True
    assert ok_json(cli("settlement", "close", *window, today=NEXT_DAY)) == closed  # nothing new
    assert ok_json(cli("audit", "verify", "--json")) == audited
    human = cli("settlement", "report", "--window", TODAY)
    assert human.returncode == 0 and "440100 → 330100: 8000.00 (1)" in human.stdout


# --- user errors, against one prepared database per backend -----------------------------------


class Prepared:
    """A worker insured in 440100 who paid 2026-01..05, with the transfer "open" requested."""

    def __init__(self, run: Run, engine: Engine) -> None:
        self.run, self.engine = run, engine
        self.worker_id = enrol_and_pay(run, 31)
        opened = ok_json(
            run(
                "transfer",
                "request",
                "open",
                "--worker",
                self.worker_id,
                "--to",
                "330100",
                "--json",
            )
        )
        assert opened["state"] == "requested"

    def counts(self) -> tuple[int, ...]:
        with unit_of_work(self.engine) as c:
            return tuple(
                c.execute(select(func.count()).select_from(t)).scalar_one() for t in TABLES
            )


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def prepared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Prepared]:
    directory = tmp_path_factory.mktemp(f"transfer-cli-{request.param}")
    engine, schema = migrated_engine(request.param, directory)
    if schema is None:
        run = runner(f"sqlite:///{directory / 'suiren.db'}", {}, directory)
    else:
        run = runner(POSTGRES_URL, {"PGOPTIONS": f"-csearch_path={schema}"}, directory)
    try:
        yield Prepared(run, engine)
    finally:
        release(engine, schema)


BAD_INPUTS = {
    "transfer to the same region": (
        ("transfer", "request", "bad-1", "--worker", "{worker}", "--to", "440100", "--json"),
        ["already insured in 440100"],
    ),
    "transfer to an unknown region code": (
        ("transfer", "request", "bad-2", "--worker", "{worker}", "--to", "440199", "--json"),
        ["unknown region code 440199"],
    ),
    "approve an unknown transfer": (
        ("transfer", "approve", "no-such-transfer", "--json"),
        ["no transfer 'no-such-transfer'"],
    ),
    "accept before approve": (
        ("transfer", "accept", "open", "--json"),
        ["transfer open is requested", "approved", "next step: approve"],
    ),
    "settlement window not a date": (
        ("settlement", "close", "--window", "not-a-date", "--json"),
        ["--window must be YYYY-MM-DD", "'not-a-date'"],
    ),
    "settlement report window not a date": (
        ("settlement", "report", "--window", "2026-13-01", "--json"),
        ["--window must be YYYY-MM-DD"],
    ),
    "transfer of an unknown scheme": (
        (
            "transfer",
            "request",
            "bad-3",
            "--worker",
            "{worker}",
            "--to",
            "330100",
            "--scheme",
            "resident_pension",
            "--json",
        ),
        ["--scheme must be one of employee_pension, employee_medical", "'resident_pension'"],
    ),
    "medical transfer of a worker not enrolled in medical": (
        (
            "transfer",
            "request",
            "bad-4",
            "--worker",
            "{worker}",
            "--to",
            "330100",
            "--scheme",
            "employee_medical",
            "--json",
        ),
        ["not enrolled in employee_medical"],
    ),
    "settlement of an unknown scheme": (
        ("settlement", "close", "--window", "2026-06-14", "--scheme", "nope", "--json"),
        ["--scheme must be one of", "'nope'"],
    ),
    "gather before retirement age": (
        ("transfer", "gather", "{worker}", "--id", "g-bad", "--json"),
        ["gathering (归集) is at retirement", "may retire from"],
    ),
    "gather of an unknown worker": (
        ("transfer", "gather", "WNOBODY", "--id", "g-bad", "--json"),
        ["WNOBODY"],
    ),
}


@pytest.mark.parametrize(("args", "expected"), BAD_INPUTS.values(), ids=list(BAD_INPUTS))
def test_bad_input_exits_2_writes_nothing(prepared: Prepared, args, expected) -> None:
    before = prepared.counts()
    message = user_error(prepared.run(*(a.format(worker=prepared.worker_id) for a in args)))
    for text in expected:
        assert text in message, (text, message)
    assert prepared.counts() == before


def test_overdue_lists_the_open_request_once_its_deadline_has_passed(prepared: Prepared) -> None:
    assert ok_json(prepared.run("transfer", "status", "--overdue", "--json")) == []
    late = ok_json(prepared.run("transfer", "status", "--overdue", "--json", today="2027-01-04"))
    assert [(v["transfer_id"], v["state"], v["worker_id"]) for v in late] == [
        ("open", "requested", prepared.worker_id)
    ]
    assert late[0]["due_on"] < "2027-01-04"
    human = prepared.run("transfer", "status", "--overdue", today="2027-01-04")
    assert human.returncode == 0 and human.stdout.startswith("open [已申请] 期限 ")
    assert human.stdout.splitlines()[1].startswith("open [requested] due ")
