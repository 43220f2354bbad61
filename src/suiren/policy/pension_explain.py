"""Step-by-step explanation of one case of a ``PensionResult``.

The numbers come from the result's own intermediate arrays, so an explanation can never
disagree with the figure it explains; the parameters are cited with their references.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from suiren.domain.money import fen_to_yuan_str
from suiren.policy.pension import YEARS_SCALE, PensionCases, PensionResult
from suiren.rules.explain import Step
from suiren.rules.parameters import ResolvedValue


def _dec(numerator: int, denominator: int, places: int) -> str:
    value = Decimal(numerator) / Decimal(denominator)
    return str(value.quantize(Decimal(1).scaleb(-places)))


def _years(years_300: int) -> str:
    months_total = Fraction(years_300 * 12, YEARS_SCALE)
    years, months = divmod(months_total, 12)
    whole = f"{int(years)}年{months}个月" if months.denominator == 1 else ""
    return (
        f"{_dec(years_300, YEARS_SCALE, 4)} ({whole})" if whole else _dec(years_300, YEARS_SCALE, 4)
    )


def explain_case(cases: PensionCases, result: PensionResult, i: int) -> list[Step]:
    p = result.parameters.for_case(i)
    index = result.index(i)
    decimals = int(p["index_decimals"].value)
    shown = max(4, decimals)  # as held: four places, or the region's five or six
    years = int(result.years[i])
    unit = int(result.unit_fen[i])
    unit_name = "角 (0.1 yuan)" if unit == 10 else "分 (0.01 yuan)" if unit == 1 else f"{unit} fen"
    unit_name += f", {p['rounding_mode'].value}"
    base = fen_to_yuan_str(int(cases.base_fen[i]))
    province_base = fen_to_yuan_str(int(cases.province_base_fen[i]))
    steps = [
        Step(
            "平均缴费工资指数 / average contribution index (Ī)",
            f"Ī rounded half up to {decimals} decimals, the region's index precision"
            f" (指数保留{decimals}位小数，四舍五入)",
            {"given": _dec(int(cases.index_1e6[i]), 10**6, 6)},
            _dec(index.numerator, index.denominator, shown),
            (p["index_decimals"],),
        ),
        Step(
            "累计缴费年限 / contribution years (N, incl. deemed)",
            "N rounded to the region's unit",
            {"given": _years(int(cases.years[i]))},
            _years(years),
            (p["years_unit"], p["years_mode"]),
        ),
    ]
    low = bool(result.low_index[i])
    a_decimals = p["low_index_decimals"]
    a_text = (
        f"a = Ī / {p['low_index_threshold'].cite()['value']} (Ī below the threshold"
        + ("" if a_decimals.value is None else f", a to {a_decimals.cite()['value']} decimals")
        + ")"
        if low
        else "a = 1"
    )
    full, leftover = divmod(years, YEARS_SCALE)
    basic_inputs = {
        "B_local": base,
        "B_province": province_base,
        "flat term base": "province" if p["flat_province"].value else "local",
        "index term base": "province" if p["index_province"].value else "local",
        "Ī": _dec(index.numerator, index.denominator, shown),
        "full years": str(full),
        "leftover months": _dec(leftover * 12, YEARS_SCALE, 2),
    }
    index_base = int(cases.province_base_fen[i] if p["index_province"].value else cases.base_fen[i])
    printed = cases.indexed_wage_fen is not None and int(cases.indexed_wage_fen[i]) >= 0
    wage_unit = p["wage_unit"].value
    rounds_wage = wage_unit is not None and not printed
    if rounds_wage:
        wage = rounded_wage(index_base * index, int(wage_unit))
        basic_inputs[f"W = B_index × Ī, rounded half up to {wage_unit} fen"] = fen_to_yuan_str(wage)
    steps.append(
        Step(
            "基础养老金 / basic pension",
            "(B_flat × a + B_index × Ī) ÷ 2 × (full years × r_year + leftover months × r_month);"
            f" {a_text}"
            + ("; B_index × Ī (W) rounded first, as the region's tables do" if rounds_wage else "")
            + f"; rounded to the {unit_name}",
            basic_inputs,
            fen_to_yuan_str(int(result.basic_fen[i])),
            (
                p["rate_year"],
                p["rate_month"],
                p["low_index_threshold"],
                *((a_decimals,) if low and a_decimals.value is not None else ()),
                p["flat_province"],
                p["index_province"],
                *((p["wage_unit"],) if rounds_wage else ()),
                p["rounding_unit_fen"],
                p["rounding_mode"],
            ),
        )
    )
    divisor = _dec(int(result.divisor_tenths[i]), 10, 1)
    divisor_source = (
        (p["divisor_table"], p["divisor_rule"], p["divisor_decimals"])
        if int(cases.divisor_tenths[i]) < 0
        else ()
    )
    inputs = {"account balance": fen_to_yuan_str(int(cases.account_fen[i])), "divisor": divisor}
    if int(cases.age_months[i]) >= 0 and int(cases.divisor_tenths[i]) < 0:
        age = int(cases.age_months[i])
        inputs["retirement age"] = f"{age // 12}岁{age % 12}个月"
    steps.append(
        Step(
            "个人账户养老金 / individual-account pension",
            f"account balance ÷ 计发月数; rounded to the {unit_name}",
            inputs,
            fen_to_yuan_str(int(result.account_pension_fen[i])),
            (*divisor_source, p["rounding_unit_fen"], p["rounding_mode"]),
        )
    )
    deemed = int(result.deemed_years[i])
    early = -1 if result.early_years is None else int(result.early_years[i])
    new = -1 if result.transitional_new_fen is None else int(result.transitional_new_fen[i])
    if deemed > 0 or early > 0:
        steps.append(_transitional_step(cases, result, i, p, deemed, early, unit_name, shown))
    elif early == 0 and p["early_rate"].value is not None:
        steps.append(
            Step(
                "过渡性养老金 G实 / transitional pension for early actual years",
                "no actual contribution years in the early period (early_actual_years 0):"
                " G实 = 0 — 1992年10月至1998年6月无实际缴费年限",
                {"early actual years (N实98)": _years(0)},
                "0.00",
                (p["early_rate"],),
            )
        )
    if new >= 0:
        steps.append(_phase_in_step(cases, result, i, p, new))
    rates = p["extra_rates"].value
    additions = _addition_steps(result, i, p, index, shown, unit_name)
    at = len(additions) - (1 if _top_up_step(p) else 0)
    additions[at:at] = _status_steps(cases, result, i, p, shown, unit_name)
    added = sum(_fen_of(step.result) for step in additions)
    if rates:
        steps.append(_extra_step(cases, result, i, p, index, shown, unit_name, added))
    steps.extend(additions)
    parts = (" + 长缴增发" if rates else "") + "".join(
        f" + {step.name.partition(' /')[0]}" for step in additions
    )
    steps.append(
        Step(
            "月养老金合计 / monthly pension",
            "basic + account + transitional" + (f"{parts} (extra)" if parts else ""),
            {},
            fen_to_yuan_str(int(result.total_fen[i])),
        )
    )
    return steps


def _top_up_step(p: dict[str, ResolvedValue]) -> bool:
    top = p["top_up_unit"].value
    return top is not None and int(top) > 1


def _status_steps(
    cases: PensionCases,
    result: PensionResult,
    i: int,
    p: dict[str, ResolvedValue],
    shown: int,
    unit_name: str,
) -> list[Step]:
    """The add-ons of a personal status the case gives (issue 10 §2): 四川's 增发 W × r × N +
    定额 and the 独生子女 add-on, each with its inputs and parameters; a one-child parent in
    a region that pays none is said so."""
    steps: list[Step] = []
    rate = -1 if cases.increase_rate_1e6 is None else int(cases.increase_rate_1e6[i])
    fixed = -1 if cases.increase_fixed_fen is None else int(cases.increase_fixed_fen[i])
    if (rate >= 0 or fixed >= 0) and result.increase_fen is not None:
        index = result.index(i)
        years = int(result.years[i])
        printed = cases.indexed_wage_fen is not None and int(cases.indexed_wage_fen[i]) >= 0
        index_base = int(
            cases.province_base_fen[i] if p["index_province"].value else cases.base_fen[i]
        )
        wage = (
            Fraction(int(cases.indexed_wage_fen[i]))  # type: ignore[index]
            if printed
            else Fraction(index_base) * index
        )
        if not printed and p["wage_unit"].value is not None:
            wage = Fraction(rounded_wage(wage, int(p["wage_unit"].value)))
        r = Fraction(max(rate, 0), 10**6)
        exact = wage * r * Fraction(years, YEARS_SCALE)
        steps.append(
            Step(
                "月增发养老金 / status increase (四川 增发)",
                "W × r × N + 定额: W the indexed wage (as printed, or B × Ī), r the case's"
                " 增发养老金合计比例 and 定额 as the table prints them (by personal status:"
                " increase_rate, increase_fixed_yuan), N the contribution years as rounded;"
                f" W × r × N rounded to the {unit_name} — 月增发养老金 = 指数化月平均缴费工资 ×"
                " 增发比例 × 累计缴费年限 + 定额",
                {
                    "W" + (" (printed)" if printed else " (B × Ī)"): _dec(
                        wage.numerator, wage.denominator * 100, max(2, shown)
                    ),
                    "r (increase_rate)": "not given" if rate < 0 else _dec(rate, 10**6, 6),
                    "contribution years (N)": _years(years),
                    "W × r × N": _dec(exact.numerator, exact.denominator * 100, 6),
                    "定额 (increase_fixed_yuan)": fen_to_yuan_str(max(fixed, 0)),
                },
                fen_to_yuan_str(int(result.increase_fen[i])),
                (p["increase"], p["rounding_unit_fen"], p["rounding_mode"]),
            )
        )
    child = -1 if cases.only_child is None else int(cases.only_child[i])
    if child >= 0 and result.only_child_fen is not None:
        oc_rate = p["only_child_rate"].value
        if oc_rate is None or child == 0:
            steps.append(
                Step(
                    "独生子女父母加发 / one-child parent add-on",
                    "the region pays none on this date (no pension.extra.only_child_rate) —"
                    " 本地无独生子女父母加发"
                    if oc_rate is None
                    else "not a one-child parent (only_child_parent false): none — 非独生子女父母",
                    {"only_child_parent": "true" if child == 1 else "false"},
                    "0.00",
                    () if oc_rate is None else (p["only_child_rate"],),
                )
            )
            return steps
        base = p["only_child_base"].value
        pensions = (
            int(result.basic_fen[i])
            + int(result.account_pension_fen[i])
            + int(result.transitional_fen[i])
        )
        of = Fraction(base) * 100 if base is not None else Fraction(pensions)
        exact = of * Fraction(oc_rate)
        amount = int(result.only_child_fen[i])
        steps.append(
            Step(
                "独生子女父母加发 / one-child parent add-on",
                (
                    f"{Fraction(oc_rate) * 100}% of the region's set amount"
                    if base is not None
                    else f"{Fraction(oc_rate) * 100}% of basic + account + transitional"
                )
                + f", rounded to the {unit_name}, where the case is a one-child parent"
                " (only_child_parent, as the table prints the add-on) — 独生子女父母加发"
                "（重庆独子待遇、贵州加发、辽宁与云南独生子女补贴）",
                {
                    "only_child_parent": "true" if child == 1 else "false",
                    "amount it applies to": fen_to_yuan_str(int(of)),
                    "exact": _dec(exact.numerator, exact.denominator * 100, 6),
                },
                fen_to_yuan_str(amount),
                tuple(
                    v
                    for v in (
                        p["only_child_rate"],
                        p["only_child_base"] if base is not None else None,
                        p["rounding_unit_fen"],
                        p["rounding_mode"],
                    )
                    if v is not None
                ),
            )
        )
    return steps


def _fen_of(yuan: str) -> int:
    return int((Decimal(yuan) * 100).to_integral_value())


def _rounded_fen(value: Fraction, unit: int, mode: str) -> int:
    """``value`` fen (≥ 0) rounded to a multiple of ``unit`` fen by the component mode."""
    units = value / unit
    if mode == "up_from_fen":  # 见分进角: cut to the fen, then any fen up to the unit
        units = Fraction(int(value), unit)
        whole = -(-units.numerator // units.denominator)
    elif mode == "up":
        whole = -(-units.numerator // units.denominator)
    elif mode == "down":
        whole = units.numerator // units.denominator
    else:  # half up
        whole = int(units + Fraction(1, 2))
    return int(whole) * unit


def _addition_steps(
    result: PensionResult,
    i: int,
    p: dict[str, ResolvedValue],
    index: Fraction,
    shown: int,
    unit_name: str,
) -> list[Step]:
    """浙江's parts beside the three components: the 过渡调节金 F + Ī × N × m (rounded once),
    the fixed 养老金补贴, 广东's 缴费年限津贴 and the 见分进角补足 of the total (the case's own, from the result)."""
    steps: list[Step] = []
    per_year = p["adjustment_per_index_year"].value
    if per_year is not None:
        fixed = Fraction(p["adjustment_fixed"].value)
        years = Fraction(int(result.years[i]), YEARS_SCALE)
        exact = (fixed + index * years * Fraction(per_year)) * 100
        unit = int(result.unit_fen[i])
        steps.append(
            Step(
                "过渡调节金 / transition adjustment (浙江)",
                "F + Ī × N × m (Ī the average contribution index and N the contribution years,"
                f" deemed included, as for the basic pension); rounded to the {unit_name} —"
                " 过渡调节金 = 定额 + 平均缴费工资指数 × 累计缴费年限 × 每年金额",
                {
                    "F": fen_to_yuan_str(int(fixed * 100)),
                    "Ī": _dec(index.numerator, index.denominator, shown),
                    "contribution years (N)": _years(int(result.years[i])),
                    "m (per index-year)": fen_to_yuan_str(int(Fraction(per_year) * 100)),
                    "exact": _dec(exact.numerator, exact.denominator * 100, 6),
                },
                fen_to_yuan_str(_rounded_fen(exact, unit, str(p["rounding_mode"].value))),
                (
                    p["adjustment_fixed"],
                    p["adjustment_per_index_year"],
                    p["rounding_unit_fen"],
                    p["rounding_mode"],
                ),
            )
        )
    subsidy = p["subsidy"].value
    if subsidy:
        steps.append(
            Step(
                "养老金补贴 / fixed pension subsidy",
                "a fixed amount per month beside the three components — 定额补贴"
                "（浙江 基本养老金补贴；深圳、广东 过渡性养老金所含100元加发）",
                {},
                fen_to_yuan_str(int(Fraction(subsidy) * 100)),
                (p["subsidy"],),
            )
        )
    per_whole = p["per_whole_year"].value
    if per_whole:
        whole = int(result.years[i]) // YEARS_SCALE
        steps.append(
            Step(
                "缴费年限津贴 / allowance per contribution year (广东)",
                "amount × whole contribution years (deemed included, cut to the whole year)"
                " — 缴费年限津贴 = 每满一年金额 × 累计缴费年限整年数",
                {
                    "per whole year": fen_to_yuan_str(int(Fraction(per_whole) * 100)),
                    "whole years": str(whole),
                },
                fen_to_yuan_str(int(Fraction(per_whole) * 100) * whole),
                (p["per_whole_year"],),
            )
        )
    top = p["top_up_unit"].value
    if top is not None and int(top) > 1:
        top_up = int(result.top_up[i])
        total = int(result.total_fen[i])
        steps.append(
            Step(
                "见分进角补足 / top-up to the 角",
                f"the sum of every part above raised to the next multiple of {int(top)} fen;"
                " the difference is paid — 合计见分进角，补足差额",
                {
                    "sum before": fen_to_yuan_str(total - top_up),
                    "raised to": fen_to_yuan_str(total),
                },
                fen_to_yuan_str(top_up),
                (p["top_up_unit"],),
            )
        )
    return steps


def _extra_step(
    cases: PensionCases,
    result: PensionResult,
    i: int,
    p: dict[str, ResolvedValue],
    index: Fraction,
    shown: int,
    unit_name: str,
    added: int = 0,
) -> Step:
    """长缴增发 (吉林): the basic pension's base × the rate of each bracket of years above
    its threshold, with the years counted in each bracket (``added``: the region's other
    parts beside the three components, in the result's extra too)."""
    years = int(result.years[i])
    brackets = sorted((Fraction(k), Fraction(v)) for k, v in dict(p["extra_rates"].value).items())
    inputs: dict[str, str] = {
        "B_local": fen_to_yuan_str(int(cases.base_fen[i])),
        "B_province": fen_to_yuan_str(int(cases.province_base_fen[i])),
        "Ī": _dec(index.numerator, index.denominator, shown),
        "contribution years (N)": _years(years),
    }
    for k, (low, rate) in enumerate(brackets):
        high = brackets[k + 1][0] if k + 1 < len(brackets) else None
        start = int(low * YEARS_SCALE)
        counted = max(years - start, 0)
        if high is not None:
            counted = min(counted, int(high * YEARS_SCALE) - start)
        span = f"{low}–{high}" if high is not None else f"{low}+"
        inputs[f"years {span} at {Decimal(rate.numerator) / Decimal(rate.denominator):%}"] = _dec(
            counted, YEARS_SCALE, 4
        )
    return Step(
        "长缴增发 / long-service extra (吉林分段增发)",
        "the basic pension's base (B_flat × a + B_index × Ī) ÷ 2 × Σ rate × years in each"
        " bracket of the contribution years (deemed included) above 20, 25 and 30; each"
        f" bracket rounded to the {unit_name}, then added — 缴费年限超过20年的部分分段增发，逐段计算",
        inputs,
        fen_to_yuan_str(int(result.extra[i]) - added),
        (
            p["extra_rates"],
            p["flat_province"],
            p["index_province"],
            p["rounding_unit_fen"],
            p["rounding_mode"],
        ),
    )


def _phase_in_step(
    cases: PensionCases, result: PensionResult, i: int, p: dict[str, ResolvedValue], new: int
) -> Step:
    """The comparison with the original method (江苏, 深圳 原办法, given by the case): the original
    amount plus the year's share of the new method's excess, raised to the unit."""
    assert cases.old_transitional_fen is not None
    old = int(cases.old_transitional_fen[i])
    share = Fraction(p["phase_in_rate"].value)
    unit = int(p["phase_in_unit"].value)
    paid = int(result.transitional_fen[i])
    excess = -(-(new - old) // unit) * unit if new > old else 0
    exact = excess * share
    return Step(
        "过渡性养老金新老办法对比 / transitional pension, new method against the original",
        "O + (T − O) × s where T (the new method, above) exceeds O (the original method, as"
        f" given), T − O raised to the next multiple of {unit} fen, the share cut to the fen and"
        " raised to that multiple again; O where T is not above it — 原办法 + (新办法 − 原办法)"
        " × 发放比例（差额与发放额各见分进角），新办法不高于原办法的按原办法",
        {
            "T (new method)": fen_to_yuan_str(new),
            "O (original method, given)": fen_to_yuan_str(old),
            "T − O, raised to the unit": fen_to_yuan_str(excess),
            "s (share of the excess paid)": str(Decimal(share.numerator) / share.denominator),
            "(T − O) × s, exact": _dec(exact.numerator, exact.denominator * 100, 4)
            if new > old
            else "0.0000 (T not above O)",
            "paid share": fen_to_yuan_str(paid - old),
        },
        fen_to_yuan_str(paid),
        (p["phase_in_rate"], p["phase_in_unit"]),
    )


def rounded_wage(wage_fen: Fraction, unit: int) -> int:
    """The indexed wage (exact, in fen) rounded half up to the region's unit in fen
    (``pension.indexed_wage_unit_fen``), as the formula uses it."""
    return int((wage_fen / unit + Fraction(1, 2)) // 1) * unit


def _printed_wage(
    cases: PensionCases, i: int, p: dict[str, ResolvedValue], base_fen: int, floored: bool
) -> int | None:
    """The printed indexed wage W where the transitional pension uses it in place of B_t × Ī_t
    (given, Ī_t is Ī as given, B_t is the index term's base and no floor applies), else None;
    the same condition as the kernel's."""
    if cases.indexed_wage_fen is None or int(cases.indexed_wage_fen[i]) < 0 or floored:
        return None
    index_base = cases.province_base_fen[i] if p["index_province"].value else cases.base_fen[i]
    same_index = int(cases.transitional_index_1e6[i]) == int(cases.index_1e6[i])
    if not same_index or int(index_base) != base_fen:
        return None
    return int(cases.indexed_wage_fen[i])


def _transitional_step(
    cases: PensionCases,
    result: PensionResult,
    i: int,
    p: dict[str, ResolvedValue],
    deemed: int,
    early: int,
    unit_name: str,
    shown: int,
) -> Step:
    """The transitional pension: the deemed-years part and, where the region pays one (北京
    G实), the part for actual years of the early period, added exactly and rounded once."""
    base_fen = int(
        cases.province_base_fen[i] if p["transitional_province"].value else cases.base_fen[i]
    )
    k = result.coefficient[i]
    t_index = result.transitional_index(i)
    inputs = {
        "B": fen_to_yuan_str(base_fen),
        "Ī_t": _dec(t_index.numerator, t_index.denominator, shown),
        "deemed years": _years(deemed),
        "k": str(Decimal(k.numerator) / Decimal(k.denominator)) if k else "0",
    }
    formula = f"B_t × (w_flat + w_index × Ī_t) × deemed years × k; rounded to the {unit_name}"
    floor_value = p["transitional_index_floor"].value
    if floor_value is not None:
        floor = Fraction(floor_value)
        shown_floor = str(Decimal(floor.numerator) / Decimal(floor.denominator))
        if t_index < floor:
            inputs["Ī_t used"] = f"{shown_floor} (the floor)"
            formula = (
                f"B_t × (w_flat + w_index × {shown_floor}) × deemed years × k: Ī_t below the"
                f" region's floor {shown_floor} is raised to it (过渡性养老金指数低于"
                f"{shown_floor}的按{shown_floor}计); rounded to the {unit_name}"
            )
            t_index = floor  # the G实 part below keeps its own index
        else:
            formula = (
                f"B_t × (w_flat + w_index × Ī_t) × deemed years × k (Ī_t not below the"
                f" region's floor {shown_floor}: used as it is); rounded to the {unit_name}"
            )
    floored = floor_value is not None and result.transitional_index(i) < Fraction(floor_value)
    wage = _printed_wage(cases, i, p, base_fen, floored)
    wage_unit = p["wage_unit"].value
    if wage is None and wage_unit is not None:
        inputs[f"B_t × Ī_t, rounded half up to {wage_unit} fen"] = fen_to_yuan_str(
            rounded_wage(base_fen * t_index, int(wage_unit))  # Ī_t as used (the floor where below)
        )
        formula = formula.replace(
            "; rounded to the",
            "; B_t × Ī_t rounded first, as the region's tables do; rounded to the",
        )
    if wage is not None:
        inputs["W (printed 指数化月平均缴费工资)"] = fen_to_yuan_str(wage)
        formula = (
            "(B_t × w_flat + W × w_index) × deemed years × k: B_t × Ī_t is the printed indexed"
            " wage W, as in the basic pension (Ī_t is Ī on the same base; 过渡性养老金按核定表所列"
            f"指数化月平均缴费工资计算); rounded to the {unit_name}"
        )
    names = [
        "transitional_province",
        "transitional_flat_weight",
        "transitional_index_weight",
        "transitional_coefficient",
        "transitional_index_floor",
        *(("wage_unit",) if wage is None and wage_unit is not None else ()),
        "long_service_coefficient",
        "long_service_years",
    ]
    title = "过渡性养老金 / transitional pension"
    if early > 0:
        rate = Fraction(p["early_rate"].value)
        index = result.early_index(i) or Fraction(0)
        w_flat = Fraction(p["transitional_flat_weight"].value)
        w_index = Fraction(p["transitional_index_weight"].value)
        years = Fraction(deemed, YEARS_SCALE)
        deemed_part = base_fen * (w_flat + w_index * t_index) * years * (k or 0)
        early_part = base_fen * index * Fraction(early, YEARS_SCALE) * rate
        inputs.update(
            {
                "early actual years (N实98)": _years(early),
                "Ī_e (Z实)": _dec(index.numerator, index.denominator, shown),
                "r_e": str(Decimal(rate.numerator) / Decimal(rate.denominator)),
                "G同 (deemed part, exact)": _dec(deemed_part.numerator, deemed_part.denominator * 100, 4),
                "G实 (early part, exact)": _dec(early_part.numerator, early_part.denominator * 100, 4),
            }
        )  # fmt: skip
        formula = (
            "G同 + G实 = B_t × (w_flat + w_index × Ī_t) × deemed years × k"
            " + B_t × Ī_e × early actual years × r_e, added exactly, then rounded to the"
            f" {unit_name} (视同缴费年限部分与1992年10月至1998年6月实际缴费年限部分相加后舍入)"
        )
        title = "过渡性养老金 G同 + G实 / transitional pension (deemed + early actual years)"
        names.append("early_rate")
    computed = int(result.transitional_fen[i])
    if result.transitional_new_fen is not None and int(result.transitional_new_fen[i]) >= 0:
        computed = int(result.transitional_new_fen[i])  # compared with the original next
        title = title.replace("过渡性养老金", "过渡性养老金（新办法）", 1)
    return Step(
        title,
        formula,
        inputs,
        fen_to_yuan_str(computed),
        tuple(p[name] for name in names if p[name].value is not None),
    )
