"""``suiren api-key issue / list / revoke`` (in-process, tests/cli/runner.py), on both
databases: a key is shown once, listed without its secret, and refused once revoked."""

from __future__ import annotations

from tests.cli.runner import Run
from tests.cli.test_ledger_cli import ok_json, user_error


def test_issue_list_and_revoke(cli: Run) -> None:
    issued = ok_json(cli("api-key", "issue", "--actor", "agency", "--scope", "440100",
                         "--label", "广州", "--json"))  # fmt: skip
    key, key_id = issued["key"], issued["key_id"]
    assert key.startswith(f"sk_{key_id}_")
    listed = cli("api-key", "list", "--json")
    assert listed.returncode == 0 and key not in listed.stdout  # the secret is never shown
    rows = ok_json(listed)
    assert [(r["key_id"], r["actor"], r["scope"], r["revoked_at"]) for r in rows] == [
        (key_id, "agency", "440100", None)
    ]
    revoked = ok_json(cli("api-key", "revoke", key_id, "--json"))
    again = ok_json(cli("api-key", "revoke", key, "--json"))  # the key itself names it too
    assert again["revoked_at"] == revoked["revoked_at"]  # the first revocation stands
    assert ok_json(cli("api-key", "list", "--json"))[0]["revoked_at"] == revoked["revoked_at"]
    assert "revoked" in cli("api-key", "list").stdout
    assert "no API key with id" in user_error(cli("api-key", "revoke", "0" * 16))
