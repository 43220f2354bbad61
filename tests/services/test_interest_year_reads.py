"""The yearly run's (prior, in_year, credited) read from a year and the balance is what the whole
history gives, on ledgers built at random through the services (issue 9).

``store.lines.SUMS_SQL`` reads only an account's lines dated in Y or later and takes the
balance before Y as ``accounts.balance_fen`` less them. That holds exactly when the balance is
the sum of every line the query reads — postings of any journal and the contribution months
of the account's own worker, scheme, region and kind — and when nothing the query does not
read moves the balance. This test keeps the query as it was before (``WHOLE_HISTORY_SQL``,
which summed every line up to Y's end) and compares both, account by account and batch by
batch, for every worker account of both schemes and years before, during and after the
activity: contributions (a temporary account, employee medical with its hukou part), months
reversed (one in a region the worker left), transfers out and in during a year and after it,
before and after the year's run, runs for some years late or never, imported histories with
opening balances that arrive after the runs they missed. A seeded generator, both databases.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text

from suiren.domain.errors import SuirenError
from suiren.domain.month import Month
from suiren.ledger.accounts import Scheme
from suiren.policy import load_policy
from suiren.services.contributions import contribute
from suiren.services.history import file_hash, import_people, people, read_balances
from suiren.services.interest import credit_interest, year_parts
from suiren.services.reversals import reverse
from suiren.services.transfers import (
    accept_transfer,
    approve_transfer,
    complete_transfer,
    request_transfer,
)
from suiren.services.workers import enrol, enrolment_region
from suiren.store.audit import verify
from suiren.store.db import unit_of_work
from suiren.store.lines import year_sums
from tests.ledger_helpers import POLICY, VAULT, base_bounds_fen, resident_id

# The reference: SUMS_SQL as it was before it read only a year (commit 0b41cb0^), every line
# of the account up to Y's end. Kept verbatim (its two fragments inlined); do not "fix" it.
WHOLE_HISTORY_SQL = """
    SELECT sums.account AS account,
           sums.prior + COALESCE(carry.prior, 0) AS prior,
           sums.in_year - COALESCE(carry.prior, 0) AS in_year,
           sums.credited AS credited
    FROM (
      SELECT lines.account AS account,
             CAST(SUM(CASE WHEN lines.legal_month < :start THEN lines.amount_fen ELSE 0 END) AS BIGINT) AS prior,
             CAST(SUM(CASE WHEN lines.legal_month >= :start AND lines.code <> 'interest'
                      THEN lines.amount_fen ELSE 0 END) AS BIGINT) AS in_year,
             MAX(CASE WHEN lines.legal_month = :end AND lines.code = 'interest'
                      THEN 1 ELSE 0 END) AS credited
      FROM (
        SELECT p.account AS account, p.legal_month AS legal_month, p.amount_fen AS amount_fen,
               p.code AS code
        FROM postings p JOIN accounts a ON a.account = p.account
        WHERE {accounts} AND p.legal_month <= :end
        UNION ALL
        SELECT a.account, m.month, CASE a.kind WHEN 'individual_account' THEN m.account_fen
               WHEN 'pooled_entitlement' THEN m.pooled_fen - m.held_fen ELSE 0 END, 'contribution'
        FROM contribution_months m JOIN accounts a ON a.owner_type = 'worker'
          AND a.owner_id = m.worker_id AND a.scheme = m.scheme AND a.region = m.region
          AND a.kind IN ('individual_account', 'pooled_entitlement')
        WHERE {accounts} AND {months} AND m.month <= :end
      ) AS lines
      GROUP BY lines.account
    ) AS sums
    LEFT JOIN (
      SELECT c.account AS account, CAST(SUM(c.prior_fen) AS BIGINT) AS prior
      FROM interest_carry c
      JOIN postings q ON q.region = c.region AND q.seq = c.seq AND q.account = c.account
      WHERE q.legal_month BETWEEN :start AND :end
      GROUP BY c.account
    ) AS carry ON carry.account = sums.account
"""

MFP = load_policy("money_follows_person")
GUANGZHOU, SHANGHAI = "440100", "310000"
REGIONS = (GUANGZHOU, SHANGHAI)
HENAN = "410000"  # every worker's hukou: away from both regions
ACTIVE = range(2020, 2026)  # the years the generator pays, reverses, moves and runs
CHECKED = range(2017, 2028)  # before, during and after the activity
KINDS = ("individual_account", "pooled_entitlement")
Row = tuple[int, int, int]  # (prior, in_year, credited)


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 12, 0, tzinfo=UTC)


class Ledger:
    """A random history through the services; each step in its own transaction, a step the
    services refuse (a reversal of a month whose money left, a transfer while another is
    open…) leaves nothing and is counted as refused."""

    def __init__(self, engine: Engine, rng: random.Random, tmp_path: Path) -> None:
        self.engine, self.rng, self.tmp_path = engine, rng, tmp_path
        self.workers: list[str] = []
        self.standing: dict[str, list[tuple[str, Scheme]]] = {}  # worker -> month tx ids
        self.medical: set[str] = set()  # workers enrolled in employee medical too
        self.run_years: set[int] = set()
        self.done: dict[str, int] = {}
        self.n = 0

    def step(self, name: str, call: Callable[[Connection], Any]) -> bool:
        try:
            with unit_of_work(self.engine) as c:
                call(c)
        except SuirenError:
            self.done[f"{name} refused"] = self.done.get(f"{name} refused", 0) + 1
            return False
        self.done[name] = self.done.get(name, 0) + 1
        return True

    def uid(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    def enrol(self, n: int, region: str, born: str, hukou: str, when: datetime) -> None:
        box: list[str] = []
        self.step(
            "enrol",
            lambda c: box.append(
                enrol(c, POLICY, VAULT, resident_id(n, born), region, hukou, when).worker.worker_id
            ),
        )
        self.workers += box
        self.standing.update({w: [] for w in box})

    def enrol_medical(self, n: int, region: str, when: datetime) -> None:
        """Worker ``n`` (born 1990, hukou in Henan) in employee medical too: months of another
        scheme, a part held at the hukou region."""
        box: list[str] = []
        self.step(
            "enrol medical",
            lambda c: box.append(
                enrol(
                    c, POLICY, VAULT, resident_id(n, "19900101"), region, HENAN, when,
                    Scheme.EMPLOYEE_MEDICAL,
                ).worker.worker_id
            ),
        )  # fmt: skip
        self.medical.update(box)

    def import_history(self, n: int, when: datetime, temporary: bool) -> None:
        """An earlier system's career and balance at the end of 2019, imported at ``when``."""
        rid = resident_id(n, "19750301")
        rows = [f"{rid},{GUANGZHOU},2008-01,2015-12,paid,4000,,{HENAN}"]
        money = [f"{rid},{GUANGZHOU},52000.37,2019-12-31"]
        if temporary:  # a temporary account in Shanghai, sealed there
            rows.append(f"{rid},{SHANGHAI},2016-01,2019-12,temporary,5000,,{HENAN}")
            money.append(f"{rid},{SHANGHAI},21000.05,2019-12-31")
        else:
            rows.append(f"{rid},{GUANGZHOU},2016-01,2019-12,paid,5000,,{HENAN}")
        stints = self.tmp_path / f"stints{n}.csv"
        stints.write_text(
            "resident_id,region,from_month,to_month,kind,base_yuan,index,hukou_region\n"
            + "".join(r + "\n" for r in rows),
            encoding="utf-8",
        )
        balances = self.tmp_path / f"balances{n}.csv"
        balances.write_text(
            "resident_id,region,account_yuan,as_of\n" + "".join(r + "\n" for r in money),
            encoding="utf-8",
        )
        found = read_balances(balances)[0]
        [unit] = list(people(stints, 100))
        summaries: list[Any] = []
        self.step(
            "history import",
            lambda c: summaries.append(
                import_people(c, POLICY, VAULT, unit, found, file_hash(stints), when)
            ),
        )
        for summary in summaries:
            assert not summary.errors, summary.errors
            worker = dict(summary.mapping)[rid]
            self.workers.append(worker)
            self.standing[worker] = []

    def region_of(self, worker: str) -> str:
        with unit_of_work(self.engine) as c:
            return enrolment_region(c, worker, Scheme.EMPLOYEE_PENSION)[0]

    def pay(self, worker: str, year: int, first: int, last: int, when: datetime) -> None:
        region = self.region_of(worker)
        a, b = self.rng.randint(first, last), self.rng.randint(first, last)
        months = Month.of(year, min(a, b)), Month.of(year, max(a, b))
        floor, ceiling = base_bounds_fen(region, *months)
        base = self.rng.randint(floor, ceiling)
        request = self.uid("p")
        paid: list[Any] = []
        if self.step(
            "pay",
            lambda c: paid.extend(contribute(c, POLICY, request, worker, *months, base, when)),
        ):
            self.standing[worker] += [(p.tx_id, Scheme.EMPLOYEE_PENSION) for p in paid]

    def pay_medical(self, worker: str, year: int, when: datetime) -> None:
        """Employee medical; from 2026 under the money-follows-person scenario, where a high
        income's pooled part is held at the hukou region (``held_fen``)."""
        first, last = Month.of(year, 1), Month.of(year, self.rng.randint(1, when.month))
        policy, base = (MFP, 1_500_005) if year >= 2026 else (POLICY, 800_000)
        request = self.uid("m")
        paid: list[Any] = []
        if self.step(
            "pay medical",
            lambda c: paid.extend(
                contribute(
                    c, policy, request, worker, first, last, base, when, Scheme.EMPLOYEE_MEDICAL
                )
            ),
        ):
            self.standing[worker] += [(p.tx_id, Scheme.EMPLOYEE_MEDICAL) for p in paid]

    def reverse_some(self, when: datetime) -> None:
        for worker in self.rng.sample(self.workers, k=min(3, len(self.workers))):
            if not self.standing[worker]:
                continue
            tx_id, scheme = self.rng.choice(self.standing[worker])
            undo = partial(reverse, tx_id=tx_id, reversal_id=self.uid("r"), now=when)
            if self.step("reverse", undo):
                self.standing[worker].remove((tx_id, scheme))

    def move_some(self, when: datetime, chance: float) -> None:
        for worker in self.workers:
            if self.rng.random() >= chance:
                continue
            to = SHANGHAI if self.region_of(worker) == GUANGZHOU else GUANGZHOU
            transfer = self.uid("t")
            request = partial(request_transfer, policy=POLICY, worker_id=worker, to_region=to)
            steps: dict[str, Callable[..., Any]] = {
                "requested": request,
                "approved": approve_transfer,
                "accepted": accept_transfer,
                "completed": complete_transfer,
            }
            all(
                self.step(f"transfer {name}", partial(call, transfer_id=transfer, now=when))
                for name, call in steps.items()
            )

    def run_interest(self, now: datetime) -> None:
        """The year just ended; but 2022 is run late (in 2024, after 2023) and 2025 never
        (only a transfer's catch-up credits it)."""
        for year in range(ACTIVE.start - 1, now.year):
            if year in self.run_years or year == 2025 or (year == 2022 and now.year < 2024):
                continue
            if self.step(
                "interest run", partial(credit_interest, policy=POLICY, year=year, now=now)
            ):
                self.run_years.add(year)


def build(engine: Engine, seed: int, tmp_path: Path) -> Ledger:
    rng = random.Random(seed)
    ledger = Ledger(engine, rng, tmp_path)
    start = at(ACTIVE.start, 1, 5)
    for n in range(6):  # until 2021-07-16 only where the hukou is
        region = rng.choice(REGIONS)
        ledger.enrol(n, region, "19900101", region, start)
    ledger.import_history(50, at(ACTIVE.start, 1, 8), temporary=True)
    for year in [*ACTIVE, ACTIVE.stop]:
        if year == 2022:  # hukou elsewhere; 53 years old: 临时账户
            ledger.enrol(6, rng.choice(REGIONS), "19900101", HENAN, at(year, 1, 3))
            ledger.enrol(40, GUANGZHOU, "19680301", HENAN, at(year, 1, 3))
            # a balance arriving after the runs it missed (caught up on arrival)
            ledger.import_history(51, at(year, 2, 1), temporary=False)
        # before the run of the year just ended (2025's never comes: its catch-up on leaving)
        ledger.move_some(at(year, 1, 5), 0.1 if year < ACTIVE.stop else 0.4)
        ledger.run_interest(at(year, 1, 10))
        ledger.reverse_some(at(year, 2, 1))
        ledger.move_some(at(year, 3, 9), 0.1)
        last = 3 if year == ACTIVE.stop else 6
        for worker in ledger.workers:
            if rng.random() < 0.8:
                ledger.pay(worker, year, 1, last, at(year, last, 20))
        if year == 2025:
            ledger.enrol_medical(6, SHANGHAI, at(year, 6, 1))
        for worker in ledger.medical:
            ledger.pay_medical(worker, year, at(year, last, 21))
        if year == ACTIVE.stop:
            break
        ledger.move_some(at(year, 8, 10), 0.15)
        for worker in ledger.workers:
            if rng.random() < 0.8:
                ledger.pay(worker, year, 7, 12, at(year, 12, 20))
    return ledger


def whole_history(
    c: Connection, accounts: str, months: str, params: dict[str, object], year: int
) -> dict[str, Row]:
    bounds = {"start": Month.of(year, 1).ordinal, "end": Month.of(year, 12).ordinal}
    rows = c.execute(
        text(WHOLE_HISTORY_SQL.format(accounts=accounts, months=months)), {**params, **bounds}
    ).all()
    return {r.account: (int(r.prior), int(r.in_year), int(r.credited)) for r in rows}


def a_year_and_the_balance(
    c: Connection, accounts: str, months: str, params: dict[str, object], year: int
) -> dict[str, Row]:
    table = year_sums(c, accounts, months, year, params).to_pydict()
    columns = zip(
        table["account"], table["prior"], table["in_year"], table["credited"], strict=True
    )
    return {account: (prior, in_year, credited) for account, prior, in_year, credited in columns}


def same(new: dict[str, Row], old: dict[str, Row], where: str) -> None:
    """Equal, but for the accounts the old query had no line of up to Y's end: the new one
    reads them (their balance) and must give them nothing."""
    assert set(old) <= set(new), f"{where}: rows lost: {sorted(set(old) - set(new))}"
    wrong = {a: (new[a], old.get(a)) for a in new if new[a] != old.get(a, (0, 0, 0))}
    assert not wrong, f"{where}: (new, old) differ: {wrong}"


@pytest.mark.parametrize("seed", [29])
def test_a_year_and_the_balance_give_what_the_whole_history_gives(
    engine: Engine, seed: int, tmp_path: Path
) -> None:
    ledger = build(engine, seed, tmp_path)
    seen: dict[str, int] = {}

    def count(name: str) -> None:
        seen[name] = seen.get(name, 0) + 1

    with unit_of_work(engine) as c:
        audit = verify(c)
        assert audit.ok, audit.problems
        worker_accounts = c.execute(
            text(
                "SELECT account, scheme, kind, region, owner_id, balance_fen FROM accounts"
                " WHERE owner_type = 'worker' AND kind IN ('individual_account',"
                " 'pooled_entitlement') ORDER BY account"
            )
        ).all()
        groups: dict[tuple[str, str, str], list[str]] = {}
        for a in worker_accounts:
            groups.setdefault((a.scheme, a.kind, a.region), []).append(a.owner_id)
        every = "a.owner_type = 'worker' AND a.kind IN ('individual_account', 'pooled_entitlement')"
        for year in CHECKED:
            old = whole_history(c, every, "TRUE", {}, year)
            same(a_year_and_the_balance(c, every, "TRUE", {}, year), old, f"every account {year}")
            for a in worker_accounts:  # one account, as a transfer and an estimate read it
                parts = old.get(a.account, (0, 0, 0))
                assert year_parts(c, a.account, year) == parts[:2], (a.account, year)
                count("no line up to Y" if a.account not in old else "lines up to Y")
                count("credited" if parts[2] else "not credited")
                if parts[2] and year not in ledger.run_years:
                    count("credited by a transfer's catch-up, no run")
                if a.account in old and parts[0] != a.balance_fen:
                    count("lines after Y (prior is not the balance)")
            for (scheme, kind, region), owners in groups.items():  # the run's batches
                owners.sort()
                middle = owners[len(owners) // 2]
                for low, high in ((owners[0], middle), (middle, owners[-1])):
                    params: dict[str, object] = {"scheme": scheme, "kind": kind}
                    params |= {"region": region, "low": low, "high": high}
                    accounts = (
                        "a.scheme = :scheme AND a.kind = :kind AND a.region = :region"
                        " AND a.owner_id BETWEEN :low AND :high"
                    )
                    months = "m.worker_id BETWEEN :low AND :high"
                    old = whole_history(c, accounts, months, params, year)
                    new = a_year_and_the_balance(c, accounts, months, params, year)
                    same(new, old, f"{scheme} {kind} {region} {low}..{high} {year}")
        facts = {
            name: int(c.execute(text(f"SELECT COUNT(*) FROM {sql}")).scalar_one())
            for name, sql in {
                "opening entries": "postings WHERE code = 'opening' AND account LIKE 'worker:%'",
                "reversals": "postings WHERE code = 'reversal'",
                "carried parts": "interest_carry WHERE prior_fen <> 0",
                "temporary months": "contribution_months WHERE temporary = 1",
                "held months": "contribution_months WHERE held_fen > 0",
                "other scheme months": "contribution_months WHERE scheme <> 'employee_pension'",
                "gathered": "transfers WHERE kind <> 'move'",
            }.items()
        }
    reached = {**ledger.done, **seen, **facts}
    for what in (
        *facts,
        *("history import", "interest run", "transfer completed", "reverse", "pay medical"),
        *(
            "reverse refused",
            "no line up to Y",
            "credited",
            "lines after Y (prior is not the balance)",
        ),
        "credited by a transfer's catch-up, no run",
    ):
        assert reached.get(what, 0) > 0, f"the history reaches no {what!r}: {reached}"
