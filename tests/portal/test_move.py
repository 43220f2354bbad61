"""Move my insurance on both databases: a request from the page (a double submit answers with
the same transfer), each of my transfers with its state, its steps, the next step and its
deadline, a clear refusal, CSRF, and never another worker's transfers."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from suiren.services.transfers import approve_transfer, get_transfer
from suiren.store.db import unit_of_work
from suiren.store.tables import transfers
from tests.conftest import NOW
from tests.portal import csrf_of
from tests.portal.test_portal import assert_message, log_in_with_code, portal  # noqa: F401

NONCE_RE = re.compile(r'name="nonce" value="([0-9a-f]{32})"')


def move_form(client: TestClient, to_region: str) -> dict[str, str]:
    page = client.get("/move")
    assert page.status_code == 200, page.text
    nonce = NONCE_RE.search(page.text)
    assert nonce
    return {"csrf": csrf_of(page.text), "nonce": nonce.group(1), "to_region": to_region}


def test_i_request_a_move_once_and_see_its_next_step_and_deadline(portal) -> None:  # noqa: F811
    client, world = portal
    assert log_in_with_code(client, world["my_id"]).status_code == 303
    empty = client.get("/move")
    assert 'id="no-transfers"' in empty.text and "广州市 (440100)" in empty.text
    form = move_form(client, "330100")
    first = client.post("/move", data=form, follow_redirects=False)
    again = client.post("/move", data=form, follow_redirects=False)
    for answer in (first, again):
        assert answer.status_code == 303 and answer.headers["location"] == "/move?notice=requested"
    page = client.get("/move?notice=requested")
    assert "转移申请已提交" in page.text
    assert page.text.count('class="card transfer') == 1  # the double submit made one transfer
    engine = client.app.state.service.engine  # type: ignore[attr-defined]
    with engine.connect() as c:
        (row,) = c.execute(transfers.select()).all()
    assert row.worker_id == world["mine"] and row.state == "requested"
    assert "广州市 (440100) → 杭州市 (330100)" in page.text
    assert f'class="due-on">{row.due_on.isoformat()}<' in page.text
    assert "待转出地批准" in page.text and "批准转出" in page.text
    with unit_of_work(engine) as c:
        approve_transfer(c, row.transfer_id, NOW)
        approved = get_transfer(c, row.transfer_id)
    after = client.get("/move").text
    assert "转入地已接收" not in after and "转出地已批准" in after
    assert f'class="due-on">{approved.due_on.isoformat()}<' in after
    assert "接收转入" in after and "杭州市 (330100)" in after


def test_a_move_the_services_refuse_is_a_clear_message(portal) -> None:  # noqa: F811
    client, world = portal
    assert log_in_with_code(client, world["my_id"]).status_code == 303
    assert_message(
        client.post("/move", data=move_form(client, "33010")), 422, "6位行政区划代码", "6-digit"
    )
    for lang in ("zh", "en"):  # the reason, in the page's language (not the service's words)
        assert_message(
            client.post(
                "/move", data=move_form(client, "440100"), headers={"Accept-Language": lang}
            ),
            422,
            "您已在该地参保",
            "already insured in that region",
        )
    assert_message(
        client.post("/move", data=move_form(client, "999999")),
        422,
        "未知的行政区划代码 999999",  # the service's message, in the page's language
        "unknown region code 999999",
    )
    assert client.post("/move", data=move_form(client, "330100")).status_code == 200
    for lang in ("zh", "en"):  # a second open move, with another form
        second = client.post(
            "/move", data=move_form(client, "330100"), headers={"Accept-Language": lang}
        )
        assert_message(second, 422, "您已有一笔正在办理的转移", "You already have a move under way")
        assert "demo-move" not in second.text and "portal-move/" not in second.text


def test_a_move_needs_this_browsers_csrf_token_and_shows_only_my_transfers(portal) -> None:  # noqa: F811
    client, world = portal
    assert log_in_with_code(client, world["their_id"]).status_code == 303
    form = move_form(client, "330100")
    refused = client.post("/move", data={**form, "csrf": ""})
    assert_message(refused, 403, "表单已过期或并非来自本站", "did not come from this site")
    assert client.post("/move", data=form).status_code == 200
    client.cookies.clear()
    assert log_in_with_code(client, world["my_id"]).status_code == 303
    mine = client.get("/move").text
    assert 'id="no-transfers"' in mine and "杭州市" not in mine  # their move is not mine
    stranger = TestClient(client.app)
    stranger.cookies.set("suiren_csrf", client.cookies["suiren_csrf"])
    form = move_form(client, "330100")
    out = stranger.post("/move", data=form, follow_redirects=False)  # no session: no move
    assert out.status_code == 303 and out.headers["location"].startswith("/login")
