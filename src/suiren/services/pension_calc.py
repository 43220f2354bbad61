"""Pension calculator (养老金测算): records in, components and explanations out.

``parse_cases`` checks a list of JSON objects field by field, column-wise so that a
million cases parse in seconds, and builds ``PensionCases``; any problem raises
``CaseError`` naming the case index, the field and the reason. ``calculate`` runs the one
vectorized formula and shapes the output.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np

from suiren.domain.errors import InvalidInput, SuirenError
from suiren.domain.json_numbers import INTEGER_DIGITS_MAX, IntegerTooLong, json_integer
from suiren.domain.messages import Text, quoted
from suiren.domain.messages import text as message
from suiren.domain.month import Month
from suiren.domain.region import default_registry
from suiren.policy import Policy
from suiren.policy.pension import (
    INDEX_SCALE_INPUT,
    MONTH_IN_YEARS_SCALE,
    YEARS_SCALE,
    PensionCases,
    PensionResult,
    compute_pensions,
    rules_first_day,
    table_divisors,
)
from suiren.policy.pension_explain import age_text, explain_case
from suiren.policy.retirement import (
    category_index,
    flexible_window,
    minimum_years,
    retirement_rule,
    statutory_retirement,
)
from suiren.rules.explain import Step, Words
from suiren.rules.vector import EPOCH, day_number

Notes = dict[int, dict[str, Words]]  # case -> field -> how a printed input was read

CASES_MAX = 5_000_000
INCREASE_RATE_SCALE = 10**6  # a 增发 rate to six decimals
DECIMAL_EXPONENT_MAX = 30
BASE_YUAN_MAX = 50_000
INDEX_MAX = 5
YEARS_MAX = 75
ACCOUNT_YUAN_MAX = 100_000_000
TEXT_CHARS_MAX = 64  # a case's id, sex or category; a longer string is not one
BIRTH_YEAR_MIN = 1900
RETIREMENT_AGE_YEARS_MIN = 40  # below every early-retirement age of the rules
RETIREMENT_AGE_YEARS_MAX = 80  # above the statutory age plus the longest deferral
RETIREMENT_YEARS_AHEAD_MAX = 80  # someone born on the rules' day retires before then
# full matches of ASCII digits: a full-width ８０００ or "20\n" is not a number here
_DECIMAL_RE = re.compile(r"\+?([0-9]+)(?:\.([0-9]*))?", re.ASCII)
_MONTH_RE = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])", re.ASCII)


class CaseError(SuirenError):
    code = "invalid-case"

    def __init__(self, index: int, field: str, reason: str | Text) -> None:
        super().__init__(message("case.refused", index=index, field=repr(field), reason=reason))
        self.index = index
        self.field = field


def _scaled(value: Any, scale: int) -> int | None:
    """``value × scale`` if exact and non-negative, else None. Refuses floats."""
    try:
        return _scaled_exact(value, scale)
    except (ArithmeticError, ValueError):  # decimal.Overflow, absurd exponents or lengths
        return None


def _scaled_exact(value: Any, scale: int) -> int | None:
    if isinstance(value, bool | float):
        return None
    if isinstance(value, int):
        return value * scale if value >= 0 else None
    if isinstance(value, Decimal):
        if not value.is_finite() or (value != 0 and abs(value.adjusted()) > DECIMAL_EXPONENT_MAX):
            return None  # no real amount is that large or small; the default context would round it
        scaled = value * scale
        return int(scaled) if scaled == scaled.to_integral_value() and scaled >= 0 else None
    if isinstance(value, str):
        match = _DECIMAL_RE.fullmatch(value) if len(value) <= TEXT_CHARS_MAX else None
        if not match:
            return None
        whole, frac = match.group(1), match.group(2) or ""
        numerator = int(whole + frac) * scale
        denominator = 10 ** len(frac)
        return numerator // denominator if numerator % denominator == 0 else None
    return None


def refused_value(reason: Text, value: Any) -> Text:
    """A field's rule, and the value it refused (cut short)."""
    return message("case.got", reason=reason, shown=shown_value(value))


def shown_value(value: Any) -> str:
    """A refused value as the input wrote it, cut short: a number as its digits (a JSON
    number or a table's decimal is read as a ``Decimal``, whose repr is Python's), true and
    false as JSON writes them, text quoted."""
    if isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, Decimal | int | float):
        return str(value)[:40]
    return repr(value)[:40]


REQUIRED_TEXT = message("case.required")


def _column(
    raw: Sequence[Any],
    field: str,
    convert: Callable[[Any], int | None],
    reason: Text,
    default: int | None = None,
    required: bool = True,
) -> np.ndarray:
    out = [default if v is None else convert(v) for v in raw]
    for i, (v, o) in enumerate(zip(raw, out, strict=True)):
        if o is None and (v is not None or required):
            raise CaseError(i, field, REQUIRED_TEXT if v is None else refused_value(reason, v))
    return np.array(out, dtype=np.int64)


def _bounded(scale: int, maximum: int, positive: bool = False) -> Callable[[Any], int | None]:
    def convert(value: Any) -> int | None:
        scaled = _scaled(value, scale)
        if scaled is None or scaled > maximum * scale or (positive and scaled == 0):
            return None
        return scaled

    return convert


def _flag(value: Any) -> int | None:
    """A JSON boolean as 1 or 0 (nothing else: "yes" or 1 is not one)."""
    return int(value) if isinstance(value, bool) else None


_YEARS_MONTHS_RE = re.compile(r"([0-9]{1,3}) ?年 ?(?:([0-9]{1,2}) ?个?月)?", re.ASCII)


def _years(value: Any) -> int | None:
    """Years in 1/YEARS_SCALE: a decimal or "30年6月" (months 0–11). A decimal of four or more places within
    half its last printed digit of a whole month is that month (42.4167 and 42.58333… are
    42年5月 and 42年7月, as tables print them); otherwise up to four places, taken as given."""
    if isinstance(value, str):
        match = _YEARS_MONTHS_RE.fullmatch(value)
        if match:
            leftover = int(match.group(2) or 0)
            if leftover >= 12:  # "39年13月" is no printed span (a slip for 39年1月? 40年1月?)
                return None
            months = int(match.group(1)) * 12 + leftover
            return months * MONTH_IN_YEARS_SCALE if months <= YEARS_MAX * 12 else None
    months = _printed_months(value)
    scaled = _scaled(value, YEARS_SCALE) if months is None else months * MONTH_IN_YEARS_SCALE
    return scaled if scaled is not None and scaled <= YEARS_MAX * YEARS_SCALE else None


YEARS_PRINTED_DECIMALS_MIN = 4  # fewer places are taken as given (39.83 is 39.83 years)
FLOAT_TOLERANCE = Fraction(
    1, 10**9
)  # a float's repr (25.583333333333332) is off in its last digits


def _printed_months(value: Any) -> int | None:
    """The whole months a decimal of years stands for, if it is one as printed, else None."""
    fine = _scaled_any(value)
    places = _decimal_places(value)
    if fine is None or places < YEARS_PRINTED_DECIMALS_MIN:
        return None
    months = round(fine * 12)
    tolerance = max(Fraction(1, 2 * 10**places), FLOAT_TOLERANCE)
    return months if abs(fine - Fraction(months, 12)) <= tolerance else None


def _decimal_places(value: Any) -> int:
    if isinstance(value, Decimal) and value.is_finite():
        exponent = value.as_tuple().exponent
        return -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if isinstance(value, str) and "." in value:
        return len(value) - value.index(".") - 1
    return 0


def _scaled_any(value: Any) -> Fraction | None:
    """An exact non-negative decimal of any precision, or None."""
    if isinstance(value, bool | float):
        return None
    if isinstance(value, int):  # a JSON integer (an index of exactly 1, as printed)
        return Fraction(value) if value >= 0 else None
    if isinstance(value, Decimal) and value.is_finite() and value >= 0:
        return Fraction(value) if abs(value.adjusted()) < 30 else None
    if isinstance(value, str) and len(value) <= TEXT_CHARS_MAX and _DECIMAL_RE.fullmatch(value):
        return Fraction(Decimal(value))
    return None


def _month(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    match = _MONTH_RE.fullmatch(value)
    return int(match.group(1)) * 12 + int(match.group(2)) - 1 if match else None


def _check_months(birth: np.ndarray, retire: np.ndarray, today: date) -> None:
    """Birth and retirement within a life: born from BIRTH_YEAR_MIN to today, retired at an
    age from RETIREMENT_AGE_YEARS_MIN to RETIREMENT_AGE_YEARS_MAX (or, birth unknown, before
    RETIREMENT_YEARS_AHEAD_MAX years from today)."""
    now = Month.from_date(today).ordinal
    given = birth >= 0
    bad = given & ((birth < BIRTH_YEAR_MIN * 12) | (birth > now))
    if bool(np.any(bad)):
        raise CaseError(
            int(np.flatnonzero(bad)[0]),
            "birth",
            message("case.month-range", first=BIRTH_YEAR_MIN, last=Month(now)),
        )
    both = given & (retire >= 0)
    age = retire - birth
    bad = both & ((age < RETIREMENT_AGE_YEARS_MIN * 12) | (age > RETIREMENT_AGE_YEARS_MAX * 12))
    if bool(np.any(bad)):
        raise CaseError(
            int(np.flatnonzero(bad)[0]),
            "retire",
            message(
                "case.retire-age",
                youngest=RETIREMENT_AGE_YEARS_MIN,
                oldest=RETIREMENT_AGE_YEARS_MAX,
            ),
        )
    latest = now + RETIREMENT_YEARS_AHEAD_MAX * 12
    bad = (retire >= 0) & ((retire < BIRTH_YEAR_MIN * 12) | (retire > latest))
    if bool(np.any(bad)):
        raise CaseError(
            int(np.flatnonzero(bad)[0]),
            "retire",
            message("case.month-range", first=BIRTH_YEAR_MIN, last=Month(latest)),
        )


def _check_fields(records: Sequence[Any]) -> None:
    allowed = set(FIELDS)
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise CaseError(i, "*", message("case.not-object"))
        for name in TEXT_FIELDS:
            value = record.get(name)
            if value is not None and (not isinstance(value, str) or len(value) > TEXT_CHARS_MAX):
                raise CaseError(i, name, message("case.text-field", chars_max=TEXT_CHARS_MAX))
        case_id = record.get("id")
        if case_id is not None and not _is_case_id(case_id):
            raise CaseError(i, "id", message("case.id-field", chars_max=TEXT_CHARS_MAX))
        unknown = set(record) - allowed
        if unknown:
            name = sorted(unknown)[0]
            hint = difflib.get_close_matches(name, FIELDS, n=1)
            raise CaseError(i, name, unknown_field(hint))


def unknown_field(hint: list[str], fields: Text | None = None) -> Text:
    """An unknown field: the known one it is likely a misspelling of, or ``fields``."""
    if hint:
        more = message("case.did-you-mean", name=repr(hint[0]))
    else:
        more = Text("", "") if fields is None else message("case.fields", fields=fields)
    return message("case.unknown-field", more=more)


def _is_case_id(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= TEXT_CHARS_MAX
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63


# an absent text field in a string array (not "\x00": numpy drops trailing NULs from text);
# a control character no accepted value holds
ABSENT = "\x1fabsent"


def _texts(column: np.ndarray) -> np.ndarray:
    """An object column of text as a string array, absent as ``ABSENT`` (apart from "",
    which a field may refuse where absent is allowed)."""
    if column.dtype.kind == "U":  # already text (a table's column), absent as ABSENT
        return column
    return np.where(column == None, ABSENT, column).astype(str)  # noqa: E711


def _regions(region: np.ndarray) -> np.ndarray:
    registry = default_registry()
    codes = _texts(region)
    for code in np.unique(codes).tolist():
        if code not in registry:
            i = int(np.flatnonzero(codes == code)[0])
            if region[i] in (None, ABSENT):  # absent (null, or a table's empty cell)
                raise CaseError(i, "region", REQUIRED_TEXT)
            raise CaseError(i, "region", message("case.unknown-region", shown=repr(region[i])))
    return codes


class ParsedCases:
    """The cases plus what the retirement steps need (sex, birth, category)."""

    def __init__(
        self,
        cases: PensionCases,
        birth: np.ndarray,
        category: np.ndarray,
        retire: np.ndarray,
        ids: list[Any],
        notes: Notes | None = None,
    ) -> None:
        self.notes = notes or {}  # case -> field -> how a printed input was read
        self.cases = cases
        self.birth = birth
        self.category = category
        self.retire = retire
        self.ids = ids


TEXT_FIELDS = ("region", "sex", "category")  # strings only; the rest are read by converters


@dataclass(frozen=True)
class Field:
    """One numeric input field: how it is read, what its refusal says, and its value where it
    is absent (``REQUIRED``: it must be given)."""

    read: Callable[[Any], int | None]
    reason: Text
    absent: int | None = None
    # how a column of decimals or integers is read at once (tables): the value × ``scale``,
    # exact, from 0 (or above 0 where ``positive``) to ``maximum`` × ``scale``; None: value
    # by value with ``read`` (month text, years that may be printed as months)
    scale: int | None = None
    maximum: int = 0
    positive: bool = False


REQUIRED = None


# The input, declared once: the field list (unknown fields and their suggestions), the
# converters and the errors all come from here. Indices are read exactly (any precision)
# and rounded by the paying region's rule (``_index_column``).
def _named(zh: str) -> Text:
    """A field's Chinese name, after its rule: `` (指数化月平均缴费工资)``."""
    return Text(f"（{zh}）", f" ({zh})")


_NONE = Text("", "")
NUMBER_FIELDS: dict[str, Field] = {
    "birth": Field(_month, message("case.month"), -1),
    "retire": Field(_month, message("case.month"), -1),
    "base_yuan": Field(_bounded(100, BASE_YUAN_MAX, True),
                       message("case.base", most=BASE_YUAN_MAX),
                       scale=100, maximum=BASE_YUAN_MAX, positive=True),
    "province_base_yuan": Field(_bounded(100, BASE_YUAN_MAX, True),
                                message("case.positive-yuan", what=_NONE), -1,
                                scale=100, maximum=BASE_YUAN_MAX, positive=True),
    "contribution_years": Field(_years, message("case.years-max", most=YEARS_MAX)),
    "deemed_years": Field(_years, message("case.years", example="39.83333"), 0),
    # actual contribution years of the region's early period (北京 N实98: 1992-10 … 1998-06)
    "early_actual_years": Field(_years, message("case.years", example="5.58333"), -1),
    "account_yuan": Field(_bounded(100, ACCOUNT_YUAN_MAX),
                          message("case.non-negative-yuan", what=_NONE),
                          scale=100, maximum=ACCOUNT_YUAN_MAX),
    "divisor_months": Field(_bounded(10, 400, True),
                            message("case.divisor"), -1,
                            scale=10, maximum=400, positive=True),
    "indexed_wage_yuan": Field(_bounded(100, BASE_YUAN_MAX * INDEX_MAX, True),
                               message("case.positive-yuan", what=_named("指数化月平均缴费工资")), -1,
                               scale=100, maximum=BASE_YUAN_MAX * INDEX_MAX, positive=True),
    # the transitional pension by the region's original method as printed (江苏 原办法)
    "old_transitional_yuan": Field(_bounded(100, BASE_YUAN_MAX),
                                   message("case.non-negative-yuan", what=_named("原办法过渡性养老金")), -1,
                                   scale=100, maximum=BASE_YUAN_MAX),
    # personal status as the table prints it (issue 10 §2): 四川's 增发 rate (增发养老金合计比例)
    # and fixed amount (定额); whether the worker is a one-child parent (独生子女父母)
    "increase_rate": Field(_bounded(INCREASE_RATE_SCALE, 1),
                           message("case.increase-rate"), -1,
                           scale=INCREASE_RATE_SCALE, maximum=1),
    "increase_fixed_yuan": Field(_bounded(100, BASE_YUAN_MAX),
                                 message("case.non-negative-yuan", what=_named("增发定额")), -1,
                                 scale=100, maximum=BASE_YUAN_MAX),
    "only_child_parent": Field(_flag, message("case.flag", what=_named("独生子女父母")), -1),
}  # fmt: skip
# name -> required; early_actual_index: the index of the early actual years (北京 Z实)
INDEX_FIELDS = {"average_index": True, "transitional_index": False, "early_actual_index": False}
YEARS_FIELDS = ("contribution_years", "deemed_years", "early_actual_years")
FIELDS = ("id", *TEXT_FIELDS, *NUMBER_FIELDS, *INDEX_FIELDS, "transitional_coefficient")


def number_values(raw: Sequence[Any], name: str) -> np.ndarray:
    """A number field's values (None where absent), each read by the field's rule."""
    spec = NUMBER_FIELDS[name]
    return _column(raw, name, spec.read, spec.reason, spec.absent, spec.absent is REQUIRED)


@dataclass
class CaseInput:
    """The cases' fields as columns, each converted by its field's rule, whatever the source
    (JSON objects or a Parquet table); ``parse_input`` checks and derives the rest."""

    n: int
    ids: list[Any]
    text: dict[str, np.ndarray]  # TEXT_FIELDS: object arrays, None where absent
    numbers: dict[str, np.ndarray]  # NUMBER_FIELDS at their scales, their absent value
    # INDEX_FIELDS: the value × INDEX_SCALE_INPUT (-1 where absent or finer), and the values
    # printed with more places, exact (rounded by the paying region's rule in parse_input)
    index: dict[str, tuple[np.ndarray, dict[int, Fraction]]]
    coefficient: list[Fraction | None] | None
    notes: Notes  # case -> field -> how a printed input was read


def parse_cases(
    records: Sequence[Any], policy: Policy, today: date, rules_day: date | None = None
) -> ParsedCases:
    """Check and convert ``records`` (JSON objects). The rules are read on each case's
    retirement month, or on ``today`` where none is given, or on ``rules_day`` for every
    case if set."""
    if not 1 <= len(records) <= CASES_MAX:
        raise InvalidInput(message("case.count", most=CASES_MAX, count=len(records)))
    _check_fields(records)
    numbers = {name: number_values([r.get(name) for r in records], name) for name in NUMBER_FIELDS}
    notes: Notes = {}
    for name in YEARS_FIELDS:
        note_years([r.get(name) for r in records], numbers[name], name, notes)
    case_input = CaseInput(
        n=len(records),
        ids=[r.get("id") for r in records],
        text={name: np.array([r.get(name) for r in records], dtype=object) for name in TEXT_FIELDS},
        numbers=numbers,
        index={
            name: split_index(index_values([r.get(name) for r in records], name, required))
            for name, required in INDEX_FIELDS.items()
        },
        coefficient=coefficients([r.get("transitional_coefficient") for r in records]),
        notes=notes,
    )
    return parse_input(case_input, policy, today, rules_day)


def parse_input(
    case_input: CaseInput, policy: Policy, today: date, rules_day: date | None = None
) -> ParsedCases:
    """The checks across fields and what is derived (retirement, age, the rules' days,
    indices rounded by the paying region's rule)."""
    region = _regions(case_input.text["region"])
    n = case_input.n
    numbers = case_input.numbers
    birth, retire = numbers["birth"], numbers["retire"]
    _check_months(birth, retire, rules_day or today)
    category = _categories(case_input.text, policy, today, birth, retire)
    rule = retirement_rule(policy, today)
    derive = (retire < 0) & (birth >= 0) & (category >= 0)
    if bool(np.any(derive)):
        _, _, reach = statutory_retirement(rule, birth[derive], category[derive])
        retire = retire.copy()
        retire[derive] = reach
    age = np.where((birth >= 0) & (retire >= 0), retire - birth, -1)
    if bool(np.any((birth >= 0) & (retire >= 0) & (age < 0))):
        i = int(np.flatnonzero((birth >= 0) & (retire >= 0) & (age < 0))[0])
        raise CaseError(i, "retire", message("case.retire-before-birth"))
    years = numbers["contribution_years"]
    over = (age >= 0) & (years > age * MONTH_IN_YEARS_SCALE)
    if bool(np.any(over)):  # paying before one was born: a slip in the years or the months
        i = int(np.flatnonzero(over)[0])
        ages = age_text(int(age[i]))
        said = message("case.years-over-age", age=ages)
        raise CaseError(i, "contribution_years", said)
    base, province_base = numbers["base_yuan"], numbers["province_base_yuan"]
    province_base = np.where(province_base < 0, base, province_base)
    years, deemed = numbers["contribution_years"], numbers["deemed_years"]
    if bool(np.any(deemed > years)):
        raise CaseError(
            int(np.flatnonzero(deemed > years)[0]), "deemed_years", message("case.deemed-over")
        )
    early = numbers["early_actual_years"]
    if bool(np.any(deemed + np.maximum(early, 0) > years)):
        raise CaseError(
            int(np.flatnonzero(deemed + np.maximum(early, 0) > years)[0]),
            "early_actual_years",
            message("case.early-over"),
        )
    account, divisor = numbers["account_yuan"], numbers["divisor_months"]
    missing = (divisor < 0) & (age < 0)
    if bool(np.any(missing)):
        raise CaseError(
            int(np.flatnonzero(missing)[0]),
            "divisor_months",
            message("case.divisor-required"),
        )
    days = np.full(n, day_number(today), dtype=np.int64)
    has_retire = retire >= 0
    if bool(np.any(has_retire)):
        distinct, inverse = np.unique(retire[has_retire], return_inverse=True)
        firsts = np.array(
            [day_number(Month(int(o)).first_day()) for o in distinct.tolist()], dtype=np.int64
        )
        days[has_retire] = firsts[inverse]
    if rules_day is not None:
        days[:] = day_number(rules_day)
    _check_rules_day(days, numbers["retire"], retire, policy)
    notes = dict(case_input.notes)
    index = _index_column(
        policy, days, region, case_input.index["average_index"], "average_index", notes
    )
    t_index = _index_column(
        policy, days, region, case_input.index["transitional_index"], "transitional_index", notes
    )
    t_index = np.where(t_index < 0, index, t_index)
    early_index = _index_column(
        policy, days, region, case_input.index["early_actual_index"], "early_actual_index", notes
    )
    _check_early(early, early_index)
    any_early = bool(np.any(early >= 0))
    old = numbers["old_transitional_yuan"]
    cases = PensionCases(
        region=region,
        day=days,
        base_fen=base,
        province_base_fen=province_base,
        index_1e6=index,
        transitional_index_1e6=t_index,
        years=years,
        deemed_years=deemed,
        account_fen=account,
        divisor_tenths=divisor,
        age_months=age,
        indexed_wage_fen=numbers["indexed_wage_yuan"],
        coefficient=case_input.coefficient,
        early_years=early if any_early else None,
        early_index_1e6=early_index if any_early else None,
        old_transitional_fen=old if bool(np.any(old >= 0)) else None,
        **{
            key: column if bool(np.any(column >= 0)) else None
            for key, column in (
                ("increase_rate_1e6", numbers["increase_rate"]),
                ("increase_fixed_fen", numbers["increase_fixed_yuan"]),
                ("only_child", numbers["only_child_parent"]),
            )
        },
    )
    return ParsedCases(cases, birth, category, retire, case_input.ids, notes)


def _check_rules_day(
    days: np.ndarray, given: np.ndarray, retire: np.ndarray, policy: Policy
) -> None:
    """Every case is ruled on a day the formula's rules cover (``rules_first_day``): an
    earlier retirement month (given, or derived from birth), or with none an earlier day of
    the rules, is that case's error, not a parameter's."""
    first = rules_first_day(policy)
    early = np.flatnonzero(days < day_number(first))
    if early.size:
        i = int(early[0])
        month = Month.from_date(first)
        if given[i] >= 0:
            reason = message("case.retire-before-rules", first=month)
            raise CaseError(i, "retire", refused_value(reason, str(Month(int(given[i])))))
        if retire[i] >= 0:
            derived = Month(int(retire[i]))
            reason = message("case.derived-retire-before-rules", first=month, derived=derived)
            raise CaseError(i, "birth", reason)
        day = date.fromordinal(int(days[i]) + EPOCH)
        raise CaseError(i, "retire", message("case.rules-day-before-rules", first=first, day=day))


def _check_early(early: np.ndarray, early_index: np.ndarray) -> None:
    """The early years and their index come together: years above zero need the index (the
    region's G实 is never computed with another), and an index needs the years."""
    bad = (early > 0) & (early_index < 0)
    if bool(np.any(bad)):
        raise CaseError(
            int(np.flatnonzero(bad)[0]),
            "early_actual_index",
            message("case.early-index-required"),
        )
    bad = (early < 0) & (early_index >= 0)
    if bool(np.any(bad)):
        raise CaseError(
            int(np.flatnonzero(bad)[0]),
            "early_actual_years",
            message("case.early-years-required"),
        )


INDEX_REASON = message("case.index", most=INDEX_MAX)


def index_values(raw: Sequence[Any], field: str, required: bool) -> list[Fraction | None]:
    """An index field's exact decimals of any precision (None where absent and optional)."""
    out: list[Fraction | None] = []
    for i, value in enumerate(raw):
        fine = None if value is None else _scaled_any(value)
        if fine is None or fine > INDEX_MAX:
            if value is None and not required:
                out.append(None)
                continue
            raise CaseError(
                i, field, REQUIRED_TEXT if value is None else refused_value(INDEX_REASON, value)
            )
        out.append(fine)
    return out


def split_index(fine: list[Fraction | None]) -> tuple[np.ndarray, dict[int, Fraction]]:
    """Exact decimals as the value × INDEX_SCALE_INPUT (-1 where absent), and those printed
    with more places apart."""
    exact = np.full(len(fine), -1, dtype=np.int64)
    finer: dict[int, Fraction] = {}
    for i, f in enumerate(fine):
        if f is None:
            continue
        scaled = f * INDEX_SCALE_INPUT
        if scaled.denominator == 1:
            exact[i] = int(scaled)
        else:
            finer[i] = f
    return exact, finer


def _index_column(
    policy: Policy,
    days: np.ndarray,
    region: np.ndarray,
    index: tuple[np.ndarray, dict[int, Fraction]],
    field: str,
    notes: Notes,
) -> np.ndarray:
    """Indices in 1/INDEX_SCALE_INPUT; one printed with more places (0.733100252737995) is
    rounded half up to the paying region's own index decimals first, as the agency does."""
    exact, finer = index
    out = exact.copy()
    if finer:
        rows = sorted(finer)
        at = np.array(rows, dtype=np.int64)
        places = policy.look_up(days[at], region[at], {"d": "pension.index_decimals"}).column(
            "d", int
        )
        for i, d in zip(rows, places.tolist(), strict=True):
            value = finer[i]
            unit = Fraction(1, 10**d)
            rounded = (value / unit + Fraction(1, 2)).__floor__() * unit
            out[i] = int(rounded * INDEX_SCALE_INPUT)
            shown = Decimal(rounded.numerator) / Decimal(rounded.denominator)
            notes.setdefault(i, {})[field] = Text(
                f"{_printed(value)} → {shown:.{d}f}（按本地精度四舍五入保留{d}位小数）",
                f"{_printed(value)} → {shown:.{d}f} (rounded half up to the region's {d} decimals)",
            )
    return out


def _printed(value: Fraction) -> str:
    """A decimal as given (an exact decimal's full expansion, at most 20 places shown)."""
    text = f"{Decimal(value.numerator) / Decimal(value.denominator):.20f}".rstrip("0")
    return text.rstrip(".")


def note_years(
    raw: Sequence[Any],
    scaled: np.ndarray,
    field: str,
    notes: Notes,
) -> None:
    """Say where a printed decimal of years was read as whole months."""
    for i, value in enumerate(raw):
        if (
            value is None
            or (isinstance(value, str) and "年" in value)
            or _printed_months(value) is None
        ):
            continue
        if _scaled(value, YEARS_SCALE) == int(scaled[i]):
            continue  # exactly the months it stands for
        months = int(scaled[i]) // MONTH_IN_YEARS_SCALE
        notes.setdefault(i, {})[field] = Text(
            f"{value} → {months // 12}年{months % 12}月（{months}个月）",
            f"{value} → {months // 12} years {months % 12} months ({months} months)",
        )


def _categories(
    text: dict[str, np.ndarray],
    policy: Policy,
    today: date,
    birth: np.ndarray,
    retire: np.ndarray,
) -> np.ndarray:
    """Each case's retirement category from its sex and category (read once per distinct
    pair); neither given: -1, unless the retirement month must be derived from birth."""
    sex, category = _texts(text["sex"]), _texts(text["category"])
    if bool(np.all(sex == ABSENT)) and bool(np.all(category == ABSENT)):
        out = np.full(len(sex), -1, dtype=np.int64)  # neither column given: no sort of either
    else:
        out = _category_of_pairs(sex, category, policy, today)
    needed = (out < 0) & (birth >= 0) & (retire < 0)
    if bool(np.any(needed)):
        raise CaseError(
            int(np.flatnonzero(needed)[0]),
            "sex",
            message("case.sex-required"),
        )
    return out


def _category_of_pairs(
    sex: np.ndarray, category: np.ndarray, policy: Policy, today: date
) -> np.ndarray:
    _, sex_code = np.unique(sex, return_inverse=True)
    _, category_code = np.unique(category, return_inverse=True)
    pairs = sex_code.reshape(-1) * (int(category_code.max(initial=0)) + 1) + category_code.reshape(
        -1
    )
    distinct, first, inverse = np.unique(pairs, return_index=True, return_inverse=True)
    values = np.full(len(distinct), -1, dtype=np.int64)
    for k, i in enumerate(first.tolist()):
        given_sex = None if sex[i] == ABSENT else str(sex[i])
        given_category = None if category[i] == ABSENT else str(category[i])
        if given_sex is None and given_category is None:
            continue
        try:
            values[k] = category_index(given_sex or "", given_category, policy, today)
        except InvalidInput as exc:
            field = "category" if given_category else "sex"
            raise CaseError(i, field, exc.said) from None
    out: np.ndarray = values[inverse.reshape(-1)]
    return out


def coefficients(raw: Sequence[Any]) -> list[Fraction | None] | None:
    if all(v is None for v in raw):
        return None
    out: list[Fraction | None] = []
    for i, v in enumerate(raw):
        if v is None:
            out.append(None)
            continue
        scaled = _scaled(v, 10**8)
        if scaled is None or scaled == 0 or scaled > 10**7:
            raise CaseError(
                i, "transitional_coefficient", message("case.coefficient", shown=shown_value(v))
            )
        out.append(Fraction(scaled, 10**8))
    return out


def calculate(parsed: ParsedCases, policy: Policy) -> PensionResult:
    return compute_pensions(policy, parsed.cases)


@dataclass(frozen=True)
class CaseWarning:
    """A case the formula can compute but the rules would not grant as given (never silent:
    every result carries its warnings; ``--strict`` refuses them): its ``code``, the input
    it concerns, and what it says in Chinese and in English."""

    code: str
    field: str
    said: Text

    @property
    def message(self) -> str:
        """Both languages in one line, Chinese first (``message_zh``/``message_en``: each)."""
        return self.said.joined()

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "field": self.field, **self.said.fields()}


class WarningsFound:
    """Warnings as they are found, in that order: each a block of cases that share one
    warning (a region's not-modelled part is one block for all its cases, not a list per
    case: a million cases of one region cost one array, not a million lists)."""

    def __init__(self) -> None:
        self.blocks: list[tuple[np.ndarray, CaseWarning]] = []

    def add(self, cases: np.ndarray | Sequence[int], warning: CaseWarning) -> None:
        at = np.asarray(cases, dtype=np.int64).reshape(-1)
        if len(at):
            self.blocks.append((at, warning))

    def add_each(
        self,
        cases: np.ndarray,
        keys: Sequence[np.ndarray],
        warning: Callable[[tuple[int, ...]], CaseWarning],
    ) -> None:
        """A warning whose words depend on a few integers per case (``keys``, one array
        each): made once per distinct combination, each a block of the cases that have it."""
        if len(cases) == 0:
            return
        stacked = np.stack([np.asarray(k, dtype=np.int64) for k in keys], axis=1)
        distinct, which = np.unique(stacked, axis=0, return_inverse=True)
        which = which.reshape(-1)
        order = np.argsort(which, kind="stable")
        bounds = np.searchsorted(which[order], np.arange(len(distinct) + 1))
        for k, row in enumerate(distinct.tolist()):
            self.add(cases[order[bounds[k] : bounds[k + 1]]], warning(tuple(row)))

    def of(self, i: int) -> list[CaseWarning]:
        """Case ``i``'s warnings, in the order found (a single case's look-up)."""
        return [w for at, w in self.blocks if bool(np.any(at == i))]


class CaseWarnings:
    """Each case's warnings, columnar: the distinct warnings once, and per case (in case order,
    each case's in the order found) which of them it has."""

    def __init__(self, n: int, found: WarningsFound) -> None:
        self.n = n
        index: dict[CaseWarning, int] = {}
        ids = [index.setdefault(w, len(index)) for _, w in found.blocks]
        self.distinct: list[CaseWarning] = list(index)
        if found.blocks:
            cases = np.concatenate([at for at, _ in found.blocks])
            which = np.repeat(np.array(ids, dtype=np.int32), [len(at) for at, _ in found.blocks])
        else:
            cases, which = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32)
        order = np.argsort(cases, kind="stable")  # a case's warnings stay in the order found
        self.case_of: np.ndarray = cases[order]
        self.which: np.ndarray = which[order]
        self.offsets = np.zeros(n + 1, dtype=np.int64)  # case i's: offsets[i]:offsets[i + 1]
        np.cumsum(np.bincount(self.case_of, minlength=n), out=self.offsets[1:])

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> Sequence[CaseWarning]:
        start, end = int(self.offsets[i]), int(self.offsets[i + 1])
        return [self.distinct[w] for w in self.which[start:end].tolist()]

    def __iter__(self) -> Iterator[Sequence[CaseWarning]]:
        return (self[i] for i in range(self.n))

    def warned(self) -> int:
        """How many cases have a warning."""
        return int(np.count_nonzero(self.counts()))

    def first(self) -> tuple[int, CaseWarning] | None:
        """The first case with a warning and its first warning, or None."""
        if len(self.case_of) == 0:
            return None
        return int(self.case_of[0]), self.distinct[int(self.which[0])]

    def counts(self) -> np.ndarray:
        """How many warnings each case has."""
        return np.diff(self.offsets)


def case_warnings(parsed: ParsedCases, policy: Policy, today: date) -> CaseWarnings:
    """Per case: a retirement outside the statutory flexible window (弹性退休, by the rule in
    force in the retirement month; birth and sex or category given), and contribution years
    below the minimum for the year the statutory age is reached (or the retirement month,
    or ``today``, where birth is not given); and the part of the region's pension that is not
    modelled (``pension.not_modelled``), where there is one."""
    n = len(parsed.ids)
    found = WarningsFound()
    birth, category, retire = parsed.birth, parsed.category, parsed.retire
    known = np.flatnonzero((birth >= 0) & (category >= 0) & (retire >= 0))
    reach_month = np.where(retire >= 0, retire, Month.from_date(today).ordinal)
    years = retire[known] // 12
    for year in np.unique(years).tolist():
        at = known[years == year]
        rule = retirement_rule(policy, date(year, 1, 1))
        _, age, reach = statutory_retirement(rule, birth[at], category[at])
        earliest, latest = flexible_window(rule, age, category[at])
        # a later age is offered only to who reaches the statutory age under the flexible
        # rule (from 2025-01-01): one who reached it before is past their window already
        reached, reach_of = np.unique(reach, return_inverse=True)
        late = np.array(
            [retirement_rule(policy, Month(m).first_day()).late_max for m in reached.tolist()],
            dtype=np.int64,
        )[reach_of.reshape(-1)]
        latest = np.minimum(latest, age + late)
        reach_month[at] = reach
        actual = retire[at] - birth[at]
        outside = np.flatnonzero((actual < earliest) | (actual > latest))
        found.add_each(
            at[outside],
            [actual[outside], earliest[outside], latest[outside], late[outside] < rule.late_max],
            lambda key, year=year, rule=rule: _outside_window(year, rule, *key),
        )
    minimum, which = minimum_years(policy, reach_month)
    scaled = np.array(
        [m.numerator * YEARS_SCALE // m.denominator for m in minimum], dtype=np.int64
    )[which]
    below = np.flatnonzero(parsed.cases.years < scaled)
    found.add_each(
        below,
        [parsed.cases.years[below], which[below], reach_month[below], birth[below] >= 0],
        lambda key: _below_minimum(key[0], minimum[key[1]], Month(key[2]).year, key[3]),
    )
    _not_modelled(parsed, policy, found)
    _early_missing(parsed, policy, found)
    extra_unsure(parsed.cases, policy, found)
    old_method_missing(parsed.cases, policy, found)
    _divisor_not_the_tables(parsed.cases, policy, found)
    return CaseWarnings(n, found)


def _divisor_not_the_tables(cases: PensionCases, policy: Policy, found: WarningsFound) -> None:
    """A divisor given where the age is known too (birth and retire) is used as given; where
    it is not the table's at that age (国发〔2005〕38号 附件, as the formula derives it), or the
    table has no row for the age, the case is warned: a slip in either is not silent."""
    at = np.flatnonzero((cases.divisor_tenths >= 0) & (cases.age_months >= 0))
    if not at.size:
        return
    table = table_divisors(policy, cases.day[at], cases.region[at], cases.age_months[at])
    differs = table != cases.divisor_tenths[at]
    found.add_each(
        at[differs],
        [cases.divisor_tenths[at][differs], table[differs], cases.age_months[at][differs]],
        lambda key: _divisor_warning(*key),
    )


def _divisor_warning(given: int, table: int, age: int) -> CaseWarning:
    shown = f"{Decimal(given) / 10:f}"
    ages = age_text(age)
    if table < 0:
        said = message("case.divisor-no-row", given=shown, age=ages)
    else:
        expected = f"{Decimal(table) / 10:f}"
        said = message("case.divisor-differs", given=shown, table=expected, age=ages)
    return CaseWarning("divisor-not-the-tables", "divisor_months", said)


def _outside_window(
    year: int, rule: Any, actual: int, earliest: int, latest: int, before: int
) -> CaseWarning:
    ages = [age_text(a) for a in (actual, earliest, latest)]
    return CaseWarning(
        "outside-retirement-window",
        "retire",
        Text(
            f"退休年龄 {ages[0].zh} 不在 {year}-01-01 的法定弹性退休区间"
            f" {ages[1].zh} – {ages[2].zh} 内（弹性退休：最多提前 {rule.early_max}"
            f" 个月，不低于原法定退休年龄；最多延迟 {rule.late_max} 个月"
            f"{'；法定退休年龄在弹性退休规则施行前已达到，不能弹性延迟' if before else ''}）",
            f"retirement at {ages[0].en} is outside the statutory window"
            f" {ages[1].en} – {ages[2].en} on {year}-01-01 (elective retirement: up"
            f" to {rule.early_max} months early, never below the original age; up to"
            f" {rule.late_max} months late"
            + (
                " — the statutory age was reached before the flexible rule, so no"
                " later age is offered)"
                if before
                else ")"
            ),
        ),
    )


def _below_minimum(years: int, needed: Fraction, year: int, birth_known: int) -> CaseWarning:
    years_paid = f"{Decimal(years) / YEARS_SCALE:f}"
    least = f"{Decimal(needed.numerator) / needed.denominator:f}"
    return CaseWarning(
        "below-minimum-years",
        "contribution_years",
        Text(
            f"累计缴费年限 {years_paid} 年，不足{'达到法定退休年龄' if birth_known else '退休'}"
            f"的 {year} 年的最低缴费年限 {least} 年：达到之前不能按月领取基本养老金（延长缴费）",
            f"{years_paid} contribution years are below the minimum of {least} for"
            f" {'a statutory age reached' if birth_known else 'retirement'} in"
            f" {year}: no monthly pension until it is reached (paying on until then)",
        ),
    )


EXTRA_RATE = "pension.basic.long_service_extra_rate"


def extra_unsure(cases: PensionCases, policy: Policy, found: WarningsFound) -> None:
    """Per case of a region that pays a 长缴增发 (吉林) with contribution years above its
    first threshold but actual years (deemed ones left out) at or below it: every table seen
    has actual years above 20, and no text was read that says whether deemed years alone
    qualify, so the part computed may not be paid (``--strict`` refuses the case). The
    batch's and the estimate's (``services/career``) warning alike."""
    g = policy.look_up(cases.day, cases.region, {"rates": EXTRA_RATE}, frozenset({"rates"}))
    for pair, resolved in enumerate(g.values["rates"]):
        if resolved is None or not resolved.value:
            continue
        first = min(Fraction(k) for k in dict(resolved.value))
        threshold = int(first * YEARS_SCALE)
        at = np.flatnonzero(g.pair_of_case == pair)
        years, deemed = cases.years[at], np.maximum(cases.deemed_years[at], 0)
        found.add(
            at[(years > threshold) & (years - deemed <= threshold)],
            CaseWarning(
                "extra-unverified",
                "deemed_years",
                Text(
                    f"{resolved.region} 对累计缴费年限（含视同缴费年限）超过 {first} 年的部分"
                    f"发放长缴增发；此案例的实际缴费年限不超过 {first} 年，所见的核定表和文件"
                    "均未说明此时是否增发：计算出的长缴增发可能不予发放",
                    f"region {resolved.region} pays a long-service increase on contribution"
                    f" years above {first} (deemed included); this case has {first} actual"
                    " years or fewer, which no table or text read shows: the increase"
                    " computed may not be paid",
                ),
            ),
        )


PHASE_IN_RATE = "pension.transitional.phase_in_rate"


def old_method_missing(cases: PensionCases, policy: Policy, found: WarningsFound) -> None:
    """Per case of a region that pays the transitional pension as its original method's
    amount plus a share of the new method's excess (江苏 from 2024, 深圳 from 2023-05) with
    deemed years (江苏 1995年底前, 深圳 1998年6月前 years) but no ``old_transitional_yuan``:
    the original amount cannot be
    computed from the inputs, so the transitional pension given is the new method's, not
    the one paid (``--strict`` refuses the case). The batch's and the estimate's warning."""
    old = cases.old_transitional_fen
    lacking = np.ones(len(cases), dtype=np.bool_) if old is None else old < 0
    without = np.flatnonzero((cases.deemed_years > 0) & lacking)
    if len(without) == 0:
        return
    g = policy.look_up(
        cases.day[without], cases.region[without], {"rate": PHASE_IN_RATE}, frozenset({"rate"})
    )
    for pair, resolved in enumerate(g.values["rate"]):
        if resolved is None or resolved.value is None:
            continue
        share = Fraction(resolved.value)
        part = f"{Decimal(share.numerator) / share.denominator:%}"
        said = Text(
            f"{resolved.region} 的过渡性养老金为按原办法计算的金额，加上新办法超出部分的 {part}"
            f"（自 {resolved.start} 起；{PHASE_IN_RATE}），但未给出 old_transitional_yuan："
            "计算出的是新办法的过渡性养老金，不是实际发放的金额。请按待遇核定表上的"
            "“按原办法计算的过渡性养老金”填写 old_transitional_yuan",
            f"region {resolved.region} pays the transitional pension as the amount by its"
            f" original method plus {part} of the new method's excess over it (from"
            f" {resolved.start}; {PHASE_IN_RATE}), but old_transitional_yuan is not given: the"
            " transitional pension computed is the new method's, not the one paid. Give"
            " old_transitional_yuan as printed on the determination table (the transitional"
            " pension by the original method)",
        )
        found.add(
            without[g.pair_of_case == pair],
            CaseWarning("transitional-old-method-missing", "old_transitional_yuan", said),
        )


EARLY_RATE = "pension.transitional.early_actual_rate"
EARLY_MONTHS = "pension.transitional.early_actual_months"
AGE_MIN = "enrolment.age_min_years"


def early_months(value: Any) -> tuple[Month, Month]:
    """The first and last month of an ``early_actual_months`` value ("1992-10/1998-06")."""
    first, _, last = str(value).partition("/")
    return Month.parse(first), Month.parse(last)


def _early_missing(parsed: ParsedCases, policy: Policy, found: WarningsFound) -> None:
    """Per case of a region that pays a transitional part for actual years of an early period
    (北京 G实): where ``early_actual_years`` is not given, that part is left out, so the case
    is warned (and refused under ``--strict``) unless it cannot have contributions then (born
    too late to work before the period's end: younger than ``enrolment.age_min_years``).
    Never silently approximated: ``early_actual_years`` 0 says there were none."""
    cases = parsed.cases
    given = (
        cases.early_years >= 0
        if cases.early_years is not None
        else np.zeros(len(cases), dtype=np.bool_)
    )
    at = np.flatnonzero(~given)
    if len(at) == 0:
        return
    g = policy.look_up(
        cases.day[at],
        cases.region[at],
        {"rate": EARLY_RATE, "months": EARLY_MONTHS, "age_min": AGE_MIN},
        frozenset({"rate", "months", "age_min"}),
    )
    for pair, rate in enumerate(g.values["rate"]):
        months = g.values["months"][pair]
        if rate.value is None or months.value is None:
            continue
        first, last = early_months(months.value)
        age_min = g.values["age_min"][pair].value
        cases_of_pair = at[g.pair_of_case == pair]
        birth = parsed.birth[cases_of_pair]
        too_young = (
            (birth >= 0) & (birth + int(age_min) * 12 > last.ordinal)
            if age_min is not None
            else np.zeros(len(cases_of_pair), dtype=np.bool_)
        )
        said = Text(
            f"{rate.region} 对 {first} … {last} 的实际缴费年限另计一部分过渡性养老金（G实 = 计发基数"
            f" × Z实 × N实98 × {rate.value * 100}%，自 {rate.start} 起；{EARLY_RATE}），但未给出"
            " early_actual_years：计算出的过渡性养老金不含这一部分。请按待遇核定表填写"
            " early_actual_years 和 early_actual_index（N实98 和 Z实），那时未缴费则填"
            " early_actual_years 0",
            f"region {rate.region} pays a transitional part for actual contribution years"
            f" {first} … {last} (G = the base × Z × N98 of the actual years ×"
            f" {rate.value * 100}%, from {rate.start}; {EARLY_RATE}), but early_actual_years is"
            " not given: the transitional pension computed leaves that part out. Give"
            " early_actual_years and early_actual_index (N98 and Z of the actual years as on"
            " the determination table), or early_actual_years 0 if none were paid then",
        )
        found.add(
            cases_of_pair[~too_young],
            CaseWarning("early-actual-years-missing", "early_actual_years", said),
        )


NOT_MODELLED = "pension.not_modelled"


NOT_MODELLED_WITH_STATUS = "pension.not_modelled_with_status"
NOT_MODELLED_THROUGH = "pension.not_modelled_through"
STATUS_PARAMETERS = {
    "part": NOT_MODELLED,
    "with_status": NOT_MODELLED_WITH_STATUS,
    "increase": "pension.extra.increase_on_indexed_wage",
    "only_child": "pension.extra.only_child_rate",
    "through": NOT_MODELLED_THROUGH,
    "age_min": AGE_MIN,
}


def not_modelled_concerns(
    through: Any, age_min: Any, birth: np.ndarray, deemed_years: np.ndarray
) -> np.ndarray:
    """Per case: whether the region's not-modelled part can concern it. Where
    ``pension.not_modelled_through`` names the last month that part depends on (广东's
    原办法, 调整额 and 地方养老金: deemed years and years to 2006-06), a case with no deemed
    years whose worker (birth month given) reached ``enrolment.age_min_years`` only after
    that month cannot have any; every other case can (a case that does not say is warned)."""
    if through is None or through.value is None or age_min is None or age_min.value is None:
        return np.ones(len(birth), dtype=np.bool_)
    last = Month.parse(str(through.value))
    too_young = (birth >= 0) & (birth + int(age_min.value) * 12 > last.ordinal)
    concerns: np.ndarray = ~(too_young & (deemed_years <= 0))
    return concerns


def _not_modelled(parsed: ParsedCases, policy: Policy, found: WarningsFound) -> None:
    """Per case: the part of its region's pension the formula does not compute (浙江
    过渡调节金 before 2025-02, 吉林 长缴增发 before 2023-01, 四川 增发 without its rate, …),
    named, so that a total that leaves it out is never taken for the pension the agency pays;
    ``--strict`` refuses the case. A case that gives the personal status its region's add-ons
    depend on (``status_known``) is named only what stays out then
    (``pension.not_modelled_with_status``: 重庆's other parts; nothing for 四川, 贵州, 云南).
    A case the part cannot concern (``not_modelled_concerns``: a 广东 worker too young to
    have contributed before 2006-07, with no deemed years) is not warned."""
    cases = parsed.cases
    g = policy.look_up(cases.day, cases.region, STATUS_PARAMETERS, frozenset(STATUS_PARAMETERS))
    known = status_known(cases, g)
    for pair, resolved in enumerate(g.values["part"]):
        message = not_modelled_message(resolved)
        with_status = not_modelled_message(g.values["with_status"][pair])
        at = np.flatnonzero(g.pair_of_case == pair)
        concerns = not_modelled_concerns(
            g.values["through"][pair],
            g.values["age_min"][pair],
            parsed.birth[at],
            cases.deemed_years[at],
        )
        for text, has in ((with_status, True), (message, False)):
            if text is not None:
                found.add(
                    at[concerns & (known[at] == has)], CaseWarning("not-modelled", "region", text)
                )


def status_known(cases: PensionCases, g: Any) -> np.ndarray:
    """Per case: whether its region pays an add-on of a personal status on its date and the
    case gives that status for every one (``increase_rate`` or ``increase_fixed_yuan`` for
    四川 增发, ``only_child_parent`` for the 独生子女 add-ons)."""
    n = len(cases)

    def given(*columns: np.ndarray | None) -> np.ndarray:
        out = np.zeros(n, dtype=bool)
        for column in columns:
            if column is not None:
                out |= column >= 0
        return out

    def per_case(name: str) -> np.ndarray:
        flags = [v is not None and bool(v.value) for v in g.values[name]]
        return np.array(flags, dtype=bool)[g.pair_of_case]

    increase, child = per_case("increase"), per_case("only_child")
    has_increase = given(cases.increase_rate_1e6, cases.increase_fixed_fen)
    has_child = given(cases.only_child)
    known: np.ndarray = (increase | child) & (~increase | has_increase) & (~child | has_child)
    return known


def not_modelled_message(resolved: Any) -> Text | None:
    """The warning for a resolved ``pension.not_modelled`` value (None where nothing is left
    out), the same for a calculation and for a worker's estimate: the part is named in
    Chinese in both languages (the parameter's value, as the determination table names it)."""
    if resolved is None or resolved.value is None:
        return None
    return Text(
        f"未计算：{resolved.value}（{resolved.region}，自 {resolved.start} 起），计算出的养老金"
        "不含这一部分",
        f"{resolved.value} is not modelled in region {resolved.region} (from"
        f" {resolved.start}): the pension computed leaves it out",
    )


def region_not_modelled(
    policy: Policy, day: date, region: str, birth: Month | None = None, deemed_years: int = 0
) -> dict[str, str] | None:
    """What a region's pension on ``day`` holds that the formula does not compute, as a
    warning (``code``, ``part``, ``region`` that says so, ``message``), or None — None too
    where that part cannot concern a worker born in ``birth`` with ``deemed_years`` (× the
    years scale; ``not_modelled_concerns``)."""
    paths = {"part": NOT_MODELLED, "through": NOT_MODELLED_THROUGH, "age_min": AGE_MIN}
    g = policy.look_up(
        np.array([day_number(day)], dtype=np.int64),
        np.array([region]),
        paths,
        frozenset(paths),
    )
    pair = int(g.pair_of_case[0])
    resolved = g.values["part"][pair]
    message = not_modelled_message(resolved)
    concerns = not_modelled_concerns(
        g.values["through"][pair],
        g.values["age_min"][pair],
        np.array([-1 if birth is None else birth.ordinal], dtype=np.int64),
        np.array([deemed_years], dtype=np.int64),
    )
    if message is None or not concerns[0]:
        return None
    return {
        "code": "not-modelled",
        "part": str(resolved.value),
        "region": str(resolved.region),
        **message.fields(),
    }


def refuse_warnings(warnings: CaseWarnings) -> None:
    """``--strict``: the first case with a warning is refused, with the warning's reason."""
    first = warnings.first()
    if first is not None:
        i, warning = first
        raise CaseError(i, warning.field, warning.said)


def output_records(
    parsed: ParsedCases,
    result: PensionResult,
    policy: Policy,
    explain: bool,
    warnings: CaseWarnings | None = None,
) -> list[dict[str, Any]]:
    columns = zip(
        result.basic_fen.tolist(),
        result.account_pension_fen.tolist(),
        result.transitional_fen.tolist(),
        result.extra.tolist(),
        result.total_fen.tolist(),
        strict=True,
    )
    out: list[dict[str, Any]] = []
    for i, (basic, account, transitional, extra, total) in enumerate(columns):
        record: dict[str, Any] = {} if parsed.ids[i] is None else {"id": parsed.ids[i]}
        record.update(
            basic_pension_fen=basic,
            account_pension_fen=account,
            transitional_pension_fen=transitional,
            extra_pension_fen=extra,  # 长缴增发 (吉林), 过渡调节金 + 补贴 + 补足 (浙江),
            # 见分进角 (江苏); else 0
            total_fen=total,
        )
        if warnings is not None:
            record["warnings"] = [w.to_json() for w in warnings[i]]
        if explain:
            read = (
                [
                    Step(
                        Text("输入读取", "inputs as printed"),
                        Text(
                            "核定表所列的数值，按经办机构的读法读取",
                            "a printed value read as the agency reads it",
                        ),
                        parsed.notes[i],
                        "",
                    )
                ]
                if i in parsed.notes
                else []
            )
            steps = (
                read + retirement_steps(parsed, policy, i) + explain_case(parsed.cases, result, i)
            )
            record["explanation"] = [s.to_json() for s in steps]
        out.append(record)
    return out


def retirement_steps(parsed: ParsedCases, policy: Policy, i: int) -> list[Step]:
    """Statutory retirement month, flexible window and minimum years, when birth is known."""
    birth, category = int(parsed.birth[i]), int(parsed.category[i])
    if birth < 0 or category < 0:
        return []
    reach_day = Month(max(int(parsed.retire[i]), birth)).first_day()
    rule = retirement_rule(policy, reach_day)
    b = np.array([birth], dtype=np.int64)
    c = np.array([category], dtype=np.int64)
    delay, age, reach = statutory_retirement(rule, b, c)
    earliest, latest = flexible_window(rule, age, c)
    minimum, which = minimum_years(policy, reach)
    min_years = minimum[int(which[0])]
    years = Fraction(int(parsed.cases.years[i]), YEARS_SCALE)

    reached = Month(int(reach[0]))
    window = (age_text(int(earliest[0])), age_text(int(latest[0])))
    met = years >= min_years
    minimum_shown = Decimal(min_years.numerator) / Decimal(min_years.denominator)
    steps = [
        Step(
            Text("法定退休年龄", "statutory retirement age (2025 reform)"),
            Text(
                "原法定退休年龄 + min(最多延迟月数, (出生年月 − 首个延迟的出生月) // 每步月数 + 1)",
                "original age + min(max delay, (birth − first affected month) // step + 1)",
            ),
            {
                Text("出生年月", "birth"): str(Month(birth)),
                Text("延迟月数", "delay months"): str(int(delay[0])),
            },
            Text(
                f"{age_text(int(age[0])).zh}，{reached} 达到；弹性区间 {window[0].zh} – {window[1].zh}",
                f"{age_text(int(age[0])).en}, reached {reached}; flexible window"
                f" {window[0].en} – {window[1].en}",
            ),
            rule.cited,
        ),
        Step(
            Text("最低缴费年限", "minimum contribution years"),
            Text(
                "按达到法定退休年龄的年份确定；累计缴费年限须达到此数",
                "by the year the statutory age is reached; contribution years must reach it",
            ),
            {
                Text("累计缴费年限", "contribution years"): str(
                    Decimal(years.numerator) / Decimal(years.denominator)
                )
            },
            Text(
                f"{minimum_shown}年 — {'已满足' if met else '未满足：须延长缴费'}",
                f"{minimum_shown} — {'met' if met else 'NOT met: keep paying'}",
            ),
            (
                policy.national(Month(int(reach[0])).first_day()).get(
                    "retirement.minimum_contribution_years"
                ),
            ),
        ),
    ]
    return steps


def _case_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object of the input: each key once, each value a string, number or null (a case
    is flat, so an array or object inside one is refused here, before it can nest deeper); no
    string holds a lone surrogate (``"\\ud800"`` is JSON but no character: a case's ``id`` is
    echoed in its result, which no UTF-8 answer or file could then hold)."""
    record = dict(pairs)
    if len(record) != len(pairs):
        twice = next(key for key, n in Counter(key for key, _ in pairs).items() if n > 1)
        raise InvalidInput(message("json.key-twice", shown=repr(twice[:40])))
    for key, value in pairs:
        if isinstance(value, dict | list):
            kind = "json.object" if isinstance(value, dict) else "json.array"
            raise InvalidInput(message("json.nested", shown=repr(key[:40]), kind=message(kind)))
        if isinstance(value, str) and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidInput(message("json.surrogate", shown=repr(key[:40]))) from None
    return record


def _no_constant(name: str) -> Any:
    raise InvalidInput(message("json.not-number", name=name))


BYTE_ORDER_MARK = "\ufeff"  # what Windows tools write before UTF-8 text ("UTF-8 with BOM")


def parse_json(text: str) -> Any:
    """Cases as JSON text: numbers as exact decimals; no key twice in an object, no NaN or
    Infinity, nesting only as an array of flat objects (the CLI and the API read alike). A
    byte-order mark before the text is read past, as the file intake reads it before a CSV
    header (RFC 8259 §8.1 lets a parser ignore it; ``json.loads`` of a str refuses it)."""
    try:
        return json.loads(
            text.removeprefix(BYTE_ORDER_MARK),
            parse_float=Decimal,
            object_pairs_hook=_case_object,
            parse_constant=_no_constant,
            parse_int=json_integer,
        )
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            message("json.invalid", error=quoted(exc.msg), line=exc.lineno, column=exc.colno)
        ) from None
    except RecursionError:
        raise InvalidInput(message("json.too-deep")) from None
    except IntegerTooLong:
        raise InvalidInput(message("json.integer-too-long", digits=INTEGER_DIGITS_MAX)) from None
    except ValueError as exc:
        raise InvalidInput(
            message("json.not-valid", error=quoted(str(exc).splitlines()[0][:200]))
        ) from None
