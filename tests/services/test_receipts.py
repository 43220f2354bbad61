"""Receipts of large contribution batches (issue 9 §2, replay): a batch received again — a file
run again after a crash, a retried upload — is answered from its receipt, and only the rows it
refused the first time are checked again; on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, func, select, text

from suiren.domain.month import Month
from suiren.services.contributions import (
    OPTIMISTIC_ROWS_MIN,
    POSTED,
    REFUSED,
    REPLAYED,
    ContributionRows,
    _positions,
    _ranges,
    post_batch,
)
from suiren.store.audit import verify
from suiren.store.db import unit_of_work
from suiren.store.tables import contribution_months, intake_receipts, journal
from tests.conftest import NOW
from tests.ledger_helpers import POLICY, assert_ledger_sound, base_bounds_fen, enrol_in_bulk
from tests.services.test_intake import HEADER, post_file
from tests.store.test_tamper import tampering

N = OPTIMISTIC_ROWS_MIN + 100
MARCH = Month.of(2026, 3)


def journal_rows(engine: Engine) -> int:
    with unit_of_work(engine) as c:
        return int(c.execute(select(func.count()).select_from(journal)).scalar_one())


def workers_and_file(engine: Engine, tmp_path: Path) -> tuple[list[str], list[str], Path]:
    """N enrolled workers; a file of one March month each, plus the same rows for 20 workers
    who are not enrolled yet, a base below the floor, and a payment id repeated."""
    enrolled = [f"WR{k:08d}" for k in range(N)]
    later = [f"WL{k:08d}" for k in range(20)]
    enrol_in_bulk(engine, enrolled, "440100", Month.of(2026, 1))
    floor, _ = base_bounds_fen("440100", MARCH)
    lines = [f"r{k},2026-03,{6000 + k % 9},{w}\n" for k, w in enumerate(enrolled)]
    lines[7] = f"r7,2026-03,{floor // 100 - 1},{enrolled[7]}\n"  # below the floor
    lines += [f"l{k},2026-03,6000,{w}\n" for k, w in enumerate(later)]
    lines.append(lines[3])  # the same payment and month again: refused as a repeat
    path = tmp_path / "march.csv"
    path.write_text(HEADER + "".join(lines))
    return enrolled, later, path


def errors_of(summary: object) -> list[tuple[int, str, str]]:
    return [(e.row, e.field, e.code) for e in summary.errors]  # type: ignore[attr-defined]


def test_a_file_run_again_is_answered_from_its_receipt(engine: Engine, tmp_path: Path) -> None:
    _, later, path = workers_and_file(engine, tmp_path)
    rows = N + 21
    first = post_file(engine, path, chunk_rows=rows)
    assert (first.posted, first.replayed, first.refused) == (N - 1, 0, 22)
    with unit_of_work(engine) as c:
        receipt = c.execute(select(intake_receipts)).one()
    assert (receipt.rows, receipt.posted, receipt.scheme) == (rows, N - 1, "employee_pension")
    assert _positions(receipt.refused).tolist() == [7, *range(N, N + 21)]
    entries = journal_rows(engine)

    again = post_file(engine, path, chunk_rows=rows)  # the receipt answers: nothing written
    assert (again.posted, again.replayed, again.refused) == (0, N - 1, 22)
    assert errors_of(again) == errors_of(first)
    assert journal_rows(engine) == entries

    enrol_in_bulk(engine, later, "440100", Month.of(2026, 1))
    third = post_file(engine, path, chunk_rows=rows)  # the refused rows are looked at again
    assert (third.posted, third.replayed, third.refused) == (20, N - 1, 2)
    assert [e.code for e in third.errors] == ["base-out-of-bounds", "duplicate-id"]
    fourth = post_file(engine, path, chunk_rows=rows)
    assert (fourth.posted, fourth.replayed, fourth.refused) == (0, N + 19, 2)

    other_chunks = post_file(engine, path, chunk_rows=500)  # other batches: row by row (the
    # repeated row is now in another chunk than its first: still the file's repeat, refused)
    assert (other_chunks.posted, other_chunks.replayed, other_chunks.refused) == (0, N + 19, 2)
    assert [e.code for e in other_chunks.errors] == ["base-out-of-bounds", "duplicate-id"]
    with unit_of_work(engine) as c:
        assert c.execute(select(func.count()).select_from(contribution_months)).scalar_one() == (
            N + 19
        )
        assert_ledger_sound(c)


def batch(workers: list[str], prefix: str, base_fen: int) -> ContributionRows:
    return ContributionRows(
        [f"{prefix}{k}/{MARCH}" for k in range(len(workers))],
        workers,
        np.full(len(workers), MARCH.ordinal, dtype=np.int64),
        np.full(len(workers), base_fen, dtype=np.int64),
    )


def test_a_replayed_batch_returns_what_was_recorded(engine: Engine) -> None:
    """With amounts (the default), the replayed rows carry their region and split as they
    were recorded, exactly as the first answer had them, rows replayed by it included."""
    workers = [f"WA{k:08d}" for k in range(N)]
    enrol_in_bulk(engine, workers, "440100", Month.of(2026, 1))
    with unit_of_work(engine) as c:  # ten of them paid before, by a batch of their own
        post_batch(c, POLICY, batch(workers[:10], "q", 600_000), NOW)
    rows = batch(workers, "q", 600_000)
    with unit_of_work(engine) as c:
        first = post_batch(c, POLICY, rows, NOW)
    assert first.count(POSTED) == N - 10 and first.count(REPLAYED) == 10
    with unit_of_work(engine) as c:
        again = post_batch(c, POLICY, rows, NOW)
    assert again.count(REPLAYED) == N
    assert again.region == first.region
    for name in ("due_fen", "account_fen", "pooled_fen", "held_fen"):
        assert getattr(again, name).tolist() == getattr(first, name).tolist()
    with unit_of_work(engine) as c:
        counted = post_batch(c, POLICY, rows, NOW, amounts=False)
    assert counted.count(REPLAYED) == N and set(counted.region) == {""}


def test_the_same_ids_with_other_content_are_not_the_same_batch(engine: Engine) -> None:
    workers = [f"WC{k:08d}" for k in range(N)]
    enrol_in_bulk(engine, workers, "440100", Month.of(2026, 1))
    with unit_of_work(engine) as c:
        post_batch(c, POLICY, batch(workers, "c", 600_000), NOW)
    with unit_of_work(engine) as c:
        other = post_batch(c, POLICY, batch(workers, "c", 610_000), NOW)
    assert other.count(REFUSED) == N
    assert {r.code for r in other.refusals} == {"conflict"}


def test_another_agencys_batch_is_looked_at_row_by_row(engine: Engine) -> None:
    """A receipt answers only a caller who may see every region it posted in; another agency
    sending the same rows is answered as the row-by-row path answers it (unknown workers)."""
    workers = [f"WV{k:08d}" for k in range(N)]
    enrol_in_bulk(engine, workers, "440100", Month.of(2026, 1))
    rows = batch(workers, "v", 600_000)
    with unit_of_work(engine) as c:
        post_batch(c, POLICY, rows, NOW, visible=lambda r: r == "440100")
    with unit_of_work(engine) as c:
        foreign = post_batch(c, POLICY, rows, NOW, visible=lambda r: r == "110000")
    assert foreign.count(REFUSED) == N
    assert {r.code for r in foreign.refusals} == {"unknown-worker"}


def test_a_receipt_changed_or_forged_is_found_and_a_false_one_is_not_trusted(
    engine: Engine,
) -> None:
    workers = [f"WT{k:08d}" for k in range(N)]
    enrol_in_bulk(engine, workers, "440100", Month.of(2026, 1))
    rows = batch(workers, "t", 600_000)
    with unit_of_work(engine) as c:
        post_batch(c, POLICY, rows, NOW)
    for statement in (
        "UPDATE intake_receipts SET refused = '0-9'",
        "UPDATE intake_receipts SET posted = posted + 1",
        "INSERT INTO intake_receipts (fingerprint, scheme, rows, posted, refused, entries,"
        " recorded_at) SELECT 'f' || substr(fingerprint, 2), scheme, rows, posted, refused,"
        " entries, recorded_at FROM intake_receipts",
    ):
        with tampering(engine) as c:
            c.execute(text(statement))
            result = verify(c)
            assert not result.ok
            assert "intake_receipts" in {p.table for p in result.problems}, result.problems
    with tampering(engine) as c:  # a receipt claiming more than its entries hold is ignored
        c.execute(text("UPDATE intake_receipts SET posted = posted + 1, rows = rows"))
        answer = post_batch(c, POLICY, rows, NOW)
        assert answer.count(REPLAYED) == N  # found row by row


@pytest.mark.parametrize(
    "positions", [[], [0], [3, 17, 18, 19, 20], [0, 1, 2, 9, 11, 12], list(range(40))]
)
def test_refused_positions_are_written_as_runs_and_read_back(positions: list[int]) -> None:
    text_ = _ranges(np.array(positions, dtype=np.int64))
    assert _positions(text_).tolist() == positions
    assert len(text_) <= 2 + 4 * len(positions)


def test_a_conflict_with_another_agencys_payment_does_not_describe_it(engine: Engine) -> None:
    """Payment ids are one namespace: an agency reusing another agency's id is refused, but
    the refusal names neither the other worker nor the base (issue 11 §2: no leak)."""
    ours, theirs = ["WG00000001"], ["WG00000002"]
    enrol_in_bulk(engine, ours, "440100", Month.of(2026, 1))
    enrol_in_bulk(engine, theirs, "110000", Month.of(2026, 1))
    with unit_of_work(engine) as c:
        first = post_batch(c, POLICY, batch(theirs, "same", 900_000), NOW)
    assert first.count(POSTED) == 1
    for visible, described in ((lambda r: r == "440100", False), (None, True)):
        with unit_of_work(engine) as c:
            answer = post_batch(c, POLICY, batch(ours, "same", 900_000), NOW, visible=visible)
        [refusal] = answer.refusals
        assert refusal.code == "conflict"
        assert ("WG00000002" in refusal.message) is described
        assert ("9000.00" in refusal.message) is described
