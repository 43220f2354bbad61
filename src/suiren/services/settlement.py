"""Settlement between regional funds (清算): multilateral netting per window.

A transfer leaves its amount in the old region's clearing account (+) when approved and
takes it from the new region's clearing account (−) when accepted. Closing a window (a day,
once it is over: every transfer accepted on or before it and not yet settled) nets every
region's obligations into one
position — positive: the region pays, negative: it receives; the positions sum to zero —
and posts, in each region's journal, ``settlement/{scheme}/{window}/{region}``: its clearing
account against the national settlement account. The window's flows, positions and what it
settled are recorded as facts of ``settlement/{scheme}/{window}/close`` in the national
journal (000000). After a window's transfers are settled their clearing amounts are zero.
Closing a window twice changes nothing.

Obligations between regions that are not transfers (``region_obligations``: the hukou-held
part of a medical contribution under money_follows_person, services/medical.py) are booked
the same way — the owing region's clearing account +, the owed region's − — and a window
nets them together with the transfers, once (``settled_obligations``). A flow's count is
the number of transfers and obligations it settles.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, select

from suiren.domain.errors import SuirenError, require
from suiren.domain.messages import text as message
from suiren.domain.month import Month
from suiren.ledger.accounts import AccountKey, AccountKind, OwnerType, Scheme, clearing
from suiren.ledger.transaction import Posting, Transaction, TxCode
from suiren.store.ledger_repo import lock_chain_heads, post_transactions
from suiren.store.projections import fact
from suiren.store.tables import (
    region_obligations,
    settled_obligations,
    settled_transfers,
    settlement_flows,
    settlement_positions,
    transfer_events,
    transfers,
)

NATIONAL = "000000"


class SettlementRefused(SuirenError):
    code = "settlement-refused"


def settlement_account(scheme: Scheme) -> AccountKey:
    """The national settlement account through which regional funds pay each other."""
    return AccountKey(OwnerType.SYSTEM, "settlement", scheme, AccountKind.CLEARING, NATIONAL)


@dataclass(frozen=True)
class WindowReport:
    window: date
    closed: bool
    flows: dict[tuple[str, str], tuple[int, int]]  # (from, to) -> (amount, transfers)
    positions: dict[str, int]  # region -> net (+ pays, − receives)

    def to_json(self) -> dict[str, Any]:
        regions = sorted({r for pair in self.flows for r in pair} | set(self.positions))
        return {
            "window": self.window.isoformat(),
            "closed": self.closed,
            "regions": regions,
            "matrix_fen": [[self.flows.get((a, b), (0, 0))[0] for b in regions] for a in regions],
            "flows": [
                {"from": a, "to": b, "amount_fen": amount, "transfers": count}
                for (a, b), (amount, count) in sorted(self.flows.items())
            ],
            "net_positions_fen": dict(sorted(self.positions.items())),
        }


def _unsettled(connection: Connection, window: date, scheme: Scheme) -> list[Any]:
    """Transfers accepted on or before ``window`` that no window has settled yet."""
    return connection.execute(
        select(
            transfers.c.transfer_id,
            transfers.c.from_region,
            transfers.c.to_region,
            transfers.c.account_fen,
            transfers.c.pooled_fen,
        )
        .join(
            transfer_events,
            and_(
                transfer_events.c.transfer_id == transfers.c.transfer_id,
                transfer_events.c.step == "accepted",
            ),
        )
        .outerjoin(settled_transfers, settled_transfers.c.transfer_id == transfers.c.transfer_id)
        .where(
            transfer_events.c.on_day <= window,
            transfers.c.scheme == scheme.value,
            transfers.c.temporary.is_(False),
            settled_transfers.c.transfer_id.is_(None),
        )
        .order_by(transfers.c.transfer_id)
    ).all()


def _unsettled_obligations(connection: Connection, window: date, scheme: Scheme) -> list[Any]:
    """Obligations due on or before ``window`` that no window has settled yet."""
    return connection.execute(
        select(
            region_obligations.c.obligation_id,
            region_obligations.c.from_region,
            region_obligations.c.to_region,
            region_obligations.c.amount_fen,
        )
        .outerjoin(
            settled_obligations,
            settled_obligations.c.obligation_id == region_obligations.c.obligation_id,
        )
        .where(
            region_obligations.c.on_day <= window,
            region_obligations.c.scheme == scheme.value,
            settled_obligations.c.obligation_id.is_(None),
        )
        .order_by(region_obligations.c.obligation_id)
    ).all()


def _pairs(connection: Connection, scheme: Scheme) -> list[tuple[str, str]]:
    pairs = set()
    for table in (transfers, region_obligations):
        pairs |= {
            (r.from_region, r.to_region)
            for r in connection.execute(
                select(table.c.from_region, table.c.to_region)
                .where(table.c.scheme == scheme.value)
                .distinct()
            )
        }
    return sorted(pairs)


def _flows(rows: list[Any], obligations: list[Any]) -> dict[tuple[str, str], tuple[int, int]]:
    """(from, to) -> (amount, count) of the transfers' moved money and the obligations."""
    items = [(r.from_region, r.to_region, int(r.account_fen) + int(r.pooled_fen)) for r in rows]
    items += [(r.from_region, r.to_region, int(r.amount_fen)) for r in obligations]
    flows: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for from_region, to_region, amount in items:
        if amount:
            flows[(from_region, to_region)][0] += amount
            flows[(from_region, to_region)][1] += 1
    return {k: (v[0], v[1]) for k, v in flows.items()}


def close_window(
    connection: Connection, window: date, now: datetime, scheme: Scheme = Scheme.EMPLOYEE_PENSION
) -> WindowReport:
    if window >= now.date():
        raise SettlementRefused(message("settlement.window-open", window=window))
    regions = {r for p in _pairs(connection, scheme) for r in p} | {NATIONAL}
    lock_chain_heads(connection, regions)  # settle against a stable set of transfers
    done = report(connection, window, scheme)
    if done.closed:
        return done
    rows = _unsettled(connection, window, scheme)
    obligations = _unsettled_obligations(connection, window, scheme)
    flows = _flows(rows, obligations)
    positions: dict[str, int] = defaultdict(int)
    for (a, b), (amount, _) in flows.items():
        positions[a] += amount
        positions[b] -= amount
    require(sum(positions.values()) == 0, "net positions of a window must sum to zero")
    house = settlement_account(scheme)
    prefix = f"settlement/{scheme.value}/{window.isoformat()}"
    txs = [
        Transaction.build(
            f"{prefix}/{region}",
            TxCode.SETTLEMENT,
            region,
            Month.from_date(window),
            now,
            [Posting(clearing(scheme, region), -net), Posting(house, net)],
            memo=f"settlement window {window.isoformat()}",
        )
        for region, net in sorted(positions.items())
        if net
    ]
    facts = [
        fact(
            settlement_positions,
            scheme=scheme.value,
            window=window,
            region=tx.region,
            net_fen=positions[tx.region],
            tx_id=tx.tx_id,
        )
        for tx in txs
    ]
    if not txs:  # an empty window is closed too, so that closing it again changes nothing
        facts.append(
            fact(
                settlement_positions,
                scheme=scheme.value,
                window=window,
                region=NATIONAL,
                net_fen=0,
                tx_id=f"{prefix}/empty",
            )
        )
    facts += [
        fact(
            settlement_flows,
            scheme=scheme.value,
            window=window,
            from_region=a,
            to_region=b,
            amount_fen=amount,
            transfers=count,
        )
        for (a, b), (amount, count) in sorted(flows.items())
    ]
    facts += [
        fact(settled_transfers, transfer_id=r.transfer_id, scheme=scheme.value, window=window)
        for r in rows
    ]
    facts += [
        fact(settled_obligations, obligation_id=r.obligation_id, scheme=scheme.value, window=window)
        for r in obligations
    ]
    close = Transaction.build(
        f"{prefix}/close",
        TxCode.SETTLEMENT,
        NATIONAL,
        Month.from_date(window),
        now,
        [],
        memo=f"settlement window {window.isoformat()} closed",
        facts=facts,
    )
    post_transactions(connection, [*txs, close])
    return report(connection, window, scheme)


def report(
    connection: Connection, window: date, scheme: Scheme = Scheme.EMPLOYEE_PENSION
) -> WindowReport:
    positions = {
        r.region: int(r.net_fen)
        for r in connection.execute(
            select(settlement_positions).where(
                settlement_positions.c.scheme == scheme.value,
                settlement_positions.c.window == window,
            )
        )
    }
    closed = bool(positions)
    positions.pop(NATIONAL, None)
    if closed:
        flows = {
            (r.from_region, r.to_region): (int(r.amount_fen), int(r.transfers))
            for r in connection.execute(
                select(settlement_flows).where(
                    settlement_flows.c.scheme == scheme.value, settlement_flows.c.window == window
                )
            )
        }
    else:
        flows = _flows(
            _unsettled(connection, window, scheme),
            _unsettled_obligations(connection, window, scheme),
        )
        for (a, b), (amount, _) in flows.items():
            positions[a] = positions.get(a, 0) + amount
            positions[b] = positions.get(b, 0) - amount
    return WindowReport(window, closed, flows, positions)
