"""The HTTP API under load (issue 11 §7): a worker's statement and pension estimate next to a
bare FastAPI endpoint on the same server, in the same run.

``python -m benchmarks api [--scale S]``. For SQLite (a temporary file) and PostgreSQL (a fresh
schema of the local server): a worker with two years of months is enrolled, the service is
started by uvicorn (one process, as ``suiren serve``) on a free loopback port with one extra
route, ``GET /bare`` (``{"ok": true}``, no database, no key), and a load generator in this
process (``CLIENTS`` threads, each with its own keep-alive connection) sends requests for
``SECONDS`` × scale seconds per endpoint. Printed per endpoint: requests/s, p50 and p99
latency, the ratio of requests/s to the bare endpoint's on the same server, and the
server's own CPU time per request (Linux ``/proc``) next to the bare endpoint's. Each
endpoint is measured in ``ROUNDS`` turns interleaved with the others, so that a shared
machine slows the anchor and the endpoint alike. Twice: as served (an answer is kept while
the ledger has not moved, ``api.reads``: the repeated request of a worker who refreshes),
then by a server that keeps nothing (every answer computed). The generator shares the two
cores with the server, so absolute figures are low; the ratio is the measure.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import text

CLIENTS = 4
SECONDS = 6.0
SECRET = base64.b64encode(b"b" * 32).decode()
TODAY = "2026-06-15"


def serve(url: str, port: int, cache_bytes: int | None = None) -> None:
    """The server process: the service's app with ``/bare`` added, under uvicorn;
    ``cache_bytes=0``: no answer kept (``api.reads``)."""
    import uvicorn

    from suiren.portal.app import create_app
    from suiren.settings import Settings

    kept = {} if cache_bytes is None else {"read_cache_bytes": cache_bytes}
    app = create_app(Settings(database_url=url, secret_key=SECRET, today=TODAY, **kept))

    @app.get("/bare", include_in_schema=False)
    def bare() -> dict[str, bool]:
        return {"ok": True}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _prepare(url: str) -> tuple[str, str]:
    """Migrate, enrol one worker with 24 months, issue an agency key: (worker id, key)."""
    from suiren.api.auth import ActorKind, issue_key
    from suiren.domain.month import Month
    from suiren.policy import load_policy
    from suiren.services.contributions import contribute
    from suiren.services.identity import IdentityVault, ledger_keys
    from suiren.services.workers import enrol
    from suiren.store.db import make_engine, unit_of_work
    from suiren.store.migrate import upgrade

    secret = base64.b64decode(SECRET)
    engine = make_engine(url, keys=ledger_keys(secret))
    upgrade(engine)
    policy, vault = load_policy(), IdentityVault.from_secret(secret)
    early = datetime(2025, 12, 20, 12, tzinfo=UTC)
    now = datetime(2026, 6, 15, 12, tzinfo=UTC)
    from suiren.domain.resident_id import check_character

    first17 = "44010619900101001"
    with unit_of_work(engine) as c:
        worker = enrol(c, policy, vault, first17 + check_character(first17), "440100", None, early)
        w = worker.worker.worker_id
    with unit_of_work(engine) as c:
        contribute(c, policy, "b25", w, Month.of(2025, 1), Month.of(2025, 12), 800_000, early)
    with unit_of_work(engine) as c:
        contribute(c, policy, "b26", w, Month.of(2026, 1), Month.of(2026, 5), 800_000, now)
    with unit_of_work(engine) as c:
        key = issue_key(c, ActorKind.AGENCY, "440100", "bench", now)[0]
    engine.dispose()
    return w, key


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux ``/proc``): what the server
    spent, whatever else the shared machine runs."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _load(
    base: str, path: str, headers: dict[str, str], seconds: float
) -> tuple[float, list[float]]:
    """(requests per second, latencies in ms) of ``CLIENTS`` threads for ``seconds``."""
    latencies: list[list[float]] = [[] for _ in range(CLIENTS)]
    stop = time.perf_counter() + seconds

    def client(i: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            while time.perf_counter() < stop:
                start = time.perf_counter()
                answer = http.get(path)
                latencies[i].append((time.perf_counter() - start) * 1000)
                if answer.status_code != 200:
                    raise AssertionError(f"{path}: {answer.status_code} {answer.text[:200]}")

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    every = sorted(x for per in latencies for x in per)
    return len(every) / elapsed, every


def _percentile(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(len(values) * p))]


ROUNDS = 3  # each endpoint measured in turn this many times: the anchor shares the moments


def _bench(label: str, url: str, env: dict[str, str], seconds: float) -> None:
    worker, key = _prepare(url)
    auth = {"Authorization": f"Bearer {key}"}
    statement = f"/api/v1/workers/{worker}/statement"
    estimate = f"/api/v1/workers/{worker}/pension/estimate"
    for cache, rows in (
        (None, [("bare FastAPI endpoint (anchor)", "/bare", {}),
                ("worker statement (kept)", statement, auth),
                ("pension estimate (kept)", estimate, auth)]),
        (0, [("bare FastAPI endpoint (anchor)", "/bare", {}),
             ("worker statement (computed)", statement, auth),
             ("pension estimate (computed)", estimate, auth)]),
    ):  # fmt: skip
        with _server(url, env, cache) as (base, pid):
            for _, path, headers in rows:
                _load(base, path, headers, min(1.0, seconds / 3))  # warm up
            done = {name: ([], 0.0, 0.0) for name, _, _ in rows}  # latencies, s, CPU s
            for _ in range(ROUNDS):  # interleaved: a shared machine slows all alike
                for name, path, headers in rows:
                    cpu = _cpu_seconds(pid)
                    started = time.perf_counter()
                    _, latencies = _load(base, path, headers, seconds / ROUNDS)
                    wall = time.perf_counter() - started
                    before = done[name]
                    done[name] = (
                        before[0] + latencies,
                        before[1] + wall,
                        before[2] + _cpu_seconds(pid) - cpu,
                    )
            anchor_latencies, anchor_wall, anchor_cpu = done[rows[0][0]]
            anchor = len(anchor_latencies) / anchor_wall
            anchor_ms = anchor_cpu * 1000 / len(anchor_latencies)
            for name, _, _ in rows:
                latencies, wall, cpu_s = done[name]
                latencies.sort()
                rate, server_ms = len(latencies) / wall, cpu_s * 1000 / len(latencies)
                kept = "kept" if cache is None else "none kept"
                print(
                    f"{label:9} {kept:9} {name:32} {rate:6.0f} req/s"
                    f"  p50 {_percentile(latencies, 0.5):5.1f} ms"
                    f"  p99 {_percentile(latencies, 0.99):5.1f} ms  ratio {rate / anchor:4.2f}×"
                    f"  server CPU {server_ms:5.2f} ms/req (× bare {anchor_ms / server_ms:4.2f})",
                    flush=True,
                )


@contextmanager
def _server(url: str, env: dict[str, str], cache_bytes: int | None) -> Iterator[tuple[str, int]]:
    """A server process on a free loopback port, until the block ends: (base URL, pid)."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-c",
         f"from benchmarks.api import serve; serve({url!r}, {port}, {cache_bytes!r})"],
        env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/bare", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield base, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


def run(scale: float) -> None:
    seconds = max(1.0, SECONDS * scale)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUIREN_")}
    with tempfile.TemporaryDirectory(prefix="suiren-bench-api-") as folder:
        _bench("sqlite", f"sqlite:///{Path(folder) / 'api.db'}", env, seconds)
    base = os.environ.get(
        "SUIREN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    schema = f"bench_api_{uuid.uuid4().hex[:8]}"
    from sqlalchemy import create_engine

    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    before = os.environ.get("PGOPTIONS")
    os.environ["PGOPTIONS"] = f"-csearch_path={schema}"  # libpq: this process and the server's
    try:
        _bench("postgres", base, env | {"PGOPTIONS": os.environ["PGOPTIONS"]}, seconds)
    finally:
        if before is None:
            os.environ.pop("PGOPTIONS", None)
        else:
            os.environ["PGOPTIONS"] = before
        with admin.connect() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
