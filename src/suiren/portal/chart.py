"""A balance over time as a small inline SVG, drawn here on the server (no script, no
charting library): a polyline of the month-end balances with two axes and a few labelled
ticks. It is an image to a screen reader (``role="img"``, a ``<title>`` and ``<desc>``
saying what it shows); the page gives the same figures as text and a table besides.

Only presentation attributes and the classes of ``portal.css``: the CSP allows no inline
style or script.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from suiren.portal import i18n
from suiren.portal.text import yuan

WIDTH, HEIGHT = 320, 168  # the viewBox; the SVG scales to the column (360 px phones)
LEFT, RIGHT, TOP, BOTTOM = 50, 10, 10, 28  # room for the tick labels
Y_TICKS = 3  # about this many steps up the balance axis
X_TICKS_MAX = 4  # month labels along the bottom (each ~40 units wide)
TABLE_MONTHS_MAX = 24  # longer series: the table lists each year's end and the last month


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


def _yuan_short(fen: int) -> str:
    """2,400 from 240000 fen: a tick label (the ticks are whole yuan)."""
    return f"{fen // 100:,}" if fen >= 0 else f"-{-fen // 100:,}"


def _num(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def balance_chart(ident: str, series: list[dict[str, Any]], name: str, lang: str) -> Chart:
    """The chart of ``series`` (``{"month": "YYYY-MM", "balance_fen": int}``, oldest first,
    one per month), its words in ``lang`` (``name`` the scheme's, already in it); ``ident``
    makes its element ids unique on the page."""
    translations = i18n.translations(lang)
    balances = [int(p["balance_fen"]) for p in series]
    months = [str(p["month"]) for p in series]
    n = len(series)
    step = _nice_step(max(balances) - min(0, min(balances)))
    low = min(0, min(balances)) // step * step  # floor to a step
    high = max(-(-max(balances) // step) * step, low + step)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(fen: int) -> float:
        return TOP + plot_h * (high - fen) / (high - low)

    parts: list[Markup] = []
    title_id, desc_id = f"{ident}-title", f"{ident}-desc"
    first, last = months[0], months[-1]
    summary = translations.ngettext(
        "%(scheme)s individual account at each month's end: %(first_amount)s in %(first)s,"
        " %(last_amount)s in %(last)s; %(num)d month.",
        "%(scheme)s individual account at each month's end: %(first_amount)s in %(first)s,"
        " %(last_amount)s in %(last)s; %(num)d months.",
        n,
    ) % {
        "scheme": name,
        "first": i18n.month(first, lang),
        "first_amount": yuan(balances[0]),
        "last": i18n.month(last, lang),
        "last_amount": yuan(balances[-1]),
        "num": n,
    }
    parts.append(
        Markup(
            '<svg class="chart" id="{}" role="img" aria-labelledby="{} {}" viewBox="0 0 {} {}"'
            ' width="100%" preserveAspectRatio="xMidYMid meet" data-points="{}">'
        ).format(ident, title_id, desc_id, WIDTH, HEIGHT, n)
    )
    parts.append(
        Markup('<title id="{}">{}</title>').format(
            title_id,
            translations.gettext("%(scheme)s individual account balance") % {"scheme": name},
        )
    )
    parts.append(Markup('<desc id="{}">{}</desc>').format(desc_id, summary))
    # the balance axis: gridlines and labels in yuan
    tick = low
    while tick <= high:
        ty = _num(y(tick))
        parts.append(
            Markup(
                '<line class="grid" x1="{}" y1="{}" x2="{}" y2="{}" stroke="#dde"/>'
                '<text class="tick" x="{}" y="{}" text-anchor="end" font-size="10"'
                ' dominant-baseline="middle" fill="#445">{}</text>'
            ).format(LEFT, ty, WIDTH - RIGHT, ty, LEFT - 4, ty, _yuan_short(tick))
        )
        tick += step
    parts.append(
        Markup(
            '<text class="tick" x="2" y="{}" font-size="10" fill="#445">{}</text>'
            '<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}" stroke="#445"/>'
            '<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}" stroke="#445"/>'
        ).format(
            HEIGHT - 2,
            translations.gettext("yuan"),
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
    points = " ".join(f"{_num(x(i))},{_num(y(b))}" for i, b in enumerate(balances))
    parts.append(
        Markup(
            '<polyline class="line" points="{}" fill="none" stroke="#1a5fb4" stroke-width="2"'
            ' stroke-linejoin="round"/>'
        ).format(points)
    )
    parts.append(
        Markup('<circle class="dot" cx="{}" cy="{}" r="3" fill="#1a5fb4"/>').format(
            _num(x(n - 1)), _num(y(balances[-1]))
        )
    )
    parts.append(Markup("</svg>"))
    every = n <= TABLE_MONTHS_MAX
    rows = [
        {"month": m, "balance_fen": b}
        for i, (m, b) in enumerate(zip(months, balances, strict=True))
        if every or m.endswith("-12") or i == n - 1
    ]
    return Chart(ident, name, Markup("").join(parts), summary, rows, every, n, balances[-1])
