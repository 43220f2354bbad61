"""The agency console in-process on both databases: a clerk's login (lock-out, a session of
its own kind), CSRF on every form, each region taking only its own steps of a transfer (a
forged POST for another's is the same 404 as an unknown transfer, and does nothing), the
workers, funds and settlement windows of the clerk's region only, the audit for national
clerks, and an access-log row for every write."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import SplitResult, unquote, urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from suiren.api.paging import encode_cursor
from suiren.domain.month import Month
from suiren.portal.app import create_app
from suiren.portal.text import yuan
from suiren.services.clerks import add_clerk, sign_clerk_token
from suiren.services.contributions import contribute
from suiren.services.identity import token_key
from suiren.services.logins import sign_token
from suiren.services.settlement import close_window
from suiren.services.transfers import accept_transfer, approve_transfer, request_transfer
from suiren.services.workers import enrol
from suiren.store.api_tables import access_log
from suiren.store.db import make_engine, unit_of_work
from suiren.store.tables import transfer_events, transfers
from tests.api import settings_for
from tests.conftest import KEYS, NOW, SECRET
from tests.ledger_helpers import POLICY, VAULT, enrol_workers, resident_id
from tests.portal import TODAY, csrf_of, two_workers
from tests.worlds import populated

PASSWORD = "a clerk's pass phrase"
CLERKS = {"gz.clerk": "440100", "hz.clerk": "330100", "bj.clerk": "110000", "national": "000000"}
HTMX = {"HX-Request": "true"}


def console_world(engine: Any) -> dict[str, Any]:
    """Two workers of Guangzhou (``two_workers``): "mine" asks to move to Hangzhou
    (``move-1``, requested); "theirs" moved there earlier (``done-1``, accepted, its window
    of 2026-06-15 closed). A worker of Hangzhou whose resident id is of Guangdong too. A
    clerk of Guangzhou, Hangzhou, Beijing and the national agency."""
    world = two_workers(engine)
    with unit_of_work(engine) as c:
        hz = enrol(c, POLICY, VAULT, resident_id(3), "330100", None, NOW).worker.worker_id
        contribute(c, POLICY, "hz-pay", hz, Month.of(2026, 1), Month.of(2026, 2), 700_000, NOW)
        request_transfer(c, POLICY, "move-1", world["mine"], "330100", NOW)
        request_transfer(c, POLICY, "done-1", world["theirs"], "330100", NOW)
        approve_transfer(c, "done-1", NOW)
        accept_transfer(c, "done-1", NOW)
        close_window(c, NOW.date(), NOW + timedelta(days=1))
        for login, region in CLERKS.items():
            add_clerk(c, login, region, PASSWORD, NOW)
    return world | {"hz": hz, "hz_id": resident_id(3)}


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with the smallest cost: the same algorithm and checks, a millisecond a hash
    instead of a third of a second (a login test hashes a dozen times)."""
    from argon2 import PasswordHasher

    from suiren.services import logins

    monkeypatch.setattr(
        logins, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def console(
    database_url: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    url, extra = database_url
    for name, value in extra.items():  # PGOPTIONS: the test's own PostgreSQL schema
        monkeypatch.setenv(name, value)
    engine = make_engine(url, keys=KEYS)
    world = populated(engine, console_world)
    app = create_app(settings_for(url, today=TODAY))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, world | {"url": url}, engine
    engine.dispose()


def log_in(client: TestClient, login: str, password: str = PASSWORD) -> Any:
    client.cookies.clear()
    csrf = csrf_of(client.get("/console/login").text)
    form = {"csrf": csrf, "login": login, "password": password}
    return client.post("/console/login", data=form, follow_redirects=False)


def as_clerk(client: TestClient, login: str) -> str:
    """Log ``login`` in; the CSRF token of this browser's forms."""
    assert log_in(client, login).status_code == 303
    return csrf_of(client.get("/console/transfers").text)


def step(client: TestClient, csrf: str, transfer: str, name: str, **form: str) -> Any:
    return client.post(
        f"/console/transfers/{transfer}/{name}",
        data={"csrf": csrf, **form},
        headers=HTMX,
        follow_redirects=False,
    )


def state_of(engine: Any, transfer: str) -> str:
    with engine.connect() as c:
        return str(
            c.execute(select(transfers.c.state).where(transfers.c.transfer_id == transfer)).scalar()
        )


def assert_no_resident_id(world: dict[str, Any], body: str) -> None:
    for full in (world["my_id"], world["their_id"], world["hz_id"]):
        assert full not in body


def test_a_clerk_logs_in_and_wrong_passwords_lock_the_login(console) -> None:
    client, _, _ = console
    page = client.get("/console/", follow_redirects=True)
    assert page.url.path == "/console/login" and "经办人员登录" in page.text
    done = log_in(client, "GZ.Clerk")  # login names are folded to lower case
    assert done.status_code == 303 and done.headers["location"] == "/console/transfers"
    cookie = next(c for c in done.headers.get_list("set-cookie") if c.startswith("suiren_console="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    assert "Max-Age=1800" in cookie and "Secure" not in cookie
    desk = client.get("/console/transfers")
    assert desk.status_code == 200 and 'id="clerk">gz.clerk · 广州市 (440100)<' in desk.text
    refused = "登录名或密码不正确"
    for login, password in (("gz.clerk", "not the password"), ("nobody", PASSWORD)):
        answer = log_in(client, login, password)
        assert answer.status_code == 401 and refused in answer.text
        assert "suiren_console" not in answer.headers.get("set-cookie", "")
    for _ in range(4):  # five wrong in a row lock the login, as a worker's
        log_in(client, "gz.clerk", "not the password")
    locked = log_in(client, "gz.clerk")
    assert locked.status_code == 429 and "尝试次数过多" in locked.text
    assert log_in(client, "hz.clerk").status_code == 303  # another clerk is not locked out


def test_a_console_session_is_no_workers_session_and_the_reverse(console) -> None:
    client, world, _ = console
    key = token_key(SECRET)
    clerk_token = sign_clerk_token(key, "national", NOW, 0)
    client.cookies.set("suiren_session", clerk_token)  # a clerk's token as a worker's
    assert client.get("/statement", follow_redirects=False).headers["location"].startswith("/login")
    api = client.get("/api/v1/me/statement", headers={"Authorization": f"Bearer {clerk_token}"})
    assert api.status_code == 404  # a clerk's token is an agency's to the API: no worker's own
    client.cookies.clear()
    as_worker = sign_token(
        key, "national", NOW, generation=0
    )  # a worker token whose subject is a clerk's login
    client.cookies.set("suiren_console", as_worker, path="/console")
    assert (
        client.get("/console/transfers", follow_redirects=False)
        .headers["location"]
        .startswith("/console/login")
    )
    client.cookies.set("suiren_console", "ct_" + as_worker.removeprefix("wt_"), path="/console")
    assert client.get("/console/funds", follow_redirects=False).status_code == 303
    stale = sign_clerk_token(key, "national", NOW - timedelta(minutes=31), 0)
    client.cookies.set("suiren_console", stale, path="/console")
    expired = client.get("/console/transfers", follow_redirects=False)
    assert expired.headers["location"] == "/console/login?notice=expired"
    client.cookies.set("suiren_console", sign_clerk_token(key, "national", NOW, 0), path="/console")
    assert client.get("/console/transfers").status_code == 200
    assert_no_resident_id(world, client.get("/console/transfers").text)


def test_a_nonce_planted_in_a_clerks_browser_opens_no_form_of_their_session(console) -> None:
    """A clerk of another region plants the nonce of their own browser in a Guangzhou clerk's
    (a cookie a sibling subdomain can write): the token their console page gave for it is
    bound to their session, so the forged approval is refused and nothing moves."""
    client, _, engine = console
    as_clerk(client, "gz.clerk")
    attacker = TestClient(client.app)
    token = as_clerk(attacker, "bj.clerk")
    client.cookies.set("suiren_csrf", attacker.cookies["suiren_csrf"])
    forged = step(client, token, "move-1", "approve")
    assert forged.status_code == 403 and "并非来自本站" in forged.text, forged.text[:300]
    assert state_of(engine, "move-1") == "requested"
    good = csrf_of(client.get("/console/transfers").text)  # the planted nonce, this session's
    assert step(client, good, "move-1", "approve").status_code == 200
    assert state_of(engine, "move-1") == "approved"


def test_a_console_form_left_open_past_its_session_goes_to_the_login_page(console) -> None:
    """The clerk's browser dropped the console cookie when the session expired; a form left
    open since leads to the login page (htmx: its redirect header), not to a refusal as a
    forged form; nothing moves."""
    client, _, engine = console
    csrf = as_clerk(client, "gz.clerk")
    client.cookies.delete("suiren_console")
    for path in ("/console/transfers/move-1/approve", "/console/audit", "/console/logout"):
        left = client.post(path, data={"csrf": csrf}, follow_redirects=False)
        assert (left.status_code, left.headers.get("location")) == (303, "/console/login"), path
    htmx = step(client, csrf, "move-1", "approve")
    assert (htmx.status_code, htmx.headers.get("hx-redirect")) == (204, "/console/login")
    assert state_of(engine, "move-1") == "requested"


def test_every_console_form_refuses_a_post_without_this_browsers_csrf_token(console) -> None:
    client, _, engine = console
    good = as_clerk(client, "gz.clerk")
    other_browser = TestClient(client.app)
    foreign = csrf_of(other_browser.get("/console/login").text)
    tampered = good[:-1] + ("1" if good.endswith("0") else "0")
    forms = {
        "/console/login": {"login": "gz.clerk", "password": PASSWORD},
        "/console/logout": {},
        "/console/transfers/move-1/approve": {},
        "/console/transfers/move-1/reject": {"reason": "no"},
        "/console/audit": {},
    }
    for path, form in forms.items():
        for token in (None, "", foreign, tampered):
            sent = form if token is None else {**form, "csrf": token}
            refused = client.post(path, data=sent, follow_redirects=False)
            assert refused.status_code == 403, (path, refused.text)
            assert "并非来自本站" in refused.text
    assert state_of(engine, "move-1") == "requested"
    assert client.get("/console/transfers").status_code == 200  # still logged in
    with engine.connect() as c:
        assert c.execute(select(access_log.c.path).where(access_log.c.status == 200)).all() == []


def test_each_region_takes_only_its_own_steps_and_a_forged_post_is_a_404(console) -> None:
    client, world, engine = console
    # Guangzhou: move-1 waits for its approval; the accept of done-1 is Hangzhou's
    csrf = as_clerk(client, "gz.clerk")
    desk = client.get("/console/transfers").text
    approve_section = desk[desk.index('id="waiting-approve"') : desk.index('id="waiting-accept"')]
    assert 'data-transfer="move-1"' in approve_section and "done-1" not in desk
    assert "/console/transfers/move-1/approve" in desk and "/move-1/accept" not in desk
    assert_no_resident_id(world, desk)
    assert world["my_id"][:2] + "*" * 16 in desk
    for forged in ("accept", "complete"):
        assert step(client, csrf, "move-1", forged).status_code == 404
        assert step(client, csrf, "done-1", forged).status_code == 404
    assert state_of(engine, "move-1") == "requested"
    approved = step(client, csrf, "move-1", "approve")
    assert approved.status_code == 200, approved.text
    assert approved.text.startswith('<article class="card transfer"')
    assert 'data-state="approved"' in approved.text and "已批准转出" in approved.text
    assert "/move-1/accept" not in approved.text and "/move-1/reject" not in approved.text
    assert step(client, csrf, "move-1", "accept").status_code == 404
    assert state_of(engine, "move-1") == "approved"
    # Beijing: no side of it — sees nothing, and every forged step is the 404 of an unknown one
    bj = as_clerk(client, "bj.clerk")
    assert "move-1" not in client.get("/console/transfers").text
    assert client.get("/console/transfers/move-1").status_code == 404
    for name in ("approve", "accept", "complete", "reject"):
        forged = step(client, bj, "move-1", name, reason="forged")
        unknown = step(client, bj, "move-9", name, reason="forged")
        assert forged.status_code == unknown.status_code == 404
        assert forged.text == unknown.text
    assert state_of(engine, "move-1") == "approved"
    # Hangzhou: accepts move-1 (htmx: the card in its new state) and completes it (no htmx)
    hz = as_clerk(client, "hz.clerk")
    desk = client.get("/console/transfers").text
    accept_section = desk[desk.index('id="waiting-accept"') : desk.index('id="waiting-complete"')]
    assert 'data-transfer="move-1"' in accept_section
    assert 'data-transfer="done-1"' in desk[desk.index('id="waiting-complete"') :]
    assert step(client, hz, "move-1", "approve").status_code == 404
    accepted = step(client, hz, "move-1", "accept")
    assert 'data-state="accepted"' in accepted.text and "/move-1/complete" in accepted.text
    done = client.post(
        "/console/transfers/move-1/complete", data={"csrf": hz}, follow_redirects=False
    )
    assert (
        done.status_code == 303
        and done.headers["location"] == "/console/transfers/move-1?done=complete"
    )
    page = client.get(done.headers["location"])
    assert 'data-state="completed"' in page.text and "已办结" in page.text
    assert state_of(engine, "move-1") == "completed"
    with engine.connect() as c:
        logged = c.execute(
            select(access_log.c.key_id, access_log.c.path, access_log.c.request_id)
            .where(access_log.c.path.like("/console/transfers/%"))
            .order_by(access_log.c.id)
        ).all()
        steps = c.execute(
            select(transfer_events.c.step).where(transfer_events.c.transfer_id == "move-1")
        ).scalars()
        assert sorted(steps) == ["accepted", "approved", "completed", "requested"]
    assert [(k, p) for k, p, _ in logged] == [
        ("clerk:gz.clerk", "/console/transfers/move-1/approve"),
        ("clerk:hz.clerk", "/console/transfers/move-1/accept"),
        ("clerk:hz.clerk", "/console/transfers/move-1/complete"),
    ]
    assert all(len(request_id) == 32 for _, _, request_id in logged)


def resolved(target: str) -> SplitResult:
    """A link of a page as a browser follows it: entities undone, dot segments removed."""
    return urlsplit(urljoin("http://testserver/", html.unescape(target)))


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_transfer_id_with_dot_segments_links_and_posts_to_that_transfer_only(console) -> None:
    """A transfer id may hold "/" and "." (an API client chose it): on a card, every link,
    form and redirect of it, as a browser resolves it (dot segments removed), leads to that
    transfer — never to another one that ``x/../move-1`` would name."""
    client, world, engine = console
    crafted = "hz/../move-1"  # Hangzhou's worker moving to Guangzhou; resolved: move-1
    with unit_of_work(engine) as c:
        request_transfer(c, POLICY, crafted, world["hz"], "440100", NOW)
    csrf = as_clerk(client, "hz.clerk")
    desk = client.get("/console/transfers").text
    start = desk.index(f'data-transfer="{html.escape(crafted)}"')
    card = desk[start : desk.index("</article>", start)]
    targets = re.findall(r'(?:href|action|hx-post)="(/console/transfers/[^"]*)"', card)
    assert len(targets) == 5, card  # the link, and approve and reject each as form and htmx
    own = f"/console/transfers/{crafted}"
    assert {unquote(resolved(t).path) for t in targets} == {own, f"{own}/approve", f"{own}/reject"}
    approve = next(t for t in targets if t.endswith("/approve"))
    done = client.post(resolved(approve).path, data={"csrf": csrf}, follow_redirects=False)
    assert done.status_code == 303, done.text
    back = resolved(done.headers["location"])
    assert unquote(back.path) == own and back.query == "done=approve"
    assert state_of(engine, crafted) == "approved" and state_of(engine, "move-1") == "requested"


def test_a_rejection_needs_a_reason_and_is_the_deciding_regions(console) -> None:
    client, _, engine = console
    gz = as_clerk(client, "gz.clerk")
    blank = step(client, gz, "move-1", "reject", reason="  ")
    assert blank.status_code == 422 and "退回原因" in blank.text
    assert 'data-state="requested"' in blank.text
    rejected = step(client, gz, "move-1", "reject", reason="材料不全 papers missing")
    assert rejected.status_code == 200 and 'data-state="rejected"' in rejected.text
    again = step(client, gz, "move-1", "approve")
    # the service's own message, in the page's language
    assert again.status_code == 422 and "须在“已申请”状态下办理" in again.text
    assert state_of(engine, "move-1") == "rejected"
    with engine.connect() as c:
        note = c.execute(
            select(transfer_events.c.note).where(
                transfer_events.c.transfer_id == "move-1", transfer_events.c.step == "rejected"
            )
        ).scalar()
    assert note == "材料不全 papers missing"


def test_the_workers_search_never_shows_another_regions_worker(console) -> None:
    client, world, _ = console
    as_clerk(client, "gz.clerk")
    found = client.get("/console/workers", params={"q": "44"})
    assert found.status_code == 200
    assert world["mine"] in found.text and world["theirs"] in found.text
    assert world["hz"] not in found.text  # her resident id is of Guangdong; her insurance is not
    assert "44****************" in found.text
    for query in (world["hz"], world["hz"].lower(), world["hz_id"]):
        none = client.get("/console/workers", params={"q": query})
        assert 'id="workers"' not in none.text and "未找到" not in none.text
        assert "参保人编号或脱敏身份证号" in none.text
        assert world["hz_id"] not in none.text  # a typed resident id is never shown back
    assert client.get(f"/console/workers/{world['hz']}").status_code == 404
    assert client.get("/console/workers/W000000000000").status_code == 404
    mine = client.get(f"/console/workers/{world['mine']}")
    assert mine.status_code == 200 and 'id="months-total">5<' in mine.text
    assert "¥" in mine.text
    assert_no_resident_id(world, mine.text)
    as_clerk(client, "hz.clerk")
    theirs = client.get("/console/workers", params={"q": world["hz"]})
    assert world["hz"] in theirs.text and world["mine"] not in theirs.text
    assert world["mine"] not in client.get("/console/workers", params={"q": "44"}).text


def test_funds_settlement_windows_and_the_audit_by_region(console) -> None:
    client, world, engine = console
    as_clerk(client, "gz.clerk")
    funds = client.get("/console/funds").text
    assert "广州市 (440100)" in funds and "杭州市" not in funds and "统筹基金" in funds
    windows = client.get("/console/settlement").text
    assert "/console/settlement/employee_pension/2026-06-15" in windows
    window = client.get("/console/settlement/employee_pension/2026-06-15")
    assert window.status_code == 200 and 'id="matrix"' in window.text
    with engine.connect() as c:
        moved = c.execute(
            select(transfers.c.account_fen + transfers.c.pooled_fen).where(
                transfers.c.transfer_id == "done-1"
            )
        ).scalar()
    assert yuan(moved) in window.text and "杭州市 (330100)" in window.text
    assert client.get("/console/audit").status_code == 404
    gz_csrf = csrf_of(client.get("/console/funds").text)
    assert client.post("/console/audit", data={"csrf": gz_csrf}).status_code == 404
    as_clerk(client, "bj.clerk")
    assert "2026-06-15" not in client.get("/console/settlement").text
    assert client.get("/console/settlement/employee_pension/2026-06-15").status_code == 404
    assert client.get("/console/settlement/employee_pension/2026-13-45").status_code in (404, 422)
    nat = as_clerk(client, "national")
    funds = client.get("/console/funds").text
    assert "广州市 (440100)" in funds and "杭州市 (330100)" in funds
    assert 'href="/console/audit"' in funds
    verified = client.post("/console/audit", data={"csrf": nat})
    assert verified.status_code == 200 and "账本完整" in verified.text
    assert_no_resident_id(world, verified.text)
    with engine.connect() as c:
        audit = c.execute(select(access_log.c.key_id).where(access_log.c.path == "/console/audit"))
        assert audit.scalars().all() == ["clerk:national"]


@pytest.mark.parametrize(
    ("login", "path", "region"),
    [
        ("gz.clerk", "/console/transfers/move-1/approve", "110000"),
        ("national", "/console/audit", "440000"),
    ],
)
def test_a_clerk_moved_meanwhile_writes_nothing_as_they_were(
    console, monkeypatch, login, path, region
) -> None:  # type: ignore[no-untyped-def]
    """A console POST reads its clerk (``desk_of``) in a transaction of its own; a clerk
    moved to another region's desk after that and before the write approved a transfer of
    their old region (or ran the audit and logged it as the national agency's clerk). The
    write checks its clerk again in its own transaction, as an API write does: 401, nothing
    written, no access-log row."""
    from suiren.portal.console import desk as desk_module
    from suiren.services.clerks import move_clerk

    client, _world, engine = console
    csrf = as_clerk(client, login)
    read_desk = desk_module.desk_of

    def then_moved(request: Any) -> Any:  # after the desk is read, before the write
        desk = read_desk(request)
        if request.method == "POST":
            with unit_of_work(engine) as c:
                move_clerk(c, login, region, NOW)
        return desk

    monkeypatch.setattr(desk_module, "desk_of", then_moved)
    refused = client.post(path, data={"csrf": csrf}, headers=HTMX, follow_redirects=False)
    assert refused.status_code == 401, refused.text
    assert state_of(engine, "move-1") == "requested"
    with engine.connect() as c:
        assert c.execute(select(access_log.c.id).where(access_log.c.path == path)).all() == []


def test_a_clerk_logs_out_with_a_form(console) -> None:
    client, _, _ = console
    csrf = as_clerk(client, "hz.clerk")
    out = client.post("/console/logout", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/console/login?notice=logged-out"
    assert client.get("/console/transfers", follow_redirects=False).status_code == 303
    assert "您已退出登录" in client.get("/console/login?notice=logged-out").text


def test_a_clerks_logout_ends_their_sessions_on_the_server(console) -> None:
    """The logout moves the generation of the clerk's sessions on (recorded in the national
    journal): a copy of the cookie taken before it, a token renewed from it and the clerk's
    API token are refused afterwards — to the login page as an expired session, 401 for the
    API — while another clerk's session goes on; the clerk logs in again."""
    from suiren.store.audit import verify
    from suiren.store.tables import facts, journal

    client, _, engine = console
    api_token = client.post(
        "/api/v1/auth/token", json={"login": "hz.clerk", "password": PASSWORD}
    ).json()["access_token"]
    old = sign_clerk_token(token_key(SECRET), "hz.clerk", NOW - timedelta(minutes=20), 0)
    client.cookies.set("suiren_console", old, path="/console")
    page = client.get("/console/transfers")  # past half its life: renewed with the page
    set_cookie = next(c for c in page.headers.get_list("set-cookie") if "suiren_console=" in c)
    renewed = set_cookie.split(";")[0].removeprefix("suiren_console=")
    assert page.status_code == 200 and renewed.startswith("ct_") and renewed != old
    assert as_clerk(client, "gz.clerk")
    other = client.cookies.get("suiren_console")
    csrf = as_clerk(client, "hz.clerk")
    copied = client.cookies.get("suiren_console")
    bearer = {"Authorization": f"Bearer {api_token}"}
    assert client.get("/api/v1/workers", headers=bearer).status_code == 200
    out = client.post("/console/logout", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/console/login?notice=logged-out"
    for token in (copied, renewed):
        client.cookies.clear()
        client.cookies.set("suiren_console", token, path="/console")
        again = client.get("/console/transfers", follow_redirects=False)
        assert again.status_code == 303, token
        assert again.headers["location"] == "/console/login?notice=expired"
        fragment = client.get("/console/transfers", headers=HTMX, follow_redirects=False)
        assert fragment.headers["HX-Redirect"] == "/console/login?notice=expired"
    client.cookies.clear()
    assert client.get("/api/v1/workers", headers=bearer).status_code == 401
    client.cookies.set("suiren_console", other, path="/console")  # another clerk's goes on
    assert client.get("/console/transfers").status_code == 200
    with unit_of_work(engine, read_only=True) as c:
        memos = c.execute(
            select(journal.c.memo)
            .join(facts, (facts.c.region == journal.c.region) & (facts.c.seq == journal.c.seq))
            .where(facts.c.kind == "clerks", facts.c.key == "hz.clerk")
        ).scalars()
        assert "clerk sessions ended: hz.clerk by clerk:hz.clerk" in list(memos)
        assert verify(c).ok, verify(c).problems
    assert as_clerk(client, "hz.clerk")  # logged in again: a new session opens the console
    assert client.get("/console/transfers").status_code == 200


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_overdue_come_first_and_say_so(console) -> None:
    _, world, engine = console
    later = NOW + timedelta(days=16)
    with unit_of_work(engine) as c:  # Hangzhou's worker asks to move to Guangzhou, later
        request_transfer(c, POLICY, "hz-move", world["hz"], "440100", later)
    with engine.connect() as c:
        due = dict(c.execute(select(transfers.c.transfer_id, transfers.c.due_on)).all())
    today = due["move-1"] + timedelta(days=1)  # move-1 is a day late; hz-move is not yet
    assert due["hz-move"] > today
    app = create_app(settings_for(world["url"], today=today.isoformat()))
    with TestClient(app) as desk:
        as_clerk(desk, "national")
        page = desk.get("/console/transfers").text
    approve = page[page.index('id="waiting-approve"') : page.index('id="waiting-accept"')]
    first, second = (
        approve.index('data-transfer="move-1"'),
        approve.index('data-transfer="hz-move"'),
    )
    assert first < second
    late = approve[first - 60 : second]
    assert 'class="card transfer overdue"' in late and "已逾期" in late
    assert "已逾期" not in approve[second:]
    late_cards = page.count('class="card transfer overdue"')  # done-1's completion is late too
    assert late_cards >= 1 and f"{late_cards} 件已逾期" in page


def test_a_nul_in_a_form_or_a_path_is_refused_as_such_never_a_retry(console, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A clerk's form whose reason holds a NUL, a page or a step whose path does, and a
    value the database refuses as data: a refusal page (PostgreSQL cannot store a NUL: it was
    "try again", 503, for a request that can never succeed), and the transfer unchanged."""
    from sqlalchemy.exc import DataError

    from suiren.services import transfers as transfer_service

    client, _world, engine = console
    csrf = as_clerk(client, "gz.clerk")
    refused = step(client, csrf, "move-1", "reject", reason="no\x00")
    assert refused.status_code == 400, refused.text[:300]
    for path in ("/console/workers/a%00b", "/console/transfers/a%00b", "/console/workers?q=%00"):
        page = client.get(path)
        assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
    assert step(client, csrf, "a%00b", "approve").status_code == 422

    def unstorable(*_args: Any, **_kwargs: Any) -> Any:
        raise DataError("UPDATE transfers ...", {}, ValueError("a value out of range"))

    monkeypatch.setattr(transfer_service, "reject_transfer", unstorable)
    assert step(client, csrf, "move-1", "reject", reason="no").status_code == 422
    assert state_of(engine, "move-1") == "requested"


WORKER_LINK_RE = re.compile(r'<th scope="row"><a href="/console/workers/([A-Z0-9]+)">')
PAGE_LINK_RE = re.compile(r'<a href="([^"]+)" rel="(prev|next)"')


def walk(client: TestClient, first: str) -> tuple[list[list[str]], list[list[str]]]:
    """The pages of a search from ``first``: the workers of each page following the next
    links to the end, then following the previous links back from there."""
    forward, url = [], first
    while True:
        page = client.get(url)
        assert page.status_code == 200, page.text
        forward.append(WORKER_LINK_RE.findall(page.text))
        links = {rel: html.unescape(href) for href, rel in PAGE_LINK_RE.findall(page.text)}
        if "next" not in links:
            break
        url = links["next"]
    backward = [forward[-1]]
    while "prev" in links:
        page = client.get(links["prev"])
        assert page.status_code == 200, page.text
        backward.append(WORKER_LINK_RE.findall(page.text))
        links = {rel: html.unescape(href) for href, rel in PAGE_LINK_RE.findall(page.text)}
    return forward, backward


def test_the_workers_search_pages_cover_each_worker_once_in_the_clerks_regions_only(
    console,
) -> None:
    """Page by page (next, then previous back), a search lists each of the desk's workers
    exactly once, in worker id order; a province's clerk may narrow it to one of its
    cities; another region, a page size beyond the bound or a cursor changed by hand is a
    4xx page, never a 500 and never another region's worker."""
    client, world, engine = console
    guangzhou = [world["mine"], world["theirs"], *enrol_workers(engine, 12, "440100", 100)]
    shenzhen = enrol_workers(engine, 3, "440300", 200)
    hangzhou = [world["hz"], *enrol_workers(engine, 2, "330100", 300)]
    with unit_of_work(engine) as c:
        add_clerk(c, "gd.clerk", "440000", PASSWORD, NOW)
    as_clerk(client, "gz.clerk")
    for first in ("/console/workers?q=&size=5", "/console/workers?q=44&size=5"):
        forward, backward = walk(client, first)
        assert [len(p) for p in forward] == [5, 5, 4]
        listed = [w for p in forward for w in p]
        assert listed == sorted(guangzhou) and backward == forward[::-1]
    landing = client.get("/console/workers").text
    assert 'id="workers"' not in landing and 'id="region"' not in landing  # one region: no list
    for tampered in (
        "/console/workers?after=not-a-cursor",
        "/console/workers?before=AAAA",
        f"/console/workers?after={encode_cursor(world['mine'])}&before={encode_cursor(world['mine'])}",
        "/console/workers?size=101",
        "/console/workers?size=0",
        "/console/workers?size=-5",
        "/console/workers?size=ten",
        "/console/workers?region=4401",
        "/console/workers?region=44O100",
    ):
        refused = client.get(tampered)
        assert refused.status_code == 400, (tampered, refused.status_code)
        assert 'id="workers"' not in refused.text
        assert "请重新查询" in refused.text or "请从列表中选择地区" in refused.text, tampered
    nul = client.get("/console/workers?region=440100%00&after=%00")  # refused before the page
    assert nul.status_code == 422 and nul.headers["content-type"].startswith("text/html")
    for foreign in ("330100", "440300", "000000"):
        refused = client.get("/console/workers", params={"region": foreign, "q": ""})
        assert refused.status_code == 404 and "不属于本地区" in refused.text, foreign
        assert not any(w in refused.text for w in hangzhou + shenzhen)
    # a well-formed cursor at another region's worker starts the page there, in this region:
    # the desk's workers after that id (ids are random: the page may be empty, never foreign)
    for foreign in (world["hz"], *shenzhen):
        after_theirs = client.get("/console/workers", params={"after": encode_cursor(foreign)})
        assert after_theirs.status_code == 200, after_theirs.text
        shown = WORKER_LINK_RE.findall(after_theirs.text)
        assert shown == sorted(w for w in guangzhou if w > foreign), foreign

    as_clerk(client, "gd.clerk")  # Guangdong's desk: Guangzhou and Shenzhen
    landing = client.get("/console/workers").text
    assert re.findall(r'<option value="(\d+)"', landing) == ["440100", "440300"]
    forward, _ = walk(client, "/console/workers?q=&size=4")
    assert [w for p in forward for w in p] == sorted(guangzhou + shenzhen)
    forward, _ = walk(client, "/console/workers?q=&region=440300")
    assert forward == [sorted(shenzhen)]
    assert client.get("/console/workers", params={"region": "330100"}).status_code == 404
    as_clerk(client, "national")
    landing = client.get("/console/workers").text
    assert re.findall(r'<option value="(\d+)"', landing) == ["330100", "440100", "440300"]
    forward, _ = walk(client, "/console/workers?region=330100&size=100")
    assert forward == [sorted(hangzhou)]
