"""My insurance draws my individual account over time (an inline SVG, its figures as text
and a table besides), and my pension estimate says how it was computed, each step with the
rules it cites — always my own records, on both databases."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import Engine, select

from suiren.domain.month import Month
from suiren.portal import i18n
from suiren.portal.chart import balance_chart
from suiren.portal.console.region import BALANCE_LINES, balances_chart
from suiren.portal.text import yuan
from suiren.services.agency import BalanceMonths
from suiren.services.contributions import contribute
from suiren.services.statement import individual_account_months
from suiren.services.workers import enrol
from suiren.store.db import unit_of_work
from suiren.store.tables import accounts
from tests.conftest import NOW
from tests.ledger_helpers import POLICY, VAULT, pension_split, resident_id
from tests.portal.test_portal import log_in_with_code, portal  # noqa: F401

SVG_RE = re.compile(r"<svg [^>]*>.*?</svg>", re.S)
POINTS_RE = re.compile(r'<polyline [^>]*points="([^"]*)"')


def chart_of(page: str) -> tuple[str, list[str]]:
    """The page's one chart and the points of its line."""
    svgs = SVG_RE.findall(page)
    assert len(svgs) == 1, page
    points = POINTS_RE.search(svgs[0])
    assert points, svgs[0]
    return svgs[0], points.group(1).split()


def test_my_statement_charts_my_individual_account_month_by_month(portal) -> None:  # noqa: F811
    client, world = portal
    assert log_in_with_code(client, world["my_id"]).status_code == 303
    page = client.get("/statement")
    assert page.status_code == 200, page.text
    svg, points = chart_of(page.text)
    assert len(points) == 5 and 'data-points="5"' in svg  # 2026-01 to 2026-05
    assert 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg
    assert "个人账户余额" in svg and "individual" not in svg
    assert "<script" not in page.text.split("</head>")[1]  # the CSP allows no inline script
    final = yuan(5 * pension_split("440100", Month.of(2026, 1), 600_000).individual_account_fen)
    figure = page.text[page.text.index('<figure class="chart"') :]
    summary = figure[figure.index('<p class="summary">') : figure.index("</p>")]
    assert final in summary and "2026年5月" in summary and "共5个月" in summary
    assert figure.count('<tr><th scope="row" class="month">') == 5
    assert "个人账户余额走势" in figure and "individual account at each" not in figure
    english = chart_of(client.get("/statement", headers={"Accept-Language": "en"}).text)[0]
    assert "Employee pension individual account balance" in english and "May 2026" in english
    # the chart's last balance is the statement's individual account balance
    balances = page.text[page.text.index('<table id="balances">') :]
    individual = balances[balances.index("个人账户") :]
    assert re.search(r'<td class="num">([^<]*)</td>', individual).group(1) == final  # type: ignore[union-attr]
    # the line climbs: each month's end is higher up the image (smaller y) than the last
    ys = [float(p.split(",")[1]) for p in points]
    assert ys == sorted(ys, reverse=True) and ys[0] > ys[-1]


def test_my_chart_and_estimate_never_show_another_workers_records(portal) -> None:  # noqa: F811
    client, world = portal
    their_month = pension_split("440100", Month.of(2026, 1), 700_000).individual_account_fen
    theirs = [yuan(their_month), yuan(2 * their_month), yuan(3 * their_month)]
    mine = pension_split("440100", Month.of(2026, 1), 600_000).individual_account_fen
    only_theirs = [t for t in theirs if t not in {yuan(k * mine) for k in range(1, 6)}]
    assert only_theirs  # month-end balances of theirs that none of mine equals
    assert log_in_with_code(client, world["my_id"]).status_code == 303
    for path in ("/statement", f"/statement?worker_id={world['theirs']}"):
        page = client.get(path)
        _svg, points = chart_of(page.text)
        assert len(points) == 5 and not any(t in page.text for t in only_theirs)
    pension = client.get(f"/pension?worker_id={world['theirs']}").text
    assert world["theirs"] not in pension and world["their_id"] not in pension
    client.cookies.clear()
    assert log_in_with_code(client, world["their_id"]).status_code == 303
    page = client.get("/statement").text
    _svg, points = chart_of(page)
    assert len(points) == 3 and all(t in page for t in theirs) and world["mine"] not in page


def test_my_pension_says_how_it_is_computed_and_cites_the_rules(portal) -> None:  # noqa: F811
    client, world = portal
    assert log_in_with_code(client, world["my_id"]).status_code == 303
    for page in (
        client.get("/pension").text,
        client.get("/pension", params={"base_ratio": "2"}, headers={"HX-Request": "true"}).text,
    ):
        found = re.findall(
            r'<details class="explain" id="explain-([a-z_]+)">(.*?)</details>', page, re.S
        )
        assert len(found) == 2, page  # one per scenario
        for _scenario, body in found:
            assert "计算过程" in body and "How it is computed" not in body
            steps = re.findall(r'<li class="step">(.*?)\n      </li>', body, re.S)
            names = [html.unescape(re.search(r"<strong>(.*?)</strong>", s).group(1)) for s in steps]  # type: ignore[union-attr]
            assert "待遇领取地" in names and "计发基数" in names  # the rules' names, in Chinese
            assert names[-1] == "月养老金合计"
            for name in ("待遇领取地", "计发基数"):
                step = steps[names.index(name)]
                cites = re.findall(r"<cite>(.*?)</cite>", step, re.S)
                assert cites, step
                assert all(
                    len(re.sub(r"<[^>]*>", "", c).split("：", 1)[1].strip()) > 3 for c in cites
                )


def test_the_month_end_balances_fill_a_gap_and_end_at_the_accounts_balance(engine: Engine) -> None:
    with unit_of_work(engine) as c:
        worker = enrol(c, POLICY, VAULT, resident_id(3), "440100", None, NOW).worker
        contribute(c, POLICY, "a", worker.worker_id, Month.of(2026, 1), Month.of(2026, 1),
                   600_000, NOW)  # fmt: skip
        contribute(c, POLICY, "b", worker.worker_id, Month.of(2026, 4), Month.of(2026, 5),
                   700_000, NOW)  # fmt: skip
    with unit_of_work(engine) as c:
        series = individual_account_months(c, worker.worker_id)
        held = c.execute(
            select(accounts.c.balance_fen).where(
                accounts.c.owner_id == worker.worker_id, accounts.c.kind == "individual_account"
            )
        ).scalar_one()
    (months,) = series.values()
    assert [m["month"] for m in months] == [str(Month.of(2026, 1) + i) for i in range(5)]
    assert months[0]["balance_fen"] == months[1]["balance_fen"] == months[2]["balance_fen"] > 0
    assert months[-1]["balance_fen"] == held
    chart = balance_chart("c", months, "养老", "zh")
    assert chart.points == 5 and chart.final_fen == held and len(chart.rows) == 5


def test_a_long_career_draws_every_month_and_tabulates_the_year_ends() -> None:
    series = [{"month": str(Month.of(2000, 1) + i), "balance_fen": 1000 * i} for i in range(300)]
    chart = balance_chart("long", series, "养老", "zh")
    assert chart.points == 300 and str(chart.svg).count(",") >= 300
    assert [r["month"] for r in chart.rows][-2:] == ["2023-12", "2024-12"]
    assert len(chart.rows) == 25 and not chart.every_month
    one = balance_chart("one", series[:1], "养老", "zh")
    assert one.points == 1 and "<polyline" in str(one.svg)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 12])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_charts_summary_names_each_month_once_and_counts_them(n: int, lang: str) -> None:
    """The summary of a series of ``n`` months, in either language, on the worker's chart
    and on the console's funds chart: no month named twice (a one-month series is not "March
    to March"), the first and last named, the count given, the last balance said."""
    months = [str(Month.of(2026, 3) + i) for i in range(n)]
    balances = [123_400 * (i + 1) for i in range(n)]
    series = [{"month": m, "balance_fen": b} for m, b in zip(months, balances, strict=True)]
    chart = balance_chart("c", series, "养老", lang)
    summaries = [chart.summary]
    if n:  # the funds chart is drawn for a month or more
        lines = dict.fromkeys(BALANCE_LINES, balances)
        summaries.append(
            balances_chart(BalanceMonths("employee_pension", months, lines), lang).summary
        )
    for summary in summaries:
        named = [m for m in months if i18n.month(m, lang) in summary]
        assert named == sorted({months[0], months[-1]}) if n else named == [], summary
        for month in named:
            assert summary.count(i18n.month(month, lang)) == 1, summary
        if n:
            assert yuan(balances[-1]) in summary, summary
        count = {"zh": f"共{n}个月", "en": f"{n} month" + ("s" if n != 1 else "")}[lang]
        assert (count in summary) == bool(n), summary
    assert chart.points == n and len(chart.rows) == n
    assert ("<svg" in str(chart.svg)) == bool(n)
    assert ("尚无" in chart.summary or "no month" in chart.summary) == (n == 0)
