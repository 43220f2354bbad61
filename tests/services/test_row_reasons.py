"""Every refused row of a file intake says why in Chinese and in English (domain/messages.py):
a payments file, a workers file and a history import, each full of garbage, every refusal
they can give at least once; a row whose reason has no Chinese fails, and so does a file that
no longer meets the refusals it was written for (the test cannot pass on fewer)."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine

from suiren.domain.month import Month
from suiren.services.contributions import contribute
from suiren.services.history import (
    HistorySummary,
    file_hash,
    import_people,
    people,
    read_balances,
    unmatched_balances,
)
from suiren.services.intake import (
    PAYMENT_COLUMNS,
    PAYMENT_REQUIRED,
    REPORT_COLUMNS,
    WORKER_COLUMNS,
    WORKER_REQUIRED,
    EnrolSummary,
    FileRows,
    IntakeSummary,
    RowError,
    enrol_workers,
    post_payments,
    read_chunks,
)
from suiren.services.workers import enrol
from suiren.store.db import unit_of_work
from tests.conftest import NOW
from tests.ledger_helpers import POLICY, VAULT, base_bounds_fen, resident_id

CJK = re.compile(r"[\u3400-\u9fff]")


def write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in [header, *rows]), encoding="utf-8")
    return path


def assert_both_languages(errors: list[RowError]) -> None:
    for e in errors:
        assert e.reason_zh is not None and CJK.search(e.reason_zh), (e.row, e.code, e.reason)
        assert re.search("[A-Za-z]{2,}", e.reason) and not CJK.match(e.reason), e
        assert e.to_json() == {
            "row": e.row,
            "field": e.field,
            "code": e.code,
            "reason": e.reason,
            "reason_zh": e.reason_zh,
        }
        assert e.as_csv() == [e.row, e.field, e.code, e.reason, e.reason_zh]
        assert e.line() == f"{e.reason_zh} / {e.reason}"
    assert REPORT_COLUMNS == ("row", "field", "code", "reason", "reason_zh")


def test_every_refused_payment_row_says_why_in_both_languages(
    engine: Engine, tmp_path: Path
) -> None:
    with unit_of_work(engine) as c:
        enrolled = enrol(c, POLICY, VAULT, resident_id(1), "440100", None, NOW).worker.worker_id
        contribute(c, POLICY, "taken", enrolled, Month.parse("2026-01"),
                   Month.parse("2026-01"), 600_000, NOW)  # fmt: skip
        other = enrol(c, POLICY, VAULT, resident_id(2), "440100", None, NOW).worker.worker_id
    floor, _ = base_bounds_fen("440100", Month.parse("2026-03"))
    low = f"{(floor - 100) // 100}.00"
    rows = [
        f"bad id!,2026-03,6000,{enrolled},,",  # 1 invalid-id
        f"transfer/x,2026-03,6000,{enrolled},,",  # 2 a system prefix
        f"p3,March,6000,{enrolled},,",  # 3 invalid-month
        f"p4,2026-03,6 000,{enrolled},,",  # 4 invalid-amount
        f"p5,2026-03,0,{enrolled},,",  # 5 not positive
        f"p6,2026-03,6000,{enrolled},,pension",  # 6 invalid-scheme
        "p7,2026-03,6000,,,",  # 7 no worker
        f"p8,2026-03,6000,W!{enrolled},,",  # 8 not a worker id
        "p9,2026-03,6000,W000000000000,,",  # 9 unknown worker
        f"p10,2026-03,6000,{enrolled},,employee_medical",  # 10 not enrolled there
        f"p11,2027-01,6000,{enrolled},,",  # 11 future
        f"p12,2015-01,6000,{enrolled},,",  # 12 back-payment
        f"p13,2026-03,{low},{enrolled},,",  # 13 below the floor
        f"p14,2026-04,6000,{enrolled},,",  # 14 taken; 15: the same id and month again
        f"p14,2026-04,6000,{enrolled},,",
        f"taken,2026-01,7000,{other},,",  # 16 the id of another payment
        f"p17,2026-01,6000,{enrolled},,",  # 17 the month is paid
        f"p18,2026-03,6000,,{resident_id(3)},",  # 18 nobody with this resident id
        "p19,2026-03,6000,,110101199003077777,",  # 19 not a resident id
        f"p20,2026-03,6000,{other},{resident_id(1)},",  # 20 a worker and another's id
        f"p21,2026-05,6000,{enrolled},,",  # 21 taken
    ]
    header = "payment_id,month,base_yuan,worker_id,resident_id,scheme"
    path = write(tmp_path / "garbage.csv", header, rows)
    summary = IntakeSummary()
    earlier = FileRows()
    for chunk in read_chunks(path, PAYMENT_COLUMNS, PAYMENT_REQUIRED, 100):
        with unit_of_work(engine) as c:
            summary.add(post_payments(c, POLICY, VAULT, chunk, NOW, earlier))
    assert summary.posted == 2 and summary.refused == len(rows) - 2  # 14 and 21 posted
    codes = {e.code for e in summary.errors}
    assert codes >= {
        "invalid-id", "invalid-month", "invalid-amount", "invalid-scheme", "invalid-worker",
        "unknown-worker", "not-enrolled", "future", "back-payment", "base-out-of-bounds",
        "duplicate-id", "conflict", "already-paid", "invalid-resident-id",
    }, codes  # fmt: skip
    assert_both_languages(summary.errors)
    month = next(e for e in summary.errors if e.row == 3)
    assert month.reason_zh == '月份应为 "YYYY-MM" 格式（ASCII 数字）'
    assert month.reason == 'a month is "YYYY-MM" (ASCII digits)'


def test_every_refused_worker_row_says_why_in_both_languages(
    engine: Engine, tmp_path: Path
) -> None:
    with unit_of_work(engine) as c:
        enrol(c, POLICY, VAULT, resident_id(5), "440100", None, NOW)
    rows = [
        f"{resident_id(6)},440100,,pension",  # 1 invalid-scheme
        "4401061990010100X1,440100,,",  # 2 not a resident id
        f"{resident_id(7)},999999,,",  # 3 unknown region
        f"{resident_id(8, '20150101')},440100,,",  # 4 a child
        f"{resident_id(9, '19500101')},440100,,",  # 5 past retirement age
        f"{resident_id(5)},330100,,",  # 6 enrolled in another region
        f"{resident_id(10)},440100,,",  # 7 taken
    ]
    path = write(tmp_path / "workers.csv", "resident_id,work_region,hukou_region,scheme", rows)
    summary = EnrolSummary()
    for chunk in read_chunks(path, WORKER_COLUMNS, WORKER_REQUIRED, 100):
        with unit_of_work(engine) as c:
            summary.add(enrol_workers(c, POLICY, VAULT, chunk, NOW))
    assert summary.created == 1 and summary.refused == len(rows) - 1
    codes = {e.code for e in summary.errors}
    assert codes == {
        "invalid-scheme", "invalid-resident-id", "unknown-region", "enrolment-refused",
        "enrolled-elsewhere",
    }, codes  # fmt: skip
    assert_both_languages(summary.errors)
    elsewhere = next(e for e in summary.errors if e.code == "enrolled-elsewhere")
    assert elsewhere.reason_zh is not None and "转移接续" in elsewhere.reason_zh


def test_every_refused_history_row_says_why_in_both_languages(
    engine: Engine, tmp_path: Path
) -> None:
    with unit_of_work(engine) as c:
        paid = enrol(c, POLICY, VAULT, resident_id(40, "19800301"), "440100", None, NOW)
        contribute(c, POLICY, "p40", paid.worker.worker_id, Month.parse("2026-01"),
                   Month.parse("2026-01"), 600_000, NOW)  # fmt: skip
    a, b, d, e, f, g, h = (resident_id(n, "19800301") for n in (41, 42, 43, 44, 45, 46, 47))
    rows = [
        f"{a},440100,2010-01,2015-12,paid,5000,,,,",  # 1 重复缴费 with row 2
        f"{a},330100,2014-01,2016-12,paid,5000,,,,",  # 2 kept: the relation's province
        f"{resident_id(40, '19800301')},440100,2025-06,2026-01,paid,6000,,,,",  # 3 recorded
        f"{b},440100,2010-01,2010-12,paid,5000,,,,",  # 4
        f"{d},440100,2010-01,2010-12,deemed,5000,,,,",  # 5 deemed with a base
        f"{b},440100,2011-01,2011-12,paid,5000,,,,",  # 6 not consecutive
        f"{e},440100,1990-01,1990-12,paid,5000,,,,",  # 7 before the 16th birthday
        f"{e},440100,2026-06,2026-06,paid,5000,,,,",  # 8 this month
        f"{f},440100,2010-01,2010-12,paid,,,,,",  # 9 no base, no index
        f"{f},440100,2011-01,2011-12,paid,5000,12.5,,,",  # 10 an index above 10
        f"{f},440100,2012-01,2012-12,paid,9999999999,,,,",  # 11 not a monthly base
        f"{f},440100,2013-12,2013-01,paid,5000,,,,",  # 12 ends before it starts
        f"{f},999999,2014-01,2014-12,work,6 000,,,,",  # 13 region, kind, amount
        f"{f},440100,2015-13,2015-12,paid,5000,,,,",  # 14 month
        f"{g},440100,2010-01,2010-12,paid,5000,,F,1981-03,440100",  # 15 sex and birth
        f"{g},440100,2011-01,2011-12,paid,5000,,,,330100",  # 16 two hukou regions
        "4401061980030100X1,440100,2010-01,2010-12,paid,5000,,,,",  # 17 not a resident id
        f"{h},440100,2010-01,2010-12,paid,5000,,,,",  # 18 taken, but its balance is bad
    ]
    header = (
        "resident_id,region,from_month,to_month,kind,base_yuan,index,sex,birth_month,hukou_region"
    )
    stints = write(tmp_path / "stints.csv", header, rows)
    money = write(
        tmp_path / "balances.csv",
        "resident_id,region,account_yuan,as_of",
        [
            f"{h},440100,1000.00,2019-06-30",  # 1 not a year's end
            f"{h},440100,-5,2009-12-31",  # 2 not an amount
            f"{resident_id(48, '19800301')},440100,1000.00,2019-12-31",  # 3 nobody's stints
        ],
    )
    found = read_balances(money)[0]
    summary = HistorySummary()
    seen: set[str] = set()
    for unit in people(stints, 1_000):
        seen.update(p.resident_id for p in unit)
        with unit_of_work(engine) as c:
            summary.add(import_people(c, POLICY, VAULT, unit, found, file_hash(stints), NOW))
    summary.errors += unmatched_balances(found, seen)
    codes = {e.code for e in summary.errors}
    assert codes >= {
        "duplicate-period", "already-recorded", "deemed-with-base", "not-consecutive",
        "invalid-period", "no-base", "invalid-index", "invalid-amount", "unknown-region",
        "invalid-kind", "invalid-month", "registry-conflict", "conflict",
        "invalid-resident-id", "invalid-date", "no-stints",
    }, codes  # fmt: skip
    assert_both_languages(summary.errors)
    duplicate = next(e for e in summary.errors if e.code == "duplicate-period")
    assert duplicate.reason_zh is not None and duplicate.reason_zh.startswith("重复缴费：")
    assert duplicate.row == 1
    assert "也在第 2 行（330100 2014-01–2016-12，paid）中" in duplicate.reason_zh
    assert "also in row 2 (330100 2014-01–2016-12, paid)," in duplicate.reason


def test_an_amount_with_too_many_digits_says_how_many_it_may_have(
    engine: Engine, tmp_path: Path
) -> None:
    """A base of eleven digits (or a cell of twenty, a card number pasted in the column) was
    refused as "at most two decimals", which it had: the reason names the digits allowed."""
    from tests.services.test_history import run_import
    from tests.services.test_intake import post_file

    with unit_of_work(engine) as c:
        worker = enrol(c, POLICY, VAULT, resident_id(1), "440100", None, NOW).worker.worker_id
    payments = write(
        tmp_path / "pay.csv",
        "payment_id,month,base_yuan,worker_id",
        [f"p1,2026-01,12345678901,{worker}", f"p2,2026-02,{'9' * 20},{worker}"],
    )
    rid = resident_id(49, "19800301")
    stints = write(
        tmp_path / "stints.csv",
        "resident_id,region,from_month,to_month,kind,base_yuan",
        [f"{rid},440100,2010-01,2010-12,paid,12345678901"],
    )
    errors = post_file(engine, payments).errors + run_import(engine, stints).errors
    assert [(e.field, e.code) for e in errors] == [("base_yuan", "invalid-amount")] * 3
    for e in errors:
        assert "at most 10 digits before the point and two after" in e.reason
        assert e.reason_zh is not None and "整数部分最多 10 位" in e.reason_zh
