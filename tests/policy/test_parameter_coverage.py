"""Every province and every city with its own parameters has every parameter, every month.

For each of the 31 provinces (GB/T 2260) and each city that has a value of its own of any
parameter swept here, and for each month from 2015-01 (1998-01 for an interest run: accounts
earn interest from 1998, services/interest.py ``YEAR_MIN``) to December of the latest
published year (the latest year with a 计发基数 of any region), the parameters that a
contribution, an interest run, a transfer quote and a pension estimate read are looked up — one vectorized
``look_up`` per parameter set over all (month, region) pairs — and every hole is reported at
once, grouped by parameter and region with the months missing.

A hole is:

- *missing*: the parameter has no value that day for the region or any ancestor;
- *carried forward*: a yearly series (average wage, published bounds, 计发基数, crediting
  rate) applies a value twelve months or more after it started although a later one is in
  the file (a year between them is missing: Hunan's 2024 wage), or 24 months or more after
  it started at the end of the series (the latest year is missing, not merely unpublished);
- *unpublished*: an optional parameter (a published floor, where 60% of the wage applies
  otherwise) that the region is known to publish (``PUBLISHED_FROM``) is absent;
- *older than its pair*: a published floor in force that started before the published
  ceiling in force, or the other way round (福建 2025: a new ceiling, the 2024 floor);
- *excluded*: the value comes from a region whose figure is published as excluding this
  city (广东（不含深圳）, 辽宁（不含沈阳、大连）, 吉林（不含长春）, 湖北's 第一档 for its
  第二档 and 第三档 cities; 山东's 计发基数 of 2021 and 2023 on for 菏泽, ``EXCLUDED_IN``):
  a Shenzhen worker must never be paid with Guangdong's base. The rules' ``excludes`` make a
  lookup pass such a figure over (the 计发基数); this check stands guard over them and names
  the contribution figures that still fall back. Every city named here or excluded in a
  parameter file is swept, with or without a value of its own.

Holes that could not be filled from a published source are listed in ``KNOWN_MISSING`` with
their reason; the test fails on any hole that is not listed (a new one) and on any entry of
the list that no longer matches a hole (a filled one: shrink the list).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import numpy as np
import pytest

from suiren.domain.region import NATIONAL, RegionLevel, default_registry
from suiren.policy import Policy, load_policy
from suiren.policy.contribution import BOUND_PARAMETERS, SPLIT_PARAMETERS
from suiren.policy.pension import OPTIONAL as PENSION_OPTIONAL
from suiren.policy.pension import PARAMETERS as PENSION_PARAMETERS
from suiren.rules.parameters import ParameterNode
from suiren.rules.vector import ParameterColumns, day_number

FIRST_YEAR = 2015
INTEREST_FIRST_YEAR = 1998  # an interest run's first year (services/interest.py YEAR_MIN)

CONTRIBUTION = {**BOUND_PARAMETERS, **SPLIT_PARAMETERS}
CONTRIBUTION_OPTIONAL = frozenset({"floor", "ceiling"})  # absent: ratio × wage applies
INTEREST = {
    "rate": "account.interest_rate",  # policy/interest.py year_rate
    "in_year_factor": "account.in_year_interest_factor",
}
TRANSFER = {  # policy/transfer.py quote_transfer and temporary_account
    "temporary_accounts": "transfer.temporary_accounts",
    "temporary_age_male": "transfer.temporary_account_age_male",
    "temporary_age_female": "transfer.temporary_account_age_female",
    "whole_entitlement": "transfer.pooled_entitlement_moves",
    "pooled_share": "transfer.pooled_share_of_base",
    "pooled_since": "transfer.pooled_since_month",
}
ESTIMATE = {  # services/career.py estimate: the formula's parameters, the base, the index
    **PENSION_PARAMETERS,
    "base": "pension.base",
    "wage": "contribution.base.average_monthly_wage",
    "paying_rule": "pension.paying_region.rule",
    "paying_years_min": "pension.paying_region.years_min",
}
PARAMETER_SETS: dict[str, tuple[dict[str, str], frozenset[str]]] = {
    "contribution": (CONTRIBUTION, CONTRIBUTION_OPTIONAL),
    "interest": (INTEREST, frozenset()),
    "transfer": (TRANSFER, frozenset()),
    "estimate": (ESTIMATE, PENSION_OPTIONAL),
}
SET_FIRST_YEAR = {"interest": INTEREST_FIRST_YEAR}  # the others from FIRST_YEAR
YEARLY = {  # published once a year: a value older than last year's is a missing year
    "contribution.base.average_monthly_wage",
    "contribution.base.published_floor",
    "contribution.base.published_ceiling",
    "pension.base",
    "account.interest_rate",
}
HUBEI_OWN_BASES = (  # 湖北's cities with a 计发基数 of their own (第二档 and 第三档)
    "420200", "420300", "420500", "420600", "420700", "420800",
    "420900", "421000", "421100", "421200", "421300", "422800",
)  # fmt: skip
EXCLUDED = {  # (parameter, region whose figure is published without these cities)
    ("pension.base", "440000"): frozenset({"440300"}),  # 广东（不含深圳）
    ("pension.base", "210000"): frozenset({"210100", "210200"}),  # 辽宁（不含沈阳、大连）
    ("pension.base", "220000"): frozenset({"220100"}),  # 吉林（不含长春、农垦）
    # 湖北: the province's figure is 省直's (第一档, as 武汉); every other city has its own
    ("pension.base", "420000"): frozenset(HUBEI_OWN_BASES),
    # 深圳 sets its own contribution bounds and index wage (its 计发基数 is its own): 广东's
    # figures, the rest of the province's, are no Shenzhen worker's. 深圳's floor (from
    # 2024-01) and ceiling (from 2024-07) are in the file; KNOWN_MISSING names what still
    # falls back (the wage, the 2023-07 ceiling)
    **{
        (path, "440000"): frozenset({"440300"})
        for path in (
            "contribution.base.average_monthly_wage",
            "contribution.base.published_floor",
            "contribution.base.published_ceiling",
        )
    },
    # 湖北's contribution figures are 第一档's (武汉/省直): 第二档 and 第三档 cities have their own
    **{
        (path, "420000"): frozenset(HUBEI_OWN_BASES)
        for path in (
            "contribution.base.average_monthly_wage",
            "contribution.base.published_floor",
            "contribution.base.published_ceiling",
        )
    },
}

# (parameter, region, city): the months (YYYY-MM, inclusive) in which the region's figure is
# published without the city; outside them the city reads it. 山东's 计发基数 of 2021 and of
# 2023 on excludes 菏泽's enterprises (鲁人社字〔2025〕100号: 除菏泽市以外); 2016's source says
# every locality used the provincial figure (各地), and 2016–2019 are read for 菏泽
EXCLUDED_IN = {
    ("pension.base", "370000", "371700"): (("2021-01", "2021-12"), ("2023-01", "9999-12")),
}

PUBLISHED_FROM = {  # an optional parameter a region is known to publish from the month on
    # 广东 tiers its floor (广州 and province-level units above the rest) since 2024-07, as
    # 粤人社发〔2025〕32号 does for 2025-07: 60% of the wage computed for everyone is wrong
    ("contribution.base.published_floor", "440000"): "2024-07",
    ("contribution.base.published_floor", "440100"): "2024-07",
}

NO_SOURCE = "no published source found"
ALL_PROVINCES = "*"


@dataclass(frozen=True)
class Known:
    """A known hole: ``path`` in ``regions`` (codes, or ``*`` for every swept region less
    the ``-code``s after it) over
    the months ``first``..``last`` (YYYY-MM, inclusive), with the reason it stays open."""

    path: str
    regions: str  # space-separated codes, or "*" (every swept region) then "-code"s it excludes
    first: str
    last: str
    reason: str

    def names(self, region: str) -> bool:
        codes = self.regions.split()
        if codes[0] == ALL_PROVINCES:
            return f"-{region}" not in codes
        return region in codes

    def covers(self, path: str, region: str, month: str) -> bool:
        return path == self.path and self.names(region) and self.first <= month <= self.last


WAGES_NOT_COLLECTED = (
    f"{NO_SOURCE}: the wage a province used for contribution bases before its first entry was"
    " found neither in a notice nor in a transcription that names the year it applies to;"
    " before the 全口径 switch (2019–2020) provinces used an 在岗 or non-private average,"
    " often city by city, and transcriptions that give the old caliber's figure for the"
    " switch year were not taken"
)
BEIJING_2015 = (
    f"{NO_SOURCE}: 北京's wage for 2015-01..09; the transcribed table of its bounds (历年养老、失业、工伤"
    " 保险缴费基数上下限一览表, whose 2015-10..2019-06 ceilings ÷ 3 are in the file) starts with"
    " 2015-10, and the 2014 contribution year's figure and its end were not found"
)
YUNNAN_EARLY_2019 = (
    f"{NO_SOURCE}: 云南's wage for 2019-01..04; its 2018 在岗 figure (6126, 2015–2018 in the file from"
    " a transcribed table by 缴费年度) is carried forward until the 全口径 figure of 云人社发〔2019〕19号"
    " (5179, from 2019-05-01), and what applied before May 2019 was not found"
)
GANSU_2020 = (
    f"{NO_SOURCE}: 甘肃's 2020 wage; two transcriptions of the same repository disagree (5542,"
    " the 缴费基数 of 甘人社通〔2020〕 with its number not recorded, and 5155.75 in its wage"
    " series), and the notice was not found"
)
JIANGSU_2019 = (
    f"{NO_SOURCE}: 江苏's 2019 wage; the transcribed 2019 index base (指数基数 86590 a year,"
    " non-private) and the transcribed 2019 ceiling (16842 = 3 × 5614) name different wages,"
    " and the notice saying which applied to the 2019 bounds was not found"
)
JIANGSU_2015 = (
    f"{NO_SOURCE}: 江苏's 2015 wage; the transcribed index-base compilation gives 61783 a year"
    " (5148.58) and the transcribed ceiling table 16200 (3 × 5400, its 2014 figure repeated, where"
    " 苏人社发〔2014〕255号 as transcribed set 2014's ceiling at 14496 = 3 × 4832), and the 2015"
    " notice was not found; 2016–2018, where the two agree, are in the file"
)
HEILONGJIANG_2019 = (
    f"{NO_SOURCE}: 黑龙江's 2019 wage; the transcribed wage series gives 4608 and the transcribed"
    " 计发基数 notice (黑人社规〔2018〕22号, 56820 a year) 4735, where the two agree 2015–2018 and"
    " 2020–2021, and neither notice was read"
)
ZHEJIANG_2020 = (
    f"{NO_SOURCE}: 浙江's 2020 wage; one transcription gives 5690 as the wage and 5960 as the"
    " 计发基数 of the same year, and the notice was not found"
)
SHANGHAI_APRIL_2019 = (
    f"{NO_SOURCE}: whether 上海's April 2019 used the 2018 figure (7132, from 2018-04-01) or the"
    " 2019 one; the source dates the 2018 year to 2019-03-31 and the 2019 figures (8211, under"
    " 国办发〔2019〕13号) from 2019-05-01, so the 2018 figure stands for the month"
)
SHANGHAI_LONG_YEAR = (
    "上海's 2019 contribution year ran fourteen months, 2019-05-01..2020-06-30 (as transcribed"
    " with the notice of 2019-06-21); its figure applies in 2020-05 and 2020-06 as the agency"
    " applied it"
)
HEZE_BASE = (
    f"{NO_SOURCE}: 菏泽's own 计发基数 for 2021 and 2023 on; 山东's of those years is published"
    " without 菏泽's enterprises (鲁人社字〔2025〕100号: '除菏泽市以外…7831元'), so it is not read"
    " for 菏泽; a public calculator's 7506 for 2025 is, by its own commits, 山东's 2024 wage or an"
    " old-caliber figure, and was not taken. 2022 (and 2015, 2020) are holes for all 山东"
)
BASE_NOT_COLLECTED = (
    f"{NO_SOURCE} in the file: the 计发基数 before the first entry (or the year named) has not"
    " been collected from a provincial notice or a 核定表"
)
SHENZHEN_WAGE = (
    f"{NO_SOURCE}: 深圳's own average wage (its 社平, the index wage) was not found for any year;"
    " a Shenzhen worker's wage is 广东's (in the file from 2015-07), and this entry says so"
    " (深圳's bounds from 2024 are its own, published_floor/published_ceiling 440300). A"
    " transcribed 深圳 series by 社保年度 (1990–2020, 2021–2024 marked placeholders by its"
    " author) does not say from which month each figure applied and was not taken"
)
SHENZHEN_2023_CEILING = (
    f"{NO_SOURCE}: 深圳's ceiling for 2023-07..2024-06 (its own figures in the file start with"
    " the 2024-01 floor, 3523, and the 2024-07 ceiling, 27501); until found a Shenzhen worker"
    " is capped by 广东's 26421, which 2024-01..06 also shows as older than 深圳's floor"
)
TIANJIN_BASES = (
    f"{NO_SOURCE}: 天津's 计发基数 2015–2018; the one transcribed series (a public calculator's"
    " PROV_BASE, said there to equal its 社平 table before 2020) gives 6350, 6731, 7073, 7540 for 2015–2018"
    " and 6323 for 2019, while the file's 2019 entry (津人社局发〔2020〕16号 as transcribed: 2018's"
    " 在岗 wage) is 7540 — the series is keyed a year apart from it — and no notice was read"
)
YUNNAN_BASES = (
    f"{NO_SOURCE}: 云南's 计发基数 2015–2017; one transcriber's two series disagree by a year — its"
    " PROV_BASE (liubigfatty/pension-calculator cloudfunctions/calculate/provinces/yunnan.js) gives"
    " 4585, 5297, 6126 for 2015–2017 (and 6126 again for 2018), its base_rates (yunnan.json beside"
    " it) 3984, 4585, 5297 — where the notices it records (云人社发〔2011〕99号: 2010's 在岗 wage 2515 for"
    " 2011; 云人社发〔2018〕?号: 2017's 6126 '适用于2018年退休人员') fit the second; no notice of"
    " 2015–2017 was read"
)
JILIN_BASES = (
    f"{NO_SOURCE}: 吉林's provincial 计发基数 before 2024; the transcriptions disagree — one"
    " series gives 2022 = 6709.83 and 2023 = 7058.67 (the figure a 四平 2023-10 table, a policy"
    " case, computes with), another 6384.83 and 6655.33 (the 四平 table's first transcription"
    " read 6655.33 and 6709.83 as its two bases), and the 2015–2019 figures with document numbers"
    " come from a file whose 长春 column is the province's × 1.1 to the fen in each year to 2019 and"
    " whose 2020 (5088.42) falls 17% below 2019; no notice was read"
)
HUBEI_TIERS = (
    f"{NO_SOURCE}: 湖北 sets the 计发基数 city by city (省直 and 武汉 in 第一档); the city table"
    " in the file starts with 2024 (武汉 and 荆州 2023, read off tables paid before 2024's was"
    " published), and no earlier year's city bases were found. 武汉's 2020–2022 disagree: a"
    " transcribed 2022-11 武汉 case (no table named; its basic pension 1 fen off) says 7753 is"
    " 2022's, the same transcriber's series gives 2020 = 7753, 2021 = 8125, 2022 = 8531 with no"
    " source; neither is taken"
)
JIANGSU_2023_CEILING = (
    f"{NO_SOURCE}: 江苏's 2023 ceiling; 24042 is transcribed as 苏人社发〔2023〕62号's provisional"
    " (临时) ceiling — a public calculator shows the range 4494–24042, the 2022 floor with it"
    " (public code ref 53675505851) — but it is not 3 × the 2022 wage of that notice (7839.17),"
    " and the ceiling finally applied in 2023 was not found"
)
HUBEI_CONTRIBUTION_TIERS = (
    f"{NO_SOURCE}: 湖北 publishes its contribution figures in three tiers (the province's here"
    " are 第一档's, 武汉/省直); 第二档's and 第三档's are in the file from 2025 only — a"
    " transcribed table gives their 2024 wages (6948, 6805) but no bounds — so until then"
    " these cities are quoted 第一档's figures"
)
PUBLISHED_LATE = (
    "the province's new contribution year starts when its notice takes effect (天津 2026-09-01,"
    " 重庆 2026-08-26); the previous year's figures apply until then, as the agency applies them"
)

# fmt: off
KNOWN_MISSING: tuple[Known, ...] = (
    Known(
        "contribution.base.average_monthly_wage", "440000 440100 440400 440600 441900 442000",
        "2015-01", "2015-06",
        WAGES_NOT_COLLECTED,
    ),
    Known("contribution.base.average_monthly_wage", "140000", "2015-01", "2018-12", WAGES_NOT_COLLECTED),
    Known(
        "contribution.base.average_monthly_wage", "370000 371700", "2015-01", "2015-12",
        WAGES_NOT_COLLECTED,
    ),
    Known("contribution.base.average_monthly_wage", "530000", "2019-01", "2019-04", YUNNAN_EARLY_2019),
    Known("contribution.base.average_monthly_wage", "110000", "2015-01", "2015-09", BEIJING_2015),
    Known(
        "contribution.base.average_monthly_wage", "520000 630000 640000 650000", "2015-01", "2018-12",
        WAGES_NOT_COLLECTED,
    ),
    Known("contribution.base.average_monthly_wage", "320000", "2015-01", "2015-12", JIANGSU_2015),
    Known("contribution.base.average_monthly_wage", "130000", "2015-01", "2016-12", WAGES_NOT_COLLECTED),
    Known("contribution.base.average_monthly_wage", "340000", "2016-01", "2016-12", WAGES_NOT_COLLECTED),
    Known("contribution.base.average_monthly_wage", "430000", "2017-01", "2018-12", WAGES_NOT_COLLECTED),
    Known("contribution.base.average_monthly_wage", "500000", "2015-01", "2016-12", WAGES_NOT_COLLECTED),
    Known(
        "contribution.base.average_monthly_wage",
        "430000 520000 630000 640000 650000",
        "2019-01", "2019-12", WAGES_NOT_COLLECTED,
    ),
    Known("contribution.base.average_monthly_wage", "230000", "2019-01", "2019-12", HEILONGJIANG_2019),
    Known("contribution.base.average_monthly_wage", "320000", "2019-01", "2019-12", JIANGSU_2019),
    Known(
        "contribution.base.average_monthly_wage",
        "150000 350000 420000 420100 610000 620000 " + " ".join(HUBEI_OWN_BASES),
        "2015-01", "2019-12", WAGES_NOT_COLLECTED,
    ),
    Known(
        "contribution.base.average_monthly_wage", "330000", "2015-01", "2018-12", WAGES_NOT_COLLECTED,
    ),
    # 江西 2016 and from 2019-05 (赣人社字〔2019〕187号's 全口径 wage), 广西 2019 (桂人社发〔2018〕54号),
    # 海南 2016-01..2019-06 (its 在岗 notices), each as reported on third-party pages
    Known("contribution.base.average_monthly_wage", "360000", "2015-01", "2015-12", WAGES_NOT_COLLECTED),
    Known("contribution.base.average_monthly_wage", "360000", "2017-01", "2019-04", WAGES_NOT_COLLECTED),
    # 安徽 from 2019-05 (its 全口径 figure as 巢湖 and 滁州 report it); 浙江 2019-07 (浙人社发〔2019〕24号
    # as 杭州 applied it from July); 河北's 2019 both calibers, as 石家庄 reported them
    Known("contribution.base.average_monthly_wage", "340000", "2019-01", "2019-04", WAGES_NOT_COLLECTED),
    Known("contribution.base.average_monthly_wage", "330000", "2019-01", "2019-06", WAGES_NOT_COLLECTED),
    Known("contribution.base.average_monthly_wage", "450000", "2015-01", "2018-12", WAGES_NOT_COLLECTED),
    Known("contribution.base.average_monthly_wage", "460000", "2015-01", "2015-12", WAGES_NOT_COLLECTED),
    Known("contribution.base.average_monthly_wage", "460000", "2019-07", "2019-12", WAGES_NOT_COLLECTED),
    Known(
        "contribution.base.average_monthly_wage", "410000 410100 410200 410300 410400 410700 411500",
        "2016-01", "2020-06", WAGES_NOT_COLLECTED,
    ),
    Known(
        "contribution.base.average_monthly_wage",
        "150000 350000 360000 420000 420100 450000 460000 610000 " + " ".join(HUBEI_OWN_BASES),
        "2020-01", "2020-12", WAGES_NOT_COLLECTED,
    ),
    Known("contribution.base.average_monthly_wage", "330000", "2020-01", "2020-12", ZHEJIANG_2020),
    Known("contribution.base.average_monthly_wage", "620000", "2020-01", "2020-12", GANSU_2020),
    Known("contribution.base.average_monthly_wage", "220000 220100", "2015-01", "2021-06", WAGES_NOT_COLLECTED),
    Known(
        "contribution.base.average_monthly_wage", "210000 210100 210200", "2015-01", "2020-12",
        WAGES_NOT_COLLECTED,
    ),
    Known("contribution.base.average_monthly_wage", "310000", "2019-04", "2019-04", SHANGHAI_APRIL_2019),
    Known("contribution.base.average_monthly_wage", "310000", "2020-05", "2020-06", SHANGHAI_LONG_YEAR),
    Known("contribution.base.average_monthly_wage", "120000 500000", "2026-01", "2026-08", PUBLISHED_LATE),
    Known("contribution.base.published_floor", "120000 500000", "2026-01", "2026-08", PUBLISHED_LATE),
    Known("contribution.base.published_ceiling", "120000 500000", "2026-01", "2026-08", PUBLISHED_LATE),
    Known("contribution.base.average_monthly_wage", "440300", "2015-01", "2026-12", SHENZHEN_WAGE),
    Known("contribution.base.published_ceiling", "440300", "2023-07", "2024-06", SHENZHEN_2023_CEILING),
    Known("contribution.base.published_ceiling", "320000", "2023-01", "2023-12", JIANGSU_2023_CEILING),
    Known("pension.base", "120000", "2015-01", "2018-12", TIANJIN_BASES),
    Known("pension.base", "530000", "2015-01", "2017-12", YUNNAN_BASES),
    Known(
        "pension.base", "210000 210100 210200 220100 310000 360000 440300 620000", "2015-01",
        "2019-12", BASE_NOT_COLLECTED,
    ),
    Known("pension.base", "150000 330000", "2015-01", "2020-12", BASE_NOT_COLLECTED),
    Known("pension.base", "130000 500000 520000", "2015-01", "2021-12", BASE_NOT_COLLECTED),
    Known("pension.base", "340000", "2015-01", "2019-12", BASE_NOT_COLLECTED),
    Known("pension.base", "340000", "2021-01", "2021-12", BASE_NOT_COLLECTED),
    Known(
        "pension.base", "440000 440100 440400 440600 441900 442000 450000", "2015-01", "2019-12",
        BASE_NOT_COLLECTED,
    ),
    Known("pension.base", "630000", "2015-01", "2020-12", BASE_NOT_COLLECTED),
    Known("pension.base", "510000", "2015-01", "2020-12", BASE_NOT_COLLECTED),
    Known("pension.base", "320000", "2015-01", "2019-12", BASE_NOT_COLLECTED),
    Known("pension.base", "110000", "2015-01", "2019-12", BASE_NOT_COLLECTED),
    Known("pension.base", "650000", "2015-01", "2021-12", BASE_NOT_COLLECTED),
    Known(
        "pension.base",
        "410000 410100 410200 410300 410400 410700 411500 640000",
        "2015-01", "2022-12", BASE_NOT_COLLECTED,
    ),
    Known("pension.base", "350000", "2015-01", "2021-12", BASE_NOT_COLLECTED),
    Known("pension.base", "610000", "2015-01", "2019-12", BASE_NOT_COLLECTED),
    Known("pension.base", "610000", "2022-01", "2022-12", BASE_NOT_COLLECTED),
    Known("pension.base", "140000", "2015-01", "2018-12", BASE_NOT_COLLECTED),
    Known("pension.base", "140000", "2020-01", "2022-12", BASE_NOT_COLLECTED),
    Known("pension.base", "370000 371700", "2015-01", "2015-12", BASE_NOT_COLLECTED),
    Known("pension.base", "370000 371700", "2020-01", "2020-12", BASE_NOT_COLLECTED),
    Known("pension.base", "370000 371700", "2022-01", "2022-12", BASE_NOT_COLLECTED),
    Known("pension.base", "371700", "2021-01", "2021-12", HEZE_BASE),
    Known("pension.base", "371700", "2023-01", "2026-12", HEZE_BASE),
    Known("pension.base", "430000", "2015-01", "2020-12", BASE_NOT_COLLECTED),
    Known("pension.base", "460000", "2015-01", "2020-12", BASE_NOT_COLLECTED),
    Known("pension.base", "460000", "2022-01", "2023-12", BASE_NOT_COLLECTED),
    Known("pension.base", "220000", "2015-01", "2023-12", JILIN_BASES),
    Known("pension.base", "420100", "2015-01", "2022-12", HUBEI_TIERS),
    Known(
        "contribution.base.average_monthly_wage", " ".join(HUBEI_OWN_BASES), "2021-01", "2024-12",
        HUBEI_CONTRIBUTION_TIERS,
    ),
    Known(
        "contribution.base.published_floor", " ".join(HUBEI_OWN_BASES), "2024-01", "2024-12",
        HUBEI_CONTRIBUTION_TIERS,
    ),
    Known(
        "contribution.base.published_ceiling", " ".join(HUBEI_OWN_BASES), "2024-01", "2024-12",
        HUBEI_CONTRIBUTION_TIERS,
    ),
    Known(
        "pension.base", " ".join(("420000", *(c for c in HUBEI_OWN_BASES if c != "421000"))), "2015-01",
        "2023-12", HUBEI_TIERS,
    ),
    Known("pension.base", "421000", "2015-01", "2022-12", HUBEI_TIERS),
    Known("pension.base", "410400", "2026-01", "2026-12", BASE_NOT_COLLECTED),
)
# fmt: on


@dataclass(frozen=True)
class Hole:
    path: str
    region: str
    month: str  # YYYY-MM
    kind: str  # missing | unpublished | carried forward | older than its pair | excluded


def swept_regions(policy: Policy) -> list[str]:
    provinces = [r.code for r in policy.registry.all(RegionLevel.PROVINCE)]
    own: set[str] = set()
    for paths, _ in PARAMETER_SETS.values():
        for path in paths.values():
            own.update(policy.parameters.parameter(path).series)
            own.update(excluded_cities(policy, path))
    own.update(city for (_, _, city) in EXCLUDED_IN)
    own.update(city for cities in EXCLUDED.values() for city in cities)
    cities = sorted(c for c in own if c != NATIONAL and c not in provinces)
    return provinces + cities


def excluded_cities(policy: Policy, path: str) -> set[str]:
    """Every region a figure of ``path`` is published without, on any date."""
    return {
        city
        for series in policy.parameters.parameter(path).series.values()
        for excludes in (series.excludes, *(e.excludes for e in series.entries))
        for city in excludes
    }


def is_excluded(path: str, source: str, region: str, month: str) -> bool:
    """Whether ``source``'s figure of ``path`` is published without ``region`` in ``month``."""
    if region in EXCLUDED.get((path, source), frozenset()):
        return True
    spans = EXCLUDED_IN.get((path, source, region), ())
    return any(first <= month <= last for first, last in spans)


def latest_published_year(policy: Policy) -> int:
    series = policy.parameters.parameter("pension.base").series.values()
    return max(e.start.year for s in series for e in s.entries)


def months(last_year: int, first_year: int = FIRST_YEAR) -> list[date]:
    return [date(y, m, 1) for y in range(first_year, last_year + 1) for m in range(1, 13)]


def find_holes(policy: Policy) -> list[Hole]:
    regions = swept_regions(policy)
    last = latest_published_year(policy)
    holes: set[Hole] = set()
    for name, (paths, optional) in PARAMETER_SETS.items():
        days = months(last, SET_FIRST_YEAR.get(name, FIRST_YEAR))
        grid_days = np.repeat(np.array([day_number(d) for d in days], dtype=np.int64), len(regions))
        grid_regions = np.tile(np.array(regions), len(days))
        # every name optional: a hole resolves to None instead of stopping the sweep
        found = policy.look_up(grid_days, grid_regions, paths, frozenset(paths))
        holes.update(_holes_of(policy.parameters, found, paths, optional))
        if "floor" in paths and "ceiling" in paths:
            holes.update(_unpaired(found, paths["floor"], paths["ceiling"]))
    return sorted(holes, key=lambda h: (h.path, h.region, h.month))


def _holes_of(
    tree: ParameterNode, found: ParameterColumns, paths: dict[str, str], optional: frozenset[str]
) -> list[Hole]:
    holes: list[Hole] = []
    for name, path in paths.items():
        for (day, region), value in zip(found.pairs, found.values[name], strict=True):
            month = day.isoformat()[:7]
            if value.value is None:
                since = PUBLISHED_FROM.get((path, region))
                if name not in optional:
                    holes.append(Hole(path, region, month, "missing"))
                elif since is not None and month >= since:
                    holes.append(Hole(path, region, month, "unpublished"))
                continue
            if path in YEARLY and _carried_forward(tree, path, value.region, value.start, day):
                holes.append(Hole(path, region, month, "carried forward"))
            if is_excluded(path, value.region, region, month):
                holes.append(Hole(path, region, month, "excluded"))
    return holes


def _unpaired(found: ParameterColumns, floor_path: str, ceiling_path: str) -> list[Hole]:
    """A province publishes its floor and ceiling together: where both are published but
    the ones in force started on different days, the older one is a year behind."""
    holes: list[Hole] = []
    for (day, region), floor, ceiling in zip(
        found.pairs, found.values["floor"], found.values["ceiling"], strict=True
    ):
        if floor.value is None or ceiling.value is None or floor.start == ceiling.start:
            continue
        older = floor_path if floor.start < ceiling.start else ceiling_path
        holes.append(Hole(older, region, day.isoformat()[:7], "older than its pair"))
    return holes


def _carried_forward(tree: ParameterNode, path: str, source: str, start: date, day: date) -> bool:
    age = (day.year - start.year) * 12 + day.month - start.month
    entries = tree.parameter(path).series[source].entries
    later = any(e.start > start for e in entries)
    return age >= (12 if later else 24)


def _ranges(month_list: list[str]) -> list[tuple[str, str]]:
    """Consecutive months as (first, last) pairs."""
    out: list[tuple[str, str]] = []
    for m in sorted(month_list):
        if out and _next(out[-1][1]) == m:
            out[-1] = (out[-1][0], m)
        else:
            out.append((m, m))
    return out


def _next(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year + number // 12}-{number % 12 + 1:02d}"


def report(holes: list[Hole]) -> str:
    """Holes grouped by parameter, then region (with its name), as month ranges."""
    registry = default_registry()
    grouped: dict[str, dict[tuple[str, str], list[str]]] = defaultdict(lambda: defaultdict(list))
    for h in holes:
        grouped[h.path][(h.region, h.kind)].append(h.month)
    lines: list[str] = []
    for path in sorted(grouped):
        lines.append(f"{path}:")
        for (region, kind), ms in sorted(grouped[path].items()):
            spans = ", ".join(a if a == b else f"{a}..{b}" for a, b in _ranges(ms))
            lines.append(f"  {region} {registry.get(region).short_name} ({kind}): {spans}")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def holes() -> list[Hole]:
    return find_holes(load_policy())


def test_every_parameter_is_found_for_every_region_and_month(holes: list[Hole]) -> None:
    new = [h for h in holes if not any(k.covers(h.path, h.region, h.month) for k in KNOWN_MISSING)]
    assert not new, (
        f"{len(new)} (parameter, region, month) holes not in KNOWN_MISSING — fill them from a"
        " published source, or list them with the reason none was found:\n" + report(new)
    )


def test_every_known_hole_is_still_a_hole(holes: list[Hole]) -> None:
    """Every (region, month) an allow-list entry names is still a hole: a filled one, even
    in part, shrinks the entry, so that it cannot hide a new hole later."""
    policy = load_policy()
    regions = swept_regions(policy)
    first = min(FIRST_YEAR, *SET_FIRST_YEAR.values())
    all_months = [d.isoformat()[:7] for d in months(latest_published_year(policy), first)]
    open_holes = {(h.path, h.region, h.month) for h in holes}
    filled: list[Hole] = []
    for k in KNOWN_MISSING:
        for region in (r for r in regions if k.names(r)):
            for m in all_months:
                if k.first <= m <= k.last and (k.path, region, m) not in open_holes:
                    filled.append(Hole(k.path, region, m, "filled"))
    assert not filled, (
        "KNOWN_MISSING names (parameter, region, month)s that are no longer holes — narrow it:\n"
        + report(filled)
    )


def test_the_sweep_covers_all_provinces_and_cities_with_own_values() -> None:
    policy = load_policy()
    regions = swept_regions(policy)
    assert len([r for r in regions if r.endswith("0000")]) == 31
    assert "440300" in regions  # 深圳 has its own 计发基数
    assert "371700" in regions  # 菏泽 has none, but 山东's is published without it in some years
    assert latest_published_year(policy) >= 2025
    assert SET_FIRST_YEAR["interest"] == 1998  # the crediting rate from the first year of interest
