"""Where the pension is paid (待遇领取地).

``current_law`` (国办发〔2009〕66号 第六条), decided at province level: the hukou province if
the insurance relation is there; otherwise the current province if the worker has 10+
years there; otherwise the last province with 10+ years; otherwise the hukou province.
Months in a temporary account never count for the place they were paid in (they are
gathered to the paying place), whether or not the worker also paid there otherwise; deemed
months count for the province where the work was done (人社部规〔2016〕5号 第一条).

``money_follows_person``: the rule is a parameter; ``residence`` pays where the worker is
insured at retirement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from suiren.domain.errors import ParameterError
from suiren.domain.messages import Text
from suiren.policy import Policy
from suiren.rules.parameters import ResolvedValue


@dataclass(frozen=True, slots=True)
class Stint:
    """Months paid in one province, in career order; ``temporary`` for a temporary account."""

    province: str
    months: int
    temporary: bool = False


@dataclass(frozen=True, slots=True)
class PayingRegion:
    province: str
    reason: Text  # why, in zh-CN and English
    cited: tuple[ResolvedValue, ...]


def paying_region(
    policy: Policy, day: date, stints: list[Stint], hukou_province: str, current_province: str
) -> PayingRegion:
    """The province that pays the pension of a worker retiring on ``day``."""
    view = policy.national(day)
    rule = view.get("pension.paying_region.rule")
    years_min = view.get("pension.paying_region.years_min")
    cited = (rule, years_min)
    if rule.value == "residence":
        return PayingRegion(
            current_province,
            Text("退休时参保所在省", "the province where the worker is insured at retirement"),
            cited,
        )
    if rule.value != "hukou_ten_years":
        raise ParameterError(f"unknown pension.paying_region.rule {rule.value!r}")
    months_min = int(Fraction(years_min.value) * 12)
    if current_province == hukou_province:
        return PayingRegion(
            hukou_province,
            Text("参保关系在户籍所在省", "the insurance relation is in the hukou province"),
            cited,
        )
    totals: dict[str, int] = {}  # months that count for a place: never a temporary account's
    for stint in stints:  # (国办发〔2009〕66号 第六条、第十二条; 天津: 不包括临时账户缴费年限)
        counted = 0 if stint.temporary else stint.months
        totals[stint.province] = totals.get(stint.province, 0) + counted

    def qualifies(province: str) -> bool:
        return totals.get(province, 0) >= months_min

    if qualifies(current_province):
        return PayingRegion(
            current_province,
            Text(
                f"在现参保省缴费满{years_min.value}年",
                f"{years_min.value}+ years in the current province",
            ),
            cited,
        )
    for stint in reversed(stints):
        if stint.province != current_province and qualifies(stint.province):
            return PayingRegion(
                stint.province,
                Text(
                    f"最后一个缴费满{years_min.value}年的省（不计临时账户）",
                    f"the last province with {years_min.value}+ years (not temporary)",
                ),
                cited,
            )
    return PayingRegion(
        hukou_province,
        Text(
            f"没有缴费满{years_min.value}年的省：归集到户籍所在省",
            f"no province has {years_min.value}+ years: gathered to the hukou province",
        ),
        cited,
    )
