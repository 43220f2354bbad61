"""What moves when a worker's employee pension moves between provinces (转移接续).

``current_law`` (国办发〔2009〕66号 第四条): the individual account in full; from the pooled
fund, 12% of the actual contribution base of every month since 1998 (rounded once, half up);
the rest of the worker's pooled entitlement stays in the old region. A man of 50+ or a woman
of 40+ moving to a province that is not their hukou province keeps the relation where it is
and opens a temporary account (临时账户) in the new one: nothing moves.

``money_follows_person``: the individual account in full and the worker's whole pooled
entitlement paid in the old region, with interest at the crediting rate (记账利率, the same
年度计息法 as individual accounts), paid by the old region's pooled fund; no temporary accounts.

Pure: the caller reads the worker's records from the ledger and passes them in.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from suiren.domain.errors import ParameterNotFound
from suiren.domain.messages import Text
from suiren.domain.money import divide_round, fen_to_yuan_str
from suiren.domain.month import Month
from suiren.policy import Policy
from suiren.policy.interest import compound, year_rate
from suiren.rules.explain import Step
from suiren.rules.parameters import ResolvedValue

IntArray = npt.NDArray[np.int64]
TEMPORARY = Text("临时账户", "temporary account")
NO_TEMPORARY = Text("无临时账户", "no temporary account")
ENTITLEMENT = Text("统筹基金权益", "entitlement")


@dataclass(frozen=True)
class TransferInputs:
    day: date
    from_region: str
    to_region: str
    sex: str
    age_months: int
    hukou_province: str
    account_fen: int  # individual account balance in the old region
    entitlement_fen: int  # pooled entitlement balance in the old region
    months: IntArray  # Month ordinals whose record is held in the old region (not reversed)
    bases_fen: IntArray  # the base of each month
    credit_months: IntArray  # legal months of the amounts credited to the entitlement there
    credits_fen: IntArray  # those amounts (contributions and transfers in; reversals negative)
    # of each, the part that predates its legal year (a transfer in: what was paid before
    # that year, with its interest); it earns the whole year's rate (None: no such part)
    credits_prior_fen: IntArray | None = None
    # the average wages that priced months recorded as an index only (缴费基数 = 指数 × 社平)
    priced_on: tuple[ResolvedValue, ...] = ()


@dataclass(frozen=True, kw_only=True)
class TransferQuote:
    temporary: bool
    account_fen: int  # moves
    pooled_fen: int  # moves
    kept_fen: int  # stays in the old region's pooled fund
    interest_fen: int  # paid by the old region's pooled fund on the entitlement
    steps: list[Step] = field(default_factory=list)

    @property
    def total_fen(self) -> int:
        return self.account_fen + self.pooled_fen

    @property
    def provisional(self) -> tuple[ResolvedValue, ...]:
        """The yearly figures the amounts rest on that stand in for ones not published yet
        (``ResolvedValue.provisional``), as the steps cite them."""
        return tuple(p for step in self.steps for p in step.parameters if p.provisional)

    def to_json(self) -> dict[str, object]:
        return {
            "temporary_account": self.temporary,
            "account_fen": self.account_fen,
            "pooled_fen": self.pooled_fen,
            "kept_fen": self.kept_fen,
            "interest_on_entitlement_fen": self.interest_fen,
            "total_fen": self.total_fen,
            "explanation": [s.to_json() for s in self.steps],
        }


def province(code: str) -> str:
    return code[:2] + "0000"


def temporary_account(
    policy: Policy,
    day: date,
    rules_region: str,
    to_region: str,
    sex: str,
    age_months: int,
    hukou_province: str,
    relation_region: str | None,
) -> tuple[bool, Step]:
    """Whether a worker starting to pay in ``to_region`` pays into a temporary account (临时账户).

    Yes for a man of 50+ or a woman of 40+ whose hukou province is not ``to_region``'s and
    whose insurance relation is not held there either (returning to it continues it);
    never where ``transfer.temporary_accounts`` is off. ``rules_region`` is the region whose
    parameters apply (the one being left, or the new one on a first enrolment).
    """
    view = policy.at(day, rules_region)
    try:
        temporary_on = view.get("transfer.temporary_accounts")
    except ParameterNotFound:  # before the rule existed (2010-01-01) there were none
        return False, Step(
            TEMPORARY,
            Text(
                "国办发〔2009〕66号施行前没有临时账户",
                "none before the State Council General Office's document No. 66 of 2009 took"
                " effect",
            ),
            {Text("日期", "day"): day.isoformat()},
            NO_TEMPORARY,
        )
    age_min = view.get(f"transfer.temporary_account_age_{'male' if sex == 'M' else 'female'}")
    home = province(to_region) in {
        province(hukou_province),
        province(relation_region) if relation_region else "",
    }
    temporary = bool(temporary_on.value) and not home and age_months >= int(age_min.value) * 12
    step = Step(
        TEMPORARY,
        Text(
            "年龄达到规定，且新参保省既不是户籍所在省，也不是参保关系所在省",
            "age ≥ the threshold and the new province is neither the hukou province nor where"
            " the insurance relation is held",
        ),
        {
            Text("年龄", "age"): Text(
                f"{age_months // 12}岁{age_months % 12}个月",
                f"{age_months // 12} years {age_months % 12} months",
            ),
            Text("户籍地", "hukou"): hukou_province,
            Text("参保关系所在地", "relation"): relation_region or "-",
            Text("转入地", "to"): to_region,
        },
        Text("开设临时账户：不转移", "a temporary account: nothing moves")
        if temporary
        else NO_TEMPORARY,
        (temporary_on, age_min),
    )
    return temporary, step


def quote_transfer(policy: Policy, inputs: TransferInputs, claim: bool = False) -> TransferQuote:
    """What moves. ``claim``: gathering the relation to the paying region at retirement
    (66号 第六条), where no temporary account is opened."""
    view = policy.at(inputs.day, inputs.from_region)
    if not claim:
        temporary, step = temporary_account(
            policy,
            inputs.day,
            inputs.from_region,
            inputs.to_region,
            inputs.sex,
            inputs.age_months,
            inputs.hukou_province,
            inputs.from_region,
        )
        if temporary:
            return TransferQuote(
                temporary=True,
                account_fen=0,
                pooled_fen=0,
                kept_fen=0,
                interest_fen=0,
                steps=[step],
            )
    whole = view.get("transfer.pooled_entitlement_moves")
    if whole.value:
        return _whole_entitlement(
            policy,
            inputs,
            Text("统筹基金（钱随人走）", "pooled entitlement (money follows the person)"),
            Text(
                "原参保地的全部统筹基金权益，按记账利率计息后转移",
                "the whole pooled entitlement paid in the old region, with interest at the"
                " crediting rate",
            ),
            (whole,),
        )
    share = view.get("transfer.pooled_share_of_base")
    since = view.get("transfer.pooled_since_month")
    counted = inputs.months >= Month.parse(str(since.value)).ordinal
    base_total = int(inputs.bases_fen[counted].sum())
    rate = Fraction(share.value)
    pooled = int(divide_round(base_total * rate.numerator, rate.denominator))
    step = Step(
        Text(
            "统筹基金（国办发〔2009〕66号）",
            "pooled fund (State Council General Office, 2009 No. 66)",
        ),
        Text(
            "转移比例 × 自起算月以来各月实际缴费基数之和；其余留在原参保地",
            "share × Σ actual monthly bases since the first counted month; the rest stays",
        ),
        {
            Text("缴费基数之和", "Σ bases"): fen_to_yuan_str(base_total),
            Text("月数", "months"): str(int(counted.sum())),
            ENTITLEMENT: fen_to_yuan_str(inputs.entitlement_fen),
        },
        fen_to_yuan_str(pooled),
        (share, since, whole, *(p for p in inputs.priced_on if p.provisional)),
    )
    kept = inputs.entitlement_fen - pooled
    return TransferQuote(
        temporary=False,
        account_fen=inputs.account_fen,
        pooled_fen=pooled,
        kept_fen=kept,
        interest_fen=0,
        steps=[_account_step(inputs), step],
    )


def quote_gathering(policy: Policy, inputs: TransferInputs) -> TransferQuote:
    """A temporary account gathered to the paying region at retirement (归集): all its
    contributions with interest (全部缴费本息) — the individual account and the whole pooled
    part paid into it, with interest at the crediting rate."""
    return _whole_entitlement(
        policy,
        inputs,
        Text("临时账户归集", "temporary account gathered"),
        Text(
            "缴入临时账户的全部缴费本息（按记账利率计息）",
            "all contributions paid into the temporary account, with interest at the crediting"
            " rate",
        ),
        (),
    )


def _whole_entitlement(
    policy: Policy,
    inputs: TransferInputs,
    name: Text,
    formula: Text,
    cited: tuple[ResolvedValue, ...],
) -> TransferQuote:
    """The individual account and the whole pooled entitlement with its interest move."""
    interest = entitlement_interest(policy, inputs)
    pooled = inputs.entitlement_fen + interest
    step = Step(
        name,
        formula,
        {
            ENTITLEMENT: fen_to_yuan_str(inputs.entitlement_fen),
            Text("利息", "interest"): fen_to_yuan_str(interest),
        },
        fen_to_yuan_str(pooled),
        cited + provisional_rates(policy, inputs),
    )
    return TransferQuote(
        temporary=False,
        account_fen=inputs.account_fen,
        pooled_fen=pooled,
        kept_fen=0,
        interest_fen=interest,
        steps=[_account_step(inputs), step],
    )


def _account_step(inputs: TransferInputs) -> Step:
    return Step(
        Text("个人账户", "individual account"),
        Text("个人账户储存额全部转移", "the whole balance moves"),
        {Text("余额", "balance"): fen_to_yuan_str(inputs.account_fen)},
        fen_to_yuan_str(inputs.account_fen),
    )


def provisional_rates(policy: Policy, inputs: TransferInputs) -> tuple[ResolvedValue, ...]:
    """The crediting rates ``entitlement_interest`` compounds with that stand in for a year
    whose own is not published yet (the latest earlier one, ``YearRate.provisional``)."""
    if len(inputs.credit_months) == 0:
        return ()
    first = int((inputs.credit_months // 12).min())
    rates = (year_rate(policy, year, inputs.from_region) for year in range(first, inputs.day.year))
    return tuple(replace(r.cited[0], provisional=True) for r in rates if r.provisional)


def entitlement_interest(policy: Policy, inputs: TransferInputs) -> int:
    """Interest on the entitlement as it was credited in the old region (contributions and
    transfers in, each from its year), by the 年度计息法 (``policy.interest``), for the years
    completed before the move. The part of a transfer in that predates its year earns that
    year's whole rate, so a move in the middle of a year loses none of it."""
    if len(inputs.credit_months) == 0:
        return 0
    years = inputs.credit_months // 12
    prior = (
        np.zeros_like(inputs.credits_fen)
        if inputs.credits_prior_fen is None
        else inputs.credits_prior_fen
    )
    credited: dict[int, int] = {}
    carried: dict[int, int] = {}
    for year, amount, part in zip(
        years.tolist(), inputs.credits_fen.tolist(), prior.tolist(), strict=True
    ):
        credited[year] = credited.get(year, 0) + amount
        carried[year] = carried.get(year, 0) + part
    return compound(
        policy, int(years.min()), inputs.day.year - 1, credited, carried, inputs.from_region
    )
