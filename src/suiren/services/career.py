"""The pension from a whole career (养老金测算，全部缴费记录), under each scenario.

From the worker's contribution months in every region: the paying province (待遇领取地, by
the scenario's rule), the average contribution index against the paying province's
average wage of each month (国办发〔2009〕66号: the paying place's wages for every year),
total years, the individual accounts with credited interest, and then the pension with the
one pension formula, explained step by step.

Assumptions are said in the explanation: the retirement month is the statutory one unless
given — for a worker past it who has paid on, the first month not paid, or, paying on short of
the minimum years, the month they are reached (延长缴费), with a warning; a month asked for at
or before the last month paid is refused (its months would be counted as paid after
retirement); the 计发基数 is the latest published one on that date of the paying city — the city in
the paying province where the relation is held or the last months there were paid — which is
the city's own where it has one (深圳) and its province's otherwise.

A worker who is still paying is carried to retirement (``assumptions``, policy/projection.py):
the months from now to the month before retirement are paid where they are insured now, at a
share of the local average wage (the last month's by default), the account earns the yearly
interest, and the months count for the paying province like months paid. The assumptions are
stated with the result, and a ladder shows what paying 60%, 100%, 200% or 300% would give
(多缴多得). Without ``assumptions``: the months paid so far and today's balance.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
from sqlalchemy import Connection, select

from suiren.domain.errors import InvalidInput, ParameterNotFound
from suiren.domain.messages import Text, text
from suiren.domain.messages import text as message
from suiren.domain.money import divide_round, fen_to_yuan_str
from suiren.domain.month import Month
from suiren.ledger.accounts import AccountKind, Scheme
from suiren.policy import Policy
from suiren.policy.claiming import PayingRegion, Stint, paying_region
from suiren.policy.interest import YearRate
from suiren.policy.pension import YEARS_SCALE, PensionCases, compute_pensions
from suiren.policy.pension_explain import age_text, explain_case
from suiren.policy.projection import (
    LADDER,
    RATIO_MAX,
    RATIO_MIN,
    Assumptions,
    MonthsAhead,
    accounts_at_retirement,
    grown_parameter_fen,
    months_ahead_at,
    wage_fen,
    wages_fen,
)
from suiren.policy.retirement import (
    ElectiveWindow,
    category_index,
    divisor_ages,
    elective_window,
)
from suiren.rules.explain import Step
from suiren.rules.parameters import ResolvedValue
from suiren.rules.vector import day_number
from suiren.services.interest import pending_interest
from suiren.services.pension_calc import (
    EARLY_MONTHS,
    EARLY_RATE,
    CaseWarning,
    WarningsFound,
    early_months,
    extra_unsure,
    old_method_missing,
    region_not_modelled,
)
from suiren.services.provisional import provisional_warning, rate_figures
from suiren.services.workers import enrolment_region, get_worker, relation_region
from suiren.store.lines import CareerMonth, paid_months
from suiren.store.tables import accounts, transfers


class EstimateRefused(InvalidInput):
    """An estimate that cannot be made for this worker or this retirement month; ``reason``
    names the rule (``no-months``, ``retire-not-after-paid``) so that the portal says it in
    the worker's language, with ``values`` (months as ``YYYY-MM``). The API's problem stays
    ``invalid-input``, with ``message``."""

    def __init__(self, reason: str, said: str | Text, **values: object) -> None:
        super().__init__(said)
        self.reason = reason
        self.values = values


def _records(connection: Connection, worker_id: str, scheme: Scheme) -> list[CareerMonth]:
    """The career: months paid through Suiren and imported ones, deemed months included
    (they count for years and, 人社部规〔2016〕5号 第一条, for the province where the work was
    done)."""
    return paid_months(connection, worker_id, scheme.value, deemed=True)


def _province(code: str) -> str:
    return code[:2] + "0000"


def paying_province(
    connection: Connection,
    policy: Policy,
    worker_id: str,
    day: date,
    scheme: Scheme = Scheme.EMPLOYEE_PENSION,
) -> PayingRegion:
    """Where the worker's pension would be paid if they retired on ``day`` (待遇领取地)."""
    worker = get_worker(connection, worker_id)
    region, _, _ = enrolment_region(connection, worker_id, scheme)
    relation = relation_region(connection, worker_id, scheme)
    stints = _stints(_records(connection, worker_id, scheme))
    return paying_region(
        policy, day, stints, _province(worker.hukou_region), _province(relation or region)
    )


def _stints(records: list[Any]) -> list[Stint]:
    stints: list[Stint] = []
    for r in records:
        province = r.region[:2] + "0000"
        if stints and stints[-1].province == province and stints[-1].temporary == bool(r.temporary):
            last = stints[-1]
            stints[-1] = Stint(province, last.months + 1, last.temporary)
        else:
            stints.append(Stint(province, 1, bool(r.temporary)))
    return stints


def _early_months_paid(
    policy: Policy, day: date, city: str, records: list[CareerMonth]
) -> int | None:
    """The months paid in the paying city's early period (北京 N实98: 1992-10 … 1998-06),
    where it pays a transitional part for them (``pension.transitional.early_actual_rate``);
    None where it does not."""
    g = policy.look_up(
        np.array([day_number(day)], dtype=np.int64),
        np.array([city]),
        {"rate": EARLY_RATE, "months": EARLY_MONTHS},
        frozenset({"rate", "months"}),
    )
    rate, months = g.values["rate"][0], g.values["months"][0]
    if rate.value is None or months.value is None:
        return None
    first, last = early_months(months.value)
    return sum(
        1 for r in records if r.kind != "deemed" and first.ordinal <= r.month <= last.ordinal
    )


def estimate(
    connection: Connection,
    policy: Policy,
    worker_id: str,
    today: date,
    retire: Month | None = None,
    scheme: Scheme = Scheme.EMPLOYEE_PENSION,
    assumptions: Assumptions | None = None,
) -> dict[str, Any]:
    """The pension at ``retire`` (default: ``_default_retirement``) from the months paid and,
    with ``assumptions``, the months ahead paid where the worker is insured now."""
    worker = get_worker(connection, worker_id)
    records = _records(connection, worker_id, scheme)
    if not records:
        raise EstimateRefused("no-months", message("estimate.no-months", worker=worker_id))
    region, _, temporary = enrolment_region(connection, worker_id, scheme)
    relation = relation_region(connection, worker_id, scheme)
    category = category_index(worker.sex, None, policy, today)
    # a Suiren worker is insured as an individual, with no employer (灵活就业人员)
    window = elective_window(policy, worker.birth_month, category, True, today)
    last_paid = Month(max(int(r.month) for r in records))
    first = max(Month.from_date(today), last_paid + 1)
    if retire is not None and retire <= last_paid:
        raise EstimateRefused(
            "retire-not-after-paid",
            message("estimate.retire-not-after-paid", retire=retire, last_paid=last_paid),
            month=str(retire),
            last_paid=str(last_paid),
        )
    past_statutory = retire is None and window.statutory_month < first
    if retire is None:
        retire = _default_retirement(window, len(records), first, assumptions is not None)
    retire_day = retire.first_day()
    _check_retirement_age(policy, retire, worker.birth_month)
    growth = assumptions.wage_growth if assumptions else Fraction(0)
    ratios: list[Fraction] = []
    aheads: list[MonthsAhead] = []
    if assumptions is not None and first < retire:
        chosen = assumptions.base_ratio or _last_ratio(policy, records)
        ratios = [chosen, *(r for r in LADDER if r != chosen)]
        aheads = months_ahead_at(policy, region, first, retire.minus(1), ratios, growth)
    career = list(records)
    if aheads:  # where the months ahead are paid does not depend on the ratio
        career += [CareerMonth(int(m), region, 0, temporary) for m in aheads[0].months.tolist()]
    stints = _stints(career)
    paying = paying_region(
        policy, retire_day, stints, _province(worker.hukou_region), _province(relation or region)
    )
    city = paying_city(career, paying.province, relation or region)
    grow = retire >= first  # a retirement ahead: published amounts grow to its year
    months = len(career)
    deemed = sum(1 for r in records if r.kind == "deemed")
    pending_rates: list[YearRate] = []  # a year's rate not published yet is cited as such
    account_today = _account_balance(connection, policy, worker_id, scheme, today, pending_rates)
    base_fen, base = grown_parameter_fen(policy, city, retire_day, "pension.base", growth, grow)
    province_base_fen = _province_base_fen(policy, retire_day, city, paying.province, base_fen)
    indices: list[int] = []
    index_steps: list[Step] = []
    missing: list[tuple[str, int]] = []
    wages: dict[int, int | None] = {}  # read once for every ratio of the ladder
    for ahead in aheads or [None]:
        index, step, missing = _average_index(policy, city, records, growth, first, wages, ahead)
        indices.append(index)
        index_steps.append(step)
    carried = (
        accounts_at_retirement(
            policy,
            account_today,
            aheads,
            today.year,
            retire,
            assumptions.interest_rate if assumptions else None,
        )
        if aheads
        else []
    )
    rates: tuple[YearRate, ...] = carried[0].rates if carried else ()
    accounts_fen = [c.balance_fen for c in carried] or [account_today]
    index_step = index_steps[0]
    n = len(indices)
    early_months_paid = _early_months_paid(policy, retire_day, city, records)
    cases = PensionCases(
        region=np.array([city] * n),
        day=np.full(n, day_number(retire_day), dtype=np.int64),
        base_fen=np.full(n, base_fen, dtype=np.int64),
        province_base_fen=np.full(n, province_base_fen, dtype=np.int64),
        index_1e6=np.array(indices, dtype=np.int64),
        transitional_index_1e6=np.array(indices, dtype=np.int64),
        years=np.full(n, months * YEARS_SCALE // 12, dtype=np.int64),
        deemed_years=np.full(n, deemed * YEARS_SCALE // 12, dtype=np.int64),
        account_fen=np.array(accounts_fen, dtype=np.int64),
        divisor_tenths=np.full(n, -1, dtype=np.int64),
        age_months=np.full(n, retire - worker.birth_month, dtype=np.int64),
        # 北京 G实: the months paid in the early period, at the worker's own index (Z实, the
        # index of the basic pension: 京劳社养发〔2007〕21号), where the paying city pays it
        early_years=(
            None
            if early_months_paid is None
            else np.full(n, early_months_paid * YEARS_SCALE // 12, dtype=np.int64)
        ),
        early_index_1e6=None if early_months_paid is None else np.array(indices, dtype=np.int64),
    )
    result = compute_pensions(policy, cases)
    steps = [
        Step(
            Text("待遇领取地", "paying province"),
            Text(
                "按本方案的规则，依职业生涯在各省的缴费月数确定（含今后各月）",
                "the scenario's rule over the career's provinces (the months ahead included)",
            ),
            {
                Text("各省缴费月数", "stints"): Text(
                    "，".join(
                        f"{s.province}：{s.months}个月{'（临时账户）' if s.temporary else ''}"
                        for s in stints
                    ),
                    ", ".join(
                        f"{s.province}:{s.months}m{' (temporary)' if s.temporary else ''}"
                        for s in stints
                    ),
                ),
                Text("户籍地", "hukou"): worker.hukou_region,
                Text("现参保地", "insured now"): region,
            },
            Text(
                f"{paying.province}——{paying.reason.zh}；领取城市 {city}",
                f"{paying.province} — {paying.reason.en}; paying city {city}",
            ),
            paying.cited,
        ),
        index_step,
        Step(
            Text("计发基数", "pension base"),
            Text(
                "领取城市在退休日最近公布的计发基数（本市有的用本市的，否则用全省的）"
                + (f"，自{base.start.year}年起每年增长{growth}" if grow and growth else ""),
                "the paying city's latest published base on the retirement date (its own, or its"
                " province's where it has none)"
                + (f", grown {growth} a year from {base.start.year}" if grow and growth else ""),
            ),
            {Text("退休月份", "retirement month"): str(retire)},
            fen_to_yuan_str(base_fen),
            (base,),
        ),
        *explain_case(cases, result, 0),
    ]
    female = (  # the category of a woman insured as an individual is a rule of its own
        (policy.national(today).get("retirement.flexible_female_category"),)
        if worker.sex == "F"
        else ()
    )
    steps.insert(0, _window_step(window, retire, female))
    # 广东's parts not modelled concern only a worker old enough to have paid by 2006-06 or
    # with deemed months (pension.not_modelled_through)
    not_modelled = region_not_modelled(
        policy, retire_day, city, worker.birth_month, int(cases.deemed_years[0])
    )
    by_region: dict[str, int] = defaultdict(int)
    for r in records:
        by_region[r.region] += 1
    out: dict[str, Any] = {
        "scenario": policy.name,
        "worker_id": worker_id,
        "retirement_month": str(retire),
        "paying_province": paying.province,
        "paying_city": city,
        "contribution_months": months,
        "contribution_months_paid": len(records) - deemed,
        "deemed_months": deemed,
        "imported_months": sum(1 for r in records if r.history),
        "contribution_months_by_region": dict(sorted(by_region.items())),
        "temporary_account_months": sum(1 for r in career if r.temporary),
        "average_index": str((Decimal(indices[0]) / 10**6).normalize()),
        "account_at_retirement_fen": accounts_fen[0],
        "basic_pension_fen": int(result.basic_fen[0]),
        "account_pension_fen": int(result.account_pension_fen[0]),
        "transitional_pension_fen": int(result.transitional_fen[0]),
        "extra_pension_fen": int(result.extra[0]),
        "total_fen": int(result.total_fen[0]),
        "pooled_left_behind_fen": _left_behind(connection, worker_id),
        # where Suiren has no average wage for a month's region and year, the index is the
        # mean of the other months; the estimate names what it lacked instead of failing
        "missing_wages": [{"region": r, "year": y} for r, y in missing],
        # what the paying city pays that the formula does not compute (四川 增发, 吉林 长缴增发, …):
        # named, so that the total is never taken for the whole pension
        "warnings": [
            *([_past_statutory_warning(window, last_paid, retire)] if past_statutory else []),
            *_provisional_warnings(steps, rate_figures(pending_rates), retire, today),
            *retirement_warnings(
                window,
                retire,
                months,
                Month.from_date(today),
                sum(1 for m in career if m.month < window.latest_month.ordinal),
            ),
            *([] if not_modelled is None else [not_modelled]),
            *_case_warnings(policy, cases),
        ],
        "retirement_window": window_json(window, retire),
        "projection": None,
        "explanation": [s.to_json() for s in steps],
    }
    if aheads:
        assert assumptions is not None
        rate_text = (
            Text(
                f"{_decimal(assumptions.interest_rate)}（假定）",
                f"{_decimal(assumptions.interest_rate)} (assumed)",
            )
            if assumptions.interest_rate is not None
            else _rates_text(rates)
        )
        out["projection"] = {
            "from": str(first),
            "to": str(retire.minus(1)),
            "months": len(aheads[0].months),
            "region": region,
            "base_ratio": _decimal(ratios[0]),
            "base_ratio_is_the_last_months": assumptions.base_ratio is None,
            "first_base_fen": int(aheads[0].base_fen[0]),
            "wage_growth": _decimal(growth),
            # the English for programs, as it always was; each language alone beside it
            "interest_rate": rate_text.en,
            "interest_rate_zh": rate_text.zh,
            "interest_rate_en": rate_text.en,
            # the same as data (none when a rate is assumed): pages write it in their language
            "interest_rates": [] if assumptions.interest_rate is not None else _rate_runs(rates),
            "account_today_fen": account_today,
            "ladder": sorted(
                (
                    {"base_ratio": _decimal(r), "total_fen": int(t)}
                    for r, t in zip(ratios, result.total_fen.tolist(), strict=True)
                ),
                key=lambda row: Fraction(row["base_ratio"]),
            ),
        }
    return out


CHOICE_TEXT = {
    "early": Text("弹性提前退休", "elective early retirement"),
    "statutory": Text("法定退休年龄", "the statutory age"),
    "late": Text("弹性延迟退休", "elective late retirement"),
}


def _years(value: Fraction) -> str:
    return _decimal(value)


def _months_text(months: int) -> Text:
    return Text(f"{months // 12}年{months % 12}个月", f"{months // 12} years {months % 12} months")


def _check_retirement_age(policy: Policy, retire: Month, birth: Month) -> None:
    """A retirement month at an age the 计发月数 table has no divisor for (before 40, after
    70) is no estimate: refused, naming the month and the ages (an age inside the table but
    outside the elective window is computed and warned)."""
    low, high = divisor_ages(policy, retire.first_day())
    age = retire - birth
    if not low * 12 <= age <= high * 12:
        years, months = divmod(age, 12)
        said = message(
            "estimate.retire-age", retire=retire, years=years, months=months, low=low, high=high
        )
        raise EstimateRefused("retire-out-of-range", said, month=str(retire))


def window_json(window: ElectiveWindow, retire: Month) -> dict[str, Any]:
    """The elective retirement window (弹性退休区间) of the estimate, and where the chosen
    month lies in it."""
    apply_by = window.apply_by(retire) if window.contains(retire) else None
    return {
        "statutory_month": str(window.statutory_month),
        "statutory_age_months": window.statutory_age,
        "earliest_month": str(window.earliest_month),
        "earliest_age_months": window.earliest_age,
        "latest_month": str(window.latest_month),
        "latest_age_months": window.latest_age,
        "later_offered": window.later_offered,
        "no_later_reason": window.no_later_reason,
        "early_minimum_years": _years(window.minimum_years),
        "early_notice_months": window.early_notice_months,
        "late_apply_by": (
            str(window.statutory_month.minus(window.late_notice_months))
            if window.later_offered
            else None
        ),
        "chosen": window.choice(retire),
        "chosen_in_window": window.contains(retire),
        "chosen_apply_by": None if apply_by is None else str(apply_by),  # in the window only
    }


NO_LATER_TEXT = {
    "before-flexible-rule": Text(
        "法定退休年龄在弹性退休制度施行（2025-01-01）前已达到，不能选择弹性延迟退休",
        "the statutory age was reached before the flexible rule (2025-01-01): no later age",
    ),
    "no-employer": Text(
        "无用人单位的人员不能选择弹性延迟退休",
        "a worker without an employer is offered no later age",
    ),
}


def _case_warnings(policy: Policy, cases: PensionCases) -> list[dict[str, str]]:
    """The batch's warnings that hold for an estimate's case too (a 长缴增发 reached only
    through deemed years: ``pension_calc.extra_unsure``; a 江苏 transitional pension whose
    original-method amount the records cannot give: ``old_method_missing``)."""
    found = WarningsFound()
    extra_unsure(cases, policy, found)
    old_method_missing(cases, policy, found)
    return [w.to_json() for w in found.of(0)]


def _warning(code: str, field: str, said: Text) -> dict[str, str]:
    """An estimate's warning, as the batch's (``pension_calc.CaseWarning``) is written."""
    return CaseWarning(code, field, said).to_json()


def _default_retirement(
    window: ElectiveWindow, months: int, first: Month, paying_on: bool
) -> Month:
    """The month an estimate retires the worker in when none is asked for: the statutory
    month; for one past it who has paid on (``first``: the first month not paid), the first
    month not paid — or, paying on (``paying_on``) while short of the minimum years, the month
    they are reached (延长缴费, 办法 第二条)."""
    if window.statutory_month >= first:
        return window.statutory_month
    short = math.ceil(window.minimum_years * 12) - months
    return first + short if paying_on and short > 0 else first


def _past_statutory_warning(
    window: ElectiveWindow, last_paid: Month, retire: Month
) -> dict[str, str]:
    statutory = window.statutory_month
    return _warning(
        "past-statutory-age",
        "retire",
        Text(
            f"法定退休年龄已于 {statutory} 达到，缴费至 {last_paid}：按 {retire} 退休估算",
            f"the statutory age was reached in {statutory} and months were paid until"
            f" {last_paid}: estimated for retirement in {retire}",
        ),
    )


def _provisional_warnings(
    steps: list[Step], pending_rates: list[ResolvedValue], retire: Month, today: date
) -> list[dict[str, Any]]:
    """A retirement this year or before computed on a yearly figure whose year is not
    published yet (``ResolvedValue.provisional``: a cited parameter, or the crediting rate of
    the account's interest not yet credited): the agency pays it provisionally (预发) and
    recomputes when the figure is out. (A retirement in a later year is a projection on
    stated assumptions, not a provisional payment.)"""
    if retire.year > today.year:
        return []
    warning = provisional_warning(
        [*(p for step in steps for p in step.parameters), *pending_rates],
        "retire",
        str(retire),
        ("按此预发，公布后重算", "paid provisionally, 预发, and recomputed when it is out"),
    )
    return [] if warning is None else [warning]


def retirement_warnings(
    window: ElectiveWindow, retire: Month, months: int, today: Month, months_by_latest: int
) -> list[dict[str, str]]:
    """What the rules would not grant of a retirement in ``retire`` with ``months`` of
    contributions (deemed and projected ones included; ``months_by_latest`` of them before
    the window's last month, the latest month to retire in): a month outside the elective
    window (unless the minimum years were not reached by then: 延长缴费); early without the
    minimum years, or any month short of them (no monthly pension until they are reached); a
    choice asked for after its deadline (``today`` past the month to apply by)."""
    found: list[dict[str, str]] = []
    choice = window.choice(retire)
    # 延长缴费 (办法 第二条): one still short of the minimum years at the window's end pays on
    # until they are reached, past the window by right, not by choice: only a shortfall left
    # at ``retire`` is warned
    extending = retire > window.latest_month and months_by_latest < window.minimum_years * 12
    if not window.contains(retire) and not extending:
        why = (
            NO_LATER_TEXT[window.no_later_reason]
            if window.no_later_reason and retire > window.statutory_month
            else None
        )
        age, earliest, latest = (
            age_text(a) for a in (retire - window.birth, window.earliest_age, window.latest_age)
        )
        found.append(
            _warning(
                "outside-retirement-window",
                "retire",
                Text(
                    f"{retire} 退休（{age.zh}）不在弹性退休区间 {window.earliest_month}–"
                    f"{window.latest_month} 内（{earliest.zh} 至 {latest.zh}）"
                    f"{f'；{why.zh}' if why else ''}",
                    f"retirement in {retire} ({age.en}) is outside the window"
                    f" {window.earliest_month} ({earliest.en}) – {window.latest_month}"
                    f" ({latest.en}){f'; {why.en}' if why else ''}",
                ),
            )
        )
    if months < window.minimum_years * 12:
        needed, paid = _years(window.minimum_years), _months_text(months)
        said = (
            Text(
                f"弹性提前退休须累计缴费满 {needed} 年，{retire} 时为 {paid.zh}",
                f"elective early retirement needs {needed} contribution years; {paid.en} by"
                f" {retire}",
            )
            if choice == "early"
            else Text(
                f"{retire} 时累计缴费 {paid.zh}，不足最低缴费年限 {needed} 年：延长缴费至满",
                f"{paid.en} of contributions by {retire}, below the minimum of {needed} years:"
                " no monthly pension until it is reached",
            )
        )
        found.append(_warning("below-minimum-years", "retire", said))
    apply_by = window.apply_by(retire)
    if window.contains(retire) and apply_by is not None and today > apply_by:
        found.append(
            _warning(
                "elective-application-due",
                "retire",
                Text(
                    f"{CHOICE_TEXT[choice].zh}须于 {apply_by} 前向社会保险经办机构书面申请，已过期",
                    f"{CHOICE_TEXT[choice].en} is asked for in writing to the social insurance"
                    f" agency by {apply_by}; that month has passed",
                ),
            )
        )
    return found


def refuse_warnings(results: list[dict[str, Any]]) -> None:
    """``--strict``: the first warning of the first scenario that has one is an error."""
    for result in results:
        for warning in result["warnings"][:1]:
            raise InvalidInput(
                message(
                    "estimate.strict",
                    scenario=result["scenario"],
                    said=Text(warning["message_zh"], warning["message_en"]),
                    code=warning["code"],
                ),
                warning.get("field") or warning.get("region"),
            )


def _window_step(
    window: ElectiveWindow, retire: Month, also: tuple[ResolvedValue, ...] = ()
) -> Step:
    chosen = CHOICE_TEXT[window.choice(retire)]
    return Step(
        Text("弹性退休区间", "elective retirement window"),
        Text(
            "法定退休年龄按达到当月的规则确定；弹性提前：最多提前规定的月数，不低于原法定退休年龄，且须"
            "满最低缴费年限；弹性延迟：最多延迟规定的月数，无用人单位的劳动者向经办机构申请",
            "statutory age by the rules of the month it is reached; early: up to the most months"
            " before it, never below the original age, with the minimum years; late: up to the"
            " most months after it, for a worker without an employer by application to the agency",
        ),
        {
            Text("出生年月", "birth"): str(window.birth),
            Text("退休月份", "retirement month"): str(retire),
        },
        Text(
            f"{window.earliest_month} – {window.statutory_month}（法定）– {window.latest_month}；"
            f"{chosen.zh}",
            f"{window.earliest_month} – {window.statutory_month} (statutory) –"
            f" {window.latest_month}; {chosen.en}",
        ),
        also + window.cited,
    )


def _rate_runs(rates: tuple[YearRate, ...]) -> list[dict[str, Any]]:
    """The years' rates, a run of years with one rate once: its first and last year, the
    rate, and for a rate not published yet the year of the published one standing in
    (``stand_in_year``, else None), so that a page can say it in its own language."""
    runs: list[list[YearRate]] = []
    for rate in rates:
        if runs and (runs[-1][-1].rate, runs[-1][-1].provisional) == (rate.rate, rate.provisional):
            runs[-1].append(rate)
        else:
            runs.append([rate])
    return [
        {
            "from_year": run[0].year,
            "to_year": run[-1].year,
            "rate": _decimal(run[0].rate),
            "stand_in_year": (
                (run[0].cited[0].start.year if run[0].cited else None)
                if run[0].provisional
                else None
            ),
        }
        for run in runs
    ]


def _rates_text(rates: tuple[YearRate, ...]) -> Text:
    """The years' rates, a run of years with one rate said once: "2026–2052: 0.015 (the
    latest published, 2025's)", and in Chinese "2026–2052：0.015（沿用最近公布的 2025 年利率）"."""
    zh, en = [], []
    for run in _rate_runs(rates):
        first, last = run["from_year"], run["to_year"]
        years = f"{first}" if first == last else f"{first}–{last}"
        stand_in = run["stand_in_year"]
        zh.append(
            f"{years}：{run['rate']}"
            + ("" if stand_in is None else f"（沿用最近公布的 {stand_in} 年利率）")
        )
        en.append(
            f"{years}: {run['rate']}"
            + ("" if stand_in is None else f" (the latest published, {stand_in}'s)")
        )
    return Text("；".join(zh) or "无（当年退休）", ", ".join(en) or "none (retiring this year)")


def _decimal(value: Fraction) -> str:
    """A rate or ratio as a plain decimal (exact where it has one, else to 6 places)."""
    text = f"{Decimal(value.numerator) / Decimal(value.denominator):.6f}".rstrip("0")
    return text.rstrip(".") or "0"


def _last_ratio(policy: Policy, records: list[CareerMonth]) -> Fraction:
    """The last paid month's base as a share of its region's average wage, within 60%–300%
    (100% where the last month has no base or Suiren has no wage for it: an imported
    career that ended before Suiren's parameters)."""
    last = next((r for r in reversed(records) if r.kind == "paid"), None)
    if last is None or last.base_fen is None:
        return Fraction(1)
    try:
        wage = wage_fen(policy, last.region, Month(last.month), Fraction(0), False)
    except ParameterNotFound:
        return Fraction(1)
    return min(max(Fraction(last.base_fen, wage), RATIO_MIN), RATIO_MAX)


PROVINCE_BASE_FLAGS = (
    "pension.basic.flat_term_uses_province_base",
    "pension.basic.index_term_uses_province_base",
    "pension.transitional.uses_province_base",
)


def _province_base_fen(policy: Policy, day: date, city: str, province: str, base_fen: int) -> int:
    """The province's 计发基数 where a term of the city's formula uses it (河南, 吉林 dual
    bases); otherwise the city's own, which no term then reads."""
    view = policy.at(day, city)
    if city == province or not any(view.value(flag) for flag in PROVINCE_BASE_FLAGS):
        return base_fen
    return int(Fraction(policy.at(day, province).value("pension.base")) * 100)


def paying_city(records: list[Any], province: str, current: str | None) -> str:
    """The region in the paying ``province`` whose parameters price the pension: where the
    relation is held if it is there, else where the last months there were paid (not in a
    temporary account), else the province itself."""
    if current is not None and current[:2] == province[:2]:
        return current
    for r in reversed(records):
        if r.region[:2] == province[:2] and not r.temporary:
            return str(r.region)
    return province


def _average_index(
    policy: Policy,
    region: str,
    records: list[CareerMonth],
    growth: Fraction = Fraction(0),
    ahead_from: Month | None = None,
    wages: dict[int, int | None] | None = None,
    ahead: MonthsAhead | None = None,
) -> tuple[int, Step, list[tuple[str, int]]]:
    """Ī = mean over months of base / the paying region's average wage in force that month
    (a city's own where it has one, else its province's); from ``ahead_from`` on, the wage
    grown by ``growth`` a year from the year it was published. A month imported with its
    index only counts with that index, and so does a deemed month with one (视同缴费指数); a
    deemed month without an index counts for years only. A month whose wage Suiren lacks is
    left out and its (region, year) named: the mean of the others stands for it. The months
    ``ahead`` count like months paid at their bases."""
    counted = 0
    wages = {} if wages is None else wages
    missing: set[tuple[str, int]] = set()
    indices_1e6 = 0  # recorded indices, summed exactly
    bases_by_wage: dict[int, int] = {}  # Σ base per wage: one fraction per distinct wage
    months_ahead = ahead.months.tolist() if ahead is not None else []
    unknown = [
        int(r.month)
        for r in records
        if r.base_fen is not None and r.kind != "deemed" and r.month not in wages
    ] + [m for m in months_ahead if m not in wages]
    if unknown:  # looked up together: once per run of months that share the wage
        wages.update(wages_fen(policy, region, unknown, growth, ahead_from))
    for r in records:
        if r.base_fen is None or r.kind == "deemed":
            if r.index_1e6 is not None:
                indices_1e6 += r.index_1e6
                counted += 1
            continue
        wage = wages[r.month]
        if wage is None:
            missing.add((region, Month(r.month).year))
            continue
        bases_by_wage[wage] = bases_by_wage.get(wage, 0) + int(r.base_fen)
        counted += 1
    for month, base in zip(months_ahead, ahead.base_fen.tolist() if ahead else [], strict=True):
        wage = wages[month]
        if wage is None:
            missing.add((region, month // 12))
            continue
        bases_by_wage[wage] = bases_by_wage.get(wage, 0) + base
        counted += 1
    if not counted:
        lacking = ", ".join(f"{r} {y}" for r, y in sorted(missing)) or "-"
        raise InvalidInput(message("estimate.no-index", lacking=lacking))
    total = Fraction(indices_1e6, 10**6) + sum(
        (Fraction(b, w) for w, b in bases_by_wage.items()), Fraction(0)
    )
    mean = total / counted
    index_1e6 = int(divide_round(mean.numerator * 10**6, mean.denominator))
    step = Step(
        Text("平均缴费指数", "average contribution index"),
        Text(
            "各月（缴费基数 ÷ 领取地当月社平工资）的平均值",
            "mean of (monthly base ÷ paying region's average wage)",
        ),
        {
            Text("月数", "months"): str(counted),
            Text("地区", "region"): region,
            Text("缺社平工资的地区和年份", "without a wage"): (
                ", ".join(f"{r} {y}" for r, y in sorted(missing)) or "-"
            ),
        },
        str(Decimal(index_1e6) / 10**6),
    )
    return index_1e6, step, sorted(missing)


def _account_balance(
    connection: Connection,
    policy: Policy,
    worker_id: str,
    scheme: Scheme,
    today: date,
    rates: list[YearRate] | None = None,
) -> int:
    """The individual accounts' balances with the interest of every completed year, credited
    or not yet (年度计息法, each region's account on its own; transfers carry their history).
    ``rates``: the rate of each year whose pending interest adds to it is appended."""
    rows = connection.execute(
        select(accounts.c.account, accounts.c.balance_fen).where(
            accounts.c.owner_id == worker_id,
            accounts.c.scheme == scheme.value,
            accounts.c.kind == AccountKind.INDIVIDUAL_ACCOUNT.value,
        )
    )
    return sum(
        int(r.balance_fen) + pending_interest(connection, policy, r.account, today.year - 1, rates)
        for r in rows
    )


def _left_behind(connection: Connection, worker_id: str) -> int:
    rows = connection.execute(
        select(transfers.c.kept_fen).where(
            transfers.c.worker_id == worker_id, transfers.c.state == "completed"
        )
    )
    return sum(int(r.kept_fen) for r in rows)


def compare(
    connection: Connection,
    policies: list[Policy],
    worker_id: str,
    today: date,
    retire: Month | None = None,
    assumptions: Assumptions | None = None,
    strict: bool = False,
) -> dict[str, Any]:
    """The estimate under each scenario, side by side, with the differences and their causes;
    ``strict``: the first warning of any scenario refuses the estimate, with its reason."""
    results = [
        estimate(connection, p, worker_id, today, retire, assumptions=assumptions) for p in policies
    ]
    if strict:
        refuse_warnings(results)
    out: dict[str, Any] = {"worker_id": worker_id, "scenarios": results}
    if len(results) == 2:
        a, b = results
        out["difference_fen"] = {
            k: b[k] - a[k] for k in ("basic_pension_fen", "account_pension_fen", "total_fen")
        }
        out["difference_causes"] = difference_causes(a, b)
        said = [cause_text(c) for c in out["difference_causes"]]
        out["causes"] = [t.en for t in said]
        out["causes_zh"] = [t.zh for t in said]
    return out


SCENARIO_NAMES = {
    "current_law": text("scenario.current-law"),
    "money_follows_person": text("scenario.money-follows-person"),
}


def difference_causes(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """What makes scenario ``b``'s estimate differ from ``a``'s, as data (a page says it in
    its language): a paying province that changes, ``a``'s months in temporary accounts, the
    pooled money ``a`` left behind; ``none`` where it is none of these."""
    causes: list[dict[str, Any]] = []
    if a["paying_province"] != b["paying_province"]:
        causes.append(
            {
                "code": "paying-province",
                "before": a["paying_province"],
                "after": b["paying_province"],
            }
        )
    if a["temporary_account_months"]:
        causes.append(
            {
                "code": "temporary-account-months",
                "scenario": a["scenario"],
                "months": a["temporary_account_months"],
            }
        )
    if a["pooled_left_behind_fen"]:
        causes.append({"code": "pooled-left-behind", "amount_fen": a["pooled_left_behind_fen"]})
    return causes or [{"code": "none"}]


def cause_text(cause: dict[str, Any]) -> Text:
    """A cause of ``difference_causes`` in both languages (``domain.messages``)."""
    code = cause["code"]
    if code == "paying-province":
        return text("cause.paying-province", before=cause["before"], after=cause["after"])
    if code == "temporary-account-months":
        name = cause["scenario"]
        scenario = SCENARIO_NAMES.get(name, Text(name, name))
        return text("cause.temporary-account-months", scenario=scenario, months=cause["months"])
    if code == "pooled-left-behind":
        return text("cause.pooled-left-behind", yuan=fen_to_yuan_str(cause["amount_fen"]))
    return text("cause.none")
