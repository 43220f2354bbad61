"""Employee medical insurance of flexible workers and how it moves (职工医保与转移接续).

A flexible worker pays the whole employee-medical rate on a chosen base; a share of the base
goes to the individual account (个人账户), the rest to the pooled fund (统筹基金) of the
region where it was paid. On moving region, 医保办发〔2021〕43号 moves the account balance
only; contribution years are recognised across regions, and a break of up to three months
carries no waiting period (longer breaks: the region's period, at most six months). At
retirement the worker is covered for life once the region's minimum cumulative years (and,
where a region sets them, local actual years) are met (社会保险法 第二十七条).

Under money_follows_person (point 5 of the 2022 CPPCC proposal by 司马红 and 娄宇,
《关于完善灵活就业人员社会保险制度的提案》) the pooled part of a high-income platform
worker's contribution is booked to the hukou region's fund, so it never has to move. Who counts as high-income and how much is held there are parameters.

Every number is a parameter under ``medical.*``; every function takes numpy arrays (a
scalar is an array of one), returns exact int64 fen or months, and keeps the parameters it
used so that ``cited(i)`` can explain case ``i``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from suiren.domain.errors import InvalidInput, ParameterError, require
from suiren.domain.money import divide_round
from suiren.policy import Policy
from suiren.rules.vector import ParameterColumns, day_number

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
MONTHS_PER_YEAR = 12
BASE_FEN_MAX = 10**10  # a monthly base or wage of 100 million yuan: far above any real one
BALANCE_FEN_MAX = 10**15  # an account or entitlement: money.AMOUNT_FEN_MAX
MONTHS_MAX = 100 * MONTHS_PER_YEAR  # a gap or a contribution record of a century
RATIO_DENOMINATOR_MAX = 10**6  # keeps base × numerator far below int64

SPLIT_PARAMETERS = {
    "rate": "medical.flexible.rate",
    "account_rate": "medical.flexible.individual_account_rate",
}
TRANSFER_PARAMETERS = {"pooled_moves": "medical.transfer.pooled_moves"}
WAITING_PARAMETERS = {
    "no_wait_months_max": "medical.gap.no_wait_months_max",
    "waiting_months": "medical.gap.waiting_months",
    "waiting_months_max": "medical.gap.waiting_months_max",
}
LIFETIME_PARAMETERS = {
    "male": "medical.lifetime_years.male",
    "female": "medical.lifetime_years.female",
    "local": "medical.lifetime_local_years",
}
HUKOU_PARAMETERS = {
    "enabled": "medical.hukou_pool.enabled",
    "threshold": "medical.hukou_pool.income_threshold_ratio",
    "share": "medical.hukou_pool.share",
}
SEXES = ("M", "F")


@dataclass(frozen=True)
class Explained:
    """A result that keeps the parameters it used, resolved per (day, region) pair."""

    parameters: ParameterColumns

    def cited(self, index: int = 0) -> list[dict[str, str]]:
        """The parameters case ``index`` used: value, date in force, region and reference."""
        used = self.parameters.for_case(index)
        return [
            v.cite() for name, v in used.items() if v.value is not None and self._uses(name, index)
        ]

    def _uses(self, name: str, index: int) -> bool:
        return True


# helpers -----------------------------------------------------------------------------------


def _days(day: date, count: int) -> IntArray:
    return np.full(count, day_number(day), dtype=np.int64)


def _codes(codes_given: str | npt.NDArray[Any], count: int, what: str) -> npt.NDArray[Any]:
    """Codes (regions, sexes) as strings, one per case; a single code applies to every case."""
    codes = np.asarray(codes_given).astype(str)
    if codes.ndim == 0:
        return np.full(count, str(codes))
    require(len(codes) == count, f"{what}: {len(codes)} codes for {count} cases")
    return codes


def _amounts(values: Any, what: str, maximum: int) -> IntArray:
    """An int64 array of amounts (fen or months) within [0, maximum]; else InvalidInput."""
    given = np.atleast_1d(np.asarray(values))
    if given.dtype.kind not in "iu":
        raise InvalidInput(f"{what} must be whole numbers, got {given.dtype} values")
    array = given.astype(np.int64)
    bad = np.flatnonzero((array < 0) | (array > maximum))
    if len(bad):
        raise InvalidInput(
            f"case {int(bad[0])}: {what} must be between 0 and {maximum}, got {int(array[bad[0]])}"
        )
    return array


def _ratios(columns: ParameterColumns, name: str) -> tuple[IntArray, IntArray]:
    """Numerators and denominators of an exact ratio parameter, per case.

    An optional parameter without a value reads 0; its formula only uses it where it has one.
    """
    values = [Fraction(0 if v is None else v) for v in columns.distinct(name)]
    for value, resolved in zip(values, columns.values[name], strict=True):
        if value < 0 or value.denominator > RATIO_DENOMINATOR_MAX:
            raise ParameterError(
                f"{resolved.path} for region {resolved.region} from {resolved.start}: {value} is"
                f" not a ratio Suiren can apply exactly (non-negative, denominator at most"
                f" {RATIO_DENOMINATOR_MAX}); fix the parameter file"
            )
    numerators = np.array([v.numerator for v in values], dtype=np.int64)
    denominators = np.array([v.denominator for v in values], dtype=np.int64)
    return numerators[columns.pair_of_case], denominators[columns.pair_of_case]


def _share(amount_fen: IntArray, columns: ParameterColumns, name: str) -> IntArray:
    """``amount × ratio`` rounded half up to the fen, in integer arithmetic."""
    numerators, denominators = _ratios(columns, name)
    rounded: IntArray = divide_round(amount_fen * numerators, denominators)
    return rounded


# contribution ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MedicalSplit(Explained):
    """A month's contribution: due = individual account + pooled, exactly."""

    due_fen: IntArray
    individual_account_fen: IntArray
    pooled_fen: IntArray


def split_medical(
    policy: Policy, days: IntArray, regions: npt.NDArray[Any], base_fen: IntArray
) -> MedicalSplit:
    """What a month at ``base_fen`` costs and where it goes (个人账户 / 统筹基金).

    ``days`` are day numbers (``rules.vector.day_number``). The due amount and the account
    share are each rounded once, half up, to the fen; the pooled part is the remainder.
    """
    base = _amounts(base_fen, "the monthly base (fen)", BASE_FEN_MAX)
    g = policy.look_up(days, _codes(regions, len(base), "split_medical"), SPLIT_PARAMETERS)
    due = _share(base, g, "rate")
    account = _share(base, g, "account_rate")
    if bool(np.any(account > due)):
        bad = int(np.flatnonzero(account > due)[0])
        resolved = g.for_case(bad)["account_rate"]
        raise ParameterError(
            f"{resolved.path} for region {resolved.region} from {resolved.start} credits more to"
            " the individual account than the contribution rate collects; fix the parameter file"
        )
    return MedicalSplit(g, due, account, due - account)


# transfer ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MedicalTransfer(Explained):
    """What moves to the new region and what stays: moved + stayed = account + pooled."""

    account_moved_fen: IntArray
    pooled_moved_fen: IntArray
    kept_fen: IntArray
    pooled_moves: BoolArray

    @property
    def moved_fen(self) -> IntArray:
        total: IntArray = self.account_moved_fen + self.pooled_moved_fen
        return total


def transfer_amounts(
    policy: Policy,
    day: date,
    from_region: str | npt.NDArray[Any],
    to_region: str | npt.NDArray[Any],
    account_balance_fen: Any,
    pooled_entitlement_fen: Any,
) -> MedicalTransfer:
    """The money that moves when a worker changes pooling region (转移接续).

    The whole individual-account balance moves; the pooled entitlement moves only where
    ``medical.transfer.pooled_moves`` (read for the region being left) says so, and
    otherwise stays in that region's fund. A move within one region is refused.
    """
    account = _amounts(account_balance_fen, "the account balance (fen)", BALANCE_FEN_MAX)
    pooled = _amounts(pooled_entitlement_fen, "the pooled entitlement (fen)", BALANCE_FEN_MAX)
    require(len(account) == len(pooled), "transfer_amounts: one pooled amount per account")
    origin = _codes(from_region, len(account), "transfer_amounts")
    destination = _codes(to_region, len(account), "transfer_amounts")
    same = np.flatnonzero(origin == destination)
    if len(same):
        raise InvalidInput(
            f"case {int(same[0])}: the worker moves from {origin[same[0]]} to the same region;"
            " a transfer (转移接续) is between two pooling regions"
        )
    for code in np.unique(np.concatenate([origin, destination])).tolist():
        policy.registry.get(code)  # an unknown code is an UnknownRegion naming it
    g = policy.look_up(_days(day, len(account)), origin, TRANSFER_PARAMETERS)
    moves = g.column("pooled_moves", bool, dtype=np.bool_)
    pooled_moved = np.where(moves, pooled, 0)
    return MedicalTransfer(g, account.copy(), pooled_moved, pooled - pooled_moved, moves)


# waiting period ----------------------------------------------------------------------------


@dataclass(frozen=True)
class WaitingPeriod(Explained):
    """Months before benefits start after re-joining (待遇享受等待期)."""

    waiting_months: IntArray
    no_wait_months_max: IntArray


def waiting_months(
    policy: Policy, day: date, region: str | npt.NDArray[Any], gap_months: Any
) -> WaitingPeriod:
    """0 for a break of at most ``no_wait_months_max`` months, else the region's period.

    A break within the no-wait maximum is paid back and benefits are retroactive
    (医保办发〔2021〕43号); a longer one waits the region's period, which the parameters
    cap at ``waiting_months_max`` (six months).
    """
    gap = _amounts(gap_months, "the gap in months", MONTHS_MAX)
    g = policy.look_up(
        _days(day, len(gap)), _codes(region, len(gap), "waiting_months"), WAITING_PARAMETERS
    )
    for resolved, cap in zip(
        g.values["waiting_months"], g.values["waiting_months_max"], strict=True
    ):
        if Fraction(resolved.value) > Fraction(cap.value):
            raise ParameterError(
                f"{resolved.path} for region {resolved.region} from {resolved.start} is"
                f" {resolved.value} months, above the national cap of {cap.value}"
                f" ({cap.reference.render()}); fix the parameter file"
            )
    no_wait_max = g.column("no_wait_months_max", int)
    waiting = np.where(gap <= no_wait_max, 0, g.column("waiting_months", int))
    return WaitingPeriod(g, waiting.astype(np.int64), no_wait_max)


# contribution years ------------------------------------------------------------------------


@dataclass(frozen=True)
class RecognisedYears:
    """Contribution months recognised across regions (缴费年限互认累计), and where paid."""

    total_months: IntArray
    local_months: dict[str, IntArray]

    def months_within(self, region: str, ancestry_of: Callable[[str], tuple[str, ...]]) -> IntArray:
        """Months paid in ``region`` or any region inside it (a province's cities)."""
        within = [m for code, m in self.local_months.items() if region in ancestry_of(code)]
        if not within:
            return np.zeros_like(self.total_months)
        total: IntArray = np.stack(within).sum(axis=0, dtype=np.int64)
        return total


def recognised_years(months_by_region: Mapping[str, Any]) -> RecognisedYears:
    """Add up contribution months paid in each region; each region keeps its own count.

    Employee-medical years are mutually recognised and accumulated across regions (the
    direction of 医保办发〔2021〕43号), so the total is the plain sum; the local
    months stay visible because many regions also require local actual years.
    """
    if not months_by_region:
        raise InvalidInput("no contribution months given; give months per region code")
    local: dict[str, IntArray] = {}
    for code, months in months_by_region.items():
        local[str(code)] = _amounts(months, f"the months paid in {code}", MONTHS_MAX)
    lengths = {len(m) for m in local.values()}
    require(len(lengths) == 1, "recognised_years: every region needs the same number of cases")
    total: IntArray = np.stack(list(local.values())).sum(axis=0, dtype=np.int64)
    return RecognisedYears(total, local)


# lifetime cover at retirement --------------------------------------------------------------


@dataclass(frozen=True)
class LifetimeCover(Explained):
    """Whether the minimum years for cover after retirement are met, and what is missing.

    ``shortfall_months`` is the number of further local months that meets both conditions:
    a month paid locally counts towards the cumulative and the local minimum alike.
    """

    met: BoolArray
    shortfall_months: IntArray
    total_shortfall_months: IntArray
    local_shortfall_months: IntArray
    required_total_months: IntArray
    required_local_months: IntArray
    male: BoolArray

    def _uses(self, name: str, index: int) -> bool:
        return name != ("female" if self.male[index] else "male")


def _required_months(columns: ParameterColumns, name: str) -> IntArray:
    """A years parameter in whole months, rounded up: a minimum is never shortened."""
    per_pair = [Fraction(v) * MONTHS_PER_YEAR for v in columns.distinct(name)]
    months = np.array([-(-m.numerator // m.denominator) for m in per_pair], dtype=np.int64)
    return months[columns.pair_of_case]


def lifetime_cover(
    policy: Policy,
    day: date,
    region: str | npt.NDArray[Any],
    sex: str | npt.NDArray[Any],
    total_months: Any,
    local_months: Any,
) -> LifetimeCover:
    """Check the region's minimum years for medical cover without contributions after
    retirement (退休医保最低缴费年限): cumulative months (deemed years included) and local
    actual months. ``sex`` is ``"M"`` or ``"F"``.
    """
    total = _amounts(total_months, "the cumulative months", MONTHS_MAX)
    local = _amounts(local_months, "the local months", MONTHS_MAX)
    require(len(total) == len(local), "lifetime_cover: one local count per cumulative count")
    above = np.flatnonzero(local > total)
    if len(above):
        raise InvalidInput(
            f"case {int(above[0])}: {int(local[above[0]])} local months exceed the"
            f" {int(total[above[0]])} cumulative months they are part of"
        )
    sexes = _codes(sex, len(total), "lifetime_cover")
    unknown = np.flatnonzero(~np.isin(sexes, SEXES))
    if len(unknown):
        raise InvalidInput(
            f"case {int(unknown[0])}: sex must be 'M' or 'F', got {sexes[unknown[0]]!r}"
        )
    g = policy.look_up(
        _days(day, len(total)), _codes(region, len(total), "lifetime_cover"), LIFETIME_PARAMETERS
    )
    male = sexes == "M"
    required_total = np.where(male, _required_months(g, "male"), _required_months(g, "female"))
    required_local = _required_months(g, "local")
    total_short = np.maximum(required_total - total, 0)
    local_short = np.maximum(required_local - local, 0)
    shortfall = np.maximum(total_short, local_short)
    return LifetimeCover(
        g, shortfall == 0, shortfall, total_short, local_short, required_total, required_local, male
    )


# money_follows_person: the pooled part held at the hukou region ----------------------------


@dataclass(frozen=True)
class HukouPool(Explained):
    """Where the pooled part of a month's contribution is booked: hukou + work = pooled."""

    split: MedicalSplit
    high_income: BoolArray
    held_at_hukou: BoolArray
    hukou_fen: IntArray
    work_fen: IntArray

    def cited(self, index: int = 0) -> list[dict[str, str]]:
        return self.split.cited(index) + super().cited(index)

    def _uses(self, name: str, index: int) -> bool:
        return name == "enabled" or bool(self.enabled[index])

    @property
    def enabled(self) -> BoolArray:
        flags: BoolArray = self.parameters.column("enabled", bool, dtype=np.bool_)
        return flags


def hukou_pool(
    policy: Policy,
    day: date,
    work_region: str | npt.NDArray[Any],
    hukou_region: str | npt.NDArray[Any],
    base_fen: Any,
    average_wage_fen: Any,
) -> HukouPool:
    """Split the pooled part between the hukou region's and the work region's fund.

    The contribution is split at the work region (``split_medical``). Where
    ``medical.hukou_pool.enabled`` (read for the work region), the base is at least
    ``income_threshold_ratio`` × ``average_wage_fen`` (the provincial average monthly wage)
    and the hukou region differs from the work region, ``share`` of the pooled part, rounded
    half up, is booked to the hukou region; everything else stays with the work region. A
    hukou known only to its province (``440000``) is home anywhere in that province.
    """
    base = _amounts(base_fen, "the monthly base (fen)", BASE_FEN_MAX)
    wage = _amounts(average_wage_fen, "the average monthly wage (fen)", BASE_FEN_MAX)
    require(len(base) == len(wage), "hukou_pool: one average wage per base")
    if bool(np.any(wage == 0)):
        raise InvalidInput(f"case {int(np.flatnonzero(wage == 0)[0])}: the average wage is 0")
    work = _codes(work_region, len(base), "hukou_pool")
    hukou = _codes(hukou_region, len(base), "hukou_pool")
    for code in np.unique(hukou).tolist():
        policy.registry.get(code)
    days = _days(day, len(base))
    split = split_medical(policy, days, work, base)
    g = policy.look_up(days, work, HUKOU_PARAMETERS, frozenset({"threshold", "share"}))
    enabled = g.column("enabled", bool, dtype=np.bool_)
    for pair, flag in enumerate(g.distinct("enabled")):
        missing = [n for n in ("threshold", "share") if g.values[n][pair].value is None]
        if flag and missing:
            resolved = g.values[missing[0]][pair]
            raise ParameterError(
                f"medical.hukou_pool is enabled for {resolved.region} on {resolved.start} but"
                f" {resolved.path} has no value then; give it a dated value"
            )
    threshold_num, threshold_den = _ratios(g, "threshold")
    high_income = base * threshold_den >= wage * threshold_num
    # a hukou known only to its province (e.g. 440000) is home anywhere in that province
    province_only = np.char.endswith(hukou.astype(str), "0000")
    home = (hukou == work) | (province_only & (hukou.astype("U2") == work.astype("U2")))
    held = enabled & high_income & ~home
    share_num, share_den = _ratios(g, "share")
    if bool(np.any(share_num > share_den)):
        raise ParameterError(
            "medical.hukou_pool.share is above 1; it is a share of the pooled part"
        )
    to_hukou = np.where(held, divide_round(split.pooled_fen * share_num, share_den), 0)
    return HukouPool(
        g, split, high_income, held, to_hukou.astype(np.int64), split.pooled_fen - to_hukou
    )
