"""What a worker may pay now, before paying (缴费试算): the months open to them and, for a
month and a base, the split.

The portal's pay page offers this month and the missed months the back-payment rule allows
(``contribution.flexible.back_payment_years_max``), each with its floor and ceiling in the
worker's region, and shows the split of a chosen base before the worker confirms. The same
checks run again in ``services.contributions`` when the payment is posted: this module only
answers early, naming the rule, so that a person sees why before they confirm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import Connection

from suiren.domain.errors import ParameterNotFound, SuirenError
from suiren.domain.messages import Text
from suiren.domain.messages import text as message
from suiren.domain.month import Month
from suiren.ledger.accounts import Scheme
from suiren.policy import Policy
from suiren.policy.contribution import contribution_bounds, split_contribution
from suiren.rules.parameters import ResolvedValue
from suiren.rules.vector import day_number
from suiren.services.contributions import moving_out, past_retirement_text, pensioner_months
from suiren.services.provisional import BOUNDS_THEN, provisional, provisional_warning
from suiren.services.workers import enrolment_region
from suiren.store import lines

MONTHS_OFFERED_MAX = 60  # five years of back-payment at most are listed


class PaymentRefused(SuirenError):
    """A month or a base the pay page refuses before posting; ``reason`` names the rule."""

    code = "payment-refused"

    def __init__(self, reason: str, said: str | Text, **values: object) -> None:
        super().__init__(said)
        self.reason = reason
        self.values = values


@dataclass(frozen=True)
class MonthOpen:
    """A month the worker may pay, with its bounds in their region (fen) and the yearly
    figures they rest on that stand in for ones not published yet (``services.provisional``:
    the page says those bounds are provisional)."""

    month: Month
    region: str
    floor_fen: int
    ceiling_fen: int
    provisional: tuple[ResolvedValue, ...] = ()

    def warnings(self) -> list[dict[str, Any]]:
        """``provisional-parameter`` where the bounds are provisional, as a receipt says it."""
        warning = provisional_warning(self.provisional, "base_yuan", str(self.month), BOUNDS_THEN)
        return [] if warning is None else [warning]


@dataclass(frozen=True)
class PaymentQuote:
    month: MonthOpen
    base_fen: int
    due_fen: int
    individual_account_fen: int
    pooled_fen: int


def earliest_month(policy: Policy, today: date) -> Month:
    """The first month a flexible worker may still pay (补缴) today."""
    years_back = int(policy.national(today).value("contribution.flexible.back_payment_years_max"))
    return Month.of(today.year - years_back, 1)


def paid_months(connection: Connection, worker_id: str, scheme: Scheme) -> set[Month]:
    """The months already recorded for the worker: paid and not reversed, or imported (deemed
    months included: none of them can be paid again)."""
    return {
        Month(m.month) for m in lines.paid_months(connection, worker_id, scheme.value, deemed=True)
    }


def bounds_of(policy: Policy, month: Month, region: str) -> MonthOpen | None:
    """The month's floor and ceiling in ``region``; None without parameters for it."""
    days = np.array([day_number(month.first_day())], dtype=np.int64)
    try:
        bounds = contribution_bounds(policy, days, np.array([region], dtype="<U6"))
    except ParameterNotFound:
        return None
    return MonthOpen(
        month,
        region,
        int(bounds.floor_fen[0]),
        int(bounds.ceiling_fen[0]),
        provisional(bounds.figures(0)),
    )


def open_months(
    connection: Connection,
    policy: Policy,
    worker_id: str,
    today: date,
    scheme: Scheme = Scheme.EMPLOYEE_PENSION,
) -> list[MonthOpen]:
    """This month first, then each missed month back to the earliest allowed, newest first."""
    region = enrolment_region(connection, worker_id, scheme)[0]
    paid = paid_months(connection, worker_id, scheme)
    current, earliest = Month.from_date(today), earliest_month(policy, today)
    found: list[MonthOpen] = []
    month = current
    while month >= earliest and len(found) < MONTHS_OFFERED_MAX:
        if month not in paid:
            bounds = bounds_of(policy, month, region)
            if bounds is not None:
                found.append(bounds)
        month = month + -1
    if scheme is Scheme.EMPLOYEE_PENSION and found:  # not the months of a pensioner
        try:
            _, past = pensioner_months(
                connection, policy, worker_id, (m.month.ordinal for m in found), today
            )
        except ParameterNotFound:  # no retirement rule for the birth: the quote says so
            return found
        found = [m for m in found if m.month.ordinal not in past]
    return found


def quote(
    connection: Connection,
    policy: Policy,
    worker_id: str,
    month: Month,
    base_fen: int,
    today: date,
    scheme: Scheme = Scheme.EMPLOYEE_PENSION,
) -> PaymentQuote:
    """The split of ``base_fen`` for ``month``, or the rule that refuses it."""
    if month > Month.from_date(today):
        raise PaymentRefused("future", message("payment.future", month=month), month=str(month))
    earliest = earliest_month(policy, today)
    if month < earliest:
        raise PaymentRefused(
            "too-early",
            message("payment.back-payment", month=month, earliest=earliest),
            month=str(month),
            earliest=str(earliest),
        )
    if month in paid_months(connection, worker_id, scheme):
        raise PaymentRefused("paid", message("payment.month-paid", month=month), month=str(month))
    if scheme is Scheme.EMPLOYEE_PENSION:
        try:
            window, past = pensioner_months(connection, policy, worker_id, [month.ordinal], today)
        except ParameterNotFound as error:
            said = error.text or error.message
            raise PaymentRefused("no-parameters", said, month=str(month)) from error
        if month.ordinal in past:
            raise PaymentRefused(
                "past-retirement",
                past_retirement_text(worker_id, month, window, past[month.ordinal]),
                month=str(month),
                latest=str(window.latest_month),
            )
    region = enrolment_region(connection, worker_id, scheme)[0]
    transfer = moving_out(connection, worker_id, region, scheme)
    if transfer is not None:
        raise PaymentRefused(
            "moving",
            message("payment.moving-out", region=region, transfer=transfer),
            month=str(month),
        )
    bounds = bounds_of(policy, month, region)
    if bounds is None:
        raise PaymentRefused(
            "no-parameters",
            message("payment.no-parameters", region=region, month=month),
            month=str(month),
        )
    if not bounds.floor_fen <= base_fen <= bounds.ceiling_fen:
        raise PaymentRefused(
            "out-of-bounds",
            message("payment.base-outside", month=month, region=region),
            month=str(month),
            floor_fen=bounds.floor_fen,
            ceiling_fen=bounds.ceiling_fen,
        )
    days = np.array([day_number(month.first_day())], dtype=np.int64)
    split = split_contribution(
        policy, days, np.array([region], dtype="<U6"), np.array([base_fen], dtype=np.int64)
    )
    return PaymentQuote(
        bounds,
        base_fen,
        int(split.due_fen[0]),
        int(split.individual_account_fen[0]),
        int(split.pooled_fen[0]),
    )
