"""A worker's own transfers (转移接续) as they see them: each with its state, the steps done
(and when), the step that comes next, whose agency takes it and by when (``due_on``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, select

from suiren.services.transfers import NEXT_STEP, STEPS, State, TransferView, with_warnings
from suiren.store.tables import transfer_events, transfers

TRANSFERS_SHOWN_MAX = 20  # a worker moves a few times in a career; the newest are shown


@dataclass(frozen=True)
class StepDone:
    step: str
    on_day: date
    note: str


@dataclass(frozen=True)
class WorkerTransfer:
    view: TransferView
    steps: tuple[StepDone, ...]
    next_step: str | None  # approve, accept, complete; None once closed
    next_region: str | None  # whose agency takes the next step
    overdue: bool


def worker_transfers(connection: Connection, worker_id: str, today: date) -> list[WorkerTransfer]:
    """The worker's transfers, newest first, at most ``TRANSFERS_SHOWN_MAX``."""
    rows = connection.execute(
        select(transfers)
        .where(transfers.c.worker_id == worker_id)
        .order_by(transfers.c.requested_on.desc(), transfers.c.transfer_id.desc())
        .limit(TRANSFERS_SHOWN_MAX)
    ).all()
    views = with_warnings(connection, [TransferView.from_row(r) for r in rows])
    events: dict[str, list[StepDone]] = {v.transfer_id: [] for v in views}
    if views:
        e = transfer_events.c
        for r in connection.execute(
            select(e.transfer_id, e.step, e.on_day, e.note)
            .where(e.transfer_id.in_(list(events)))
            .order_by(e.recorded_at, e.step)
        ):
            events[r.transfer_id].append(StepDone(r.step, r.on_day, r.note))
    shown = []
    for v in views:
        step = NEXT_STEP.get(State(v.state))
        side = STEPS[step][2] if step else None
        region = {"from": v.from_region, "to": v.to_region}.get(side or "")
        overdue = step is not None and v.due_on < today
        shown.append(WorkerTransfer(v, tuple(events[v.transfer_id]), step, region, overdue))
    return shown
