"""Administrative region codes (行政区划代码), GB/T 2260.

A six-digit code: two digits of province, two of prefecture, two of county. Every pooled
fund belongs to a region, and every parameter may be overridden by region: a city's value
overrides its province's, a province's overrides the national one.

The registry is data (``data/regions.csv``: code, name, short name, pinyin, level,
parent); ``load_registry`` reads it from a path, ``default_registry`` from the package.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path

from suiren.domain.errors import UnknownRegion
from suiren.domain.messages import text

NATIONAL = "000000"
"""The pseudo-region of national parameters (全国); never a paying region."""

_CODE_RE = re.compile(r"[0-9]{6}", re.ASCII)  # a full match: six ASCII digits


class RegionLevel(StrEnum):
    NATION = "nation"
    PROVINCE = "province"
    PREFECTURE = "prefecture"
    COUNTY = "county"


@dataclass(frozen=True, slots=True)
class Region:
    """One entry of the registry."""

    code: str
    name: str
    short_name: str
    pinyin: str
    level: RegionLevel
    parent: str | None

    @property
    def province_code(self) -> str:
        return self.code[:2] + "0000"


class RegionRegistry:
    """The known regions, looked up by code, with their ancestry."""

    def __init__(self, regions: list[Region]) -> None:
        self._by_code = {r.code: r for r in regions}

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __len__(self) -> int:
        return len(self._by_code)

    def get(self, code: str) -> Region:
        """The region for ``code``; an ``UnknownRegion`` error names the code if it is not known."""
        if not isinstance(code, str) or not _CODE_RE.fullmatch(code):
            shown = repr(code[:40]) if isinstance(code, str) else type(code).__name__
            raise UnknownRegion(text("region.form", shown=shown))
        region = self._by_code.get(code)
        if region is None:
            raise UnknownRegion(text("region.unknown", code=code))
        return region

    def ancestry(self, code: str) -> tuple[str, ...]:
        """``code`` and its ancestors, most specific first, ending with the nation."""
        if code == NATIONAL:
            return (NATIONAL,)
        chain: list[str] = []
        current: str | None = self.get(code).code
        while current is not None:
            chain.append(current)
            current = self._by_code[current].parent
        chain.append(NATIONAL)
        return tuple(chain)

    def province_of(self, code: str) -> Region:
        return self.get(self.get(code).province_code)

    def all(self, level: RegionLevel | None = None) -> list[Region]:
        regions = sorted(self._by_code.values(), key=lambda r: r.code)
        return [r for r in regions if level is None or r.level is level]


def load_registry(path: Path) -> RegionRegistry:
    """Read a regions CSV (code,name,short_name,pinyin,level,parent)."""
    regions: list[Region] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            regions.append(
                Region(
                    code=row["code"],
                    name=row["name"],
                    short_name=row["short_name"],
                    pinyin=row["pinyin"],
                    level=RegionLevel(row["level"]),
                    parent=row["parent"] or None,
                )
            )
    return RegionRegistry(regions)


@cache
def default_registry() -> RegionRegistry:
    """The registry shipped with Suiren (read once, then cached)."""
    with resources.as_file(resources.files("suiren.domain") / "data" / "regions.csv") as path:
        return load_registry(path)


@dataclass(frozen=True, slots=True)
class RegionCode:
    """A checked region code, known to the default registry."""

    code: str

    @classmethod
    def parse(cls, text: str) -> RegionCode:
        return cls(default_registry().get(text).code)

    @property
    def region(self) -> Region:
        return default_registry().get(self.code)

    @property
    def level(self) -> RegionLevel:
        return self.region.level

    @property
    def parent(self) -> RegionCode | None:
        parent = self.region.parent
        return RegionCode(parent) if parent else None

    @property
    def province(self) -> RegionCode:
        return RegionCode(self.region.province_code)

    @property
    def name(self) -> str:
        return self.region.name

    @property
    def pinyin(self) -> str:
        return self.region.pinyin

    def __str__(self) -> str:
        return self.code
