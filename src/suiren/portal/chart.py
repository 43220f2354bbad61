"""Charts as small inline SVGs, drawn here on the server (no script, no charting library):
balances over time (``balance_chart``: a worker's individual account; ``lines_chart``: a
few balances at once, as the console's funds page draws a region's) — a polyline of the
month-end balances per series, with two axes and a few labelled ticks — and signed amounts
as horizontal bars (``net_bars``: a settlement window's net positions). Each is an image to
a screen reader (``role="img"``, a ``<title>`` and ``<desc>`` saying what it shows); the
page gives the same figures as text and a table besides.

Every word of a chart is in the page's language: the caller gives its title, summary and
names already translated (``i18n``), and the few words drawn here (the unit of the ticks,
the worker's chart's sentences) are msgids translated in the ``lang`` given. A label that is
data in another language (a region's Chinese registry name on an English page) carries that
language, as the page marks it elsewhere.

Amounts are integer fen throughout; floats appear only as SVG coordinates. Only
presentation attributes and the classes of ``portal.css``: the CSP allows no inline style
or script.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from markupsafe import Markup

from suiren.portal import i18n
from suiren.portal.text import yuan

WIDTH, HEIGHT = 320, 168  # the viewBox; the SVG scales to the column (360 px phones)
LEFT, RIGHT, TOP, BOTTOM = 50, 10, 10, 28  # room for the tick labels
Y_TICKS = 3  # about this many steps up the balance axis
X_TICKS_MAX = 4  # month labels along the bottom (each ~40 units wide)
TABLE_MONTHS_MAX = 24  # longer series: the table lists each year's end and the last month


BAR_ROWS_MAX = 40  # bars on one chart (the largest amounts); the table lists every row
BAR_ROW = 16  # the height of a bar's row, in viewBox units
BAR_LABEL = 118  # room for a bar's label (广州市 (440100)) left of the plot
WAN_FEN = 1_000_000  # 1万元 in fen: ticks of at least this are labelled in 万元
LINE_STYLES = (("#1a5fb4", ""), ("#c64600", "6 3"), ("#26a269", "2 2"))  # colour, dashes
PAYS, RECEIVES = "#c64600", "#1a5fb4"  # a net position's bar: right of zero, left of zero


@dataclass(frozen=True, slots=True)
class Line:
    """One series of a ``lines_chart``: its name (in the page's language) and its value at
    each of the chart's months (fen); its colour and dashes (lines differ by more than
    colour) come from ``LINE_STYLES`` in order."""

    name: str
    values_fen: list[int]
    colour: str = ""
    dash: str = ""


@dataclass(frozen=True, slots=True)
class LinesChart:
    ident: str
    svg: Markup
    title: str  # in the page's language, as the summary
    summary: str
    lines: tuple[Line, ...]  # with their colours and dashes: the legend
    rows: list[dict[str, Any]]  # the table fallback: month, values_fen (one per line)
    every_month: bool  # the rows are every month (else each year's end and the last)
    points: int


class Bar(NamedTuple):
    """One bar of a ``net_bars``: its label, its signed amount, and the label's language
    when it is not the page's (``zh-CN`` for a region's registry name on an English page)."""

    label: str
    fen: int
    lang: str = ""


@dataclass(frozen=True, slots=True)
class BarsChart:
    ident: str
    svg: Markup
    summary: str
    bars: int
    cut: bool  # more rows than ``BAR_ROWS_MAX``: only the largest are drawn


@dataclass(frozen=True, slots=True)
class Chart:
    ident: str  # the SVG's element id
    name: str  # the scheme's, in the page's language
    svg: Markup
    summary: str
    rows: list[dict[str, Any]]  # the table fallback: month, balance_fen
    every_month: bool  # the rows are every month (else each year's end and the last)
    points: int
    final_fen: int


def _nice_step(span_fen: int) -> int:
    """A step of 1, 2 or 5 × 10ⁿ yuan (in fen) giving about ``Y_TICKS`` steps over the span."""
    raw = max(span_fen // Y_TICKS, 100)
    step = 100
    while True:
        for m in (1, 2, 5):
            if step * m >= raw:
                return step * m
        step *= 10


def _yuan_short(fen: int, unit_fen: int = 100) -> str:
    """2,400 from 240000 fen: a tick label (the ticks are whole yuan, or whole 万元 when
    ``unit_fen`` is ``WAN_FEN``)."""
    return f"{fen // unit_fen:,}" if fen >= 0 else f"-{-fen // unit_fen:,}"


def _unit(step_fen: int, lang: str) -> tuple[int, str]:
    """The unit of the ticks (fen in it) and its caption in ``lang``: 万元 once a step is
    1万 or more, so that a region's millions fit left of the plot."""
    translations = i18n.translations(lang)
    if step_fen >= WAN_FEN:
        return WAN_FEN, translations.gettext("10k yuan")
    return 100, translations.gettext("yuan")


def _num(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def balance_chart(ident: str, series: list[dict[str, Any]], name: str, lang: str) -> Chart:
    """The chart of ``series`` (``{"month": "YYYY-MM", "balance_fen": int}``, oldest first,
    one per month), its words in ``lang`` (``name`` the scheme's, already in it); ``ident``
    makes its element ids unique on the page. An empty series is a chart without an image
    or rows, its summary saying there is no month yet."""
    translations = i18n.translations(lang)
    balances = [int(p["balance_fen"]) for p in series]
    months = [str(p["month"]) for p in series]
    n = len(series)
    summary = balance_summary(name, months, balances, lang)
    if not n:
        return Chart(ident, name, Markup(""), summary, [], True, 0, 0)
    title = translations.gettext("%(scheme)s individual account balance") % {"scheme": name}
    line = Line(name, balances, *LINE_STYLES[0])
    svg = _lines_svg(ident, months, [line], title, summary, lang)
    rows = [{"month": months[i], "balance_fen": balances[i]} for i in _table_indexes(months)]
    every = n <= TABLE_MONTHS_MAX
    return Chart(ident, name, svg, summary, rows, every, n, balances[-1])


def balance_summary(name: str, months: list[str], balances: list[int], lang: str) -> str:
    """The chart's figures in a sentence in ``lang``: none yet; the one month's balance (a
    month named once); or the first and the last month's, and how many months."""
    translations = i18n.translations(lang)
    n = len(months)
    if n == 0:
        return translations.gettext(
            "%(scheme)s individual account: no month's end balance yet."
        ) % {"scheme": name}
    if n == 1:
        return translations.gettext(
            "%(scheme)s individual account at the end of %(month)s: %(amount)s; 1 month."
        ) % {"scheme": name, "month": i18n.month(months[0], lang), "amount": yuan(balances[0])}
    return translations.ngettext(
        "%(scheme)s individual account at each month's end: %(first_amount)s in %(first)s,"
        " %(last_amount)s in %(last)s; %(num)d month.",
        "%(scheme)s individual account at each month's end: %(first_amount)s in %(first)s,"
        " %(last_amount)s in %(last)s; %(num)d months.",
        n,
    ) % {
        "scheme": name,
        "first": i18n.month(months[0], lang),
        "first_amount": yuan(balances[0]),
        "last": i18n.month(months[-1], lang),
        "last_amount": yuan(balances[-1]),
        "num": n,
    }


def lines_chart(
    ident: str, months: list[str], lines: list[Line], title: str, summary: str, lang: str
) -> LinesChart:
    """Several balances over the same ``months`` (``YYYY-MM``, oldest first, one per
    month), each line with its values at those months; at most ``len(LINE_STYLES)``. The
    title, summary and lines' names are in ``lang``, the page's language."""
    assert 0 < len(lines) <= len(LINE_STYLES), "a chart draws one to three lines"
    assert all(len(line.values_fen) == len(months) for line in lines), "a value per month"
    styled = tuple(
        Line(line.name, line.values_fen, colour, dash)
        for line, (colour, dash) in zip(lines, LINE_STYLES, strict=False)
    )
    svg = _lines_svg(ident, months, list(styled), title, summary, lang)
    rows = [
        {"month": months[i], "values_fen": [line.values_fen[i] for line in styled]}
        for i in _table_indexes(months)
    ]
    every = len(months) <= TABLE_MONTHS_MAX
    return LinesChart(ident, svg, title, summary, styled, rows, every, len(months))


def _table_indexes(months: list[str]) -> list[int]:
    """The months the table lists: every one of a short series; else each year's end and
    the last."""
    n = len(months)
    every = n <= TABLE_MONTHS_MAX
    return [i for i, m in enumerate(months) if every or m.endswith("-12") or i == n - 1]


def _open_svg(ident: str, height: int, points: int, title: str, summary: str) -> Markup:
    title_id, desc_id = f"{ident}-title", f"{ident}-desc"
    return Markup(
        '<svg class="chart" id="{}" role="img" aria-labelledby="{} {}" viewBox="0 0 {} {}"'
        ' width="100%" preserveAspectRatio="xMidYMid meet" data-points="{}">'
        '<title id="{}">{}</title><desc id="{}">{}</desc>'
    ).format(ident, title_id, desc_id, WIDTH, height, points, title_id, title, desc_id, summary)


def _lines_svg(
    ident: str, months: list[str], lines: list[Line], title: str, summary: str, lang: str
) -> Markup:
    values = [v for line in lines for v in line.values_fen]
    n = len(months)
    step = _nice_step(max(values) - min(0, min(values)))
    low = min(0, min(values)) // step * step  # floor to a step
    high = max(-(-max(values) // step) * step, low + step)
    unit_fen, unit_caption = _unit(step, lang)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(fen: int) -> float:
        return TOP + plot_h * (high - fen) / (high - low)

    parts = [_open_svg(ident, HEIGHT, n, title, summary)]
    # the balance axis: gridlines and labels in yuan (or 万元)
    tick = low
    while tick <= high:
        ty = _num(y(tick))
        parts.append(
            Markup(
                '<line class="grid" x1="{}" y1="{}" x2="{}" y2="{}" stroke="#dde"/>'
                '<text class="tick" x="{}" y="{}" text-anchor="end" font-size="10"'
                ' dominant-baseline="middle" fill="#445">{}</text>'
            ).format(LEFT, ty, WIDTH - RIGHT, ty, LEFT - 4, ty, _yuan_short(tick, unit_fen))
        )
        tick += step
    parts.append(
        Markup(
            '<text class="tick" x="2" y="{}" font-size="10" fill="#445">{}</text>'
            '<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}" stroke="#445"/>'
            '<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}" stroke="#445"/>'
        ).format(
            HEIGHT - 2,
            unit_caption,
            LEFT,
            TOP,
            LEFT,
            TOP + plot_h,
            LEFT,
            _num(y(0)),
            WIDTH - RIGHT,
            _num(y(0)),
        )
    )
    # the month axis: the first and last months and a few between
    shown = sorted({round(k * (n - 1) / (X_TICKS_MAX - 1)) for k in range(X_TICKS_MAX)})
    for i in shown:
        anchor = "start" if i == 0 and n > 1 else "end" if i == n - 1 and n > 1 else "middle"
        parts.append(
            Markup(
                '<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}" stroke="#445"/>'
                '<text class="tick" x="{}" y="{}" text-anchor="{}" font-size="10"'
                ' fill="#445">{}</text>'
            ).format(
                _num(x(i)),
                TOP + plot_h,
                _num(x(i)),
                TOP + plot_h + 4,
                _num(x(i)),
                TOP + plot_h + 15,
                anchor,
                months[i],
            )
        )
    for line in lines:
        points = " ".join(f"{_num(x(i))},{_num(y(v))}" for i, v in enumerate(line.values_fen))
        dashes = Markup(' stroke-dasharray="{}"').format(line.dash) if line.dash else ""
        parts.append(
            Markup(
                '<polyline class="line" points="{}" fill="none" stroke="{}" stroke-width="2"'
                ' stroke-linejoin="round"{}/>'
                '<circle class="dot" cx="{}" cy="{}" r="3" fill="{}"/>'
            ).format(
                points,
                line.colour,
                dashes,
                _num(x(n - 1)),
                _num(y(line.values_fen[-1])),
                line.colour,
            )
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def net_bars(ident: str, items: list[Bar], title: str, summary: str) -> BarsChart:
    """Signed amounts as horizontal bars from a zero line (drawn in the order given; a
    positive one to the right in ``PAYS``, a negative one to the left in ``RECEIVES``): the
    ``BAR_ROWS_MAX`` largest in size if there are more. Each bar carries its label and amount
    as its own ``<title>`` (both marked in the label's language if it has one: the amount is
    the same in any), and its fen as ``data-fen``. The title and summary are in the page's
    language."""
    ranked = sorted(range(len(items)), key=lambda i: -abs(items[i].fen))[:BAR_ROWS_MAX]
    shown = [items[i] for i in sorted(ranked)]
    amounts = [bar.fen for bar in shown] or [0]
    low, high = min(0, min(amounts)), max(0, max(amounts))
    high = high if high > low else low + 1  # all zero: a zero line and empty bars
    plot_left, plot_w = BAR_LABEL, WIDTH - BAR_LABEL - RIGHT
    height = TOP + BAR_ROW * len(shown) + BOTTOM

    def x(fen: int) -> float:
        return plot_left + plot_w * (fen - low) / (high - low)

    parts = [_open_svg(ident, height, len(shown), title, summary)]
    for row, (label, fen, lang) in enumerate(shown):
        top = TOP + BAR_ROW * row
        left, right = sorted((x(0), x(fen)))
        marked = Markup(' lang="{}"').format(lang) if lang else ""
        parts.append(
            Markup(
                '<text class="tick" x="{}" y="{}" text-anchor="end" font-size="9"'
                ' dominant-baseline="middle" fill="#445"{}>{}</text>'
                '<rect class="bar" x="{}" y="{}" width="{}" height="{}" fill="{}"'
                ' data-fen="{}"><title{}>{}: {}</title></rect>'
            ).format(
                plot_left - 4,
                top + BAR_ROW // 2,
                marked,
                label,
                _num(left),
                top + 3,
                _num(right - left),
                BAR_ROW - 6,
                PAYS if fen > 0 else RECEIVES,
                fen,
                marked,
                label,
                yuan(fen),
            )
        )
    bottom = TOP + BAR_ROW * len(shown)
    parts.append(
        Markup(
            '<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}" stroke="#445"/>'
            '<text class="tick" x="{}" y="{}" text-anchor="start" font-size="9"'
            ' fill="#445">{}</text>'
            '<text class="tick" x="{}" y="{}" text-anchor="end" font-size="9"'
            ' fill="#445">{}</text>'
        ).format(
            _num(x(0)),
            TOP - 4,
            _num(x(0)),
            bottom + 2,
            plot_left,
            bottom + 14,
            yuan(low),
            WIDTH - RIGHT,
            bottom + 14,
            yuan(high) if high > 1 else yuan(0),
        )
    )
    parts.append(Markup("</svg>"))
    return BarsChart(ident, Markup("").join(parts), summary, len(shown), len(items) > len(shown))
