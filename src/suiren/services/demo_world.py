"""A realistic demo world for ``make run`` (``suiren serve --demo``), seeded once.

Thousands of synthetic workers — every one of the 31 provinces' capitals as a hukou — with
careers brought in the way an agency brings its old system's records in (the history
import: paid, deemed and temporary-account stints, balances at the last year's end), this
year's months paid through Suiren, transfers in every state and a settlement window; API
keys for the national agency, an agency per province, a platform, an analyst and an auditor.
Nothing here bypasses a service: the world is made by the same calls a user makes, so the
audit verifies it like any other ledger. Deterministic for a given seed and day.
"""

from __future__ import annotations

import csv
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, func, select

from suiren.domain.errors import ParameterNotFound, SuirenError
from suiren.domain.month import Month
from suiren.domain.region import RegionLevel, default_registry
from suiren.domain.resident_id import check_character
from suiren.ledger.accounts import Scheme
from suiren.policy import Policy
from suiren.policy.contribution import contribution_bounds
from suiren.rules.vector import day_number
from suiren.services.identity import IdentityVault
from suiren.store.db import unit_of_work

MUNICIPALITIES = ("110000", "120000", "310000", "500000")
# (connection, actor kind, scope, label, now) -> a new API key, shown once
IssueKey = Callable[[Connection, str, str, str, datetime], str]
LABEL = "demo"
MARKER = "demo: 全国 national agency"


@dataclass
class Seeded:
    people: int = 0
    stints: int = 0
    months_paid: int = 0
    transfers: dict[str, int] = field(default_factory=dict)
    logins: list[dict[str, str]] = field(default_factory=list)
    engaged: int = 0  # the demo platform's workers


def capitals() -> list[str]:
    """A city per province where work is insured: the municipality itself, else its first
    prefecture-level city (the capital, by GB/T 2260 numbering)."""
    registry = default_registry()
    cities = {r.code for r in registry.all(RegionLevel.PREFECTURE)}
    found = []
    for province in registry.all(RegionLevel.PROVINCE):
        code = province.code
        capital = code[:2] + "0100"
        found.append(code if code in MUNICIPALITIES or capital not in cities else capital)
    return found


def seeded(connection: Connection) -> bool:
    from suiren.store.api_tables import api_keys

    return (
        connection.execute(select(api_keys.c.key_id).where(api_keys.c.label == MARKER)).first()
        is not None
    )


def _resident_id(province: str, born: date, n: int, male: bool) -> str:
    sequence = (n % 500) * 2 + (1 if male else 0)
    first17 = f"{province[:2]}0102{born:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def _career(
    rng: random.Random, home: str, places: list[str], last_year: int, n: int
) -> list[dict[str, str]]:
    """One person's stints, oldest first, ending in December of ``last_year``."""
    born = date(rng.randint(1965, 1998), rng.randint(1, 12), rng.randint(1, 28))
    male = n % 2 == 0
    rid = _resident_id(home, born, n, male)
    start = max(Month.of(born.year + rng.randint(20, 25), rng.randint(1, 12)), Month.of(1990, 1))
    end = Month.of(last_year, 12)
    if start > end:
        start = Month.of(last_year, 1)
    rows: list[dict[str, str]] = []
    if start < Month.of(1996, 1):  # worked in a state unit before personal accounts
        rows.append(_row(rid, home, start, Month.of(1995, 12), "deemed", index="1.0"))
        start = Month.of(1996, 1)
    count = rng.choice((1, 1, 2, 2, 3))
    cuts = (
        sorted(rng.sample(range(start.ordinal + 1, end.ordinal), count - 1))
        if end.ordinal - start.ordinal > count
        else []
    )
    bounds = [start.ordinal, *cuts, end.ordinal + 1]
    region = home
    for i in range(len(bounds) - 1):
        if i:
            region = rng.choice([p for p in places if p != region])
        first, last = Month(bounds[i]), Month(bounds[i + 1] - 1)
        age = first.ordinal - Month.from_date(born).ordinal
        kind = "paid"
        if region[:2] != home[:2] and age >= (50 if male else 40) * 12 and first.year >= 2010:
            kind = "temporary"  # 国办发〔2009〕66号: 50+/40+ away from the hukou province
        index = Decimal(rng.randint(60, 200)) / 100
        for a, b in _blocks(first, last):  # the old system's base, a few years at a time
            wage = _AVERAGE_WAGE[max(y for y in _AVERAGE_WAGE if y <= a.year)]
            base = str((index * wage).quantize(Decimal("1")))
            rows.append(_row(rid, region, a, b, kind, base=base))
    rows[0]["hukou_region"] = home
    return rows


# Approximate national average monthly wages (yuan), rounded from the statistical yearbooks'
# urban non-private units series: synthetic demo bases only, never a rule's parameter.
_AVERAGE_WAGE = {1990: 180, 1996: 520, 2000: 780, 2004: 1330, 2008: 2400, 2012: 3900,
                 2016: 5600, 2020: 8100, 2023: 9800}  # fmt: skip
BLOCK_YEARS = 3


def _blocks(first: Month, last: Month) -> list[tuple[Month, Month]]:
    """[first, last] cut every few years (each block keeps one recorded base)."""
    blocks = []
    start = first
    while start <= last:
        end = min(last, Month.of(start.year + BLOCK_YEARS - 1, 12))
        blocks.append((start, end))
        start = end + 1
    return blocks


def _row(
    rid: str, region: str, first: Month, last: Month, kind: str, base: str = "", index: str = ""
) -> dict[str, str]:
    return {
        "resident_id": rid,
        "region": region,
        "from_month": str(first),
        "to_month": str(last),
        "kind": kind,
        "base_yuan": base,
        "index": index,
        "hukou_region": "",
    }


def seed(
    engine: Engine,
    policy: Policy,
    vault: IdentityVault,
    now: datetime,
    issue: IssueKey,
    people_per_province: int = 100,
    seed_value: int = 20261201,
) -> Seeded:
    """Make the world (see module doc); ``issue`` makes an API key (the API's own function,
    given by the edge: the services do not know the API)."""
    from suiren.services.history import (
        BALANCE_COLUMNS,
        STINT_COLUMNS,
        HistorySummary,
        file_hash,
        import_people,
        people,
        read_balances,
    )

    rng = random.Random(seed_value)
    places = capitals()
    last_year = now.year - 1
    result = Seeded()
    stints: list[dict[str, str]] = []
    balances: list[dict[str, str]] = []
    for p, home in enumerate(places):
        for k in range(people_per_province):
            rows = _career(rng, home, places, last_year, p * people_per_province + k)
            stints += rows
            held = next((r for r in reversed(rows) if r["kind"] != "deemed"), None)
            if held is not None:
                months = Month.parse(held["to_month"]) - Month.parse(rows[0]["from_month"]) + 1
                balances.append(
                    {
                        "resident_id": rows[0]["resident_id"],
                        "region": held["region"],
                        "account_yuan": f"{months * rng.randint(300, 900)}.{rng.randint(0, 99):02d}",
                        "as_of": f"{last_year}-12-31",
                        "scheme": "",
                    }
                )
    with tempfile.TemporaryDirectory(prefix="suiren-demo-") as temp:
        stints_path, balances_path = Path(temp) / "stints.csv", Path(temp) / "balances.csv"
        for path, rows, columns in (
            (stints_path, stints, STINT_COLUMNS),
            (balances_path, balances, BALANCE_COLUMNS),
        ):
            with path.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(columns), extrasaction="ignore")
                writer.writeheader()
                writer.writerows(rows)
        found = read_balances(balances_path)[0]
        import_id = file_hash(stints_path)
        summary = HistorySummary()
        for unit in people(stints_path, 5_000):
            with unit_of_work(engine) as c:
                summary.add(import_people(c, policy, vault, unit, found, import_id, now))
    workers = [w for _, w in summary.mapping]
    _pay_this_year(engine, policy, workers, now, rng)
    _transfers(engine, policy, workers, places, now, rng)
    result.engaged = _engagements(engine, policy, vault, summary.mapping, now)
    # what the world holds, not what this run added: a seeding stopped half-way (make run
    # interrupted) is completed by the next one, whose imports and payments then replay
    with unit_of_work(engine, read_only=True) as c:
        _count_world(c, now, result)
    with unit_of_work(engine) as c:
        logins = [
            {
                "actor": "agency",
                "scope": "000000",
                "label": MARKER,
                "sees": "every region; closes settlement windows",
            },
            {
                "actor": "platform",
                "scope": DEMO_PLATFORM,
                "label": "demo: platform",
                "sees": "the workers it declared (GET /api/v1/platform/workers), and only them",
            },
            {
                "actor": "analyst",
                "scope": "",
                "label": "demo: analyst",
                "sees": "read-only aggregates",
            },
            {
                "actor": "auditor",
                "scope": "",
                "label": "demo: auditor",
                "sees": "audit verify and checkpoints",
            },
        ]
        logins += [
            {
                "actor": "agency",
                "scope": code[:2] + "0000",
                "label": f"demo: agency {code[:2]}0000",
                "sees": "its province and the cities under it",
            }
            for code in places
        ]
        for login in logins:
            login["api_key"] = issue(c, login["actor"], login["scope"], login["label"], now)
        clerks = _clerks(c, places, now)
    portal = summary.mapping[:: max(1, len(summary.mapping) // 5)][:5]
    with unit_of_work(engine) as c:
        phones = _phones(c, vault, portal, now)
    result.logins = (
        logins
        + clerks
        + [
            {
                "actor": "worker",
                "resident_id": rid,
                "phone": phone,
                "sees": "their own records: log in at / with this resident id or this mobile"
                " number; the one-time code is shown on the page (demo)",
            }
            for (rid, _), phone in zip(portal, phones, strict=True)
        ]
    )
    return result


def _count_world(connection: Connection, now: datetime, result: Seeded) -> None:
    """``result``'s people, stints, months paid this year and transfers by state, as the
    database holds them."""
    from suiren.store.tables import contribution_months, history_stints, transfers, workers

    def count(table: Any, *where: Any) -> int:
        return int(
            connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
        )

    result.people = count(workers)
    result.stints = count(history_stints)
    result.months_paid = count(
        contribution_months, contribution_months.c.month >= Month.of(now.year, 1).ordinal
    )
    result.transfers = {
        state: int(n)
        for state, n in connection.execute(
            select(transfers.c.state, func.count()).group_by(transfers.c.state)
        )
    }


def _phones(
    connection: Connection, vault: IdentityVault, portal: list[tuple[str, str]], now: datetime
) -> list[str]:
    """A mobile number bound to each demo worker's login, as a worker binds one (a code sent
    to it, then the code): 138 0000 0001 on. Demo numbers only: no SMS is ever sent."""
    from suiren.services.logins import bind_phone, request_code

    numbers = []
    for n, (_, worker) in enumerate(portal, start=1):
        number = f"1380000{n:04d}"
        code = request_code(connection, vault, number, now)
        if bind_phone(connection, vault, worker, number, code, now) is None:
            raise RuntimeError("a fresh code did not bind its number")
        numbers.append(number)
    return numbers


def _clerks(connection: Connection, places: list[str], now: datetime) -> list[dict[str, str]]:
    """A clerk (经办人员) for the national agency and for each capital, for the console."""
    from suiren.services.clerks import add_clerk, generate_password

    made = []
    for region in ["000000", *places]:
        password = generate_password()
        clerk = add_clerk(connection, f"clerk-{region}", region, password, now)
        made.append(
            {
                "actor": "clerk",
                "login": clerk.login,
                "password": password,
                "region": clerk.region,
                "sees": "the agency console at /console/: transfers to approve or accept, the"
                " region's workers, funds and settlement",
            }
        )
    return made


def _pay_this_year(
    engine: Engine, policy: Policy, workers: list[str], now: datetime, rng: random.Random
) -> None:
    """January to last month of this year paid by most workers, within each month's bounds."""
    from suiren.services.contributions import ContributionRows, post_batch
    from suiren.services.workers import enrolment_region

    first, last = Month.of(now.year, 1), Month.from_date(now.date()).minus(1)
    if last < first:
        return
    with unit_of_work(engine) as c:
        ids: list[str] = []
        who: list[str] = []
        months: list[int] = []
        bases: list[int] = []
        for worker in workers:
            if rng.random() < 0.2:
                continue  # not paying this year
            region, _, _ = enrolment_region(c, worker, Scheme.EMPLOYEE_PENSION)
            ordinals = np.arange(first.ordinal, last.ordinal + 1, dtype=np.int64)
            try:
                b = contribution_bounds(
                    policy,
                    np.array(
                        [day_number(Month(int(m)).first_day()) for m in ordinals], dtype=np.int64
                    ),
                    np.full(len(ordinals), region),
                )
            except ParameterNotFound:
                continue
            share = rng.uniform(0, 0.5)
            for m, low, high in zip(
                ordinals.tolist(), b.floor_fen.tolist(), b.ceiling_fen.tolist(), strict=True
            ):
                base = (low + int((high - low) * share)) // 100 * 100
                ids.append(f"demo-{worker}/{Month(m)}")
                who.append(worker)
                months.append(m)
                bases.append(max(base, low))
        post_batch(
            c,
            policy,
            ContributionRows(
                ids, who, np.array(months, dtype=np.int64), np.array(bases, dtype=np.int64)
            ),
            now,
        )


OVERDUE_DAYS = 45  # a few demo moves were requested this long ago: past a 15-working-day step


def _transfers(
    engine: Engine,
    policy: Policy,
    workers: list[str],
    places: list[str],
    now: datetime,
    rng: random.Random,
) -> None:
    """Moves in every state of a transfer: most requested two days ago; a few requested
    ``OVERDUE_DAYS`` ago, so that some approved ones wait past their deadline (the
    console's overdue, first) and some never approved have expired (``expire_overdue``); a
    settlement window closed yesterday."""
    from suiren.services.settlement import close_window
    from suiren.services.transfers import (
        accept_transfer,
        approve_transfer,
        complete_transfer,
        expire_overdue,
        reject_transfer,
        request_transfer,
    )
    from suiren.services.workers import enrolment_region, relation_region
    from suiren.store.ledger_repo import lock_chain_heads

    earlier, long_ago = now - timedelta(days=2), now - timedelta(days=OVERDUE_DAYS)
    plans = [(s, earlier) for s in ("requested", "approved", "accepted", "completed",
                                    "rejected")] * 8  # fmt: skip
    plans += [("approved", long_ago), ("expired", long_ago)] * 4
    candidates = rng.sample(workers, min(len(workers), len(plans) * 3))
    for worker in candidates:
        if not plans:
            break
        with unit_of_work(engine) as c:
            region, _, temporary = enrolment_region(c, worker, Scheme.EMPLOYEE_PENSION)
        if temporary:
            continue
        target = rng.choice([p for p in places if p[:2] != region[:2]])
        state, when = plans[-1]
        transfer_id = f"demo-move-{worker}"
        try:
            with unit_of_work(engine) as c:
                # the steps of one move in one transaction (a clerk's clicks would be one
                # each): its regions locked first, in the order every writer uses
                relation = relation_region(c, worker, Scheme.EMPLOYEE_PENSION)
                lock_chain_heads(c, {region, target, relation or ""})
                request_transfer(c, policy, transfer_id, worker, target, when)
                if state in ("approved", "accepted", "completed", "rejected"):
                    approve_transfer(c, transfer_id, when, policy)
                if state == "rejected":
                    reject_transfer(c, transfer_id, when, "材料不全 documents missing (demo)")
                if state in ("accepted", "completed"):
                    accept_transfer(c, transfer_id, when, policy)
                if state == "completed":
                    complete_transfer(c, transfer_id, when, policy)
        except SuirenError:
            continue  # e.g. nothing to move: another worker takes the place
        plans.pop()
    with unit_of_work(engine) as c:
        expire_overdue(c, now)  # the requests never approved in time
    with unit_of_work(engine) as c:
        close_window(c, (now - timedelta(days=1)).date(), now)


DEMO_PLATFORM = "courier-demo"
DEMO_ENGAGED = 40  # people the demo platform declares it engages


def _engagements(
    engine: Engine,
    policy: Policy,
    vault: IdentityVault,
    mapping: list[tuple[str, str]],
    now: datetime,
) -> int:
    """The demo platform declares a few of the people, in the region that insures them, under
    each of the three relations in turn, engaged since some day of the last year."""
    from suiren.services.platforms import Relation, declare
    from suiren.services.workers import enrolment_regions

    relations = list(Relation)
    step = max(1, len(mapping) // DEMO_ENGAGED)
    engaged = 0
    for n, (rid, worker) in enumerate(mapping[::step][:DEMO_ENGAGED]):
        with unit_of_work(engine) as c:  # one declaration a transaction, as the API's
            regions = enrolment_regions(c, worker, Scheme.EMPLOYEE_PENSION)
            if regions is None:
                continue
            since = now.date() - timedelta(days=30 + 9 * n)
            relation = relations[n % len(relations)]
            declare(c, policy, vault, DEMO_PLATFORM, rid, regions[1], relation, since, now)
            engaged += 1
    return engaged


def logins_text(logins: list[dict[str, Any]]) -> str:
    """The demo's logins as the JSON of ``demo-logins.json``."""
    import json

    return json.dumps(logins, ensure_ascii=False, indent=2) + "\n"


def write_logins(path: Path, logins: list[dict[str, Any]]) -> None:
    """The demo's logins (API keys are shown once: this file is their only copy), mode 0600,
    whole or not at all (``output_files``)."""
    from suiren.services.output_files import write_private

    write_private(path, logins_text(logins))
