"""A yearly figure standing in for one Suiren does not have yet, said alike by every output.

A figure published once a year (``metadata.published: yearly``: the average wage, the
published floor and ceiling, the 计发基数, the crediting rate) read twelve months or more
after its entry started is ``ResolvedValue.provisional``: the year's own figure is not in
the parameters (not published yet, or a year not collected), so the latest earlier one is
carried forward in its place. Whatever uses such a figure — a contribution's bounds, a
payment quote, a pension estimate, a transfer's interest, a yearly interest run — says so
with one warning, ``provisional-parameter``: the same code, the same fields (``code``,
``field``, ``message`` — zh-CN then English — with ``message_zh`` and ``message_en`` each
alone, and ``parameters``, the figures as structured data for a page to write in its own
language).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from typing import Any

from suiren.domain.messages import Text
from suiren.policy.interest import YearRate
from suiren.rules.parameters import ResolvedValue, show_value

PROVISIONAL_PARAMETER = "provisional-parameter"
# what follows from provisional bounds (a payment's, a quote's)
BOUNDS_THEN = (
    "缴费基数上下限按此暂定，公布后可能调整",
    "the base's floor and ceiling rest on it and may change when it is out",
)


def provisional(values: Iterable[ResolvedValue]) -> tuple[ResolvedValue, ...]:
    """The provisional ones of ``values``, each figure (parameter, region, start) once, in
    the order first met."""
    seen: dict[tuple[str, str, date], ResolvedValue] = {}
    for value in values:
        if value.provisional:
            seen.setdefault((value.path, value.region, value.start), value)
    return tuple(seen.values())


def rate_figures(rates: Iterable[YearRate]) -> list[ResolvedValue]:
    """The crediting rate each of ``rates`` read, provisional where its year's own is not
    published (``YearRate.provisional``: the year's rate is the latest earlier one)."""
    return [replace(rate.cited[0], provisional=rate.provisional) for rate in rates]


def named(values: Iterable[ResolvedValue]) -> str:
    """``pension.base 7933 (410000, 2025); …``: each figure, its region and its year."""
    return "; ".join(f"{v.path} {show_value(v.value)} ({v.region}, {v.start.year})" for v in values)


def provisional_warning(
    values: Iterable[ResolvedValue], field: str, when: str, then: tuple[str, str]
) -> dict[str, Any] | None:
    """The warning for the provisional ones of ``values`` (None where there are none):
    ``field`` is the input it concerns, ``when`` what uses them (a month paid, a year
    credited, a retirement month, a transfer's day), ``then`` what follows from it, in zh-CN
    and in English."""
    found = provisional(values)
    if not found:
        return None
    figures = named(found)
    then_zh, then_en = then
    said = Text(
        f"{when} 所用年度数值尚未公布（或未收录），暂以此前年度数值代替，{then_zh}：{figures}",
        f"{when} uses a yearly figure not published yet (or not collected): an earlier"
        f" year's stands in ({then_en}): {figures}",
    )
    return {
        "code": PROVISIONAL_PARAMETER,
        "field": field,
        **said.fields(),
        "parameters": [figure_fields(v) for v in found],
    }


def figure_fields(value: ResolvedValue) -> dict[str, str]:
    """A provisional figure as a warning's ``parameters`` give it (and as it is kept)."""
    return {
        "parameter": value.path,
        "value": show_value(value.value),
        "unit": value.unit,
        "region": value.region,
        "in_force_from": value.start.isoformat(),
    }
