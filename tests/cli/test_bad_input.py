"""Bad input is an error, never a guess or a traceback (issue 8 §5), on both databases.

1. **Every command gets garbage.** The commands are found in the Typer app (a new command
   is covered without touching this file), each argument and option by the parser it names
   in cli/options.py — a parameter without one fails the test. For each command, hypothesis
   builds command lines with at least one garbage value (made invalid by construction for
   the parameter's kind: a non-ASCII digit, a control character, a lone surrogate, an
   over-long value, a value just out of range, a comma in the wrong place…) or a broken
   command line (an unknown option, an extra argument), the other parameters valid or
   left out; ``pension calc`` also gets garbage JSON on standard input. Each must exit 2
   with a message on stderr, no traceback, nothing on stdout, and leave every table of
   the database exactly as it was (a hash of all rows before and after).
2. **The reviewer's list**, each with the reason it must give.

One prepared database per backend serves every example: a refused input changes nothing,
which is what is checked.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import typer
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from sqlalchemy import inspect as schema_of
from typer.models import ArgumentInfo, OptionInfo

from suiren.cli import options
from suiren.cli.main import app
from suiren.domain.errors import InvalidInput
from tests.cli.runner import CJK, TITLE, Done, Run, refusal, runner
from tests.conftest import POSTGRES_URL, migrated_engine, release
from tests.ledger_helpers import resident_id

EXAMPLES_PER_TARGET = 4  # per parameter of each command, and per command for a broken line
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
NOT_ASCII_DIGITS = "０５９٣۴४߂²₃"  # full-width, Arabic-Indic, Devanagari, NKo, super/subscript
CONTROLS = [chr(c) for c in (*range(0, 32), 127)]
SURROGATES = ["\udcff", "\ud800"]
LOOK_ALIKES = ["\u3000", "\u00a0", "\u200b", "，", "．", "－", "／"]  # spaces, punctuation


# --- the commands, from the app ----------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    name: str  # the option (--month) or the argument's place
    option: bool
    required: bool
    kind: str  # the parser's kind; "flag" for on/off options
    parser: options.Parser[Any] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Command:
    path: tuple[str, ...]
    params: tuple[Param, ...]


def _commands(group: typer.Typer, prefix: tuple[str, ...] = ()) -> Iterator[Command]:
    for info in group.registered_commands:
        assert info.callback is not None
        name = info.name or info.callback.__name__.replace("_", "-")
        yield Command((*prefix, name), tuple(_params(info.callback, (*prefix, name))))
    for sub in group.registered_groups:
        assert sub.typer_instance is not None and sub.name
        yield from _commands(sub.typer_instance, (*prefix, sub.name))


def _params(callback: Callable[..., Any], path: tuple[str, ...]) -> Iterator[Param]:
    for parameter in inspect.signature(callback).parameters.values():
        info = parameter.default
        assert isinstance(info, OptionInfo | ArgumentInfo), (path, parameter.name)
        option = isinstance(info, OptionInfo)
        name = (
            (info.param_decls[0] if info.param_decls else f"--{parameter.name}")
            if option
            else parameter.name
        )
        if option and parameter.annotation in (bool, "bool"):
            yield Param(name, True, False, "flag")
            continue
        parser = info.parser
        assert isinstance(parser, options.Parser), (
            f"`suiren {' '.join(path)}` {name} has no parser from suiren.cli.options: every input"
            " is parsed once at the edge"
        )
        yield Param(name, option, info.default is ..., parser.kind, parser)


COMMANDS = sorted(_commands(app), key=lambda c: c.path)


def test_the_app_has_the_commands_we_expect() -> None:
    """A sanity check of the enumeration (a new command needs no change here)."""
    paths = {" ".join(c.path) for c in COMMANDS}
    assert {
        "contribute",
        "reverse",
        "worker enrol",
        "pension calc",
        "transfer gather",
        "interest credit",
        "settlement close",
        "audit verify",
        "demo",
    } <= paths
    assert len(paths) >= 23


# --- the prepared database ------------------------------------------------------------------------


@dataclass
class Prepared:
    run: Run
    engine: Engine
    directory: Path
    worker_id: str

    def snapshot(self) -> dict[str, str]:
        """A hash of every row of each table (on PostgreSQL hashed by the server, in one
        statement: a round trip per table per example would dominate the test's time); by
        table, so that a change names where it happened."""
        with self.engine.connect() as connection:
            tables = sorted(schema_of(connection).get_table_names())
            if connection.dialect.name == "postgresql":
                rows = connection.execute(
                    text(
                        " UNION ALL ".join(
                            f"SELECT '{t}', md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), ''))"
                            f' FROM "{t}" r'
                            for t in tables
                        )
                    )
                ).all()
                return {str(t): str(h) for t, h in rows}
            out = {}
            for table in tables:
                rows = connection.execute(text(f'SELECT * FROM "{table}"')).all()
                out[table] = hashlib.sha256(
                    repr(sorted(repr(tuple(r)) for r in rows)).encode()
                ).hexdigest()
        return out


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(t for t in before.keys() | after.keys() if before.get(t) != after.get(t))


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def prepared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Prepared]:
    directory = tmp_path_factory.mktemp(f"bad-input-{request.param}")
    engine, schema = migrated_engine(request.param, directory)
    if schema is None:
        run = runner(f"sqlite:///{directory / 'suiren.db'}", {}, directory)
    else:
        run = runner(POSTGRES_URL, {"PGOPTIONS": f"-csearch_path={schema}"}, directory)
    try:
        enrolled = run(
            "worker", "enrol", "--resident-id", resident_id(71), "--work-region", "440100", "--json"
        )
        assert enrolled.returncode == 0, enrolled.stderr
        worker = str(json.loads(enrolled.stdout)["worker_id"])
        for args in (
            (
                "contribute",
                worker,
                "--from",
                "2026-01",
                "--to",
                "2026-03",
                "--base",
                "6000",
                "--id",
                "paid",
            ),
            ("transfer", "request", "open", "--worker", worker, "--to", "330100"),
        ):
            done = run(*args)
            assert done.returncode == 0, done.stderr
        (directory / "payments.csv").write_text("payment_id,month,base_yuan,worker_id\n")
        yield Prepared(run, engine, directory, worker)
    finally:
        release(engine, schema)


# --- valid and garbage values per kind ------------------------------------------------------------


def valid(kind: str, p: Prepared) -> str:
    return {
        "id": "probe-1",
        "worker": p.worker_id,
        "month": "2026-04",
        "day": "2026-06-14",
        "year": "2025",
        "yuan": "6000",
        "rate": "0.1",
        "host": "127.0.0.1",
        "port": "8000",
        "count": "5",
        "region": "330100",
        "resident-id": resident_id(72),
        "scheme": "employee_pension",
        "scenario": "current_law",
        "choice": "current_law",
        "text": "a note",
        "input-file": str(p.directory / "payments.csv"),
        "output-file": str(p.directory / "out-never-written.csv"),
        "source": "-",
    }[kind]


OUT_OF_RANGE = {
    "id": ["", "a b", "付款", "x" * 129, "a\\b", "a;b"],
    "worker": ["", "W-1", "W" * 33, "w_1"],
    "month": [
        "2026-13",
        "2026-00",
        "1899-12",
        "2201-01",
        "2026-1",
        "202604",
        "2026/04",
        "+2026-04",
        "2026-04-01",
    ],
    "day": [
        "2026-02-30",
        "20260614",
        "2026-W24-7",
        "0001-01-01",
        "9999-12-31",
        "2026-6-14",
        "2026-06-14T00:00",
    ],
    "year": ["0", "1899", "2201", "2_025", "+2025", "2025.0", "20250", "-2025"],
    "yuan": [
        "60,00",
        "6,0000",
        ",6000",
        "-6000",
        "0",
        "0.00",
        "6000.001",
        "1e3",
        "Infinity",
        "NaN",
        "0x10",
        "6_000",
        "6000.",
        ".5",
        "+6000",
        "1" + "0" * 14,
    ],
    "rate": [
        "",
        ".5",
        "1e-1",
        "0.12345",
        "NaN",
        "Infinity",
        "+0.1",
        "0,5",
        "100",
        "--0.1",
        "-0.2",
        "3.0001",
        "0x1",
        "1_0",
        "0.6%",
    ],
    "region": ["999999", "44010", "4401000", "44O100", "-440100"],
    "host": ["", "example.com", "127.0.0.256", "1.2.3", "::g", "localhost.", "0x7f000001"],
    "port": ["", "0", "65536", "08000", "-1", "80.0", "http", "8_000"],
    "count": ["", "0", "1001", "05", "-1", "5.0", "five", "5_0"],
    "resident-id": [
        resident_id(72)[:-1] + ("0" if resident_id(72)[-1] != "0" else "1"),
        resident_id(72)[:17],
        "1" * 18,
        "44010619900101X011",
    ],
    "scheme": ["resident_pension", "EMPLOYEE_PENSION", "", "employee pension"],
    "scenario": ["Current_law", "", "../current_law"],
    "choice": ["Current_law", ""],
    "text": ["x" * 201, "a\nb", "\u202e", "tab\there\x00"],
    "input-file": ["", "/nonexistent/payments.csv", "."],
    "output-file": ["", "a\x00b", "/nonexistent/folder/out.csv", "."],
    "source": ["", "/nonexistent/cases.json", "."],
}
ASCII_ONLY = {"id", "worker", "month", "day", "year", "yuan", "rate", "host", "port", "count", "region", "resident-id", "scheme",
              "scenario", "choice"}  # fmt: skip


@st.composite
def garbage(draw: st.DrawFn, kind: str, good: str) -> str:
    """A value of ``kind`` that no parser may accept."""
    choices = [
        st.sampled_from(OUT_OF_RANGE[kind]),
        st.integers(5_000, 6_000).map(lambda n: "9" * n),
    ]  # over every limit
    if kind in ASCII_ONLY or kind in ("input-file", "source"):
        inserted = st.sampled_from([*NOT_ASCII_DIGITS, *CONTROLS, *SURROGATES, *LOOK_ALIKES])
        choices.append(
            st.tuples(st.integers(0, len(good)), inserted).map(
                lambda pair: good[: pair[0]] + pair[1] + good[pair[0] :]
            )
        )
        choices += [st.just(good + "\n"), st.just(" " + good), st.just(good.translate(FULL_WIDTH))]
    if kind == "text":
        inserted = st.sampled_from([*CONTROLS, *SURROGATES, "\u202e", "\ufeff", "\ue000"])
        choices.append(
            st.tuples(st.integers(0, len(good)), inserted).map(
                lambda pair: good[: pair[0]] + pair[1] + good[pair[0] :]
            )
        )
    value = draw(st.one_of(choices))
    if value == good:  # a mutation that changed nothing (e.g. the full-width form of an id)
        value = good + "\x00"
    return value


CASE = {"region": "440100", "sex": "M", "birth": "1970-01", "base_yuan": "8000",
        "average_index": "1", "contribution_years": "20", "account_yuan": "1000"}  # fmt: skip
JSON_VALUES = [
    [],
    {},
    ["440100"],
    {"a": 1},
    True,
    None,
    -1.5,
    -1,
    10**30,
    "",
    "x" * 100,
    "８０００",
    "20\n",
    "0000-01",
    "9999-01",
    "2190-01",
    "NaN",
    "1e999",
]
OPTIONAL = ("retire", "category", "id", "divisor_months")


def still_valid(field: str, value: Any) -> bool:
    """Whether ``value`` is an acceptable ``field`` of a case (then the test nests it)."""
    if value is None:
        return field in OPTIONAL
    if field == "id":
        return (isinstance(value, str) and len(value) <= 64) or (
            isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63
        )
    return field == "category" and value == ""  # an empty category is no category


@st.composite
def garbage_json(draw: st.DrawFn) -> str:
    """pension calc input that must be refused: broken JSON, a field of the wrong type or
    out of range, an unknown field, a key twice, deep nesting, an empty array."""
    field = draw(st.sampled_from([*CASE, *OPTIONAL]))
    bad = draw(st.sampled_from(JSON_VALUES))
    if still_valid(field, bad):
        bad = [bad]  # an array where a value belongs
    body = json.dumps(dict(CASE) | {field: bad}, ensure_ascii=False)
    how = draw(
        st.sampled_from(["field", "field", "unknown", "twice", "deep", "empty", "broken", "nan"])
    )
    if how == "field":
        return body
    if how == "unknown":
        return json.dumps(dict(CASE) | {"base": "8000"})
    if how == "twice":
        return body[:-1] + ', "region": "110000"}'
    if how == "deep":
        depth = draw(st.integers(2, 50_000))
        return "[" * depth + json.dumps(CASE) + "]" * depth
    if how == "empty":
        return "[]"
    if how == "nan":
        return json.dumps(CASE).replace(
            '"8000"', draw(st.sampled_from(["NaN", "Infinity", "1e999"]))
        )
    return body[: draw(st.integers(0, len(body) - 1))]


# --- 1. every command, garbage ---------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    args: list[str]
    stdin: str | None


# A command line each of these commands would carry out (with "{w}" the prepared worker): the
# garbage replaces one of its values, so that a parser that let it through would be seen
# (exit 0, or the database changed). A command not listed here gets its parameters at random.
BASELINES: dict[tuple[str, ...], dict[str, str]] = {
    ("contribute",): {"worker_id": "{w}", "--month": "2026-04", "--base": "6000", "--id": "b-1"},
    ("medical", "contribute"): {
        "worker_id": "{w}",
        "--month": "2026-04",
        "--base": "6000",
        "--id": "b-2",
    },
    ("reverse",): {"tx_id": "paid/2026-03", "--id": "b-3", "--memo": "a note"},
    ("worker", "enrol"): {"--resident-id": resident_id(72), "--work-region": "440100"},
    ("worker", "statement"): {"worker_id": "{w}"},
    ("worker", "sessions-end"): {"worker_id": "{w}"},
    ("medical", "status"): {"worker_id": "{w}"},
    ("interest", "credit"): {"--year": "2025"},
    ("transfer", "approve"): {"transfer_id": "open"},
    ("transfer", "accept"): {"transfer_id": "open"},
    ("transfer", "complete"): {"transfer_id": "open"},
    ("transfer", "reject"): {"transfer_id": "open", "--reason": "a note"},
    ("transfer", "status"): {"transfer_id": "open"},
    ("transfer", "request"): {"transfer_id": "b-4", "--worker": "{w}", "--to": "330100"},
    ("transfer", "gather"): {"worker_id": "{w}", "--id": "b-5"},
    ("settlement", "close"): {"--window": "2026-06-14"},
    ("settlement", "report"): {"--window": "2026-06-14"},
    ("pension", "estimate"): {"worker_id": "{w}"},
    ("pension", "calc"): {"--date": "2026-06-14"},
}


@st.composite
def bad_lines(draw: st.DrawFn, command: Command, target: Param | None, p: Prepared) -> Line:
    """A command line with ``target`` garbage (and perhaps one more parameter), or with no
    target a broken line: an unknown option, surplus arguments, or (pension calc) bad JSON."""
    parsed = [q for q in command.params if q.kind != "flag"]
    baseline = BASELINES.get(command.path)
    broken = (
        "value" if target else draw(st.sampled_from(["unknown-option", "extra-argument", "stdin"]))
    )
    bad = set()
    if target is not None:
        bad = {target, *draw(st.lists(st.sampled_from(parsed), max_size=1))}
    args = list(command.path)
    positional: list[str] = []
    for q in command.params:
        if q.kind == "flag":
            if draw(st.booleans()):
                args.append(q.name)
            continue
        if baseline is not None and q not in bad and q.name not in baseline:
            continue  # not part of the command line that would be carried out
        if baseline is None and q not in bad and not q.required and not draw(st.booleans()):
            continue  # left out
        good = (baseline or {}).get(q.name, valid(q.kind, p)).replace("{w}", p.worker_id)
        value = draw(garbage(q.kind, good)) if q in bad else good
        if q.option:
            args += [q.name, value]
        else:
            positional.append(value)
    args += ["--", *positional] if positional else []
    if broken == "unknown-option":
        args.insert(len(command.path), "--no-such-option")
    elif broken == "extra-argument":
        args += [*([] if positional else ["--"]), "surplus", "arguments"]
    stdin = None
    if command.path == ("pension", "calc"):  # the JSON is garbage when nothing else is
        stdin = draw(garbage_json()) if target is None else json.dumps(CASE)
    elif broken == "stdin":
        args.insert(len(command.path), "--no-such-option")
    return Line(args, stdin)


def refused_cleanly(done: Done) -> None:
    assert done.returncode == 2, f"exit {done.returncode}"
    assert done.stdout == "", "something on stdout"
    assert done.stderr.strip(), "no message on stderr"
    assert "Traceback" not in done.stderr, "a traceback"
    if "--json" not in done.args:  # the kind in Chinese, then English (cli/usage.py too)
        kind = done.stderr.split("\n", 1)[0]
        assert TITLE.match(f"{kind}\nerror: ") and "\nerror: " in done.stderr, "not 错误：…"


def checker(
    command: Command,
    target: Param | None,
    p: Prepared,
    before: dict[str, str],
    tried: dict[str, int],
) -> Callable[[], None]:
    """The property for one command and parameter: every bad line refused cleanly, the
    database unchanged."""
    name = " ".join(command.path)

    @settings(
        max_examples=EXAMPLES_PER_TARGET,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(line=bad_lines(command, target, p))
    def check(line: Line) -> None:
        shown = " ".join(
            a if a.isprintable() and a and " " not in a else repr(a) for a in line.args
        )
        note(f"suiren {shown}" + ("" if line.stdin is None else f"  < {line.stdin[:300]!r}"))
        done = p.run(*line.args, input=line.stdin)
        tried[name] = tried.get(name, 0) + 1
        try:
            refused_cleanly(done)
            changed = changed_tables(before, p.snapshot())
            assert not changed, f"the database changed: {', '.join(changed)}"
        except AssertionError as problem:
            raise AssertionError(
                f"{problem}: suiren {line.args!r} stdin={(line.stdin or '')[:200]!r}\n"
                f"stdout: {done.stdout[:500]}\nstderr: {done.stderr[-1500:]}"
            ) from None

    return check


def test_garbage_to_every_command_exits_2_with_a_message_and_changes_nothing(
    prepared: Prepared,
) -> None:
    before = prepared.snapshot()
    tried: dict[str, int] = {}
    for command in COMMANDS:
        for target in [None, *(q for q in command.params if q.kind != "flag")]:
            checker(command, target, prepared, before, tried)()
    print(f"\nbad command lines tried: {sum(tried.values())} over {len(tried)} commands")
    assert set(tried) == {" ".join(c.path) for c in COMMANDS}


def test_every_parser_refuses_in_chinese_then_english(tmp_path: Path) -> None:
    """Each argument's and option's parser, given each kind's garbage, refuses with the
    catalogue's message (domain/messages.py): a Chinese half the CLI prints first (详情：…)
    and the API sends to a Chinese caller, and the English half — the whole class of the
    command line's input checks, so a new refusal written in one language fails here."""
    (tmp_path / "payments.csv").write_text("payment_id,month,base_yuan,worker_id\n")
    where = SimpleNamespace(worker_id="W3F2A9C01B7D4", directory=tmp_path)
    checked = 0
    for command in COMMANDS:
        for param in command.params:
            if param.parser is None:
                continue
            good = valid(param.kind, where)  # type: ignore[arg-type]
            bad = [*OUT_OF_RANGE[param.kind], "9" * 5_000]
            if param.kind in ASCII_ONLY:
                bad += [good.translate(FULL_WIDTH) + "\x00", " " + good, good + "\n"]
            for value in bad:
                with pytest.raises(InvalidInput) as refused:
                    param.parser(value)
                said = refused.value
                assert said.message_zh and CJK.search(said.message_zh), (command, param, said)
                assert said.message and not CJK.search(said.message.replace(value, "")), said
                checked += 1
    assert checked > 700  # 760 when written


# --- 2. the reviewer's list ------------------------------------------------------------------------


HAND = {
    "full-width resident id": (
        [
            "worker",
            "enrol",
            "--resident-id",
            resident_id(73).translate(FULL_WIDTH),
            "--work-region",
            "440100",
        ],
        "ASCII 0-9",
    ),
    "full-width region": (
        ["worker", "enrol", "--resident-id", resident_id(73), "--work-region", "４４０１００"],
        "ASCII 0-9",
    ),
    "full-width base": (
        ["contribute", "{w}", "--month", "2026-04", "--base", "６０００", "--id", "h1"],
        "ASCII 0-9",
    ),
    "60,00 is not 6,000 yuan": (
        ["contribute", "{w}", "--month", "2026-04", "--base", "60,00", "--id", "h2"],
        "a comma only between groups of three",
    ),
    "an empty payment id": (
        ["contribute", "{w}", "--month", "2026-04", "--base", "6000", "--id", ""],
        "--id must be a payment id",
    ),
    "a payment id with a newline": (
        ["contribute", "{w}", "--month", "2026-04", "--base", "6000", "--id", "h3\n"],
        "remove the whitespace",
    ),
    "interest for year 0": (["interest", "credit", "--year", "0"], "--year must be a year"),
    "a 300-character memo": (
        ["reverse", "paid/2026-03", "--id", "h4", "--memo", "备" * 300],
        "at most 200 characters",
    ),
    "retirement in 9999": (
        ["pension", "estimate", "{w}", "--retire", "9999-01"],
        "a month from 1900 to 2200",
    ),
    "born in 2190": (
        [
            "worker",
            "enrol",
            "--resident-id",
            resident_id(74, "21900101"),
            "--work-region",
            "440100",
        ],
        "out of range",
    ),
    "a 10-year-old": (
        [
            "worker",
            "enrol",
            "--resident-id",
            resident_id(75, "20160101"),
            "--work-region",
            "440100",
        ],
        "enrols from the age of 16",
    ),
    "a 76-year-old": (
        [
            "worker",
            "enrol",
            "--resident-id",
            resident_id(76, "19500101"),
            "--work-region",
            "440100",
        ],
        "reached the statutory retirement age",
    ),
    "gathering at 36": (
        ["transfer", "gather", "{w}", "--id", "h5"],
        "gathering (归集) is at retirement",
    ),
    "a lone surrogate": (["worker", "statement", "\udcff"], "WORKER must be a worker id"),
    "a 10,000-character worker id": (["medical", "status", "W" * 10_000], "worker id"),
    "a reason of 5,000 characters": (
        ["transfer", "reject", "open", "--reason", "x" * 5000],
        "at most 200",
    ),
    "a window that is no day": (["settlement", "close", "--window", "2026-02-30"], "that exists"),
}
CALC_HAND = {
    "an empty array": ("[]", "give 1 to"),
    "a list where a string belongs": (json.dumps(CASE | {"region": ["440100"]}), "JSON array"),
    "an object where a string belongs": (json.dumps(CASE | {"sex": {"M": 1}}), "JSON object"),
    "year 0": (json.dumps(CASE | {"birth": "0000-01"}), "'birth': must be a month from 1900"),
    "deep nesting": ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    "a 5,000-digit number": ('{"base_yuan": ' + "9" * 5000 + "}", "more than 40 digits"),
    "a 41-digit number": (json.dumps(CASE | {"account_yuan": -(10**40)}), "more than 40 digits"),
    "a key twice": ('{"region": "440100", "region": "110000"}', "appears twice"),
    "retirement in 9999": (json.dumps(CASE | {"retire": "9999-01"}), "'retire': must be at an age"),
    "born in 2190": (json.dumps(CASE | {"birth": "2190-01"}), "'birth': must be a month"),
    "full-width base": (json.dumps(CASE | {"base_yuan": "８０００"}), "'base_yuan'"),
    "full-width years": (
        json.dumps(CASE | {"contribution_years": "２０年"}),
        "'contribution_years'",
    ),
    "a region as a number": (json.dumps(CASE | {"region": 440100}), "'region': must be a string"),
    "NaN": (json.dumps(CASE).replace('"8000"', "NaN"), "NaN is not a JSON number"),
}


def test_the_reviewers_bad_inputs_are_refused_with_their_reason(prepared: Prepared) -> None:
    older = prepared.run(
        "worker",
        "enrol",
        "--resident-id",
        resident_id(77, "19720101", False),
        "--work-region",
        "440100",
        "--json",
    )
    assert older.returncode == 0, older.stderr  # a woman of 54: she may retire from 55
    woman = json.loads(older.stdout)["worker_id"]
    at_54 = refusal(prepared.run("transfer", "gather", woman, "--id", "h6"))
    assert "may retire from 2027-01" in at_54, at_54
    one = prepared.directory / "one-payment.csv"
    one.write_text(f"payment_id,month,base_yuan,worker_id\nh7,2026-05,6000,{prepared.worker_id}\n")
    before = prepared.snapshot()
    lost = prepared.run("contribute", "--file", str(one), "--errors", "/nonexistent/folder/e.csv")
    assert "cannot write" in refusal(lost), lost.stderr  # refused before the row is posted
    for name, (args, reason) in HAND.items():
        done = prepared.run(*(a.replace("{w}", prepared.worker_id) for a in args))
        message = refusal(done)
        assert reason in message, (name, message)
    for name, (body, reason) in CALC_HAND.items():
        message = refusal(prepared.run("pension", "calc", input=body))
        assert reason in message, (name, message)
        assert "sys." not in message, (name, message)  # never Python's words about itself
    for today in ("２０２６-０６-１５", "1781524800", "2026-06-15T12:00", "2026-6-15", ""):
        done = prepared.run(
            "contribute", "--file", str(prepared.directory / "payments.csv"), today=today
        )
        assert "SUIREN_TODAY" in refusal(done), (today, done.stderr)
    assert not changed_tables(before, prepared.snapshot())
    print(f"\nthe reviewer's list: {len(HAND) + len(CALC_HAND) + 6} inputs, each refused")
