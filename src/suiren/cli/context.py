"""What every database command needs, built once at the edge: settings, engine, policy."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Any, TypeVar

from suiren.domain.errors import InvalidInput, Retry, SuirenError
from suiren.domain.messages import Text, quoted
from suiren.domain.messages import text as message

if TYPE_CHECKING:  # imported where used: a command that needs no database loads none of it
    from sqlalchemy import Connection, Engine

    from suiren.policy import Policy
    from suiren.services.identity import IdentityVault
    from suiren.settings import Settings

T = TypeVar("T")
_BUILT: list[Context] = []


def dispose_all() -> None:
    """Close the database connections of every context built by this command."""
    while _BUILT:
        _BUILT.pop().dispose()


def _said(error: Mapping[str, Any]) -> Text:
    """Why a setting was refused: a check of settings.py's own in both languages, pydantic's
    own words (in English) quoted."""
    from suiren.settings import SettingRefused

    refused = error.get("ctx", {}).get("error")
    return refused.said if isinstance(refused, SettingRefused) else quoted(error["msg"])


class DatabaseNotReady(SuirenError):
    code = "database-not-ready"


ATTEMPTS_MAX = 3  # a unit of work refused as stale (``Retry``) is run again this often
# PostgreSQL ended the unit of work so that another could go on (a deadlock between two
# writers, a serialisation failure): it wrote nothing, and run again it may well succeed
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})


def transient(error: BaseException) -> bool:
    """Whether ``error`` is the database giving up a unit of work that may be run again."""
    from sqlalchemy.exc import DBAPIError

    return (
        isinstance(error, DBAPIError)
        and getattr(error.orig, "sqlstate", None) in TRANSIENT_SQLSTATES
    )


@dataclass
class Context:
    settings: Settings
    policy: Policy
    _engine: Engine | None = None
    _secret: bytes | None = None

    @classmethod
    def build(cls) -> Context:
        from pydantic import ValidationError

        from suiren.policy import load_policy
        from suiren.settings import Settings

        try:
            settings = Settings()
        except ValidationError as error:
            first = error.errors()[0]
            name = (
                "SUIREN_" + str(first["loc"][0]).upper()
                if first["loc"]
                else message("settings.some-variable")
            )
            raise InvalidInput(
                message("settings.unusable", name=name, error=_said(first))
            ) from None
        context = cls(settings, load_policy(settings.scenario))
        _BUILT.append(context)
        return context

    @property
    def engine(self) -> Engine:
        """The database, with the ledger's keys (the key is checked on every unit of work)."""
        if self._engine is None:
            from suiren.services.identity import ledger_keys
            from suiren.store.db import make_engine

            self._engine = make_engine(self.settings.database_url, keys=ledger_keys(self.secret()))
        return self._engine

    def secret(self) -> bytes:
        if self._secret is None:
            self._secret = self.settings.secret()
        return self._secret

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    def now(self) -> datetime:
        if self.settings.today is not None:
            return datetime.combine(self.settings.today, time(12, 0), tzinfo=UTC)
        return datetime.now(UTC)

    def vault(self) -> IdentityVault:
        from suiren.services.identity import IdentityVault

        return IdentityVault.from_secret(self.secret())

    def _ready(self) -> None:
        from sqlalchemy import inspect

        if not inspect(self.engine).has_table("ledger_meta"):
            raise DatabaseNotReady(message("db.not-ready"))

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One unit of work (the key checked first); committed if the block succeeds."""
        from suiren.store.db import unit_of_work

        self._ready()
        with unit_of_work(self.engine) as connection:
            yield connection

    def run(self, work: Callable[[Connection], T]) -> T:
        """``work`` in one unit of work, run again (up to ``ATTEMPTS_MAX``) if a concurrent
        change made it stale or the database gave it up for another writer (a deadlock:
        ``transient``): nothing was written by the attempt that was refused."""
        from suiren.store.db import unit_of_work

        self._ready()
        for attempt in range(1, ATTEMPTS_MAX + 1):
            try:
                with unit_of_work(self.engine) as connection:
                    return work(connection)
            except Exception as error:
                if attempt == ATTEMPTS_MAX or not (isinstance(error, Retry) or transient(error)):
                    raise
        raise AssertionError("unreachable")


def emit(payload: Any, as_json: bool, human: str) -> None:
    if as_json:
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n")
    else:
        sys.stdout.write(human.rstrip("\n") + "\n")


def said(zh: str, en: str) -> str:
    """What a command says on the terminal: a Chinese line, then its English line with the
    same ids, months and amounts (``--json`` has the fields; tests/bilingual.py
    ``line_problems`` is the check)."""
    return f"{zh}\n{en}"


def named(codes: Mapping[str, str], value: str) -> str:
    """A recorded value's Chinese name: ``codes`` maps each value to its catalogue code
    (``domain.messages``); a value without one is shown as it is."""
    code = codes.get(value)
    return value if code is None else message(code).zh


# a worker's account's kind (``ledger.accounts.AccountKind``): its name's code
ACCOUNT_KINDS = {
    "individual_account": "account-kind.individual-account",
    "pooled_entitlement": "account-kind.pooled-entitlement",
}


def balance_lines(balances: Iterable[Mapping[str, Any]]) -> list[str]:
    """A worker's balances (``services.statement``: ``kind``, ``region``, ``balance_fen``),
    each its Chinese line, then its English line (a kind without a name: its value)."""
    from suiren.domain.money import fen_to_yuan_str

    lines = []
    for b in balances:
        code, amount = ACCOUNT_KINDS.get(b["kind"]), fen_to_yuan_str(b["balance_fen"])
        name = Text(b["kind"], b["kind"]) if code is None else message(code)
        zh, en = name.zh, name.en
        lines.append(said(f"  {zh} {b['region']} {amount}", f"  {en} {b['region']} {amount}"))
    return lines


def note_lines(said: Iterable[tuple[str, str]], indent: str = "  ") -> list[str]:
    """Each note (its Chinese, its English) as a Chinese line, then its English line."""
    return [line for zh, en in said for line in (f"{indent}注意：{zh}", f"{indent}note: {en}")]


def warning_lines(warnings: Iterable[dict[str, Any]], indent: str = "  ") -> list[str]:
    """Each warning of a result (``message_zh``, ``message_en``: ``services.provisional``) as
    its note lines: Chinese, then English."""
    return note_lines(((w["message_zh"], w["message_en"]) for w in warnings), indent)
