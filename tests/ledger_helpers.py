"""Helpers for ledger tests: a policy, a vault, enrolled workers, valid resident ids."""

from __future__ import annotations

from sqlalchemy import Engine

from suiren.domain.resident_id import check_character
from suiren.policy import load_policy
from suiren.services.identity import IdentityVault
from suiren.services.workers import enrol
from suiren.store.db import unit_of_work
from tests.conftest import NOW

POLICY = load_policy()
VAULT = IdentityVault.from_secret(b"k" * 32)


def resident_id(n: int, born: str = "19900101", male: bool = True) -> str:
    """A valid id: Guangzhou address code, the birth date, a sequence of the right parity."""
    sequence = (n % 500) * 2 + (1 if male else 0)
    first17 = f"440106{born}{sequence:03d}"
    return first17 + check_character(first17)


def enrol_workers(engine: Engine, count: int, region: str = "440100", start: int = 0) -> list[str]:
    ids = []
    with unit_of_work(engine) as connection:
        for n in range(start, start + count):
            born = f"19{70 + n // 500 % 30:02d}0101"
            result = enrol(connection, POLICY, VAULT, resident_id(n, born), region, None, NOW)
            ids.append(result.worker.worker_id)
    return ids
