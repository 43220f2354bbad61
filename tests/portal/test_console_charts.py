"""The console draws its region's balances over time and a settlement window's net positions
(inline SVG, a table besides), on both databases: the chart's figures are the ledger's, month
by month, for the clerk's region only; a region with nothing yet renders without a chart."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import func, select

from suiren.domain.month import Month
from suiren.ledger.accounts import Scheme
from suiren.portal.chart import BAR_ROWS_MAX, Bar, Line, lines_chart, net_bars
from suiren.portal.i18n import month
from suiren.portal.text import yuan
from suiren.services.clerks import add_clerk
from suiren.services.settlement import report
from suiren.store.audit import verify
from suiren.store.db import unit_of_work
from suiren.store.lines import account_lines
from suiren.store.tables import accounts, contribution_months
from tests.conftest import NOW
from tests.portal.test_console import PASSWORD, as_clerk, console, quick_hashes  # noqa: F401

SVG_RE = re.compile(r'<svg class="chart" id="([a-z_-]+)"[^>]*>.*?</svg>', re.S)
ROW_RE = re.compile(r'<tr><th scope="row" class="month">([^<]*)</th>(.*?)</tr>', re.S)
NOT_A_NUMBER = re.compile(r'[",\s](nan|inf|-inf)[",\s]')  # a coordinate of no number
FEN_RE = re.compile(r'data-fen="(-?[0-9]+)"')
SERIES = {"pooled": ("pooled_fund", "pooled_entitlement"), "clearing": ("clearing",),
          "individual": ("individual_account",)}  # fmt: skip


def table_of(page: str, ident: str) -> list[list[int]]:
    """The chart's table fallback: per month listed, the fen of each line."""
    table = page[page.index(f'<table class="chart-table" id="table-{ident}">') :]
    table = table[: table.index("</table>")]
    return [[int(f) for f in FEN_RE.findall(cells)] for _, cells in ROW_RE.findall(table)]


def ledger_months(connection: Any, prefix: str, scheme: str) -> dict[str, dict[int, int]]:
    """Per line of the chart, each month's sum of the region's account lines as the store
    reads them one account at a time (``account_lines``: postings, and for a worker's
    accounts the postings its months derive)."""
    found: dict[str, dict[int, int]] = {name: {} for name in SERIES}
    for name, kinds in SERIES.items():
        keys = connection.execute(
            select(accounts.c.account).where(
                accounts.c.region.like(f"{prefix}%"),
                accounts.c.scheme == scheme,
                accounts.c.kind.in_(kinds),
            )
        ).scalars()
        for key in keys:
            for line in account_lines(connection, key):
                month = line.legal_month.ordinal
                found[name][month] = found[name].get(month, 0) + line.amount_fen
    # a region's clearing account holds, besides its postings, the part of each month paid
    # that is owed to the hukou region's fund (``ledger/months.py``), which it does not list
    held_per_month = connection.execute(
        select(contribution_months.c.month, func.sum(contribution_months.c.held_fen))
        .where(
            contribution_months.c.region.like(f"{prefix}%"),
            contribution_months.c.scheme == scheme,
        )
        .group_by(contribution_months.c.month)
    )
    for month, fen in held_per_month:
        found["clearing"][month] = found["clearing"].get(month, 0) + int(fen)
    return found


def held(connection: Any, prefix: str, scheme: str, kinds: tuple[str, ...]) -> int:
    return int(
        connection.execute(
            select(func.coalesce(func.sum(accounts.c.balance_fen), 0)).where(
                accounts.c.region.like(f"{prefix}%"),
                accounts.c.scheme == scheme,
                accounts.c.kind.in_(kinds),
            )
        ).scalar_one()
    )


def test_the_funds_chart_is_the_ledger_month_by_month_for_the_region(console) -> None:  # noqa: F811
    client, world, engine = console
    as_clerk(client, "gz.clerk")
    page = client.get("/console/funds")
    assert page.status_code == 200, page.text
    charts = {m.group(1): m.group(0) for m in SVG_RE.finditer(page.text)}
    svg = charts["balances-employee_pension"]
    assert 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg
    assert svg.count("<polyline") == 3
    rows = table_of(page.text, "balances-employee_pension")
    scheme = Scheme.EMPLOYEE_PENSION.value
    with unit_of_work(engine) as c:
        assert verify(c).ok  # the accounts' balances are the ledger's sums
        lines = ledger_months(c, "4401", scheme)
        finals = [held(c, "4401", scheme, kinds) for kinds in SERIES.values()]
    first = min(min(per_month) for per_month in lines.values() if per_month)
    last = max(max(per_month) for per_month in lines.values() if per_month)
    assert f'data-points="{last - first + 1}"' in svg and len(rows) == last - first + 1
    running = dict.fromkeys(SERIES, 0)
    for offset, row in enumerate(rows):
        for name in SERIES:
            running[name] += lines[name].get(first + offset, 0)
        assert row == [running[name] for name in SERIES], str(Month(first + offset))
    assert rows[-1] == finals  # and every line ends at the accounts' balances
    assert rows[-1][2] > 0 and rows[-1][0] > 0
    # the summary says the last month's balances in words; no other region's figures
    figure = page.text[page.text.index('id="figure-balances-employee_pension"') :]
    summary = figure[figure.index('<p class="summary">') : figure.index("</p>")]
    assert f"截至{month(str(Month(last)), 'zh')}末" in summary, summary
    assert all(yuan(fen) in summary for fen in finals), summary
    assert "杭州市 (330100)" not in page.text and world["hz"] not in page.text
    # an English page says it all in English: the chart's title, legend, summary and unit
    english = client.get("/console/funds", headers={"Accept-Language": "en"}).text
    svg = next(m.group(0) for m in SVG_RE.finditer(english) if "employee_pension" in m.group(1))
    assert "Employee pension: balances at each month&#39;s end" in svg and ">yuan<" in svg
    assert f"at the end of {month(str(Month(last)), 'en')}: pooled fund" in english
    assert "Individual accounts, all" in english and "个人账户" not in english


def test_a_region_with_nothing_yet_renders_without_a_chart(console) -> None:  # noqa: F811
    client, _, engine = console
    with unit_of_work(engine) as c:
        add_clerk(c, "sh.clerk", "310000", PASSWORD, NOW)
    as_clerk(client, "sh.clerk")
    page = client.get("/console/funds")
    assert page.status_code == 200 and "本地区尚无账户" in page.text
    assert '<svg class="chart"' not in page.text


def test_the_window_chart_draws_each_regions_net_position(console) -> None:  # noqa: F811
    client, _, engine = console
    path = "/console/settlement/employee_pension/2026-06-15"
    with unit_of_work(engine) as c:
        positions = report(c, date(2026, 6, 15), Scheme.EMPLOYEE_PENSION).positions
    for clerk, shown in (("national", positions), ("gz.clerk", {"440100": positions["440100"]})):
        as_clerk(client, clerk)
        page = client.get(path)
        assert page.status_code == 200, page.text
        svg = next(
            m.group(0) for m in SVG_RE.finditer(page.text) if m.group(1) == "positions-chart"
        )
        drawn = [int(f) for f in FEN_RE.findall(svg)]
        assert drawn == [net for _, net in sorted(shown.items())] and any(drawn)
        assert 'role="img"' in svg and "<desc id=" in svg
        assert page.text.index('id="positions"') < page.text.index('id="positions-chart"')
    # on an English page a bar's label is the region's Chinese name, marked as Chinese
    english = client.get(path, headers={"Accept-Language": "en"}).text
    assert '<title id="positions-chart-title">Net position of each region</title>' in english
    assert 'lang="zh-CN">广州市 (440100)</text>' in english


def test_charts_of_zeros_nothing_and_too_many_rows_still_draw() -> None:
    months = [str(Month.of(2026, 1) + i) for i in range(3)]
    zeros = lines_chart("z", months, [Line("zero", [0, 0, 0])], "t", "s", "en")
    assert (
        zeros.points == 3
        and "<polyline" in str(zeros.svg)
        and not NOT_A_NUMBER.search(str(zeros.svg))
    )
    empty = net_bars("e", [], "t", "s")
    assert empty.bars == 0 and "<rect" not in str(empty.svg)
    many = net_bars("m", [Bar(f"r{i}", (i - 30) * 100) for i in range(60)], "t", "s")
    assert many.cut and many.bars == BAR_ROWS_MAX and 'data-fen="-3000"' in str(many.svg)
