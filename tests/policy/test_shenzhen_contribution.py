"""A Shenzhen worker's contribution is bounded by Shenzhen's own figures (issue 10 §3).

深圳 sets its own contribution bounds; 广东's published figures are the rest of the
province's. An ``excludes: ["440300"]`` on 广东's entry of a contribution parameter makes a
lookup for 深圳 pass 广东's figure over, as it already does for the 计发基数. 深圳's own figures
are not in the parameter files yet (no published source found: the coverage sweep lists
them in ``KNOWN_MISSING``), so the tests below add clearly synthetic ones to a copy of the
real parameters: what is tested is that the contribution reads them, for Shenzhen only.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from suiren.domain.errors import ParameterNotFound
from suiren.domain.region import default_registry
from suiren.policy import Policy, policy_folder
from suiren.policy.contribution import contribution_bounds
from suiren.rules.loader import load_tree
from suiren.rules.scenario import apply_scenario
from suiren.rules.vector import day_number

SYNTHETIC = "{verified: false, why: a synthetic test figure (not Shenzhen's)}"
SHENZHEN = {  # file -> (深圳's synthetic figure from 2025-07-01, yuan)
    "average_monthly_wage.yaml": 12_000,
    "published_floor.yaml": 7_000,
    "published_ceiling.yaml": 36_000,
}
GUANGDONG_HEADER = '  "440000":  # 广东\n    values:\n'
DAY = date(2025, 7, 1)


def policy_with_shenzhen(tmp_path: Path, exclude: bool) -> Policy:
    folder = tmp_path / "parameters"
    shutil.copytree(policy_folder() / "parameters", folder)
    for name, figure in SHENZHEN.items():
        path = folder / "contribution" / "base" / name
        text = path.read_text(encoding="utf-8")
        assert text.count(GUANGDONG_HEADER) == 1, name
        excludes = '    excludes: ["440300"]\n' if exclude else ""
        text = text.replace(GUANGDONG_HEADER, GUANGDONG_HEADER.replace("\n", "\n" + excludes, 1))
        text += (
            f'  "440300":  # 深圳 (synthetic)\n    values:\n      {DAY.isoformat()}:\n'
            f"        value: {figure}\n        reference: {SYNTHETIC}\n"
        )
        path.write_text(text, encoding="utf-8")
    registry = default_registry()
    law = policy_folder() / "scenarios" / "current_law.yaml"
    return Policy(apply_scenario(load_tree(folder, registry), law, registry), registry)


def bounds_of(policy: Policy, region: str) -> tuple[int, int, int]:
    found = contribution_bounds(
        policy, np.array([day_number(DAY)], dtype=np.int64), np.array([region])
    )
    return int(found.wage_fen[0]), int(found.floor_fen[0]), int(found.ceiling_fen[0])


@pytest.fixture(scope="module")
def with_shenzhen(tmp_path_factory: pytest.TempPathFactory) -> Policy:
    return policy_with_shenzhen(tmp_path_factory.mktemp("sz"), exclude=True)


def test_a_shenzhen_worker_is_bounded_by_shenzhens_own_figures(with_shenzhen: Policy) -> None:
    assert bounds_of(with_shenzhen, "440300") == (1_200_000, 700_000, 3_600_000)


def test_the_rest_of_guangdong_keeps_its_figures(with_shenzhen: Policy) -> None:
    # 粤人社发〔2025〕32号: wage 9183, ceiling 27549; floor 5510 in 广州, 4775 elsewhere
    assert bounds_of(with_shenzhen, "440100") == (918_300, 551_000, 2_754_900)
    assert bounds_of(with_shenzhen, "440600") == (918_300, 477_500, 2_754_900)  # 佛山


def test_a_figure_the_province_excludes_shenzhen_from_is_never_read_for_it(
    with_shenzhen: Policy,
) -> None:
    """Before 深圳's own first figure nothing of 广东's is read for it: no value, a clear
    error naming the region, rather than the rest of the province's figure."""
    view = with_shenzhen.at(date(2025, 6, 30), "440300")
    for path in ("contribution.base.published_ceiling", "contribution.base.average_monthly_wage"):
        with pytest.raises(ParameterNotFound, match="region 440300"):
            view.get(path)
    assert view.get("pension.base").region == "440300"  # as its 计发基数 already was


def test_without_excludes_shenzhens_own_figures_still_win(tmp_path: Path) -> None:
    """The city's own figure is the more specific one either way; ``excludes`` is what keeps
    广东's figure from Shenzhen where 深圳 has none of its own (the test above)."""
    policy = policy_with_shenzhen(tmp_path, exclude=False)
    assert bounds_of(policy, "440300") == (1_200_000, 700_000, 3_600_000)
    found = policy.at(date(2025, 6, 30), "440300").get("contribution.base.published_ceiling")
    assert (found.value, found.region) == (27501, "440000")
