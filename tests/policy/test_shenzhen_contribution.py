"""A Shenzhen worker's contribution is bounded by Shenzhen's own figures (issue 10 §3).

深圳 sets its own floor: 3523 from 2024-01 (40% of 广东's 2022 wage, a step of its phase-in),
then 广东's lowest standard (4492 from 2024-07, 4775 from 2025-07); its ceiling from 2024-07
is the province's figure, recorded for 深圳 (27501, 27549). All are in the parameter files
under "440300" (unverified: a transcribed table citing 深圳市人社局's 政策解读 and 广东's
notices). A lookup for 深圳 finds them before 广东's: the most specific region wins, and
``excludes: ["440300"]`` on 广东's floor keeps 广东's figure from 深圳 where 深圳 has none.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from suiren.domain.errors import ParameterNotFound
from suiren.domain.region import default_registry
from suiren.policy import Policy, load_policy, policy_folder
from suiren.policy.contribution import contribution_bounds
from suiren.rules.loader import load_tree
from suiren.rules.scenario import apply_scenario
from suiren.rules.vector import day_number

FLOOR = "contribution.base.published_floor"
CEILING = "contribution.base.published_ceiling"
SHENZHEN_HEADER = '  "440300":  # 深圳'
GUANGDONG_EXCLUDES = '    excludes: ["440300"]\n'


def bounds_of(policy: Policy, region: str, day: date) -> tuple[int, int, int]:
    found = contribution_bounds(
        policy, np.array([day_number(day)], dtype=np.int64), np.array([region])
    )
    return int(found.wage_fen[0]), int(found.floor_fen[0]), int(found.ceiling_fen[0])


def region_of(policy: Policy, path: str, region: str, day: date) -> str:
    return policy.at(day, region).get(path).region


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


@pytest.mark.parametrize(
    ("day", "floor_fen", "ceiling_fen", "ceiling_region"),
    [
        (date(2024, 1, 1), 352_300, 2_642_100, "440000"),  # ceiling: 深圳's not found (sweep)
        (date(2024, 7, 1), 449_200, 2_750_100, "440300"),
        (date(2025, 6, 30), 449_200, 2_750_100, "440300"),
        (date(2025, 7, 1), 477_500, 2_754_900, "440300"),
    ],
)
def test_a_shenzhen_worker_is_bounded_by_shenzhens_own_figures(
    policy: Policy, day: date, floor_fen: int, ceiling_fen: int, ceiling_region: str
) -> None:
    _, floor, ceiling = bounds_of(policy, "440300", day)
    assert (floor, ceiling) == (floor_fen, ceiling_fen)
    assert region_of(policy, FLOOR, "440300", day) == "440300"
    assert region_of(policy, CEILING, "440300", day) == ceiling_region


def test_shenzhens_2024_floor_is_below_sixty_percent_of_the_wage(policy: Policy) -> None:
    """Without 深圳's own floor a Shenzhen worker would be refused anything below 60% of the
    wage (5284 in 2024-01..06, 5500 from 2024-07): the published figures win."""
    wage, floor, _ = bounds_of(policy, "440300", date(2024, 3, 1))
    assert (wage, floor) == (880_700, 352_300)
    assert floor < wage * 6 // 10


def test_the_rest_of_guangdong_keeps_its_figures(policy: Policy) -> None:
    # 2024 (粤人社发〔2024〕33号): 广州 and 省直 5500, 珠海, 佛山, 东莞, 中山 4767, elsewhere
    # 4492; 2025 (粤人社发〔2025〕32号): 5510 and 4775
    assert bounds_of(policy, "440100", date(2024, 7, 1)) == (916_700, 550_000, 2_750_100)
    assert bounds_of(policy, "440600", date(2024, 7, 1)) == (916_700, 476_700, 2_750_100)
    assert bounds_of(policy, "440700", date(2024, 7, 1)) == (916_700, 449_200, 2_750_100)
    assert region_of(policy, FLOOR, "440700", date(2024, 7, 1)) == "440000"
    assert bounds_of(policy, "440100", date(2025, 7, 1)) == (918_300, 551_000, 2_754_900)
    assert bounds_of(policy, "440600", date(2025, 7, 1)) == (918_300, 477_500, 2_754_900)
    assert bounds_of(policy, "440700", date(2025, 7, 1)) == (918_300, 477_500, 2_754_900)


def policy_without_shenzhens_floor(tmp_path: Path, exclude: bool) -> Policy:
    """The real parameters less 深圳's own floor entries (and, unless ``exclude``, less the
    ``excludes`` on 广东's floor): what a Shenzhen worker would read without them."""
    folder = tmp_path / "parameters"
    shutil.copytree(policy_folder() / "parameters", folder)
    path = folder / "contribution" / "base" / "published_floor.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(SHENZHEN_HEADER) == 1 and text.count(GUANGDONG_EXCLUDES) == 1
    text = text[: text.index(SHENZHEN_HEADER)]  # 深圳's block is the file's last
    if not exclude:
        text = text.replace(GUANGDONG_EXCLUDES, "")
    path.write_text(text, encoding="utf-8")
    registry = default_registry()
    law = policy_folder() / "scenarios" / "current_law.yaml"
    return Policy(apply_scenario(load_tree(folder, registry), law, registry), registry)


def test_guangdongs_floor_is_never_read_for_shenzhen(tmp_path: Path) -> None:
    """Where 深圳 has no floor of its own, it gets none of 广东's (60% of the wage applies),
    never the rest of the province's figure."""
    policy = policy_without_shenzhens_floor(tmp_path, exclude=True)
    day = date(2024, 7, 1)
    with pytest.raises(ParameterNotFound, match="region 440300"):
        policy.at(day, "440300").get(FLOOR)
    assert bounds_of(policy, "440300", day)[1] == 550_000  # 60% × 9167, to the yuan
    assert bounds_of(policy, "440700", day)[1] == 449_200  # the rest of 广东 keeps 4492


def test_without_excludes_guangdongs_floor_would_reach_shenzhen(tmp_path: Path) -> None:
    """The same copy without ``excludes``: 深圳 would read 广东's 4492 — what the
    ``excludes`` on 广东's floor prevents (and 深圳's own figures make moot while present)."""
    policy = policy_without_shenzhens_floor(tmp_path, exclude=False)
    found = policy.at(date(2024, 7, 1), "440300").get(FLOOR)
    assert (found.value, found.region) == (4492, "440000")
