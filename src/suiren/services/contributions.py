"""Contributions (缴费) of flexible workers: one ledger row per month, for every scheme.

One path for one month or a million (``post_batch``): a request names the worker, a month or
a range and the base the worker chose, with an idempotency key; each month becomes the
contribution month ``{payment id}/{YYYY-MM}`` (ledger/months.py: one row, its postings
derived). A file of payments goes through the same path in chunks (services/intake.py).

Employee pension (职工养老): due = the flexible rate × base; the individual account gets its
share, the pooled entitlement the rest. Employee medical (职工医保): the city's split
(``policy.medical.split_medical``); under money_follows_person a high-income worker's pooled
part is partly held by the hukou region's fund (``policy.medical.hukou_pool``): the month's
row posts that part to the work region's clearing account (``held_fen``), the transaction
``{tx_id}/hukou`` in the hukou region's journal takes it from that region's clearing
account into the worker's entitlement there, and a ``region_obligations`` fact records the
debt, which the settlement windows net (services/settlement.py).

A month is refused — and the rest of the batch still posts, each refusal reported with its
row, field and reason — for an unknown or unenrolled worker, a base outside the region's
floor and ceiling for that month, a month in the future, a back-payment (补缴) beyond what
the parameters allow, a pension month of a pensioner (from the last month of the elective
retirement window on, with the minimum years reached: ``_refuse_past_retirement``), a
month already paid and not reversed, a payment into a region a
transfer is taking the worker's money out of, the same month twice in one batch, or a region
without parameters for the month. ``post_contributions`` (the single request) refuses the
whole request on the first refusal instead. Replaying a payment returns what was recorded,
whatever has changed since (a reversal, a new year, new bounds); the same id with other
content is a conflict.

The region a month is paid in is re-read under the regions' chain-head locks: if a transfer
completed in between, the batch is refused as ``InsuranceMoved`` (nothing written; the
edges send it again), so no month is ever posted in a region the worker has left.

Large batches are written optimistically: every check that needs no look-up is done first,
then the rows are inserted under a savepoint as first payments; the database's unique keys
(payment id; worker, scheme, month, attempt) refuse a replay or a month already paid, and
only then is the batch looked up row by row (replays, attempts, conflicts) and written again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Column, Connection, MetaData, Table, func, select, text, tuple_
from sqlalchemy.exc import IntegrityError

from suiren.domain.errors import InvalidInput, ParameterNotFound, Retry, SuirenError
from suiren.domain.messages import Text
from suiren.domain.messages import text as message  # sqlalchemy's text is the SQL one
from suiren.domain.money import fen_to_yuan_str
from suiren.domain.month import Month
from suiren.ledger.accounts import Scheme, clearing, pooled_entitlement
from suiren.ledger.months import MonthRows, batch_fingerprint
from suiren.ledger.transaction import (
    TX_ID_CHARS_MAX,
    Fact,
    Posting,
    Transaction,
    TxCode,
    check_tx_id,
)
from suiren.policy import Policy
from suiren.policy.contribution import contribution_bounds, split_contribution
from suiren.policy.medical import HUKOU_PARAMETERS, hukou_pool
from suiren.policy.retirement import (
    ElectiveWindow,
    category_index,
    elective_window,
    months_past_retirement,
    retirement_rule,
)
from suiren.rules.parameters import ResolvedValue
from suiren.rules.vector import REGION_SPAN, day_number, region_numbers
from suiren.services.provisional import BOUNDS_THEN, provisional, provisional_warning
from suiren.services.provisional_uses import use_fact, uses_of
from suiren.services.workers import get_worker
from suiren.store.bulk import fill_keys, insert_arrow, key_set, select_columns
from suiren.store.db import is_postgres
from suiren.store.ledger_repo import (
    TransactionConflict,
    append_months,
    lock_chain_heads,
    post_transactions,
)
from suiren.store.lines import months_that_stand
from suiren.store.projections import fact
from suiren.store.tables import (
    contribution_months,
    history_stints,
    intake_receipts,
    journal,
    region_obligations,
    transfers,
    workers,
)

RANGE_MONTHS_MAX = 12
BATCH_ROWS_MAX = 2_000_000
LOOKUP_CHUNK = 500
OPTIMISTIC_ROWS_MIN = 1_000  # smaller batches look everything up first
REQUEST_ID_CHARS_MAX = TX_ID_CHARS_MAX - len("/YYYY-MM") - len("/hukou")
HUKOU_SUFFIX = "/hukou"
SCHEMES = (Scheme.EMPLOYEE_PENSION, Scheme.EMPLOYEE_MEDICAL)
# ids the system gives its own transactions: a client's id may not start so
RESERVED_PREFIXES = (
    "transfer/", "interest/", "settlement/", "months/", "enrol/", "gather/", "receipt/",
    "engage/", "provisional/",
)  # fmt: skip

POSTED, REPLAYED, REFUSED = 0, 1, 2


class ContributionRefused(SuirenError):
    code = "contribution-refused"


class InsuranceMoved(Retry):
    code = "insurance-moved"


@dataclass(frozen=True)
class Refusal:
    """Why one row was not posted: its index in the batch, the field at fault, a stable code."""

    row: int
    field: str
    code: str
    message: str  # English
    message_zh: str | None = None  # where the message is in the catalogue (domain/messages.py)

    @property
    def said(self) -> Text:
        """The message in both languages (every refusal of a row is in the catalogue)."""
        return Text(self.message_zh or "", self.message)


@dataclass(frozen=True)
class MonthPaid:
    tx_id: str
    month: Month
    region: str
    base_fen: int
    due_fen: int
    individual_account_fen: int
    pooled_fen: int
    replayed: bool
    scheme: str = Scheme.EMPLOYEE_PENSION.value
    hukou_region: str | None = None  # where the part held at the hukou region went
    hukou_fen: int = 0
    # the yearly figures the month's bounds (or its hukou split) rest on that stand in for
    # ones not published yet (``month_figures``), as the first posting recorded them
    provisional: tuple[ResolvedValue, ...] = ()

    def warnings(self) -> list[dict[str, Any]]:
        """``provisional-parameter`` where the month's bounds are provisional, else none."""
        warning = provisional_warning(self.provisional, "base_yuan", str(self.month), BOUNDS_THEN)
        return [] if warning is None else [warning]

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "tx_id": self.tx_id,
            "month": str(self.month),
            "region": self.region,
            "scheme": self.scheme,
            "base_yuan": fen_to_yuan_str(self.base_fen),
            "due_fen": self.due_fen,
            "individual_account_fen": self.individual_account_fen,
            "pooled_fen": self.pooled_fen,
            "replayed": self.replayed,
            "warnings": self.warnings(),
        }
        if self.scheme == Scheme.EMPLOYEE_MEDICAL.value:
            data |= {
                "pooled_work_region_fen": self.pooled_fen - self.hukou_fen,
                "hukou_region": self.hukou_region,
                "pooled_hukou_region_fen": self.hukou_fen,
            }
        return data


@dataclass(frozen=True)
class ContributionRows:
    """Many contribution months as columns: the request (the same for one month or a file)."""

    tx_ids: Any  # list[str] or an Arrow string array
    worker_ids: Any
    months: npt.NDArray[np.int64]  # Month ordinals
    base_fen: npt.NDArray[np.int64]


@dataclass(kw_only=True)
class BatchOutcome:
    """What became of each row of a batch, as columns (``status``: POSTED, REPLAYED, REFUSED)."""

    status: npt.NDArray[np.int8]
    region: list[str]
    due_fen: npt.NDArray[np.int64]
    account_fen: npt.NDArray[np.int64]
    pooled_fen: npt.NDArray[np.int64]
    held_fen: npt.NDArray[np.int64]
    hukou: list[str | None]
    refusals: list[Refusal] = field(default_factory=list)
    # the journal sequence of each posted or replayed row's month entry (0: not read, a
    # replay answered from a receipt without amounts), and (region, seq, month) → the
    # provisional figures its bounds rest on, as the first posting recorded them
    # (``services.provisional_uses``): for the months written and replayed
    seq: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    provisional: dict[tuple[str, int, int], tuple[ResolvedValue, ...]] = field(default_factory=dict)

    def count(self, status: int) -> int:
        return int(np.count_nonzero(self.status == status))

    def due_by_region(self, status: int = POSTED) -> dict[str, int]:
        """The due of the rows of ``status`` summed per region (exact int64, no loop per row)."""
        at = np.flatnonzero(self.status == status)
        if not len(at):
            return {}
        encoded = pc.dictionary_encode(pa.array(self.region, type=pa.string()).take(pa.array(at)))
        sums = np.zeros(len(encoded.dictionary), dtype=np.int64)
        np.add.at(sums, encoded.indices.to_numpy(zero_copy_only=False), self.due_fen[at])
        return dict(sorted(zip(encoded.dictionary.to_pylist(), sums.tolist(), strict=True)))


def check_request_id(request_id: str) -> str:
    what = message("noun.payment-id")
    check_tx_id(request_id, what)
    if len(request_id) > REQUEST_ID_CHARS_MAX:
        raise InvalidInput(message("id.too-long", what=what, chars_max=REQUEST_ID_CHARS_MAX))
    if request_id.startswith(RESERVED_PREFIXES):
        raise InvalidInput(message("id.reserved", what=what, prefixes=", ".join(RESERVED_PREFIXES)))
    return request_id


def contribute(
    connection: Connection,
    policy: Policy,
    request_id: str,
    worker_id: str,
    first: Month,
    last: Month,
    base_fen: int,
    now: datetime,
    scheme: Scheme = Scheme.EMPLOYEE_PENSION,
) -> list[MonthPaid]:
    """Pay ``scheme`` for the months ``first``..``last`` at ``base_fen``; all or nothing."""
    check_request_id(request_id)
    if last < first:
        raise InvalidInput(message("payment.range-reversed", first=first, last=last))
    if last - first + 1 > RANGE_MONTHS_MAX:
        raise InvalidInput(
            message("payment.range-too-long", most=RANGE_MONTHS_MAX, months=last - first + 1)
        )
    months = np.arange(first.ordinal, last.ordinal + 1, dtype=np.int64)
    rows = ContributionRows(
        tx_ids=[f"{request_id}/{Month(int(m))}" for m in months],
        worker_ids=[worker_id] * len(months),
        months=months,
        base_fen=np.full(len(months), base_fen, dtype=np.int64),
    )
    return post_contributions(connection, policy, rows, now, scheme)


def post_contributions(
    connection: Connection,
    policy: Policy,
    rows: ContributionRows,
    now: datetime,
    scheme: Scheme = Scheme.EMPLOYEE_PENSION,
) -> list[MonthPaid]:
    """Post a request's months all or nothing: the first refusal refuses it, nothing written."""
    outcome = post_batch(connection, policy, rows, now, scheme, refuse_all=True)
    tx_ids = _strings(rows.tx_ids)
    figures = [  # as the first posting recorded them, for a replay too
        outcome.provisional.get((region, int(seq), int(month)), ())
        for region, seq, month in zip(outcome.region, outcome.seq, rows.months, strict=True)
    ]
    return [
        MonthPaid(
            tx_ids[i],
            Month(int(rows.months[i])),
            outcome.region[i],
            int(rows.base_fen[i]),
            int(outcome.due_fen[i]),
            int(outcome.account_fen[i]),
            int(outcome.pooled_fen[i]),
            bool(outcome.status[i] == REPLAYED),
            scheme.value,
            outcome.hukou[i],
            int(outcome.held_fen[i]),
            figures[i],
        )
        for i in range(len(tx_ids))
    ]


def month_figures(
    policy: Policy, months: list[Month], regions: list[str], scheme: Scheme
) -> list[tuple[ResolvedValue, ...]]:
    """Per month paid in its region: the provisional yearly figures (``services.provisional``)
    its floor and ceiling rest on (``Bounds.figures``) and, for employee medical where the
    reform's hukou pool is enabled, the average wage its high-income test reads. The distinct
    (month, region) pairs are resolved in one vector look-up (a file of many regions has
    thousands); should one lack parameters, pair by pair, and that one has none."""
    pairs = sorted({(m, r) for m, r in zip(months, regions, strict=True) if r})
    if not pairs:
        return [() for _ in months]
    try:
        figures = _figures_of(policy, pairs, scheme)
    except ParameterNotFound:
        figures = []
        for pair in pairs:
            try:
                figures += _figures_of(policy, [pair], scheme)
            except ParameterNotFound:
                figures.append(())
    found = dict(zip(pairs, figures, strict=True))
    return [found.get((month, region), ()) for month, region in zip(months, regions, strict=True)]


def _figures_of(
    policy: Policy, pairs: list[tuple[Month, str]], scheme: Scheme
) -> list[tuple[ResolvedValue, ...]]:
    days = np.array([day_number(m.first_day()) for m, _ in pairs], dtype=np.int64)
    codes = np.array([r for _, r in pairs], dtype="<U6")
    bounds = contribution_bounds(policy, days, codes)
    enabled = None
    if scheme is Scheme.EMPLOYEE_MEDICAL:
        names = {"enabled": HUKOU_PARAMETERS["enabled"]}
        enabled = policy.look_up(days, codes, names, frozenset(names))
    out = []
    for i in range(len(pairs)):
        used = list(bounds.figures(i))
        if enabled is not None and enabled.for_case(i)["enabled"].value:
            used.append(bounds.cited.for_case(i)["wage"])
        out.append(provisional(used))
    return out


class _Batch:
    """A batch's columns and what was decided of each row so far."""

    def __init__(self, rows: ContributionRows, scheme: Scheme) -> None:
        self.tx_id = _arrow(rows.tx_ids)
        self.worker_id = _arrow(rows.worker_ids)
        self.month = np.ascontiguousarray(rows.months, dtype=np.int64)
        self.base = np.ascontiguousarray(rows.base_fen, dtype=np.int64)
        self.scheme = scheme
        n = self.n = len(self.tx_id)
        self.status = np.full(n, POSTED, dtype=np.int8)
        self.refusals: dict[int, Refusal] = {}
        self.region = np.full(n, "", dtype=object)
        self.temporary = np.zeros(n, dtype=np.int64)
        self.hukou = np.full(n, "", dtype=object)
        self.birth = np.zeros(n, dtype=np.int64)  # the worker's birth month (ordinal)
        self.male = np.zeros(n, dtype=bool)
        self.due, self.account, self.pooled, self.held, self.attempt = (
            np.zeros(n, dtype=np.int64) for _ in range(5)
        )
        self.visible: Callable[[str], bool] | None = None  # the regions the caller may see
        self.fingerprint: str | None = None  # a large batch's, for its receipt
        self.entries: list[tuple[str, int]] = []  # the month entries written: (region, seq)
        self.seq = np.zeros(n, dtype=np.int64)  # each posted or replayed row's entry
        self.receipt_entries: list[tuple[str, int]] = []  # a receipt's, for a replay from it
        self.provisional: dict[tuple[str, int, int], tuple[ResolvedValue, ...]] = {}

    def refuse(
        self, index: Iterable[int], field_: str, code: str, message: Text | Callable[[int], Text]
    ) -> None:
        """Refuse rows ``index`` (the first reason of a row stands); ``message(i)`` or text."""
        for i in index:
            if self.status[i] != REFUSED:
                self.status[i] = REFUSED
                said = message(i) if callable(message) else message
                self.refusals[i] = Refusal(i, field_, code, said.en, said.zh)

    def open(self) -> npt.NDArray[np.intp]:
        return np.flatnonzero(self.status == POSTED)


def post_batch(
    connection: Connection,
    policy: Policy,
    rows: ContributionRows,
    now: datetime,
    scheme: Scheme = Scheme.EMPLOYEE_PENSION,
    refuse_all: bool = False,
    visible: Callable[[str], bool] | None = None,
    amounts: bool = True,
) -> BatchOutcome:
    """Post what can be posted of a batch; see module doc. ``refuse_all``: a refusal raises
    (its own error type) and nothing is written. ``visible``: whether the caller may pay for a
    worker insured in a region (an agency's own); a row of any other worker is refused
    exactly as one of an unknown worker, so that the answer does not say who exists.

    A batch of ``OPTIMISTIC_ROWS_MIN`` rows or more that posted anything leaves a receipt
    (``intake_receipts``); the same batch received again is answered from it: the rows it
    posted are replays, and only the rows it refused go through the checks again.
    ``amounts=False``: the caller only counts (a file), so those replayed rows carry no region
    or amounts in the outcome, and the ledger is not read for them."""
    if scheme not in SCHEMES:
        raise InvalidInput(message("payment.schemes", schemes=", ".join(s.value for s in SCHEMES)))
    batch = _Batch(rows, scheme)
    batch.visible = visible
    if batch.n > BATCH_ROWS_MAX:
        raise InvalidInput(message("payment.batch-too-large", most=BATCH_ROWS_MAX, rows=batch.n))
    small = batch.n < OPTIMISTIC_ROWS_MIN
    if not small:
        batch.fingerprint = batch_fingerprint(
            scheme.value, [batch.tx_id, batch.worker_id], [batch.month, batch.base]
        )
        receipt = _receipt(connection, batch.fingerprint, visible)
        if receipt is not None:
            _replay_receipt(connection, policy, batch, receipt, now, refuse_all, visible, amounts)
            return _outcome(connection, batch)
    _duplicates(batch)
    _enrolled(connection, batch, visible)
    _check_months(policy, batch, now)
    _split(policy, batch)
    locks = sorted(
        set(batch.region[batch.open()].tolist())
        | set(batch.hukou[np.flatnonzero(batch.held)].tolist())
    )
    lock_chain_heads(connection, locks)
    _still_there(connection, batch)
    _refuse_moving(connection, batch)
    _refuse_history(connection, batch)
    _refuse_past_retirement(connection, policy, batch, now)
    if small or _recorded_sample(
        connection, batch
    ):  # a few rows, or a batch sent again: look all up
        _look_up(connection, batch, np.arange(batch.n))
        _raise_first(batch, refuse_all)
        _write(connection, batch, now)
    else:  # a refused row may be a replay; the others are written as first payments
        _look_up(connection, batch, np.array(sorted(batch.refusals), dtype=np.int64))
        _raise_first(batch, refuse_all)
        savepoint = connection.begin_nested()
        try:
            _write(connection, batch, now)
            savepoint.commit()
        except IntegrityError:
            savepoint.rollback()  # a replay or a month already paid: look the batch up
            _look_up(connection, batch, batch.open())
            _raise_first(batch, refuse_all)
            _write(connection, batch, now)
    _record_uses(connection, policy, batch, now)
    _record_receipt(connection, batch, now)
    return _outcome(connection, batch)


def _record_uses(connection: Connection, policy: Policy, batch: _Batch, now: datetime) -> None:
    """Record the provisional figures the bounds of the months just written rest on, per
    month of each month entry (``services.provisional_uses``), so that a replay says what
    this posting used; one facts-only ``provisional/{region}/{seq}`` entry beside each month
    entry that has any."""
    written = batch.open()
    if not len(written) or not batch.entries:
        return
    # the distinct (region, entry, month) of the rows written, as integer columns: one pass
    # whatever the number of regions (a comparison of the region column per entry was
    # quadratic in a file of many prefectures)
    encoded = pc.dictionary_encode(pa.array(batch.region[written], type=pa.string()))
    names = encoded.dictionary.to_pylist()
    code = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    triples = _distinct_rows([code, batch.seq[written], batch.month[written]])
    ours = set(batch.entries)
    keys = [
        (names[r], q, m) for r, q, m in zip(*triples.tolist(), strict=True) if (names[r], q) in ours
    ]
    if not keys:
        return
    months = [Month(m) for _, _, m in keys]
    regions = [r for r, _, _ in keys]
    facts: dict[tuple[str, int], list[Fact]] = defaultdict(list)
    for key, figures in zip(
        keys, month_figures(policy, months, regions, batch.scheme), strict=True
    ):
        region, seq, ordinal = key
        used = use_fact(f"months/{region}/{seq}", ordinal, figures)
        if used is not None:
            facts[(region, seq)].append(used)
            batch.provisional[key] = figures
    post_transactions(
        connection,
        [
            Transaction.build(
                f"provisional/{region}/{seq}",
                TxCode.PROVISIONAL,
                region,
                Month.from_date(now.date()),
                now,
                [],
                memo=f"provisional figures of months/{region}/{seq}",
                facts=entry_facts,
            )
            for (region, seq), entry_facts in sorted(facts.items())
        ],
    )


def _distinct_rows(columns: list[npt.NDArray[np.int64]]) -> npt.NDArray[np.int64]:
    """The distinct rows of integer columns in lexicographic order, one row per column of the
    result — ``np.unique(np.stack(columns), axis=1)``, whose sort of row views took 0.15 s a
    chunk of 100,000 rows: each column numbered by its sorted distinct values, the numbers
    joined in one int64 key, one plain unique."""
    key = np.zeros(len(columns[0]), dtype=np.int64)
    distinct = []
    span = 1
    for column in columns:
        values, number = np.unique(column, return_inverse=True)
        span *= max(len(values), 1)
        if span >= 1 << 62:
            raise AssertionError("too many distinct rows to key in one int64")
        key = key * len(values) + number.reshape(-1)
        distinct.append(values)
    keys = np.unique(key)
    out = np.empty((len(columns), len(keys)), dtype=np.int64)
    for at in range(len(columns) - 1, -1, -1):
        size = max(len(distinct[at]), 1)
        out[at] = distinct[at][keys % size] if len(keys) else keys
        keys = keys // size
    return out


def _replayed_uses(connection: Connection, batch: _Batch) -> None:
    """The provisional figures the replayed rows' first postings recorded (the whole of a
    receipt's entries, whose rows are all this batch's; of another entry, the rows' months)."""
    replayed = np.flatnonzero((batch.status == REPLAYED) & (batch.seq > 0))
    wanted = {
        (r, int(q), int(m))
        for r, q, m in zip(
            batch.region[replayed].tolist(),
            batch.seq[replayed].tolist(),
            batch.month[replayed].tolist(),
            strict=True,
        )
    }
    entries = set(batch.receipt_entries) | {(r, q) for r, q, _ in wanted}
    if not entries:
        return
    recorded = uses_of(connection, [f"months/{r}/{q}" for r, q in entries])
    whole = set(batch.receipt_entries)
    for (subject, ordinal), figures in recorded.items():
        _, region, seq = subject.split("/")
        key = (region, int(seq), ordinal)
        if key in wanted or (region, int(seq)) in whole:
            batch.provisional.setdefault(key, figures)


def _outcome(connection: Connection, batch: _Batch) -> BatchOutcome:
    _replayed_uses(connection, batch)
    hukou = np.where(batch.held != 0, batch.hukou, None).tolist()
    return BatchOutcome(
        status=batch.status,
        region=batch.region.tolist(),
        due_fen=batch.due,
        account_fen=batch.account,
        pooled_fen=batch.pooled,
        held_fen=batch.held,
        hukou=hukou,
        refusals=[batch.refusals[i] for i in sorted(batch.refusals)],
        seq=batch.seq,
        provisional=batch.provisional,
    )


SAMPLE_ROWS = 64  # at each end of a batch


def _recorded_sample(connection: Connection, batch: _Batch) -> bool:
    """Whether a row at either end of the batch is already recorded: a batch sent again
    (a re-run after a crash, a retried request) is then compared with the ledger in one
    pass, instead of failing an optimistic insert first."""
    rows = batch.open()
    if not len(rows):
        return False
    picked = np.unique(np.concatenate([rows[:SAMPLE_ROWS], rows[-SAMPLE_ROWS:]]))
    ids = _take(batch.tx_id, picked)
    query = select(contribution_months.c.tx_id).where(contribution_months.c.tx_id.in_(ids)).limit(1)
    return connection.execute(query).first() is not None


def _arrow(column: Any) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks().cast(pa.string())
    if isinstance(column, pa.Array):
        return column.cast(pa.string())
    return pa.array(list(column), type=pa.string())


def _strings(column: Any) -> list[str]:
    return _arrow(column).to_pylist()  # type: ignore[no-any-return]


def _take(column: pa.Array, index: Any) -> list[str]:
    return column.take(pa.array(np.asarray(index, dtype=np.int64))).to_pylist()  # type: ignore[no-any-return]


_ERRORS = {
    "unknown-worker": None, "not-enrolled": InvalidInput, "conflict": TransactionConflict,
    "moved": InsuranceMoved,
}  # fmt: skip


def _raise_first(batch: _Batch, refuse_all: bool) -> None:
    if not refuse_all or not batch.refusals:
        return
    first = batch.refusals[min(batch.refusals)]
    if first.code == "unknown-worker":
        from suiren.services.workers import UnknownWorker

        raise UnknownWorker(first.said)
    error = _ERRORS.get(first.code) or ContributionRefused
    raise error(first.said)


def _duplicates(batch: _Batch) -> None:
    """The same payment and month, or the same worker and month, twice: the later is refused."""
    payment = _codes(batch.tx_id)
    worker = _codes(batch.worker_id) << 32 | (batch.month & 0xFFFFFFFF)
    for key, what, code in (
        (payment, "noun.payment-and-month", "duplicate-id"),
        (worker, "noun.worker-and-month", "duplicate"),
    ):
        _, first = np.unique(key, return_index=True)
        if len(first) == batch.n:
            continue
        keep = np.zeros(batch.n, dtype=bool)
        keep[first] = True  # np.unique gives each key's first position
        repeated = np.flatnonzero(~keep)
        batch.refuse(repeated.tolist(), "month", code, message("payment.twice", what=message(what)))


def _codes(column: pa.Array) -> npt.NDArray[np.int64]:
    """Each value's number among the column's distinct values (equal values, equal numbers)."""
    encoded = pc.dictionary_encode(column)
    return np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)


def _chunked(
    connection: Connection, query: Any, column: Any, keys: list[str], temp: str
) -> Iterable[Any]:
    """``query`` restricted to ``column`` in ``keys``: a joined temporary table on PostgreSQL
    for many keys, chunks of ``IN (…)`` otherwise."""
    if is_postgres(connection) and len(keys) > LOOKUP_CHUNK:
        fill_keys(connection, temp, keys)
        yield connection.execute(
            query.where(column.in_(select(text("key")).select_from(text(temp))))
        )
        return
    for start in range(0, len(keys), LOOKUP_CHUNK):
        yield connection.execute(query.where(column.in_(keys[start : start + LOOKUP_CHUNK])))


def _enrolled(
    connection: Connection, batch: _Batch, visible: Callable[[str], bool] | None = None
) -> None:
    """Each row's region, temporary account and hukou from its worker's enrolment (a worker
    the caller may not see is as unknown as one that does not exist)."""
    found = _enrolments(connection, pc.unique(batch.worker_id).to_pylist(), batch.scheme)
    if visible is not None:
        seen = [r for r in pc.unique(found["region"]).to_pylist() if visible(r)]
        found = found.filter(pc.is_in(found["region"], value_set=pa.array(seen, pa.string())))
    at = pc.index_in(batch.worker_id, value_set=found["worker_id"].combine_chunks())
    missing = at.is_null().to_numpy(zero_copy_only=False)
    index = at.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    if found.num_rows:

        def column(name: str) -> npt.NDArray[Any]:  # each enrolled worker's value, then each row's
            return found[name].to_numpy(zero_copy_only=False)[index]  # type: ignore[no-any-return]

        batch.region = np.where(missing, "", column("region"))
        batch.temporary = np.where(missing, 0, column("temporary"))
        batch.hukou = np.where(missing, "", column("hukou_region"))
        batch.birth = np.where(missing, 0, column("birth_month"))
        batch.male = np.where(missing, False, column("sex") == "M")
    if missing.any():
        absent = np.flatnonzero(missing)
        names = _take(batch.worker_id, absent)
        registered = _registered(connection, sorted(set(names))) if visible is None else set()
        for i, worker in zip(absent.tolist(), names, strict=True):
            if worker in registered:
                batch.refuse(
                    [i],
                    "worker_id",
                    "not-enrolled",
                    message("worker.not-enrolled", worker=worker, scheme=batch.scheme.value),
                )
            else:
                batch.refuse(
                    [i],
                    "worker_id",
                    "unknown-worker",
                    message("worker.unknown", shown=repr(worker[:40])),
                )


ENROLMENT_COLUMNS = {  # name: (SQL, type); temporary as 0 or 1 on both databases
    "worker_id": ("e.worker_id", pa.string()),
    "region": ("e.region", pa.string()),
    "temporary": ("CASE WHEN e.temporary THEN 1 ELSE 0 END", pa.int64()),
    "hukou_region": ("w.hukou_region", pa.string()),
    "birth_month": ("w.birth_month", pa.int64()),
    "sex": ("w.sex", pa.string()),
}
ENROLMENT_REGIONS = ("worker_id", "region")  # all the check under the locks needs (_still_there)


def _enrolments(
    connection: Connection,
    worker_ids: list[str],
    scheme: Scheme,
    names: Iterable[str] = ENROLMENT_COLUMNS,
) -> pa.Table:
    """The enrolments in ``scheme`` of those of ``worker_ids`` enrolled in it, as columns
    ``names`` of ``ENROLMENT_COLUMNS`` (region, paying into a temporary account, and of the
    worker: hukou region, birth month ordinal, sex): one statement, no Python object per row
    on PostgreSQL."""
    wanted = list(names)
    keys, params = key_set(connection, "wanted_workers", worker_ids)
    of_workers = any(ENROLMENT_COLUMNS[n][0].startswith("w.") for n in wanted)
    join = " JOIN workers w ON w.worker_id = e.worker_id" if of_workers else ""
    return select_columns(
        connection,
        f"SELECT {', '.join(f'{ENROLMENT_COLUMNS[n][0]} AS {n}' for n in wanted)}"
        f" FROM enrolments e{join} WHERE e.scheme = :scheme AND e.worker_id IN {keys}",
        params | {"scheme": scheme.value},
        pa.schema([(n, ENROLMENT_COLUMNS[n][1]) for n in wanted]),
    )


def _registered(connection: Connection, worker_ids: list[str]) -> set[str]:
    query = select(workers.c.worker_id)
    return {
        r.worker_id
        for rows in _chunked(connection, query, workers.c.worker_id, worker_ids, "known_workers")
        for r in rows
    }


def _still_there(connection: Connection, batch: _Batch) -> None:
    """Under the locks: a worker whose insurance moved since it was read refuses the batch."""
    rows = batch.open()
    if not len(rows):
        return
    worker = batch.worker_id.take(pa.array(rows))
    again = _enrolments(connection, pc.unique(worker).to_pylist(), batch.scheme, ENROLMENT_REGIONS)
    now_in = again["region"].take(
        pc.index_in(worker, value_set=again["worker_id"].combine_chunks())
    )
    read = pa.array(batch.region[rows].tolist(), type=pa.string())
    moved = pc.fill_null(pc.not_equal(now_in, read), True)  # null: no longer enrolled
    if not pc.any(moved).as_py():
        return
    first = int(np.flatnonzero(moved.to_numpy(zero_copy_only=False))[0])
    region = now_in[first].as_py() or ""
    raise InsuranceMoved(
        message(
            "payment.moved-meanwhile",
            worker=worker[first].as_py(),
            region=Text(region or "他处", region or "nowhere"),
        )
    )


def _check_months(policy: Policy, batch: _Batch, now: datetime) -> None:
    today = now.date()
    current = Month.from_date(today).ordinal
    batch.refuse(
        np.flatnonzero(batch.month > current).tolist(),
        "month",
        "future",
        lambda i: message("payment.future", month=Month(int(batch.month[i]))),
    )
    years_back = int(policy.national(today).value("contribution.flexible.back_payment_years_max"))
    earliest = Month.of(today.year - years_back, 1).ordinal
    batch.refuse(
        np.flatnonzero(batch.month < earliest).tolist(),
        "month",
        "back-payment",
        lambda i: message(
            "payment.back-payment", month=Month(int(batch.month[i])), earliest=Month(earliest)
        ),
    )


def _split(policy: Policy, batch: _Batch) -> None:
    """Bounds, due, account and pooled part (and the hukou part) of the open rows, computed per
    distinct (month, region); a pair without parameters refuses its rows."""
    rows = batch.open()
    if not len(rows):
        return
    months = batch.month[rows]
    regions = batch.region[rows].astype("<U6")
    unique_months, month_of = np.unique(months, return_inverse=True)
    day_of_month = np.array(
        [day_number(Month(int(m)).first_day()) for m in unique_months], dtype=np.int64
    )
    days = day_of_month[month_of]
    missing = _missing_parameters(policy, days, regions)
    if missing.any():
        batch.refuse(
            rows[missing].tolist(),
            "month",
            "no-parameters",
            lambda i: message(
                "payment.no-parameters", region=batch.region[i], month=Month(int(batch.month[i]))
            ),
        )
        keep = ~missing
        rows, days, regions, months = rows[keep], days[keep], regions[keep], months[keep]
    if not len(rows):
        return
    bounds = contribution_bounds(policy, days, regions)
    base = batch.base[rows]
    outside = (base < bounds.floor_fen) | (base > bounds.ceiling_fen)
    for k in np.flatnonzero(outside).tolist():
        i = int(rows[k])
        batch.refuse(
            [i],
            "base_yuan",
            "base-out-of-bounds",
            message(
                "payment.base-out-of-bounds",
                base=fen_to_yuan_str(int(base[k])),
                month=Month(int(batch.month[i])),
                region=batch.region[i],
                floor=fen_to_yuan_str(int(bounds.floor_fen[k])),
                ceiling=fen_to_yuan_str(int(bounds.ceiling_fen[k])),
            ),
        )
    if batch.scheme is Scheme.EMPLOYEE_PENSION:
        split = split_contribution(policy, days, regions, base)
        batch.due[rows], batch.account[rows] = split.due_fen, split.individual_account_fen
        batch.pooled[rows] = split.pooled_fen
        return
    for month in np.unique(months).tolist():
        part_of = np.flatnonzero(months == month)
        rows_of = rows[part_of]
        part = hukou_pool(
            policy,
            Month(month).first_day(),
            regions[part_of],
            batch.hukou[rows_of].astype(str),
            base[part_of],
            bounds.wage_fen[part_of],
        )
        batch.due[rows_of], batch.account[rows_of] = (
            part.split.due_fen,
            part.split.individual_account_fen,
        )
        batch.pooled[rows_of], batch.held[rows_of] = part.split.pooled_fen, part.hukou_fen


def _missing_parameters(
    policy: Policy, days: npt.NDArray[np.int64], regions: npt.NDArray[Any]
) -> npt.NDArray[np.bool_]:
    """Rows whose (day, region) cannot be split or bounded (no parameters for it). The
    distinct pairs are tried in one vector look-up; should one lack parameters, pair by
    pair, to find which."""
    key = days * REGION_SPAN + region_numbers(regions)
    distinct, first = np.unique(key, return_index=True)
    missing = np.zeros(len(days), dtype=bool)
    if _has_parameters(policy, days[first], regions[first]):
        return missing
    for k, at in zip(distinct.tolist(), first.tolist(), strict=True):
        if not _has_parameters(policy, days[at : at + 1], regions[at : at + 1]):
            missing[key == k] = True
    return missing


def _has_parameters(policy: Policy, days: npt.NDArray[np.int64], regions: npt.NDArray[Any]) -> bool:
    try:
        contribution_bounds(policy, days, regions)
        split_contribution(policy, days, regions, np.ones(len(days), dtype=np.int64))
    except ParameterNotFound:
        return False
    return True


_STAGED = "staged_months"
_STAGE_COLUMNS = ("i", "tx_id", "worker_id", "month", "base_fen")


def _stage(connection: Connection, batch: _Batch, index: npt.NDArray[np.int64]) -> None:
    """The rows ``index`` in a temporary table, to be compared with the ledger in SQL."""
    if is_postgres(connection):
        connection.exec_driver_sql(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGED} (i bigint, tx_id text, worker_id text,"
            " month integer, base_fen bigint) ON COMMIT DROP"
        )
        connection.exec_driver_sql(f"TRUNCATE {_STAGED}")
    else:
        connection.exec_driver_sql(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGED} (i INTEGER, tx_id TEXT, worker_id TEXT,"
            " month INTEGER, base_fen INTEGER)"
        )
        connection.exec_driver_sql(f"DELETE FROM {_STAGED}")
    picked = pa.array(index)
    insert_arrow(
        connection,
        _staged_table,
        pa.table(
            {
                "i": picked,
                "tx_id": batch.tx_id.take(picked),
                "worker_id": batch.worker_id.take(picked),
                "month": pa.array(batch.month[index]),
                "base_fen": pa.array(batch.base[index]),
            }
        ),
    )
    if is_postgres(connection):
        connection.exec_driver_sql(f"ANALYZE {_STAGED}")  # statistics for the joins that follow


_staged_table = Table(_STAGED, MetaData(), *(Column(n) for n in _STAGE_COLUMNS))


def _staged_rows(
    connection: Connection, batch: _Batch, index: npt.NDArray[np.int64]
) -> tuple[str, dict[str, Any]]:
    """A ``WITH s (…)`` clause holding rows ``index``: inline ``VALUES`` for a few rows (a
    single payment creates no temporary table), the staged temporary table for many."""
    columns = ", ".join(_STAGE_COLUMNS)
    if len(index) > LOOKUP_CHUNK:
        _stage(connection, batch, index)
        return f"WITH s ({columns}) AS (SELECT {columns} FROM {_STAGED})", {}
    params: dict[str, Any] = {}
    values = []
    tx_ids, worker_ids = _take(batch.tx_id, index), _take(batch.worker_id, index)
    for k, i in enumerate(index.tolist()):
        values.append(f"(:i{k}, :t{k}, :w{k}, :m{k}, :b{k})")
        params |= {
            f"i{k}": i,
            f"t{k}": tx_ids[k],
            f"w{k}": worker_ids[k],
            f"m{k}": int(batch.month[i]),
            f"b{k}": int(batch.base[i]),
        }
    return f"WITH s ({columns}) AS (VALUES {', '.join(values)})", params


def _look_up(connection: Connection, batch: _Batch, index: npt.NDArray[np.int64]) -> None:
    """Compare rows ``index`` with the ledger: an id already recorded is a replay (it returns
    what was recorded) or a conflict; a month paid before gives the next attempt, or a
    refusal while a payment of it stands. A payment id repeated in the batch stays refused, and
    so does a row of a worker the caller may not see (it is not compared with anything)."""
    index = np.asarray(index, dtype=np.int64)
    index = index[[batch.refusals.get(int(i), _NONE).code not in _NOT_LOOKED_UP for i in index]]
    if not len(index):
        return
    staged, params = _staged_rows(connection, batch, index)
    recorded = connection.execute(
        text(
            f"{staged} SELECT s.i, (m.worker_id = s.worker_id AND m.month = s.month AND m.base_fen = s.base_fen"
            " AND m.scheme = :scheme) AS same, m.worker_id, m.month, m.base_fen, m.scheme, m.region,"
            " m.due_fen, m.account_fen, m.pooled_fen, m.held_fen, o.to_region AS hukou, m.seq"
            " FROM s JOIN contribution_months m ON m.tx_id = s.tx_id"
            f" LEFT JOIN region_obligations o ON o.obligation_id = m.tx_id || '{HUKOU_SUFFIX}'"
        ),
        params | {"scheme": batch.scheme.value},
    ).all()
    if recorded:
        columns = list(zip(*recorded, strict=True))
        at = np.array(columns[0], dtype=np.int64)
        same = np.array([bool(v) for v in columns[1]])
        for k in np.flatnonzero(~same).tolist():
            i, r = int(at[k]), recorded[k]
            batch.status[i] = POSTED  # a conflict replaces any other reason
            seen = batch.visible is None or batch.visible(r.region)
            what = (
                message(
                    "payment.conflict-what",
                    scheme=r.scheme,
                    worker=r.worker_id,
                    month=Month(int(r.month)),
                    base=fen_to_yuan_str(int(r.base_fen)),
                )
                if seen  # another agency's payment is not described to the caller
                else Text("", "")
            )
            batch.refuse(
                [i],
                "payment_id",
                "conflict",
                message("payment.conflict", shown=repr(batch.tx_id[i].as_py()), what=what),
            )
        rows = at[same]
        for i in rows.tolist():
            batch.refusals.pop(i, None)
        batch.status[rows] = REPLAYED
        batch.region[rows] = np.array(columns[6], dtype=object)[same]
        for name, column in (("due", 7), ("account", 8), ("pooled", 9), ("held", 10)):
            getattr(batch, name)[rows] = np.array(columns[column], dtype=np.int64)[same]
        batch.hukou[rows] = np.array([h or "" for h in columns[11]], dtype=object)[same]
        batch.seq[rows] = np.array(columns[12], dtype=np.int64)[same]
    paid = connection.execute(
        text(
            f"{staged} SELECT s.i, m.tx_id, m.month, m.worker_id,"
            " EXISTS (SELECT 1 FROM journal j WHERE j.reverses = m.tx_id) AS reversed"
            " FROM s JOIN contribution_months m ON m.worker_id = s.worker_id"
            " AND m.month = s.month AND m.scheme = :scheme AND m.tx_id <> s.tx_id"
        ),
        params | {"scheme": batch.scheme.value},
    ).all()
    for r in paid:
        i = int(r.i)
        if batch.status[i] != POSTED:
            continue
        if r.reversed:
            batch.attempt[i] += 1
        else:
            batch.refuse(
                [i],
                "month",
                "already-paid",
                message(
                    "payment.already-paid",
                    month=Month(int(r.month)),
                    worker=r.worker_id,
                    scheme=batch.scheme.value,
                    payment=r.tx_id,
                ),
            )


_NONE = Refusal(-1, "", "", "")
_NOT_LOOKED_UP = frozenset({"duplicate-id", "unknown-worker"})


MOVING_STATES = ("approved", "accepted")  # the money has left the old region


def moving_out(connection: Connection, worker_id: str, region: str, scheme: Scheme) -> str | None:
    """The transfer under way that takes the worker's insurance out of ``region``, if any:
    no payment there until it is completed or rejected (``_refuse_moving``)."""
    return connection.execute(
        select(transfers.c.transfer_id).where(
            transfers.c.worker_id == worker_id,
            transfers.c.from_region == region,
            transfers.c.scheme == scheme.value,
            transfers.c.state.in_(MOVING_STATES),
        )
    ).scalar()


def _refuse_moving(connection: Connection, batch: _Batch) -> None:
    """While a transfer out of a region is under way, the money has left it: no new payments
    there until the transfer is completed (then to the new region) or rejected."""
    query = select(transfers.c.worker_id, transfers.c.transfer_id, transfers.c.from_region).where(
        transfers.c.scheme == batch.scheme.value, transfers.c.state.in_(MOVING_STATES)
    )
    wanted = pc.unique(batch.worker_id.take(pa.array(batch.open()))).to_pylist()
    moving = [
        r
        for rows in _chunked(
            connection, query, transfers.c.worker_id, sorted(wanted), "moving_workers"
        )
        for r in rows
    ]
    if not moving:
        return
    out = {(r.worker_id, r.from_region): r.transfer_id for r in moving}
    worker_ids = batch.worker_id.to_pylist()
    for i in batch.open().tolist():
        transfer = out.get((worker_ids[i], batch.region[i]))
        if transfer is not None:
            batch.refuse(
                [i],
                "worker_id",
                "moving",
                message(
                    "payment.moving",
                    worker=worker_ids[i],
                    region=batch.region[i],
                    transfer=transfer,
                ),
            )


def _refuse_history(connection: Connection, batch: _Batch) -> None:
    """A month the worker's imported history already records (paid, deemed or in a
    temporary account, services/history.py) is not paid again: a month is recorded once.
    The import holds the worker's region lock while it checks the other way round."""
    if connection.execute(select(history_stints.c.row).limit(1)).first() is None:
        return  # no history imported: nothing to compare
    h = history_stints.c
    query = select(h.worker_id, h.from_month, h.to_month, h.region, h.kind).where(
        h.scheme == batch.scheme.value
    )
    wanted = pc.unique(batch.worker_id.take(pa.array(batch.open()))).to_pylist()
    stints: dict[str, list[Any]] = {}
    for rows in _chunked(connection, query, h.worker_id, sorted(wanted), "history_workers"):
        for r in rows:
            stints.setdefault(r.worker_id, []).append(r)
    if not stints:
        return
    worker_ids = batch.worker_id.to_pylist()
    for i in batch.open().tolist():
        month = int(batch.month[i])
        clash = next(
            (s for s in stints.get(worker_ids[i], ()) if s.from_month <= month <= s.to_month),
            None,
        )
        if clash is not None:
            batch.refuse(
                [i],
                "month",
                "already-paid",
                message(
                    "payment.in-history",
                    month=Month(month),
                    worker=worker_ids[i],
                    kind=clash.kind,
                    region=clash.region,
                ),
            )


def _refuse_past_retirement(
    connection: Connection, policy: Policy, batch: _Batch, now: datetime
) -> None:
    """A pension month from the last month the worker could retire in on (the elective
    window's end: the statutory month, or up to ``late_months_max`` after it where a worker
    without an employer may ask for it) is refused once the minimum contribution years are
    reached: the worker is a pensioner (社会保险法 第十六条; ``months_past_retirement``). One
    still short pays on until it is reached (延长缴费, 办法 第二条); every month of the career
    recorded (paid, imported, deemed) and this batch's earlier months count. A worker whose
    retirement rules are not in the parameters has those rows refused as ``no-parameters``.
    Only the employee pension: medical insurance has its own rules at retirement. Workers
    below their category's original age — nearly every row — are passed over in arrays;
    the others' careers are read in one query."""
    if batch.scheme is not Scheme.EMPLOYEE_PENSION:
        return
    rows = batch.open()
    if not len(rows):
        return
    today = now.date()
    rule = retirement_rule(policy, today)
    female = category_index("F", None, policy, today)
    category = np.where(batch.male[rows], 0, female).astype(np.int64)
    # no window ends before the original age of the category: the rest are of working age
    old = batch.month[rows] - batch.birth[rows] >= rule.original_age_months[category]
    if not old.any():
        return
    rows, category = rows[old], category[old]
    keys, inverse = np.unique(np.stack([batch.birth[rows], category]), axis=1, return_inverse=True)
    windows = [_window(policy, birth, c, today) for birth, c in zip(*keys.tolist(), strict=True)]
    no_rules = [i for i, w in enumerate(windows) if isinstance(w, ParameterNotFound)]
    latest = np.array(
        [w.latest_month.ordinal if isinstance(w, ElectiveWindow) else 0 for w in windows],
        dtype=np.int64,
    )
    inverse = inverse.reshape(-1)
    late = batch.month[rows] >= latest[inverse]
    for k in no_rules:
        error = windows[k]
        assert isinstance(error, ParameterNotFound)
        batch.refuse(
            rows[inverse == k].tolist(),
            "worker_id",
            "no-parameters",
            message("payment.no-retirement-rule", born=Month(int(keys[0, k])), error=error.said),
        )
    late &= ~np.isin(inverse, no_rules)
    if not late.any():
        return
    window_of = dict(zip(_take(batch.worker_id, rows[late]), inverse[late].tolist(), strict=True))
    names = sorted(window_of)
    mine = batch.open()
    mine = mine[
        pc.is_in(
            batch.worker_id.take(pa.array(mine)), value_set=pa.array(names, type=pa.string())
        ).to_numpy(zero_copy_only=False)
    ]  # every open row of these workers: their earlier months count too
    # but not a row whose payment id is recorded already: a replay or a conflict writes
    # nothing (a replay's month counts as recorded if it still stands)
    tx_ids = _take(batch.tx_id, mine)
    used = _used_tx_ids(connection, tx_ids)
    mine = mine[np.array([tx not in used for tx in tx_ids], dtype=bool)]
    by_worker: dict[str, list[int]] = defaultdict(list)
    for i, worker in zip(mine.tolist(), _take(batch.worker_id, mine), strict=True):
        by_worker[worker].append(i)
    recorded = _recorded_months(connection, batch.scheme, names)
    for worker, indices in by_worker.items():
        window = windows[window_of[worker]]
        assert isinstance(window, ElectiveWindow)
        months = [int(batch.month[i]) for i in indices]
        past = months_past_retirement(window, recorded.get(worker, ()), months)
        for i, month in zip(indices, months, strict=True):
            if month in past:
                batch.refuse(
                    [i],
                    "month",
                    "past-retirement",
                    past_retirement_text(worker, Month(month), window, past[month]),
                )


def _window(
    policy: Policy, birth: int, category: int, today: date
) -> ElectiveWindow | ParameterNotFound:
    """The worker's elective window, or why the parameters do not give it (a birth so early
    that the rules of the month the age was reached are not in the file)."""
    try:
        return elective_window(policy, Month(birth), category, True, today)
    except ParameterNotFound as error:
        return error


def _used_tx_ids(connection: Connection, tx_ids: list[str]) -> set[str]:
    """Those of ``tx_ids`` the ledger holds a contribution month of (any worker, any scheme)."""
    m = contribution_months.c
    used: set[str] = set()
    for rows in _chunked(connection, select(m.tx_id), m.tx_id, tx_ids, "late_tx_ids"):
        used.update(r.tx_id for r in rows)
    return used


def _recorded_months(
    connection: Connection, scheme: Scheme, worker_ids: list[str]
) -> dict[str, set[int]]:
    """Each worker's recorded months in ``scheme`` (as ``store.lines.paid_months`` with the
    deemed ones: paid and not reversed, and every imported stint), for many workers at once."""
    m = contribution_months.c
    query = select(m.worker_id, m.month).where(months_that_stand(scheme.value))
    found: dict[str, set[int]] = defaultdict(set)
    for rows in _chunked(connection, query, m.worker_id, worker_ids, "late_workers"):
        for r in rows:
            found[r.worker_id].add(int(r.month))
    h = history_stints.c
    stints = select(h.worker_id, h.from_month, h.to_month).where(h.scheme == scheme.value)
    for rows in _chunked(connection, stints, h.worker_id, worker_ids, "late_histories"):
        for r in rows:
            found[r.worker_id].update(range(int(r.from_month), int(r.to_month) + 1))
    return found


def pensioner_months(
    connection: Connection, policy: Policy, worker_id: str, months: Iterable[int], today: date
) -> tuple[ElectiveWindow, dict[int, int]]:
    """One worker's elective window and which of ``months`` they may no longer pay into the
    employee pension (``months_past_retirement``): what a quote offers and refuses, as
    ``_refuse_past_retirement`` decides for a batch. ``ParameterNotFound`` where the rules
    of the worker's birth are not in the parameters."""
    worker = get_worker(connection, worker_id)
    category = category_index(worker.sex, None, policy, today)
    window = elective_window(policy, worker.birth_month, category, True, today)
    recorded = _recorded_months(connection, Scheme.EMPLOYEE_PENSION, [worker_id])
    return window, months_past_retirement(window, recorded.get(worker_id, ()), months)


def past_retirement_text(worker: str, month: Month, window: ElectiveWindow, months: int) -> Text:
    years = window.minimum_years
    shown = format(Decimal(years.numerator) / Decimal(years.denominator), "f")
    return message(
        "payment.past-retirement",
        month=month,
        worker=worker,
        latest=window.latest_month,
        months=months,
        years=shown,
    )


def _write(connection: Connection, batch: _Batch, now: datetime) -> None:
    rows = batch.open()
    batch.entries = []
    if not len(rows):
        return
    regions = batch.region[rows]
    for region in sorted(set(regions.tolist())):
        at = rows[regions == region]
        picked = pa.array(at)
        seq, _ = append_months(
            connection,
            region,
            MonthRows(
                tx_id=batch.tx_id.take(picked),
                worker_id=batch.worker_id.take(picked),
                scheme=pa.repeat(pa.scalar(batch.scheme.value, pa.string()), len(at)),
                region=pa.repeat(pa.scalar(region, pa.string()), len(at)),
                month=batch.month[at],
                attempt=batch.attempt[at],
                base_fen=batch.base[at],
                due_fen=batch.due[at],
                account_fen=batch.account[at],
                pooled_fen=batch.pooled[at],
                held_fen=batch.held[at],
                temporary=batch.temporary[at],
            ),
            now,
        )
        batch.entries.append((region, seq))
        batch.seq[at] = seq
    _book_hukou_parts(connection, batch, rows[batch.held[rows] > 0], now)


def _book_hukou_parts(
    connection: Connection, batch: _Batch, rows: npt.NDArray[np.intp], now: datetime
) -> None:
    """The hukou region takes the part it holds from its clearing account (see module doc)."""
    if not len(rows):
        return
    scheme = batch.scheme
    tx_ids, worker_ids = _take(batch.tx_id, rows), _take(batch.worker_id, rows)
    txs = []
    for k, i in enumerate(rows.tolist()):
        held, hukou = int(batch.held[i]), str(batch.hukou[i])
        tx_id, worker = tx_ids[k], worker_ids[k]
        txs.append(
            Transaction.build(
                tx_id + HUKOU_SUFFIX,
                TxCode.CONTRIBUTION,
                hukou,
                Month(int(batch.month[i])),
                now,
                [
                    Posting(clearing(scheme, hukou), -held),
                    Posting(pooled_entitlement(worker, scheme, hukou), held),
                ],
                worker_id=worker,
                memo=f"pooled part of {tx_id} held at the hukou region"[:200],
                facts=[
                    fact(
                        region_obligations,
                        obligation_id=tx_id + HUKOU_SUFFIX,
                        scheme=scheme.value,
                        from_region=str(batch.region[i]),
                        to_region=hukou,
                        amount_fen=held,
                        on_day=now.date(),
                    )
                ],
            )
        )
    post_transactions(connection, txs)


# receipts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Receipt:
    fingerprint: str
    rows: int
    refused: npt.NDArray[np.int64]
    entries: list[tuple[str, int]]


def _receipt(
    connection: Connection, fingerprint: str, visible: Callable[[str], bool] | None
) -> _Receipt | None:
    """The receipt of a batch with this fingerprint, if it can be trusted and the caller may
    see all it posted: its entries exist and hold exactly the months it says it posted."""
    r = intake_receipts.c
    found = connection.execute(
        select(r.rows, r.posted, r.refused, r.entries).where(r.fingerprint == fingerprint)
    ).first()
    if found is None:
        return None
    entries = [(e.split(":")[0], int(e.split(":")[1])) for e in found.entries.split()]
    if visible is not None and not all(visible(region) for region, _ in entries):
        return None  # another agency's batch: looked at row by row, as the caller may see it
    months = connection.execute(
        select(func.coalesce(func.sum(journal.c.months), 0)).where(
            tuple_(journal.c.region, journal.c.seq).in_(entries)
        )
    ).scalar_one()
    if int(months) != found.posted:  # pragma: no cover - the audit names such a receipt
        return None
    return _Receipt(fingerprint, int(found.rows), _positions(found.refused), entries)


def _replay_receipt(
    connection: Connection,
    policy: Policy,
    batch: _Batch,
    receipt: _Receipt,
    now: datetime,
    refuse_all: bool,
    visible: Callable[[str], bool] | None,
    amounts: bool,
) -> None:
    """The batch as its receipt says: the rows it did not refuse are replays; the rows it
    refused (but a repeated one) go through the checks again, as a batch of their own."""
    again = np.zeros(batch.n, dtype=bool)
    again[receipt.refused] = True
    batch.status[~again] = REPLAYED
    batch.receipt_entries = receipt.entries
    if amounts:
        _recorded_amounts(connection, batch, np.flatnonzero(~again), receipt.entries)
    if len(receipt.refused):
        _duplicates(batch)  # a repeated row stays refused as it was (the posted one came first)
    rows = np.flatnonzero(again & (batch.status == POSTED))
    if not len(rows):
        _raise_first(batch, refuse_all)
        return
    picked = pa.array(rows)
    outcome = post_batch(
        connection,
        policy,
        ContributionRows(
            batch.tx_id.take(picked), batch.worker_id.take(picked), batch.month[rows],
            batch.base[rows],
        ),
        now,
        batch.scheme,
        refuse_all=refuse_all,
        visible=visible,
        amounts=amounts,
    )  # fmt: skip
    batch.status[rows] = outcome.status
    batch.region[rows] = np.array(outcome.region, dtype=object)
    batch.due[rows], batch.account[rows] = outcome.due_fen, outcome.account_fen
    batch.pooled[rows], batch.held[rows] = outcome.pooled_fen, outcome.held_fen
    batch.hukou[rows] = np.array([h or "" for h in outcome.hukou], dtype=object)
    batch.seq[rows] = outcome.seq
    batch.provisional.update(outcome.provisional)
    for refusal in outcome.refusals:
        i = int(rows[refusal.row])
        batch.refusals[i] = Refusal(
            i, refusal.field, refusal.code, refusal.message, refusal.message_zh
        )


def _recorded_amounts(
    connection: Connection,
    batch: _Batch,
    rows: npt.NDArray[np.int64],
    entries: list[tuple[str, int]],
) -> None:
    """Region and amounts of replayed rows ``rows``, as their entries recorded them."""
    m = contribution_months.c
    query = (
        select(
            m.tx_id,
            m.region,
            m.seq,
            m.due_fen,
            m.account_fen,
            m.pooled_fen,
            m.held_fen,
            region_obligations.c.to_region,
        )
        .outerjoin(region_obligations, region_obligations.c.obligation_id == m.tx_id + HUKOU_SUFFIX)
        .where(tuple_(m.region, m.seq).in_(entries))
    )
    recorded = {r.tx_id: r for r in connection.execute(query)}
    for i, tx_id in zip(rows.tolist(), _take(batch.tx_id, rows), strict=True):
        r = recorded.get(tx_id)
        if r is None:  # posted by an earlier batch the first time: look it up
            continue
        batch.region[i], batch.seq[i] = r.region, r.seq
        batch.due[i], batch.account[i] = r.due_fen, r.account_fen
        batch.pooled[i], batch.held[i] = r.pooled_fen, r.held_fen
        batch.hukou[i] = r.to_region or ""
    missing = [i for i in rows.tolist() if not batch.region[i]]
    if missing:  # replays of earlier batches inside this one: the row-by-row look-up
        batch.status[missing] = POSTED
        _look_up(connection, batch, np.array(missing, dtype=np.int64))


def _record_receipt(connection: Connection, batch: _Batch, now: datetime) -> None:
    """The receipt of a large batch that posted months (see ``post_batch``)."""
    if batch.fingerprint is None or not batch.entries:
        return
    refused = np.flatnonzero(batch.status == REFUSED)
    region = min(region for region, _ in batch.entries)
    posted = int(np.count_nonzero(batch.status == POSTED))
    post_transactions(
        connection,
        [
            Transaction.build(
                f"receipt/{batch.fingerprint}",
                TxCode.RECEIPT,
                region,
                Month.from_date(now.date()),
                now,
                [],
                memo=f"batch of {batch.n} months: {posted} posted, {len(refused)} refused",
                facts=[
                    fact(
                        intake_receipts,
                        fingerprint=batch.fingerprint,
                        scheme=batch.scheme.value,
                        rows=batch.n,
                        posted=posted,
                        refused=_ranges(refused),
                        entries=" ".join(f"{r}:{seq}" for r, seq in batch.entries),
                        recorded_at=now,
                    )
                ],
            )
        ],
    )


def _ranges(positions: npt.NDArray[np.int64]) -> str:
    """Sorted positions as runs: [3, 17, 18, 19, 20] → "3,17-20"."""
    if not len(positions):
        return ""
    breaks = np.flatnonzero(np.diff(positions) != 1)
    starts = np.concatenate([[positions[0]], positions[breaks + 1]]).tolist()
    ends = np.concatenate([positions[breaks], [positions[-1]]]).tolist()
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in zip(starts, ends, strict=True))


def _positions(runs: str) -> npt.NDArray[np.int64]:
    """The inverse of ``_ranges``."""
    parts = []
    for run in filter(None, runs.split(",")):
        first, _, last = run.partition("-")
        parts.append(np.arange(int(first), int(last or first) + 1, dtype=np.int64))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
