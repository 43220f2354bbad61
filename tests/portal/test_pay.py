"""The pay page on both databases: the months open to me with their bounds, the split shown
before confirming, a double submit paying once, clear refusals, CSRF, and never another
worker's figures."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from suiren.domain.month import Month
from suiren.policy.contribution import contribution_bounds, split_contribution
from suiren.portal.app import create_app
from suiren.portal.text import yuan
from suiren.rules.vector import day_number
from suiren.services.payment_quotes import earliest_month
from suiren.store.db import make_engine
from tests.api import settings_for
from tests.conftest import KEYS
from tests.ledger_helpers import POLICY
from tests.portal import csrf_of, two_workers
from tests.portal.test_portal import assert_message, log_in_with_code, portal  # noqa: F401
from tests.worlds import populated

JUNE = Month.of(2026, 6)
EARLIEST = earliest_month(POLICY, date(2026, 6, 15))  # the first month paid back today
NONCE_RE = re.compile(r'name="nonce" value="([0-9a-f]{32})"')


def bounds(month: Month) -> tuple[int, int]:
    days = np.array([day_number(month.first_day())], dtype=np.int64)
    found = contribution_bounds(POLICY, days, np.array(["440100"], dtype="<U6"))
    return int(found.floor_fen[0]), int(found.ceiling_fen[0])


def split(month: Month, base_fen: int) -> tuple[int, int, int]:
    days = np.array([day_number(month.first_day())], dtype=np.int64)
    got = split_contribution(
        POLICY, days, np.array(["440100"], dtype="<U6"), np.array([base_fen], dtype=np.int64)
    )
    return int(got.due_fen[0]), int(got.individual_account_fen[0]), int(got.pooled_fen[0])


def logged_in(portal_: Any) -> tuple[TestClient, dict[str, Any]]:
    client, world = portal_
    assert log_in_with_code(client, world["my_id"]).status_code == 303
    return client, world


def preview(client: TestClient, month: Month, base_yuan: str) -> Any:
    return client.get("/pay", params={"month": str(month), "base_yuan": base_yuan})


def confirm_form(page: str) -> dict[str, str]:
    nonce = NONCE_RE.search(page)
    assert nonce, page
    month = re.search(r'name="month" value="([0-9-]{7})"', page)
    base = re.search(r'name="base_yuan" value="([0-9.]+)"', page)
    assert month and base
    return {
        "csrf": csrf_of(page),
        "month": month.group(1),
        "base_yuan": base.group(1),
        "nonce": nonce.group(1),
    }


def months_paid(client: TestClient) -> int:
    found = re.search(r'id="months-total">([0-9]+)<', client.get("/statement").text)
    assert found
    return int(found.group(1))


def test_the_open_months_show_their_bounds_and_the_split_before_confirming(portal) -> None:  # noqa: F811
    client, _ = logged_in(portal)
    page = client.get("/pay")
    assert page.status_code == 200, page.text
    floor, ceiling = bounds(JUNE)
    assert '<option value="2026-06" selected>' in page.text  # this month first
    assert 'value="2026-05"' not in page.text  # paid already: not offered
    assert f'value="{EARLIEST + -1}"' not in page.text  # before the back-payment rule allows
    assert yuan(floor) in page.text and yuan(ceiling) in page.text
    assert "缴费基数" in page.text and 'id="confirm-pay"' not in page.text
    shown = preview(client, JUNE, "6000")
    assert shown.status_code == 200, shown.text
    due, account, pooled = split(JUNE, 600_000)
    assert due == account + pooled
    for element, fen in (("due", due), ("to-account", account), ("to-pool", pooled)):
        assert f'id="{element}">{yuan(fen)}<' in shown.text
    assert 'id="confirm-pay"' in shown.text
    assert months_paid(client) == 5  # a preview pays nothing


def test_a_double_submit_pays_once_and_answers_the_same(portal) -> None:  # noqa: F811
    client, _ = logged_in(portal)
    form = confirm_form(preview(client, JUNE, "6000").text)
    first = client.post("/pay", data=form)
    again = client.post("/pay", data=form)
    assert first.status_code == again.status_code == 200, first.text
    ids = [re.search(r'id="payment-id">([^<]+)<', r.text) for r in (first, again)]
    assert ids[0] and ids[1] and ids[0].group(1) == ids[1].group(1)
    assert f'id="paid-due">{yuan(split(JUNE, 600_000)[0])}<' in again.text
    assert months_paid(client) == 6
    assert 'value="2026-06"' not in client.get("/pay").text  # paid: no longer offered
    other_base = {**form, "base_yuan": "7000"}  # the same form with another base: refused
    assert_message(client.post("/pay", data=other_base), 422, "已经缴过费", "already paid")
    assert months_paid(client) == 6


@pytest.mark.parametrize(
    ("month", "base", "zh", "en"),
    [
        (JUNE, "1", "缴费基数须在", "The base must be from"),
        (JUNE, "99999999", "缴费基数须在", "The base must be from"),
        (Month.of(2026, 5), "6000", "已经缴过费", "already paid"),
        (Month.of(2026, 7), "6000", "尚未到来", "has not come yet"),
        (EARLIEST + -1, "6000", "不能补缴", "cannot be paid now"),
        (JUNE, "6千", "请按元填写", "Enter the base in yuan"),
        # a comma only between groups of three: 60,00 is neither 6,000 nor 60 yuan
        (JUNE, "60,00", "请按元填写", "Enter the base in yuan"),
        (JUNE, "6,0000", "请按元填写", "Enter the base in yuan"),
    ],
)
def test_a_month_or_base_the_rules_refuse_is_a_clear_message(
    portal,  # noqa: F811
    month: Month,
    base: str,
    zh: str,
    en: str,
) -> None:
    client, _ = logged_in(portal)
    assert_message(preview(client, month, base), 422, zh, en)
    client.headers["Accept-Language"] = "en"
    assert_message(preview(client, month, base), 422, zh, en)
    del client.headers["Accept-Language"]
    form = {**confirm_form(preview(client, JUNE, "6000").text), "month": str(month)}
    form["base_yuan"] = base
    assert_message(client.post("/pay", data=form), 422, zh, en)
    assert months_paid(client) == 5


def test_the_bounds_in_the_refusal_are_the_months_own(portal) -> None:  # noqa: F811
    client, _ = logged_in(portal)
    floor, ceiling = bounds(JUNE)
    refused = preview(client, JUNE, "1")
    assert yuan(floor) in refused.text and yuan(ceiling) in refused.text
    at_floor = preview(client, JUNE, f"{floor // 100}.{floor % 100:02d}")
    assert at_floor.status_code == 200 and 'id="confirm-pay"' in at_floor.text
    below = floor - 1
    assert preview(client, JUNE, f"{below // 100}.{below % 100:02d}").status_code == 422


def test_a_payment_needs_this_browsers_csrf_token_and_a_session(portal) -> None:  # noqa: F811
    client, _ = logged_in(portal)
    form = confirm_form(preview(client, JUNE, "6000").text)
    for token in ("", form["csrf"][:-1] + ("1" if form["csrf"].endswith("0") else "0")):
        refused = client.post("/pay", data={**form, "csrf": token})
        assert_message(refused, 403, "表单已过期或并非来自本站", "did not come from this site")
    assert months_paid(client) == 5
    stranger = TestClient(client.app)
    stranger.cookies.set("suiren_csrf", client.cookies["suiren_csrf"])
    out = stranger.post("/pay", data=form, follow_redirects=False)  # no session: nothing paid
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert stranger.get("/pay", follow_redirects=False).headers["location"] == "/login"
    assert months_paid(client) == 5


def test_another_workers_months_are_never_shown_or_paid(portal) -> None:  # noqa: F811
    client, world = portal
    assert log_in_with_code(client, world["their_id"]).status_code == 303
    theirs = client.get("/pay").text
    assert 'value="2026-05"' in theirs and 'value="2026-04"' in theirs  # their gaps, not mine
    assert world["my_id"] not in theirs and world["mine"] not in theirs
    form = confirm_form(preview(client, Month.of(2026, 4), "8000").text)
    assert client.post("/pay", data={**form, "worker_id": world["mine"]}).status_code == 200
    client.cookies.clear()
    mine, _ = logged_in(portal)
    assert months_paid(mine) == 5


@pytest.fixture
def august(
    database_url: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """The portal on 2026-08-15: 广东's floor and ceiling in the file are of 2025-07, so July
    and August 2026 are bounded by them provisionally, June by its own year's."""
    url, extra = database_url
    for name, value in extra.items():
        monkeypatch.setenv(name, value)
    engine = make_engine(url, keys=KEYS)
    world = populated(engine, two_workers)
    engine.dispose()
    app = create_app(settings_for(url, today="2026-08-15", demo_codes=True))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, world


def test_provisional_bounds_are_said_on_the_month_its_quote_and_its_receipt(august) -> None:
    client, _ = logged_in(august)
    page = client.get("/pay")
    assert page.status_code == 200, page.text
    options = dict(re.findall(r'<option value="(2026-0[0-9])"[^>]*>([^<]*)</option>', page.text))
    assert sorted(options) == ["2026-06", "2026-07", "2026-08"]
    assert "暂定" in options["2026-07"] and "暂定" in options["2026-08"]
    assert "暂定" not in options["2026-06"]
    assert 'id="bounds-provisional"' in page.text  # this month (August) is chosen first
    july = preview(client, Month.of(2026, 7), "6000")
    assert july.status_code == 200 and 'id="bounds-provisional"' in july.text
    assert "暂定上下限：2026年7月的缴费基数上下限按2025年公布的缴费基数下限" in july.text
    june = preview(client, JUNE, "6000")
    assert june.status_code == 200 and 'id="bounds-provisional"' not in june.text
    paid = client.post("/pay", data=confirm_form(july.text))
    assert paid.status_code == 200 and 'id="paid-provisional"' in paid.text, paid.text
    client.headers["Accept-Language"] = "en"
    english = preview(client, Month.of(2026, 8), "6000")
    assert "Provisional bounds: the bounds of Aug 2026 rest on the published floor" in english.text
    assert "暂定" not in english.text


def test_a_base_with_thousands_separators_is_read_as_written(portal) -> None:  # noqa: F811
    client, _ = logged_in(portal)
    grouped = preview(client, JUNE, "6,000.00")
    assert grouped.status_code == 200, grouped.text
    assert f'id="due">{yuan(split(JUNE, 600_000)[0])}<' in grouped.text


def test_while_my_insurance_is_moving_out_the_page_says_why_i_cannot_pay(portal) -> None:  # noqa: F811
    """A move approved by the old region has taken the money out of it: no month is paid
    there until the move is completed or rejected. The split and the confirm both say so, in
    the page's language (not "the request was refused"), and nothing is paid."""
    from suiren.services.transfers import approve_transfer, request_transfer
    from suiren.store.db import unit_of_work
    from tests.conftest import NOW

    client, world = logged_in(portal)
    form = confirm_form(preview(client, JUNE, "6000").text)
    engine = client.app.state.service.engine  # type: ignore[attr-defined]
    with unit_of_work(engine) as c:
        request_transfer(c, POLICY, "mine-moves", world["mine"], "330100", NOW)
        approve_transfer(c, "mine-moves", NOW)
    for lang in ("zh", "en"):
        client.headers["Accept-Language"] = lang
        said = ("正在转移中", "is being moved to another region")
        assert_message(preview(client, JUNE, "6000"), 422, *said)
        assert_message(client.post("/pay", data=form), 422, *said)
    assert "mine-moves" not in client.post("/pay", data=form).text
    assert months_paid(client) == 5
