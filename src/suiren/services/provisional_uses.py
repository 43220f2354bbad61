"""The provisional figures an answer rested on, kept so that a replay or a read says the same.

``provisional-parameter`` (``services.provisional``) is decided from the parameters as they
stand. A replayed payment must return the first result, and a read of a transfer must say
what its amounts rest on; but once the year's figure is published the parameters no longer
say the earlier one stood in. So the provisional figures of an answer are recorded with it,
as facts of ``provisional_uses``: per month of a contribution month entry paid on
provisional bounds, per transfer step whose amounts or interest rest on one, and per yearly
interest run on a rate not published (services/interest.py). Replays and
reads answer from them — what the first posting used, even once the figure is published (the
amounts recorded rest on it still; a quote or an estimate asked now says what holds today).
A month or a step recorded before these were kept (migration ``0014_provisional_uses``)
has none.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date

from sqlalchemy import Connection, select

from suiren.ledger.transaction import Fact
from suiren.rules.parameters import ResolvedValue
from suiren.rules.provenance import NO_PROVENANCE
from suiren.services.provisional import figure_fields, provisional
from suiren.store.projections import fact
from suiren.store.tables import provisional_uses

SUBJECTS_PER_QUERY_MAX = 500  # subjects looked up in one IN list


def use_fact(subject: str, month: int, values: Iterable[ResolvedValue]) -> Fact | None:
    """The fact that ``subject`` (a month entry's tx id with a month ordinal, or a transfer
    step with 0) rested on the provisional ones of ``values``; None where there are none."""
    found = provisional(values)
    if not found:
        return None
    figures = json.dumps(
        [figure_fields(v) for v in found], ensure_ascii=False, separators=(",", ":"), sort_keys=True
    )
    return fact(provisional_uses, subject=subject, month=month, figures=figures)


def figures_of(recorded: str) -> tuple[ResolvedValue, ...]:
    """The figures of a ``provisional_uses`` row, as the warning that first named them did
    (their value as its file wrote it; the provenance is the parameter's, not kept here)."""
    return tuple(
        ResolvedValue(
            f["parameter"],
            f["value"],
            date.fromisoformat(f["in_force_from"]),
            f["region"],
            NO_PROVENANCE,
            f["unit"],
            provisional=True,
        )
        for f in json.loads(recorded)
    )


def uses_of(
    connection: Connection, subjects: Iterable[str]
) -> dict[tuple[str, int], tuple[ResolvedValue, ...]]:
    """(subject, month) → the provisional figures recorded for it, of ``subjects``."""
    wanted = sorted(set(subjects))
    out: dict[tuple[str, int], tuple[ResolvedValue, ...]] = {}
    u = provisional_uses.c
    for at in range(0, len(wanted), SUBJECTS_PER_QUERY_MAX):
        chunk = wanted[at : at + SUBJECTS_PER_QUERY_MAX]
        for row in connection.execute(
            select(u.subject, u.month, u.figures).where(u.subject.in_(chunk))
        ):
            out[(row.subject, int(row.month))] = figures_of(row.figures)
    return out
