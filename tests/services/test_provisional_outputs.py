"""Every output that uses a yearly figure standing in for one not published yet says so, with
the one warning ``provisional-parameter`` (services/provisional.py), on SQLite and PostgreSQL.

河南's contribution figures in the file are 2025's (floor and ceiling from 2025-01-01): a
2026 month of a 郑州 worker is bounded by them provisionally. 广州's are of 2025-07-01: its
2026-06 is bounded by figures of its own year, its 2026-07 provisionally (2026's are not in
the file).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, func, select

from suiren.domain.month import Month
from suiren.ledger.accounts import Scheme
from suiren.policy import Policy, load_policy
from suiren.policy.contribution import contribution_bounds
from suiren.policy.pension import PARAMETERS as PENSION_PARAMETERS
from suiren.rules.vector import day_number
from suiren.services.agency import waiting_transfers
from suiren.services.career import estimate
from suiren.services.contributions import (
    POSTED,
    REFUSED,
    REPLAYED,
    BatchOutcome,
    _missing_parameters,
    contribute,
    month_figures,
)
from suiren.services.interest import credit_interest
from suiren.services.payment_quotes import open_months, quote
from suiren.services.pension_calc import (
    AGE_MIN,
    EARLY_MONTHS,
    EARLY_RATE,
    EXTRA_RATE,
    PHASE_IN_RATE,
    STATUS_PARAMETERS,
)
from suiren.services.provisional import PROVISIONAL_PARAMETER
from suiren.services.transfers import (
    accept_transfer,
    approve_transfer,
    get_transfer,
    request_transfer,
)
from suiren.services.worker_transfers import worker_transfers
from suiren.services.workers import enrol
from suiren.store.db import unit_of_work
from suiren.store.tables import intake_receipts
from tests.conftest import NOW
from tests.ledger_helpers import (
    POLICY,
    VAULT,
    base_bounds_fen,
    enrol_workers,
    policy_with,
    resident_id,
)
from tests.services.test_intake import HEADER, counts, post_file

ZHENGZHOU, GUANGZHOU = "410100", "440100"
MARCH, JUNE, JULY = Month.of(2026, 3), Month.of(2026, 6), Month.of(2026, 7)
AUGUST = datetime(2026, 8, 15, 12, 0, tzinfo=UTC)  # 广东's 2025-07 figures a year old in July
HENAN_BASE = base_bounds_fen(ZHENGZHOU, MARCH)[0]
REFORM = load_policy("money_follows_person")
FLOOR = "contribution.base.published_floor"
CEILING = "contribution.base.published_ceiling"


def provisional_of(warnings: list[dict]) -> list[dict]:
    return [w for w in warnings if w["code"] == PROVISIONAL_PARAMETER]


def named(warning: dict) -> set[tuple[str, str, str]]:
    return {(p["parameter"], p["region"], p["in_force_from"]) for p in warning["parameters"]}


def test_a_payment_on_provisional_bounds_says_so_and_one_on_published_ones_does_not(
    engine: Engine,
) -> None:
    [canton] = enrol_workers(engine, 1, GUANGZHOU)
    [henan] = enrol_workers(engine, 1, ZHENGZHOU, start=1)
    with unit_of_work(engine) as c:
        paid = contribute(c, POLICY, "p1", canton, JUNE, JULY, 600_000, AUGUST)
        there = contribute(c, POLICY, "p2", henan, MARCH, MARCH, HENAN_BASE, NOW)
    june, july = (p.to_json() for p in paid)
    assert june["warnings"] == []  # 广东's figures of 2025-07 in their own year
    [warning] = provisional_of(july["warnings"])  # type: ignore[arg-type]
    assert warning["field"] == "base_yuan"
    assert "2026-07" in warning["message"] and "stands in" in warning["message"]
    assert named(warning) == {(FLOOR, GUANGZHOU, "2025-07-01"), (CEILING, "440000", "2025-07-01")}
    [warning] = provisional_of(there[0].to_json()["warnings"])  # type: ignore[arg-type]
    assert named(warning) == {(FLOOR, "410000", "2025-01-01"), (CEILING, "410000", "2025-01-01")}
    # a replay says what the month's bounds are, as the first answer did
    with unit_of_work(engine) as c:
        again = contribute(c, POLICY, "p1", canton, JUNE, JULY, 600_000, AUGUST)
    assert [p.replayed for p in again] == [True, True]
    assert [p.to_json()["warnings"] for p in again] == [june["warnings"], july["warnings"]]


def test_the_months_open_to_pay_and_a_quote_say_which_bounds_are_provisional(
    engine: Engine,
) -> None:
    [canton] = enrol_workers(engine, 1, GUANGZHOU)
    today = AUGUST.date()
    with unit_of_work(engine) as c:
        months = open_months(c, POLICY, canton, today)
        quoted = quote(c, POLICY, canton, JULY, 600_000, today)
        published = quote(c, POLICY, canton, JUNE, 600_000, today)
    shown = {str(m.month): bool(m.warnings()) for m in months}
    assert shown == {f"2026-{m:02d}": m >= 7 for m in range(1, 9)}
    [warning] = quoted.month.warnings()
    assert warning["code"] == PROVISIONAL_PARAMETER and "2026-07" in warning["message"]
    assert published.month.warnings() == []


def test_a_file_of_payments_names_each_region_and_month_posted_on_provisional_bounds(
    engine: Engine, tmp_path: Path
) -> None:
    henan = enrol_workers(engine, 3, ZHENGZHOU)
    canton = enrol_workers(engine, 2, GUANGZHOU, start=3)
    lines = [f"h{k},2026-03,{HENAN_BASE // 100},{w}\n" for k, w in enumerate(henan)]
    lines += [f"c{k},2026-03,6000,{w}\n" for k, w in enumerate(canton)]
    path = tmp_path / "payments.csv"
    path.write_text(HEADER + "".join(lines))
    summary = post_file(engine, path).to_json()
    assert summary["posted"] == 5
    warnings = summary["warnings"]
    assert [(w["scheme"], w["region"], w["month"]) for w in warnings] == [  # type: ignore[union-attr]
        ("employee_pension", ZHENGZHOU, "2026-03")
    ]
    assert warnings[0]["code"] == PROVISIONAL_PARAMETER  # type: ignore[index]
    assert summary["warnings_truncated"] is False


def test_an_interest_run_on_the_latest_published_rate_warns_as_the_others_do(
    engine: Engine,
) -> None:
    [canton] = enrol_workers(engine, 1, GUANGZHOU)
    with unit_of_work(engine) as c:
        contribute(c, POLICY, "p1", canton, MARCH, MARCH, 600_000, NOW)
    later = datetime(2027, 3, 1, tzinfo=UTC)
    with unit_of_work(engine) as c:
        [published] = credit_interest(c, POLICY, 2025, later)
        [latest] = credit_interest(c, POLICY, 2026, later)
    assert published.to_json()["warnings"] == [] and not published.provisional
    [warning] = latest.to_json()["warnings"]  # type: ignore[misc]
    assert warning["code"] == PROVISIONAL_PARAMETER and warning["field"] == "year"
    assert warning["parameters"] == [
        {
            "parameter": "account.interest_rate",
            "value": "0.015",
            "unit": "/1",
            "region": "000000",
            "in_force_from": "2025-01-01",
        }
    ]


def test_a_pension_calculation_reads_no_yearly_figure() -> None:
    """``pension calc`` takes the 计发基数 as an input (``base_yuan``): none of the parameters
    it reads, for the amounts or for its warnings, is published yearly, so no case of it can
    rest on a provisional figure (were one added, its cases would have to warn)."""
    read = {
        *PENSION_PARAMETERS.values(),
        *STATUS_PARAMETERS.values(),
        EXTRA_RATE,
        PHASE_IN_RATE,
        EARLY_RATE,
        EARLY_MONTHS,
        AGE_MIN,
    }
    yearly = {p.path for p in POLICY.parameters.walk() if p.yearly}
    assert yearly and not read & yearly


def test_bounds_rest_on_the_published_bound_or_on_the_wage() -> None:
    """``Bounds.figures``: a region that publishes both bounds rests on them, not the wage;
    one that published none (天津 in 2020; 北京's 2020 floor, 3613, is in the file) on the
    wage, the ratios and the rounding unit."""
    days = np.array([day_number(date(2026, 3, 1)), day_number(date(2020, 3, 1))], dtype=np.int64)
    bounds = contribution_bounds(POLICY, days, np.array([ZHENGZHOU, "120000"], dtype="<U6"))
    assert {v.path for v in bounds.figures(0)} == {FLOOR, CEILING}
    assert {v.path for v in bounds.figures(1)} == {
        "contribution.base.average_monthly_wage",
        "contribution.base.floor_ratio",
        "contribution.base.ceiling_ratio",
        "contribution.base.bound_rounding_unit_fen",
    }


def test_a_transfer_whose_amounts_rest_on_a_rate_not_published_says_so(engine: Engine) -> None:
    """On 2027-02-10 the 2026 crediting rate is not in the file: the reform's interest on the
    pooled entitlement and the interest the old region credits before the money leaves are
    at 2025's, provisionally, and the request and the approval say so; the 66号 12% share
    reads no yearly figure. On 2026-06-15 (2025's rate published) nothing is said."""
    early_2027 = datetime(2027, 2, 10, 12, 0, tzinfo=UTC)
    with unit_of_work(engine) as c:  # born 1990: no temporary account (66号) moving at 37
        law, reform, now_ = (
            enrol(
                c, POLICY, VAULT, resident_id(40 + n, "19900101"), GUANGZHOU, None, NOW
            ).worker.worker_id
            for n in range(3)
        )
        for n, w in enumerate((law, reform, now_)):
            contribute(c, POLICY, f"t{n}", w, MARCH, Month.of(2026, 5), 600_000, NOW)
    with unit_of_work(engine) as c:
        asked = request_transfer(c, POLICY, "law", law, "330100", early_2027)
        asked_reform = request_transfer(c, REFORM, "reform", reform, "330100", early_2027)
        asked_now = request_transfer(c, POLICY, "now", now_, "330100", NOW)
    assert asked.to_json()["warnings"] == [] and asked_now.to_json()["warnings"] == []
    [warning] = asked_reform.to_json()["warnings"]
    assert warning["code"] == PROVISIONAL_PARAMETER and "2027-02-10" in warning["message"]
    assert named(warning) == {("account.interest_rate", "000000", "2025-01-01")}
    with unit_of_work(engine) as c:
        approved = approve_transfer(c, "law", early_2027)
        approved_now = approve_transfer(c, "now", NOW)
        again = approve_transfer(c, "law", early_2027)  # a replay: the first answer
    [warning] = approved.to_json()["warnings"]  # 2026's interest credited before leaving
    assert named(warning) == {("account.interest_rate", "000000", "2025-01-01")}
    assert approved_now.to_json()["warnings"] == []
    assert again.to_json()["warnings"] == [warning]
    # every read of a transfer says what its amounts rest on, as the step that decided them
    # said it: the approval's in place of the request's, here and once accepted
    with unit_of_work(engine) as c:
        assert get_transfer(c, "law").to_json()["warnings"] == [warning]
        assert get_transfer(c, "reform").to_json()["warnings"] == asked_reform.to_json()["warnings"]
        assert get_transfer(c, "now").to_json()["warnings"] == []
        # the lists a worker's page and an agency's console read say it alike
        [mine] = worker_transfers(c, reform, early_2027.date())
        assert list(mine.view.warnings) == asked_reform.to_json()["warnings"]
        waiting, _ = waiting_transfers(c, "33", early_2027.date())
        assert {w.view.transfer_id: len(w.view.warnings) for w in waiting} == {"law": 1, "now": 0}
        accepted = accept_transfer(c, "law", early_2027)
    assert accepted.to_json()["warnings"][0] == warning
    with unit_of_work(engine) as c:
        assert get_transfer(c, "law").to_json()["warnings"] == accepted.to_json()["warnings"]


def test_an_estimate_says_the_crediting_rate_of_interest_not_yet_credited_is_provisional(
    engine: Engine,
) -> None:
    """On 2027-02-10 the account's 2026 interest is pending (not yet run) at 2025's rate, the
    latest published: a retirement this year counts it, so the estimate names that rate
    with the other provisional figures (广东's 计发基数 of 2025)."""
    with unit_of_work(engine) as c:  # born 1967-01: statutory retirement in 2027-08
        worker = enrol(c, POLICY, VAULT, resident_id(50, "19670101"), GUANGZHOU, None, NOW)
        contribute(c, POLICY, "e1", worker.worker.worker_id, MARCH, JUNE, 600_000, NOW)
    with unit_of_work(engine) as c:
        result = estimate(c, POLICY, worker.worker.worker_id, date(2027, 2, 10), Month.of(2027, 8))
    [warning] = provisional_of(result["warnings"])
    assert "account.interest_rate 0.015 (000000, 2025)" in warning["message"]
    assert ("account.interest_rate", "000000", "2025-01-01") in named(warning)
    assert ("pension.base", "440000", "2025-01-01") in named(warning)


def test_a_medical_month_under_the_hukou_pool_rests_on_the_wage_too() -> None:
    """Employee medical under the reform's hukou pool: the high-income test reads the average
    wage, so a month of 广州 in 2026-07 names 广东's 2025-07 wage beside its bounds; under
    current law (no hukou pool) the wage bounds nothing there."""
    wage = ("contribution.base.average_monthly_wage", "440000", "2025-07-01")

    def figures(policy: Policy, scheme: Scheme) -> set[tuple[str, str, str]]:
        [used] = month_figures(policy, [JULY], [GUANGZHOU], scheme)
        return {(v.path, v.region, v.start.isoformat()) for v in used}

    assert wage in figures(REFORM, Scheme.EMPLOYEE_MEDICAL)
    assert wage not in figures(POLICY, Scheme.EMPLOYEE_MEDICAL)
    assert wage not in figures(REFORM, Scheme.EMPLOYEE_PENSION)


def test_a_files_pairs_are_resolved_together_and_one_without_parameters_has_none() -> None:
    """``month_figures`` resolves every distinct (month, region) of a file in one look-up:
    each pair's figures are what it alone would give, in the rows' order, repeated rows
    alike; a pair without parameters (1980) has none and does not take the others' away."""
    months = [JULY, Month.of(1980, 1), JULY, Month.of(2026, 1), JULY]
    regions = [GUANGZHOU, GUANGZHOU, "330100", GUANGZHOU, GUANGZHOU]
    together = month_figures(REFORM, months, regions, Scheme.EMPLOYEE_MEDICAL)
    alone = [
        month_figures(REFORM, [m], [r], Scheme.EMPLOYEE_MEDICAL)[0]
        for m, r in zip(months, regions, strict=True)
    ]
    assert together == alone
    assert together[1] == () and together[0] and together[0] == together[4]


def test_rows_without_contribution_parameters_are_found_among_many_pairs() -> None:
    """A batch's distinct (month, region) pairs are tried together; where one has no
    parameters (1980), its rows — and only its rows — are found, as each pair alone finds."""
    months = [JULY, Month.of(1980, 1), JULY, Month.of(2026, 1), Month.of(1980, 1)]
    regions = np.array([GUANGZHOU, GUANGZHOU, "330100", GUANGZHOU, GUANGZHOU], dtype="<U6")
    days = np.array([day_number(m.first_day()) for m in months], dtype=np.int64)
    missing = _missing_parameters(REFORM, days, regions)
    assert missing.tolist() == [False, True, False, False, True]
    alone = [_missing_parameters(REFORM, days[i : i + 1], regions[i : i + 1])[0] for i in range(5)]
    assert missing.tolist() == alone
    assert not _missing_parameters(REFORM, days[[0, 2, 3]], regions[[0, 2, 3]]).any()


def test_a_batchs_due_is_summed_per_region_for_the_rows_of_a_status() -> None:
    """``due_by_region``: exact sums of the rows of one status per region, regions sorted,
    the other rows left out (a file's summary adds these up chunk by chunk)."""
    big = 9_007_199_254_740_993  # above 2**53: a float sum would lose the last fen
    outcome = BatchOutcome(
        status=np.array([POSTED, REFUSED, POSTED, REPLAYED, POSTED], dtype=np.int8),
        region=["440100", "", "110000", "440100", "440100"],
        due_fen=np.array([big, 7, 250, 30, 1], dtype=np.int64),
        account_fen=np.zeros(5, dtype=np.int64),
        pooled_fen=np.zeros(5, dtype=np.int64),
        held_fen=np.zeros(5, dtype=np.int64),
        hukou=[None] * 5,
    )
    assert outcome.due_by_region() == {"110000": 250, "440100": big + 1}
    assert list(outcome.due_by_region()) == ["110000", "440100"]
    assert outcome.due_by_region(REPLAYED) == {"440100": 30}
    assert outcome.due_by_region(REFUSED) == {"": 7}


def _published_2026(tmp_path: Path) -> Policy:
    """The parameters once 广东's 2026-07 floor and ceiling are out (figures of this test)."""
    return policy_with(
        tmp_path / "guangdong_2026.yaml",
        "name: guangdong_2026\n"
        "description: 广东's 2026 bounds published (a test's figures)\n"
        "reference: {verified: false, why: a test's figures}\n"
        "overrides:\n"
        "  contribution.base.published_floor:\n"
        '    regions: {"440100": {values: {2026-07-01: 5600}}}\n'
        "  contribution.base.published_ceiling:\n"
        '    regions: {"440000": {values: {2026-07-01: 28000}}}\n',
    )


def test_a_replay_says_what_the_first_posting_used_once_the_figure_is_published(
    engine: Engine, tmp_path: Path
) -> None:
    """A replay returns the first result: July was posted on bounds that rested on 2025's
    figures, and its amounts rest on them still, so the replay says so after 2026's are
    published; a month asked about now (``month_figures``) reads the published ones."""
    published = _published_2026(tmp_path)
    assert month_figures(published, [JULY], [GUANGZHOU], Scheme.EMPLOYEE_PENSION) == [()]
    [canton] = enrol_workers(engine, 1, GUANGZHOU)
    with unit_of_work(engine) as c:
        first = contribute(c, POLICY, "p1", canton, JUNE, JULY, 600_000, AUGUST)
    with unit_of_work(engine) as c:
        again = contribute(c, published, "p1", canton, JUNE, JULY, 600_000, AUGUST)
    assert [p.to_json() for p in again] == [{**p.to_json(), "replayed": True} for p in first]
    [warning] = provisional_of(again[1].to_json()["warnings"])  # type: ignore[arg-type]
    assert named(warning) == {(FLOOR, GUANGZHOU, "2025-07-01"), (CEILING, "440000", "2025-07-01")}


def test_a_large_file_sent_again_says_the_warnings_of_its_first_run(
    engine: Engine, tmp_path: Path
) -> None:
    """A file of 1,200 rows is answered again from its receipt (no row is read): its rows
    are replays, nothing is written, and its summary names the same months on provisional
    bounds as the first (郑州's 2025-01 figures standing in for 2026's)."""
    workers = enrol_workers(engine, 200, ZHENGZHOU)
    months = [Month.of(2026, 1) + k for k in range(6)]
    path = tmp_path / "payments.csv"
    path.write_text(
        HEADER
        + "".join(
            f"w{n},{m},{HENAN_BASE // 100},{w}\n" for n, w in enumerate(workers) for m in months
        )
    )
    first = post_file(engine, path, chunk_rows=2_000).to_json()
    before = counts(engine)
    again = post_file(engine, path, chunk_rows=2_000).to_json()
    assert (first["posted"], again["posted"], again["replayed"]) == (1_200, 0, 1_200)
    assert counts(engine) == before
    with unit_of_work(engine) as c:  # the one receipt the second run was answered from
        assert c.execute(select(func.count()).select_from(intake_receipts)).scalar_one() == 1
    assert [w["month"] for w in first["warnings"]] == [f"2026-{m:02d}" for m in range(1, 7)]  # type: ignore[union-attr]
    assert again["warnings"] == first["warnings"]
