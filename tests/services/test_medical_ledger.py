"""Employee medical insurance (职工医保) in the ledger, on SQLite and PostgreSQL.

Amounts are computed by hand from the parameter files: Shanghai (310000) charges flexible
workers 10% from 2024-03-01 (medical/flexible/rate.yaml) and credits the national 2% of the
base to the individual account (individual_account_rate.yaml, from 2021-04-13); its 2026
base range is 7,460.00 to 37,302.00 yuan and its average monthly wage 12,434.00 yuan
(contribution/base/*.yaml). Each share is rounded once, half up, to the fen.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from suiren.domain.errors import InvalidInput
from suiren.domain.money import fen_to_yuan_str
from suiren.domain.month import Month
from suiren.ledger.accounts import Scheme
from suiren.policy import load_policy
from suiren.services.contributions import ContributionRefused, contribute
from suiren.services.medical import MedicalRefused, medical_status, quote_medical_transfer
from suiren.services.settlement import close_window, report, settlement_account
from suiren.services.workers import UnknownWorker, enrol
from suiren.store.db import unit_of_work
from suiren.store.ledger_repo import TransactionConflict, balances
from suiren.store.lines import paid_months
from suiren.store.tables import (
    APPEND_ONLY,
    contribution_months,
    enrolments,
    journal,
    region_obligations,
    settled_obligations,
)
from tests.bilingual import all_said_problems
from tests.ledger_helpers import (
    POLICY,
    VAULT,
    assert_ledger_sound,
    base_bounds_fen,
    base_bounds_shown,
    medical_split,
    resident_id,
)

MFP = load_policy("money_follows_person")
JUNE = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
LATE_2025 = datetime(2025, 12, 20, 12, 0, tzinfo=UTC)
MED = "employee_medical"
SHANGHAI, HENAN, GUANGZHOU = "310000", "410000", "440100"


def month(text_: str) -> Month:
    return Month.parse(text_)


def key(kind: str, worker: str, region: str) -> str:
    return f"worker:{worker}:{MED}:{kind}:{region}"


def system(kind: str, region: str) -> str:
    return f"system:{kind}:{MED}:{kind}:{region}"


def enrol_medical(engine, n, region=SHANGHAI, hukou=HENAN, policy=POLICY, now=JUNE, male=True):
    with unit_of_work(engine) as c:
        result = enrol(
            c,
            policy,
            VAULT,
            resident_id(n, male=male),
            region,
            hukou,
            now,
            scheme=Scheme.EMPLOYEE_MEDICAL,
        )
    return result.worker.worker_id


def pay(engine, request_id, worker, first, last, base_fen, policy=POLICY, now=JUNE):
    with unit_of_work(engine) as c:
        return contribute(
            c,
            policy,
            request_id,
            worker,
            month(first),
            month(last),
            base_fen,
            now,
            Scheme.EMPLOYEE_MEDICAL,
        )


def journal_count(engine) -> int:
    with unit_of_work(engine) as c:
        return int(c.execute(select(func.count()).select_from(journal)).scalar_one())


# contributions -----------------------------------------------------------------------------


def test_shanghai_split_is_booked_to_the_three_accounts(engine):
    w = enrol_medical(engine, 1)
    # base 10,000.05 yuan: due 10% = 100,000.5 → 100,001 fen; account 2% = 20,000.1 → 20,000
    paid = pay(engine, "med-1", w, "2026-01", "2026-03", 1_000_005)
    assert [
        (p.tx_id, p.due_fen, p.individual_account_fen, p.pooled_fen, p.hukou_fen) for p in paid
    ] == [(f"med-1/2026-0{m}", 100_001, 20_000, 80_001, 0) for m in (1, 2, 3)]
    assert not any(p.replayed for p in paid)
    with unit_of_work(engine) as c:
        held = balances(
            c,
            [
                key("individual_account", w, SHANGHAI),
                key("pooled_entitlement", w, SHANGHAI),
                system("collection", SHANGHAI),
            ],
        )
        assert held == {
            key("individual_account", w, SHANGHAI): 60_000,
            key("pooled_entitlement", w, SHANGHAI): 240_003,
            system("collection", SHANGHAI): -300_003,
        }
        rows = c.execute(
            select(
                contribution_months.c.scheme,
                contribution_months.c.month,
                contribution_months.c.due_fen,
            ).order_by(contribution_months.c.month)
        ).all()
        assert [(r.scheme, r.due_fen) for r in rows] == [(MED, 100_001)] * 3
        assert len(paid_months(c, w, MED)) == 3
        assert c.execute(select(func.count()).select_from(region_obligations)).scalar_one() == 0
        assert_ledger_sound(c)


def test_an_uneven_base_rounds_each_share_once_half_up(engine):
    w = enrol_medical(engine, 2)
    # 7,461.11 yuan: due 74,611.1 → 74,611; account 14,922.22 → 14,922; pooled the rest
    (p,) = pay(engine, "odd", w, "2026-04", "2026-04", 746_111)
    assert (p.due_fen, p.individual_account_fen, p.pooled_fen) == (74_611, 14_922, 59_689)


def test_replay_returns_the_first_result_and_other_content_is_a_conflict(engine):
    w = enrol_medical(engine, 3)
    first = pay(engine, "r1", w, "2026-01", "2026-02", 1_000_000)
    n = journal_count(engine)
    again = pay(engine, "r1", w, "2026-01", "2026-02", 1_000_000)
    assert [p.replayed for p in again] == [True, True]
    assert [(p.tx_id, p.due_fen, p.pooled_fen) for p in again] == [
        (p.tx_id, p.due_fen, p.pooled_fen) for p in first
    ]
    assert journal_count(engine) == n
    with pytest.raises(TransactionConflict, match="r1/2026-01"):
        pay(engine, "r1", w, "2026-01", "2026-02", 1_200_000)
    assert journal_count(engine) == n


def test_a_pension_payment_id_cannot_be_replayed_as_medical(engine):
    w = enrol_medical(engine, 4)
    with unit_of_work(engine) as c:
        enrol(c, POLICY, VAULT, resident_id(4), SHANGHAI, HENAN, JUNE)
        contribute(c, POLICY, "same-id", w, month("2026-01"), month("2026-01"), 1_000_000, JUNE)
    n = journal_count(engine)
    with pytest.raises(TransactionConflict, match="employee_pension"):
        pay(engine, "same-id", w, "2026-01", "2026-01", 1_000_000)
    assert journal_count(engine) == n


def test_a_month_already_paid_is_refused_with_nothing_written(engine):
    w = enrol_medical(engine, 5)
    pay(engine, "a", w, "2026-02", "2026-02", 1_000_000)
    n = journal_count(engine)
    with pytest.raises(ContributionRefused, match=r"2026-02 .* already paid"):
        pay(engine, "b", w, "2026-01", "2026-03", 1_000_000)
    assert journal_count(engine) == n
    with unit_of_work(engine) as c:
        assert len(paid_months(c, w, MED)) == 1


def test_pension_months_do_not_block_medical_months(engine):
    w = enrol_medical(engine, 6)
    with unit_of_work(engine) as c:
        enrol(c, POLICY, VAULT, resident_id(6), SHANGHAI, HENAN, JUNE)
        contribute(c, POLICY, "pension", w, month("2026-01"), month("2026-01"), 1_000_000, JUNE)
    (p,) = pay(engine, "medical", w, "2026-01", "2026-01", 1_000_000)
    assert p.due_fen == 100_000


SHANGHAI_BOUNDS_FEN = base_bounds_fen(SHANGHAI, Month.of(2026, 1))


@pytest.mark.parametrize("base_fen", [SHANGHAI_BOUNDS_FEN[0] - 1, SHANGHAI_BOUNDS_FEN[1] + 1])
def test_a_base_outside_the_range_is_refused(engine, base_fen):
    w = enrol_medical(engine, 7)
    n = journal_count(engine)
    shown, allowed = fen_to_yuan_str(base_fen), base_bounds_shown(SHANGHAI, Month.of(2026, 1))
    with pytest.raises(ContributionRefused, match=f"{shown} yuan is outside.*{allowed}"):
        pay(engine, "x", w, "2026-01", "2026-01", base_fen)
    assert journal_count(engine) == n
    floor_fen = SHANGHAI_BOUNDS_FEN[0]
    (p,) = pay(engine, "floor", w, "2026-01", "2026-01", floor_fen)  # the floor is allowed
    assert p.due_fen == medical_split(SHANGHAI, Month.of(2026, 1), floor_fen).due_fen


def test_future_months_and_old_back_payments_are_refused(engine):
    w = enrol_medical(engine, 8)
    n = journal_count(engine)
    with pytest.raises(ContributionRefused, match="2026-07 is in the future"):
        pay(engine, "f", w, "2026-06", "2026-07", 1_000_000)
    with pytest.raises(ContributionRefused, match="back-payment"):
        pay(engine, "b", w, "2025-12", "2025-12", 1_000_000)
    with pytest.raises(InvalidInput, match="at most 12 months"):
        pay(engine, "y", w, "2025-01", "2026-01", 1_000_000)
    assert journal_count(engine) == n


def test_an_unenrolled_or_unknown_worker_is_refused(engine):
    with unit_of_work(engine) as c:
        w = enrol(c, POLICY, VAULT, resident_id(9), SHANGHAI, HENAN, JUNE).worker.worker_id
    n = journal_count(engine)
    with pytest.raises(InvalidInput, match="not enrolled in employee_medical"):
        pay(engine, "u", w, "2026-01", "2026-01", 1_000_000)
    with pytest.raises(UnknownWorker):
        pay(engine, "u", "WNOBODY", "2026-01", "2026-01", 1_000_000)
    assert journal_count(engine) == n


# money_follows_person: the pooled part held at the hukou region ----------------------------


def test_hukou_pool_books_the_pooled_part_to_the_hukou_region_and_settles_it(engine):
    w = enrol_medical(engine, 10, policy=MFP, now=LATE_2025)
    low = enrol_medical(engine, 11, policy=MFP, now=LATE_2025)
    # 2025-12: the hukou pool is not on yet (scenario from 2026-01-01): all stays in Shanghai
    (dec,) = pay(engine, "h25", w, "2025-12", "2025-12", 1_500_005, MFP, LATE_2025)
    assert (dec.pooled_fen, dec.hukou_fen, dec.hukou_region) == (120_001, 0, None)
    # base 15,000.05 ≥ 1 × 12,434 average wage: the whole pooled part (share 1) goes to Henan
    jan = pay(engine, "h26", w, "2026-01", "2026-02", 1_500_005, MFP)
    assert [
        (p.due_fen, p.individual_account_fen, p.pooled_fen, p.hukou_fen, p.hukou_region)
        for p in jan
    ] == [(150_001, 30_000, 120_001, 120_001, HENAN)] * 2
    # below the threshold (10,000 < 12,434): nothing is held at the hukou region
    (under,) = pay(engine, "l26", low, "2026-01", "2026-01", 1_000_000, MFP)
    assert under.hukou_fen == 0
    replay = pay(engine, "h26", w, "2026-01", "2026-02", 1_500_005, MFP)
    assert [(p.replayed, p.hukou_fen, p.hukou_region) for p in replay] == [
        (True, 120_001, HENAN)
    ] * 2
    with unit_of_work(engine) as c:
        held = balances(
            c,
            [
                key("pooled_entitlement", w, SHANGHAI),
                key("pooled_entitlement", w, HENAN),
                system("clearing", SHANGHAI),
                system("clearing", HENAN),
            ],
        )
        assert held == {
            key("pooled_entitlement", w, SHANGHAI): 120_001,  # December only
            key("pooled_entitlement", w, HENAN): 240_002,
            system("clearing", SHANGHAI): 240_002,
            system("clearing", HENAN): -240_002,
        }
        hukou_tx = c.execute(
            select(journal.c.region, journal.c.worker_id).where(
                journal.c.tx_id == "h26/2026-01/hukou"
            )
        ).one()
        assert tuple(hukou_tx) == (HENAN, w)
        # every posting belongs to an account of its journal's region
        assert (
            c.execute(
                text("SELECT COUNT(*) FROM postings WHERE account_region <> region")
            ).scalar_one()
            == 0
        )
        assert_ledger_sound(c)
    window = date(2026, 6, 15)
    with unit_of_work(engine) as c:
        assert report(c, window, Scheme.EMPLOYEE_MEDICAL).positions == {
            SHANGHAI: 240_002,
            HENAN: -240_002,
        }
        closed = close_window(
            c, window, datetime(2026, 6, 16, 12, tzinfo=UTC), Scheme.EMPLOYEE_MEDICAL
        )
    assert closed.closed and closed.positions == {SHANGHAI: 240_002, HENAN: -240_002}
    assert sum(closed.positions.values()) == 0
    assert closed.flows == {(SHANGHAI, HENAN): (240_002, 2)}
    n = journal_count(engine)
    with unit_of_work(engine) as c:
        again = close_window(
            c, window, datetime(2026, 6, 17, 12, tzinfo=UTC), Scheme.EMPLOYEE_MEDICAL
        )
        assert again == closed
        house = str(settlement_account(Scheme.EMPLOYEE_MEDICAL))
        after = balances(c, [system("clearing", SHANGHAI), system("clearing", HENAN), house])
        assert after == {system("clearing", SHANGHAI): 0, system("clearing", HENAN): 0, house: 0}
        assert c.execute(select(func.count()).select_from(settled_obligations)).scalar_one() == 2
        assert_ledger_sound(c)
    assert journal_count(engine) == n
    with unit_of_work(engine) as c:  # the next window has nothing left to settle
        later = close_window(
            c, date(2026, 6, 16), datetime(2026, 6, 17, 12, tzinfo=UTC), Scheme.EMPLOYEE_MEDICAL
        )
    assert later.positions == {} and later.flows == {}


def test_an_obligation_after_the_window_waits_for_a_later_one(engine):
    w = enrol_medical(engine, 12, policy=MFP)
    pay(engine, "late", w, "2026-06", "2026-06", 1_500_000, MFP)  # on 2026-06-15
    with unit_of_work(engine) as c:
        early = close_window(c, date(2026, 6, 14), JUNE, Scheme.EMPLOYEE_MEDICAL)
        assert early.positions == {}
        assert report(c, date(2026, 6, 15), Scheme.EMPLOYEE_MEDICAL).positions == {
            SHANGHAI: 120_000,
            HENAN: -120_000,
        }


def test_current_law_keeps_the_pooled_part_in_the_work_region(engine):
    w = enrol_medical(engine, 13)
    (p,) = pay(engine, "cl", w, "2026-01", "2026-01", 1_500_005)
    assert (p.pooled_fen, p.hukou_fen) == (120_001, 0)
    with unit_of_work(engine) as c:
        assert balances(c, [key("pooled_entitlement", w, HENAN)]) == {}


def test_obligation_tables_are_append_only(engine):
    assert {"region_obligations", "settled_obligations"} <= set(APPEND_ONLY)
    w = enrol_medical(engine, 14, policy=MFP)
    pay(engine, "ao", w, "2026-01", "2026-01", 1_500_000, MFP)
    with pytest.raises(DBAPIError), unit_of_work(engine) as c:
        c.execute(update(region_obligations).values(amount_fen=1))


# status --------------------------------------------------------------------------------------


def status(engine, worker, day=date(2026, 6, 15), policy=POLICY):
    with unit_of_work(engine) as c:
        return medical_status(c, policy, worker, day)


def test_status_counts_years_per_region_and_the_lifetime_shortfall(engine):
    w = enrol_medical(engine, 20, region=GUANGZHOU, now=LATE_2025)
    pay(engine, "gz", w, "2025-01", "2025-12", 600_000, now=LATE_2025)
    with unit_of_work(engine) as c:  # what a completed transfer does to the enrolment
        c.execute(update(enrolments).where(enrolments.c.worker_id == w).values(region=SHANGHAI))
    pay(engine, "sh", w, "2026-01", "2026-02", 1_000_000)
    s = status(engine, w)
    assert s.region == SHANGHAI
    assert s.months_by_region == {GUANGZHOU: 12, SHANGHAI: 2}
    assert (s.total_months, s.local_months) == (14, 2)
    assert s.last_paid == month("2026-02")
    # Shanghai: more than 15 years cumulative for both sexes, no local minimum on record
    assert s.lifetime is not None
    assert (s.lifetime.required_total_months, s.lifetime.required_local_months) == (180, 0)
    assert (s.lifetime.met, s.lifetime.shortfall_months) == (False, 166)
    assert s.lifetime.on_day > date(2050, 1, 1)  # a man born in 1990 retires after 2050
    cited = [p["parameter"] for step in s.explanation for p in step["parameters"]]
    assert "medical.lifetime_years.male" in cited and "medical.gap.waiting_months" in cited
    assert all_said_problems(s.explanation, "step") == [] and len(s.explanation) == 2
    data = s.to_json()
    assert data["last_paid"] == "2026-02" and data["lifetime"]["shortfall_months"] == 166


def test_status_in_guangdong_uses_the_2030_rule_at_retirement(engine):
    w = enrol_medical(engine, 21, region=GUANGZHOU, male=False)
    pay(engine, "gzf", w, "2026-01", "2026-05", 600_000)
    s = status(engine, w)
    assert s.lifetime is not None
    assert (s.lifetime.required_total_months, s.lifetime.shortfall_months) == (300, 295)


@pytest.mark.parametrize(
    ("last", "gap", "wait"),
    [("2026-05", 0, 0), ("2026-02", 3, 0), ("2026-01", 4, 6)],
)
def test_a_break_of_three_months_waits_nothing_a_longer_one_the_regions_period(
    engine, last, gap, wait
):
    w = enrol_medical(engine, 22)
    pay(engine, "g", w, "2026-01", last, 1_000_000)
    s = status(engine, w)
    assert (s.gap_months, s.waiting_months) == (gap, wait)


def test_status_of_a_worker_who_never_paid_and_of_a_region_without_lifetime_rule(engine):
    w = enrol_medical(engine, 23, region="410100")  # 郑州: no minimum years on record
    s = status(engine, w)
    assert (s.total_months, s.last_paid, s.gap_months, s.waiting_months) == (0, None, None, 6)
    assert s.lifetime is None
    assert any("lifetime cover unknown in 410100" in note for note in s.notes)
    # each note and each step's name in each language (tests/bilingual.py), as a pension's
    data = s.to_json()
    notes = [
        {"message": b, "message_zh": zh, "message_en": en}
        for b, zh, en in zip(s.notes, s.notes_zh, s.notes_en, strict=True)
    ]
    assert len(notes) == 2 and all_said_problems(notes) == []
    assert all_said_problems(s.explanation, "step") == [] and len(s.explanation) == 1
    assert data["notes_zh"] == s.notes_zh


# transfer quote ----------------------------------------------------------------------------


def test_quote_moves_the_account_and_leaves_the_pooled_entitlement(engine):
    w = enrol_medical(engine, 30)
    pay(engine, "q", w, "2026-01", "2026-03", 1_000_000)
    with unit_of_work(engine) as c:
        quote = quote_medical_transfer(c, POLICY, w, SHANGHAI, GUANGZHOU, date(2026, 6, 15))
    assert (
        quote.temporary,
        quote.account_fen,
        quote.pooled_fen,
        quote.kept_fen,
        quote.interest_fen,
    ) == (False, 60_000, 0, 240_000, 0)
    assert quote.total_fen == 60_000
    cited = quote.to_json()["explanation"][0]["parameters"]
    assert [p["parameter"] for p in cited] == ["medical.transfer.pooled_moves"]


def test_quote_refuses_when_there_is_nothing_to_move(engine):
    w = enrol_medical(engine, 31)
    with unit_of_work(engine) as c, pytest.raises(MedicalRefused, match="nothing to transfer"):
        quote_medical_transfer(c, POLICY, w, SHANGHAI, GUANGZHOU, date(2026, 6, 15))
    pay(engine, "q", w, "2026-01", "2026-01", 1_000_000)
    with unit_of_work(engine) as c, pytest.raises(InvalidInput, match="same region"):
        quote_medical_transfer(c, POLICY, w, SHANGHAI, SHANGHAI, date(2026, 6, 15))
