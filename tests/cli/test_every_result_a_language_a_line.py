"""Every result a command prints is a Chinese line, then its English line with the same ids,
months and amounts (tests/bilingual.py ``line_problems``), for the commands
tests/cli/test_a_language_a_line.py does not walk: the files (``worker enrol --file``,
``contribute --file`` with a refused row, sent again and ``--all-or-nothing``,
``worker import-history``), a worker's records (``db upgrade``, ``key generate``, ``worker
enrol``, ``reverse``, ``worker statement``, ``worker sessions-end``, ``interest credit``,
``audit``, ``api-key``, ``clerk``, ``platform``, ``medical``, ``rules provenance``'s counts)
and the agencies' (``transfer``'s steps, ``reject`` and ``status --overdue``,
``settlement``). ``--json`` is not these tests' (each command's own tests read it). A
command of the app that no walk runs fails ``test_every_command_is_walked``, unless it is
said there why not.

Codes are no language's words and are written alike in both lines, so they are put as one
letter before the check, as tests/cli/test_a_language_a_line.py puts a worker's id (a
worker's or an API key's id, the test's folder, a URL, a file's name, an option such as
``--errors FILE``, a file's column named by a refused row: tests/bilingual.py ``CODES``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.bilingual import CJK, codes_as_letters, line_language, line_problems
from tests.cli.runner import TODAY, Done, Run
from tests.cli.test_help_text import COMMANDS as HELPED
from tests.ledger_helpers import resident_id

GUANGZHOU, HANGZHOU = "440100", "330100"
COMMANDS = {" ".join(path) for path, c in HELPED if not getattr(c, "commands", None)}
# the commands each walk here runs (it checks it ran them all), and those of
# tests/cli/test_a_language_a_line.py and test_demo_cli.py
FILES = {"worker enrol", "contribute", "worker import-history"}
RECORDS = {
    "db upgrade", "key generate", "worker enrol", "contribute", "reverse", "worker statement",
    "worker sessions-end", "interest credit", "audit checkpoint", "audit verify", "api-key list",
    "api-key issue", "api-key revoke", "clerk add", "clerk move", "clerk sessions-end",
    "platform list",
    "platform declare", "platform end", "medical status", "medical contribute",
}  # fmt: skip
AGENCIES = {
    "transfer status", "transfer request", "transfer approve", "transfer accept",
    "transfer complete", "transfer reject", "settlement report", "settlement close",
}  # fmt: skip
ELSEWHERE = {"contribute", "transfer gather", "pension estimate", "demo"}
NOT_WALKED = {
    "serve": "it serves until stopped; its first line is a Chinese line, then an English one",
    "pension calc": "it prints JSON; its line on standard error is a Chinese line, then an"
    " English one",
    "rules provenance": "each value's line is data (a path, a date, a value, its reference);"
    " its counts are walked here",
}


def command_of(args: tuple[str, ...]) -> str:
    return next(" ".join(args[:n]) for n in (2, 1) if " ".join(args[:n]) in COMMANDS)


class Walk:
    """A test's commands: ``say(*args, status=0, today=…, input=…, skip=0)`` runs one, checks
    its exit status and keeps what it printed (codes as letters; ``skip``: its first lines, a
    secret shown once) and its name; ``check`` reads them all."""

    def __init__(self, cli: Run, tmp_path: Path) -> None:
        self.cli, self.folder = cli, str(tmp_path)
        self.lines: list[str] = []
        self.ran: set[str] = set()

    def __call__(self, *args: str, status: int = 0, today: str = TODAY,
                 input: str | None = None, skip: int = 0) -> Done:  # fmt: skip
        self.ran.add(command_of(args))
        done = self.cli(*args, today=today, input=input)
        assert done.returncode == status, (args, done.stdout, done.stderr)
        lines = done.stdout.splitlines()[skip:]
        assert any(CJK.search(line) for line in lines), (args, done.stdout)  # it said something
        self.lines += [codes_as_letters(line, self.folder) for line in lines]
        return done

    def check(self, commands: set[str], lines_min: int) -> None:
        """It ran ``commands``, each line in one language, a Chinese line before its English."""
        assert self.ran == commands and len(self.lines) >= lines_min, (self.ran, self.lines)
        problems = line_problems(self.lines) + [
            f"in neither language (a code alone where a name belongs): {line!r}"
            for line in self.lines
            if re.search("[a-z]{2}", line) and not line_language(line, "")
        ]
        assert problems == [], "\n".join(problems) + "\n\n" + "\n".join(self.lines)


def enrolled(cli: Run, n: int, *more: str) -> str:
    """Worker ``n``'s id (in Guangzhou unless ``more`` names a region)."""
    region = () if "--work-region" in more else ("--work-region", GUANGZHOU)
    done = cli("worker", "enrol", "--resident-id", resident_id(n), "--json", *region, *more)
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["worker_id"])


def test_the_summaries_of_files_and_their_refused_rows(cli: Run, tmp_path: Path) -> None:
    say = Walk(cli, tmp_path)
    people = tmp_path / "workers.csv"
    people.write_text(
        f"resident_id,work_region\n{resident_id(1)},440100\n{resident_id(2)},440100\n123,440100\n"
    )
    say("worker", "enrol", "--file", str(people), status=1)
    payments = tmp_path / "pay.csv"
    payments.write_text(
        "payment_id,month,base_yuan,resident_id\n"
        f"f,2026-01,6000,{resident_id(1)}\nf,2026-02,6000,{resident_id(1)}\n"
        f"f,2026-03,60,{resident_id(1)}\n"
    )
    say("contribute", "--file", str(payments), status=1)  # a row refused: its row and reason
    again = say("contribute", "--file", str(payments), status=1)  # what a replay did
    assert "2 行此前均已入账" in again.stdout and "2 rows were already posted" in again.stdout
    say("contribute", "--file", str(payments), "--all-or-nothing", status=2)
    stints = tmp_path / "stints.csv"
    stints.write_text(
        "resident_id,region,from_month,to_month,kind,base_yuan,index,hukou_region\n"
        f"{resident_id(3, '19700301')},440100,1992-01,1997-12,deemed,,1.0,410100\n"
        f"{resident_id(3, '19700301')},440100,1998-01,2022-12,paid,,0.9,\n"
        f"{resident_id(4, '19700301')},440100,2020-01,2019-12,paid,6000,,\n"
    )
    say("worker", "import-history", str(stints), status=1)
    say.check(FILES, 20)


def test_a_workers_records_keys_clerks_platforms_and_audit(cli: Run, tmp_path: Path) -> None:
    say = Walk(cli, tmp_path)
    say("db", "upgrade")
    say("key", "generate", "--out", str(tmp_path / "new.key"))
    say("worker", "enrol", "--resident-id", resident_id(5), "--work-region", GUANGZHOU)
    worker = enrolled(cli, 5)
    say("contribute", worker, "--from", "2026-01", "--to", "2026-03", "--base", "8000",
        "--id", "p")  # fmt: skip
    say("reverse", "p/2026-02", "--id", "r1")
    statement = say("worker", "statement", worker)
    assert "已红冲" in statement.stdout and ", reversed" in statement.stdout
    say("worker", "sessions-end", worker)
    say("interest", "credit", "--year", "2025")  # no account in 2025
    say("interest", "credit", "--year", "2026", today="2027-01-10")  # on 2025's rate
    say("interest", "credit", "--year", "2026", today="2027-01-10")  # a replay
    say("audit", "checkpoint", "--out", str(tmp_path / "anchor.json"))
    say("audit", "verify", "--checkpoint", str(tmp_path / "anchor.json"))
    say("api-key", "list")  # none yet
    say("api-key", "issue", "--actor", "agency", "--scope", GUANGZHOU, "--label", "广州", skip=1)
    issued = json.loads(
        cli("api-key", "issue", "--actor", "platform", "--scope", "p01", "--json").stdout
    )
    say("api-key", "revoke", issued["key_id"])
    say("api-key", "list")
    say("clerk", "add", "--login", "gz01", "--region", GUANGZHOU, "--password-stdin",
        input="a long pass phrase of the clerk\n")  # fmt: skip
    say("clerk", "move", "--login", "gz01", "--region", "440000")
    say("clerk", "sessions-end", "--login", "gz01")
    say("platform", "list", "--platform", "p01")  # none yet
    declare = (
        "platform", "declare", "--platform", "p01", "--resident-id", resident_id(5),
        "--work-region", GUANGZHOU, "--relation", "labour", "--from", "2026-06-01",
    )  # fmt: skip
    say(*declare)
    say(*declare)  # declared before: nothing written
    say("platform", "end", worker, "--platform", "p01", "--until", "2026-06-12")
    say("platform", "end", worker, "--platform", "p01", "--until", "2026-06-12")
    medical = enrolled(cli, 6, "--scheme", "employee_medical", "--work-region", "310000",
                       "--hukou-region", "410000")  # fmt: skip
    say("medical", "status", medical)  # never paid
    say("medical", "contribute", medical, "--from", "2026-01", "--to", "2026-02", "--base",
        "10000", "--id", "m")  # fmt: skip
    say("medical", "status", medical)
    counts = cli("rules", "provenance").stdout.splitlines()[-2:]  # each value's line is data
    say.lines += counts
    say.check(RECORDS, 50)


def test_the_overdue_transfers_and_a_settlement_window(cli: Run, tmp_path: Path) -> None:
    say = Walk(cli, tmp_path)
    moving, waiting = enrolled(cli, 7), enrolled(cli, 8)
    for worker, n in ((moving, 7), (waiting, 8)):
        done = cli("contribute", worker, "--from", "2026-01", "--to", "2026-05", "--base", "8000",
                   "--id", f"pay-{n}")  # fmt: skip
        assert done.returncode == 0, done.stderr
    say("transfer", "status", "--overdue")  # none
    say("transfer", "request", "t1", "--worker", moving, "--to", HANGZHOU)
    for step in ("approve", "accept", "complete"):
        say("transfer", step, "t1")
    say("transfer", "request", "t3", "--worker", waiting, "--to", "310000")
    say("transfer", "reject", "t3", "--reason", "走错了")
    say("transfer", "request", "t2", "--worker", waiting, "--to", HANGZHOU)
    late = say("transfer", "status", "--overdue", today="2027-01-04")
    assert late.stdout.startswith("t2 [已申请] 期限 "), late.stdout
    say("settlement", "report", "--window", TODAY)
    say("settlement", "close", "--window", TODAY, today="2026-06-16")  # the day after
    say.check(AGENCIES, 20)


def test_every_command_is_walked() -> None:
    """A new command's result is walked (here, or where its own tests read its lines), or
    said here why not."""
    assert FILES | RECORDS | AGENCIES | ELSEWHERE | set(NOT_WALKED) == COMMANDS


def test_what_a_failed_audit_names(cli: Run, database_url: tuple[str, dict[str, str]]) -> None:
    """``audit verify`` on a ledger changed behind its back: each problem a Chinese line, then
    its English line with the same values. The table and row a problem names are codes,
    alike in both lines (the row of an account is its key, worker:W…:employee_pension:…)."""
    worker = enrolled(cli, 9)
    paid = cli("contribute", worker, "--from", "2026-01", "--to", "2026-02", "--base", "8000",
               "--id", "paid")  # fmt: skip
    assert paid.returncode == 0, paid.stderr
    url, extra = database_url
    options = {"options": extra["PGOPTIONS"]} if "PGOPTIONS" in extra else {}
    engine = create_engine(url, connect_args=options)
    with engine.begin() as c:  # a balance and a worker's birth month, changed in place
        if options:  # around the append-only triggers (tests/store/test_tamper.py tampering)
            c.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            triggers = text("SELECT name FROM sqlite_master WHERE tbl_name = 'workers'"
                            " AND type = 'trigger'")  # fmt: skip
            for name in c.execute(triggers).scalars().all():
                c.execute(text(f"DROP TRIGGER {name}"))
        c.execute(text("UPDATE accounts SET balance_fen = balance_fen + 100"
                       " WHERE account LIKE 'worker:%:individual_account:%'"))  # fmt: skip
        c.execute(text("UPDATE workers SET birth_month = birth_month + 1"))
    engine.dispose()
    found = cli("audit", "verify", "--json")
    assert found.returncode == 1, found.stderr
    problems = json.loads(found.stdout)["problems"]
    tables = {p["table"] for p in problems}
    assert {"accounts", "workers"} <= tables, problems
    done = cli("audit", "verify")
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    for p in problems:  # each problem's line in each language
        assert f"  {p['table']} {p['row']}：{p['what_zh']}" in lines, (p, lines)
        assert f"  {p['table']} {p['row']}: {p['what']}" in lines, (p, lines)
    named = sorted({f"{p['table']} {p['row']}" for p in problems}, key=len, reverse=True)
    for i, line in enumerate(lines):
        for name in named:
            line = line.replace(name, "T")
        lines[i] = codes_as_letters(line)
    assert line_problems(lines) == [], "\n".join(lines)
