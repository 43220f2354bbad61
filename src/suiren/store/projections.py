"""Projections: tables written only by applying facts that the journal hashes.

A service that changes a worker, an enrolment, a transfer, a settlement or an interest run
does not write the table: it records a *fact* (``fact(table, **row)``) in the transaction
that makes the change, and ``post_transactions`` writes the fact (hashed with the
transaction) and applies it to its table here. The audit rebuilds every projection from the
facts and compares it with the table row by row (``rebuild``), so a table edited behind the
ledger's back is found and named.

Two modes:

- ``append``: every fact is one row, inserted once (the table is append-only);
- ``latest``: the row is the fact with the highest ``version`` of its key; a fact must
  carry the next version (1 for a new key), so that two writers of one row cannot both
  succeed (the second finds the version taken and is refused).

A fact's data is the row as canonical JSON (sorted keys, no spaces; dates ISO, datetimes as
UTC ISO with microseconds, bytes as hex). Tables whose rows belong to their transaction's
journal entry (``located``) take ``region`` and ``seq`` from it instead.

*Grants* (``GRANTS``) are the rows that let someone in: an API key, a clerk's login, a
worker's portal login and the mobile number bound to it, the generation of a worker's
sessions (store/api_tables.py). Their service writes the row itself (it holds what no fact
may: a key's SHA-256, a password's argon2id hash) and records the fact beside it in the same
transaction (store/grants.py); the audit compares them as it compares the projections. A
``digested`` column is recorded as the SHA-256 of its value — a changed value still
differs, and the journal holds nothing a login could be tried against; an ``unrecorded``
column (a clerk's failed logins and lock-out) changes by design with no fact and is not
compared.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property
from json.encoder import encode_basestring as _encode_string  # C where built
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    and_,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError

from suiren.domain import messages  # sqlalchemy's Text is a column's type
from suiren.domain.errors import Retry, require
from suiren.domain.messages import join_texts
from suiren.domain.messages import text as message
from suiren.ledger.transaction import Fact
from suiren.store.api_tables import (
    api_keys,
    clerks,
    login_code_uses,
    login_phones,
    logins,
    worker_sessions,
)
from suiren.store.bulk import insert_rows
from suiren.store.readable import well_typed
from suiren.store.tables import (
    enrolments,
    history_stints,
    intake_receipts,
    interest_carry,
    interest_runs,
    platform_engagements,
    provisional_uses,
    region_obligations,
    settled_obligations,
    settled_transfers,
    settlement_flows,
    settlement_positions,
    transfer_events,
    transfers,
    workers,
)

LOCATED = ("region", "seq")


class ConcurrentChange(Retry):
    """Another writer changed the same row first; nothing was written."""

    code = "concurrent-change"


@dataclass(frozen=True)
class Projection:
    table: Table
    key: tuple[str, ...]
    mode: str  # "append" or "latest"
    located: bool = False  # region and seq come from the fact's journal entry
    applied: bool = True  # written by ``apply_facts`` (False: by its service, beside the fact)
    digested: tuple[str, ...] = ()  # recorded as the SHA-256 of the value, never the value
    unrecorded: tuple[str, ...] = ()  # changed by design without a fact; not compared

    @cached_property
    def columns(self) -> tuple[str, ...]:
        """The recorded columns (computed once: ``fact`` asks for every row it records)."""
        skip = (set(LOCATED) if self.located else set()) | set(self.unrecorded)
        return tuple(c.name for c in self.table.columns if c.name not in skip)

    @cached_property
    def column_set(self) -> frozenset[str]:
        return frozenset(self.columns)


PROJECTIONS: dict[str, Projection] = {
    p.table.name: p
    for p in (
        Projection(workers, ("worker_id",), "append"),
        Projection(enrolments, ("worker_id", "scheme"), "latest"),
        Projection(transfers, ("transfer_id",), "latest"),
        Projection(transfer_events, ("transfer_id", "step"), "append"),
        Projection(interest_carry, ("region", "seq", "account"), "append", located=True),
        Projection(interest_runs, ("scheme", "region", "year", "batch"), "append"),
        Projection(region_obligations, ("obligation_id",), "append"),
        Projection(settled_obligations, ("obligation_id",), "append"),
        Projection(settled_transfers, ("transfer_id",), "append"),
        Projection(settlement_positions, ("scheme", "window", "region"), "append"),
        Projection(settlement_flows, ("scheme", "window", "from_region", "to_region"), "append"),
        Projection(history_stints, ("import_id", "row"), "append"),
        Projection(intake_receipts, ("fingerprint",), "append"),
        Projection(platform_engagements, ("platform_id", "worker_id", "period"), "latest"),
        Projection(provisional_uses, ("subject", "month"), "append"),
    )
}
GRANTS: dict[str, Projection] = {
    p.table.name: p
    for p in (
        Projection(api_keys, ("key_id",), "latest", applied=False, digested=("secret_sha256",)),
        Projection(
            clerks,
            ("login",),
            "latest",
            applied=False,
            digested=("password_hash",),
            unrecorded=("failures", "locked_until"),
        ),
        # workers' portal logins and bound numbers (services/logins.py): sealed as well
        # (store/seals.py), recorded so that an older genuine row put back is found
        Projection(
            logins,
            ("blind_index",),
            "latest",
            applied=False,
            digested=("password_hash",),
            unrecorded=("failures", "locked_until", "seal"),
        ),
        Projection(login_phones, ("phone_index",), "latest", applied=False, unrecorded=("seal",)),
        # each one-time code used: a code whose use is recorded opens nothing, whatever its
        # ``login_codes`` row says (put back from a copy taken before it was used)
        Projection(login_code_uses, ("code_sha256",), "append", applied=False),
        # the generation of a worker's sessions (services/logins.py): its making and every
        # end of them, so that a generation set back (reviving tokens signed before an end)
        # lets no token in and is named
        Projection(worker_sessions, ("worker_id",), "latest", applied=False),
    )
}
RECORDED = PROJECTIONS | GRANTS  # every kind of fact the journal may hold
# Tables in foreign-key order (a referenced table before the tables that reference it)
_DEPENDENCY_RANK = {table.name: rank for rank, table in enumerate(workers.metadata.sorted_tables)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:  # SQLite's: UTC as stored, the offset written as UTC's
            return value.isoformat(timespec="microseconds") + "+00:00"
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    raise AssertionError(f"a fact holds no {type(value).__name__}")


def encode(projection: Projection, row: Any) -> str:
    """The canonical JSON of ``row`` over the projection's columns (located ones excluded):
    ``json.dumps`` of them with sorted keys, no spaces and no ASCII escaping, written here
    value by value with the encoder's own functions (a file's 100,000 facts: no dictionary
    and no encoder run per row). ``canonical_json`` is the definition; a test holds the two
    equal for every column of every projection."""
    parts = [
        prefix + _json_value(convert(row[name])) for name, prefix, convert in _sorted(projection)
    ]
    return "{" + ",".join(parts) + "}"


def canonical_json(data: dict[str, Any]) -> str:
    """The canonical JSON a fact records (``encode`` writes the same, faster)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _json_value(value: Any) -> str:
    """``value`` as ``json.dumps`` writes it without ASCII escaping."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _encode_string(value)
    if isinstance(value, int):
        return int.__repr__(value)  # as json does (an IntEnum as its number)
    return canonical_json(value)  # anything else as json.dumps has it (or refuses it)


def _sorted(projection: Projection) -> list[tuple[str, str, Callable[[Any], Any]]]:
    """The projection's (column, its JSON key and colon, converter)s in sorted order."""
    cached = _SORTED.get(projection.table.name)
    if cached is None:
        cached = _SORTED[projection.table.name] = [
            (name, _encode_string(name) + ":", convert)
            for name, convert in sorted(_converters(projection))
        ]
    return cached


_SORTED: dict[str, list[tuple[str, str, Callable[[Any], Any]]]] = {}


def digest(value: str | None) -> str | None:
    """What a fact records of a ``digested`` column: the SHA-256 of the value (hex)."""
    return None if value is None else hashlib.sha256(value.encode()).hexdigest()


def _converters(projection: Projection) -> list[tuple[str, Callable[[Any], Any]]]:
    """Per column, the stored value → its JSON form (booleans from SQLite's integers too)."""
    cached = _CONVERTERS.get(projection.table.name)
    if cached is None:
        cached = []
        for name in projection.columns:
            kind = projection.table.c[name].type
            if name in projection.digested:
                cached.append((name, digest))
            elif isinstance(kind, Boolean):
                cached.append((name, lambda v: None if v is None else bool(v)))
            elif isinstance(kind, Integer | BigInteger):
                cached.append((name, lambda v: None if v is None else int(v)))
            elif isinstance(kind, String | Text):
                cached.append((name, lambda v: v))
            else:
                cached.append((name, _jsonable))
        _CONVERTERS[projection.table.name] = cached
    return cached


_CONVERTERS: dict[str, list[tuple[str, Callable[[Any], Any]]]] = {}


def key_text(projection: Projection, row: dict[str, Any]) -> str:
    return "/".join(str(_jsonable(row[name])) for name in projection.key)


def _decode(table: Table, data: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in data.items():
        out[name] = None if value is None else _decoder_of(table, name)(value)
    return out


def _decoder_of(table: Table, name: str) -> Callable[[Any], Any]:
    decode = _DECODERS.get((table.name, name))
    if decode is None:
        decode = _DECODERS[table.name, name] = _decoder(table, name)
    return decode


def _decoder(table: Table, name: str) -> Callable[[Any], Any]:
    """A column's JSON value → the value stored (found once per column: a file's facts decode
    100,000 rows of the same columns)."""
    kind = table.c[name].type
    if isinstance(kind, DateTime):
        return datetime.fromisoformat
    if isinstance(kind, Date):
        return date.fromisoformat
    if isinstance(kind, LargeBinary):
        return bytes.fromhex
    if isinstance(kind, String | Text | Boolean | Integer | BigInteger):
        return _same
    raise AssertionError(f"no codec for {table.name}.{name} ({kind})")  # pragma: no cover


def _same(value: Any) -> Any:
    return value


_DECODERS: dict[tuple[str, str], Callable[[Any], Any]] = {}


def fact(table: Table, **row: Any) -> Fact:
    """The fact that sets ``table``'s row to ``row`` (every column but located and unrecorded
    ones; a digested column given as stored, recorded as its digest)."""
    projection = RECORDED[table.name]
    given = row.keys()
    missing = projection.column_set - given
    extra = given - projection.column_set - (set(LOCATED) if projection.located else set())
    require(not missing and not extra, f"fact of {table.name}: missing {missing}, extra {extra}")
    if projection.mode == "latest":
        require(int(row["version"]) >= 1, "a latest-mode fact carries a version from 1")
    return Fact(table.name, _own_key(projection, row), encode(projection, row))


def restate(table: Table, recorded: dict[str, Any], **changes: Any) -> Fact:
    """The next fact of a row from its latest fact's data (``recorded``) with ``changes``:
    what a grant's change records, so that a row edited behind the ledger's back is not
    recorded as it was found (the audit keeps naming the edit)."""
    projection = RECORDED[table.name]
    data = recorded | {name: _jsonable(value) for name, value in changes.items()}
    require(data.keys() == projection.column_set, f"a fact of {table.name} has every column")
    return Fact(
        table.name, "/".join(str(data[name]) for name in projection.key), canonical_json(data)
    )


def agrees(projection: Projection, row: Any, data: str | None, columns: Iterable[str]) -> bool:
    """Whether ``row`` (a mapping) holds in ``columns`` what its latest fact (``data``, None:
    no fact) records, digested columns by their digest: asked of a grant's row before it
    lets anyone in, so that a row inserted, changed or un-revoked behind the ledger's back
    is refused at once, not only at the next audit. A row holding a value of a type the
    service never writes (store/readable.py) agrees with nothing."""
    if data is None or not well_typed(projection.table, row):
        return False
    try:
        recorded = json.loads(data)
    except (TypeError, ValueError, RecursionError):
        return False
    if not isinstance(recorded, dict):
        return False
    convert = dict(_converters(projection))
    return all(name in recorded and convert[name](row[name]) == recorded[name] for name in columns)


def _own_key(projection: Projection, row: dict[str, Any]) -> str:
    """The key without the located columns (which the fact's entry gives)."""
    names = [n for n in projection.key if not (projection.located and n in LOCATED)]
    return "/".join(str(_jsonable(row[name])) for name in names)


def apply_facts(connection: Connection, located: Sequence[tuple[str, int, Fact]]) -> None:
    """Write each fact's row into its table: insert (append, or the first version of a
    latest-mode row) or the next version. Inserts are gathered per table and written one
    statement per table, tables in dependency order (a worker before its enrolment), before
    any next version and at the end; a key inserted twice is refused by the table's primary
    key. A file of 100,000 workers is two statements, not 200,000: each table's rows decoded
    column by column and written as ``store.bulk.insert_rows`` writes (PostgreSQL COPY, SQLite
    executemany), with no dictionary and compiled parameter set per row."""
    pending: dict[str, list[tuple[str, int, dict[str, Any]]]] = {}
    for region, seq, item in located:
        projection = RECORDED[item.kind]
        if not projection.applied:
            continue
        data = json.loads(item.data)
        if projection.mode == "append" or int(data["version"]) == 1:
            pending.setdefault(item.kind, []).append((region, seq, data))
        else:
            _insert_pending(connection, pending)
            row = _decode(projection.table, data)
            if projection.located:
                row |= {"region": region, "seq": seq}
            _set_latest(connection, projection, row)
    _insert_pending(connection, pending)


def _insert_pending(
    connection: Connection, pending: dict[str, list[tuple[str, int, dict[str, Any]]]]
) -> None:
    for kind in sorted(pending, key=_DEPENDENCY_RANK.__getitem__):
        projection = PROJECTIONS[kind]
        table, entries = projection.table, pending[kind]
        names = list(projection.columns)
        columns: list[list[Any]] = []
        for name in names:
            values = [data[name] for _, _, data in entries]  # a fact holds every column
            decode = _decoder_of(table, name)
            if decode is not _same:
                values = [None if v is None else decode(v) for v in values]
            columns.append(values)
        if projection.located:
            names += LOCATED
            columns += [[region for region, _, _ in entries], [seq for _, seq, _ in entries]]
        insert_rows(connection, table, names, list(zip(*columns, strict=True)))
    pending.clear()


def _set_latest(connection: Connection, projection: Projection, row: dict[str, Any]) -> None:
    table = projection.table
    version = int(row["version"])
    where = and_(*(table.c[name] == row[name] for name in projection.key))
    done = connection.execute(
        update(table).where(where, table.c.version == version - 1).values(**row)
    )
    if done.rowcount != 1:
        raise ConcurrentChange(
            f"{table.name} {key_text(projection, row)} was changed by another request at the"
            " same time; nothing was written, try again"
        )


@dataclass(frozen=True)
class Difference:
    table: str
    key: str
    said: messages.Text  # row missing, unexpected, or the columns that differ with both values


_VERSION_RE = re.compile(
    r'"version":(\d+)[,}]'
)  # a fact's top-level version (keys sorted, values escaped)
_ABSENT = object()


def rebuild(
    connection: Connection, projection: Projection, facts: Iterable[Any]
) -> list[Difference]:
    """Compare the table with what its facts say; every difference, named.

    ``facts``: rows (region, seq, key, data) of this projection's kind, in any order. The
    comparison is column by column over all rows (the facts decoded in one JSON parse), so
    that an audit of millions of rows spends its time in C, not in a loop per row.
    """
    name = projection.table.name
    expected: dict[str, tuple[int, str]] = {}  # key -> (version, data)
    latest = projection.mode == "latest"
    for item in facts:
        key = f"{item.region}/{item.seq}/{item.key}" if projection.located else item.key
        if latest:
            found = _VERSION_RE.search(item.data)
            version = int(found.group(1)) if found else 0
            if key in expected and expected[key][0] >= version:
                if expected[key][0] == version:
                    return [Difference(name, key, message("audit.two-versions", version=version))]
                continue
            expected[key] = (version, item.data)
        else:
            if key in expected:
                return [Difference(name, key, message("audit.recorded-twice"))]
            expected[key] = (0, item.data)
    result = connection.execute(select(projection.table))
    position = {field: k for k, field in enumerate(result.keys())}
    rows = result.all()
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [() for _ in position]
    keys = _key_column(projection, columns, position, len(rows))
    out: list[Difference] = []
    at: dict[str, int] = {}
    for i, key in enumerate(keys):
        if key in at:
            out.append(Difference(name, key, message("audit.duplicate-row")))
        elif key not in expected:
            at[key] = -1
            out.append(Difference(name, key, message("audit.row-without-fact")))
        else:
            at[key] = i
    common = [key for key, i in at.items() if i >= 0]
    index = [at[key] for key in common]
    try:
        wanted = json.loads("[" + ",".join(expected[key][1] for key in common) + "]")
    except ValueError:  # a fact that is not a JSON object: named, the rest still compared
        wanted = []
        for key in list(common):
            try:
                wanted.append(json.loads(expected[key][1]))
            except ValueError:
                out.append(Difference(name, key, message("audit.fact-not-json")))
                at[key] = -1
        common = [key for key, i in at.items() if i >= 0]
        index = [at[key] for key in common]
    if len(wanted) != len(common) or not all(isinstance(w, dict) for w in wanted):
        return [*out, Difference(name, "*", message("audit.fact-not-object"))]
    converters = _converters(projection)
    differ = {j for j, w in enumerate(wanted) if len(w) != len(converters)}
    for column, convert in converters:
        values = columns[position[column]]
        stored = [convert(values[i]) for i in index]
        recorded = [w.get(column, _ABSENT) for w in wanted]
        if stored != recorded:
            differ.update(
                j for j, (a, b) in enumerate(zip(stored, recorded, strict=True)) if a != b
            )
    for j in sorted(differ):
        row = rows[index[j]]
        stored_row = {column: convert(row[position[column]]) for column, convert in converters}
        changed = sorted(set(wanted[j]) | set(stored_row), key=str)
        changed = [n for n in changed if stored_row.get(n, _ABSENT) != wanted[j].get(n, _ABSENT)]
        detail = join_texts(
            (
                message(
                    "audit.column-differs",
                    column=n,
                    stored=repr(stored_row.get(n)),
                    recorded=repr(wanted[j].get(n)),
                )
                for n in changed
            ),
            en=", ",
        )
        out.append(Difference(name, common[j], detail))
    for key in sorted(set(expected) - set(at)):
        out.append(Difference(name, key, message("audit.row-missing")))
    return out


def _key_column(
    projection: Projection, columns: list[Sequence[Any]], position: dict[str, int], n: int
) -> list[str]:
    """Each row's key as ``_own_key`` spells it (with region/seq first where located)."""
    names = [c for c in projection.key if not (projection.located and c in LOCATED)]
    if projection.located:
        names = [*LOCATED, *names]
    parts = [[str(_jsonable(v)) for v in columns[position[c]]] for c in names]
    return ["/".join(p) for p in zip(*parts, strict=True)] if parts else [""] * n


# --- the same comparison in PostgreSQL, for the audit's common case ------------------------


def _json_sql(projection: Projection, name: str) -> str | None:
    """The SQL of column ``name``'s JSON form, as ``_converters`` makes it in Python (None:
    a type this path does not translate, and the table is compared in Python)."""
    column = f't."{name}"'
    kind = projection.table.c[name].type
    if name in projection.digested:
        return f"encode(sha256(convert_to({column}, 'UTF8')), 'hex')"
    if isinstance(kind, Boolean | Integer | BigInteger | String | Text):
        return column
    # a date Python holds (years 1 to 9999, finite) as _jsonable writes it; any other — a BC
    # date, which to_char prints as the AD one, or ±infinity, which it prints as NULL — as
    # text no fact holds, so the table disagrees and ``rebuild`` names it
    if isinstance(kind, DateTime):  # _jsonable: UTC, microseconds, +00:00
        iso = f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || '+00:00'"
        return _in_calendar(column, " 00:00:00+00", iso)
    if isinstance(kind, Date):
        return _in_calendar(column, "", f"to_char({column}, 'YYYY-MM-DD')")
    if isinstance(kind, LargeBinary):
        return f"encode({column}, 'hex')"
    return None


def _in_calendar(column: str, midnight: str, iso: str) -> str:
    """``iso`` where ``column`` is a finite date of years 1 to 9999, else text no fact holds
    (``midnight``: what follows a day in a bound, `` 00:00:00+00`` for a time)."""
    return (
        f"CASE WHEN isfinite({column}) AND {column} >= '0001-01-01{midnight}'"
        f" AND {column} < '10000-01-01{midnight}' THEN {iso}"
        f" ELSE '!' || {column}::text END"
    )


def _agreement_sql(projection: Projection) -> str | None:
    """One statement counting what keeps the table from being exactly its facts: facts of one
    key (and version) twice, rows of one key twice, and keys whose latest fact (its JSON) is
    not the row (its columns' JSON, as ``_converters``). None where a column or the key is of
    a type this path does not translate, or the rows are located (those go to Python)."""
    table = projection.table
    if projection.located:
        return None
    columns = [(name, _json_sql(projection, name)) for name in projection.columns]
    if any(sql is None for _, sql in columns) or len(columns) > 50:  # 100 arguments at most
        return None
    if not all(
        isinstance(table.c[k].type, String | Text | Integer | BigInteger) for k in projection.key
    ):
        return None  # key_text's str() of another type is not a plain cast
    key = " || '/' || ".join(f't."{k}"::text' for k in projection.key)
    row = ", ".join(f"'{name}', {sql}" for name, sql in columns)
    latest = projection.mode == "latest"
    version = (
        "CASE WHEN jsonb_typeof(d->'version') = 'number' AND d->>'version' ~ '^[0-9]+$'"
        " THEN (d->>'version')::numeric ELSE 0 END"
        if latest
        else "0"
    )
    return f"""
        WITH f AS (SELECT key, data::jsonb AS d FROM facts WHERE kind = :kind),
        v AS (SELECT key, d, {version} AS version FROM f),
        recorded AS (SELECT DISTINCT ON (key) key, d FROM v ORDER BY key, version DESC),
        t AS (SELECT {key} AS key, jsonb_build_object({row}) AS d FROM {table.name} t)
        SELECT (SELECT count(*) FROM (SELECT 1 FROM v GROUP BY key, version
                                       HAVING count(*) > 1 LIMIT 1) twice)
             + (SELECT count(*) FROM (SELECT 1 FROM t GROUP BY key
                                       HAVING count(*) > 1 LIMIT 1) duplicate)
             + (SELECT count(*) FROM (SELECT 1 FROM recorded r FULL JOIN t ON t.key = r.key
                                       WHERE r.d IS DISTINCT FROM t.d LIMIT 1) differ)
    """


def agrees_in_sql(connection: Connection, projection: Projection) -> bool:
    """Whether the table is exactly what its facts say, asked of PostgreSQL in one statement
    (JSON compared as ``jsonb``): True only when nothing differs. False — something differs,
    or this projection is not translated, or a fact is not JSON — sends the audit to
    ``rebuild``, which names what differs. An answer of True never hides a difference
    ``rebuild`` would find (tests/store/test_tamper_columns.py sweeps every column on both
    paths)."""
    statement = _agreement_sql(projection)
    if statement is None or connection.dialect.name != "postgresql":
        return False
    savepoint = connection.begin_nested()  # a fact that is not JSON fails the cast
    try:
        differences = connection.execute(
            text(statement), {"kind": projection.table.name}
        ).scalar_one()
    except DBAPIError:
        savepoint.rollback()
        return False
    savepoint.commit()
    return int(differences) == 0
