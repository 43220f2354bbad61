"""Interest runs before the national crediting rate (issue 10 §3): 1998–2015.

Before 2016 each province set its own 记账利率 with reference to the bank's one-year deposit
rate; Suiren takes, by a stated convention, the People's Bank one-year benchmark in force on
1 January of the year (``account/interest_rate.yaml``). The expected balances below are
worked out here, by hand, from those rates written as literals — not read back from the
parameters or the code — so that a changed rate, a mid-year rate taken instead of the
1 January one, or a rounding step other than half up to the fen fails the test.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest
from sqlalchemy import Engine

from suiren.domain.errors import InvalidInput
from suiren.ledger.accounts import Scheme, individual_account
from suiren.policy.interest import year_rate
from suiren.services.interest import credit_interest
from suiren.services.transfer_quotes import quote_for
from suiren.store.audit import verify
from suiren.store.db import unit_of_work
from suiren.store.ledger_repo import balances
from tests.conftest import NOW
from tests.ledger_helpers import POLICY, resident_id
from tests.services.test_history import run_import, worker_of, write

# The 1 January one-year deposit rate of each year (the convention) and 2016's national rate:
RATES = {
    2010: Fraction(225, 10_000),  # 2.25% since 2008-12-23 (2.50% from 2010-10-20 not counted)
    2011: Fraction(275, 10_000),  # 2.75% since 2010-12-26 (three rises in 2011 not counted)
    2012: Fraction(350, 10_000),  # 3.50% since 2011-07-07 (cuts of 2012-06-08, 07-06 not counted)
    2013: Fraction(300, 10_000),  # 3.00% since 2012-07-06
    2014: Fraction(300, 10_000),  # 3.00% (2.75% from 2014-11-22 not counted)
    2015: Fraction(275, 10_000),  # 2.75% since 2014-11-22 (as 上海 and 海南 published for 2015)
    2016: Fraction(831, 10_000),  # 人社部发〔2017〕31号, the first national rate
}
# 12,345.67 yuan and 8,000.02 yuan at the end of 2009, nothing credited afterwards: each year
# the whole balance earns the year's rate (year method, 劳办发〔1997〕116号), half up to the fen
OPENING_FEN = {1: 1_234_567, 2: 800_002}


def by_hand(opening_fen: int) -> list[int]:
    """The balance after each year 2010..2016."""
    balance = opening_fen
    out = []
    for year in range(2010, 2017):
        interest = balance * RATES[year]
        whole, part = divmod(interest, 1)
        balance += int(whole) + (1 if part >= Fraction(1, 2) else 0)
        out.append(balance)
    return out


def test_by_hand_rounds_half_up() -> None:
    """The hand computation itself: 2010 on 12,345.67 is 277.777575 yuan -> 277.78."""
    assert by_hand(1_234_567)[0] == 1_234_567 + 27_778
    assert by_hand(200)[0] == 200 + 5  # 4.5 fen -> 5


def test_the_rates_are_the_convention() -> None:
    assert {y: year_rate(POLICY, y, "440100").rate for y in RATES} == RATES
    assert not any(year_rate(POLICY, y).provisional for y in range(1998, 2016))


def test_an_interest_run_over_2010_to_2016_credits_each_years_rate_to_the_fen(
    engine: Engine, tmp_path: Path
) -> None:
    ids = {n: resident_id(60 + n, "19700101") for n in OPENING_FEN}
    stints = write(
        tmp_path / "s.csv", [f"{rid},440100,2005-01,2009-12,paid,3000,," for rid in ids.values()]
    )
    money = write(
        tmp_path / "b.csv",
        [
            f"{ids[n]},440100,{fen // 100}.{fen % 100:02d},2009-12-31"
            for n, fen in OPENING_FEN.items()
        ],
        header="resident_id,region,account_yuan,as_of\n",
    )
    summary = run_import(engine, stints, money)
    assert not summary.errors, summary.errors
    keys = {
        n: str(individual_account(worker_of(summary, rid), Scheme.EMPLOYEE_PENSION, "440100"))
        for n, rid in ids.items()
    }
    expected = {n: by_hand(fen) for n, fen in OPENING_FEN.items()}
    for i, year in enumerate(range(2010, 2017)):
        with unit_of_work(engine) as c:
            [run] = credit_interest(c, POLICY, year, NOW)
            assert not run.provisional and Fraction(run.rate) == RATES[year]
            held = balances(c, keys.values())
        assert {n: held[k] for n, k in keys.items()} == {n: e[i] for n, e in expected.items()}, year
        if year == 2015:  # a transfer quoted in 2016, before that year's run: the whole balance
            with unit_of_work(engine) as c:
                worker = worker_of(summary, ids[1])
                quote = quote_for(
                    c, POLICY, worker, "440100", "330100", date(2016, 6, 1), Scheme.EMPLOYEE_PENSION
                )
            assert quote.account_fen == expected[1][i]
    with unit_of_work(engine) as c:
        assert verify(c).ok


def test_a_year_before_individual_accounts_earn_interest_is_refused(engine: Engine) -> None:
    with unit_of_work(engine) as c, pytest.raises(InvalidInput, match="from 1998"):
        credit_interest(c, POLICY, 1997, NOW)
