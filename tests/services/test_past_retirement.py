"""No pension month is paid from the last month a worker could retire in on once the minimum
years are reached (社会保险法 第十六条): the worker is a pensioner. One still short of them pays
on until they are reached (延长缴费), within a batch as across batches; a month inside the
elective window (弹性延迟退休, from 2025) is still taken. On both databases.

The windows are worked by hand from the 办法's annex 1 and 第三条, not read from the code:
- a man born 1964-01 reached 60 in 2024-01, before the flexible rule: no later age, his last
  month to retire in is 2024-01 (the pension's first month, as the estimate counts the
  months before it) and 15 years are the minimum;
- a man born 1965-03 reaches 60y1m in 2025-04; his window ends 36 months later, 2028-04.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from suiren.domain.month import Month
from suiren.ledger.accounts import Scheme
from suiren.services.career import compare
from suiren.services.contributions import (
    REFUSED,
    ContributionRefused,
    ContributionRows,
    contribute,
    post_batch,
)
from suiren.services.workers import enrol
from suiren.store.db import unit_of_work
from tests.ledger_helpers import VAULT, resident_id
from tests.services.test_career import LAW, at, pay_years

BASE = 500_000


def worker(engine, n: int, born: str, first_year: int, last_year: int) -> str:
    with unit_of_work(engine) as c:
        w = enrol(
            c, LAW, VAULT, resident_id(n, born, True), "440100", "440000", at(first_year, 1, 5)
        ).worker
    pay_years(engine, LAW, w.worker_id, first_year, last_year, BASE, f"p{n}")
    return w.worker_id


def batch(engine, worker_id: str, first: str, last: str, tag: str, when, scheme=None):
    months = np.arange(Month.parse(first).ordinal, Month.parse(last).ordinal + 1, dtype=np.int64)
    rows = ContributionRows(
        [f"{tag}/{Month(int(m))}" for m in months],
        [worker_id] * len(months),
        months,
        np.full(len(months), BASE, dtype=np.int64),
    )
    extra = {} if scheme is None else {"scheme": scheme}
    with unit_of_work(engine) as c:
        outcome = post_batch(c, LAW, rows, when, **extra)
    return outcome, {str(Month(int(months[r.row]))): r.code for r in outcome.refusals}


def test_a_pensioner_with_the_minimum_years_pays_no_more_months(engine):
    w = worker(engine, 31, "19640101", 2008, 2023)  # 16 years by 2024-01
    with unit_of_work(engine) as c, pytest.raises(ContributionRefused) as e:
        contribute(c, LAW, "late-1", w, Month.of(2024, 1), Month.of(2024, 3), BASE, at(2024, 3, 20))
    assert "2024-01" in str(e.value) and "第十六条" in str(e.value)
    _, refused = batch(engine, w, "2024-01", "2024-03", "late-2", at(2024, 3, 20))
    assert refused == {f"2024-{m:02d}": "past-retirement" for m in (1, 2, 3)}


def test_one_short_of_the_minimum_pays_on_until_it_is_reached_and_not_a_month_more(engine):
    w = worker(engine, 32, "19640101", 2014, 2023)  # 120 months
    _, refused = batch(engine, w, "2013-07", "2013-12", "x2013", at(2013, 12, 20))
    assert not refused  # 126 of the 180 needed by 2024-01
    for year in range(2024, 2028):  # 48 more, 延长缴费: 174
        _, refused = batch(engine, w, f"{year}-01", f"{year}-12", f"x{year}", at(year, 12, 20))
        assert not refused, year
    # one batch crossing the minimum: 6 more months reach 180, the 7th is refused
    _, refused = batch(engine, w, "2028-01", "2028-12", "x2028", at(2028, 12, 20))
    assert refused == {str(Month.of(2028, m)): "past-retirement" for m in range(7, 13)}
    # sent again: the months paid replay, the others are refused again
    again, refused_again = batch(engine, w, "2028-01", "2028-12", "x2028", at(2028, 12, 21))
    assert refused_again == refused
    assert (again.status[:6] != REFUSED).all()


@pytest.mark.parametrize("rows", [12, 1_200], ids=["small", "optimistic"])
def test_a_row_that_writes_nothing_does_not_count_toward_the_minimum(engine, rows: int):
    """A row whose payment id was used before writes nothing (a conflict, or a replay of a
    month since reversed): its month must not count toward the minimum years, or the months
    after it are refused as a pensioner's though the worker is still short. On the small
    path and on the optimistic one (a large batch written first, looked up on a collision)."""
    w = worker(engine, 41, "19640101", 2014, 2023)  # 120 months
    batch(engine, w, "2013-07", "2013-12", "c2013", at(2013, 12, 20))  # 126
    for year in range(2024, 2028):  # 174: six months short
        batch(engine, w, f"{year}-01", f"{year}-12", f"c{year}", at(year, 12, 20))
    months = [Month.of(2028, m).ordinal for m in range(1, 13)]
    ids = ["c2027/2027-01", "c2027/2027-02"] + [f"c2028/{Month(m)}" for m in months[2:]]
    workers = [w] * 12
    if rows > 12:  # other workers' months fill the batch past OPTIMISTIC_ROWS_MIN
        others = [worker(engine, 42 + k, "19800101", 2025, 2025) for k in range(2)]
        for k in range(rows - 12):
            ids.append(f"o{k}")
            workers.append(others[k % 2])
            months.append(Month.of(2026, 1).ordinal - k // 2)
    batch_rows = ContributionRows(
        ids, workers, np.array(months, dtype=np.int64), np.full(rows, BASE, dtype=np.int64)
    )
    with unit_of_work(engine) as c:
        outcome = post_batch(c, LAW, batch_rows, at(2028, 12, 20))
    refused = {str(Month(months[r.row])): r.code for r in outcome.refusals if r.row < 12}
    # the two conflicts write nothing; 2028-03 … 2028-08 reach 180; the rest are refused
    assert refused == {"2028-01": "conflict", "2028-02": "conflict"} | {
        f"2028-{m:02d}": "past-retirement" for m in range(9, 13)
    }


def test_a_month_in_the_elective_window_is_taken_and_its_end_is_not(engine):
    w = worker(engine, 33, "19650301", 2008, 2024)  # 17 years by 2025-04
    _, refused = batch(engine, w, "2025-04", "2025-12", "w2025", at(2025, 12, 20))
    assert not refused  # 弹性延迟退休 up to 2028-04: the months before it are paid
    _, refused = batch(engine, w, "2028-03", "2028-05", "w2028", at(2028, 5, 20))
    assert refused == {"2028-04": "past-retirement", "2028-05": "past-retirement"}


def test_medical_insurance_is_not_refused_by_the_pension_rule(engine):
    w = worker(engine, 34, "19640101", 2008, 2023)
    with unit_of_work(engine) as c:
        enrol(
            c,
            LAW,
            VAULT,
            resident_id(34, "19640101", True),
            "440100",
            "440000",
            at(2023, 1, 5),
            scheme=Scheme.EMPLOYEE_MEDICAL,
        )
    _, refused = batch(
        engine, w, "2024-01", "2024-02", "med", at(2024, 3, 20), scheme=Scheme.EMPLOYEE_MEDICAL
    )
    assert "past-retirement" not in refused.values()


def test_the_window_is_the_one_the_estimate_shows(engine):
    """The refusal and the estimate read the same window: its latest month is the first
    refused, and the months taken before it leave a retirement inside the window."""
    w = worker(engine, 35, "19650301", 2008, 2024)
    with unit_of_work(engine) as c:
        result = compare(c, [LAW], w, date(2024, 11, 15), None)
    latest = result["scenarios"][0]["retirement_window"]["latest_month"]
    assert latest == "2028-04"
    _, refused = batch(engine, w, "2028-01", "2028-03", "e1", at(2028, 3, 20))
    assert not refused
    _, refused = batch(engine, w, latest, latest, "e2", at(2028, 4, 20))
    assert refused == {latest: "past-retirement"}
    with unit_of_work(engine) as c:
        [scenario] = compare(c, [LAW], w, date(2028, 4, 25), None)["scenarios"]
    assert scenario["retirement_month"] == latest
    assert "outside-retirement-window" not in {x["code"] for x in scenario["warnings"]}


def test_the_pay_page_offers_no_month_a_pensioner_may_not_pay(engine):
    """The months offered and quoted (services/payment_quotes.py, the portal's pay page) are
    the months the ledger takes: one short of the minimum is offered until it is reached."""
    from suiren.services.payment_quotes import PaymentRefused, open_months, quote

    full = worker(engine, 36, "19640101", 2008, 2023)  # 192 months by 2024-01
    short = worker(engine, 37, "19640101", 2010, 2023)  # 180 months less 12: 168
    _, refused = batch(engine, short, "2024-01", "2024-06", "s2024", at(2024, 6, 20))
    assert not refused  # 174: six months to go
    today = date(2024, 12, 20)
    with unit_of_work(engine) as c:
        assert open_months(c, LAW, full, today) == []
        offered = [str(m.month) for m in open_months(c, LAW, short, today)]
        assert offered == [f"2024-{m:02d}" for m in range(12, 6, -1)]  # every one alone counts
        with pytest.raises(PaymentRefused) as e:
            quote(c, LAW, full, Month.of(2024, 12), BASE, today)
        assert e.value.reason == "past-retirement" and e.value.values["latest"] == "2024-01"
        with pytest.raises(PaymentRefused):  # the latest month itself
            quote(c, LAW, full, Month.of(2024, 1), BASE, today)
        assert quote(c, LAW, short, Month.of(2024, 12), BASE, today).base_fen == BASE
    # paying the six makes the seventh refused everywhere
    _, refused = batch(engine, short, "2024-07", "2024-12", "s2024b", at(2024, 12, 20))
    assert not refused
    with unit_of_work(engine) as c:
        assert open_months(c, LAW, short, date(2025, 1, 20)) == []


def test_months_sent_newest_first_are_judged_as_if_oldest_first(engine):
    """Each month alone, newest first: the months already recorded count whatever their
    month, so a worker five months short is taken for five, not for the year."""
    w = worker(engine, 38, "19640101", 2010, 2023)  # 168
    _, refused = batch(engine, w, "2024-06", "2024-12", "d2024", at(2024, 12, 20))
    assert not refused  # 175: five months to go
    taken, refused_alone = [], []
    for m in range(12, 0, -1):
        month = f"2025-{m:02d}"
        _, refused = batch(engine, w, month, month, f"d{month}", at(2025, 12, 20))
        (refused_alone if refused else taken).append(month)
        assert set(refused.values()) <= {"past-retirement"}
    assert taken == [f"2025-{m:02d}" for m in range(12, 7, -1)]
    assert len(refused_alone) == 7


def test_a_worker_whose_retirement_rules_are_not_in_the_parameters_fails_only_their_rows(
    engine,
):
    """A man born 1910, brought in by a history import (which checks no working age): his
    age was reached before the first retirement rules in the file (1978). His months are
    refused as no-parameters with the reason; the batch's other rows post."""
    from suiren.services.history import Person, import_people

    ids = resident_id(39, "19100301", True)
    row = {"resident_id": ids, "kind": "paid", "index": "", "region": "440100"}
    row |= {"from_month": "2008-01", "to_month": "2010-12", "base_yuan": "5000"}
    with unit_of_work(engine) as c:
        done = import_people(c, LAW, VAULT, [Person(ids, [(1, row)])], {}, "o" * 64, at(2024, 1, 5))
        assert not done.errors, done.errors
        old = done.mapping[0][1]
    young = worker(engine, 40, "19800101", 2023, 2023)
    months = np.array([Month.of(2024, 1).ordinal] * 2, dtype=np.int64)
    rows = ContributionRows(["o/2024-01", "y/2024-01"], [old, young], months,
                            np.full(2, BASE, dtype=np.int64))  # fmt: skip
    with unit_of_work(engine) as c:
        outcome = post_batch(c, LAW, rows, at(2024, 1, 20))
    assert [(r.row, r.code) for r in outcome.refusals] == [(0, "no-parameters")]
    assert "1910-03" in outcome.refusals[0].message
    assert outcome.status[1] != REFUSED
