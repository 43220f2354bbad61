"""A worker's earlier history, migrated from an agency's old system (历史缴费记录迁移).

A province that adopts Suiren holds decades of records: where each worker paid, at what base
or index, their deemed years (视同缴费年限), temporary-account periods (临时基本养老保险缴费
账户) and individual-account balances. ``suiren worker import-history`` takes them from a
stints file and an optional balances file, and records them in the ledger as opening
entries (code ``opening``) that every rule reads like months paid through Suiren
(``store.lines.paid_months``): the paying province, temporary accounts and their gathering,
transfer amounts, interest and the pension estimate.

**The stints file** (CSV or Parquet, one row per stint): ``resident_id``, ``region`` (GB/T
2260, province or city), ``from_month`` and ``to_month`` (YYYY-MM, inclusive), ``kind``
(``paid``, ``deemed`` or ``temporary``); optionally ``scheme`` (default employee_pension),
``base_yuan`` (the monthly base as recorded) and/or ``index`` (the yearly contribution index
as recorded, up to six decimals), ``hukou_region`` (per worker: every row that gives it
agrees), and ``sex`` (M/F, 男/女) and ``birth_month`` (YYYY-MM), which are checked against the
resident id and the registry. A paid or temporary stint has a base or an index; a deemed
stint has no base. The rows of one person are consecutive (sort the file by resident id):
a file of any size is read in bounded memory.

**The balances file**: ``resident_id``, ``region``, ``account_yuan``, ``as_of``
(YYYY-12-31: the balance at a year's end, after that year's interest, as agencies close
their books — 记账年度末); optionally ``scheme``. Each is credited to the worker's individual
account in that region as of the next 1 January, carried as prior balance (it earns that
year's whole rate, 年度计息法), and any year the region's yearly interest run has already
done is caught up on arrival. A paid month after the balance's year end in the region that
holds it would carry money the balance does not: it is refused (pay it through Suiren).

**What is recorded.** Per worker and region that holds records, one opening entry
``history/{file hash}/{worker}/{region}`` in that region's journal: the stints as facts
(``history_stints``), the individual-account balance, and the pooled entitlement of the
paid months held there (each month's base × the pooled share of the flexible rate in force
then, 20% − 8% since 2006; before 2006, where Suiren has no flexible rate, the 12% share
that 国办发〔2009〕66号 carries since 1998; nothing for months before 1998), with the
crediting-rate interest of the years Suiren has a rate for, against the region's opening
account (期初, negative by design). A new person is enrolled on the way (one person, one
worker) where the last stint was, paying into a temporary account if that stint was one,
with the relation in the region of the last stint that was not.

**Where a record is held.** A temporary stint where it was paid (the account is sealed
there until it is gathered at retirement); another stint in its own region if the balances
file has a balance there (the relation never moved), else where the relation is now (the
region of the worker's last non-temporary stint, or an enrolled worker's relation): a record
travels with the relation (66号 第四条).

**Accepted as recorded.** A base outside today's bounds or in a month before Suiren's
parameters is kept, with a flag (``base_out_of_bounds``, ``before_parameters``); an index
without a base is used as the index (``index_only``).

**Conflicts are reported, never merged.** Two stints of one person covering the same month
(重复缴费: 人社部发〔2009〕187号 附件 第三条 — the agency and the worker agree which relation
is kept, the other's account is refunded and its years are not counted twice; the receiving
agency clears it, 先转后清, 2010 若干具体问题意见 第十条): by default the stint in the
province where the relation ends up is kept, else the earlier row; the other is refused and
its reason names the kept one. A month
already paid through Suiren or imported from another file, a worker whose hukou, sex or
birth month disagrees with the registry or with the resident id — each refuses its rows,
with the row, field and reason. A person's rows are imported together or not at all.

**Running it again.** The stints file names the import: its entries are
``history/{the file's SHA-256}/…``, and running the same file again replays the people it
recorded and imports the rest; each batch of workers is one database transaction (``run``),
so a kill at any moment loses and duplicates nothing. A person's content is their stints
(the same file: the same rows) and their balance rows: each opening entry's memo names the
file and a digest of the person's balances as recorded (``no balances`` if none). A replay
is a person whose recorded balances are the ones given now. A person recorded with other
balances — another balances file, a changed row, ``--balances`` left out or added — is a
conflict (``HistoryConflict``), as the same id with other content is everywhere in the
ledger: the command checks every person the import recorded before it writes anything
(``replay_conflicts``), names each one that differs and writes nothing; ``import_people``
checks again under the person's lock. People the first run refused recorded nothing: their
corrected balance rows are taken. A recorded balance is never changed by importing again,
and a corrected stints file is another import (whose months already recorded are refused).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, select

from suiren.domain.errors import ParameterNotFound, SuirenError
from suiren.domain.messages import Text, join_texts
from suiren.domain.messages import text as message
from suiren.domain.money import divide_round
from suiren.domain.month import YEAR_MAX, YEAR_MIN, Month
from suiren.domain.region import RegionCode, default_registry
from suiren.domain.resident_id import ResidentId
from suiren.ledger.accounts import Scheme, individual_account, opening, pooled_entitlement
from suiren.ledger.transaction import Fact, Posting, Transaction, TxCode
from suiren.policy import Policy
from suiren.policy.contribution import contribution_bounds
from suiren.policy.interest import interest_for
from suiren.rules.vector import day_number
from suiren.services.identity import IdentityVault
from suiren.services.intake import (
    BASE_YUAN_MAX_DIGITS,
    Chunk,
    FileRefused,
    RowError,
    decimal_text,
    read_chunks,
    refused_row,
    scheme_refused,
)
from suiren.services.interest import catch_up
from suiren.services.workers import (
    by_blind_index,
    enrolled_in,
    lock_people,
    new_worker_id,
    worker_registration,
)
from suiren.store.ledger_repo import lock_chain_head, lock_chain_heads, post_transactions
from suiren.store.lines import paid_months
from suiren.store.projections import fact
from suiren.store.tables import enrolments, history_stints, interest_carry, journal

STINT_COLUMNS = (
    "resident_id",
    "region",
    "from_month",
    "to_month",
    "kind",
    "scheme",
    "base_yuan",
    "index",
    "hukou_region",
    "sex",
    "birth_month",
)
STINT_REQUIRED = ("resident_id", "region", "from_month", "to_month", "kind")
BALANCE_COLUMNS = ("resident_id", "region", "account_yuan", "as_of", "scheme")
BALANCE_REQUIRED = ("resident_id", "region", "account_yuan", "as_of")
KINDS = ("paid", "deemed", "temporary")
SCHEMES = (Scheme.EMPLOYEE_PENSION, Scheme.EMPLOYEE_MEDICAL)
WORKERS_PER_UNIT = 2_000  # people per database transaction
STINTS_PER_PERSON_MAX = 600  # fifty years of monthly rows
INDEX_MAX = Decimal(10)
BASE_FEN_MAX = 100_000_000  # 1,000,000 yuan a month: far above any ceiling, never a base
FIRST_MONTH = Month.of(1950, 1)  # the earliest month an old system records
ADULT_MONTHS = 16 * 12  # 劳动法 第十五条: no work before 16
POOLED_SINCE = Month.of(1998, 1)  # 国发〔1997〕26号: the unified system and its accounts
_MONTH_RE = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])\Z")
_YUAN_RE = re.compile(rf"[0-9]{{1,{BASE_YUAN_MAX_DIGITS}}}(\.[0-9]{{1,2}})?\Z")
_INDEX_RE = re.compile(r"[0-9]{1,2}(\.[0-9]{1,6})?\Z")
_DATE_RE = re.compile(r"[0-9]{4}-12-31\Z")
_SEX = {"M": "M", "F": "F", "男": "M", "女": "F", "1": "M", "2": "F"}


@dataclass(frozen=True)
class Stint:
    row: int
    region: str
    kind: str
    first: Month
    last: Month
    scheme: Scheme
    base_fen: int | None
    index_1e6: int | None
    held_region: str = ""
    flags: tuple[str, ...] = ()

    def months(self) -> range:
        return range(self.first.ordinal, self.last.ordinal + 1)

    def overlaps(self, first: int, last: int) -> bool:
        return self.first.ordinal <= last and first <= self.last.ordinal

    def label(self) -> Text:
        return message(
            "history.stint",
            row=self.row,
            region=self.region,
            first=self.first,
            last=self.last,
            kind=self.kind,
        )


@dataclass(frozen=True)
class Balance:
    row: int
    region: str
    scheme: Scheme
    account_fen: int
    as_of: date


@dataclass
class Person:
    resident_id: str
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    scattered: bool = False  # seen before, after another person's rows: refused


@dataclass
class HistorySummary:
    rows: int = 0
    people: int = 0
    enrolled: int = 0  # new workers registered on the way
    imported: int = 0  # stints recorded now
    replayed: int = 0  # stints recorded by an earlier run of the same file
    refused: int = 0
    months_by_kind: dict[str, int] = field(default_factory=dict)
    account_fen: int = 0
    entitlement_fen: int = 0
    flags: dict[str, int] = field(default_factory=dict)
    # years whose crediting rate Suiren lacks: the entitlement earned no interest in them
    years_without_rate: set[int] = field(default_factory=set)
    mapping: list[tuple[str, str]] = field(default_factory=list)  # (resident id, worker id)
    errors: list[RowError] = field(default_factory=list)

    def add(self, other: HistorySummary) -> None:
        for name in ("rows", "people", "enrolled", "imported", "replayed", "refused"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.account_fen += other.account_fen
        self.entitlement_fen += other.entitlement_fen
        for mine, theirs in ((self.months_by_kind, other.months_by_kind),
                             (self.flags, other.flags)):  # fmt: skip
            for key, value in theirs.items():
                mine[key] = mine.get(key, 0) + value
        self.mapping += other.mapping
        self.errors += other.errors
        self.years_without_rate |= other.years_without_rate

    def to_json(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "people": self.people,
            "entitlement_interest_not_counted_for_years": sorted(self.years_without_rate),
            "enrolled": self.enrolled,
            "imported": self.imported,
            "replayed": self.replayed,
            "refused": self.refused,
            "months_by_kind": dict(sorted(self.months_by_kind.items())),
            "account_fen": self.account_fen,
            "entitlement_fen": self.entitlement_fen,
            "flags": dict(sorted(self.flags.items())),
            "errors": [e.to_json() for e in self.errors],
        }


NO_BALANCES = "no balances"
CONFLICTS_SHOWN = 5  # people named in a conflict's message; the count says how many in all


class HistoryConflict(SuirenError):
    """The stints file was imported before and recorded other balances for people in it."""

    code = "history-conflict"

    @classmethod
    def of(cls, import_id: str, differences: list[Text]) -> HistoryConflict:
        more = len(differences) - CONFLICTS_SHOWN
        n = len(differences)
        return cls(
            message(
                "history.conflict",
                file=import_id[:16],
                people=Text(f"{n} 人", f"{n} {'person' if n == 1 else 'people'}"),
                shown=join_texts(differences[:CONFLICTS_SHOWN]),
                more=message("history.conflict-more", more=more) if more > 0 else Text("", ""),
            ),
            field="balances",
        )


def history_memo(import_id: str, balances: list[Balance]) -> str:
    """The memo of a person's opening entries: the stints file and the person's balances as
    recorded (a digest of region, scheme, amount and date; ``no balances``). Balance rows
    that are refused have none: they match nothing recorded."""
    if not balances:
        return f"history imported from file {import_id[:16]}, {NO_BALANCES}"
    canonical = "\n".join(
        sorted(f"{b.region},{b.scheme.value},{b.account_fen},{b.as_of}" for b in balances)
    )
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:16]
    return f"history imported from file {import_id[:16]}, balances {digest}"


def _difference(who: Text, recorded: str, rows: list[int]) -> Text:
    """One person whose balances differ from what was recorded, in words."""
    numbers = Text("、".join(str(n) for n in rows), ", ".join(str(n) for n in rows))
    if recorded.endswith(NO_BALANCES):
        return message(
            "history.no-balance-recorded",
            who=who,
            rows=message("history.row" if len(rows) == 1 else "history.rows", rows=numbers),
        )
    if not rows:
        return message("history.no-balance-given", who=who)
    code = "history.balance-differs" if len(rows) == 1 else "history.balances-differ"
    return message(code, who=who, rows=numbers)


def _recorded_memos(connection: Connection, prefix: str) -> dict[str, str]:
    """worker id -> the memo of their opening entries named under ``prefix`` (letters,
    digits and ``/`` only: no LIKE wildcard in it)."""
    query = select(journal.c.worker_id, journal.c.memo).where(
        journal.c.tx_id.like(prefix + "%"), journal.c.code == TxCode.OPENING.value
    )
    return {row.worker_id: row.memo for row in connection.execute(query)}


def replay_conflicts(
    connection: Connection,
    vault: IdentityVault,
    import_id: str,
    balances: dict[str, list[tuple[int, dict[str, str]]]],
    today: date,
) -> list[Text]:
    """Every person this stints file recorded before whose balances differ from those given
    now (``balances``: ``read_balances``), in words; empty for a first run or a replay. Run
    before anything is written, so that a conflict found in a late batch leaves the earlier
    ones unwritten too."""
    recorded = _recorded_memos(connection, f"history/{import_id[:16]}/")
    if not recorded:
        return []
    indexes: dict[str, str] = {}
    for key in balances:
        try:
            indexes[key] = vault.blind_index(ResidentId.parse(key).number)
        except SuirenError:
            continue  # not a resident id: nobody recorded
    known = by_blind_index(connection, list(indexes.values()))
    differences: list[tuple[str, Text]] = []
    given: set[str] = set()
    for key, rows in balances.items():
        row = known.get(indexes.get(key, ""))
        if row is None or row.worker_id not in recorded:
            continue
        given.add(row.worker_id)
        found, errors = _balances(rows, today)
        memo = recorded[row.worker_id]
        if errors or memo != history_memo(import_id, found):
            numbers = [n for n, _ in rows]
            differences.append((row.worker_id, _difference(_who(row.worker_id), memo, numbers)))
    none = history_memo(import_id, [])
    differences += [
        (worker_id, _difference(_who(worker_id), memo, []))
        for worker_id, memo in recorded.items()
        if worker_id not in given and memo != none
    ]
    return [said for _, said in sorted(differences, key=lambda d: d[0])]


def _who(worker_id: str) -> Text:
    return message("history.worker", worker=worker_id)


class _Refused(Exception):
    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(errors[0].reason if errors else "refused")  # never shown: caught
        self.errors = errors


# reading -------------------------------------------------------------------------------


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _texts(chunk: Chunk, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """The chunk's rows as text (a Parquet column of numbers is read as its decimal text;
    binary floats are refused: they cannot say which decimal amount they mean)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = chunk.table
    values: dict[str, list[Any]] = {}
    for name in columns:
        if name not in table.column_names:
            continue
        column = table.column(name).combine_chunks()
        if pa.types.is_floating(column.type):
            raise FileRefused(message("file.column-floats", name=name))
        if pa.types.is_decimal(column.type):  # decimal(18,4): "5000.5000" is 5000.50
            column = decimal_text(column)
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            try:
                column = column.cast(pa.string())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise FileRefused(
                    message("file.column-not-text", name=name, kind=column.type)
                ) from None
        values[name] = pc.utf8_trim_whitespace(column).to_pylist()
    n = table.num_rows
    return [{k: (v[i] or "") for k, v in values.items()} for i in range(n)]


def person_key(text: str) -> str:
    """The person a resident id names, in one spelling: a 15-digit first-generation number
    and its 18-digit form, lower-case x or spaces are one person (else two groups of rows of
    one person would be taken for two, or the second for a replay of the first)."""
    raw = text.upper().replace(" ", "")
    try:
        return ResidentId.parse(raw).number
    except SuirenError:
        return raw  # refused with its reason when the person is checked


def people(path: Path, chunk_rows: int) -> Iterator[list[Person]]:
    """The stints file's people, a unit of work at a time (about ``chunk_rows`` rows, at most
    ``WORKERS_PER_UNIT`` people; a person is never split); a person's rows are consecutive
    (a person seen again after another is refused, not merged). Only the set of people
    seen is kept (a short hash each), not their rows."""
    seen: set[bytes] = set()
    current: Person | None = None
    unit: list[Person] = []
    rows = 0
    for chunk in read_chunks(path, STINT_COLUMNS, STINT_REQUIRED, chunk_rows):
        for offset, row in enumerate(_texts(chunk, STINT_COLUMNS)):
            number = chunk.first_row + offset
            key = person_key(row["resident_id"])
            if current is not None and key == current.resident_id:
                current.rows.append((number, row))
                continue
            if current is not None:
                unit.append(current)
                rows += len(current.rows)
                if len(unit) >= WORKERS_PER_UNIT or rows >= chunk_rows:
                    yield unit
                    unit, rows = [], 0
            digest = hashlib.blake2b(key.encode(), digest_size=12).digest()
            current = Person(key, [(number, row)], scattered=digest in seen)
            seen.add(digest)
    if current is not None:
        unit.append(current)
    if unit:
        yield unit


def read_balances(path: Path) -> tuple[dict[str, list[tuple[int, dict[str, str]]]], int]:
    """resident id -> its balance rows (the balances file is read whole: a row per person
    and region), and the number of rows."""
    found: dict[str, list[tuple[int, dict[str, str]]]] = {}
    total = 0
    for chunk in read_chunks(path, BALANCE_COLUMNS, BALANCE_REQUIRED, 100_000):
        for offset, row in enumerate(_texts(chunk, BALANCE_COLUMNS)):
            total += 1
            key = person_key(row["resident_id"])
            found.setdefault(key, []).append((chunk.first_row + offset, row))
    return found, total


def refused_rows(errors: list[RowError]) -> int:
    """Rows refused, in either file (a row with several reasons counts once)."""
    return len({(e.row, e.field.startswith("balances.")) for e in errors})


def unmatched_balances(
    balances: dict[str, list[tuple[int, dict[str, str]]]], seen: set[str]
) -> list[RowError]:
    """Balance rows of people the stints file does not name: refused, not dropped."""
    return [
        RowError(
            number,
            "balances.resident_id",
            "no-stints",
            message("history.balance-without-stints"),
        )
        for key, rows in balances.items()
        if key not in seen
        for number, _ in rows
    ]


# checking ------------------------------------------------------------------------------


def _month(text: str, row: int, name: str, errors: list[RowError]) -> Month | None:
    """The month, or None and the row's reason: a month of the form that no calendar of
    Suiren's holds (0000-01, 9999-12) is this row's refusal, not the file's."""
    if not _MONTH_RE.match(text):
        errors.append(RowError(row, name, "invalid-month", message("row.month-form")))
        return None
    try:
        return Month.parse(text)
    except SuirenError as error:
        errors.append(RowError(row, name, "invalid-month", error.said))
        return None


def _fen(text: str, row: int, name: str, errors: list[RowError], positive: bool) -> int | None:
    if not _YUAN_RE.match(text):
        errors.append(
            RowError(
                row,
                name,
                "invalid-amount",
                message("row.amount-form", digits_max=BASE_YUAN_MAX_DIGITS),
            )
        )
        return None
    fen = int(Decimal(text) * 100)
    if positive and fen <= 0:
        errors.append(RowError(row, name, "invalid-amount", message("row.amount-positive")))
        return None
    return fen


def _region(text: str, row: int, name: str, errors: list[RowError]) -> str | None:
    try:
        return RegionCode.parse(text).code
    except SuirenError as error:
        errors.append(RowError(row, name, "unknown-region", error.said))
        return None


def _scheme(text: str, row: int, errors: list[RowError]) -> Scheme | None:
    if not text:
        return Scheme.EMPLOYEE_PENSION
    if text not in {s.value for s in SCHEMES}:
        errors.append(RowError(row, "scheme", "invalid-scheme", scheme_refused(SCHEMES)))
        return None
    return Scheme(text)


def _stint(row: int, values: dict[str, str], errors: list[RowError]) -> Stint | None:
    before = len(errors)
    region = _region(values["region"], row, "region", errors)
    first = _month(values["from_month"], row, "from_month", errors)
    last = _month(values["to_month"], row, "to_month", errors)
    kind = values["kind"].lower()
    if kind not in KINDS:
        kinds = Text("、".join(KINDS), ", ".join(KINDS))
        errors.append(RowError(row, "kind", "invalid-kind", message("history.kind", kinds=kinds)))
    scheme = _scheme(values.get("scheme", ""), row, errors)
    base = index = None
    if values.get("base_yuan"):
        base = _fen(values["base_yuan"], row, "base_yuan", errors, positive=True)
        if base is not None and base > BASE_FEN_MAX:
            errors.append(
                RowError(
                    row,
                    "base_yuan",
                    "invalid-amount",
                    message(
                        "history.base-too-large",
                        base=values["base_yuan"],
                        most=f"{BASE_FEN_MAX // 100:,}",
                    ),
                )
            )
            base = None
    if values.get("index"):
        text = values["index"]
        if not _INDEX_RE.match(text) or not Decimal(0) < Decimal(text) <= INDEX_MAX:
            errors.append(
                RowError(
                    row,
                    "index",
                    "invalid-index",
                    message("history.index-form", most=INDEX_MAX),
                )
            )
        else:
            index = int(Decimal(text) * 10**6)
    if kind == "deemed" and values.get("base_yuan"):
        errors.append(
            RowError(
                row,
                "base_yuan",
                "deemed-with-base",
                message("history.deemed-with-base"),
            )
        )
    if kind in ("paid", "temporary") and not values.get("base_yuan") and not values.get("index"):
        errors.append(RowError(row, "base_yuan", "no-base", message("history.no-base")))
    if first is not None and last is not None and first > last:
        errors.append(
            RowError(row, "to_month", "invalid-period", message("history.period-reversed"))
        )
    if len(errors) > before:
        return None
    assert region and first and last and scheme
    return Stint(row, region, kind, first, last, scheme, base, index)


def _person(
    person: Person, today: date, errors: list[RowError]
) -> tuple[ResidentId, str | None, list[Stint]] | None:
    """The person's checked id, hukou and stints; None (and the reasons) if any row is bad:
    a person's rows are imported together or not at all."""
    rows = person.rows
    first_row = rows[0][0]
    if person.scattered:
        errors += [
            RowError(
                number,
                "resident_id",
                "not-consecutive",
                message("history.not-consecutive"),
            )
            for number, _ in rows
        ]
        return None
    if len(rows) > STINTS_PER_PERSON_MAX:
        errors.append(
            RowError(
                first_row,
                "resident_id",
                "too-many",
                message("history.too-many-stints", most=STINTS_PER_PERSON_MAX),
            )
        )
        return None
    try:
        rid = ResidentId.parse(person.resident_id, today=today)
    except SuirenError as error:
        errors += [RowError(n, "resident_id", "invalid-resident-id", error.said) for n, _ in rows]
        return None
    before = len(errors)
    stints = [s for number, values in rows if (s := _stint(number, values, errors))]
    hukous = {v.get("hukou_region", "") for _, v in rows} - {""}
    hukou = None
    if len(hukous) > 1:
        errors.append(
            RowError(first_row, "hukou_region", "conflict", message("history.hukou-differs"))
        )
    elif hukous:
        hukou = _region(hukous.pop(), first_row, "hukou_region", errors)
    for number, values in rows:
        sex = values.get("sex", "")
        if sex and _SEX.get(sex.upper() if sex.isascii() else sex) != rid.sex:
            errors.append(
                RowError(
                    number,
                    "sex",
                    "registry-conflict",
                    message("history.sex-differs"),
                )
            )
        birth = values.get("birth_month", "")
        if birth and _month(birth, number, "birth_month", []) != rid.birth_month:
            errors.append(
                RowError(
                    number,
                    "birth_month",
                    "registry-conflict",
                    message("history.birth-differs"),
                )
            )
    now = Month.from_date(today)
    for s in stints:
        if s.first < FIRST_MONTH or s.last >= now:
            errors.append(
                RowError(
                    s.row,
                    "to_month" if s.last >= now else "from_month",
                    "invalid-period",
                    message("history.period-range", first=FIRST_MONTH, last=now.minus(1)),
                )
            )
        elif s.first.ordinal < rid.birth_month.ordinal + ADULT_MONTHS:
            errors.append(
                RowError(
                    s.row,
                    "from_month",
                    "invalid-period",
                    message("history.before-16"),
                )
            )
    if len(errors) > before:
        return None
    return rid, hukou, stints


def _duplicates(stints: list[Stint], relation: str | None) -> tuple[list[Stint], list[RowError]]:
    """Stints of one scheme covering one month twice (重复缴费): keep one, refuse the other,
    and say which was kept (人社部规〔2016〕5号: one relation is kept for those months, the
    other's contributions are refunded)."""
    kept: list[Stint] = []
    errors: list[RowError] = []
    home = relation[:2] if relation else ""
    order = sorted(stints, key=lambda s: (s.region[:2] != home, s.row))
    for s in order:
        clash = next(
            (
                k
                for k in kept
                if k.scheme == s.scheme and k.overlaps(s.first.ordinal, s.last.ordinal)
            ),
            None,
        )
        if clash is None:
            kept.append(s)
            continue
        errors.append(
            RowError(
                s.row,
                "from_month",
                "duplicate-period",
                message("history.duplicate-period", kept=clash.label()),
            )
        )
    return sorted(kept, key=lambda s: (s.scheme, s.first)), errors


def _flags(policy: Policy, stint: Stint) -> tuple[str, ...]:
    """What was accepted as recorded without today's checks."""
    if stint.base_fen is None:
        return ("index_only",) if stint.index_1e6 is not None else ()
    months = np.array(list(stint.months()), dtype=np.int64)
    days = np.array([day_number(Month(int(m)).first_day()) for m in months], dtype=np.int64)
    try:
        bounds = contribution_bounds(policy, days, np.full(len(months), stint.region))
    except ParameterNotFound:
        return ("before_parameters",)
    base = stint.base_fen
    if bool(np.any((base < bounds.floor_fen) | (base > bounds.ceiling_fen))):
        return ("base_out_of_bounds",)
    return ()


# the pooled entitlement of imported months ----------------------------------------------


def month_pooled_fen(policy: Policy, region: str, month: Month, base_fen: int) -> int:
    """What a paid month put into the pooled fund for the worker: the base × (the flexible
    rate − the account rate) in force then; before Suiren has those rates, the 12% share of
    66号 (the least the law carries); nothing before 1998."""
    if month < POOLED_SINCE:
        return 0
    share = _pooled_share(policy, region, month.ordinal)
    return int(divide_round(base_fen * share.numerator, share.denominator))


_SHARES: dict[tuple[int, str, int], Fraction] = {}
_SHARES_OF: dict[int, Policy] = {}  # the policies whose shares are cached (kept: ids stay theirs)
SHARES_CACHED_MAX = 1 << 16


def _pooled_share(policy: Policy, region: str, ordinal: int) -> Fraction:
    """The pooled share of a month's base in ``region``, cached: a parameter look-up per
    month of a thirty-year career would cost more than everything else in the import."""
    key = (id(policy), region, ordinal)
    share = _SHARES.get(key)
    if share is not None and _SHARES_OF.get(id(policy)) is policy:
        return share
    view = policy.at(Month(ordinal).first_day(), region)
    try:
        share = Fraction(view.value("contribution.flexible.rate")) - Fraction(
            view.value("contribution.flexible.individual_account_rate")
        )
    except ParameterNotFound:
        share = Fraction(policy.at(date(2010, 1, 1), region).value("transfer.pooled_share_of_base"))
    if len(_SHARES) > SHARES_CACHED_MAX:
        _SHARES.clear()
    _SHARES[key] = share
    _SHARES_OF[id(policy)] = policy
    return share


def _with_interest(
    policy: Policy, region: str, by_year: dict[int, int], through_year: int
) -> tuple[int, int, list[int]]:
    """(credited, interest, years without a published rate): credits year by year earning
    the crediting rate (年度计息法) through ``through_year``; a year Suiren has no rate for
    earns nothing and is named."""
    if not by_year:
        return 0, 0, []
    balance = total = 0
    missing: list[int] = []
    for year in range(min(by_year), through_year + 1):
        credited = by_year.get(year, 0)
        try:
            earned = interest_for(policy, year, balance, credited, region)
        except ParameterNotFound:
            earned = 0
            missing.append(year)
        balance += credited + earned
        total += earned
    return sum(by_year.values()), total, missing


# importing -----------------------------------------------------------------------------


@dataclass
class _Pending:
    """A unit's entries, posted together (one chain-head lock and update per region)."""

    transactions: list[Transaction] = field(default_factory=list)
    catch_ups: list[tuple[str, str, range, str]] = field(default_factory=list)
    conflicts: list[Text] = field(default_factory=list)  # people recorded with other balances


@dataclass
class _Plan:
    created: bool  # a new worker registered with the entries
    facts: dict[str, list[Fact]]  # region -> facts
    postings: dict[str, list[Posting]]  # region -> postings
    opening_month: dict[str, Month]  # region -> legal month
    years_without_rate: set[int] = field(default_factory=set)  # entitlement interest not counted


def import_people(
    connection: Connection,
    policy: Policy,
    vault: IdentityVault,
    unit: list[Person],
    balances: dict[str, list[tuple[int, dict[str, str]]]],
    import_id: str,
    now: datetime,
    refuse_all: bool = False,
    visible: Callable[[str], bool] | None = None,
) -> HistorySummary:
    """Import one unit of work (the caller's transaction): each person wholly or not at all.
    ``visible``: whether the caller (an agency) covers a region; a person it does not insure
    — whose enrolment, or last stint for a new person, is elsewhere — is refused as unknown."""
    summary = HistorySummary(rows=sum(len(p.rows) for p in unit), people=len(unit))
    today = now.date()
    checked: list[tuple[Person, ResidentId, str | None, list[Stint]]] = []
    pending = _Pending()
    for person in unit:
        errors: list[RowError] = []
        parsed = _person(person, today, errors)
        if parsed is None:
            summary.errors += errors
            continue
        checked.append((person, *parsed))
    indexes = {p.resident_id: vault.blind_index(rid.number) for p, rid, _, _ in checked}
    lock_people(connection, sorted(set(indexes.values())))
    known = by_blind_index(connection, list(indexes.values()))
    _lock_regions(connection, checked, known, balances)
    for person, rid, hukou, stints in checked:
        row = known.get(indexes[person.resident_id])
        try:
            done = _import_person(
                connection,
                policy,
                vault,
                rid,
                hukou,
                stints,
                row,
                indexes[person.resident_id],
                balances.get(person.resident_id, []),
                import_id,
                now,
                summary,
                pending,
                visible,
            )
        except _Refused as refused:
            summary.errors += refused.errors
            continue
        summary.mapping.append((person.resident_id, done))
    if pending.conflicts:  # the caller's transaction rolls back: nothing of the unit stands
        raise HistoryConflict.of(import_id, pending.conflicts)
    post_transactions(connection, pending.transactions)
    for account, region, years, prefix in pending.catch_ups:
        catch_up(connection, policy, account, region, years, now, prefix, leaving=False)
    summary.errors.sort(key=lambda e: e.row)
    summary.refused = refused_rows(summary.errors)
    if refuse_all and summary.errors:
        first = summary.errors[0]
        raise FileRefused(refused_row(first))
    return summary


def _lock_regions(
    connection: Connection,
    checked: list[tuple[Person, ResidentId, str | None, list[Stint]]],
    known: dict[str, Any],
    balances: dict[str, list[tuple[int, dict[str, str]]]],
) -> None:
    """Every chain head the unit may write or must hold still, locked at once and in
    ascending order — the order every writer takes them (``post_transactions``, a payment's
    regions): two imports, or an import and a payment, never wait on each other in a cycle.
    Taken one person at a time, an import locked its people's regions in the file's order
    and deadlocked against another that met them the other way round. The regions: each
    stint's (a new worker's registration and the stints' holding regions are among them),
    each enrolled person's enrolment and relation region, each balance row's."""
    regions = {s.region for _, _, _, stints in checked for s in stints}
    worker_ids = [row.worker_id for row in known.values()]
    for row in enrolled_in(connection, worker_ids, Scheme.EMPLOYEE_PENSION).values():
        regions |= {row.region, row.relation_region or ""}
    registry = default_registry()
    for person, *_ in checked:
        regions |= {
            values.get("region", "")
            for _, values in balances.get(person.resident_id, [])
            if values.get("region", "") in registry
        }
    lock_chain_heads(connection, regions)


def _balances(
    rows: list[tuple[int, dict[str, str]]], today: date
) -> tuple[list[Balance], list[RowError]]:
    errors: list[RowError] = []
    found: list[Balance] = []
    seen: set[tuple[str, Scheme]] = set()
    for number, values in rows:
        before = len(errors)
        region = _region(values["region"], number, "region", errors)
        scheme = _scheme(values.get("scheme", ""), number, errors)
        fen = _fen(values["account_yuan"], number, "account_yuan", errors, positive=False)
        as_of = values["as_of"]
        if not _DATE_RE.match(as_of) or not YEAR_MIN <= int(as_of[:4]) <= YEAR_MAX:
            errors.append(
                RowError(
                    number,
                    "as_of",
                    "invalid-date",
                    message("history.balance-as-of"),
                )
            )
        elif date.fromisoformat(as_of) >= today:
            errors.append(
                RowError(number, "as_of", "invalid-date", message("history.balance-future"))
            )
        if len(errors) > before:
            continue
        assert region and scheme and fen is not None
        if (region, scheme) in seen:
            errors.append(RowError(number, "region", "duplicate", message("history.balance-twice")))
            continue
        seen.add((region, scheme))
        found.append(Balance(number, region, scheme, fen, date.fromisoformat(as_of)))
    return found, [
        RowError(e.row, f"balances.{e.field}", e.code, e.said) for e in errors
    ]  # a row of the balances file: its fields are named so


def _import_person(
    connection: Connection,
    policy: Policy,
    vault: IdentityVault,
    rid: ResidentId,
    hukou: str | None,
    stints: list[Stint],
    registered: Any,
    blind_index: str,
    balance_rows: list[tuple[int, dict[str, str]]],
    import_id: str,
    now: datetime,
    summary: HistorySummary,
    pending: _Pending,
    visible: Callable[[str], bool] | None = None,
) -> str:
    """Check one person against the ledger and plan their entries (``pending``: posted for
    the whole unit at once, then the interest each balance missed)."""
    today = now.date()
    balance_list, errors = _balances(balance_rows, today)
    # a new worker is registered in the same transaction as the entries: a re-run finds them
    worker_id = registered.worker_id if registered is not None else new_worker_id()
    enrolment = None
    if registered is not None:
        if hukou and registered.hukou_region != hukou:
            raise _Refused(
                [
                    RowError(
                        s.row,
                        "hukou_region",
                        "registry-conflict",
                        message("history.hukou-registry", hukou=registered.hukou_region),
                    )
                    for s in stints[:1]
                ]
            )
        enrolment = connection.execute(
            select(enrolments).where(
                enrolments.c.worker_id == worker_id,
                enrolments.c.scheme == Scheme.EMPLOYEE_PENSION.value,
            )
        ).first()
        if enrolment is not None:  # payments through Suiren wait for this import
            lock_chain_head(connection, enrolment.region)
    if visible is not None:
        last = max(stints, key=lambda s: (s.last, s.row)) if stints else None
        home = enrolment.region if enrolment is not None else (last.region if last else "")
        if not home or not visible(home):
            raise _Refused(
                [
                    RowError(
                        row,
                        "resident_id",
                        "not-insured-here",
                        message("history.not-insured-here"),
                    )
                    for row in sorted({s.row for s in stints})
                ]
            )
    prefix = f"history/{import_id[:16]}/{worker_id}/"
    recorded = _recorded_memos(connection, prefix).get(worker_id) if registered else None
    if recorded is not None:  # a replay if the balances are the ones recorded
        if errors or recorded != history_memo(import_id, balance_list):
            who = message("history.stints-row", row=min(s.row for s in stints), worker=worker_id)
            pending.conflicts.append(_difference(who, recorded, [n for n, _ in balance_rows]))
        summary.replayed += len(stints)
        return worker_id
    ordered = sorted(stints, key=lambda s: (s.last, s.row))
    last_settled = next((s for s in reversed(ordered) if s.kind != "temporary"), None)
    if enrolment is not None:
        relation = enrolment.relation_region
    else:
        relation = last_settled.region if last_settled else None
    stints, duplicate = _duplicates(stints, relation)
    errors += duplicate
    if registered is not None:
        errors += _against_ledger(connection, worker_id, stints)
    held_by_balance = {(b.region, b.scheme) for b in balance_list}
    placed: list[Stint] = []
    for s in stints:
        if s.kind == "temporary" or (s.region, s.scheme) in held_by_balance:
            held = s.region
        else:
            held = relation or s.region
        placed.append(
            Stint(
                s.row,
                s.region,
                s.kind,
                s.first,
                s.last,
                s.scheme,
                s.base_fen,
                s.index_1e6,
                held,
                _flags(policy, s),
            )
        )
    for b in balance_list:
        after = [
            s
            for s in placed
            if s.held_region == b.region
            and s.scheme == b.scheme
            and s.kind != "deemed"
            and s.last.year > b.as_of.year
        ]
        errors += [
            RowError(
                s.row,
                "to_month",
                "after-balance",
                message("history.after-balance", region=b.region, as_of=b.as_of, row=b.row),
            )
            for s in after
        ]
    if errors:
        raise _Refused(errors)
    plan = _plan(
        policy,
        rid,
        hukou,
        worker_id,
        registered,
        placed,
        balance_list,
        import_id,
        now,
        vault,
        blind_index,
    )
    memo = history_memo(import_id, balance_list)
    transactions = []
    for region in sorted(set(plan.facts) | set(plan.postings)):
        transactions.append(
            Transaction.build(
                prefix + region,
                TxCode.OPENING,
                region,
                plan.opening_month.get(region, Month.from_date(today)),
                now,
                plan.postings.get(region, []),
                worker_id=worker_id,
                memo=memo,
                facts=plan.facts.get(region, []),
            )
        )
    pending.transactions += transactions
    for b in balance_list:  # years the region has already run: interest on arrival
        if b.account_fen:
            account = str(individual_account(worker_id, b.scheme, b.region))
            years = range(b.as_of.year + 1, today.year)
            pending.catch_ups.append((account, b.region, years, f"{prefix}{b.region}/interest"))
    summary.imported += len(placed)
    summary.enrolled += plan.created
    summary.years_without_rate |= plan.years_without_rate
    for s in placed:
        months = len(s.months())
        summary.months_by_kind[s.kind] = summary.months_by_kind.get(s.kind, 0) + months
        for flag in s.flags:
            summary.flags[flag] = summary.flags.get(flag, 0) + 1
    summary.account_fen += sum(b.account_fen for b in balance_list)
    summary.entitlement_fen += sum(
        p.amount_fen
        for ps in plan.postings.values()
        for p in ps
        if p.account.kind.value == "pooled_entitlement"
    )
    return worker_id


def _against_ledger(connection: Connection, worker_id: str, stints: list[Stint]) -> list[RowError]:
    """Months already paid through Suiren or imported from another file."""
    errors: list[RowError] = []
    for scheme in sorted({s.scheme for s in stints}):
        recorded = paid_months(connection, worker_id, scheme.value, deemed=True)
        for s in (s for s in stints if s.scheme == scheme):
            clash = next(
                (m for m in recorded if s.first.ordinal <= m.month <= s.last.ordinal), None
            )
            if clash is None:
                continue
            where = "history.from-another-file" if clash.history else "history.paid-here"
            errors.append(
                RowError(
                    s.row,
                    "from_month",
                    "already-recorded",
                    message(
                        "history.already-recorded",
                        month=Month(clash.month),
                        where=message(where),
                        region=clash.region,
                    ),
                )
            )
    return errors


def _plan(
    policy: Policy,
    rid: ResidentId,
    hukou: str | None,
    worker_id: str,
    registered: Any,
    stints: list[Stint],
    balances: list[Balance],
    import_id: str,
    now: datetime,
    vault: IdentityVault,
    blind_index: str,
) -> _Plan:
    today = now.date()
    facts: dict[str, list[Fact]] = {}
    postings: dict[str, list[Posting]] = {}
    opening_month: dict[str, Month] = {}
    years_without_rate: set[int] = set()
    created = False
    last = max(stints, key=lambda s: (s.last, s.row)) if stints else None
    if registered is None:
        if last is None:
            raise _Refused(
                [
                    RowError(
                        balances[0].row if balances else 1,
                        "resident_id",
                        "no-stints",
                        message("history.no-stints"),
                    )
                ]
            )
        settled = [s for s in stints if s.kind != "temporary"]
        relation = max(settled, key=lambda s: (s.last, s.row)).region if settled else None
        home = hukou or rid.number[:2] + "0000"
        enrol_region = last.region
        facts.setdefault(enrol_region, []).extend(
            worker_registration(
                vault,
                rid,
                worker_id,
                blind_index,
                home,
                enrol_region,
                now,
                Scheme.EMPLOYEE_PENSION,
                Month.from_date(today),
                last.kind == "temporary",
                relation if last.kind == "temporary" else enrol_region,
            )
        )
        created = True
    for s in stints:
        facts.setdefault(s.held_region, []).append(
            fact(
                history_stints,
                import_id=import_id,
                row=s.row,
                worker_id=worker_id,
                scheme=s.scheme.value,
                region=s.region,
                held_region=s.held_region,
                kind=s.kind,
                from_month=s.first.ordinal,
                to_month=s.last.ordinal,
                base_fen=s.base_fen,
                index_1e6=s.index_1e6,
                flags=",".join(s.flags),
            )
        )
    for b in balances:
        month = Month.of(b.as_of.year + 1, 1)
        opening_month[b.region] = month
        if b.account_fen:
            account = individual_account(worker_id, b.scheme, b.region)
            postings.setdefault(b.region, []).append(Posting(account, b.account_fen))
            facts.setdefault(b.region, []).append(
                fact(interest_carry, account=str(account), prior_fen=b.account_fen)
            )
    pension = [s for s in stints if s.scheme is Scheme.EMPLOYEE_PENSION and s.kind != "deemed"]
    for region in sorted({s.held_region for s in pension}):
        by_year: dict[int, int] = {}
        held = [s for s in pension if s.held_region == region]
        for s in held:
            for m in s.months():
                month = Month(m)
                base = s.base_fen
                if base is None:
                    continue  # an index alone: no money to price without that year's wage
                by_year[month.year] = by_year.get(month.year, 0) + month_pooled_fen(
                    policy, s.region, month, base
                )
        end = max(s.last for s in held)
        month = opening_month.get(region) or min(Month.of(end.year + 1, 1), Month.from_date(today))
        opening_month[region] = month
        credited, interest, lacking = _with_interest(policy, region, by_year, month.year - 1)
        years_without_rate.update(lacking)
        amount = credited + interest
        if amount:
            account = pooled_entitlement(worker_id, Scheme.EMPLOYEE_PENSION, region)
            postings.setdefault(region, []).append(Posting(account, amount))
            facts.setdefault(region, []).append(
                fact(interest_carry, account=str(account), prior_fen=amount)
            )
    for region, items in postings.items():
        by_scheme: dict[Scheme, int] = {}
        for p in items:
            by_scheme[p.account.scheme] = by_scheme.get(p.account.scheme, 0) + p.amount_fen
        items += [Posting(opening(scheme, region), -total) for scheme, total in by_scheme.items()]
    return _Plan(created, facts, postings, opening_month, years_without_rate)
