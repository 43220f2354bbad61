"""Posting contributions to PostgreSQL through the bulk path, and crediting interest.

Posts N contribution months (workers × 12 months of 2026, default 1,000,000 = 83,334 × 12)
through ``post_contributions`` — validation against each month's base bounds, the split,
idempotency look-ups, the hash chain, COPY of journal, postings, contribution months and
paid months, balance upserts — in one database transaction, and times next to its anchor:
a raw COPY of the same contribution rows into an unindexed table, in the same run.

Then credits a year's interest to every individual account with ``credit_interest``
(set-based SQL in batches), on accounts built by a bulk post of one 2025 month per worker.

The database is the local PostgreSQL (``SUIREN_BENCH_POSTGRES_URL``, default the test
server); each run uses a fresh schema, dropped afterwards.
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import create_engine, text

from suiren.domain.money import fen_to_yuan_str
from suiren.domain.month import Month
from suiren.ledger.accounts import Scheme
from suiren.policy import load_policy
from suiren.services.contributions import ContributionRows, post_contributions
from suiren.services.interest import credit_interest
from suiren.store.bulk import insert_rows
from suiren.store.db import make_engine, unit_of_work
from suiren.store.migrate import upgrade
from suiren.store.tables import enrolments, workers

URL = os.environ.get(
    "SUIREN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REGION = "440100"
NOW = datetime(2026, 12, 20, 12, 0, tzinfo=UTC)
LATE_2025 = datetime(2025, 12, 20, 12, 0, tzinfo=UTC)
MONTHS = 12


def _schema() -> tuple[str, object]:
    schema = "bench_" + uuid.uuid4().hex[:10]
    admin = create_engine(URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    return schema, make_engine(URL, connect_args={"options": f"-csearch_path={schema}"})


def _drop(schema: str) -> None:
    admin = create_engine(URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


def _workers(engine, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    ids = [f"W{n:011d}" for n in range(count)]
    with unit_of_work(engine) as c:
        insert_rows(
            c, workers,
            ("worker_id", "resident_id_cipher", "blind_index", "masked_id", "sex", "birth_month",
             "hukou_region", "work_region", "created_at"),
            [(w, b"x", f"bench{w}", "4401**********0000", "M", Month.of(1990, 1).ordinal, "410000", REGION, NOW)
             for w in ids],
        )  # fmt: skip
        insert_rows(
            c, enrolments, ("worker_id", "scheme", "region", "start_month", "created_at"),
            [(w, Scheme.EMPLOYEE_PENSION.value, REGION, Month.of(2025, 1).ordinal, NOW) for w in ids],
        )  # fmt: skip
    return ids


def _rows(ids: list[str], months: list[Month], prefix: str) -> ContributionRows:
    rng = np.random.default_rng(7)
    n = len(ids) * len(months)
    worker_ids = [w for w in ids for _ in months]
    month_ordinals = np.array([m.ordinal for _ in ids for m in months], dtype=np.int64)
    return ContributionRows(
        tx_ids=[
            f"{prefix}/{w}/{Month(int(m))}" for w, m in zip(worker_ids, month_ordinals, strict=True)
        ],
        worker_ids=worker_ids,
        regions=[REGION] * n,
        months=month_ordinals,
        base_fen=rng.integers(551_000, 2_754_900, n, dtype=np.int64),
    )


def _raw_copy(engine, rows: ContributionRows) -> float:  # type: ignore[no-untyped-def]
    """COPY the same contribution rows into an unindexed table (the anchor)."""
    due = rows.base_fen * 20 // 100
    account = rows.base_fen * 8 // 100
    data = [
        (rows.tx_ids[i], rows.worker_ids[i], REGION, int(rows.months[i]), int(rows.base_fen[i]),
         int(due[i]), int(account[i]), int(due[i] - account[i]))
        for i in range(len(rows.tx_ids))
    ]  # fmt: skip
    with engine.begin() as c:
        c.execute(text(
            "CREATE TABLE raw_contributions (tx_id text, worker_id text, region text, month int,"
            " base_fen bigint, due_fen bigint, account_fen bigint, pooled_fen bigint)"
        ))  # fmt: skip
    start = time.perf_counter()
    with engine.begin() as c:
        raw = c.connection.driver_connection
        with (
            raw.cursor() as cursor,
            cursor.copy(
                "COPY raw_contributions (tx_id, worker_id, region, month, base_fen, due_fen, account_fen,"
                " pooled_fen) FROM STDIN"
            ) as copy,
        ):
            for row in data:
                copy.write_row(row)
    return time.perf_counter() - start


def run(scale: float) -> None:
    policy = load_policy()
    rows_wanted = max(int(1_000_000 * scale), MONTHS)
    count = rows_wanted // MONTHS
    schema, engine = _schema()
    try:
        upgrade(engine)
        ids = _workers(engine, count)
        rows = _rows(ids, [Month.of(2026, m) for m in range(1, MONTHS + 1)], "pay")
        n = len(rows.tx_ids)
        anchor = _raw_copy(engine, rows)
        start = time.perf_counter()
        with unit_of_work(engine) as c:
            post_contributions(c, policy, rows, NOW)
        posting = time.perf_counter() - start
        print(f"raw COPY of {n:,} contribution rows into an unindexed table: {anchor:.2f} s"
              f" ({n / anchor:,.0f} rows/s)")  # fmt: skip
        print(f"bulk posting of {n:,} contribution months (journal + 3 postings + months + balances):"
              f" {posting:.2f} s ({n / posting:,.0f} rows/s); ratio to raw COPY"
              f" {anchor / posting:.2f}x the speed")  # fmt: skip
        start = time.perf_counter()
        with unit_of_work(engine) as c:
            again = post_contributions(c, policy, rows, NOW)
        print(
            f"replaying the same {n:,} months (nothing written, all replayed="
            f"{all(p.replayed for p in again)}): {time.perf_counter() - start:.2f} s"
        )

        accounts_wanted = max(int(1_000_000 * scale), 1)
        extra = _workers(engine, 0) if accounts_wanted <= count else None
        del extra
        more = [f"V{n:011d}" for n in range(max(accounts_wanted - count, 0))]
        if more:
            with unit_of_work(engine) as c:
                insert_rows(
                    c, workers,
                    ("worker_id", "resident_id_cipher", "blind_index", "masked_id", "sex",
                     "birth_month", "hukou_region", "work_region", "created_at"),
                    [(w, b"x", f"bench{w}", "4401**********0000", "M", Month.of(1990, 1).ordinal,
                      "410000", REGION, NOW) for w in more],
                )  # fmt: skip
                insert_rows(
                    c, enrolments, ("worker_id", "scheme", "region", "start_month", "created_at"),
                    [(w, Scheme.EMPLOYEE_PENSION.value, REGION, Month.of(2025, 1).ordinal, NOW) for w in more],
                )  # fmt: skip
        all_ids = (ids + more)[:accounts_wanted]
        rows_2025 = _rows(all_ids, [Month.of(2025, 12)], "p25")
        start = time.perf_counter()
        with unit_of_work(engine) as c:
            post_contributions(c, policy, rows_2025, LATE_2025)
        print(
            f"bulk posting of {len(all_ids):,} months for 2025: {time.perf_counter() - start:.2f} s"
        )
        start = time.perf_counter()
        with unit_of_work(engine) as c:
            runs = credit_interest(c, policy, 2025, NOW)
        elapsed = time.perf_counter() - start
        credited = sum(r.accounts for r in runs)
        total = sum(r.total_fen for r in runs)
        print(f"interest for 2025 on {credited:,} individual accounts ({sum(r.batches for r in runs)}"
              f" batches, {fen_to_yuan_str(total)} yuan): {elapsed:.2f} s"
              f" ({credited / elapsed:,.0f} accounts/s)")  # fmt: skip
    finally:
        engine.dispose()
        _drop(schema)
