"""The clerk's region: its workers (search, statement), its funds, the settlement windows it
took part in, and — for the national agency — the audit of the whole ledger.

Reads over ``services/agency``, ``statement``, ``settlement`` and ``store/audit``; a worker
or a window of another region is the same 404 as an unknown one.
"""

from __future__ import annotations

import re
from datetime import date
from typing import NamedTuple
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from suiren.api import access
from suiren.api.paging import decode_cursor, encode_cursor
from suiren.domain.errors import InvalidInput, SuirenError
from suiren.ledger.accounts import Scheme
from suiren.portal import i18n, text
from suiren.portal.chart import Bar, BarsChart, Line, LinesChart, lines_chart, net_bars
from suiren.portal.console.desk import Desk, clerk_page, posted, record, refusal, render
from suiren.portal.render import language_of
from suiren.services.agency import BalanceMonths, WorkersPage

router = APIRouter(include_in_schema=False)
SEARCH_CHARS_MAX = 32
MONTHS_SHOWN_MAX = 24
_ID_DIGITS_RE = re.compile(r"[0-9]{6}", re.ASCII)  # a region code's worth of an id's digits
_REGION_RE = re.compile(r"[0-9]{6}", re.ASCII)
_ROWS_RE = re.compile(r"[0-9]{1,3}", re.ASCII)
_DAY_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
SETTLED_SCHEMES = (Scheme.EMPLOYEE_PENSION.value, Scheme.EMPLOYEE_MEDICAL.value)


@router.get("/console/workers")
@access.rule(access.AGENCY_OF_REGION)
def workers_page(
    request: Request, q: str = "", region: str = "", after: str = "", before: str = "",
    size: str = "",
) -> Response:  # fmt: skip
    """Search the region's workers by worker id or masked resident id (or list them all),
    in one of the desk's regions if the clerk's spans several; a page at a time, by worker
    id, with links to the previous and next pages."""
    from suiren.services.agency import WORKERS_PAGE_ROWS, find_workers, worker_regions

    def build(desk: Desk) -> Response:
        typed = q.strip()[:SEARCH_CHARS_MAX]
        # the form sent (an empty id too: every worker) or a page of its answer
        searched = any(k in request.query_params for k in ("q", "region", "after", "before"))
        asked = _page_asked(desk, region, after, before, size)
        if not isinstance(asked, _Asked):
            return refusal(request, desk, asked)
        chosen, start, end, rows = asked
        with desk.service.transaction() as connection:
            regions = worker_regions(connection, desk.prefix)
            found = find_workers(
                connection, desk.prefix, typed, region=chosen or None, after=start,
                before=end, limit=rows,
            ) if searched else WorkersPage([], None, None)  # fmt: skip
        # what was typed, unless it may be (part of) a resident id: never one back on a page
        shown = "" if _ID_DIGITS_RE.search(typed) else typed
        kept = {"q": shown, "region": chosen, "size": "" if rows == WORKERS_PAGE_ROWS else rows}

        def link(**where: str | None) -> str | None:
            if not any(where.values()):
                return None
            asked = {k: v for k, v in (kept | where).items() if v}
            return "/console/workers?" + urlencode(asked)

        return render(
            request,
            desk,
            "workers.html",
            title=text.N_("Workers of the region"),
            active="workers",
            q=shown,
            regions=regions if len(regions) > 1 else [],
            region=chosen,
            found=found.found,
            previous=link(before=found.before and encode_cursor(found.before)),
            following=link(after=found.after and encode_cursor(found.after)),
            searched=searched,
            message=None
            if found.found or not searched
            else text.CONSOLE_MESSAGES["search" if typed else "none"],
            message_kind="notice",
        )

    return clerk_page(request, build)


class _Asked(NamedTuple):
    region: str  # "" for every region of the desk
    after: str  # the worker id the page starts after ("" from the first)
    before: str  # or the one it ends before
    rows: int


def _page_asked(desk: Desk, region: str, after: str, before: str, size: str) -> _Asked | text.Said:
    """The region, the page's cursors and its size as the query asks them, or what is wrong
    with it (a 400): a region that is no code, a cursor no link of this console gave (changed
    by hand), both cursors, a size beyond ``WORKERS_PAGE_ROWS_MAX``. A region the clerk does
    not cover is the 404 of an unknown one."""
    from suiren.services.agency import WORKERS_PAGE_ROWS, WORKERS_PAGE_ROWS_MAX

    if region and not _REGION_RE.fullmatch(region):
        return text.CONSOLE_MESSAGES["region"]
    if region and not desk.actor.covers_region(region):
        raise access.not_here("noun.region-code", region)
    rows = int(size) if _ROWS_RE.fullmatch(size) else 0 if size else WORKERS_PAGE_ROWS
    if not 0 < rows <= WORKERS_PAGE_ROWS_MAX or (after and before):
        return text.CONSOLE_MESSAGES["page"]
    try:
        return _Asked(region, decode_cursor(after or None), decode_cursor(before or None), rows)
    except InvalidInput:
        return text.CONSOLE_MESSAGES["page"]


@router.get("/console/workers/{worker_id}")
@access.rule(access.AGENCY_OF_WORKER)
def worker_page(request: Request, worker_id: str, done: str = "") -> Response:
    """A worker's statement (an agency whose region holds the worker's insurance), and the
    form that ends their sessions."""
    from suiren.services.statement import statement

    def build(desk: Desk) -> Response:
        with desk.service.transaction() as connection:
            access.worker_region(connection, desk.actor, worker_id[:40])
            data = statement(connection, worker_id)
        latest = list(reversed(data["months"]))[:MONTHS_SHOWN_MAX]
        return render(
            request,
            desk,
            "worker.html",
            title=text.N_("Worker's statement"),
            active="workers",
            worker=data["worker"],
            data=data,
            latest=latest,
            shown_max=MONTHS_SHOWN_MAX,
            message=text.CONSOLE_MESSAGES["sessions-ended"] if done == "sessions-ended" else None,
            message_kind="notice",
        )

    return clerk_page(request, build)


@router.post("/console/workers/{worker_id}/sessions/end")
@access.rule(access.AGENCY_OF_WORKER)
async def end_worker_sessions(request: Request, worker_id: str) -> Response:
    """End every session of the worker (a phone lost, a login taken over: the worker asked at
    the desk), as the API's ``POST /workers/{id}/sessions/end``: the clerk checked again and
    the worker's region with them, the end recorded in the national journal by the clerk,
    and the access-log row, in one unit of work; back to the worker's page (303). A worker of
    another region is the same 404 as an unknown one, and nothing is written."""
    from suiren.api.auth import named
    from suiren.services.logins import end_sessions

    checked = await posted(request)
    if not isinstance(checked, tuple):
        return checked
    desk, _ = checked

    def work() -> None:
        with desk.service.transaction() as connection:
            desk.confirm(connection)
            access.worker_region(connection, desk.actor, worker_id[:40])
            end_sessions(connection, worker_id, desk.now, named(desk.actor))
            record(connection, request, desk.clerk, desk.now, 303)

    try:
        await run_in_threadpool(work)
    except SuirenError as error:
        return refusal(request, desk, error)
    return RedirectResponse(f"/console/workers/{worker_id}?done=sessions-ended", status_code=303)


@router.get("/console/funds")
@access.rule(access.AGENCY_OF_REGION)
def funds_page(request: Request) -> Response:
    """The balances of the region's funds and accounts, per region and scheme."""
    from suiren.services.agency import FUND_KINDS, region_balance_months, region_funds

    def build(desk: Desk) -> Response:
        with desk.service.transaction() as connection:
            rows, cut = region_funds(connection, desk.prefix)
            over_time = region_balance_months(connection, desk.prefix)
        return render(
            request,
            desk,
            "funds.html",
            title=text.N_("The region's funds"),
            active="funds",
            rows=rows,
            kinds=FUND_KINDS,
            cut=cut,
            charts=[balances_chart(found, language_of(request)) for found in over_time],
        )

    return clerk_page(request, build)


@router.get("/console/settlement")
@access.rule(access.AGENCY_OF_REGION)
def windows_page(request: Request) -> Response:
    """The closed settlement windows the region took part in (all of them for national)."""
    from suiren.services.agency import settlement_windows

    def build(desk: Desk) -> Response:
        with desk.service.transaction() as connection:
            windows = settlement_windows(connection, desk.prefix)
        return render(
            request,
            desk,
            "settlement.html",
            title=text.N_("Settlement windows"),
            active="settlement",
            windows=windows,
        )

    return clerk_page(request, build)


@router.get("/console/settlement/{scheme}/{window}")
@access.rule(access.AGENCY_OF_REGION)
def window_page(request: Request, scheme: str, window: str) -> Response:
    """A window's region × region flows as a table, and the net positions (the part that
    touches the clerk's region; all of it for the national agency)."""
    from suiren.services.agency import matrix, settlement_window

    def build(desk: Desk) -> Response:
        if scheme not in SETTLED_SCHEMES or not _DAY_RE.fullmatch(window):
            raise access.NotFound("no such settlement window here")
        try:
            day = date.fromisoformat(window)
        except ValueError:
            raise InvalidInput(f"not a day: {window}", field="window") from None
        with desk.service.transaction() as connection:
            found = settlement_window(connection, day, Scheme(scheme), desk.prefix)
        if not found.flows and not found.positions:
            raise access.NotFound("no such settlement window here")
        return render(
            request,
            desk,
            "window.html",
            title=text.Message(text.N_("Settlement window %(day)s"), {"day": day}),
            active="settlement",
            window=found,
            scheme=scheme,
            table=matrix(found),
            bars=positions_chart(found.positions, language_of(request)),
        )

    return clerk_page(request, build)


BALANCE_LINES = {  # the funds chart's lines, as services/agency.BALANCE_SERIES sums them
    "pooled": text.N_("Pooled fund (entitlements included)"),
    "clearing": text.N_("Clearing"),
    "individual": text.N_("Individual accounts, all"),
}


def balances_chart(found: BalanceMonths, lang: str) -> LinesChart:
    """A scheme's balances in the clerk's region at each month's end, as a chart in
    ``lang`` (a single month is named once in its summary)."""
    assert set(found.balances_fen) == set(BALANCE_LINES), "a line of the chart per series"
    translations = i18n.translations(lang)
    scheme = text.label(text.SCHEMES, found.scheme, lang)
    n = len(found.months)
    figures = {
        "scheme": scheme,
        "last": i18n.month(found.months[-1], lang),
        "first": i18n.month(found.months[0], lang),
        "num": n,
        **{name: text.yuan(values[-1]) for name, values in found.balances_fen.items()},
    }
    if n == 1:
        summary = (
            translations.gettext(
                "%(scheme)s at the end of %(last)s: pooled fund %(pooled)s, clearing %(clearing)s,"
                " individual accounts %(individual)s (1 month)."
            )
            % figures
        )
    else:
        summary = (
            translations.ngettext(
                "%(scheme)s at the end of %(last)s: pooled fund %(pooled)s, clearing %(clearing)s,"
                " individual accounts %(individual)s (%(num)d month from %(first)s).",
                "%(scheme)s at the end of %(last)s: pooled fund %(pooled)s, clearing %(clearing)s,"
                " individual accounts %(individual)s (%(num)d months from %(first)s).",
                n,
            )
            % figures
        )
    title = translations.gettext("%(scheme)s: balances at each month's end") % {"scheme": scheme}
    lines = [
        Line(text.say(BALANCE_LINES[name], lang), values)
        for name, values in found.balances_fen.items()
    ]
    return lines_chart(f"balances-{found.scheme}", found.months, lines, title, summary, lang)


def position_bar(code: str, net_fen: int, lang: str) -> Bar:
    """A region's bar: its name as the page writes it, or, on an English page, its Chinese
    registry name marked as Chinese (as ``text.region`` marks it in HTML)."""
    chinese = str(text.region(code, i18n.DEFAULT_LANGUAGE))
    if lang != i18n.DEFAULT_LANGUAGE and text.CJK_RE.search(chinese):
        return Bar(chinese, net_fen, i18n.HTML_LANG[i18n.DEFAULT_LANGUAGE])
    return Bar(str(text.region(code, lang)), net_fen)


def positions_chart(positions: dict[str, int], lang: str) -> BarsChart:
    """A window's net positions as bars in ``lang``: to the right a region that pays, to the
    left one that receives."""
    translations = i18n.translations(lang)
    ordered = sorted(positions.items())
    paying = sum(1 for _, net in ordered if net > 0)
    summary = translations.ngettext(
        "Net position of %(num)d region: %(paying)d to pay, %(others)d to receive or even.",
        "Net positions of %(num)d regions: %(paying)d to pay, %(others)d to receive or even.",
        len(ordered),
    ) % {"num": len(ordered), "paying": paying, "others": len(ordered) - paying}
    return net_bars(
        "positions-chart",
        [position_bar(code, net, lang) for code, net in ordered],
        translations.gettext("Net position of each region"),
        summary,
    )


@router.get("/console/audit")
@access.rule(access.AUDITOR)
def audit_page(request: Request) -> Response:
    """Verify the whole ledger (the national agency's clerks)."""

    def build(desk: Desk) -> Response:
        access.auditor(desk.actor)
        return render(
            request,
            desk,
            "audit.html",
            title=text.N_("Ledger audit"),
            active="audit",
            result=None,
        )

    return clerk_page(request, build)


@router.post("/console/audit")
@access.rule(access.AUDITOR)
async def audit_verify(request: Request) -> Response:
    """Chains, facts, projections and balances verified; the result (reads only)."""
    from suiren.store.audit import AuditResult, verify

    checked = await posted(request)
    if not isinstance(checked, tuple):
        return checked
    desk, _ = checked

    def work() -> AuditResult:
        with desk.service.transaction() as connection:
            desk.confirm(connection)  # a clerk moved off the national desk meanwhile: 401
            # the log row first: verify streams its reads, and leaves the connection so
            record(connection, request, desk.clerk, desk.now, 200)
            return verify(connection)

    try:
        access.auditor(desk.actor)
        result = await run_in_threadpool(work)
    except SuirenError as error:
        return refusal(request, desk, error)
    return render(
        request,
        desk,
        "audit.html",
        title=text.N_("Ledger audit"),
        active="audit",
        result=result,
    )
