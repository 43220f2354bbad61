"""What every database command needs, built once at the edge: settings, engine, policy."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import Connection, Engine, inspect

from suiren.domain.errors import InvalidInput, SuirenError
from suiren.domain.money import yuan_to_fen
from suiren.domain.month import Month
from suiren.policy import Policy, load_policy
from suiren.services.identity import IdentityVault
from suiren.settings import Settings
from suiren.store.db import make_engine, unit_of_work


class DatabaseNotReady(SuirenError):
    code = "database-not-ready"


@dataclass
class Context:
    settings: Settings
    engine: Engine
    policy: Policy

    @classmethod
    def build(cls) -> Context:
        settings = Settings()
        return cls(settings, make_engine(settings.database_url), load_policy(settings.scenario))

    def now(self) -> datetime:
        if self.settings.today is not None:
            return datetime.combine(self.settings.today, time(12, 0), tzinfo=UTC)
        return datetime.now(UTC)

    def vault(self) -> IdentityVault:
        return IdentityVault.from_secret(self.settings.secret())

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        if not inspect(self.engine).has_table("journal"):
            raise DatabaseNotReady(
                "the database has no ledger tables yet; run `suiren db upgrade` first"
            )
        with unit_of_work(self.engine) as connection:
            yield connection


def emit(payload: Any, as_json: bool, human: str) -> None:
    if as_json:
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n")
    else:
        sys.stdout.write(human.rstrip("\n") + "\n")


def payment(month_from: str, month_to: str | None, base: str) -> tuple[Month, Month, int]:
    """(first month, last month, base in fen) of a contribution command's options."""
    first = Month.parse(month_from)
    last = Month.parse(month_to) if month_to else first
    base_fen = yuan_to_fen(base, what="--base")
    if base_fen <= 0:
        raise InvalidInput("--base must be a positive amount")
    return first, last, base_fen
