"""Employee medical transfers (医保关系转移接续) and reversals of hukou-pool months, on SQLite
and PostgreSQL.

Amounts by hand from the parameter files: Shanghai (310000) charges flexible workers 10% of
the base from 2024-03-01 (medical/flexible/rate.yaml), Guangzhou (440100) the national 8%;
both credit 2% of the base to the individual account (individual_account_rate.yaml, from
2021-04-13); the pooled entitlement does not move (medical/transfer/pooled_moves.yaml).
Deadlines: 10 Chinese working days to approve (out_deadline_working_days), 5 to accept and
5 to complete (in_deadline_working_days); 2026-06-19 is the Dragon Boat holiday (端午).
Under money_follows_person a base at or above the work region's average monthly wage
(Shanghai 2026: 12,434.00 yuan) puts the whole pooled part (share 1) at the hukou region.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, func, select, text

from suiren.domain.errors import InvalidInput
from suiren.domain.month import Month
from suiren.domain.workdays import add_working_days
from suiren.ledger.accounts import AccountKey, Scheme
from suiren.ledger.transaction import Posting, Transaction, TxCode
from suiren.policy import load_policy
from suiren.services.contributions import contribute
from suiren.services.medical import medical_status
from suiren.services.reversals import ReversalRefused, reverse
from suiren.services.settlement import close_window, report, settlement_account
from suiren.services.transfers import (
    TransferRefused,
    TransferView,
    accept_transfer,
    approve_transfer,
    complete_transfer,
    get_transfer,
    request_transfer,
)
from suiren.services.workers import enrol
from suiren.store.db import unit_of_work
from suiren.store.ledger_repo import balances, load_transaction_postings, post_transactions
from suiren.store.lines import paid_months
from suiren.store.tables import journal, region_obligations, settled_obligations
from tests.ledger_helpers import POLICY, VAULT, assert_ledger_sound, resident_id
from tests.store import test_concurrency
from tests.store.test_concurrency import race

MFP = load_policy("money_follows_person")
pg = test_concurrency.pg  # a migrated PostgreSQL schema, for the race
MED, PEN = "employee_medical", "employee_pension"
SHANGHAI, HENAN, GUANGZHOU, HANGZHOU = "310000", "410000", "440100", "330100"


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, 0, tzinfo=UTC)


MON, TUE, WED, THU = (date(2026, 6, d) for d in (15, 16, 17, 18))


def key(kind: str, worker: str, region: str, scheme: str = MED) -> str:
    return f"worker:{worker}:{scheme}:{kind}:{region}"


def clearing(region: str, scheme: str = MED) -> str:
    return f"system:clearing:{scheme}:clearing:{region}"


def fund(region: str, scheme: str = MED) -> str:
    return f"region:{region}:{scheme}:pooled_fund:{region}"


def counts(engine: Engine) -> tuple[int, int, int]:
    """(journal rows, obligations, months that stand): what a refused or replayed call must
    not change."""
    with unit_of_work(engine) as c:
        standing = text(
            "SELECT COUNT(*) FROM contribution_months m WHERE NOT EXISTS"
            " (SELECT 1 FROM journal j WHERE j.reverses = m.tx_id)"
        )
        return (
            int(c.execute(select(func.count()).select_from(journal)).scalar_one()),
            int(c.execute(select(func.count()).select_from(region_obligations)).scalar_one()),
            int(c.execute(standing).scalar_one()),
        )


def enrol_in(engine: Engine, n: int, scheme: Scheme, policy=POLICY, region=SHANGHAI) -> str:
    with unit_of_work(engine) as c:
        result = enrol(c, policy, VAULT, resident_id(n), region, HENAN, at(MON), scheme=scheme)
    return result.worker.worker_id


def pay_medical(engine, request_id, worker, first, last, base_fen, policy=POLICY, day=MON):
    with unit_of_work(engine) as c:
        return contribute(
            c,
            policy,
            request_id,
            worker,
            Month.parse(first),
            Month.parse(last),
            base_fen,
            at(day),
            Scheme.EMPLOYEE_MEDICAL,
        )


def step(engine: Engine, action, transfer_id: str, day: date) -> TransferView:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as c:
        return action(c, transfer_id, at(day))  # type: ignore[no-any-return]


# transfer --------------------------------------------------------------------------------


def test_a_medical_transfer_moves_the_account_only_alongside_a_pension_transfer(engine):
    w = enrol_in(engine, 1, Scheme.EMPLOYEE_MEDICAL)
    assert enrol_in(engine, 1, Scheme.EMPLOYEE_PENSION) == w  # one person in both schemes
    # 10,000.00 yuan in Shanghai: due 10% = 1,000.00; account 2% = 200.00; pooled 800.00
    paid = pay_medical(engine, "med", w, "2026-01", "2026-03", 1_000_000)
    assert [(p.due_fen, p.individual_account_fen, p.pooled_fen) for p in paid] == [
        (100_000, 20_000, 80_000)
    ] * 3
    with unit_of_work(engine) as c:
        pension = contribute(
            c, POLICY, "pen", w, Month.parse("2026-01"), Month.parse("2026-03"), 1_000_000, at(MON)
        )

    with unit_of_work(engine) as c:
        m = request_transfer(c, POLICY, "m1", w, GUANGZHOU, at(MON), scheme=Scheme.EMPLOYEE_MEDICAL)
    with unit_of_work(engine) as c:  # the medical transfer is open: the pension may still move
        p = request_transfer(c, POLICY, "p1", w, HANGZHOU, at(MON))
    assert (m.scheme, m.kind, m.from_region, m.to_region, m.state) == (
        MED,
        "move",
        SHANGHAI,
        GUANGZHOU,
        "requested",
    )
    assert (m.account_fen, m.pooled_fen, m.kept_fen, m.interest_fen) == (60_000, 0, 240_000, 0)
    # 10 working days: 16, 17, 18, (19 端午), 22 … 26, 29, 30
    assert m.due_on == add_working_days(MON, 10) == date(2026, 6, 30)
    assert (p.scheme, p.kind, p.from_region) == (PEN, "move", SHANGHAI)
    assert p.due_on == add_working_days(MON, 15)  # the pension's own step deadline
    # current law: the pension account and 12% of the bases, independent of the medical money
    assert p.account_fen == sum(x.individual_account_fen for x in pension)
    assert p.pooled_fen == 3 * 120_000

    m = step(engine, approve_transfer, "m1", TUE)
    assert (m.state, m.due_on) == ("approved", add_working_days(TUE, 5))
    assert m.due_on == date(2026, 6, 24)
    step(engine, approve_transfer, "p1", TUE)
    m = step(engine, accept_transfer, "m1", WED)
    assert (m.state, m.due_on) == ("accepted", add_working_days(WED, 5))
    assert m.due_on == date(2026, 6, 25)
    with unit_of_work(engine) as c:
        held = balances(c, [clearing(SHANGHAI), clearing(GUANGZHOU)])
    assert held == {clearing(SHANGHAI): 60_000, clearing(GUANGZHOU): -60_000}
    step(engine, accept_transfer, "p1", WED)
    m = step(engine, complete_transfer, "m1", THU)
    assert (m.state, m.completed_on) == ("completed", THU)
    assert step(engine, complete_transfer, "m1", THU) == m  # a replay
    assert step(engine, complete_transfer, "p1", THU).state == "completed"

    with unit_of_work(engine) as c:
        held = balances(
            c,
            [
                key("individual_account", w, SHANGHAI),
                key("pooled_entitlement", w, SHANGHAI),
                key("individual_account", w, GUANGZHOU),
                key("pooled_entitlement", w, GUANGZHOU),
                fund(SHANGHAI),
                fund(GUANGZHOU),
            ],
        )
    assert held == {
        key("individual_account", w, SHANGHAI): 0,
        key("pooled_entitlement", w, SHANGHAI): 0,
        fund(SHANGHAI): 240_000,  # the pooled part stays in Shanghai's pooled fund
        key("individual_account", w, GUANGZHOU): 60_000,  # only the account arrives
    }
    with unit_of_work(engine) as c:  # the pension moved on its own
        moved = balances(
            c,
            [
                key("individual_account", w, HANGZHOU, PEN),
                key("pooled_entitlement", w, HANGZHOU, PEN),
                key("individual_account", w, GUANGZHOU, PEN),
            ],
        )
    assert moved == {
        key("individual_account", w, HANGZHOU, PEN): p.account_fen,
        key("pooled_entitlement", w, HANGZHOU, PEN): 360_000,
    }

    # the medical window settles the medical transfer only, the pension window the pension's
    with unit_of_work(engine) as c:
        assert report(c, WED).positions == {
            SHANGHAI: p.account_fen + 360_000,
            HANGZHOU: -(p.account_fen + 360_000),
        }
        closed = close_window(c, WED, at(THU), Scheme.EMPLOYEE_MEDICAL)
    assert closed.positions == {SHANGHAI: 60_000, GUANGZHOU: -60_000}
    assert closed.flows == {(SHANGHAI, GUANGZHOU): (60_000, 1)}
    with unit_of_work(engine) as c:
        house = str(settlement_account(Scheme.EMPLOYEE_MEDICAL))
        assert balances(c, [clearing(SHANGHAI), clearing(GUANGZHOU), house]) == {
            clearing(SHANGHAI): 0,
            clearing(GUANGZHOU): 0,
            house: 0,
        }
        assert not report(c, WED).closed  # the pension window is still open
        assert_ledger_sound(c)

    # the worker now pays in Guangzhou: 6,000.00 yuan × 8% = 480.00, account 120.00
    (gz,) = pay_medical(engine, "gz", w, "2026-06", "2026-06", 600_000, day=THU)
    assert (gz.region, gz.due_fen, gz.individual_account_fen, gz.pooled_fen) == (
        GUANGZHOU,
        48_000,
        12_000,
        36_000,
    )
    with unit_of_work(engine) as c:
        s = medical_status(c, POLICY, w, THU)
        assert_ledger_sound(c)
    assert s.region == GUANGZHOU
    assert s.months_by_region == {SHANGHAI: 3, GUANGZHOU: 1}
    assert (s.total_months, s.local_months, s.last_paid) == (4, 1, Month.parse("2026-06"))


def test_a_second_medical_request_waits_but_replays_return_the_first(engine):
    w = enrol_in(engine, 2, Scheme.EMPLOYEE_MEDICAL)
    pay_medical(engine, "med", w, "2026-01", "2026-01", 1_000_000)
    with unit_of_work(engine) as c:
        first = request_transfer(c, POLICY, "m2", w, GUANGZHOU, at(MON), Scheme.EMPLOYEE_MEDICAL)
    with unit_of_work(engine) as c:
        again = request_transfer(c, POLICY, "m2", w, GUANGZHOU, at(TUE), Scheme.EMPLOYEE_MEDICAL)
        assert again == first == get_transfer(c, "m2")
    before = counts(engine)
    with (
        unit_of_work(engine) as c,
        pytest.raises(TransferRefused, match="already has an open transfer"),
    ):
        request_transfer(c, POLICY, "m3", w, HANGZHOU, at(TUE), Scheme.EMPLOYEE_MEDICAL)
    assert counts(engine) == before


# reversal of a month whose pooled part is held at the hukou region ------------------------


def hukou_months(engine: Engine, n: int) -> str:
    """A Shanghai worker (hukou Henan) who paid 2026-01 and 02 at 15,000.05 yuan under the
    reform: due 1,500.01, account 300.00, pooled 1,200.01, all held at Henan."""
    w = enrol_in(engine, n, Scheme.EMPLOYEE_MEDICAL, MFP)
    paid = pay_medical(engine, "h26", w, "2026-01", "2026-02", 1_500_005, MFP)
    assert [(p.due_fen, p.pooled_fen, p.hukou_fen, p.hukou_region) for p in paid] == [
        (150_001, 120_001, 120_001, HENAN)
    ] * 2
    return w


def reverse_at(engine: Engine, tx_id: str, reversal_id: str, day: date = MON):  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as c:
        return reverse(c, tx_id, reversal_id, at(day))


def test_reversing_a_hukou_pool_month_reverses_both_parts_and_the_obligation(engine):
    w = hukou_months(engine, 10)
    before = counts(engine)
    posted = reverse_at(engine, "h26/2026-01", "rev-1")
    assert (posted.tx_id, posted.region, posted.replayed) == ("rev-1", SHANGHAI, False)
    assert counts(engine) == (before[0] + 2, before[1] + 1, before[2] - 1)
    with unit_of_work(engine) as c:
        rows = {
            r.tx_id: (r.region, r.reverses, r.worker_id)
            for r in c.execute(select(journal).where(journal.c.tx_id.in_(["rev-1", "rev-1/hukou"])))
        }
        assert rows == {
            "rev-1": (SHANGHAI, "h26/2026-01", w),
            "rev-1/hukou": (HENAN, "h26/2026-01/hukou", w),
        }
        obligation = c.execute(
            select(region_obligations).where(region_obligations.c.obligation_id == "rev-1/hukou")
        ).one()
        assert (
            obligation.scheme,
            obligation.from_region,
            obligation.to_region,
            obligation.amount_fen,
            obligation.on_day,
        ) == (MED, HENAN, SHANGHAI, 120_001, MON)
        held = balances(
            c,
            [
                key("pooled_entitlement", w, HENAN),
                key("individual_account", w, SHANGHAI),
                clearing(SHANGHAI),
                clearing(HENAN),
            ],
        )
        assert held == {
            key("pooled_entitlement", w, HENAN): 120_001,  # February only
            key("individual_account", w, SHANGHAI): 30_000,
            clearing(SHANGHAI): 120_001,
            clearing(HENAN): -120_001,
        }
        assert_ledger_sound(c)

    # the replay returns the same result and writes nothing
    replay = reverse_at(engine, "h26/2026-01", "rev-1", TUE)
    assert (replay.tx_id, replay.region, replay.seq, replay.chain_hash, replay.replayed) == (
        posted.tx_id,
        posted.region,
        posted.seq,
        posted.chain_hash,
        True,
    )
    assert counts(engine) == (before[0] + 2, before[1] + 1, before[2] - 1)
    with pytest.raises(ReversalRefused, match="already been reversed"):
        reverse_at(engine, "h26/2026-01", "rev-2")

    # one window: the month and its reversal net out, February's obligation is left
    with unit_of_work(engine) as c:
        closed = close_window(c, MON, at(TUE), Scheme.EMPLOYEE_MEDICAL)
    assert closed.flows == {(SHANGHAI, HENAN): (240_002, 2), (HENAN, SHANGHAI): (120_001, 1)}
    assert closed.positions == {SHANGHAI: 120_001, HENAN: -120_001}
    with unit_of_work(engine) as c:
        assert balances(c, [clearing(SHANGHAI), clearing(HENAN)]) == {
            clearing(SHANGHAI): 0,
            clearing(HENAN): 0,
        }
        assert c.execute(select(func.count()).select_from(settled_obligations)).scalar_one() == 3
        assert_ledger_sound(c)

    # the month is free again: paying it anew books the hukou part anew
    (again,) = pay_medical(engine, "h26b", w, "2026-01", "2026-01", 1_500_005, MFP)
    assert (again.hukou_fen, again.hukou_region) == (120_001, HENAN)


def test_a_reversal_after_the_months_window_is_settled_in_the_next_one(engine):
    hukou_months(engine, 11)
    with unit_of_work(engine) as c:
        first = close_window(c, MON, at(TUE), Scheme.EMPLOYEE_MEDICAL)
    assert first.positions == {SHANGHAI: 240_002, HENAN: -240_002}
    reverse_at(engine, "h26/2026-02", "rev-feb", TUE)
    with unit_of_work(engine) as c:
        assert balances(c, [clearing(SHANGHAI), clearing(HENAN)]) == {
            clearing(SHANGHAI): -120_001,
            clearing(HENAN): 120_001,
        }
        second = close_window(c, TUE, at(WED), Scheme.EMPLOYEE_MEDICAL)
    assert second.flows == {(HENAN, SHANGHAI): (120_001, 1)}
    assert second.positions == {HENAN: 120_001, SHANGHAI: -120_001}
    with unit_of_work(engine) as c:
        house = str(settlement_account(Scheme.EMPLOYEE_MEDICAL))
        assert balances(c, [clearing(SHANGHAI), clearing(HENAN), house]) == {
            clearing(SHANGHAI): 0,
            clearing(HENAN): 0,
            house: 0,
        }
        assert_ledger_sound(c)


def test_the_hukou_part_cannot_be_reversed_on_its_own(engine):
    hukou_months(engine, 12)
    before = counts(engine)
    with pytest.raises(
        ReversalRefused, match=r"reverse the month's contribution h26/2026-02 instead"
    ):
        reverse_at(engine, "h26/2026-02/hukou", "rev-x")
    assert counts(engine) == before
    reverse_at(engine, "h26/2026-02", "rev-2")
    with pytest.raises(ReversalRefused, match="itself a reversal"):
        reverse_at(engine, "rev-2/hukou", "rev-y")
    assert counts(engine) == (before[0] + 2, before[1] + 1, before[2] - 1)


def test_a_month_whose_hukou_part_was_reversed_separately_is_refused(engine):
    """Data written before the hukou part was refused on its own: say so, write nothing."""
    hukou_months(engine, 13)
    with unit_of_work(engine) as c:
        entry, lines = load_transaction_postings(c, "h26/2026-01/hukou")
        post_transactions(
            c,
            [
                Transaction.build(
                    "old-rev",
                    TxCode.REVERSAL,
                    entry["region"],
                    Month(entry["legal_month"]),
                    at(MON),
                    [Posting(AccountKey.parse(a), -amount) for a, amount in lines],
                    entry["worker_id"],
                    "h26/2026-01/hukou",
                )
            ],
        )
    before = counts(engine)
    with pytest.raises(
        ReversalRefused,
        match=r"h26/2026-01/hukou of h26/2026-01 was reversed on its own \(by old-rev\)",
    ):
        reverse_at(engine, "h26/2026-01", "rev-1")
    assert counts(engine) == before


def test_a_month_without_hukou_part_is_reversed_alone(engine):
    w = enrol_in(engine, 14, Scheme.EMPLOYEE_MEDICAL, MFP)
    (low,) = pay_medical(engine, "low", w, "2026-01", "2026-01", 1_000_000, MFP)
    assert low.hukou_fen == 0
    before = counts(engine)
    reverse_at(engine, "low/2026-01", "rev-low")
    assert counts(engine) == (before[0] + 1, before[1], before[2] - 1)
    with unit_of_work(engine) as c:
        assert paid_months(c, w, MED) == []  # the month no longer stands
        assert_ledger_sound(c)


def test_a_reversal_id_too_long_for_its_hukou_part_writes_nothing(engine):
    hukou_months(engine, 15)
    before = counts(engine)
    with pytest.raises(InvalidInput, match="must be 1–128 characters"):
        reverse_at(engine, "h26/2026-01", "r" * 125)
    assert counts(engine) == before


def test_a_transfer_id_reused_for_the_other_scheme_is_refused(engine):
    """``request_transfer``'s replay check must compare the scheme too: else a pension request
    with a medical transfer's id silently returns the medical transfer."""
    w = enrol_in(engine, 20, Scheme.EMPLOYEE_MEDICAL)
    assert enrol_in(engine, 20, Scheme.EMPLOYEE_PENSION) == w
    pay_medical(engine, "med", w, "2026-01", "2026-01", 1_000_000)
    with unit_of_work(engine) as c:
        contribute(
            c, POLICY, "pen", w, Month.parse("2026-01"), Month.parse("2026-01"), 1_000_000, at(MON)
        )
        request_transfer(c, POLICY, "both", w, GUANGZHOU, at(MON), Scheme.EMPLOYEE_MEDICAL)
    with unit_of_work(engine) as c, pytest.raises(TransferRefused, match="already used"):
        request_transfer(c, POLICY, "both", w, GUANGZHOU, at(MON), Scheme.EMPLOYEE_PENSION)


def test_racing_reversals_of_a_hukou_month_reverse_both_parts_once(pg):
    """The second reversal waits on the first's chain-head locks, then is refused."""
    engine, schema = pg
    hukou_months(engine, 21)
    outcome = race(
        engine,
        schema,
        lambda c: reverse(c, "h26/2026-01", "rev-a", at(MON)),
        lambda c: reverse(c, "h26/2026-01", "rev-b", at(MON)),
    )
    assert isinstance(outcome, ReversalRefused), repr(outcome)
    assert "already been reversed (by rev-a)" in outcome.message
    with unit_of_work(engine) as c:
        done = c.execute(select(journal.c.tx_id).where(journal.c.reverses.is_not(None))).scalars()
        assert sorted(done) == ["rev-a", "rev-a/hukou"]
        assert c.execute(
            select(region_obligations.c.obligation_id).where(
                region_obligations.c.from_region == HENAN
            )
        ).scalars().all() == ["rev-a/hukou"]
        assert_ledger_sound(c)
