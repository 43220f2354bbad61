"""Earlier history migrated from an agency's old system (issue 12), on SQLite and PostgreSQL.

The careers below carry their expected paying province (待遇领取地) from published agency
explanations and from the rule's edges (国办发〔2009〕66号 第六条):

- 上海市人社局 via 新民晚报 (2022, toutiao.com/item/7062507896520573453): 老葛, hukou 杭州,
  广东 10 years, 北京 14 years, 上海 about 8 years (the relation) → 北京, "转回上一个缴费年限满
  10年的参保地";
- 杭州人社 "杭小微" explainer (reprinted posts.careerengine.us/p/5e3f0dd91be56221ba8ca5dc):
  老杭, hukou 江苏, 杭州 11 years then 上海 11 years → 上海 (Q2); back to 江苏 to pay there →
  江苏, the hukou province holding the relation whatever its years (Q1);
- 人社部 (央视财经 reprint, 2022-12-16): "有多段关系均满10年，最后一个满10年的省份就是退休地";
- 人社部规〔2016〕5号 第一条: deemed years count for the province where the work was done;
- 广州 explainer and 天津 (津人社规字〔2017〕13号): a temporary account's place never pays and
  its years are not counted there (不包括临时基本养老保险缴费账户缴费年限).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from fractions import Fraction
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, func, select

from suiren.domain.month import Month
from suiren.ledger.accounts import Scheme, individual_account, pooled_entitlement
from suiren.policy import load_policy
from suiren.policy.interest import interest_for
from suiren.services.career import estimate, paying_province
from suiren.services.contributions import ContributionRefused, contribute
from suiren.services.history import (
    HistoryConflict,
    HistorySummary,
    file_hash,
    import_people,
    month_pooled_fen,
    people,
    read_balances,
    unmatched_balances,
)
from suiren.services.intake import FileRefused
from suiren.services.interest import credit_interest
from suiren.services.transfer_quotes import TransferRefused, quote_for
from suiren.services.workers import enrol
from suiren.store.audit import verify
from suiren.store.db import unit_of_work
from suiren.store.ledger_repo import balances
from suiren.store.tables import history_stints, journal
from tests import lock_order
from tests.conftest import NOW, this_source
from tests.ledger_helpers import POLICY, VAULT, resident_id

MFP = load_policy("money_follows_person")
HEADER = "resident_id,region,from_month,to_month,kind,base_yuan,index,hukou_region\n"
DAY = date(2026, 6, 1)


def write(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text(header + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def run_import(
    engine: Engine, path: Path, balances_path: Path | None = None, now: datetime = NOW
) -> HistorySummary:
    """The file through the service, one unit of work per batch of people (as the CLI)."""
    found = read_balances(balances_path)[0] if balances_path else {}
    total = HistorySummary()
    seen: set[str] = set()
    import_id = file_hash(path)
    for unit in people(path, 1_000):
        seen.update(p.resident_id for p in unit)
        with unit_of_work(engine) as c:
            total.add(import_people(c, POLICY, VAULT, unit, found, import_id, now))
    total.errors += unmatched_balances(found, seen)
    return total


def worker_of(summary: HistorySummary, rid: str) -> str:
    return dict(summary.mapping)[rid]


def audit_ok(engine: Engine) -> None:
    with unit_of_work(engine) as c:
        result = verify(c)
    assert result.ok, result.problems


# --- the paying province from an imported career -----------------------------------------


@dataclass(frozen=True)
class Career:
    name: str
    hukou: str
    born: str  # YYYYMMDD
    stints: tuple[tuple[str, str, str, str], ...]  # (region, from, to, kind)
    paying: str


CAREERS = [
    Career("上海人社 老葛: relation <10 → back to the last place with 10+", "330100", "19620301",
           (("440100", "1990-01", "1999-12", "paid"), ("110000", "2000-01", "2013-12", "paid"),
            ("310000", "2014-01", "2021-12", "paid")), "110000"),
    Career("杭州人社 老杭 Q2: 10+ where the relation is", "320100", "19650301",
           (("330100", "1997-01", "2007-12", "paid"), ("310000", "2008-01", "2018-12", "paid")),
           "310000"),
    Career("杭州人社 老杭 Q1: the hukou province holds the relation", "320100", "19650301",
           (("330100", "1997-01", "2007-12", "paid"), ("310000", "2008-01", "2018-12", "paid"),
            ("320100", "2019-01", "2019-12", "paid")), "320000"),
    Career("exactly 10 years where the relation is", "410100", "19700301",
           (("440100", "2000-01", "2005-12", "paid"), ("330100", "2006-01", "2015-12", "paid")),
           "330000"),
    Career("9 years 11 months there: back to the last place with 10+", "410100", "19700301",
           (("440100", "2000-01", "2010-12", "paid"), ("330100", "2011-01", "2020-11", "paid")),
           "440000"),
    Career("9 years 11 months there, no place with 10: the hukou province", "410100", "19700301",
           (("440100", "2000-01", "2004-12", "paid"), ("330100", "2005-01", "2014-11", "paid")),
           "410000"),
    Career("the hukou province holds the relation with 3 years", "410100", "19700301",
           (("440100", "2000-01", "2014-12", "paid"), ("410100", "2015-01", "2017-12", "paid")),
           "410000"),
    Career("人社部: two places with 10+ — the last one", "410100", "19700301",
           (("440100", "1995-01", "2006-12", "paid"), ("330100", "2007-01", "2017-12", "paid"),
            ("310000", "2018-01", "2022-12", "paid")), "330000"),
    Career("5号 第一条: deemed years lift a province to 10", "410100", "19700301",
           (("320100", "1990-01", "1992-12", "deemed"), ("320100", "2000-01", "2006-12", "paid")),
           "320000"),
    Career("without the deemed years the same province has 7: the hukou", "410100", "19700301",
           (("320100", "2000-01", "2006-12", "paid"),), "410000"),
    Career("a temporary account held 11 years never pays", "410100", "19580301",
           (("440100", "2000-01", "2007-12", "paid"), ("110000", "2008-01", "2018-12", "temporary")),
           "410000"),
    Career("temporary years do not add to a place's own years", "410100", "19580301",
           (("110000", "1995-01", "1999-12", "paid"), ("440100", "2000-01", "2004-12", "paid"),
            ("110000", "2005-01", "2010-12", "temporary")), "410000"),
]  # fmt: skip


def career_rows(career: Career, n: int) -> tuple[str, list[str]]:
    rid = resident_id(n, career.born)
    rows = [
        f"{rid},{region},{first},{last},{kind},{'' if kind == 'deemed' else '5000'},,{career.hukou}"
        for region, first, last, kind in career.stints
    ]
    return rid, rows


def test_the_paying_province_of_imported_careers(engine: Engine, tmp_path: Path) -> None:
    rows: list[str] = []
    ids = []
    for n, career in enumerate(CAREERS):
        rid, lines = career_rows(career, n)
        ids.append(rid)
        rows += lines
    summary = run_import(engine, write(tmp_path / "careers.csv", rows))
    assert not summary.errors, summary.errors
    assert summary.enrolled == len(CAREERS)
    with unit_of_work(engine) as c:
        got = {
            career.name: paying_province(c, POLICY, worker_of(summary, rid), DAY).province
            for career, rid in zip(CAREERS, ids, strict=True)
        }
    assert got == {career.name: career.paying for career in CAREERS}
    audit_ok(engine)


def test_a_temporary_stint_enrols_into_a_temporary_account(engine: Engine, tmp_path: Path) -> None:
    career = CAREERS[10]  # recorded as indices: Suiren has no wages of those years
    rid, rows = career_rows(career, 1)
    rows = [r.replace(",5000,,", ",,1.0,") for r in rows]
    summary = run_import(engine, write(tmp_path / "t.csv", rows))
    worker = worker_of(summary, rid)
    with unit_of_work(engine) as c:
        result = estimate(c, POLICY, worker, DAY, Month.parse("2026-05"))
        statement_kinds = {
            r.kind
            for r in c.execute(select(history_stints).where(history_stints.c.worker_id == worker))
        }
    assert statement_kinds == {"paid", "temporary"}
    assert result["paying_province"] == "410000"
    assert result["temporary_account_months"] == 132
    assert result["imported_months"] == 96 + 132


# --- money: balances, entitlement, transfers, interest -----------------------------------


def test_balances_entitlement_and_the_transfer_amount(engine: Engine, tmp_path: Path) -> None:
    rid = resident_id(7, "19800301")
    stints = write(
        tmp_path / "s.csv",
        [
            f"{rid},440100,2010-01,2019-12,paid,5000,,410100",
            f"{rid},410100,2005-01,2007-12,deemed,,0.9,",
        ],
    )
    money = write(
        tmp_path / "b.csv",
        [f"{rid},440100,85000.00,2019-12-31"],
        header="resident_id,region,account_yuan,as_of\n",
    )
    summary = run_import(engine, stints, money)
    assert not summary.errors, summary.errors
    worker = worker_of(summary, rid)
    expected_pooled = sum(
        month_pooled_fen(POLICY, "440100", Month(m), 500_000)
        for m in range(Month.parse("2010-01").ordinal, Month.parse("2019-12").ordinal + 1)
    )
    assert expected_pooled == 120 * 60_000  # 20% − 8% of 5,000 yuan a month since 2006
    with unit_of_work(engine) as c:
        held = balances(
            c,
            [
                str(individual_account(worker, Scheme.EMPLOYEE_PENSION, "440100")),
                str(pooled_entitlement(worker, Scheme.EMPLOYEE_PENSION, "440100")),
            ],
        )
        current = quote_for(c, POLICY, worker, "440100", "330100", DAY, Scheme.EMPLOYEE_PENSION)
        reform = quote_for(c, MFP, worker, "440100", "330100", DAY, Scheme.EMPLOYEE_PENSION)
    account, entitlement = held.values()
    assert account == 8_500_000
    assert entitlement >= expected_pooled  # with the interest of 2010–2019
    assert summary.years_without_rate == set()  # every year from 1998 has a rate
    assert current.account_fen == 8_500_000
    assert current.pooled_fen == 120 * 500_000 * 12 // 100  # 66号: 12% of every base since 1998
    assert reform.pooled_fen >= entitlement  # 钱随人走: the whole entitlement with its interest
    audit_ok(engine)


def test_a_balance_earns_the_years_a_region_already_ran(engine: Engine, tmp_path: Path) -> None:
    """A balance at the end of 2024 arriving after the region's 2025 run: 2025's interest on
    it is credited on arrival (the whole year's rate: it was there all year)."""
    with unit_of_work(engine) as c:
        mover = enrol(c, POLICY, VAULT, resident_id(30), "440100", None, NOW)
    with unit_of_work(engine) as c:
        contribute(c, POLICY, "p", mover.worker.worker_id, Month.parse("2025-03"),
                   Month.parse("2025-03"), 600_000, datetime(2025, 12, 20, tzinfo=UTC))  # fmt: skip
    with unit_of_work(engine) as c:
        assert credit_interest(c, POLICY, 2025, NOW)[0].accounts == 1
    rid = resident_id(31, "19800301")
    stints = write(tmp_path / "s.csv", [f"{rid},440100,2015-01,2024-12,paid,4000,,"])
    money = write(
        tmp_path / "b.csv",
        [f"{rid},440100,50000.00,2024-12-31"],
        header="resident_id,region,account_yuan,as_of\n",
    )
    worker = worker_of(run_import(engine, stints, money), rid)
    account = str(individual_account(worker, Scheme.EMPLOYEE_PENSION, "440100"))
    with unit_of_work(engine) as c:
        held = balances(c, [account])[account]
    assert held == 5_000_000 + interest_for(POLICY, 2025, 5_000_000, 0, "440100")
    audit_ok(engine)


def test_an_index_only_month_is_priced_or_the_quote_says_what_it_lacks(
    engine: Engine, tmp_path: Path
) -> None:
    rid = resident_id(8, "19800301")
    path = write(tmp_path / "i.csv", [f"{rid},440100,2012-01,2021-12,paid,,1.2,"])
    summary = run_import(engine, path)
    assert summary.flags == {"index_only": 1}
    worker = worker_of(summary, rid)
    with (
        unit_of_work(engine) as c,
        pytest.raises(TransferRefused, match=r"average wage of 440100 for 2012"),
    ):
        quote_for(c, POLICY, worker, "440100", "330100", DAY, Scheme.EMPLOYEE_PENSION)


# --- the estimate -------------------------------------------------------------------------


def test_the_estimate_reads_bases_indices_and_deemed_years(engine: Engine, tmp_path: Path) -> None:
    rid = resident_id(9, "19700301")
    path = write(
        tmp_path / "e.csv",
        [
            f"{rid},440100,1992-01,1997-12,deemed,,1.0,",
            f"{rid},440100,1998-01,2022-12,paid,,0.8,",
            f"{rid},440100,2023-01,2025-12,paid,9000,,",
        ],
    )
    worker = worker_of(run_import(engine, path), rid)
    with unit_of_work(engine) as c:
        result = estimate(c, POLICY, worker, DAY, Month.parse("2026-05"))
    assert result["deemed_months"] == 72
    assert result["contribution_months"] == 72 + 300 + 36
    assert result["transitional_pension_fen"] > 0  # deemed years: the 过渡性养老金
    assert result["missing_wages"] == []
    assert result["paying_province"] == "440000"
    index = float(result["average_index"])
    assert 0.8 < index < 1.2  # 72 × 1.0, 300 × 0.8, 36 × 9000 / Guangdong's wage


def test_an_estimate_names_the_wages_it_lacks(engine: Engine, tmp_path: Path) -> None:
    rid = resident_id(10, "19700301")
    path = write(
        tmp_path / "w.csv",
        [f"{rid},440100,2010-01,2022-12,paid,4000,,", f"{rid},440100,2023-01,2025-12,paid,8000,,"],
    )
    worker = worker_of(run_import(engine, path), rid)
    with unit_of_work(engine) as c:
        result = estimate(c, POLICY, worker, DAY, Month.parse("2026-01"))
    # 广东's average wage is known from 2015-07 (contribution.base.average_monthly_wage): the
    # years before, and 2015's first half, have none to index the bases by
    assert {w["year"] for w in result["missing_wages"]} == set(range(2010, 2016))
    assert result["contribution_months"] == 192  # every month counts for years


# --- conflicts, reported and never merged ----------------------------------------------


def test_conflicts_are_reported_never_merged(engine: Engine, tmp_path: Path) -> None:
    with unit_of_work(engine) as c:
        paid = enrol(c, POLICY, VAULT, resident_id(40, "19800301"), "440100", None, NOW)
        contribute(c, POLICY, "p40", paid.worker.worker_id, Month.parse("2026-01"),
                   Month.parse("2026-01"), 600_000, NOW)  # fmt: skip
    a, b, d, e, f = (resident_id(n, "19800301") for n in (41, 42, 43, 44, 45))
    g = resident_id(46, "19800301", male=False)
    rows = [
        f"{a},440100,2010-01,2015-12,paid,5000,,",  # 1 kept: the relation's province
        f"{a},330100,2014-01,2016-12,paid,5000,,",  # 2 重复缴费 with row 1... refused
        f"{a},440100,2016-01,2020-12,paid,5000,,",  # 3
        f"{resident_id(40, '19800301')},440100,2025-06,2026-01,paid,6000,,",  # 4 paid via Suiren
        f"{b},440100,2010-01,2010-12,paid,5000,,",  # 5 imported
        f"{d},440100,2010-01,2010-12,deemed,5000,,",  # 6 deemed with a base
        f"{b},440100,2011-01,2011-12,paid,5000,,",  # 7 b again after d: not consecutive
        f"{e},440100,1990-01,1990-12,paid,5000,,",  # 8 before e's 16th birthday
        f"{e},440100,2026-06,2026-06,paid,5000,,",  # 9 this month: paid through Suiren
        f"{f},440100,2010-01,2010-12,paid,,,",  # 10 no base, no index
        f"{f},440100,2011-01,2011-12,paid,5000,12.5,",  # 11 an index above 10
        f"{f},440100,2012-01,2012-12,paid,9999999999,,",  # 12 not a monthly base
        f"{g},440100,2025-10,2026-03,paid,5000,,",  # 13 fine alone
    ]
    header = "resident_id,region,from_month,to_month,kind,base_yuan,index,hukou_region\n"
    summary = run_import(engine, write(tmp_path / "c.csv", rows, header))
    reasons = {(e.row, e.code) for e in summary.errors}
    assert (2, "duplicate-period") in reasons
    assert "row 1" in next(e.reason for e in summary.errors if e.row == 2)
    assert (4, "already-recorded") in reasons
    assert (7, "not-consecutive") in reasons  # b's first rows stand; b again is refused
    assert (6, "deemed-with-base") in reasons
    assert {(8, "invalid-period"), (9, "invalid-period")} <= reasons
    assert {(10, "no-base"), (11, "invalid-index"), (12, "invalid-amount")} <= reasons
    assert summary.imported == 2  # b's first row and g: a person with a refused row, nothing
    # the same months from another file are already recorded; sex and birth are checked
    with_registry = (
        "resident_id,region,from_month,to_month,kind,base_yuan,sex,birth_month,hukou_region\n"
    )
    again = write(
        tmp_path / "again.csv",
        [
            f"{g},440100,2025-06,2025-12,paid,5000,F,1980-03,",
            f"{a},440100,2010-01,2010-12,paid,5000,F,,",
            f"{b},440100,2010-01,2010-12,paid,5000,,1981-03,",
        ],
        with_registry,
    )
    second = run_import(engine, again)
    codes = {(e.row, e.code) for e in second.errors}
    assert codes == {(1, "already-recorded"), (2, "registry-conflict"), (3, "registry-conflict")}
    # a month of the history is not paid again through Suiren
    worker = worker_of(summary, g)
    with unit_of_work(engine) as c, pytest.raises(ContributionRefused, match="history"):
        contribute(c, POLICY, "late", worker, Month.parse("2026-02"), Month.parse("2026-02"),
                   600_000, NOW)  # fmt: skip
    audit_ok(engine)


def test_balance_rows_are_checked(engine: Engine, tmp_path: Path) -> None:
    a, b, c_ = (resident_id(n, "19800301") for n in (50, 51, 52))
    stints = write(
        tmp_path / "s.csv",
        [f"{a},440100,2010-01,2020-12,paid,5000,,", f"{b},440100,2010-01,2012-12,paid,5000,,"],
    )
    money = write(
        tmp_path / "b.csv",
        [
            f"{a},440100,1000.00,2019-12-31",  # months of 2020 carry money it does not hold
            f"{b},440100,1000.00,2019-06-30",  # not a year's end
            f"{c_},440100,1000.00,2019-12-31",  # nobody in the stints file
        ],
        header="resident_id,region,account_yuan,as_of\n",
    )
    summary = run_import(engine, stints, money)
    codes = {(e.row, e.field, e.code) for e in summary.errors}
    assert (1, "to_month", "after-balance") in codes
    assert (2, "balances.as_of", "invalid-date") in codes
    assert (3, "balances.resident_id", "no-stints") in codes
    assert summary.imported == 0


# --- replays, crashes, malformed files ---------------------------------------------------


def test_a_rerun_replays_and_a_crash_loses_nothing(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import suiren.services.history as history

    monkeypatch.setattr(history, "WORKERS_PER_UNIT", 3)
    rows = [
        f"{resident_id(60 + n, '19800301')},440100,2010-01,2015-12,paid,{4000 + n},,"
        for n in range(10)
    ]
    path = write(tmp_path / "many.csv", rows)
    calls = {"n": 0}
    real = history.post_transactions

    def crash_on_third(connection, transactions):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:  # the third unit of work rolls back; the first two stand
            raise RuntimeError("killed")
        return real(connection, transactions)

    monkeypatch.setattr(history, "post_transactions", crash_on_third)
    with pytest.raises(RuntimeError):
        run_import(engine, path)
    with unit_of_work(engine) as c:
        assert c.execute(select(func.count()).select_from(history_stints)).scalar_one() == 6
    summary = run_import(engine, path)
    assert (summary.imported, summary.replayed) == (4, 6)
    again = run_import(engine, path)
    assert (again.imported, again.replayed, again.enrolled) == (0, 10, 0)
    with unit_of_work(engine) as c:
        assert c.execute(select(func.count()).select_from(history_stints)).scalar_one() == 10
        bases = c.execute(select(func.sum(history_stints.c.base_fen))).scalar_one()
    assert bases == sum(400_000 + 100 * n for n in range(10))  # each stint once
    audit_ok(engine)


def test_a_person_recorded_with_other_balances_is_a_conflict(
    engine: Engine, tmp_path: Path
) -> None:
    """Under the person's lock too (the API's one transaction, a run racing another): the
    same stints with another balance, or none, are refused and the unit writes nothing."""
    a, b = resident_id(55, "19800301"), resident_id(56, "19800301")
    stints = write(
        tmp_path / "s.csv",
        [f"{a},440100,2010-01,2019-12,paid,5000,,", f"{b},440100,2010-01,2019-12,paid,5000,,"],
    )

    def money(name: str, yuan: str) -> Path:
        header = "resident_id,region,account_yuan,as_of\n"
        return write(tmp_path / name, [f"{b},440100,{yuan},2019-12-31"], header=header)

    first = run_import(engine, stints, money("b1.csv", "1000.00"))
    assert (first.imported, first.account_fen) == (2, 100_000)
    with unit_of_work(engine) as c:
        entries = c.execute(select(func.count()).select_from(journal)).scalar_one()
    for balances_path in (money("b2.csv", "1000.01"), None):
        with pytest.raises(HistoryConflict, match=r"for 1 person: stints row 2 \(worker W"):
            run_import(engine, stints, balances_path)
    with unit_of_work(engine) as c:
        assert c.execute(select(func.count()).select_from(journal)).scalar_one() == entries
    again = run_import(engine, stints, money("b3.csv", "1000.0"))  # the same amount
    assert (again.imported, again.replayed, again.errors) == (0, 2, [])
    audit_ok(engine)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"resident_id,region,from_month,to_month\n", "missing column"),
        (b"resident_id,region,from_month,to_month,kind,colour\n", "unknown column"),
        (b"resident_id,region,from_month,to_month,kind\n\xff\xfe,1,2,3,4\n", "UTF-8"),
    ],
    ids=["empty", "missing", "unknown", "not-utf8"],
)
def test_a_malformed_file_is_refused_whole(
    engine: Engine, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(FileRefused, match=message):
        run_import(engine, path)
    with unit_of_work(engine) as c:
        assert c.execute(select(func.count()).select_from(journal)).scalar_one() == 0


def test_parquet_floats_are_refused_and_decimals_taken(engine: Engine, tmp_path: Path) -> None:
    rid = resident_id(70, "19800301")
    columns = {
        "resident_id": [rid],
        "region": ["440100"],
        "from_month": ["2010-01"],
        "to_month": ["2010-12"],
        "kind": ["paid"],
    }
    floats = tmp_path / "f.parquet"
    pq.write_table(pa.table(columns | {"base_yuan": pa.array([5000.5])}), floats)
    with pytest.raises(FileRefused, match="binary floats"):
        run_import(engine, floats)
    exact = tmp_path / "d.parquet"
    from decimal import Decimal

    base = pa.array([Decimal("5000.50")], type=pa.decimal128(12, 2))
    pq.write_table(pa.table(columns | {"base_yuan": base}), exact)
    summary = run_import(engine, exact)
    assert not summary.errors, summary.errors
    with unit_of_work(engine) as c:
        assert c.execute(select(history_stints.c.base_fen)).scalar_one() == 500_050


def test_decimals_of_a_wider_scale_are_read_as_their_amount(engine: Engine, tmp_path: Path) -> None:
    """An old system's database writes its amounts as decimal(18,4): 5000.5000 was refused as
    "at most two decimals" (a payments file took it), so every row of such a file was. The
    zeros past the fen are dropped, in the stints and the balances; a digit there is not."""
    from decimal import Decimal

    wide = pa.decimal128(18, 4)
    people = [resident_id(n, "19800301") for n in (71, 72)]
    stints = tmp_path / "s.parquet"
    pq.write_table(
        pa.table(
            {
                "resident_id": people,
                "region": ["440100"] * 2,
                "from_month": ["2010-01"] * 2,
                "to_month": ["2010-12"] * 2,
                "kind": ["paid"] * 2,
                "base_yuan": pa.array([Decimal("5000.5000"), Decimal("5000.5050")], wide),
            }
        ),
        stints,
    )
    money = tmp_path / "b.parquet"
    pq.write_table(
        pa.table(
            {
                "resident_id": people[:1],
                "region": ["440100"],
                "account_yuan": pa.array([Decimal("8500.2000")], wide),
                "as_of": ["2010-12-31"],
            }
        ),
        money,
    )
    summary = run_import(engine, stints, money)
    assert [(e.row, e.field, e.code) for e in summary.errors] == [
        (2, "base_yuan", "invalid-amount")
    ]
    worker = worker_of(summary, people[0])
    with unit_of_work(engine) as c:
        assert c.execute(select(history_stints.c.base_fen)).scalar_one() == 500_050
        account = str(individual_account(worker, Scheme.EMPLOYEE_PENSION, "440100"))
        assert balances(c, [account])[account] == 850_020
    audit_ok(engine)


def test_an_imported_temporary_account_is_gathered_at_retirement(
    engine: Engine, tmp_path: Path
) -> None:
    """A man insured in Guangzhou for 15 years who then paid 8 years into a temporary account
    in Beijing (imported with its balance): at retirement it is gathered to Guangzhou with
    all its money, and the relation is already there."""
    from suiren.services.gathering import gather_for_retirement

    rid = resident_id(80, "19640301")  # 62 in 2026: past his retirement age
    stints = write(
        tmp_path / "s.csv",
        [
            f"{rid},440100,2003-01,2017-12,paid,5000,,410100",
            f"{rid},110000,2018-01,2025-12,temporary,6000,,410100",
        ],
    )
    money = write(
        tmp_path / "b.csv",
        [f"{rid},440100,60000.00,2025-12-31", f"{rid},110000,30000.00,2025-12-31"],
        header="resident_id,region,account_yuan,as_of\n",
    )
    summary = run_import(engine, stints, money)
    assert not summary.errors, summary.errors
    worker = worker_of(summary, rid)
    with unit_of_work(engine) as c:
        [gathering] = gather_for_retirement(c, POLICY, "g-80", worker, NOW)
        entitlement = balances(
            c, [str(pooled_entitlement(worker, Scheme.EMPLOYEE_PENSION, "110000"))]
        )
    assert (gathering.kind, gathering.from_region, gathering.to_region) == (
        "gather", "110000", "440100"
    )  # fmt: skip
    assert gathering.account_fen == 3_000_000
    assert gathering.pooled_fen >= sum(entitlement.values()) > 0  # all of it, with interest
    audit_ok(engine)


@pytest.mark.slow
def test_an_import_killed_at_random_moments_then_run_again_records_everyone_once(
    database_url: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    """The real process, killed with SIGKILL three times at random moments, then run to the
    end: every stint once, every person one worker, the audit clean."""
    import base64
    import os
    import random
    import signal
    import subprocess
    import sys
    import time

    from suiren.store.db import make_engine
    from suiren.store.tables import workers
    from tests.conftest import KEYS, SECRET

    url, extra = database_url
    people_count = 2_000
    rows = []
    for n in range(people_count):
        rid = resident_id(n % 500, f"19{60 + n // 500:02d}0301")
        rows += [
            f"{rid},440100,2000-01,2012-12,paid,,0.9,410100",
            f"{rid},330100,2013-01,2024-12,paid,{5000 + n},,410100",
        ]
    path = write(tmp_path / "big.csv", rows)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUIREN_") and k != "PGOPTIONS"}
    env |= extra | {
        "SUIREN_DATABASE_URL": url,
        "SUIREN_SECRET_KEY": base64.b64encode(SECRET).decode(),
        "SUIREN_TODAY": NOW.date().isoformat(),
        "SUIREN_INTAKE_CHUNK_ROWS": "300",
    }
    env |= this_source()  # the code under test, from tmp_path
    command = [sys.executable, "-m", "suiren.cli.main", "worker", "import-history", str(path)]
    rng = random.Random(20261202)
    for _ in range(3):
        process = subprocess.Popen(
            command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.5, 2.5))  # the command starts in about half a second
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    done = subprocess.run(
        [*command, "--json"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    import json

    summary = json.loads(done.stdout)
    assert summary["imported"] + summary["replayed"] == 2 * people_count
    options = {"connect_args": {"options": extra["PGOPTIONS"]}} if "PGOPTIONS" in extra else {}
    engine = make_engine(url, keys=KEYS, **options)
    with unit_of_work(engine) as c:
        assert c.execute(select(func.count()).select_from(history_stints)).scalar_one() == (
            2 * people_count
        )
        assert c.execute(select(func.count()).select_from(workers)).scalar_one() == people_count
        bases = c.execute(select(func.sum(history_stints.c.base_fen))).scalar_one()
        assert bases == sum(500_000 + 100 * n for n in range(people_count))
        result = verify(c)
    assert result.ok, result.problems
    engine.dispose()


def test_one_person_spelt_two_ways_is_one_person(engine: Engine, tmp_path: Path) -> None:
    """A 15-digit first-generation number and its 18-digit form (or a lower-case x) name one
    person: consecutive rows are one person's, and scattered ones are refused, never taken
    for a second person or for a replay."""
    from suiren.domain.resident_id import convert_15_to_18

    old = "440106700301123"  # born 1970-03-01
    new = convert_15_to_18(old)
    together = write(
        tmp_path / "t.csv",
        [f"{old},440100,2000-01,2009-12,paid,5000,,", f"{new},330100,2010-01,2019-12,paid,6000,,"],
    )
    summary = run_import(engine, together)
    assert not summary.errors, summary.errors
    assert (summary.people, summary.enrolled, summary.imported) == (1, 1, 2)
    other = resident_id(90, "19800301")
    scattered = write(
        tmp_path / "s.csv",
        [
            f"{new.lower()},440100,1995-01,1995-12,paid,3000,,",
            f"{other},440100,2010-01,2010-12,paid,5000,,",
            f"{old},440100,1996-01,1996-12,paid,3000,,",
        ],
    )
    second = run_import(engine, scattered)
    assert [(e.row, e.code) for e in second.errors] == [(3, "not-consecutive")]
    assert second.imported == 2  # the first row (a new stint of the same worker) and other's
    with unit_of_work(engine) as c:
        assert c.execute(select(func.count()).select_from(history_stints)).scalar_one() == 4
    audit_ok(engine)


def test_a_beijing_estimate_counts_the_months_paid_in_1992_10_to_1998_06(
    engine: Engine, tmp_path: Path
) -> None:
    """北京's transitional pension is G同 + G实 (issue 10 §2): the estimate counts the months
    paid from 1992-10 to 1998-06 (N实98: 69 here) at the worker's own index (Z实) and adds
    them to the deemed years' part before the one rounding."""
    rid = resident_id(11, "19700301")
    path = write(
        tmp_path / "bj.csv",
        [
            f"{rid},110105,1988-09,1992-09,deemed,,1.0,",
            f"{rid},110105,1992-10,2025-12,paid,,1.2,",
        ],
    )
    worker = worker_of(run_import(engine, path), rid)
    with unit_of_work(engine) as c:
        result = estimate(c, POLICY, worker, DAY, Month.parse("2026-05"))
    assert result["paying_province"] == "110000" and result["deemed_months"] == 49
    [step] = [s for s in result["explanation"] if s["step"].startswith("过渡性养老金")]
    assert "G同 + G实" in step["step"]
    assert step["inputs_zh"]["1992年10月至1998年6月实际缴费年限（N实98）"] == "5.7500 (5年9个月)"
    assert step["inputs_en"]["early actual years (N_early)"] == "5.7500 (5 years 9 months)"
    base, index = Fraction(step["inputs"]["B"]), Fraction(step["inputs"]["Ī_e (Z_early)"])
    # the estimate's own index (deemed months at 1.0 too), at 北京's four decimals
    assert index == Fraction(
        math.floor(Fraction(result["average_index"]) * 10**4 + Fraction(1, 2)), 10**4
    )
    # G同 = B × 4.08 (49 months at 北京's two places) × 1%, G实 = B × Z实 × 5.75 × 1%
    exact = base * 100 * (Fraction("4.08") + index * Fraction("5.75")) / 100
    assert result["transitional_pension_fen"] == math.floor(exact + Fraction(1, 2))
    assert not [w for w in result["warnings"] if "G实" in w.get("message", "")]


@pytest.mark.parametrize(("paid_from", "warned"), [("2008-01", True), ("2004-01", False)])
def test_a_long_service_extra_reached_only_through_deemed_years_is_warned(
    engine: Engine, tmp_path: Path, paid_from: str, warned: bool
) -> None:
    """吉林's 长缴增发 on years above 20: ten deemed years and 18 paid reach it only through
    the deemed ones (unverified: warned, as the batch warns); 22 paid reach it alone."""
    rid = resident_id(11, "19660301")
    path = write(
        tmp_path / "jl.csv",
        [
            f"{rid},220100,1990-01,1999-12,deemed,,1.0,",
            f"{rid},220100,{paid_from},2025-12,paid,,0.8,",
        ],
    )
    worker = worker_of(run_import(engine, path), rid)
    with unit_of_work(engine) as c:
        result = estimate(c, POLICY, worker, DAY, Month.parse("2026-05"))
    assert result["deemed_months"] == 120
    assert result["extra_pension_fen"] > 0
    codes = [w["code"] for w in result["warnings"]]
    assert ("extra-unverified" in codes) is warned, result["warnings"]


# --- lock order ---------------------------------------------------------------------------


def test_an_import_locks_its_regions_in_ascending_order(engine: Engine, tmp_path: Path) -> None:
    """Two imports meeting the same regions in opposite orders deadlocked (seen once in CI on
    PostgreSQL): a person's enrolment region was locked as the person came up in the file,
    the stints' regions when the unit was posted. Now a unit's regions are locked at once,
    in the order every writer uses. Here the file holds a new person in 330100 with a
    balance in 110000, then a person enrolled in 500000 with a stint in 440100: the old
    order locked 500000, then 110000."""
    enrolled, new = resident_id(81, "19700301"), resident_id(82, "19750301")
    with unit_of_work(engine) as c:
        enrol(c, POLICY, VAULT, enrolled, "500000", None, NOW)
    stints = write(
        tmp_path / "s.csv",
        [
            f"{new},330100,2010-01,2015-12,paid,5000,,",
            f"{enrolled},440100,2005-01,2009-12,paid,5000,,",
        ],
    )
    money = write(
        tmp_path / "b.csv",
        [f"{new},110000,1000.00,2009-12-31"],
        header="resident_id,region,account_yuan,as_of\n",
    )
    lock_order.begin_test()
    summary = run_import(engine, stints, money)
    assert not summary.errors, summary.errors
    assert not lock_order.broken, lock_order.broken  # (every test checks it: tests/lock_order)
    audit_ok(engine)
