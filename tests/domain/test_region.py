import pytest

from suiren.domain.errors import UnknownRegion
from suiren.domain.region import NATIONAL, RegionCode, RegionLevel, default_registry


def test_all_provinces_and_prefectures_are_known():
    registry = default_registry()
    assert len(registry.all(RegionLevel.PROVINCE)) == 31
    assert len(registry.all(RegionLevel.PREFECTURE)) == 333


def test_region_levels_parents_names_pinyin():
    gz = RegionCode.parse("440100")
    assert gz.level is RegionLevel.PREFECTURE
    assert gz.name == "广州市" and gz.pinyin == "guangzhou"
    assert str(gz.province) == "440000" and str(gz.parent) == "440000"
    assert RegionCode.parse("500000").pinyin == "chongqing"
    assert default_registry().ancestry("440100") == ("440100", "440000", NATIONAL)


@pytest.mark.parametrize("code", ["440199", "12345", "abcdef", "990000"])
def test_unknown_regions(code):
    with pytest.raises(UnknownRegion):
        RegionCode.parse(code)
