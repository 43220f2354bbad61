"""``suiren platform declare / end / list`` end to end (in-process, tests/cli/runner.py), on
both databases: the twins of the API's platform routes, over the same service."""

from __future__ import annotations

from tests.cli.runner import Run
from tests.cli.test_ledger_cli import RESIDENT_ID, enrol, ok_json, user_error
from tests.ledger_helpers import resident_id


def declare(cli: Run, *more: str) -> dict[str, object]:
    return ok_json(  # type: ignore[no-any-return]
        cli(
            "platform", "declare", "--platform", "courier-co", "--resident-id", RESIDENT_ID,
            "--work-region", "440100", "--json", *more,
        )
    )  # fmt: skip


def test_declare_replay_change_end_and_list(cli: Run) -> None:
    worker = enrol(cli)
    first = declare(cli, "--relation", "labour", "--from", "2026-06-01")
    assert first["worker_id"] == worker and first["recorded"] and not first["new_worker"]
    again = declare(cli, "--relation", "labour")
    assert not again["recorded"] and again["engagement"]["since"] == "2026-06-01"  # type: ignore[index]
    changed = declare(cli, "--relation", "civil", "--from", "2026-06-10")
    assert changed["engagement"]["period"] == 2  # type: ignore[index]
    ended = ok_json(cli("platform", "end", worker, "--platform", "courier-co", "--until",
                        "2026-06-12", "--json"))  # fmt: skip
    assert ended["engagement"]["until"] == "2026-06-12" and ended["recorded"]
    text = cli("platform", "end", worker, "--platform", "courier-co", "--until", "2026-06-12")
    assert text.returncode == 0 and "already ended" in text.stdout
    refused = cli("platform", "end", worker, "--platform", "courier-co", "--until", "2026-06-13")
    assert "ended on 2026-06-12 already" in user_error(refused)
    other = cli("platform", "end", worker, "--platform", "ride-co")
    assert "has not declared" in user_error(other)
    listed = ok_json(cli("platform", "list", "--platform", "courier-co", "--json"))
    assert [(w["worker_id"], w["relation"], w["until"]) for w in listed["workers"]] == [
        (worker, "civil", "2026-06-12")
    ]
    assert ok_json(cli("platform", "list", "--platform", "ride-co", "--json"))["workers"] == []


def test_refusals_name_the_input(cli: Run) -> None:
    young = cli(
        "platform", "declare", "--platform", "courier-co", "--resident-id",
        resident_id(12, "20110101"), "--work-region", "440100", "--relation", "civil",
    )  # fmt: skip
    assert "劳动法 第十五条" in user_error(young)
    future = cli(
        "platform", "declare", "--platform", "courier-co", "--resident-id", RESIDENT_ID,
        "--work-region", "440100", "--relation", "civil", "--from", "2026-06-16",
    )  # fmt: skip
    assert "after today" in user_error(future)
    odd = cli("platform", "list", "--platform", "a/b")
    assert "platform id" in user_error(odd)
    relation = cli(
        "platform", "declare", "--platform", "courier-co", "--resident-id", RESIDENT_ID,
        "--work-region", "440100", "--relation", "employee",
    )  # fmt: skip
    assert "--relation" in user_error(relation)
