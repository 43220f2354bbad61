"""Every route of the API answered with success, in process, on SQLite and on PostgreSQL
(issue 11 §6: "in-process API tests on SQLite and PostgreSQL for every route").

One tour through the world of tests/api/world.py calls each operation as the actor it is for
and checks the answer; then the operations toured must be exactly the app's, so a new route
fails here until the tour calls it. The other API tests look closer at each area; this one
makes sure none is only ever refused (the BOLA matrix) or only reached by generated data
(schemathesis, on SQLite).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from suiren.api import access
from suiren.api.app import create_app
from suiren.domain.money import fen_to_yuan_str
from suiren.domain.month import Month
from suiren.store.audit import verify
from suiren.store.db import make_engine, unit_of_work
from tests.api import settings_for
from tests.api.world import TODAY, World, populate
from tests.cli.test_pension_cli import WORKED, WORKED_FEN
from tests.conftest import KEYS
from tests.ledger_helpers import base_bounds_fen, resident_id
from tests.worlds import populated

JUNE = Month.of(2026, 6)


@pytest.fixture
def tour(
    database_url: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Tour, World, Any]]:
    url, extra = database_url
    for name, value in extra.items():  # PGOPTIONS: the test's own PostgreSQL schema
        monkeypatch.setenv(name, value)
    engine = make_engine(url, keys=KEYS)
    made = populated(engine, populate)
    settings = settings_for(url, today=TODAY, demo_codes=True)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Tour(client, made), made, engine
    engine.dispose()


class Tour:
    """Calls by path template (``{name}`` filled from ``ids``), each checked for its
    status, and the (method, template) of each call remembered."""

    def __init__(self, client: TestClient, made: World) -> None:
        self.client, self.made = client, made
        self.toured: set[tuple[str, str]] = set()
        self.keys = 0

    def __call__(
        self,
        method: str,
        template: str,
        actor: str | None,
        status: int = 200,
        ids: dict[str, str] | None = None,
        token: str | None = None,
        **request: Any,
    ) -> Any:
        headers = dict(request.pop("headers", {}))
        if actor is not None:
            headers.update(self.made.auth(actor))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if method == "POST" and not template.startswith("/api/v1/auth/"):
            self.keys += 1
            headers.setdefault("Idempotency-Key", f"tour-{self.keys}")
        path = template.format(**(ids or {}))
        response = self.client.request(method, path, headers=headers, **request)
        assert response.status_code == status, (method, path, actor, response.text)
        self.toured.add((method, template))
        return response.json() if response.content else None


def test_every_route_answers_its_actor(tour) -> None:  # type: ignore[no-untyped-def]
    call, made, engine = tour
    gz_worker, bj_worker = made.workers["gz_worker"], made.workers["bj_worker"]
    floor = fen_to_yuan_str(base_bounds_fen("440100", JUNE)[0])
    csv = {"Content-Type": "text/csv"}

    assert call("GET", "/api/v1/health", None)["database"] == "ok"
    calc = call("POST", "/api/v1/pension/calc", "platform", json=WORKED)
    assert calc["total_fen"] == WORKED_FEN["total_fen"]

    # workers: one, a file, a history; the region's list a page at a time; one's records
    one = call("POST", "/api/v1/workers", "gz", 201,
               json={"resident_id": resident_id(201), "work_region": "440100"})  # fmt: skip
    assert one["created"] and "*" in one["resident_id"]
    filed = call("POST", "/api/v1/workers/files", "gz", headers=csv,
                 content=f"resident_id,work_region\n{resident_id(202)},440100\n".encode())  # fmt: skip
    assert filed["created"] == 1
    history = (
        "resident_id,region,from_month,to_month,kind,base_yuan\n"
        f"{resident_id(203, '19800301')},440100,2010-01,2019-12,paid,5000\n"
    )
    assert call("POST", "/api/v1/workers/history", "gz", headers=csv,
                content=history.encode())["imported"] == 1  # fmt: skip
    first = call("GET", "/api/v1/workers", "gz", params={"limit": 2})
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = call("GET", "/api/v1/workers", "gz", params={"limit": 2, "cursor": first["next_cursor"]})
    assert not {i["worker_id"] for i in first["items"]} & {i["worker_id"] for i in rest["items"]}
    worker = {"worker_id": gz_worker}
    statement = call("GET", "/api/v1/workers/{worker_id}/statement", "gz", ids=worker)
    assert statement["worker"]["worker_id"] == gz_worker
    estimate = call("GET", "/api/v1/workers/{worker_id}/pension/estimate", "gd", ids=worker)
    assert [s["scenario"] for s in estimate["scenarios"]] == ["current_law", "money_follows_person"]
    assert all(s["projection"] is not None for s in estimate["scenarios"])  # the forecast too
    assert call("GET", "/api/v1/workers/{worker_id}/medical/status", "gz", ids=worker)

    # contributions: pension and medical, one and a file; interest for last year
    june = {"worker_id": gz_worker, "from_month": "2026-06", "base_yuan": floor}
    paid = call("POST", "/api/v1/contributions", "gz", 201, json={"payment_id": "tour-p", **june})
    assert [m["month"] for m in paid["months"]] == ["2026-06"]
    call("POST", "/api/v1/medical/contributions", "gz", 201, json={"payment_id": "tour-m", **june})
    payments = f"payment_id,month,base_yuan,worker_id\ntour-f,2026-06,{floor},{one['worker_id']}\n"
    posted = call("POST", "/api/v1/contributions/files", "gz", headers=csv,
                  content=payments.encode())  # fmt: skip
    assert (posted["posted"], posted["refused"]) == (1, 0)
    reversal = {"month_id": "tour-f/2026-06", "reversal_id": "tour-rev", "memo": "wrong base"}
    reversed_ = call("POST", "/api/v1/contributions/reversals", "gz", 201, json=reversal)
    assert (reversed_["reverses"], reversed_["replayed"]) == ("tour-f/2026-06", False)
    assert call("POST", "/api/v1/interest/credit", "national", json={"year": 2025})["year"] == 2025

    # a transfer through every step, another rejected; the region's transfers page by page
    move = {"transfer_id": "tour-move"}
    requested = call("POST", "/api/v1/transfers", "gz", 201,
                     json={**move, "worker_id": gz_worker, "to_region": "330100"})  # fmt: skip
    assert requested["state"] == "requested"
    status = call("GET", "/api/v1/transfers/{transfer_id}", "hz", ids=move)
    assert status["state"] == "requested"
    for step, actor, state in (("approve", "gz", "approved"), ("accept", "hz", "accepted"),
                               ("complete", "hz", "completed")):  # fmt: skip
        taken = call("POST", f"/api/v1/transfers/{{transfer_id}}/{step}", actor, ids=move)
        assert taken["state"] == state
    rejected = call("POST", "/api/v1/transfers/{transfer_id}/reject", "hz",
                    ids={"transfer_id": "bj-to-hz"}, json={"reason": "documents missing"})  # fmt: skip
    assert rejected["state"] == "rejected"
    # 归集 at retirement: a man of 60 insured in Guangzhou (born 1966-03: past the earliest
    # retirement, short of the statutory age), hukou in Henan, so a temporary account
    older = call("POST", "/api/v1/workers", "gz", 201,
                 json={"resident_id": resident_id(205, "19660301"), "work_region": "440100",
                       "hukou_region": "410000"})  # fmt: skip
    spring = {"worker_id": older["worker_id"], "from_month": "2026-01", "to_month": "2026-03",
              "base_yuan": fen_to_yuan_str(base_bounds_fen("440100", Month.of(2026, 1),
                                                           Month.of(2026, 3))[0])}  # fmt: skip
    call("POST", "/api/v1/contributions", "gz", 201, json={"payment_id": "tour-old", **spring})
    gathered = call("POST", "/api/v1/gatherings", "gz", 201,
                    json={"gather_id": "tour-gather", "worker_id": older["worker_id"]})  # fmt: skip
    assert [(t["transfer_id"], t["kind"], t["to_region"]) for t in gathered["transfers"]] == [
        ("tour-gather/440100", "gather", "410000")
    ]
    page = call("GET", "/api/v1/transfers", "hz", params={"limit": 2})
    assert len(page["items"]) == 2 and page["next_cursor"]
    last = call(
        "GET", "/api/v1/transfers", "hz", params={"limit": 2, "cursor": page["next_cursor"]}
    )
    listed = {t["transfer_id"]: t["state"] for t in page["items"] + last["items"]}
    assert listed == {"bj-to-hz": "rejected", "gz-to-hz": "requested", "tour-move": "completed"}
    assert call("GET", "/api/v1/transfers", "hz", params={"state": "completed"})["items"]

    # oversight: settlement, the audit, aggregates
    window = {"window": "2026-06-14"}
    closed = call("POST", "/api/v1/settlement/windows/{window}/close", "national", ids=window)
    assert closed["closed"] is True
    report = call("GET", "/api/v1/settlement/windows/{window}", "national", ids=window)
    assert report == closed
    assert call("POST", "/api/v1/audit/verify", "auditor")["ok"] is True
    assert call("POST", "/api/v1/audit/checkpoint", "auditor")["heads"]
    assert call("GET", "/api/v1/aggregates/regions", "analyst")

    # a worker logs in and reads their own records
    person = {"resident_id": resident_id(102)}  # the world's bj_worker
    code = call("POST", "/api/v1/auth/code", None, 202, json=person)["demo_code"]
    password = "a long pass phrase"
    call("POST", "/api/v1/auth/register", None, 201,
         json={**person, "code": code, "password": password})  # fmt: skip
    token = call("POST", "/api/v1/auth/token", None, json={**person, "password": password})
    session = token["access_token"]
    mine = call("GET", "/api/v1/me/statement", None, token=session)
    assert mine["worker"]["worker_id"] == bj_worker
    assert call("GET", "/api/v1/me/pension/estimate", None, token=session)["scenarios"]
    assert call("GET", "/api/v1/me/medical/status", None, token=session)["worker_id"] == bj_worker
    # … binds a mobile number, logs in with it, and removes it
    number = {"phone": "13800138000"}
    code = call("POST", "/api/v1/auth/code", None, 202, json=number)["demo_code"]
    bound = call("PUT", "/api/v1/me/phone", None, token=session, json={**number, "code": code})
    assert bound == {"phone": "138****8000"}
    assert call("GET", "/api/v1/me/phone", None, token=session) == bound
    by_phone = call("POST", "/api/v1/auth/token", None, json={**number, "password": password})
    assert call("GET", "/api/v1/me/statement", None, token=by_phone["access_token"]) == mine
    call("DELETE", "/api/v1/me/phone", None, 204, token=session)
    # … logs out everywhere: both sessions refused; their agency ends a new one's
    call("POST", "/api/v1/me/sessions/end", None, 204, token=session)
    call("GET", "/api/v1/me/statement", None, 401, token=by_phone["access_token"])
    again = call("POST", "/api/v1/auth/token", None, json={**person, "password": password})
    ended = call("POST", "/api/v1/workers/{worker_id}/sessions/end", "bj",
                 ids={"worker_id": bj_worker})  # fmt: skip
    assert ended == {"worker_id": bj_worker, "sessions_ended": True}
    call("GET", "/api/v1/me/statement", None, 401, token=again["access_token"])
    # … logs in once more and logs out: that token is refused
    last = call("POST", "/api/v1/auth/token", None, json={**person, "password": password})
    call("POST", "/api/v1/auth/logout", None, 204, token=last["access_token"])
    call("GET", "/api/v1/me/statement", None, 401, token=last["access_token"])

    # a platform declares a worker, lists and reads its workers, ends an engagement
    declared = call("POST", "/api/v1/platform/workers", "platform", 201,
                    json={"resident_id": resident_id(204), "work_region": "440100",
                          "relation": "labour"})  # fmt: skip
    assert "*" in declared["resident_id"]
    engaged = call("GET", "/api/v1/platform/workers", "platform")
    assert gz_worker in {i["worker_id"] for i in engaged["items"]}
    ours = {"worker_id": gz_worker}
    assert call("GET", "/api/v1/platform/workers/{worker_id}", "platform", ids=ours)
    call("POST", "/api/v1/platform/workers/{worker_id}/end", "platform", ids=ours, json={})

    # seven weeks on: what waits past its deadline, and the requests never approved expire
    url = call.client.app.state.service.settings.database_url
    with TestClient(create_app(settings_for(url, today="2026-08-03"))) as client:
        later = Tour(client, made)
        late = later("GET", "/api/v1/transfers", "hz", params={"overdue": "true"})
        assert [t["transfer_id"] for t in late["items"]] == ["gz-to-hz"]
        expired = later("POST", "/api/v1/transfers/expired", "national",
                        headers={"Idempotency-Key": "later-1"})  # fmt: skip
        assert {t["transfer_id"] for t in expired["expired"]} == {"gz-to-hz", "tour-gather/440100"}
        assert later("GET", "/api/v1/transfers", "hz", params={"overdue": "true"})["items"] == []
    call.toured |= later.toured
    with unit_of_work(engine) as c:
        assert verify(c).ok
    operations = {(m, p) for m, p, _ in access.operations(call.client.app.routes)}
    assert call.toured == operations, (
        f"routes the tour never called: {sorted(operations - call.toured)}"
    )
