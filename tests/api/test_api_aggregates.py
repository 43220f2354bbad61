"""Aggregates for analysts (``GET /aggregates/regions``), on both databases: the figures of a
region add up to what its workers paid (reversed months left out) and what their accounts
hold; a region resting on fewer than five people is withheld; only an analyst and the
national agency may ask, everyone else gets the 404 of an unknown resource."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from suiren.api.app import create_app
from suiren.api.auth import ActorKind, issue_key
from suiren.domain.month import Month
from suiren.services.aggregates import SMALL_CELL
from suiren.services.contributions import contribute
from suiren.services.reversals import reverse
from suiren.services.workers import enrol
from suiren.store.db import make_engine, unit_of_work
from tests.api import assert_problem, auth, settings_for
from tests.conftest import KEYS, NOW
from tests.ledger_helpers import POLICY, VAULT, base_bounds_fen, resident_id

PATH = "/api/v1/aggregates/regions"


@pytest.fixture
def api(database_url: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Six Guangzhou workers paying 2026-01..03 (one month of one reversed), one Beijing
    worker paying 2026-01; keys of every kind."""
    url, extra = database_url
    for name, value in extra.items():
        monkeypatch.setenv(name, value)
    engine = make_engine(url, keys=KEYS)
    paid: list[Any] = []
    with unit_of_work(engine) as c:
        keys = {
            "analyst": issue_key(c, ActorKind.ANALYST, "", "a", NOW)[0],
            "auditor": issue_key(c, ActorKind.AUDITOR, "", "u", NOW)[0],
            "platform": issue_key(c, ActorKind.PLATFORM, "courier-co", "p", NOW)[0],
            "national": issue_key(c, ActorKind.AGENCY, "000000", "n", NOW)[0],
            "gz": issue_key(c, ActorKind.AGENCY, "440100", "g", NOW)[0],
        }
        floor = base_bounds_fen("440100", Month.of(2026, 1), Month.of(2026, 3))[0]
        for n in range(6):
            w = enrol(c, POLICY, VAULT, resident_id(200 + n), "440100", None, NOW).worker
            paid += contribute(c, POLICY, f"p{n}", w.worker_id, Month.of(2026, 1),
                               Month.of(2026, 3), floor + 100 * n, NOW)  # fmt: skip
        reverse(c, paid[0].tx_id, "undo-0", NOW, "paid twice")
        lone = enrol(c, POLICY, VAULT, resident_id(300), "110000", None, NOW).worker
        floor_bj = base_bounds_fen("110000", Month.of(2026, 1), Month.of(2026, 1))[0]
        contribute(c, POLICY, "bj", lone.worker_id, Month.of(2026, 1), Month.of(2026, 1),
                   floor_bj, NOW)  # fmt: skip
    with TestClient(create_app(settings_for(url, today="2026-06-15"))) as client:
        yield client, keys, paid[1:]  # the months that stand
    engine.dispose()


def test_a_region_adds_up_and_a_small_one_is_withheld(api) -> None:
    client, keys, standing = api
    answer = client.get(PATH, params={"year": 2026}, headers=auth(keys["analyst"]))
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["year"] == 2026 and data["small_cell"] == SMALL_CELL == 5
    rows = {(r["region"], r["scheme"]): r for r in data["regions"]}
    gz = rows[("440100", "employee_pension")]
    assert not gz["withheld"]
    assert (gz["workers_insured"], gz["workers_paid"], gz["months_paid"]) == (6, 6, 17)
    assert gz["due_fen"] == sum(m.due_fen for m in standing)
    assert gz["individual_account_fen"] == sum(m.individual_account_fen for m in standing)
    assert gz["pooled_fen"] == sum(m.pooled_fen for m in standing)
    assert gz["balances_fen"]["individual_account"] == gz["individual_account_fen"]
    bj = rows[("110000", "employee_pension")]
    assert bj == {"region": "110000", "scheme": "employee_pension", "withheld": True}
    assert "due_fen" not in answer.text.split('"110000"', 1)[1].split("}", 1)[0]
    totals = {t["scheme"]: t for t in data["totals"]}["employee_pension"]
    assert (totals["workers_insured"], totals["months_paid"]) == (7, 18)
    other_year = client.get(PATH, params={"year": 2025}, headers=auth(keys["analyst"])).json()
    gz_2025 = {(r["region"], r["scheme"]): r for r in other_year["regions"]}[
        ("440100", "employee_pension")
    ]
    assert (gz_2025["months_paid"], gz_2025["workers_paid"]) == (0, 0)
    assert client.get(PATH, headers=auth(keys["national"])).json()["year"] == 2026  # today's


def test_only_an_analyst_or_the_national_agency_may_ask(api) -> None:
    client, keys, _ = api
    unknown = assert_problem(
        client.get("/api/v1/transfers/no-such", headers=auth(keys["platform"])), 404, "not-found"
    )
    for who in ("auditor", "platform", "gz"):
        refused = assert_problem(client.get(PATH, headers=auth(keys[who])), 404, "not-found")
        assert refused["title"] == unknown["title"]
    assert_problem(client.get(PATH), 401, "unauthorized")
    assert_problem(
        client.get(PATH, params={"year": 1800}, headers=auth(keys["analyst"])),
        422,
        "invalid-request",
    )
