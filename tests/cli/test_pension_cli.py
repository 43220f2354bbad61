"""``suiren pension calc``: JSON in, JSON out; user errors exit 2 with nothing on stdout.

Most tests call ``suiren.cli.main.main`` in-process (tests/cli/runner.py: patched argv, stdin
and environment; fast); two run the real entry point in a subprocess, to check the exit
status and streams end to end — the suite's only subprocess tests.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import suiren
from suiren.policy import load_policy
from suiren.services.pension_calc import calculate, case_warnings, parse_cases
from tests.bilingual import all_said_problems
from tests.cli.runner import invoke, title_of

RULES_DATE = "2025-08-01"  # --date: the rules in force when no retire month is given
WORKED = {  # (8000 + 8000 × 1.2) / 2 × 30 × 1% = 2640.00; 100000 / 139 = 719.42
    "id": "worked",
    "region": "410100",
    "base_yuan": "8000",
    "average_index": "1.2",
    "contribution_years": "30",
    "account_yuan": "100000",
    "divisor_months": 139,
}
WORKED_FEN = {
    "basic_pension_fen": 264_000,
    "account_pension_fen": 71_942,
    "transitional_pension_fen": 0,
    "extra_pension_fen": 0,
    "total_fen": 335_942,
}


def run(cwd: Path, stdin: str, *options: str) -> tuple[int, str, str]:
    """``suiren pension calc - --date RULES_DATE [options]`` in-process: (status, out, err)."""
    done = invoke(["pension", "calc", "-", "--date", RULES_DATE, *options], {}, cwd, stdin)
    return done.returncode, done.stdout, done.stderr


@pytest.fixture
def cli(tmp_path: Path):
    def call(payload: Any, *options: str) -> tuple[int, str, str]:
        text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        return run(tmp_path, text, *options)

    return call


def numbers(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in ("explanation", "warnings")}


# success -----------------------------------------------------------------------------------


def test_single_object_gives_components_and_explanation(cli):
    status, out, err = cli(WORKED)
    assert (status, err) == (0, "")
    record = json.loads(out)
    assert numbers(record) == {"id": "worked", **WORKED_FEN}
    steps = record["explanation"]
    assert steps, "a single case is always explained"
    for step in steps:
        assert {"step", "formula", "inputs", "result", "parameters"} <= set(step)
    cited = {p["parameter"] for step in steps for p in step["parameters"]}
    assert "pension.basic.accrual_rate_per_year" in cited
    assert all(p["reference"] for step in steps for p in step["parameters"])


def test_the_explanation_cites_provenance_cleanly(cli):
    """A verified rule prints its document and issuer; an unverified one 未核实 and why."""
    status, out, err = cli(WORKED)
    assert (status, err) == (0, "")
    cited = {
        p["parameter"]: p for step in json.loads(out)["explanation"] for p in step["parameters"]
    }
    accrual = cited["pension.basic.accrual_rate_per_year"]
    assert accrual["verified"] is True
    assert accrual["reference"].startswith("国发〔2005〕38号（国务院） — 注：第七条")
    assert accrual["provenance"] == [
        {
            "document": "国发〔2005〕38号",
            "issuer": "国务院",
            "verified": True,
            "note": accrual["provenance"][0]["note"],
        }
    ]
    decimals = cited["pension.index_decimals"]
    assert decimals["verified"] is False
    assert decimals["reference"].startswith("未核实：")


def test_array_has_no_explanation_unless_asked(cli):
    other = dict(WORKED, id="other", account_yuan="0")
    status, out, err = cli([WORKED, other])
    assert (status, err) == (0, "")
    records = json.loads(out)
    assert [numbers(r) for r in records] == [
        {"id": "worked", **WORKED_FEN},
        {"id": "other", **WORKED_FEN, "account_pension_fen": 0, "total_fen": 264_000},
    ]
    assert all("explanation" not in r for r in records)

    status, out, err = cli([WORKED, other], "--explain")
    assert (status, err) == (0, "")
    explained = json.loads(out)
    assert [numbers(r) for r in explained] == [numbers(r) for r in records]
    assert all(r["explanation"] for r in explained)


def test_json_numbers_with_decimals_are_read_exactly(cli):
    """JSON numbers are parsed as Decimal, so 8000.10 and 1.2345 are what they say."""
    as_strings = dict(WORKED, base_yuan="8000.10", average_index="1.2345", account_yuan="9.99")
    as_numbers = '{"region": "410100", "base_yuan": 8000.10, "average_index": 1.2345,'
    as_numbers += ' "contribution_years": 30.0, "account_yuan": 9.99, "divisor_months": 139.0}'
    status, out, err = cli(as_numbers)
    assert (status, err) == (0, "")
    status_s, out_s, _ = cli(as_strings)
    assert status_s == 0
    expected = {k: v for k, v in numbers(json.loads(out_s)).items() if k != "id"}
    assert numbers(json.loads(out)) == expected
    assert expected["basic_pension_fen"] == 268_143  # (8000.10 + 8000.10 × 1.2345) / 2 × 30%


# user errors: status 2, the case and field named on stderr, nothing on stdout ----------------


def case_1(**changes: Any) -> list[dict[str, Any]]:
    """An array whose case 1 (the second) carries ``changes``; None removes a field."""
    bad = {k: v for k, v in {**WORKED, **changes}.items() if v is not None}
    return [WORKED, bad, WORKED]


BAD_INPUTS = {
    "malformed JSON": ('[{"region": "410100",', ["not valid JSON", "line 1"]),
    "unknown field with a suggestion": (
        case_1(regoin="410100"),
        ["case 1", "'regoin'", "unknown field", "did you mean 'region'"],
    ),
    "negative amount": (case_1(account_yuan=-5), ["case 1", "'account_yuan'", "-5"]),
    "negative amount as text": (case_1(account_yuan="-5.00"), ["case 1", "'account_yuan'"]),
    "base with 3 decimals": (case_1(base_yuan="8000.123"), ["case 1", "'base_yuan'", "2 decimals"]),
    "base with 3 decimals as a JSON number": (
        '[{"region": "410100", "base_yuan": 8000.125, "average_index": 1.2,'
        ' "contribution_years": 30, "account_yuan": 1, "divisor_months": 139}]',
        ["case 0", "'base_yuan'", "2 decimals"],
    ),
    "unknown region": (case_1(region="999999"), ["case 1", "'region'", "999999"]),
    "missing required field": (
        case_1(average_index=None),
        ["case 1", "'average_index'", "is required"],
    ),
    "exponent notation in a string": (
        case_1(average_index="1.2e0"),
        ["case 1", "'average_index'"],
    ),
    "deemed years above the contribution years": (
        case_1(deemed_years="31"),
        ["case 1", "'deemed_years'", "exceeds"],
    ),
    "not an object": ([WORKED, 5], ["case 1", "JSON object"]),
    # issue 10, adversarial input: each refused naming its case and field, never read as
    # something else or failing on a parameter
    "years and 13 months": (
        case_1(contribution_years="29年13月"),  # was read as 30年1月
        ["case 1", "'contribution_years'", "months 0 to 11", "29年13月"],
    ),
    "deemed years and 12 months": (
        case_1(deemed_years="3年12月"),  # was read as 4年
        ["case 1", "'deemed_years'", "months 0 to 11"],
    ),
    "retirement before the formula's rules": (
        case_1(retire="1995-06"),  # was "parameter pension.index_decimals has no value", no case
        ["case 1", "'retire'", "2006-01 or later", "1995-06"],
    ),
    "retirement derived from birth before the formula's rules": (
        case_1(birth="1940-12", sex="M", divisor_months=None),
        ["case 1", "'birth'", "derived from birth, 2000-12", "2006-01"],
    ),
    "region missing": (case_1(region=None), ["case 1", "'region'", "is required"]),
    "contribution years above the age": (
        case_1(birth="1983-06", sex="M", retire="2023-06", contribution_years="40.5"),
        ["case 1", "'contribution_years'", "exceed the age at retirement (40 years 0 months)"],
    ),
    "a refused JSON number as written": (
        '[{"region": "410100", "base_yuan": "8000", "average_index": -0.50,'
        ' "contribution_years": 30, "account_yuan": 1, "divisor_months": 139}]',
        ["case 0", "'average_index'", "(got -0.50)"],  # was Decimal('-0.50')
    ),
}


@pytest.mark.parametrize("payload, expected", BAD_INPUTS.values(), ids=list(BAD_INPUTS))
def test_bad_input_exits_2_with_message_and_empty_stdout(cli, payload, expected):
    status, out, err = cli(payload)
    assert status == 2
    assert out == ""
    assert title_of(err)  # the kind of refusal, Chinese first, then "error: …"
    for text in expected:
        assert text in err, (text, err)
    assert "Traceback" not in err
    assert "Decimal(" not in err and "parameters/" not in err  # no Python, no server path


def test_a_rules_day_before_the_formula_is_refused_naming_the_case(tmp_path: Path) -> None:
    """No retirement month: the rules of --date; one before the formula's first day is the
    case's error (it was a parameter's, with the path of its file on the server)."""
    done = invoke(
        ["pension", "calc", "-", "--date", "1999-05-01"], {}, tmp_path, json.dumps(WORKED)
    )
    assert done.returncode == 2 and done.stdout == ""
    assert "case 0: field 'retire'" in done.stderr
    assert "--date of 2006-01-01 or later" in done.stderr
    assert "parameters/" not in done.stderr


def test_a_divisor_not_the_tables_at_the_age_is_warned_and_refused_under_strict(cli) -> None:
    """A divisor given with birth and retire is used as given; one that is not the table's
    at that age (195 at 60y0m, where the table has 139) or at an age the table has no row for
    (75) was silent."""
    at_sixty = dict(WORKED, birth="1963-06", sex="M", retire="2023-06")
    status, out, err = cli([at_sixty, dict(at_sixty, divisor_months=195),
                            dict(at_sixty, birth="1948-06", divisor_months=60)])  # fmt: skip
    assert (status, err) == (0, ""), err
    first, second, third = json.loads(out)
    assert first["warnings"] == [] and first["account_pension_fen"] == 71_942
    assert second["account_pension_fen"] == 51_282  # 100000 / 195, as given
    [warning] = second["warnings"]
    assert (warning["code"], warning["field"]) == ("divisor-not-the-tables", "divisor_months")
    assert "not the table's 139 at the retirement age of 60 years 0 months" in warning["message"]
    assert (
        "has no row for a retirement age of 75 years 0 months" in third["warnings"][-1]["message"]
    )
    status, out, err = cli(dict(at_sixty, divisor_months=195), "--strict")
    assert (status, out) == (2, "") and "'divisor_months'" in err


def test_a_json_integer_index_is_that_index(cli) -> None:
    """An index printed as 1 and written as a JSON integer (it was refused, "must be a
    decimal between 0 and 5 (got 1)", while "1", 1.0 and a table's integer were read)."""
    results = []
    for index in (1, "1", "1.0"):
        status, out, err = cli(dict(WORKED, average_index=index, transitional_index=index))
        assert (status, err) == (0, ""), err
        results.append(numbers(json.loads(out)))
    assert results[0] == results[1] == results[2]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("cases.csv", "region,base_yuan\n410100,8000\n", "not read from a CSV file"),
        ("cases.json", "", "cases.json: empty"),
        ("bom.json", "\ufeff\n", "bom.json: empty"),
    ],
)
def test_a_file_the_calculator_does_not_read_is_said_so(
    tmp_path: Path, name: str, content: str, expected: str
) -> None:
    """A CSV file (or an empty one) was "not valid JSON: Expecting value at line 1"."""
    (tmp_path / name).write_text(content, encoding="utf-8")
    argv = ["pension", "calc", str(tmp_path / name), "--out", str(tmp_path / "r.parquet")]
    done = invoke(argv, {}, tmp_path)
    assert done.returncode == 2 and expected in done.stderr, done.stderr
    assert "not valid JSON" not in done.stderr
    assert not (tmp_path / "r.parquet").exists()


def test_huge_exponent_is_a_user_error(cli):
    text = '[{"region": "410100", "base_yuan": 1e7000000, "average_index": 1.2,'
    text += ' "contribution_years": 30, "account_yuan": 1, "divisor_months": 139}]'
    status, out, err = cli(text)
    assert (status, out) == (2, "")
    assert "'base_yuan'" in err


def test_transitional_coefficient_with_six_decimals(cli):
    worker = dict(WORKED, average_index="1", deemed_years="10", transitional_coefficient="0.012345")
    status, out, err = cli(worker)
    assert (status, err) == (0, "")
    assert json.loads(out)["transitional_pension_fen"] == 98_760  # 8000 × 1 × 10 × 1.2345%


def test_amount_that_underflows_is_refused(cli):
    text = '[{"region": "410100", "base_yuan": 8000, "average_index": 1.2,'
    text += ' "contribution_years": 30, "account_yuan": 1e-7000000, "divisor_months": 139}]'
    status, out, err = cli(text)
    assert (status, out) == (2, "")
    assert "'account_yuan'" in err


def test_integer_too_long_to_parse_is_a_user_error(cli):
    text = '[{"region": "410100", "base_yuan": 8000, "average_index": 1.2,'
    text += f' "contribution_years": 30, "account_yuan": {"9" * 5000}, "divisor_months": 139}}]'
    status, out, err = cli(text)
    assert (status, out) == (2, "")
    assert title_of(err)  # the kind of refusal, Chinese first, then "error: …"


def test_a_byte_order_mark_before_the_json_is_read_past(tmp_path: Path) -> None:
    """A file saved as "UTF-8 with BOM" (Notepad, Excel) was refused ("Unexpected UTF-8
    BOM") while the file intake reads the same mark before a CSV header; now read alike,
    from a file and from standard input."""
    text = json.dumps([WORKED])
    (tmp_path / "cases.json").write_bytes(b"\xef\xbb\xbf" + text.encode())
    done = invoke(["pension", "calc", "cases.json", "--date", RULES_DATE], {}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert [numbers(r) for r in json.loads(done.stdout)] == [{"id": "worked", **WORKED_FEN}]
    status, out, err = run(tmp_path, "\ufeff" + text)
    assert status == 0, err
    assert [numbers(r) for r in json.loads(out)] == [{"id": "worked", **WORKED_FEN}]
    status, out, err = run(tmp_path, "\ufeff\ufeff" + text)  # one mark, not any number
    assert (status, out) == (2, "") and "not valid JSON" in err


# the real entry point ----------------------------------------------------------------------


def run_process(stdin: str, *options: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "suiren.cli.main", "pension", "calc", "-", *options]
    return subprocess.run(
        command, input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


def test_process_success_writes_json_only_on_stdout():
    done = run_process(json.dumps([WORKED]), "--date", RULES_DATE)
    assert (done.returncode, done.stderr) == (0, "")
    assert [numbers(r) for r in json.loads(done.stdout)] == [{"id": "worked", **WORKED_FEN}]


def test_process_user_error_exits_2_with_nothing_on_stdout():
    done = run_process(json.dumps(case_1(base_yuan="8000.123")), "--date", RULES_DATE)
    assert done.returncode == 2
    assert done.stdout == ""
    assert "case 1" in done.stderr and "'base_yuan'" in done.stderr


# one formula at every scale ------------------------------------------------------------------

REGIONS = ("410100", "410000", "440100", "310000", "220000", "220100", "110000", "510000")
REGIONS += ("500000", "340000", "120000", "330000")


def synthetic_records(count: int, seed: int = 20250801) -> list[dict[str, Any]]:
    """Varied valid cases: regions with every kind of rule, given or derived divisors."""
    rng = random.Random(seed)
    records = []
    for i in range(count):
        months = rng.randint(15 * 12, 45 * 12)
        record: dict[str, Any] = {
            "id": i,
            "region": rng.choice(REGIONS),
            "base_yuan": f"{rng.randint(500_000, 1_300_000) / 100:.2f}",
            "average_index": f"{rng.randint(300_000, 3_000_000) / 1_000_000:.6f}",
            "contribution_years": rng.choice(
                [f"{months // 12}年{months % 12}月", f"{rng.randint(1500, 4500) / 100:.2f}"]
            ),
            "account_yuan": f"{rng.randint(0, 30_000_000) / 100:.2f}",
        }
        if rng.random() < 0.3:
            record["province_base_yuan"] = f"{rng.randint(500_000, 1_300_000) / 100:.2f}"
        if rng.random() < 0.4:
            # at most 15 years, the fewest contribution years given
            deemed = min(rng.randint(0, 15 * 12) // 12 * 12 + rng.randint(0, 11), 15 * 12)
            record["deemed_years"] = f"{deemed // 12}年{deemed % 12}月"
        # 北京 G实 (within the years of one without deemed years: at least 15)
        if record["region"] == "110000" and "deemed_years" not in record and rng.random() < 0.7:
            early = rng.randint(0, 69)
            record["early_actual_years"] = rng.choice(
                [f"{early // 12}年{early % 12}月", f"{early / 12:.5f}"]
            )
            if early:
                record["early_actual_index"] = f"{rng.randint(300_000, 3_000_000) / 1_000_000:.6f}"
        if rng.random() < 0.5:
            record["divisor_months"] = rng.choice([139, 170, 195, "137.3"])
        else:
            record["sex"] = rng.choice("MF")
            record["birth"] = f"{rng.randint(1963, 1980)}-{rng.randint(1, 12):02d}"
        records.append(record)
    return records


ALONE_SAMPLE = 2_000  # of the 20,000, computed one at a time (each takes a few ms)


def _numbers_of(result: Any, at: int) -> dict[str, int]:
    return {
        "basic_pension_fen": int(result.basic_fen[at]),
        "account_pension_fen": int(result.account_pension_fen[at]),
        "transitional_pension_fen": int(result.transitional_fen[at]),
        "extra_pension_fen": int(result.extra[at]),
        "total_fen": int(result.total_fen[at]),
    }


@pytest.mark.slow  # a soak at scale: the property itself is test_pension_properties.py's
def test_twenty_thousand_cases_equal_the_same_cases_in_other_batches_and_alone(tmp_path):
    """The CLI's batch of 20,000 gives each case what it gets in any other batch: every case
    again in batches of random sizes (1–200) and order, and a random 2,000 of them alone
    (with their warnings), so that no case's result depends on its neighbours."""
    records = synthetic_records(20_000)
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    done = invoke(["pension", "calc", str(path), "--date", RULES_DATE], {}, tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    together = json.loads(done.stdout)
    assert [r["id"] for r in together] == list(range(len(records)))

    policy = load_policy()
    rules_date = date.fromisoformat(RULES_DATE)
    rng = random.Random(7)
    order = list(range(len(records)))
    rng.shuffle(order)
    start = 0
    while start < len(order):
        picked = order[start : start + rng.randint(1, 200)]
        start += len(picked)
        parsed = parse_cases([records[i] for i in picked], policy, rules_date)
        result = calculate(parsed, policy)
        for at, i in enumerate(picked):
            assert numbers(together[i]) == {"id": i, **_numbers_of(result, at)}, records[i]
    warned = 0
    for i in rng.sample(range(len(records)), ALONE_SAMPLE):
        parsed = parse_cases([records[i]], policy, rules_date)
        alone = _numbers_of(calculate(parsed, policy), 0)
        assert numbers(together[i]) == {"id": i, **alone}, records[i]
        [warnings] = case_warnings(parsed, policy, rules_date)
        assert together[i]["warnings"] == [w.to_json() for w in warnings], records[i]
        warned += bool(warnings)
    assert 0 < warned < ALONE_SAMPLE  # the synthetic cases hold both kinds


# inputs as printed on real determination tables (issue 10 §1) -------------------------------


def total_and_reading(cli, **changes: Any) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    """(the pension, how the printed inputs were read: each field's note in Chinese and
    English) of WORKED with ``changes``, in Xinyang style with an index printed to more places
    and years in decimals of a month."""
    case = {**WORKED, **changes}
    status, out, err = cli(case, "--explain")
    assert status == 0, err
    record = json.loads(out)
    first = record["explanation"][0]
    reading = (
        {k: (first["inputs_zh"][k], v) for k, v in first["inputs_en"].items()}
        if first["step_zh"] == "输入读取"
        else {}
    )
    return numbers(record), reading


@pytest.mark.parametrize(
    "printed", ["30.58333", "30.5833", "30.583333333333332", 30.583333333333332]
)
def test_years_printed_as_decimals_of_a_month_are_that_month(cli, printed):
    as_months, plain = total_and_reading(cli, contribution_years="30年7月")
    as_printed, reading = total_and_reading(cli, contribution_years=printed)
    assert plain == {}
    assert as_printed == as_months
    assert reading["contribution_years"] == (
        f"{printed} → 30年7月（367个月）",
        f"{printed} → 30 years 7 months (367 months)",
    )


def test_years_to_two_places_or_off_a_month_are_taken_as_given(cli):
    _, reading = total_and_reading(cli, contribution_years="30.58")  # two places: 30.58 years
    assert reading == {}
    taken, reading = total_and_reading(cli, contribution_years="30.5900")  # four places, no month
    assert reading == {} and taken != total_and_reading(cli, contribution_years="30年7月")[0]
    status, _, err = cli({**WORKED, "contribution_years": "30.59001"})
    assert status == 2 and "contribution_years" in err  # five places and no whole month


@pytest.mark.parametrize(
    "printed, as_rounded",
    [
        ("1.199950001", "1.2000"),  # rounded once, half up, to the region's 4 places
        ("1.19994999996", "1.1999"),  # not 1.199950 first (that would give 1.2000)
        ("0.733100252737995", "0.7331"),
    ],
)
def test_an_index_printed_to_more_places_is_rounded_by_the_regions_rule(cli, printed, as_rounded):
    rounded, plain = total_and_reading(cli, average_index=as_rounded)
    as_printed, reading = total_and_reading(cli, average_index=printed)
    assert plain == {}
    assert as_printed == rounded
    assert reading["average_index"] == (
        f"{printed} → {as_rounded}（按本地精度四舍五入保留4位小数）",
        f"{printed} → {as_rounded} (rounded half up to the region's 4 decimals)",
    )


# warnings: computable, but not what the rules grant (issue 10 §4) ----------------------------

# born 1966-03, male: statutory age 60 + 4 months (2026-07); the flexible window runs from the
# original age 60 (2026-03) to 63 years 4 months (2029-07); the minimum in 2026 is 15 years
MAN_1966 = {"region": "120000", "base_yuan": "7000", "average_index": "1", "account_yuan": "50000",
            "birth": "1966-03", "sex": "M"}  # fmt: skip
WINDOW_CASES = [  # (retire, contribution years, expected warning codes)
    ("2026-02", "20", ["outside-retirement-window"]),
    ("2026-03", "20", []),
    ("2029-07", "20", []),
    ("2029-08", "20", ["outside-retirement-window"]),
    ("2026-07", "14年11月", ["below-minimum-years"]),
    ("2026-07", "15", []),
    ("2026-01", "10", ["outside-retirement-window", "below-minimum-years"]),
]


def test_every_result_carries_its_warnings_without_explain(cli) -> None:
    cases = [
        {**MAN_1966, "id": k, "retire": retire, "contribution_years": years}
        for k, (retire, years, _) in enumerate(WINDOW_CASES)
    ]
    status, out, err = cli(cases)
    assert (status, err) == (0, "")
    records = json.loads(out)
    assert [[w["code"] for w in r["warnings"]] for r in records] == [c for *_, c in WINDOW_CASES]
    assert all("explanation" not in r and r["total_fen"] > 0 for r in records)
    below = records[4]["warnings"][0]
    assert below["field"] == "contribution_years" and "minimum of 15" in below["message"]
    outside = records[0]["warnings"][0]
    assert outside["field"] == "retire" and "60岁0个月" in outside["message"]


def test_no_later_age_for_one_who_reached_the_statutory_age_before_2025(cli) -> None:
    """Born 1963-03, a man reached 60 in 2023-03, before the flexible rule: retiring at 62 in
    2025 is outside his window, though a man reaching 60 in 2026 may go to 63."""
    before = {**MAN_1966, "birth": "1963-03", "retire": "2025-03", "contribution_years": "30"}
    after = {**MAN_1966, "birth": "1966-03", "retire": "2028-03", "contribution_years": "30"}
    status, out, _ = cli([before, after])
    assert status == 0
    first, second = json.loads(out)
    assert [w["code"] for w in first["warnings"]] == ["outside-retirement-window"]
    assert "no later age is offered" in first["warnings"][0]["message"]
    assert second["warnings"] == []


def test_strict_refuses_the_first_case_with_a_warning(cli) -> None:
    fine = [{**MAN_1966, "retire": "2026-07", "contribution_years": "20"}]
    status, out, _ = cli(fine, "--strict")
    assert status == 0 and json.loads(out)[0]["warnings"] == []
    cases = [*fine, {**MAN_1966, "retire": "2026-07", "contribution_years": "14年11月"}]
    status, out, err = cli(cases, "--strict")
    assert (status, out) == (2, "")
    assert "case 1: field 'contribution_years'" in err and "minimum of 15" in err


# parts of a region's pension not modelled (issue 10 §2): named on every case, never silent

NOT_MODELLED_CASES = [  # (region, retire, what the warning must name)
    ("310000", "2026-07", "虚账实记"),
    ("510100", "2026-07", "增发"),
    ("440300", "2026-07", "地方补助"),
]


def test_a_part_of_the_pension_not_modelled_is_named_on_each_case(cli) -> None:
    cases = [
        {**MAN_1966, "region": region, "retire": retire, "contribution_years": "30"}
        for region, retire, _ in NOT_MODELLED_CASES
    ]
    cases.append({**MAN_1966, "retire": "2026-07", "contribution_years": "30"})  # 天津: none
    status, out, err = cli(cases)
    assert (status, err) == (0, "")
    records = json.loads(out)
    for record, (region, _, part) in zip(records, NOT_MODELLED_CASES, strict=False):
        [warning] = record["warnings"]
        assert warning["code"] == "not-modelled" and warning["field"] == "region", region
        assert part in warning["message"] and "is not modelled" in warning["message"], region
    assert records[-1]["warnings"] == []


@pytest.mark.parametrize(
    ("region", "part"),
    [("510100", "增发养老金"), ("310000", "虚账实记")],
)
def test_strict_refuses_a_case_whose_pension_has_a_part_not_modelled(cli, region, part) -> None:
    """四川 增发 (its rate depends on the worker's own status, not on the contributions),
    上海 虚账实记: named on the case (pension.not_modelled cites what was checked), refused
    under --strict."""
    case = {**MAN_1966, "region": region, "retire": "2026-07", "contribution_years": "30"}
    status, out, err = cli([case], "--strict")
    assert (status, out) == (2, "")
    assert "case 0: field 'region'" in err and part in err and "未计算" in err
    status, out, err = cli([case])
    assert (status, err) == (0, "")
    [warning] = json.loads(out)[0]["warnings"]
    assert warning["code"] == "not-modelled" and part in warning["message"]


# 北京's transitional pension is G同 + G实 (issue 10 §2): G实 needs the actual years of
# 1992-10 … 1998-06 and their index; a case that may have them but does not give them is
# warned (refused under --strict), never computed as if it had none

BEIJING = {"id": "bj", "region": "110111", "base_yuan": "11761", "average_index": "0.7533",
           "contribution_years": "38.02", "deemed_years": "8.17", "account_yuan": "98019.99",
           "divisor_months": 139, "retire": "2023-04"}  # fmt: skip
BEIJING_EARLY = {"early_actual_years": "4.85", "early_actual_index": "0.5098"}


def test_beijing_g_shi_is_computed_from_the_early_actual_years(cli) -> None:
    """The 房山 2023-04 table: G同 960.8737 + G实 290.7943, rounded once: 1251.67."""
    status, out, err = cli([{**BEIJING, **BEIJING_EARLY}], "--explain")
    assert (status, err) == (0, "")
    [record] = json.loads(out)
    assert record["transitional_pension_fen"] == 125_167 and record["total_fen"] == 587_682
    assert record["warnings"] == []
    [step] = [s for s in record["explanation"] if s["step"].startswith("过渡性养老金")]
    assert "G同 + G实" in step["step"] and step["result"] == "1251.67"
    assert step["inputs_zh"]["1992年10月至1998年6月实际缴费年限（N实98）"] == "4.8500"
    assert step["inputs_zh"]["Ī_e（Z实）"] == step["inputs_en"]["Ī_e (Z_early)"] == "0.5098"
    assert step["inputs_zh"]["G实（早期部分，精确值）"] == "290.7943"
    assert step["inputs_en"]["G_early (early part, exact)"] == "290.7943"
    cited = {p["parameter"]: p for p in step["parameters"]}
    early = cited["pension.transitional.early_actual_rate"]
    assert early["value"] == "0.01" and "京劳社养发〔2007〕21号" in early["reference"]


def test_beijing_without_the_early_actual_years_is_warned_and_refused_under_strict(cli) -> None:
    status, out, err = cli([BEIJING])
    assert (status, err) == (0, "")
    [record] = json.loads(out)
    assert record["transitional_pension_fen"] == 96_087  # G同 only, and said so:
    [warning] = record["warnings"]
    assert (warning["code"], warning["field"]) == (
        "early-actual-years-missing",
        "early_actual_years",
    )
    assert "early_actual_years is not given" in warning["message"] and "G实" in warning["message"]
    status, out, err = cli([BEIJING], "--strict")
    assert (status, out) == (2, "")
    assert "case 0: field 'early_actual_years'" in err and "early_actual_years is not given" in err
    assert "案例 0 的字段 'early_actual_years'" in err and "未给出 early_actual_years" in err
    # none paid then: 0 says so, and nothing is missing
    status, out, err = cli([{**BEIJING, "early_actual_years": "0"}], "--strict")
    assert (status, err) == (0, "") and json.loads(out)[0]["transitional_pension_fen"] == 96_087


def test_beijing_explains_each_part_of_the_transitional_pension_once(cli) -> None:
    """With deemed years the one transitional step holds G同 (+ G实); a G实 of 0 is not a
    second step beside it. Without deemed years and with no early years, G实 = 0 is the step."""
    for case, expected in (
        ({**BEIJING, "early_actual_years": "0"}, ["过渡性养老金"]),
        ({**BEIJING, **BEIJING_EARLY}, ["过渡性养老金"]),
        (
            {**BEIJING, "deemed_years": "0", "early_actual_years": "0"},
            ["过渡性养老金 G实 / transitional pension for early actual years"],
        ),
    ):
        status, out, err = cli([case], "--explain")
        assert (status, err) == (0, ""), case
        steps = [s["step"] for s in json.loads(out)[0]["explanation"]]
        transitional = [s for s in steps if s.startswith("过渡性养老金")]
        assert len(transitional) == 1, (case, transitional)
        assert transitional[0].startswith(expected[0]), (case, transitional)


def test_beijing_born_too_late_to_pay_before_1998_07_is_not_warned(cli) -> None:
    """Born 1983-01: 15 on 1998-06, younger than the youngest working age (16)."""
    young = {**BEIJING, "birth": "1983-01", "sex": "M", "deemed_years": "0", "retire": None,
             "divisor_months": None}  # fmt: skip
    old = {**young, "birth": "1982-06"}  # 16 in 1998-06: may have paid then
    status, out, err = cli([young, old])
    assert (status, err) == (0, "")
    young_out, old_out = json.loads(out)
    assert [w["code"] for w in young_out["warnings"]] == []
    assert "early-actual-years-missing" in [w["code"] for w in old_out["warnings"]]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"early_actual_years": "4.85"}, "field 'early_actual_index': is required where early_actual_years"),
        ({"early_actual_index": "0.5"}, "field 'early_actual_years': is required where early_actual_index"),
        ({**BEIJING_EARLY, "early_actual_years": "30"}, "field 'early_actual_years': with deemed_years exceeds"),
        ({**BEIJING_EARLY, "early_actual_index": "0.1.2"}, "field 'early_actual_index'"),
        ({**BEIJING_EARLY, "region": "120000"}, "region 120000 pays no transitional part for them"),
    ],
)  # fmt: skip
def test_early_actual_inputs_are_refused_where_they_cannot_be_used(cli, change, message) -> None:
    status, out, err = cli([{**BEIJING, **change}])
    assert (status, out) == (2, "") and message in err, err


def test_early_actual_years_as_printed_are_read_as_whole_months(cli) -> None:
    """4.58333 is 4年7月 as printed, and an index of many places is rounded by the region's
    rule (the tolerances of the other years and indices): the same result, and said so."""
    printed = {**BEIJING, "early_actual_years": "4.58333", "early_actual_index": "0.509812345678"}
    exact = {**BEIJING, "early_actual_years": "4年7月", "early_actual_index": "0.5098"}
    status, out, err = cli([printed, exact], "--explain")
    assert (status, err) == (0, "")
    a, b = json.loads(out)
    assert numbers(a) == numbers(b)
    [read] = [s for s in a["explanation"] if s["step"].startswith("输入读取")]
    assert read["inputs_zh"]["early_actual_years"] == "4.58333 → 4年7月（55个月）"
    assert read["inputs_en"]["early_actual_years"] == "4.58333 → 4 years 7 months (55 months)"
    assert "0.509812345678 → 0.5098" in read["inputs"]["early_actual_index"]


def test_calc_takes_no_scenario(cli) -> None:
    """The region is given, so a scenario has nothing to change here (it changes where a
    career is paid: ``pension estimate --scenario``)."""
    status, out, err = cli(WORKED, "--scenario", "money_follows_person")
    assert (status, out) == (2, "") and "--scenario" in err


# 吉林's 长缴增发 (issue 10 §2): computed from 2023-01 (its earliest table), each bracket of
# years above 20 / 25 / 30 rounded on its own; refused before; warned where only deemed years
# take the case above 20

TONGHUA = {"id": "th", "region": "220500", "base_yuan": "7322.08", "province_base_yuan": "7322.08",
           "average_index": "0.46", "account_yuan": "69844.83", "divisor_months": 139,
           "contribution_years": "44.42", "deemed_years": "15.25", "retire": "2025-08"}  # fmt: skip


def test_jilin_long_service_extra_is_computed_and_explained(cli) -> None:
    """The 通化 2025-08 table: 5345.1184 × 5 × 0.15% = 40.09, × 5 × 0.2% = 53.45,
    × 14.42 × 0.25% = 192.69: 286.23, in the total 3882.11."""
    status, out, err = cli([TONGHUA], "--explain")
    assert (status, err) == (0, "")
    [record] = json.loads(out)
    assert record["extra_pension_fen"] == 28_623 and record["total_fen"] == 388_211
    assert record["basic_pension_fen"] == 237_430 and record["warnings"] == []
    [step] = [s for s in record["explanation"] if s["step"].startswith("长缴增发")]
    assert step["result"] == "286.23"
    assert step["inputs"]["years 30+ at 0.25%"] == "14.4200"
    assert step["inputs"]["years 20–25 at 0.15%"] == "5.0000"
    cited = {p["parameter"]: p for p in step["parameters"]}
    rates = cited["pension.basic.long_service_extra_rate"]
    assert rates["verified"] is False and "吉政发〔1998〕28号" in rates["reference"]
    [total] = [s for s in record["explanation"] if s["step"].startswith("月养老金合计")]
    assert "长缴增发" in total["formula"] and total["result"] == "3882.11"


def test_jilin_long_service_extra_before_its_first_table_is_refused(cli) -> None:
    """Before 2023-01 no table shows the rule: the part is named and --strict refuses."""
    case = {**TONGHUA, "retire": "2022-12"}
    status, out, err = cli([case])
    assert (status, err) == (0, "")
    [record] = json.loads(out)
    assert record["extra_pension_fen"] == 0
    [warning] = record["warnings"]
    assert warning["code"] == "not-modelled" and "长缴增发" in warning["message"]
    status, out, err = cli([case], "--strict")
    assert (status, out) == (2, "") and "长缴增发" in err


def test_jilin_extra_on_deemed_years_alone_is_warned_and_refused_under_strict(cli) -> None:
    """28 years of which 10 deemed: 18 actual years, which no table shows; the extra is
    computed (5 × 0.15% + 3 × 0.2% of the base) and said to be unverified."""
    case = {**TONGHUA, "contribution_years": "28", "deemed_years": "10"}
    status, out, err = cli([case])
    assert (status, err) == (0, "")
    [record] = json.loads(out)
    assert record["extra_pension_fen"] == 4_009 + 3_207  # 40.09 + 32.07
    [warning] = record["warnings"]
    assert (warning["code"], warning["field"]) == ("extra-unverified", "deemed_years")
    status, out, err = cli([case], "--strict")
    assert (status, out) == (2, "") and "case 0: field 'deemed_years'" in err
    actual = {**TONGHUA, "contribution_years": "28", "deemed_years": "7.99"}
    status, out, err = cli([actual])
    assert json.loads(out)[0]["warnings"] == []  # 20.01 actual years: as the tables show


# 浙江's 过渡调节金, 养老金补贴 and 见分进角补足 (issue 10 §2): computed from 2025-02 (the earliest
# real table that prints them); named and refused before

HANGZHOU = {"id": "hz", "region": "330100", "base_yuan": "8433", "average_index": "0.8794",
            "transitional_index": "1.279", "account_yuan": "78149.09", "divisor_months": "192.9",
            "contribution_years": "31.33", "deemed_years": "12", "retire": "2026-02"}  # fmt: skip


def test_zhejiang_adjustment_subsidy_and_top_up_are_computed_and_explained(cli) -> None:
    """The 杭州上城 2026-02 table: 过渡调节金 480 + 0.8794 × 31.33 × 3 = 562.65 (the average
    index, not the transitional 1.279), 补贴 150, the sum 5412.54 raised to the 角: 0.06."""
    status, out, err = cli([HANGZHOU], "--explain")
    assert (status, err) == (0, "")
    [record] = json.loads(out)
    assert record["basic_pension_fen"] == 248_274 and record["transitional_pension_fen"] == 181_202
    assert record["extra_pension_fen"] == 56_265 + 15_000 + 6 and record["total_fen"] == 541_260
    assert record["warnings"] == []
    steps = {s["step"].partition(" /")[0]: s for s in record["explanation"]}
    adjustment = steps["过渡调节金"]
    assert adjustment["result"] == "562.65" and adjustment["inputs"]["exact"] == "562.654806"
    assert adjustment["inputs"]["Ī"] == "0.8794"
    assert adjustment["inputs"]["contribution years (N)"] == "31.3300"
    cited = {p["parameter"]: p for p in adjustment["parameters"]}
    fixed = cited["pension.extra.adjustment_fixed"]
    assert fixed["verified"] is False and "浙人社发〔2018〕102号" in fixed["reference"]
    assert steps["养老金补贴"]["result"] == "150.00"
    assert steps["见分进角补足"]["result"] == "0.06"
    assert steps["见分进角补足"]["inputs"] == {"sum before": "5412.54", "raised to": "5412.60"}
    total = steps["月养老金合计"]
    assert "过渡调节金" in total["formula"] and total["result"] == "5412.60"


def test_zhejiang_parts_before_their_first_table_are_refused(cli) -> None:
    """Before 2025-02 no real table shows them: named, 0 computed, and --strict refuses."""
    case = {**HANGZHOU, "retire": "2025-01"}
    status, out, err = cli([case])
    assert (status, err) == (0, "")
    [record] = json.loads(out)
    assert record["extra_pension_fen"] == 0
    assert record["total_fen"] == 248_274 + 40_513 + 181_202
    [warning] = record["warnings"]
    assert warning["code"] == "not-modelled" and "过渡调节金" in warning["message"]
    status, out, err = cli([case], "--strict")
    assert (status, out) == (2, "") and "过渡调节金" in err and "未计算" in err


# 广东's 加发 100 and 缴费年限津贴 4 × whole years (issue 10 §2): computed from 2024-05 (the 江门
# table, its earliest), beside the three components; the rest of its transitional pension (原办法,
# 调整额) and its 地方养老金 stay named

JIANGMEN = {"id": "jm", "region": "440700", "base_yuan": "9028", "average_index": "0.452",
            "account_yuan": "55389.69", "divisor_months": 195, "contribution_years": "17年9月",
            "retire": "2024-05"}  # fmt: skip


def test_guangdong_extra_and_years_allowance_are_computed_and_explained(cli) -> None:
    """The 江门 2024-05 table: 965.73 + 284.05 + 过渡性养老金 168 (100 + 4 × 17) = 1417.78."""
    status, out, err = cli([JIANGMEN], "--explain")
    assert (status, err) == (0, "")
    [record] = json.loads(out)
    assert record["basic_pension_fen"] == 96_573 and record["extra_pension_fen"] == 16_800
    assert record["total_fen"] == 141_778
    [warning] = record["warnings"]
    assert warning["code"] == "not-modelled" and "地方养老金" in warning["message"]
    steps = {s["step"].partition(" /")[0]: s for s in record["explanation"]}
    assert steps["养老金补贴"]["result"] == "100.00"
    allowance = steps["缴费年限津贴"]
    assert allowance["result"] == "68.00"
    assert allowance["inputs"] == {"per whole year": "4.00", "whole years": "17"}
    cited = {p["parameter"]: p for p in allowance["parameters"]}
    assert cited["pension.extra.per_whole_year"]["verified"] is False
    assert "缴费年限津贴" in steps["月养老金合计"]["formula"]
    status, out, err = cli([{**JIANGMEN, "retire": "2024-04"}])
    assert json.loads(out)[0]["extra_pension_fen"] == 0  # before the earliest table


# 广东's parts not modelled (原办法, 调整额, 地方养老金) depend only on deemed years and years to
# 2006-06 (pension.not_modelled_through): a worker under 16 on 2006-06-30 (劳动法 第十五条) with
# no deemed years is not warned; a case that does not say (no birth) or may have them is

GD_YOUNG = {"id": "gd", "region": "440100", "base_yuan": "9493", "average_index": "0.8",
            "account_yuan": "90000", "contribution_years": "25", "birth": "1990-07", "sex": "M",
            "retire": "2053-07"}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "warned"),
    [
        ({}, False),  # 16 in 2006-07: no years before it
        ({"deemed_years": "0"}, False),
        ({"deemed_years": "1"}, True),  # 原办法 and 调整额 concern deemed years
        ({"birth": "1990-06", "retire": "2053-06"}, True),  # 16 in 2006-06: may have worked
        ({"birth": None, "divisor_months": 117}, True),  # the case does not say: warned
        ({"region": "440300"}, True),  # 深圳's 地方补助 is not limited to years before 2006
    ],
)
def test_guangdong_not_modelled_only_where_it_can_concern_the_case(cli, change, warned) -> None:
    case = {k: v for k, v in {**GD_YOUNG, **change}.items() if v is not None}
    status, out, err = cli([case])
    assert (status, err) == (0, "")
    [record] = json.loads(out)
    codes = [w["code"] for w in record["warnings"]]
    assert codes == (["not-modelled"] if warned else []), codes
    # the 加发 100 (and, but in 深圳, 4 × 25 whole years) computed either way
    assert record["extra_pension_fen"] == 10_000 + (0 if case["region"] == "440300" else 10_000)
    status, out, err = cli([case], "--strict")
    if warned:
        assert (status, out) == (2, "") and "未计算" in err
    else:
        assert (status, err) == (0, "") and json.loads(out)[0]["total_fen"] == record["total_fen"]


# 江苏's transitional pension from 2024 (issue 10 §2): the original method's amount (原办法,
# given as printed) plus 40% / 70% / 100% of the new method's excess, raised to the 角; the
# total raised to the 角; without the 原办法 the new method is given, warned and refused under
# --strict; before 2024 the region is named not modelled

JIANGSU = {"id": "js", "region": "320000", "base_yuan": "8785", "average_index": "1.3353",
           "transitional_index": "1.5995", "account_yuan": "208040.22", "divisor_months": 139,
           "contribution_years": "44年2月", "deemed_years": "15年2月",
           "old_transitional_yuan": "1081.53", "retire": "2024-12"}  # fmt: skip


def test_jiangsu_transitional_phase_in_and_total_are_computed_and_explained(cli) -> None:
    """The 2024-12 table: new 2557.39, 原办法 1081.53, the excess 1475.86 raised to 1475.9,
    0.4 × 1475.9 = 590.36 -> 590.4: 1671.93 (the article's half up gives 1671.88); 7699.15
    raised to 7699.2."""
    status, out, err = cli([JIANGSU], "--explain")
    assert (status, err) == (0, "")
    [record] = json.loads(out)
    assert record["transitional_pension_fen"] == 167_193 and record["warnings"] == []
    assert record["extra_pension_fen"] == 5 and record["total_fen"] == 769_920
    steps = {s["step"].partition(" /")[0]: s for s in record["explanation"]}
    assert steps["过渡性养老金（新办法）"]["result"] == "2557.39"
    compared = steps["过渡性养老金新老办法对比"]
    assert compared["result"] == "1671.93"
    assert compared["inputs"]["T − O, raised to the unit"] == "1475.90"
    assert compared["inputs"]["(T − O) × s, exact"] == "590.3600"
    assert compared["inputs"]["paid share"] == "590.40"
    cited = {p["parameter"]: p for p in compared["parameters"]}
    rate = cited["pension.transitional.phase_in_rate"]
    assert rate["verified"] is False and "苏人社发〔2024〕4号" in rate["reference"]
    assert steps["见分进角补足"]["inputs"] == {"sum before": "7699.15", "raised to": "7699.20"}
    # 2025: 70% of the excess raised to the 角, 0.7 × 1475.9 = 1033.13 -> 1033.2 (the table's
    # 8142 from 2025-01, printed to the yuan, is 8141.95 raised to 8142.0)
    status, out, err = cli([{**JIANGSU, "retire": "2025-01"}])
    [record] = json.loads(out)
    assert record["transitional_pension_fen"] == 108_153 + 103_320
    assert record["total_fen"] == 814_200


def test_jiangsu_without_the_original_method_is_warned_and_refused_under_strict(cli) -> None:
    case = {k: v for k, v in JIANGSU.items() if k != "old_transitional_yuan"}
    status, out, err = cli([case])
    assert (status, err) == (0, "")
    [record] = json.loads(out)
    assert record["transitional_pension_fen"] == 255_739  # the new method's
    [warning] = record["warnings"]
    assert (warning["code"], warning["field"]) == (
        "transitional-old-method-missing",
        "old_transitional_yuan",
    )
    assert "40%" in warning["message"] and "原办法" in warning["message"]
    status, out, err = cli([case], "--strict")
    assert (status, out) == (2, "") and "case 0: field 'old_transitional_yuan'" in err
    # no deemed years: nothing to compare, no warning
    plain = {**case, "deemed_years": "0"}
    status, out, err = cli([plain])
    assert json.loads(out)[0]["warnings"] == []


def test_an_original_method_where_none_is_compared_is_refused(cli) -> None:
    """Before 2024 (江苏's original method alone is not computed: the region is named) and
    outside 江苏 an old_transitional_yuan is an error, not silently ignored."""
    for case in ({**JIANGSU, "retire": "2023-12"}, {**JIANGSU, "region": "330100"}):
        status, out, err = cli([case])
        assert (status, out) == (2, "")
        assert "old_transitional_yuan is given but region" in err, err
    status, out, err = cli([{**JIANGSU, "old_transitional_yuan": "-1"}])
    assert status == 2 and "old_transitional_yuan" in err


NEIMENGGU = {"id": "nm", "region": "150000", "base_yuan": "8179", "average_index": "0.6111",
             "contribution_years": "41年1月", "deemed_years": "11年4月", "account_yuan": "93577.2",
             "divisor_months": 139, "retire": "2025-09"}  # fmt: skip


def test_neimenggu_transitional_index_floor_is_applied_and_explained(cli) -> None:
    """The 内蒙古 2025-09 table: 1112.34 = 8179 × 1 × 136/12 × 1.2% for an index of 0.6111 (the
    floor of 1, ``pension.transitional.index_floor``); nothing is left out, so --strict
    computes it. Before the floor's date the part is named not modelled and refused."""
    status, out, err = cli([NEIMENGGU], "--explain", "--strict")
    assert (status, err) == (0, "")
    [record] = json.loads(out)
    assert record["transitional_pension_fen"] == 111_234 and record["total_fen"] == 449_237
    assert record["warnings"] == []
    [step] = [s for s in record["explanation"] if s["step"].startswith("过渡性养老金")]
    assert step["result"] == "1112.34"
    assert step["inputs"]["Ī_t"] == "0.6111" and step["inputs_en"]["Ī_t used"] == "1 (the floor)"
    assert step["inputs_zh"]["所用 Ī_t"] == "1（下限）"
    assert "raised to it" in step["formula_en"] and "按1计" in step["formula_zh"]
    cited = {p["parameter"]: p for p in step["parameters"]}
    floor = cited["pension.transitional.index_floor"]
    assert floor["value"] == "1" and floor["in_force_from"] == "2025-09-01"
    # an index above the floor is used as it is, and the explanation says so
    status, out, err = cli([{**NEIMENGGU, "average_index": "1.7318"}], "--explain")
    [record] = json.loads(out)
    [step] = [s for s in record["explanation"] if s["step"].startswith("过渡性养老金")]
    assert "Ī_t used" not in step["inputs"] and "used as it is" in step["formula_en"]
    assert "不低于本地下限1" in step["formula_zh"]
    # before 2025-09: the worker's index, named not modelled; refused under --strict
    before = {**NEIMENGGU, "retire": "2025-08"}
    status, out, err = cli([before])
    assert (status, err) == (0, "")
    [record] = json.loads(out)
    assert record["transitional_pension_fen"] == 67_975
    assert [w["code"] for w in record["warnings"]] == ["not-modelled"]
    status, out, err = cli([before], "--strict")
    assert (status, out) == (2, "")


def test_xinjiang_transitional_pension_uses_the_printed_indexed_wage(cli) -> None:
    """The 新疆 2023-05 审核表: 190.87 = 4636.42 (printed) × 38/12 × 1.3%, not 7089 × 0.654 =
    4636.21 (190.86); the explanation says so. A transitional index of its own is B_t × Ī_t."""
    case = {"id": "xj", "region": "650000", "base_yuan": "7089", "average_index": "0.654",
            "indexed_wage_yuan": "4636.42", "contribution_years": "30年7月",
            "deemed_years": "3年2月", "account_yuan": "75934.54", "divisor_months": 170,
            "retire": "2023-05"}  # fmt: skip
    status, out, err = cli([case], "--explain", "--strict")
    assert (status, err) == (0, "")
    [record] = json.loads(out)
    assert record["transitional_pension_fen"] == 19_087 and record["total_fen"] == 243_055
    [step] = [s for s in record["explanation"] if s["step"].startswith("过渡性养老金")]
    assert step["inputs"]["W (printed indexed wage)"] == "4636.42"
    assert step["inputs_zh"]["W（核定表所列指数化月平均缴费工资）"] == "4636.42"
    assert "printed indexed wage" in step["formula_en"] and step["result"] == "190.87"
    status, out, err = cli([{**case, "transitional_index": "0.6541"}], "--explain")
    [record] = json.loads(out)
    [step] = [s for s in record["explanation"] if s["step"].startswith("过渡性养老金")]
    assert "W (printed indexed wage)" not in step["inputs"]
    assert record["transitional_pension_fen"] == 19_089  # 7089 × 0.6541 × 38/12 × 1.3% = 190.89


# the printed indexed wage in the transitional pension (issue 10 §2): 山东 德州 2024-12 prints
# 4684.35 × 13.58 × 1.3% = 826.98; base × index (4684.3478) would give 826.97

DEZHOU = {"id": "dz", "region": "371400", "base_yuan": "7678", "average_index": "0.6101",
          "account_yuan": "80614.7", "divisor_months": 139, "contribution_years": "41.25",
          "deemed_years": "13年7月", "retire": "2024-12"}  # fmt: skip


def test_a_printed_indexed_wage_is_the_transitional_pensions_too(cli) -> None:
    # a month before 山东 rounds the indexed wage itself (2024-12): B × Ī is used exact
    before = {**DEZHOU, "retire": "2024-11"}
    status, out, err = cli([{**before, "indexed_wage_yuan": "4684.35"}, before], "--explain")
    assert (status, err) == (0, "")
    printed, computed = json.loads(out)
    assert printed["transitional_pension_fen"] == 82_698
    assert computed["transitional_pension_fen"] == 82_697
    [step] = [s for s in printed["explanation"] if s["step"].startswith("过渡性养老金")]
    assert step["inputs"]["W (printed indexed wage)"] == "4684.35"
    [step] = [s for s in computed["explanation"] if s["step"].startswith("过渡性养老金")]
    assert "W (printed indexed wage)" not in step["inputs"]
    # a transitional index of its own: the printed wage is the basic pension's only
    separate = {**DEZHOU, "indexed_wage_yuan": "4684.35", "transitional_index": "0.6"}
    status, out, err = cli([separate])
    assert (status, err) == (0, "")
    assert (
        json.loads(out)[0]["transitional_pension_fen"] == 81_328
    )  # 7678 × 0.6 × 13.58 × 1.3% = 813.28


def test_shandong_rounds_the_indexed_wage_to_the_fen_from_2024_12(cli) -> None:
    """德州 2024-12 from its index alone: 山东 rounds W = 7678 × 0.6101 = 4684.3478 to the fen
    first (pension.indexed_wage_unit_fen), 4684.35 × 13.58 × 1.3% = 826.98 as the table prints;
    the explanation shows the rounded wage in both pensions."""
    status, out, err = cli([DEZHOU], "--explain")
    assert (status, err) == (0, "")
    [record] = json.loads(out)
    assert record["transitional_pension_fen"] == 82_698
    steps = {s["step"][:5]: s for s in record["explanation"]}
    assert steps["过渡性养老"]["inputs"]["B_t × Ī_t, rounded half up to 1 fen"] == "4684.35"
    assert steps["基础养老金"]["inputs"]["W = B_index × Ī, rounded half up to 1 fen"] == "4684.35"
    assert "rounded first" in steps["过渡性养老"]["formula"]


# add-ons of a personal status (issue 10 §2): computed where the case gives the status as the
# table prints it (四川's 增发 rate and fixed amount, a one-child parent), else named not modelled

SICHUAN = {"id": "sc", "region": "510100", "base_yuan": "8321", "average_index": "0.964",
           "account_yuan": "149649.55", "divisor_months": 170, "contribution_years": "37.17",
           "deemed_years": "8.08", "retire": "2025-01"}  # fmt: skip


def test_sichuan_increase_is_computed_from_the_printed_rate_and_explained(cli) -> None:
    """成都 2025-01 (sichuan/2.json): 8021.44 × 0.1% × 37.17 = 298.157 -> 298.16, total 5074.00;
    without the rate the case is warned and refused under --strict, as before."""
    status, out, err = cli([{**SICHUAN, "increase_rate": "0.001"}], "--explain", "--strict")
    assert (status, err) == (0, "")
    [record] = json.loads(out)
    assert record["extra_pension_fen"] == 29_816 and record["total_fen"] == 507_400
    assert record["warnings"] == []
    steps = {s["step"].partition(" /")[0]: s for s in record["explanation"]}
    increase = steps["月增发养老金"]
    assert increase["result"] == "298.16"
    assert increase["inputs"]["r (increase_rate)"] == "0.001000"
    assert increase["inputs"]["contribution years (N)"] == "37.1700"
    cited = {p["parameter"]: p for p in increase["parameters"]}
    assert cited["pension.extra.increase_on_indexed_wage"]["verified"] is False
    status, out, err = cli([{**SICHUAN, "increase_fixed_yuan": "60"}])
    assert json.loads(out)[0]["extra_pension_fen"] == 6_000
    status, out, err = cli([SICHUAN], "--strict")
    assert (status, out) == (2, "") and "增发养老金" in err
    status, out, err = cli([{**SICHUAN, "region": "330100", "increase_rate": "0.001"}])
    assert (status, out) == (2, "") and "increase_rate or increase_fixed_yuan is given" in err
    status, out, err = cli([{**SICHUAN, "increase_rate": "1.5"}])
    assert status == 2 and "case 0: field 'increase_rate'" in err


GUIZHOU = {"id": "gz", "region": "520000", "base_yuan": "6797.5", "average_index": "1.2357",
           "account_yuan": "139534.42", "divisor_months": 139, "contribution_years": "42年4月",
           "deemed_years": "17年0月", "retire": "2023-04"}  # fmt: skip


def test_a_one_child_parent_add_on_is_computed_where_the_case_gives_the_status(cli) -> None:
    """贵州 2023-04: 6219.44 × 5% = 310.97, total 6530.41, no warning; false: none, no warning;
    not given: named (refused under --strict). 重庆 keeps its other parts named."""
    cases = [{**GUIZHOU, "only_child_parent": True}, {**GUIZHOU, "only_child_parent": False},
             GUIZHOU]  # fmt: skip
    status, out, err = cli(cases, "--explain")
    assert (status, err) == (0, "")
    yes, no, unknown = json.loads(out)
    assert (yes["extra_pension_fen"], yes["total_fen"], yes["warnings"]) == (31_097, 653_041, [])
    assert (no["extra_pension_fen"], no["total_fen"], no["warnings"]) == (0, 621_944, [])
    [warning] = unknown["warnings"]
    assert warning["code"] == "not-modelled" and "独生子女" in warning["message"]
    steps = {s["step"].partition(" /")[0]: s for s in yes["explanation"]}
    added = steps["独生子女父母加发"]
    assert added["result"] == "310.97" and added["inputs"]["amount it applies to"] == "6219.44"
    assert "pension.extra.only_child_rate" in {p["parameter"] for p in added["parameters"]}
    status, out, err = cli([GUIZHOU], "--strict")
    assert (status, out) == (2, "") and "独生子女" in err
    chongqing = {**GUIZHOU, "region": "500000", "only_child_parent": True}
    status, out, err = cli([chongqing])
    [warning] = json.loads(out)[0]["warnings"]
    assert "特贡" in warning["message"] and "独子" not in warning["message"]
    status, out, err = cli([{**GUIZHOU, "only_child_parent": "yes"}])
    assert status == 2 and "case 0: field 'only_child_parent'" in err


def test_every_kind_of_case_warning_is_said_in_chinese_and_in_english(cli) -> None:
    """One case for each warning the calculator gives (a kind added without one here fails):
    each says its message in Chinese alone, in English alone, and both in ``message``."""
    cases = [
        {**MAN_1966, "retire": "2026-01", "contribution_years": "10"},  # outside, below
        {**MAN_1966, "birth": "1963-03", "retire": "2025-03", "contribution_years": "30"},
        {**MAN_1966, "region": "310000", "retire": "2026-07", "contribution_years": "30"},
        {**TONGHUA, "contribution_years": "28", "deemed_years": "10"},
        {k: v for k, v in JIANGSU.items() if k != "old_transitional_yuan"},
        BEIJING,
        {**MAN_1966, "retire": "2026-05", "contribution_years": "30", "divisor_months": 195},
    ]
    status, out, err = cli(cases)
    assert (status, err) == (0, "")
    warnings = [w for record in json.loads(out) for w in record["warnings"]]
    assert all_said_problems(warnings) == []
    source = (Path(suiren.__file__).parent / "services" / "pension_calc.py").read_text("utf-8")
    kinds = set(re.findall(r'CaseWarning\(\s*"([a-z-]+)"', source))
    assert kinds and kinds == {w["code"] for w in warnings}
