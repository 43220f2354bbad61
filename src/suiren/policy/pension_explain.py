"""Step-by-step explanation of one case of a ``PensionResult``.

The numbers come from the result's own intermediate arrays, so an explanation can never
disagree with the figure it explains; the parameters are cited with their references.
Every step says its name and formula in Chinese and English (``rules.explain.Step``), the
two halves written side by side here from the same numbers.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from suiren.domain.messages import Text
from suiren.domain.money import fen_to_yuan_str
from suiren.policy.pension import YEARS_SCALE, PensionCases, PensionResult
from suiren.rules.explain import Step, Words, said
from suiren.rules.parameters import ResolvedValue

# a component's rounding mode (pension.rounding_mode) in Chinese; English says its name
MODE_ZH = {"half_up": "四舍五入", "up": "进位", "down": "舍去", "up_from_fen": "见分进角"}
GIVEN = Text("给定值", "given")
EXACT = Text("精确值", "exact")
YEARS_N = Text("累计缴费年限（N）", "contribution years (N)")
EARLY_YEARS = Text("1992年10月至1998年6月实际缴费年限（N实98）", "early actual years (N_early)")


def _dec(numerator: int, denominator: int, places: int) -> str:
    value = Decimal(numerator) / Decimal(denominator)
    return str(value.quantize(Decimal(1).scaleb(-places)))


def _years(years_300: int) -> Words:
    """Years to four places, with the years and months where they are whole months."""
    shown = _dec(years_300, YEARS_SCALE, 4)
    months_total = Fraction(years_300 * 12, YEARS_SCALE)
    if months_total.denominator != 1:
        return shown
    years, months = divmod(int(months_total), 12)
    return Text(f"{shown} ({years}年{months}个月)", f"{shown} ({years} years {months} months)")


def age_text(months: int) -> Text:
    """An age in years and months: 60岁0个月, 60 years 0 months."""
    return Text(f"{months // 12}岁{months % 12}个月", f"{months // 12} years {months % 12} months")


def _unit_name(unit: int, mode: str) -> Text:
    """The unit a component is rounded to, and how, the same amount in each language:
    角（0.1 元，四舍五入）, 0.1 yuan (jiao), half_up."""
    zh = "角（0.1 元，" if unit == 10 else "分（0.01 元，" if unit == 1 else f"{unit}分（"
    en = "0.1 yuan (jiao)" if unit == 10 else "fen (0.01 yuan)" if unit == 1 else f"{unit} fen"
    return Text(f"{zh}{MODE_ZH.get(mode, mode)}）", f"{en}, {mode}")


def explain_case(cases: PensionCases, result: PensionResult, i: int) -> list[Step]:
    p = result.parameters.for_case(i)
    index = result.index(i)
    decimals = int(p["index_decimals"].value)
    shown = max(4, decimals)  # as held: four places, or the region's five or six
    years = int(result.years[i])
    unit_name = _unit_name(int(result.unit_fen[i]), str(p["rounding_mode"].value))
    steps = [
        Step(
            Text("平均缴费工资指数", "average contribution index (Ī)"),
            Text(
                f"Ī 按本地指数精度保留{decimals}位小数，四舍五入",
                f"Ī rounded half up to {decimals} decimals, the region's index precision",
            ),
            {GIVEN: _dec(int(cases.index_1e6[i]), 10**6, 6)},
            _dec(index.numerator, index.denominator, shown),
            (p["index_decimals"],),
        ),
        Step(
            Text("累计缴费年限", "contribution years (N, incl. deemed)"),
            Text(
                "N（含视同缴费年限）按本地规定的年限单位和舍入方式舍入",
                "N (deemed years included) rounded to the region's unit, by its rounding mode",
            ),
            {GIVEN: _years(int(cases.years[i]))},
            _years(years),
            (p["years_unit"], p["years_mode"]),
        ),
        _basic_step(cases, result, i, p, index, shown, unit_name),
        _account_step(cases, result, i, p, unit_name),
    ]
    deemed = int(result.deemed_years[i])
    early = -1 if result.early_years is None else int(result.early_years[i])
    new = -1 if result.transitional_new_fen is None else int(result.transitional_new_fen[i])
    if deemed > 0 or early > 0:
        steps.append(_transitional_step(cases, result, i, p, deemed, early, unit_name, shown))
    elif early == 0 and p["early_rate"].value is not None:
        steps.append(
            Step(
                Text("过渡性养老金 G实", "transitional pension for early actual years"),
                Text(
                    "1992年10月至1998年6月无实际缴费年限（early_actual_years 为 0）：G实 = 0",
                    "no actual contribution years from 1992-10 to 1998-06 (early_actual_years"
                    " 0): G_early = 0",
                ),
                {EARLY_YEARS: _years(0)},
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
    added = sum(_fen_of(said(step.result, "en")) for step in additions)
    extra = [_extra_step(cases, result, i, p, index, shown, unit_name, added)] if rates else []
    steps += extra + additions
    parts = [step.name for step in extra + additions]
    steps.append(
        Step(
            Text("月养老金合计", "monthly pension"),
            Text(
                "基础养老金 + 个人账户养老金 + 过渡性养老金"
                + ("".join(f" + {n.zh}" for n in parts) + "（另加）" if parts else ""),
                "basic + account + transitional"
                + ("".join(f" + {n.en}" for n in parts) + " (extra)" if parts else ""),
            ),
            {},
            fen_to_yuan_str(int(result.total_fen[i])),
        )
    )
    return steps


def _basic_step(
    cases: PensionCases,
    result: PensionResult,
    i: int,
    p: dict[str, ResolvedValue],
    index: Fraction,
    shown: int,
    unit_name: Text,
) -> Step:
    """基础养老金: (B_flat × a + B_index × Ī) ÷ 2 × the accrual of the years."""
    years = int(result.years[i])
    low = bool(result.low_index[i])
    a_decimals = p["low_index_decimals"]
    threshold = p["low_index_threshold"].cite()["value"]
    a_text = (
        Text(
            f"a = Ī / {threshold}（Ī 低于该值"
            + ("" if a_decimals.value is None else f"，a 保留{a_decimals.cite()['value']}位小数")
            + "）",
            f"a = Ī / {threshold} (Ī below the threshold"
            + ("" if a_decimals.value is None else f", a to {a_decimals.cite()['value']} decimals")
            + ")",
        )
        if low
        else Text("a = 1", "a = 1")
    )
    full, leftover = divmod(years, YEARS_SCALE)
    province, local = Text("省级", "province"), Text("本地", "local")
    inputs: dict[Words, Words] = {
        "B_local": fen_to_yuan_str(int(cases.base_fen[i])),
        "B_province": fen_to_yuan_str(int(cases.province_base_fen[i])),
        Text("基础项所用基数", "flat term base"): province if p["flat_province"].value else local,
        Text("指数项所用基数", "index term base"): province if p["index_province"].value else local,
        "Ī": _dec(index.numerator, index.denominator, shown),
        Text("整年数", "full years"): str(full),
        Text("零头月数", "leftover months"): _dec(leftover * 12, YEARS_SCALE, 2),
    }
    index_base = int(cases.province_base_fen[i] if p["index_province"].value else cases.base_fen[i])
    printed = cases.indexed_wage_fen is not None and int(cases.indexed_wage_fen[i]) >= 0
    wage_unit = p["wage_unit"].value
    rounds_wage = wage_unit is not None and not printed
    if rounds_wage:
        wage = rounded_wage(index_base * index, int(wage_unit))
        name = Text(
            f"W = B_index × Ī，四舍五入到{wage_unit}分",
            f"W = B_index × Ī, rounded half up to {wage_unit} fen",
        )
        inputs[name] = fen_to_yuan_str(wage)
    return Step(
        Text("基础养老金", "basic pension"),
        Text(
            "(B_flat × a + B_index × Ī) ÷ 2 × (整年数 × r_year + 零头月数 × r_month)；"
            f"{a_text.zh}"
            + ("；B_index × Ī（W）先舍入，与本地核定表一致" if rounds_wage else "")
            + f"；舍入到{unit_name.zh}",
            "(B_flat × a + B_index × Ī) ÷ 2 × (full years × r_year + leftover months × r_month);"
            f" {a_text.en}"
            + ("; B_index × Ī (W) rounded first, as the region's tables do" if rounds_wage else "")
            + f"; rounded to the {unit_name.en}",
        ),
        inputs,
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


def _account_step(
    cases: PensionCases,
    result: PensionResult,
    i: int,
    p: dict[str, ResolvedValue],
    unit_name: Text,
) -> Step:
    """个人账户养老金: the balance ÷ the divisor (计发月数), given or by the retirement age."""
    divisor = _dec(int(result.divisor_tenths[i]), 10, 1)
    divisor_source = (
        (p["divisor_table"], p["divisor_rule"], p["divisor_decimals"])
        if int(cases.divisor_tenths[i]) < 0
        else ()
    )
    inputs: dict[Words, Words] = {
        Text("个人账户储存额", "account balance"): fen_to_yuan_str(int(cases.account_fen[i])),
        Text("计发月数", "divisor"): divisor,
    }
    if int(cases.age_months[i]) >= 0 and int(cases.divisor_tenths[i]) < 0:
        inputs[Text("退休年龄", "retirement age")] = age_text(int(cases.age_months[i]))
    return Step(
        Text("个人账户养老金", "individual-account pension"),
        Text(
            f"个人账户储存额 ÷ 计发月数；舍入到{unit_name.zh}",
            f"account balance ÷ divisor (the months it is paid over); rounded to the"
            f" {unit_name.en}",
        ),
        inputs,
        fen_to_yuan_str(int(result.account_pension_fen[i])),
        (*divisor_source, p["rounding_unit_fen"], p["rounding_mode"]),
    )


def _top_up_step(p: dict[str, ResolvedValue]) -> bool:
    top = p["top_up_unit"].value
    return top is not None and int(top) > 1


def _status_steps(
    cases: PensionCases,
    result: PensionResult,
    i: int,
    p: dict[str, ResolvedValue],
    shown: int,
    unit_name: Text,
) -> list[Step]:
    """The add-ons of a personal status the case gives (issue 10 §2): 四川's 增发 W × r × N +
    定额 and the 独生子女 add-on, each with its inputs and parameters; a one-child parent in
    a region that pays none is said so."""
    steps: list[Step] = []
    rate = -1 if cases.increase_rate_1e6 is None else int(cases.increase_rate_1e6[i])
    fixed = -1 if cases.increase_fixed_fen is None else int(cases.increase_fixed_fen[i])
    if (rate >= 0 or fixed >= 0) and result.increase_fen is not None:
        steps.append(_increase_step(cases, result, i, p, shown, unit_name, rate, fixed))
    child = -1 if cases.only_child is None else int(cases.only_child[i])
    if child >= 0 and result.only_child_fen is not None:
        steps.append(_only_child_step(result, i, p, unit_name, child))
    return steps


def _increase_step(
    cases: PensionCases,
    result: PensionResult,
    i: int,
    p: dict[str, ResolvedValue],
    shown: int,
    unit_name: Text,
    rate: int,
    fixed: int,
) -> Step:
    """四川's 月增发养老金 W × r × N + 定额, by the case's personal status."""
    assert result.increase_fen is not None
    index = result.index(i)
    years = int(result.years[i])
    printed = cases.indexed_wage_fen is not None and int(cases.indexed_wage_fen[i]) >= 0
    index_base = int(cases.province_base_fen[i] if p["index_province"].value else cases.base_fen[i])
    wage = (
        Fraction(int(cases.indexed_wage_fen[i]))  # type: ignore[index]
        if printed
        else Fraction(index_base) * index
    )
    if not printed and p["wage_unit"].value is not None:
        wage = Fraction(rounded_wage(wage, int(p["wage_unit"].value)))
    r = Fraction(max(rate, 0), 10**6)
    exact = wage * r * Fraction(years, YEARS_SCALE)
    wage_name: Words = Text("W（核定表所列）", "W (printed)") if printed else "W (B × Ī)"
    return Step(
        Text("月增发养老金", "status increase (Sichuan)"),
        Text(
            "W × r × N + 定额：W 为指数化月平均缴费工资（核定表所列，或 B × Ī），r 为案例的增发养老金"
            "合计比例，定额按核定表所列（按个人身份：increase_rate、increase_fixed_yuan），N 为舍入后"
            f"的累计缴费年限；W × r × N 舍入到{unit_name.zh}——月增发养老金 = 指数化月平均缴费工资 ×"
            " 增发比例 × 累计缴费年限 + 定额",
            "W × r × N + fixed amount: W the indexed wage (as printed, or B × Ī), r the case's"
            " total increase rate and the fixed amount as the table prints them (by personal"
            " status: increase_rate, increase_fixed_yuan), N the contribution years as rounded;"
            f" W × r × N rounded to the {unit_name.en}",
        ),
        {
            wage_name: _dec(wage.numerator, wage.denominator * 100, max(2, shown)),
            "r (increase_rate)": Text("未给出", "not given") if rate < 0 else _dec(rate, 10**6, 6),
            YEARS_N: _years(years),
            "W × r × N": _dec(exact.numerator, exact.denominator * 100, 6),
            Text("定额（increase_fixed_yuan）", "fixed amount (increase_fixed_yuan)"): (
                fen_to_yuan_str(max(fixed, 0))
            ),
        },
        fen_to_yuan_str(int(result.increase_fen[i])),
        (p["increase"], p["rounding_unit_fen"], p["rounding_mode"]),
    )


def _only_child_step(
    result: PensionResult, i: int, p: dict[str, ResolvedValue], unit_name: Text, child: int
) -> Step:
    """独生子女父母加发, or why there is none."""
    assert result.only_child_fen is not None
    name = Text("独生子女父母加发", "one-child parent add-on")
    oc_rate = p["only_child_rate"].value
    given: dict[Words, Words] = {"only_child_parent": "true" if child == 1 else "false"}
    if oc_rate is None or child == 0:
        return Step(
            name,
            Text(
                "本地此日无独生子女父母加发（无 pension.extra.only_child_rate）",
                "the region pays none on this date (no pension.extra.only_child_rate)",
            )
            if oc_rate is None
            else Text(
                "非独生子女父母（only_child_parent 为 false）：无加发",
                "not a one-child parent (only_child_parent false): none",
            ),
            given,
            "0.00",
            () if oc_rate is None else (p["only_child_rate"],),
        )
    base = p["only_child_base"].value
    pensions = (
        int(result.basic_fen[i])
        + int(result.account_pension_fen[i])
        + int(result.transitional_fen[i])
    )
    of = Fraction(base) * 100 if base is not None else Fraction(pensions)
    exact = of * Fraction(oc_rate)
    percent = Fraction(oc_rate) * 100
    return Step(
        name,
        Text(
            (
                f"本地规定金额的{percent}%"
                if base is not None
                else f"（基础养老金 + 个人账户养老金 + 过渡性养老金）的{percent}%"
            )
            + f"，舍入到{unit_name.zh}，案例为独生子女父母时加发（only_child_parent，按核定表所列）"
            "——独生子女父母加发（重庆独子待遇、贵州加发、辽宁与云南独生子女补贴）",
            (
                f"{percent}% of the region's set amount"
                if base is not None
                else f"{percent}% of basic + account + transitional"
            )
            + f", rounded to the {unit_name.en}, where the case is a one-child parent"
            " (only_child_parent, as the table prints the add-on)",
        ),
        {
            **given,
            Text("加发所依金额", "amount it applies to"): fen_to_yuan_str(int(of)),
            EXACT: _dec(exact.numerator, exact.denominator * 100, 6),
        },
        fen_to_yuan_str(int(result.only_child_fen[i])),
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
    unit_name: Text,
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
                Text("过渡调节金", "transition adjustment (Zhejiang)"),
                Text(
                    "F + Ī × N × m（Ī 为平均缴费工资指数，N 为含视同的累计缴费年限，与基础养老金"
                    f"相同）；舍入到{unit_name.zh}——过渡调节金 = 定额 + 平均缴费工资指数 ×"
                    " 累计缴费年限 × 每年金额",
                    "F + Ī × N × m (Ī the average contribution index and N the contribution"
                    " years, deemed included, as for the basic pension); rounded to the"
                    f" {unit_name.en}",
                ),
                {
                    "F": fen_to_yuan_str(int(fixed * 100)),
                    "Ī": _dec(index.numerator, index.denominator, shown),
                    YEARS_N: _years(int(result.years[i])),
                    Text("m（每指数年金额）", "m (per index-year)"): fen_to_yuan_str(
                        int(Fraction(per_year) * 100)
                    ),
                    EXACT: _dec(exact.numerator, exact.denominator * 100, 6),
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
                Text("养老金补贴", "fixed pension subsidy"),
                Text(
                    "三项之外每月定额补贴（浙江 基本养老金补贴；深圳、广东 过渡性养老金所含定额加发）",
                    "a fixed amount per month beside the three components (Zhejiang's basic"
                    " pension subsidy; the fixed addition in Shenzhen's and Guangdong's"
                    " transitional pension)",
                ),
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
                Text("缴费年限津贴", "allowance per contribution year (Guangdong)"),
                Text(
                    "每满一年金额 × 累计缴费年限整年数（含视同，不满一年的部分不计）",
                    "amount × whole contribution years (deemed included, cut to the whole year)",
                ),
                {
                    Text("每满一年金额", "per whole year"): fen_to_yuan_str(
                        int(Fraction(per_whole) * 100)
                    ),
                    Text("整年数", "whole years"): str(whole),
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
                Text("见分进角补足", "top-up to the next 0.1 yuan"),
                Text(
                    f"以上各项合计进到{int(top)}分的下一个整数倍（见分进角），补足差额",
                    f"the sum of every part above raised to the next multiple of {int(top)} fen;"
                    " the difference is paid",
                ),
                {
                    Text("补足前合计", "sum before"): fen_to_yuan_str(total - top_up),
                    Text("进位后", "raised to"): fen_to_yuan_str(total),
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
    unit_name: Text,
    added: int = 0,
) -> Step:
    """长缴增发 (吉林): the basic pension's base × the rate of each bracket of years above
    its threshold, with the years counted in each bracket (``added``: the region's other
    parts beside the three components, in the result's extra too)."""
    years = int(result.years[i])
    brackets = sorted((Fraction(k), Fraction(v)) for k, v in dict(p["extra_rates"].value).items())
    inputs: dict[Words, Words] = {
        "B_local": fen_to_yuan_str(int(cases.base_fen[i])),
        "B_province": fen_to_yuan_str(int(cases.province_base_fen[i])),
        "Ī": _dec(index.numerator, index.denominator, shown),
        YEARS_N: _years(years),
    }
    for k, (low, rate) in enumerate(brackets):
        high = brackets[k + 1][0] if k + 1 < len(brackets) else None
        start = int(low * YEARS_SCALE)
        counted = max(years - start, 0)
        if high is not None:
            counted = min(counted, int(high * YEARS_SCALE) - start)
        span = f"{low}–{high}" if high is not None else f"{low}+"
        percent = f"{Decimal(rate.numerator) / Decimal(rate.denominator):%}"
        name = Text(f"{span}年部分（{percent}）", f"years {span} at {percent}")
        inputs[name] = _dec(counted, YEARS_SCALE, 4)
    lows = [str(low) for low, _ in brackets]
    return Step(
        Text("长缴增发（吉林分段增发）", "long-service extra (Jilin, by brackets)"),
        Text(
            "基础养老金的基数 (B_flat × a + B_index × Ī) ÷ 2 × Σ 各段比例 × 该段年限：累计缴费年限"
            f"（含视同）超过{'、'.join(lows)}年的部分分段增发，逐段计算，每段舍入到{unit_name.zh}"
            "后相加",
            "the basic pension's base (B_flat × a + B_index × Ī) ÷ 2 × Σ rate × years in each"
            " bracket of the contribution years (deemed included) above"
            f" {', '.join(lows)}; each bracket rounded to the {unit_name.en}, then added",
        ),
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
        Text("过渡性养老金新老办法对比", "transitional pension, new method against the original"),
        Text(
            "新办法 T（上一步）高于原办法 O（给定）时：O + (T − O) × s，差额 T − O 先进到"
            f"{unit}分的下一个整数倍，发放额截至分后再进到{unit}分的整数倍（见分进角）；"
            "新办法不高于原办法的按原办法 O",
            "O + (T − O) × s where T (the new method, above) exceeds O (the original method, as"
            f" given), T − O raised to the next multiple of {unit} fen, the share cut to the fen and"
            " raised to that multiple again; O where T is not above it",
        ),
        {
            Text("T（新办法）", "T (new method)"): fen_to_yuan_str(new),
            Text("O（原办法，给定）", "O (original method, given)"): fen_to_yuan_str(old),
            Text("T − O，进到整数倍", "T − O, raised to the unit"): fen_to_yuan_str(excess),
            Text("s（超出部分发放比例）", "s (share of the excess paid)"): str(
                Decimal(share.numerator) / share.denominator
            ),
            Text("(T − O) × s 精确值", "(T − O) × s, exact"): (
                _dec(exact.numerator, exact.denominator * 100, 4)
                if new > old
                else Text("0.0000（T 不高于 O）", "0.0000 (T not above O)")
            ),
            Text("发放的超出部分", "paid share"): fen_to_yuan_str(paid - old),
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


def _transitional_formula(
    t_index: Fraction,
    floor: Fraction | None,
    inputs: dict[Words, Words],
    unit_name: Text,
) -> Text:
    """B_t × (w_flat + w_index × Ī_t) × deemed years × k, with the region's floor of Ī_t
    where it has one (``inputs`` gains the Ī_t used where the floor raises it)."""
    if floor is None:
        return Text(
            f"B_t × (w_flat + w_index × Ī_t) × 视同缴费年限 × k；舍入到{unit_name.zh}",
            f"B_t × (w_flat + w_index × Ī_t) × deemed years × k; rounded to the {unit_name.en}",
        )
    f = str(Decimal(floor.numerator) / Decimal(floor.denominator))
    if t_index < floor:
        inputs[Text("所用 Ī_t", "Ī_t used")] = Text(f"{f}（下限）", f"{f} (the floor)")
        return Text(
            f"B_t × (w_flat + w_index × {f}) × 视同缴费年限 × k：过渡性养老金指数低于{f}的按{f}计；"
            f"舍入到{unit_name.zh}",
            f"B_t × (w_flat + w_index × {f}) × deemed years × k: Ī_t below the region's floor"
            f" {f} is raised to it; rounded to the {unit_name.en}",
        )
    return Text(
        f"B_t × (w_flat + w_index × Ī_t) × 视同缴费年限 × k（Ī_t 不低于本地下限{f}，按实际计）；"
        f"舍入到{unit_name.zh}",
        f"B_t × (w_flat + w_index × Ī_t) × deemed years × k (Ī_t not below the region's floor"
        f" {f}: used as it is); rounded to the {unit_name.en}",
    )


def _transitional_step(
    cases: PensionCases,
    result: PensionResult,
    i: int,
    p: dict[str, ResolvedValue],
    deemed: int,
    early: int,
    unit_name: Text,
    shown: int,
) -> Step:
    """The transitional pension: the deemed-years part and, where the region pays one (北京
    G实), the part for actual years of the early period, added exactly and rounded once."""
    base_fen = int(
        cases.province_base_fen[i] if p["transitional_province"].value else cases.base_fen[i]
    )
    k = result.coefficient[i]
    t_index = result.transitional_index(i)
    inputs: dict[Words, Words] = {
        "B": fen_to_yuan_str(base_fen),
        "Ī_t": _dec(t_index.numerator, t_index.denominator, shown),
        Text("视同缴费年限", "deemed years"): _years(deemed),
        "k": str(Decimal(k.numerator) / Decimal(k.denominator)) if k else "0",
    }
    floor_value = p["transitional_index_floor"].value
    floor = None if floor_value is None else Fraction(floor_value)
    formula = _transitional_formula(t_index, floor, inputs, unit_name)
    floored = floor is not None and t_index < floor
    if floor is not None and floored:
        t_index = floor  # the G实 part below keeps its own index
    wage = _printed_wage(cases, i, p, base_fen, floored)
    wage_unit = p["wage_unit"].value
    if wage is None and wage_unit is not None:
        name = Text(
            f"B_t × Ī_t，四舍五入到{wage_unit}分", f"B_t × Ī_t, rounded half up to {wage_unit} fen"
        )
        inputs[name] = fen_to_yuan_str(
            rounded_wage(base_fen * t_index, int(wage_unit))  # Ī_t as used (the floor where below)
        )
        formula = Text(
            formula.zh.replace("；舍入到", "；B_t × Ī_t 先舍入，与本地核定表一致；舍入到"),
            formula.en.replace(
                "; rounded to the",
                "; B_t × Ī_t rounded first, as the region's tables do; rounded to the",
            ),
        )
    if wage is not None:
        inputs[Text("W（核定表所列指数化月平均缴费工资）", "W (printed indexed wage)")] = (
            fen_to_yuan_str(wage)
        )
        formula = Text(
            "(B_t × w_flat + W × w_index) × 视同缴费年限 × k：B_t × Ī_t 取核定表所列指数化月平均缴费"
            "工资 W，与基础养老金相同（Ī_t 即同一基数上的 Ī；过渡性养老金按核定表所列指数化月平均缴费"
            f"工资计算）；舍入到{unit_name.zh}",
            "(B_t × w_flat + W × w_index) × deemed years × k: B_t × Ī_t is the printed indexed"
            " wage W, as in the basic pension (Ī_t is Ī on the same base); rounded to the"
            f" {unit_name.en}",
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
    title = Text("过渡性养老金", "transitional pension")
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
                EARLY_YEARS: _years(early),
                Text("Ī_e（Z实）", "Ī_e (Z_early)"): _dec(index.numerator, index.denominator, shown),
                "r_e": str(Decimal(rate.numerator) / Decimal(rate.denominator)),
                Text("G同（视同部分，精确值）", "G_deemed (deemed part, exact)"): _dec(deemed_part.numerator, deemed_part.denominator * 100, 4),
                Text("G实（早期部分，精确值）", "G_early (early part, exact)"): _dec(early_part.numerator, early_part.denominator * 100, 4),
            }
        )  # fmt: skip
        formula = Text(
            "G同 + G实 = B_t × (w_flat + w_index × Ī_t) × 视同缴费年限 × k + B_t × Ī_e ×"
            " 早期实际缴费年限 × r_e，视同缴费年限部分与1992年10月至1998年6月实际缴费年限部分"
            f"精确相加后舍入到{unit_name.zh}",
            "G_deemed + G_early = B_t × (w_flat + w_index × Ī_t) × deemed years × k + B_t × Ī_e"
            " × early actual years × r_e (the actual years from 1992-10 to 1998-06), added"
            f" exactly, then rounded to the {unit_name.en}",
        )
        title = Text("过渡性养老金 G同 + G实", "transitional pension (deemed + early actual years)")
        names.append("early_rate")
    computed = int(result.transitional_fen[i])
    if result.transitional_new_fen is not None and int(result.transitional_new_fen[i]) >= 0:
        computed = int(result.transitional_new_fen[i])  # compared with the original next
        title = Text(
            title.zh.replace("过渡性养老金", "过渡性养老金（新办法）", 1), f"{title.en}, new method"
        )
    return Step(
        title,
        formula,
        inputs,
        fen_to_yuan_str(computed),
        tuple(p[name] for name in names if p[name].value is not None),
    )
