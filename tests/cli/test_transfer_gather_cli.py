"""``suiren transfer gather`` and ``--scheme employee_medical`` end to end, one command at a
time (in-process, tests/cli/runner.py), with SUIREN_TODAY set to the day each step happens.

The gathering story (国办发〔2009〕66号): a woman born in January 1984 with a Henan hukou
(410000) enrols in Guangzhou (440100) in 2022 and pays there until 2025; at 42 she moves to
Hangzhou (330100), which opens a temporary account (临时账户: a woman of 40 or more outside her
hukou province), and pays there. Under current law, with fewer than ten years anywhere, the
pension is paid by her hukou province: ``transfer gather`` gathers the temporary account
(kind gather, all principal) and moves the relation (kind claim) to the Henan city.
"""

from __future__ import annotations

from tests.cli.runner import Run
from tests.cli.test_transfer_cli import ok_json, user_error
from tests.ledger_helpers import resident_id

HUKOU, GUANGZHOU, HANGZHOU, ZHENGZHOU = "410000", "440100", "330100", "410100"
TODAY, NEXT_DAY = "2026-06-15", "2026-06-16"
RETIRED, RETIRED_NEXT_DAY = "2039-01-15", "2039-01-16"  # she may retire from 55 (2039-01)
BASE = "8000"  # yuan, within every year's range in both cities


def pay(cli: Run, worker: str, first: str, last: str, request_id: str, today: str) -> list:
    return list(
        ok_json(
            cli(
                "contribute",
                worker,
                "--from",
                first,
                "--to",
                last,
                "--base",
                BASE,
                "--id",
                request_id,
                "--json",
                today=today,
            )
        )
    )


def steps(cli: Run, transfer_id: str, today: str) -> dict:
    view: dict = {}
    for step, state in (("approve", "approved"), ("accept", "accepted"), ("complete", "completed")):
        view = ok_json(cli("transfer", step, transfer_id, "--json", today=today))
        assert view["state"] == state, view
    return view


def test_gather_at_retirement_creates_a_gather_and_a_claim_transfer(cli: Run) -> None:
    enrolled = ok_json(
        cli(
            "worker",
            "enrol",
            "--resident-id",
            resident_id(41, "19840101", male=False),
            "--work-region",
            GUANGZHOU,
            "--hukou-region",
            HUKOU,
            "--json",
            today="2022-03-02",
        )
    )
    worker = str(enrolled["worker_id"])
    assert (enrolled["region"], enrolled["temporary_account"]) == (GUANGZHOU, False)
    guangzhou = pay(cli, worker, "2022-07", "2022-12", "gz22", "2022-12-15")
    for year in (2023, 2024, 2025):
        guangzhou += pay(cli, worker, f"{year}-01", f"{year}-12", f"gz{year}", f"{year}-12-15")
    assert len(guangzhou) == 42  # under ten years in Guangdong (its wages start 2022-07)

    moved = ok_json(
        cli(
            "transfer",
            "request",
            "to-hz",
            "--worker",
            worker,
            "--to",
            HANGZHOU,
            "--json",
            today="2026-01-05",
        )
    )
    assert (moved["kind"], moved["temporary"], moved["account_fen"]) == ("continue", True, 0)
    assert steps(cli, "to-hz", "2026-01-05")["completed_on"] == "2026-01-05"
    hangzhou = pay(cli, worker, "2026-01", "2026-05", "hz26", TODAY)
    assert len(hangzhou) == 5

    # a city outside the paying province is refused, and nothing is created
    refused = user_error(
        cli("transfer", "gather", worker, "--id", "g0", "--to", HANGZHOU, today=RETIRED)
    )
    assert "330100 is not in the paying province 410000" in refused
    assert (
        user_error(cli("transfer", "status", "g0/330100", today=RETIRED)).count("no transfer") == 1
    )

    gathered = ok_json(
        cli("transfer", "gather", worker, "--id", "g1", "--to", ZHENGZHOU, "--json", today=RETIRED)
    )
    assert [
        (
            v["transfer_id"],
            v["kind"],
            v["from_region"],
            v["to_region"],
            v["state"],
            v["scheme"],
            v["temporary"],
        )
        for v in gathered
    ] == [
        ("g1/330100", "gather", HANGZHOU, ZHENGZHOU, "requested", "employee_pension", False),
        ("g1/440100", "claim", GUANGZHOU, ZHENGZHOU, "requested", "employee_pension", False),
    ]
    gather, claim = gathered
    # the temporary account gathers everything paid into it: the account and the whole pooled
    # part, the pooled part with the interest of 2026–2038 (the account is credited it at
    # approval; exact to the fen in tests/services/test_gathering.py)
    assert gather["account_fen"] == sum(p["individual_account_fen"] for p in hangzhou)
    assert gather["pooled_fen"] > sum(p["pooled_fen"] for p in hangzhou)  # with its interest
    assert gather["kept_fen"] == 0
    # the relation moves as a transfer would under current law: the account, 12% of the bases
    assert claim["account_fen"] == sum(p["individual_account_fen"] for p in guangzhou)
    assert claim["pooled_fen"] == 42 * 96_000
    again = ok_json(
        cli("transfer", "gather", worker, "--id", "g1", "--to", ZHENGZHOU, "--json", today=RETIRED)
    )
    assert again == gathered  # a replay returns the same transfers

    human = cli("transfer", "gather", worker, "--id", "g1", "--to", ZHENGZHOU, today=RETIRED)
    assert human.returncode == 0, human.stderr
    said = human.stdout.splitlines()
    lines = [line for line in said if not line.startswith(("  注意：", "  note: "))]
    assert len(lines) == 4  # each transfer: its Chinese line, then its English line
    # the gathered pooled part's interest of 2038 is at a rate not published on 2039-01-15:
    # the gather says so under it, as its JSON does (a replay alike): Chinese, then English
    assert said[2].startswith("  注意：") and "account.interest_rate" in said[2], said
    assert said[3].startswith("  note: ") and "account.interest_rate" in said[3], said
    assert [w["code"] for w in gather["warnings"]] == ["provisional-parameter"]
    assert lines[0].startswith(f"g1/330100: {worker} 330100 → 410100 [已申请] 职工养老，归集")
    assert lines[1].startswith(
        f"g1/330100: {worker} 330100 → 410100 [requested] employee_pension, gather"
    )
    assert "个人账户 " in lines[0] and "统筹 " in lines[0]
    assert "account " in lines[1] and "pooled " in lines[1]
    assert lines[2].startswith(f"g1/440100: {worker} 440100 → 410100 [已申请]")
    assert "待遇领取地转入" in lines[2] and "claim" in lines[3]

    done = [steps(cli, t, RETIRED) for t in ("g1/330100", "g1/440100")]
    assert [(v["kind"], v["state"]) for v in done] == [
        ("gather", "completed"),
        ("claim", "completed"),
    ]
    # Guangzhou never credited 2022–2025: the claim's approval credits those years first
    assert done[1]["account_fen"] > claim["account_fen"]
    assert done[1]["pooled_fen"] == claim["pooled_fen"]
    # Hangzhou never credited 2026–2038 either: the account gets those years at approval
    assert done[0]["account_fen"] > gather["account_fen"]
    assert done[0]["pooled_fen"] == gather["pooled_fen"]
    status = cli("transfer", "status", "g1/440100", today=RETIRED)
    assert (
        status.returncode == 0
        and "职工养老，" in status.stdout
        and "] employee_pension," in status.stdout
    )
    assert "，待遇领取地转入（" in status.stdout and ", claim (" in status.stdout

    closed = ok_json(
        cli("settlement", "close", "--window", RETIRED, "--json", today=RETIRED_NEXT_DAY)
    )
    moved_total = {v["from_region"]: v["account_fen"] + v["pooled_fen"] for v in done}
    assert closed["scheme"] == "employee_pension"
    assert closed["net_positions_fen"] == {
        HANGZHOU: moved_total[HANGZHOU],
        ZHENGZHOU: -sum(moved_total.values()),
        GUANGZHOU: moved_total[GUANGZHOU],
    }
    assert ok_json(cli("audit", "verify", "--json", today=RETIRED))["ok"] is True
    nothing = user_error(
        cli("transfer", "gather", worker, "--id", "g2", "--to", ZHENGZHOU, today=RETIRED)
    )
    assert "nothing to gather" in nothing


def test_transfer_gather_refuses_an_unknown_worker_and_a_bad_id(cli: Run) -> None:
    unknown = user_error(cli("transfer", "gather", "WNOBODY", "--id", "g1"))
    assert "WNOBODY" in unknown
    bad_id = user_error(cli("transfer", "gather", "WNOBODY", "--id", "bad id!"))
    assert "--id must be a gathering id: 1–90 ASCII letters" in bad_id


def test_a_missing_option_is_a_usage_error_exit_2(cli: Run) -> None:
    """Typer ≥ 0.20 raises its vendored ``typer._click`` usage errors, not click's: cli/main.py
    must map those to exit 2 too (not a traceback and exit 1)."""
    missing = cli("transfer", "gather", "WNOBODY")
    assert (missing.returncode, missing.stdout) == (2, ""), missing.stderr[-300:]
    assert "Missing option '--id'" in missing.stderr and "Traceback" not in missing.stderr


def test_medical_transfer_and_settlement_with_scheme(cli: Run) -> None:
    worker = str(
        ok_json(
            cli(
                "worker",
                "enrol",
                "--scheme",
                "employee_medical",
                "--resident-id",
                resident_id(42),
                "--work-region",
                "310000",
                "--hukou-region",
                HUKOU,
                "--json",
            )
        )["worker_id"]
    )
    # Shanghai: 10% of 10,000.00 yuan, 2% of it (200.00) to the account, 800.00 pooled
    ok_json(
        cli(
            "medical",
            "contribute",
            worker,
            "--from",
            "2026-01",
            "--to",
            "2026-03",
            "--base",
            "10000",
            "--id",
            "med",
            "--json",
        )
    )
    bad = user_error(
        cli(
            "transfer",
            "request",
            "m0",
            "--worker",
            worker,
            "--to",
            GUANGZHOU,
            "--scheme",
            "resident_medical",
        )
    )
    assert "--scheme must be one of employee_pension, employee_medical" in bad
    pension = user_error(cli("transfer", "request", "m0", "--worker", worker, "--to", GUANGZHOU))
    assert "not enrolled in employee_pension" in pension

    request = (
        "transfer",
        "request",
        "m1",
        "--worker",
        worker,
        "--to",
        GUANGZHOU,
        "--scheme",
        "employee_medical",
        "--json",
    )
    requested = ok_json(cli(*request))
    assert {
        k: requested[k]
        for k in (
            "scheme",
            "kind",
            "from_region",
            "to_region",
            "account_fen",
            "pooled_fen",
            "kept_fen",
            "due_on",
        )
    } == {
        "scheme": "employee_medical",
        "kind": "move",
        "from_region": "310000",
        "to_region": GUANGZHOU,
        "account_fen": 60_000,
        "pooled_fen": 0,
        "kept_fen": 240_000,
        "due_on": "2026-06-30",  # 10 working days, 端午 (06-19) excluded
    }
    assert ok_json(cli(*request)) == requested
    view = steps(cli, "m1", TODAY)
    assert view["due_on"] == "2026-06-23"  # complete: 5 working days after the acceptance
    text = cli("transfer", "status", "m1")
    assert text.returncode == 0, text.stderr
    assert "职工医保，转移" in text.stdout and "employee_medical, move" in text.stdout
    assert "个人账户 600.00" in text.stdout and "留在原地 2400.00" in text.stdout
    assert "account 600.00" in text.stdout and "left behind 2400.00" in text.stdout

    window = ("--window", TODAY, "--scheme", "employee_medical", "--json")
    closed = ok_json(cli("settlement", "close", *window, today=NEXT_DAY))
    assert (closed["scheme"], closed["closed"]) == ("employee_medical", True)
    assert closed["net_positions_fen"] == {"310000": 60_000, GUANGZHOU: -60_000}
    assert closed["flows"] == [
        {"from": "310000", "to": GUANGZHOU, "amount_fen": 60_000, "transfers": 1}
    ]
    assert ok_json(cli("settlement", "report", *window)) == closed
    pension_window = ok_json(cli("settlement", "report", "--window", TODAY, "--json"))
    assert (pension_window["scheme"], pension_window["closed"]) == ("employee_pension", False)
    assert pension_window["flows"] == [] and pension_window["net_positions_fen"] == {}
    human = cli("settlement", "report", "--window", TODAY, "--scheme", "employee_medical")
    assert human.returncode == 0 and "职工医保（已清算）\nwindow " in human.stdout
    assert " employee_medical (closed)" in human.stdout
    assert "310000 → 440100: 600.00 (1)" in human.stdout
    wrong = user_error(cli("settlement", "report", "--window", TODAY, "--scheme", "pension"))
    assert "--scheme must be one of" in wrong and "'pension'" in wrong
    assert ok_json(cli("audit", "verify", "--json"))["ok"] is True
