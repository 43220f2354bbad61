"""A worker's writes from the portal are in the access log like every other write (issue 11
§2: the actor and the request id): a payment and a move each leave a row with
``worker:<id>``, the request id and the path, in the unit of work that did it; a refused one
leaves none. On both databases."""

from __future__ import annotations

from sqlalchemy import select

from suiren.store.api_tables import access_log
from tests.portal.test_move import move_form
from tests.portal.test_pay import JUNE, confirm_form, logged_in, preview
from tests.portal.test_portal import portal  # noqa: F401


def logged(client) -> list[tuple[str, str, str, int]]:  # type: ignore[no-untyped-def]
    engine = client.app.state.service.engine
    with engine.connect() as c:
        rows = c.execute(
            select(
                access_log.c.request_id, access_log.c.key_id, access_log.c.path, access_log.c.status
            ).order_by(access_log.c.id)
        ).all()
    return [tuple(r) for r in rows]


def test_a_payment_and_a_move_are_logged_with_the_worker_and_the_request(portal) -> None:  # noqa: F811
    client, world = logged_in(portal)
    me = f"worker:{world['mine']}"
    paid = client.post("/pay", data=confirm_form(preview(client, JUNE, "6000").text),
                       headers={"X-Request-ID": "pay-req-1"})  # fmt: skip
    assert paid.status_code == 200, paid.text
    refused = client.post("/move", data=move_form(client, "440100"))  # where I am insured
    assert refused.status_code == 422
    moved = client.post("/move", data=move_form(client, "330100"),
                        headers={"X-Request-ID": "move-req-1"}, follow_redirects=False)  # fmt: skip
    assert moved.status_code == 303
    writes = [row for row in logged(client) if not row[2].startswith("/login")]  # the login's
    assert writes == [("pay-req-1", me, "/pay", 200), ("move-req-1", me, "/move", 303)]
