"""A small populated world for the API's property and authorization tests: a migrated
database with keys for every kind of actor, a few enrolled workers with paid months in two
provinces, a worker's session token, and transfers in a few states.

Who is who (the BOLA matrix names the owners of objects by these keys):

- ``national`` — the national agency (000000); ``gd`` — Guangdong (440000); ``gz`` —
  Guangzhou (440100); ``bj`` — Beijing (110000); ``hz`` — Hangzhou (330100)
- ``platform``, ``analyst``, ``auditor``: the other kinds of API key; ``ride_platform``, a
  second platform
- clerks: ``gz_clerk`` (Guangzhou), ``bj_clerk`` (Beijing), ``national_clerk`` (000000) —
  their session tokens, as ``POST /auth/token`` gives them; a clerk is the agency of their
  region to the access policy (``CLERK_OF``)
- workers: ``gz_worker`` (insured in Guangzhou, pension and medical), ``bj_worker`` (Beijing,
  pension and medical), and their session tokens ``gz_session`` and ``bj_session``
- engagements (``POST /platform/workers``): ``platform`` (courier-co) engages ``gz_worker``
  (劳动关系), ``ride_platform`` (ride-co) engages ``bj_worker`` (民事关系)
- transfers: ``gz-to-hz`` (requested, Guangzhou → Hangzhou), ``bj-to-hz`` (approved,
  Beijing → Hangzhou)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from suiren.api.auth import ActorKind, issue_key
from suiren.domain.month import Month
from suiren.ledger.accounts import Scheme
from suiren.services.clerks import add_clerk, sign_clerk_token
from suiren.services.contributions import contribute
from suiren.services.identity import token_key
from suiren.services.logins import worker_token
from suiren.services.platforms import declare
from suiren.services.transfers import approve_transfer, request_transfer
from suiren.services.workers import enrol
from suiren.store.db import make_engine, unit_of_work
from tests.api import settings_for
from tests.conftest import KEYS, NOW, SECRET
from tests.ledger_helpers import POLICY, VAULT, base_bounds_fen, resident_id
from tests.worlds import populated

TODAY = "2026-06-15"  # the service's today: NOW's day, so session tokens signed at NOW are fresh
PAID_FROM, PAID_TO = Month.of(2026, 1), Month.of(2026, 5)  # this year: no back-payment
AGENCIES = {"national": "000000", "gd": "440000", "gz": "440100", "bj": "110000", "hz": "330100"}
CLERK_OF = {"gz_clerk": "gz", "bj_clerk": "bj", "national_clerk": "national"}  # -> its agency
CLERK_PASSWORD = "a clerk's pass phrase"
OTHER_KEYS = {
    "platform": (ActorKind.PLATFORM, "courier-co"),
    "ride_platform": (ActorKind.PLATFORM, "ride-co"),
    "analyst": (ActorKind.ANALYST, ""),
    "auditor": (ActorKind.AUDITOR, ""),
}


@dataclass(frozen=True)
class World:
    """Bearer tokens by actor name, worker ids by name, transfer ids by name, and the resident
    ids enrolled (which no response or log line may show unmasked)."""

    tokens: dict[str, str]
    workers: dict[str, str]
    transfers: dict[str, str]
    resident_ids: tuple[str, ...]

    def auth(self, actor: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[actor]}"}


def _paid(
    connection: Any,
    worker_id: str,
    region: str,
    payment_id: str,
    scheme: Scheme = Scheme.EMPLOYEE_PENSION,
) -> None:
    floor_fen, _ = base_bounds_fen(region, PAID_FROM, PAID_TO)
    contribute(
        connection, POLICY, payment_id, worker_id, PAID_FROM, PAID_TO, floor_fen, NOW, scheme
    )


def populate(engine: Engine) -> World:
    """Keys, workers, months and transfers in a migrated database (one unit of work)."""
    tokens: dict[str, str] = {}
    with unit_of_work(engine) as c:
        for name, region in AGENCIES.items():
            tokens[name] = issue_key(c, ActorKind.AGENCY, region, name, NOW)[0]
        for name, (kind, scope) in OTHER_KEYS.items():
            tokens[name] = issue_key(c, kind, scope, name, NOW)[0]
        for name, agency in CLERK_OF.items():
            add_clerk(c, name.replace("_", "."), AGENCIES[agency], CLERK_PASSWORD, NOW)
        people = {"gz_worker": (resident_id(101), "440100"), "bj_worker": (resident_id(102), "110000"),
                  "gz_mover": (resident_id(103), "440100"), "bj_mover": (resident_id(104), "110000")}  # fmt: skip
        workers: dict[str, str] = {}
        for name, (person, region) in people.items():
            workers[name] = enrol(c, POLICY, VAULT, person, region, None, NOW).worker.worker_id
            _paid(c, workers[name], region, f"paid-{name}")
        for name in ("gz_worker", "bj_worker"):  # their employee medical too (职工医保)
            person, region = people[name]
            enrol(c, POLICY, VAULT, person, region, None, NOW, scheme=Scheme.EMPLOYEE_MEDICAL)
            _paid(c, workers[name], region, f"medical-{name}", Scheme.EMPLOYEE_MEDICAL)
        for (platform, relation), name in zip(
            (("courier-co", "labour"), ("ride-co", "civil")),
            ("gz_worker", "bj_worker"),
            strict=True,
        ):
            person, region = people[name]
            declare(c, POLICY, VAULT, platform, person, region, relation, None, NOW)
        request_transfer(c, POLICY, "gz-to-hz", workers["gz_mover"], "330100", NOW)
        request_transfer(c, POLICY, "bj-to-hz", workers["bj_mover"], "330100", NOW)
        approve_transfer(c, "bj-to-hz", NOW)
    signing = token_key(SECRET)
    with unit_of_work(engine) as c:  # each logged in: a token of their sessions' generation
        for name in ("gz_worker", "bj_worker"):
            session = worker_token(c, signing, workers[name], NOW)
            tokens[name.replace("_worker", "_session")] = session
    for name in CLERK_OF:
        tokens[name] = sign_clerk_token(signing, name.replace("_", "."), NOW, 0)
    return World(
        tokens,
        workers,
        {"gz-to-hz": "gz-to-hz", "bj-to-hz": "bj-to-hz"},
        tuple(person for person, _ in people.values()),
    )


@contextmanager
def served(
    database_url: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch, **settings: Any
) -> Iterator[tuple[TestClient, World, Engine]]:
    """The whole app (API, portal, console) on a populated test database of either kind: its
    client, the world, and an engine of the test's own."""
    from suiren.portal.app import create_app

    url, extra = database_url
    for name, value in extra.items():  # PGOPTIONS: the test's own PostgreSQL schema
        monkeypatch.setenv(name, value)
    engine = make_engine(url, keys=KEYS)
    made = populated(engine, populate)  # built once per test process, copied (tests/worlds.py)
    app = create_app(settings_for(url, today=TODAY, **settings))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, made, engine
    engine.dispose()
