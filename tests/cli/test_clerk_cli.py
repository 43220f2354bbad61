"""``suiren clerk add``: a clerk's login with a generated password shown once (or one read
from standard input), refused clearly for a bad name, region or a login taken; ``move`` and
``sessions-end``, each of which ends the clerk's sessions."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, select

from suiren.services.clerks import log_in_clerk
from suiren.store.api_tables import clerks
from tests.cli.runner import Run, refusal
from tests.conftest import NOW


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_clerk_is_added_with_a_password_shown_once(cli: Run, database_url) -> None:  # type: ignore[no-untyped-def]
    added = cli("clerk", "add", "--login", "GZ.Clerk", "--region", "440100", "--json")
    assert added.returncode == 0, added.stderr
    shown = json.loads(added.stdout)
    assert (shown["login"], shown["region"]) == ("gz.clerk", "440100")
    assert len(shown["password"]) >= 20
    typed = cli("clerk", "add", "--login", "national", "--region", "000000", "--password-stdin",
                input="a typed pass phrase\n")  # fmt: skip
    assert typed.returncode == 0 and "password" not in typed.stdout, typed.stdout
    engine = create_engine(database_url[0])
    with engine.begin() as c:
        stored = c.execute(select(clerks.c.login, clerks.c.password_hash)).all()
        assert all(h.startswith("$argon2id$") for _, h in stored)
        assert shown["password"] not in str(stored)
        assert log_in_clerk(c, "gz.clerk", shown["password"], NOW) is not None
        assert log_in_clerk(c, "national", "a typed pass phrase", NOW) is not None
    engine.dispose()
    for args, says in (
        (["--login", "gz.clerk", "--region", "330100"], "already a clerk"),
        (["--login", "x", "--region", "440100"], "3 to 40"),
        (["--login", "tianhe", "--region", "440106"], "province, a city or 000000"),
        (["--login", "nowhere", "--region", "999999"], "999999"),
    ):
        assert says in refusal(cli("clerk", "add", *args)), args
    short = cli("clerk", "add", "--login", "short", "--region", "440100", "--password-stdin",
                input="short\n")  # fmt: skip
    assert "8 to 128" in refusal(short)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_clerk_is_moved_to_another_desk_and_the_audit_agrees(cli: Run, database_url) -> None:  # type: ignore[no-untyped-def]
    typed = {"input": "a typed pass phrase\n"}
    assert cli("clerk", "add", "--login", "mover", "--region", "440100", "--password-stdin",
               **typed).returncode == 0  # fmt: skip
    moved = cli("clerk", "move", "--login", "Mover", "--region", "440000", "--json")
    assert moved.returncode == 0, moved.stderr
    assert json.loads(moved.stdout) == {"login": "mover", "region": "440000"}
    assert cli("audit", "verify").returncode == 0  # the move is recorded, not a tamper
    engine = create_engine(database_url[0])
    with engine.begin() as c:
        assert c.execute(
            select(clerks.c.region, clerks.c.version, clerks.c.session_generation)
        ).one() == ("440000", 2, 1)  # the move ended the clerk's sessions
    engine.dispose()
    assert "no clerk" in refusal(cli("clerk", "move", "--login", "nobody", "--region", "440100"))


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_command_line_ends_a_clerks_sessions(cli: Run, database_url) -> None:  # type: ignore[no-untyped-def]
    """``suiren clerk sessions-end``: the clerk's token of before is refused, a new login's is
    let in, the end is recorded (the audit agrees); an unknown login is refused clearly."""
    from suiren.api.auth import Unauthorized, authenticate
    from suiren.services.clerks import sign_clerk_token

    key = b"k" * 32
    typed = {"input": "a typed pass phrase\n"}
    assert cli("clerk", "add", "--login", "desk", "--region", "440100", "--password-stdin",
               **typed).returncode == 0  # fmt: skip
    ended = cli("clerk", "sessions-end", "--login", "Desk", "--json")
    assert ended.returncode == 0, ended.stderr
    assert json.loads(ended.stdout) == {"login": "desk", "sessions_ended": True}
    assert cli("audit", "verify").returncode == 0
    engine = create_engine(database_url[0])
    with engine.begin() as c:
        before = f"Bearer {sign_clerk_token(key, 'desk', NOW, 0)}"
        with pytest.raises(Unauthorized):
            authenticate(c, before, key, NOW)
        clerk = log_in_clerk(c, "desk", "a typed pass phrase", NOW)
        assert clerk is not None and clerk.generation == 1
        now = f"Bearer {sign_clerk_token(key, 'desk', NOW, clerk.generation)}"
        assert authenticate(c, now, key, NOW).scope == "440100"
    engine.dispose()
    assert "no clerk" in refusal(cli("clerk", "sessions-end", "--login", "nobody"))
    assert "province, a city or 000000" in refusal(
        cli("clerk", "move", "--login", "mover", "--region", "440106")
    )
