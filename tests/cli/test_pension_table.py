"""``suiren pension calc cases.parquet --out results.parquet``: the JSON calculator's fields and
rules on a table (issue 10 §6). Every case of a table gives what the same case gives in JSON,
whether its column is read at once (decimals, integers) or value by value (text)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from suiren.services.pension_table import decimal_column
from tests.cli.runner import invoke
from tests.cli.test_pension_cli import RULES_DATE, synthetic_records

AMOUNTS = ("basic_pension_fen", "account_pension_fen", "transitional_pension_fen", "total_fen")


def calc_table(tmp_path: Path, table: pa.Table, *options: str) -> tuple[int, str, list[dict]]:
    cases, results = tmp_path / "cases.parquet", tmp_path / "results.parquet"
    pq.write_table(table, cases)
    results.unlink(missing_ok=True)
    argv = ["pension", "calc", str(cases), "--out", str(results), "--date", RULES_DATE, *options]
    done = invoke(argv, {}, tmp_path)
    rows = pq.read_table(results).to_pylist() if done.returncode == 0 else []
    return done.returncode, done.stderr, rows


def calc_json(tmp_path: Path, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    done = invoke(["pension", "calc", str(path), "--date", RULES_DATE], {}, tmp_path)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def same(table_rows: list[dict], json_rows: list[dict]) -> None:
    assert len(table_rows) == len(json_rows)
    for t, j in zip(table_rows, json_rows, strict=True):
        assert {k: t[k] for k in ("id", *AMOUNTS)} == {k: j[k] for k in ("id", *AMOUNTS)}, j
        assert t["warnings"] == j["warnings"], j


def test_text_columns_give_what_json_gives(tmp_path: Path) -> None:
    """Varied cases (years as 30年6月, derived divisors, dual bases) as text columns: each
    value is read by its field's own rule, as in JSON."""
    records = synthetic_records(400)
    fields = sorted({k for r in records for k in r} - {"id", "divisor_months"})
    columns = {"id": pa.array([r["id"] for r in records], pa.int64())}
    columns |= {f: pa.array([r.get(f) for r in records], pa.string()) for f in fields}
    columns["divisor_months"] = pa.array(
        [None if r.get("divisor_months") is None else str(r["divisor_months"]) for r in records]
    )
    status, err, rows = calc_table(tmp_path, pa.table(columns))
    assert status == 0, err
    same(rows, calc_json(tmp_path, records))
    assert any(r["warnings"] for r in rows)  # the mix holds warned cases


def test_decimal_columns_are_read_at_once_and_exactly(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    n = 2_000
    base = rng.integers(300_000, 2_000_000, n)
    index = rng.integers(300_000, 3_000_000, n)
    years = rng.integers(150, 450, n)  # tenths of a year
    account = rng.integers(0, 30_000_000, n)
    regions = np.array(["410100", "440100", "310000", "120000", "220000"])[rng.integers(0, 5, n)]
    table = pa.table(
        {
            "id": pa.array(np.arange(n)),
            "region": pa.array(regions),
            "base_yuan": decimal_column(base, 2),
            "average_index": decimal_column(index, 6),
            "contribution_years": decimal_column(years, 1),
            "account_yuan": decimal_column(account, 2),
            "divisor_months": pa.array(np.full(n, 139)),
        }
    )
    status, err, rows = calc_table(tmp_path, table)
    assert status == 0, err
    records = [
        {
            "id": i,
            "region": str(regions[i]),
            "base_yuan": str(Decimal(int(base[i])) / 100),
            "average_index": str(Decimal(int(index[i])) / 10**6),
            "contribution_years": str(Decimal(int(years[i])) / 10),
            "account_yuan": str(Decimal(int(account[i])) / 100),
            "divisor_months": 139,
        }
        for i in range(n)
    ]
    same(rows, calc_json(tmp_path, records))


def test_an_index_with_more_places_is_rounded_by_the_region_as_in_json(tmp_path: Path) -> None:
    record = {"id": 1, "region": "120000", "base_yuan": "7000", "contribution_years": "30",
              "account_yuan": "100000", "divisor_months": 139}  # fmt: skip
    printed = "0.733100252737995"
    table = pa.table(
        {
            **{k: pa.array([v]) for k, v in record.items()},
            "average_index": pa.array([Decimal(printed)], pa.decimal128(20, 15)),
        }
    )
    status, err, rows = calc_table(tmp_path, table)
    assert status == 0, err
    same(rows, calc_json(tmp_path, [{**record, "average_index": printed}]))


def one_case(**columns: Any) -> pa.Table:
    base = {"region": pa.array(["120000", "120000"]), "base_yuan": decimal_column([700_000] * 2, 2),
            "average_index": decimal_column([1_000_000] * 2, 6),
            "contribution_years": decimal_column([30, 30], 0),
            "account_yuan": decimal_column([10_000_000] * 2, 2),
            "divisor_months": pa.array([139, 139])}  # fmt: skip
    return pa.table(base | columns)


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"base_yuan": pa.array([7000.0, 7000.0])}, "binary floats"),
        ({"base_yuan": decimal_column([700_000, 0], 2)}, "case 1: field 'base_yuan'"),
        ({"base_yuan": decimal_column([700_000, 700_001], 3)}, "case 1: field 'base_yuan'"),
        ({"account_yuan": decimal_column([100, -100], 2)}, "case 1: field 'account_yuan'"),
        (
            {"average_index": decimal_column([1_000_000, 6_000_000], 6)},
            "case 1: field 'average_index'",
        ),
        (
            {"average_index": pa.array([None, None], pa.decimal128(10, 6))},
            "case 0: field 'average_index': is required",
        ),
        ({"contribution_years": decimal_column([30, 76], 0)}, "case 1: field 'contribution_years'"),
        (
            {"birth": pa.array(["1966-03", "1966-13"]), "sex": pa.array(["M", "M"])},
            "case 1: field 'birth'",
        ),
        ({"region": pa.array(["120000", "999999"])}, "case 1: field 'region'"),
        ({"region": pa.array(["120000", None])}, "case 1: field 'region': is required"),
        # years and months with 12 or more months (read as 40年1月, 47年3月 before)
        (
            {"contribution_years": pa.array(["30", "39年13月"])},
            "case 1: field 'contribution_years'",
        ),
        # a retirement before the formula's rules: a parameter's error naming no row before
        ({"retire": pa.array(["2025-06", "1995-06"])}, "case 1: field 'retire'"),
        (
            {
                "birth": pa.array(["1983-06"] * 2),
                "sex": pa.array(["M"] * 2),
                "retire": pa.array(["2023-06"] * 2),
                "contribution_years": decimal_column([30, 41], 0),
            },
            "case 1: field 'contribution_years': the contribution years exceed the age",
        ),
        # a refused decimal as written, not as Python's Decimal('-1.5')
        ({"average_index": decimal_column([1_000_000, -1_500_000], 6)}, "(got -1.500000)"),
        ({"regoin": pa.array(["120000", "120000"])}, "did you mean 'region'"),
        ({"sex": pa.array([1, 2])}, "must hold text"),
        ({"sex": pa.array(["M", "X" * 65])}, "case 1: field 'sex'"),
        # integers whose product by the field's scale wraps in int64 (both were read as 0.00)
        ({"account_yuan": pa.array([100, 2**63], pa.uint64())}, "case 1: field 'account_yuan'"),
        ({"account_yuan": pa.array([100, -(2**63)], pa.int64())}, "case 1: field 'account_yuan'"),
        ({"account_yuan": decimal_column([100, -(2**63)], 0)}, "case 1: field 'account_yuan'"),
    ],
)
def test_a_bad_column_is_refused_naming_the_row_and_nothing_is_written(
    tmp_path: Path, columns: dict[str, pa.Array], message: str
) -> None:
    table = one_case(**columns)
    if "regoin" in columns:
        table = table.drop(["region"])
    status, err, _ = calc_table(tmp_path, table)
    assert status == 2 and message in err, err
    assert not (tmp_path / "results.parquet").exists()
    assert not list(tmp_path.glob(".*partial"))


def test_a_table_needs_a_table_out(tmp_path: Path) -> None:
    cases = tmp_path / "cases.parquet"
    pq.write_table(one_case(), cases)
    done = invoke(["pension", "calc", str(cases), "--date", RULES_DATE], {}, tmp_path)
    assert done.returncode == 2 and "--out RESULTS.parquet" in done.stderr
    out = ["--out", str(tmp_path / "r.parquet")]
    done = invoke(["pension", "calc", str(cases), *out, "--explain"], {}, tmp_path)
    assert done.returncode == 2 and "--explain is for JSON" in done.stderr
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    done = invoke(["pension", "calc", str(tmp_path / "broken.parquet"), *out], {}, tmp_path)
    assert done.returncode == 2 and "not a readable Parquet file" in done.stderr
    upper = tmp_path / "CASES.PARQUET"  # the suffix in capitals was read as JSON: "not UTF-8"
    pq.write_table(one_case(), upper)
    argv = ["pension", "calc", str(upper), "--out", str(tmp_path / "R.PARQUET"), "--date"]
    done = invoke([*argv, RULES_DATE], {}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert pq.read_table(tmp_path / "R.PARQUET").num_rows == 2


def test_json_cases_to_a_table(tmp_path: Path) -> None:
    records = synthetic_records(50)
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    out = tmp_path / "r.parquet"
    done = invoke(
        ["pension", "calc", str(path), "--out", str(out), "--date", RULES_DATE], {}, tmp_path
    )
    assert done.returncode == 0, done.stderr
    same(pq.read_table(out).to_pylist(), calc_json(tmp_path, records))


def test_beijing_early_actual_years_as_decimal_columns_give_what_json_gives(tmp_path: Path) -> None:
    """北京's G实 inputs (issue 10 §2) as decimal columns: years with two places (read at
    once), years printed with five places (4.58333 = 4年7月, read one by one), an index with
    six; a row without them (null) is warned as in JSON."""
    case = {"region": "110111", "base_yuan": "11761", "average_index": "0.7533",
            "contribution_years": "38.02", "deemed_years": "8.17", "account_yuan": "98019.99",
            "divisor_months": 139, "retire": "2023-04"}  # fmt: skip
    for places, years in ((2, "4.85"), (5, "4.58333")):
        early = [(years, "0.5098"), ("4.5", "0.509812"), (None, None)]
        table = pa.table(
            {
                "id": pa.array([0, 1, 2]),
                **{k: pa.array([v] * 3) for k, v in case.items()},
                "early_actual_years": pa.array(
                    [None if y is None else Decimal(y) for y, _ in early], pa.decimal128(10, places)
                ),
                "early_actual_index": pa.array(
                    [None if x is None else Decimal(x) for _, x in early], pa.decimal128(10, 6)
                ),
            }
        )
        status, err, rows = calc_table(tmp_path, table)
        assert status == 0, err
        records = [
            {"id": i, **case}
            | ({} if y is None else {"early_actual_years": y, "early_actual_index": x})
            for i, (y, x) in enumerate(early)
        ]
        same(rows, calc_json(tmp_path, records))
        # 4年7月 is 4.58 at 北京's two places: 960.8737 + 117.61 × 4.58 × 0.5098 = 1235.4794
        assert rows[0]["transitional_pension_fen"] == (125_167 if places == 2 else 123_548)
        assert [w["code"] for w in rows[2]["warnings"]] == ["early-actual-years-missing"]


def test_jiangsu_original_method_as_a_decimal_column_gives_what_json_gives(tmp_path: Path) -> None:
    """江苏's 原办法 (old_transitional_yuan, issue 10 §2) as a decimal column: given, 0 and null
    (warned as in JSON)."""
    case = {"region": "320000", "base_yuan": "8785", "average_index": "1.3353",
            "transitional_index": "1.5995", "account_yuan": "208040.22", "divisor_months": 139,
            "contribution_years": "44.1667", "deemed_years": "15.1667", "retire": "2024-12"}  # fmt: skip
    old = ["1081.53", "0", None]
    table = pa.table(
        {
            "id": pa.array([0, 1, 2]),
            **{k: pa.array([v] * 3) for k, v in case.items()},
            "old_transitional_yuan": pa.array(
                [None if o is None else Decimal(o) for o in old], pa.decimal128(12, 2)
            ),
        }
    )
    status, err, rows = calc_table(tmp_path, table)
    assert status == 0, err
    records = [
        {"id": i, **case} | ({} if o is None else {"old_transitional_yuan": o})
        for i, o in enumerate(old)
    ]
    same(rows, calc_json(tmp_path, records))
    assert rows[0]["transitional_pension_fen"] == 167_193
    assert rows[1]["transitional_pension_fen"] == 102_300  # 0.4 × 2557.39 = 1022.956 -> 1023.0
    assert [w["code"] for w in rows[2]["warnings"]] == ["transitional-old-method-missing"]
