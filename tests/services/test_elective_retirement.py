"""A flexible worker's elective retirement (弹性退休) in the pension estimate, on both
databases: the window shown, a month in it or one out, early retirement without the
minimum years, the months to apply by, and no later age for one who reached the statutory
age before 2025.

Every window below is computed by hand from the 《国务院关于渐进式延迟法定退休年龄的办法》
annexes 1–3 and 第三条 (36 months either side of the statutory age, never below the original
age) — not read from the code. The wages are the synthetic overlay of test_career.py.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from suiren.domain.errors import InvalidInput
from suiren.domain.month import Month
from suiren.services.career import Assumptions, compare
from suiren.services.history import Person, import_people
from suiren.services.workers import enrol
from suiren.store.db import unit_of_work
from tests.ledger_helpers import VAULT, resident_id
from tests.services.test_career import LAW, REFORM, at, pay_years

RETIREMENT = {"outside-retirement-window", "below-minimum-years", "elective-application-due"}


def worker(engine, n: int, born: str, male: bool, first_year: int, last_year: int) -> str:
    """Insured in Guangzhou (hukou Guangdong), paying 5000 a month every year from
    ``first_year`` to ``last_year``."""
    with unit_of_work(engine) as c:
        w = enrol(
            c, LAW, VAULT, resident_id(n, born, male), "440100", "440000", at(first_year, 1, 5)
        ).worker
    pay_years(engine, LAW, w.worker_id, first_year, last_year, 500_000, f"w{n}")
    return w.worker_id


def estimate(engine, worker_id: str, today: date, retire: str | None = None, strict=False):
    with unit_of_work(engine) as c:
        return compare(
            c,
            [LAW, REFORM],
            worker_id,
            today,
            Month.parse(retire) if retire else None,
            strict=strict,
        )


def codes(result) -> list[list[str]]:
    return [
        [w["code"] for w in s["warnings"] if w["code"] in RETIREMENT] for s in result["scenarios"]
    ]


def test_a_man_born_1965_03_reaching_60y1m_in_2025(engine):
    # 1965-03 is 2 months after 1965-01: 2 // 4 + 1 = 1 month's delay → 60y1m, 2025-04;
    # earliest max(60y0m, 60y1m − 36m) = 60y0m → 2025-03; latest 63y1m → 2028-04.
    # 2008–2024 paid: 17 years ≥ the 15 of 2025. Asked on 2024-11-15 (the rules then are
    # the old ones: the window is still the 2025 rules', of the month the age is reached).
    w = worker(engine, 11, "19650301", True, 2008, 2024)
    today = date(2024, 11, 15)
    result = estimate(engine, w, today)
    for s in result["scenarios"]:
        assert s["retirement_month"] == "2025-04"
        assert s["retirement_window"] == {
            "statutory_month": "2025-04",
            "statutory_age_months": 60 * 12 + 1,
            "earliest_month": "2025-03",
            "earliest_age_months": 60 * 12,
            "latest_month": "2028-04",
            "latest_age_months": 63 * 12 + 1,
            "later_offered": True,
            "no_later_reason": None,
            "early_minimum_years": "15",
            "early_notice_months": 3,
            "late_apply_by": "2025-03",  # a month before 2025-04
            "chosen": "statutory",
            "chosen_in_window": True,
            "chosen_apply_by": None,
        }
        assert s["explanation"][0]["step"].startswith("弹性退休区间")
    assert codes(result) == [[], []]
    # the edges are in; early is asked for 3 months ahead: 2025-03 → by 2024-12
    early = estimate(engine, w, today, "2025-03")
    assert codes(early) == [[], []]
    window = early["scenarios"][0]["retirement_window"]
    assert (window["chosen"], window["chosen_apply_by"]) == ("early", "2024-12")
    late = estimate(engine, w, today, "2028-04")
    assert codes(late) == [[], []]
    assert late["scenarios"][0]["retirement_window"]["chosen_apply_by"] == "2025-03"
    # a month past either edge is out
    for month in ("2025-02", "2028-05"):
        out = estimate(engine, w, today, month)
        assert codes(out) == [["outside-retirement-window"]] * 2, month
        assert not out["scenarios"][0]["retirement_window"]["chosen_in_window"]
    # --strict refuses it, with the reason
    with pytest.raises(InvalidInput, match=r"2025-03.*2028-04"):
        estimate(engine, w, today, "2028-05", strict=True)
    # asked on 2025-04-15 (past 2025-03) for a later age: the application is overdue
    overdue = estimate(engine, w, date(2025, 4, 15), "2026-04")
    assert codes(overdue) == [["elective-application-due"]] * 2
    assert "2025-03" in overdue["scenarios"][0]["warnings"][0]["message"]
    # on 2025-03-15 it is still due this month: nothing to warn
    assert codes(estimate(engine, w, date(2025, 3, 15), "2026-04")) == [[], []]


def test_early_retirement_needs_the_minimum_years(engine):
    # the same man, but 2013–2024 paid: 12 years, short of the 15 of 2025
    w = worker(engine, 12, "19650301", True, 2013, 2024)
    early = estimate(engine, w, date(2024, 11, 15), "2025-03")
    assert codes(early) == [["below-minimum-years"]] * 2
    message = early["scenarios"][0]["warnings"][0]["message"]
    assert "弹性提前退休" in message and "12年0个月" in message and "15" in message
    with pytest.raises(InvalidInput, match="elective early retirement needs 15"):
        estimate(engine, w, date(2024, 11, 15), "2025-03", strict=True)
    # at the statutory month the shortfall is still warned (延长缴费), not as early retirement
    statutory = estimate(engine, w, date(2024, 11, 15))
    assert codes(statutory) == [["below-minimum-years"]] * 2
    assert "延长缴费" in statutory["scenarios"][0]["warnings"][0]["message"]


def test_a_man_who_reached_60_in_2024_12_has_no_later_age(engine):
    # born 1964-12: 60 in 2024-12, before the flexible rule (2025-01-01): no delay, no window
    # (2008–2023 paid: 2024-12 is no month of his to pay, test_past_retirement.py)
    w = worker(engine, 13, "19641201", True, 2008, 2023)
    result = estimate(engine, w, date(2026, 6, 15), "2025-06")
    window = result["scenarios"][0]["retirement_window"]
    assert (window["statutory_month"], window["earliest_month"], window["latest_month"]) == (
        "2024-12",
        "2024-12",
        "2024-12",
    )
    assert (window["later_offered"], window["no_later_reason"], window["late_apply_by"]) == (
        False,
        "before-flexible-rule",
        None,
    )
    assert codes(result) == [["outside-retirement-window"]] * 2
    [message] = [
        w["message"]
        for w in result["scenarios"][0]["warnings"]
        if w["code"] == "outside-retirement-window"
    ]
    assert "不能选择弹性延迟退休" in message and "no later age" in message


def test_a_woman_born_1975_is_of_the_55_category(engine):
    # a woman flexible worker: original age 55; 1975-03 is 62 months after 1970-01:
    # 62 // 4 + 1 = 16 → 56y4m, 2031-07; earliest 55y0m → 2030-03; latest 59y4m → 2034-07;
    # 2031 needs 16 years: 2010–2025 paid are 16
    w = worker(engine, 14, "19750301", False, 2010, 2025)
    today = date(2026, 6, 15)
    first = estimate(engine, w, today)["scenarios"][0]
    window = first["retirement_window"]
    cited = [p["parameter"] for p in first["explanation"][0]["parameters"]]
    assert cited[0] == "retirement.flexible_female_category"
    assert "retirement.female_cadre.original_age_years" in cited
    assert not [p for p in cited if p.startswith(("retirement.male.", "retirement.female_worker."))]
    assert (
        window["statutory_month"],
        window["earliest_month"],
        window["latest_month"],
        window["early_minimum_years"],
        window["late_apply_by"],
    ) == ("2031-07", "2030-03", "2034-07", "16", "2031-06")
    assert codes(estimate(engine, w, today, "2030-03")) == [[], []]
    assert codes(estimate(engine, w, today, "2030-02")) == [["outside-retirement-window"]] * 2
    assert codes(estimate(engine, w, today, "2034-08")) == [["outside-retirement-window"]] * 2


def test_one_short_of_the_minimum_pays_on_past_the_window(engine):
    # born 1964-12 (60 in 2024-12, no elective window) with 2013–2024 paid: 12 years, short of
    # the 15 of 2024. 办法 第二条: 延长缴费 until the minimum is reached, then retire — a month
    # past the window is then no choice outside it; the shortfall is what is warned. The man
    # of the test above (17 years) is warned outside the window for the same month.
    w = worker(engine, 16, "19641201", True, 2013, 2024)
    for retire in ("2025-06", "2027-12"):
        result = estimate(engine, w, date(2024, 11, 15), retire)
        assert codes(result) == [["below-minimum-years"]] * 2
        assert "延长缴费" in result["scenarios"][0]["warnings"][0]["message"]
    paid_up = worker(engine, 17, "19641201", True, 2008, 2023)
    assert (
        codes(estimate(engine, paid_up, date(2024, 11, 15), "2025-06"))
        == [["outside-retirement-window"]] * 2
    )


def test_a_worker_past_the_statutory_age_who_paid_on_retires_after_the_last_month_paid(engine):
    # a woman born 1969-03 (category 55: 2024-03, before the flexible rule) who paid
    # 2008–2023 through Suiren and all of 2024 as the agency's earlier system recorded (Suiren
    # itself takes no month from 2024-03 on from one with the minimum years:
    # test_past_retirement.py): the statutory month is years behind her last month paid. The
    # estimate retires her in the first month not paid (never before a month paid, whose
    # pension and years would then count months paid after retirement), and says why.
    w = worker(engine, 18, "19690301", False, 2008, 2023)
    row = {"resident_id": resident_id(18, "19690301", False), "kind": "paid", "index": ""}
    row |= {"region": "440100", "from_month": "2024-01", "to_month": "2024-12"}
    with unit_of_work(engine) as c:
        done = import_people(
            c, LAW, VAULT, [Person(row["resident_id"], [(1, row | {"base_yuan": "5000"})])], {},
            "h" * 64, at(2026, 6, 15),
        )  # fmt: skip
    assert not done.errors, done.errors
    result = estimate(engine, w, date(2026, 6, 15))
    for scenario in result["scenarios"]:
        assert scenario["retirement_month"] == "2026-06"
        assert scenario["contribution_months"] == 17 * 12
        found = {x["code"]: x["message"] for x in scenario["warnings"]}
        assert "2024-03" in found["past-statutory-age"]
        assert "2024-12" in found["past-statutory-age"]
        # 16 years by 2024-03 were more than the minimum: retiring later is no 延长缴费
        assert "outside-retirement-window" in found
        # the fixture's 计发基数 is of 2005: a retirement this year is paid on it provisionally
        # (预发) until 2026's is published, and the explanation cites it as provisional
        assert "pension.base 5000 (440000, 2005)" in found["provisional-parameter"]
        [base] = [
            p
            for step in scenario["explanation"]
            for p in step["parameters"]
            if p["parameter"] == "pension.base"
        ]
        assert base["provisional"] is True
    # a month at or before the last month paid is refused, with the month that ends it
    for retire in ("2024-12", "2024-03"):
        with pytest.raises(InvalidInput, match="after the last month paid \\(2024-12\\)"):
            estimate(engine, w, date(2026, 6, 15), retire)
    assert (
        estimate(engine, w, date(2026, 6, 15), "2025-01")["scenarios"][0]["retirement_month"]
        == "2025-01"
    )


def test_one_short_of_the_minimum_past_the_statutory_age_pays_on_until_it_is_reached(engine):
    # a man born 1964-12 (60 in 2024-12, no window) who paid 2016–2024: 9 years, short of the
    # 15 of 2024. Asked on 2026-06-15 with the months ahead: he pays on from 2026-06 (the
    # first month not paid) for the 72 months he lacks (延长缴费), so retires in 2032-06 with
    # 15 years — by right, not an elective month outside the window, and not short.
    w = worker(engine, 19, "19641201", True, 2016, 2024)
    with unit_of_work(engine) as c:
        result = compare(
            c, [LAW, REFORM], w, date(2026, 6, 15), None, Assumptions(None, Fraction(0), None)
        )
    for scenario in result["scenarios"]:
        assert scenario["retirement_month"] == "2032-06"
        assert scenario["contribution_months"] == 15 * 12
        assert scenario["projection"]["months"] == 72
        assert [x["code"] for x in scenario["warnings"] if x["code"] in RETIREMENT] == []
        found = {x["code"] for x in scenario["warnings"]}
        # a retirement in a later year is a projection, not a provisional payment
        assert "past-statutory-age" in found and "provisional-parameter" not in found
    # months paid only: he is estimated as retiring now, and the shortfall is warned
    paid_only = estimate(engine, w, date(2026, 6, 15))
    assert codes(paid_only) == [["below-minimum-years"]] * 2
    assert paid_only["scenarios"][0]["retirement_month"] == "2026-06"
