"""The average contribution index is used at its region's own decimals (issue 10 §1–2).

信阳 (411500) keeps five decimals from 2025-10 (its table prints 0.68834 and the basic pension
2181.78 needs all five); the province (410000) keeps four. The same inputs must give different
figures in the two: if the per-region precision were ignored, one of these would fail.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from fractions import Fraction

import numpy as np
import pytest

from suiren.domain.errors import ParameterError
from suiren.policy import load_policy
from suiren.policy.pension import (
    OPTIONAL,
    PARAMETERS,
    PensionCases,
    compute_pensions,
    pensions_with_parameters,
)
from suiren.policy.pension_explain import explain_case
from suiren.rules.vector import ParameterColumns, day_number

MONTH = 2500  # 1/30000 year


def _cases(region: str, day: date) -> PensionCases:
    """信阳 2025-10 (henan/9.json): 6738 / 6260, Ī 0.68834, Ī_t 0.65730, 474 / 111 months."""

    def ints(value: int) -> np.ndarray:
        return np.array([value], dtype=np.int64)

    return PensionCases(
        region=np.array([region]),
        day=ints(day_number(day)),
        base_fen=ints(626_000),
        province_base_fen=ints(673_800),
        index_1e6=ints(688_340),
        transitional_index_1e6=ints(657_300),
        years=ints(474 * MONTH),
        deemed_years=ints(111 * MONTH),
        account_fen=ints(5_553_781),
        divisor_tenths=ints(1390),
        age_months=ints(-1),
    )


def test_xinyang_uses_five_decimals_and_the_province_four():
    policy = load_policy()
    xinyang = compute_pensions(policy, _cases("411500", date(2025, 10, 1)))
    assert xinyang.index(0) == Fraction(68834, 100_000)
    assert int(xinyang.basic_fen[0]) == 218_178  # the printed 2181.78
    assert int(xinyang.transitional_fen[0]) == 49_479
    province = compute_pensions(policy, _cases("410000", date(2025, 10, 1)))
    assert province.index(0) == Fraction(6883, 10_000)
    assert int(province.basic_fen[0]) != 218_178
    # before the table's month 信阳 keeps the province's four
    earlier = compute_pensions(policy, _cases("411500", date(2025, 9, 30)))
    assert earlier.index(0) == Fraction(6883, 10_000)


def test_the_explanation_says_to_how_many_decimals_the_index_was_rounded():
    policy = load_policy()
    cases = _cases("411500", date(2025, 10, 1))
    steps = explain_case(cases, compute_pensions(policy, cases), 0)
    index_step = steps[0]
    assert "5 decimals" in index_step.formula.en and "保留5位小数" in index_step.formula.zh
    assert index_step.result == "0.68834"
    assert steps[2].inputs["Ī"] == "0.68834"
    province = _cases("410000", date(2025, 10, 1))
    steps = explain_case(province, compute_pensions(policy, province), 0)
    assert "4 decimals" in steps[0].formula.en and "保留4位小数" in steps[0].formula.zh
    assert steps[0].result == "0.6883"


@pytest.mark.parametrize("decimals", (7, -1, Fraction(9, 2)))
def test_index_decimals_outside_zero_to_six_are_refused(decimals):
    policy = load_policy()
    cases = _cases("411500", date(2025, 10, 1))
    g = policy.look_up(cases.day, cases.region, PARAMETERS, OPTIONAL)
    values = dict(g.values)
    values["index_decimals"] = [replace(v, value=decimals) for v in values["index_decimals"]]
    changed = ParameterColumns(values, g.pair_of_case, g.pairs)
    with pytest.raises(ParameterError, match="index_decimals"):
        pensions_with_parameters(changed, cases)


@pytest.mark.parametrize("unit", (0, Fraction(1, 2), -10))
@pytest.mark.parametrize(
    ("key", "region", "day"),
    [
        ("wage_unit", "370000", date(2025, 1, 1)),  # 山东: the indexed wage to the fen
        ("top_up_unit", "330000", date(2025, 3, 1)),  # 浙江: the total raised to the 角
    ],
)
def test_a_unit_in_fen_that_is_not_a_whole_number_of_fen_is_refused(key, region, day, unit):
    policy = load_policy()
    cases = _cases(region, day)
    g = policy.look_up(cases.day, cases.region, PARAMETERS, OPTIONAL)
    values = dict(g.values)
    assert any(v is not None and v.value for v in values[key]), (key, values[key])
    values[key] = [v if v is None else replace(v, value=unit) for v in values[key]]
    changed = ParameterColumns(values, g.pair_of_case, g.pairs)
    with pytest.raises(ParameterError, match=f"{PARAMETERS[key]} must be a whole number of fen"):
        pensions_with_parameters(changed, cases)
