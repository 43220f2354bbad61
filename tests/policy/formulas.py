"""The formulas a YAML policy case can name, each returning a flat dict of strings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np

from suiren.domain.money import fen_to_yuan_str, yuan_to_fen
from suiren.domain.month import Month
from suiren.policy import load_policy
from suiren.policy.contribution import contribution_bounds, split_contribution
from suiren.policy.interest import year_rate, yearly_interest
from suiren.policy.medical import (
    hukou_pool,
    lifetime_cover,
    split_medical,
    transfer_amounts,
    waiting_months,
)
from suiren.policy.pension import YEARS_SCALE
from suiren.policy.retirement import (
    category_index,
    elective_window,
    flexible_window,
    minimum_years,
    retirement_rule,
    statutory_retirement,
)
from suiren.policy.transfer import temporary_account
from suiren.rules.vector import day_number
from suiren.services.pension_calc import calculate, case_warnings, parse_cases


def _period(case: dict[str, Any]) -> date:
    period = case.get("period")
    return period if isinstance(period, date) else date.fromisoformat(str(period))


def _pension(case: dict[str, Any]) -> dict[str, str]:
    policy = load_policy(case.get("scenario", "current_law"))
    record = {k: (str(v) if not isinstance(v, int) else v) for k, v in case["input"].items()}
    parsed = parse_cases([record], policy, _period(case), rules_day=_period(case))
    result = calculate(parsed, policy)
    out = {
        "basic_fen": int(result.basic_fen[0]),
        "account_fen": int(result.account_pension_fen[0]),
        "transitional_fen": int(result.transitional_fen[0]),
        "extra_fen": int(result.extra[0]),
        "total_fen": int(result.total_fen[0]),
    }
    flat = {k: str(v) for k, v in out.items()}
    for key, fen in out.items():
        flat[key.replace("_fen", "_yuan")] = _printed(
            fen, case["output"].get(key.replace("_fen", "_yuan"))
        )
    [warnings] = case_warnings(parsed, policy, _period(case))
    flat["warnings"] = " ".join(w.code for w in warnings)  # e.g. not-modelled
    flat["divisor_months"] = str(Decimal(int(result.divisor_tenths[0])) / 10)
    years = Decimal(int(result.years[0])) / YEARS_SCALE
    flat["years"] = str(years.quantize(Decimal("0.000001")).normalize())
    flat["coefficient"] = (
        ""
        if result.coefficient[0] is None
        else str(
            Decimal(result.coefficient[0].numerator) / Decimal(result.coefficient[0].denominator)
        )
    )
    return flat


def _printed(fen: int, expected: Any) -> str:
    """Yuan as the table printed it: '1854.7' and '1854.70' are the same amount."""
    text = fen_to_yuan_str(fen)
    if expected is not None and yuan_to_fen(str(expected)) == fen:
        return str(expected)
    return text


def _retirement(case: dict[str, Any]) -> dict[str, str]:
    policy = load_policy(case.get("scenario", "current_law"))
    day = _period(case)
    data = case["input"]
    rule = retirement_rule(policy, day)
    birth = np.array([Month.parse(str(data["birth"])).ordinal], dtype=np.int64)
    category = np.array(
        [category_index(str(data.get("sex", "")), data.get("category"), policy, day)],
        dtype=np.int64,
    )
    delay, age, reach = statutory_retirement(rule, birth, category)
    earliest, latest = flexible_window(rule, age, category)
    values, which = minimum_years(policy, reach)
    minimum = values[int(which[0])]

    def age_text(months: int) -> str:
        return f"{months // 12}y{months % 12}m"

    return {
        "delay_months": str(int(delay[0])),
        "statutory_age": age_text(int(age[0])),
        "retirement_month": str(Month(int(reach[0]))),
        "earliest_age": age_text(int(earliest[0])),
        "latest_age": age_text(int(latest[0])),
        "minimum_years": str(Decimal(minimum.numerator) / Decimal(minimum.denominator)),
    }


def _elective_window(case: dict[str, Any]) -> dict[str, str]:
    """The elective window of a worker without an employer (the estimate's)."""
    policy = load_policy(case.get("scenario", "current_law"))
    day = _period(case)
    data = case["input"]
    category = category_index(str(data.get("sex", "")), data.get("category"), policy, day)
    window = elective_window(policy, Month.parse(str(data["birth"])), category, True, day)
    late_by = window.apply_by(window.statutory_month + 1) if window.later_offered else None
    minimum = window.minimum_years
    return {
        "statutory_month": str(window.statutory_month),
        "earliest_month": str(window.earliest_month),
        "latest_month": str(window.latest_month),
        "later_offered": str(window.later_offered).lower(),
        "no_later_reason": str(window.no_later_reason),
        "minimum_years": str(Decimal(minimum.numerator) / Decimal(minimum.denominator)),
        "late_apply_by": "none" if late_by is None else str(late_by),
    }


def _bounds(case: dict[str, Any]) -> dict[str, str]:
    policy = load_policy(case.get("scenario", "current_law"))
    days = np.array([day_number(_period(case))], dtype=np.int64)
    bounds = contribution_bounds(policy, days, np.array([str(case["input"]["region"])]))
    return {
        "average_wage_yuan": fen_to_yuan_str(int(bounds.wage_fen[0])),
        "floor_yuan": fen_to_yuan_str(int(bounds.floor_fen[0])),
        "ceiling_yuan": fen_to_yuan_str(int(bounds.ceiling_fen[0])),
    }


def _split(case: dict[str, Any]) -> dict[str, str]:
    policy = load_policy(case.get("scenario", "current_law"))
    days = np.array([day_number(_period(case))], dtype=np.int64)
    base = np.array([yuan_to_fen(str(case["input"]["base_yuan"]))], dtype=np.int64)
    split = split_contribution(policy, days, np.array([str(case["input"]["region"])]), base)
    return {
        "due_yuan": fen_to_yuan_str(int(split.due_fen[0])),
        "individual_account_yuan": fen_to_yuan_str(int(split.individual_account_fen[0])),
        "pooled_yuan": fen_to_yuan_str(int(split.pooled_fen[0])),
    }


def _interest(case: dict[str, Any]) -> dict[str, str]:
    """A year's interest on an individual account (年度计息法), for the year of ``period``:
    ``prior_yuan`` held before the year, ``in_year_yuan`` credited during it, in ``region``
    (the national rate if none)."""
    policy = load_policy(case.get("scenario", "current_law"))
    rate = year_rate(policy, _period(case).year, str(case["input"].get("region", "000000")))
    prior = [yuan_to_fen(str(case["input"]["prior_yuan"]))]
    in_year = [yuan_to_fen(str(case["input"]["in_year_yuan"]))]
    return {
        "interest_yuan": fen_to_yuan_str(int(yearly_interest(rate, prior, in_year)[0])),
        "provisional": str(rate.provisional).lower(),
    }


def _temporary_account(case: dict[str, Any]) -> dict[str, str]:
    """Whether a worker who starts paying in ``to`` pays into a temporary account (临时账户):
    ``sex`` M/F, ``age`` as "50y0m", ``hukou``, ``to`` and the ``relation`` region if any."""
    policy = load_policy(case.get("scenario", "current_law"))
    data = case["input"]
    years, months = str(data["age"]).rstrip("m").split("y")
    temporary, _ = temporary_account(
        policy,
        _period(case),
        str(data["to"]),
        str(data["to"]),
        str(data["sex"]),
        int(years) * 12 + int(months),
        str(data["hukou"]),
        data.get("relation"),
    )
    return {"temporary": str(temporary).lower()}


def _parameter(case: dict[str, Any]) -> dict[str, str]:
    policy = load_policy(case.get("scenario", "current_law"))
    resolved = policy.at(_period(case), str(case["input"].get("region", "000000"))).get(
        str(case["input"]["parameter"])
    )
    return {"value": resolved.cite()["value"], "region": resolved.region}


def _medical(case: dict[str, Any]) -> dict[str, str]:
    """Employee medical insurance (suiren.policy.medical); ``input.rule`` names the function."""
    policy = load_policy(case.get("scenario", "current_law"))
    day = _period(case)
    data = case["input"]
    rule = str(data["rule"])

    def fen(name: str) -> Any:
        return np.array([yuan_to_fen(str(data[name]))], dtype=np.int64)

    def yuan(array: Any) -> str:
        return fen_to_yuan_str(int(array[0]))

    if rule == "split":
        days = np.array([day_number(day)], dtype=np.int64)
        split = split_medical(policy, days, np.array([str(data["region"])]), fen("base_yuan"))
        return {
            "due_yuan": yuan(split.due_fen),
            "individual_account_yuan": yuan(split.individual_account_fen),
            "pooled_yuan": yuan(split.pooled_fen),
        }
    if rule == "transfer":
        moved = transfer_amounts(
            policy, day, str(data["from"]), str(data["to"]), fen("account_yuan"), fen("pooled_yuan")
        )
        return {
            "account_moved_yuan": yuan(moved.account_moved_fen),
            "pooled_moved_yuan": yuan(moved.pooled_moved_fen),
            "kept_yuan": yuan(moved.kept_fen),
            "moved_yuan": yuan(moved.moved_fen),
        }
    if rule == "waiting":
        gap = np.array([int(data["gap_months"])], dtype=np.int64)
        wait = waiting_months(policy, day, str(data["region"]), gap)
        return {"waiting_months": str(int(wait.waiting_months[0]))}
    if rule == "lifetime":
        cover = lifetime_cover(
            policy,
            day,
            str(data["region"]),
            str(data["sex"]),
            np.array([int(data["total_months"])], dtype=np.int64),
            np.array([int(data["local_months"])], dtype=np.int64),
        )
        return {
            "met": str(bool(cover.met[0])).lower(),
            "shortfall_months": str(int(cover.shortfall_months[0])),
            "required_total_months": str(int(cover.required_total_months[0])),
            "required_local_months": str(int(cover.required_local_months[0])),
        }
    if rule == "hukou_pool":
        pool = hukou_pool(
            policy,
            day,
            str(data["work_region"]),
            str(data["hukou_region"]),
            fen("base_yuan"),
            fen("average_wage_yuan"),
        )
        return {
            "pooled_yuan": yuan(pool.split.pooled_fen),
            "hukou_yuan": yuan(pool.hukou_fen),
            "work_yuan": yuan(pool.work_fen),
            "high_income": str(bool(pool.high_income[0])).lower(),
        }
    raise ValueError(
        f"unknown medical rule {rule!r}; use split, transfer, waiting, lifetime or hukou_pool"
    )


def _enrolment_age(case: dict[str, Any]) -> dict[str, str]:
    """Whether a person (sex, birth month) may first enrol as a flexible worker on the day."""
    from suiren.domain.errors import SuirenError
    from suiren.services.workers import check_working_age

    data = case["input"]
    try:
        check_working_age(
            load_policy(), str(data["sex"]), Month.parse(str(data["birth"])), _period(case)
        )
    except SuirenError:
        return {"may_enrol": "false"}
    return {"may_enrol": "true"}


FORMULAS = {
    "enrolment_age": _enrolment_age,
    "pension": _pension,
    "retirement": _retirement,
    "elective_window": _elective_window,
    "contribution_bounds": _bounds,
    "contribution_split": _split,
    "parameter": _parameter,
    "interest": _interest,
    "temporary_account": _temporary_account,
    "medical": _medical,
}


def run_case(case: dict[str, Any]) -> dict[str, str]:
    return FORMULAS[case["formula"]](case)
