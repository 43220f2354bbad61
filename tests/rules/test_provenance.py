"""Provenance of the parameters: what is verified, what is not and why.

``test_the_unverified_values_are_the_counted_ones`` pins how many values are still to be
checked against an official text: verifying one lowers the count, adding an unverified
one raises it — either way a conscious change to ``UNVERIFIED_VALUES``. The list is
printed (``pytest -s`` or ``-rP``) and is in the failure message;
``suiren rules provenance --unverified`` prints the same list.
"""

from __future__ import annotations

from datetime import date

import pytest

from suiren.policy import baseline_parameters
from suiren.rules.provenance import Provenance, Source
from suiren.rules.provenance_report import (
    cited_values,
    unverified_values,
    verified_without_url,
)

UNVERIFIED_VALUES = 696  # of 1078 (北京 2015-10..2018-07: the wage, its ceiling ÷ 3, and the floors 2015-10..2021-07 (11), from a transcribed table of its bounds (the district page it names not read) that a second transcription of the wages agrees with; 云南 2015–2018 (4), from a transcribed table by 缴费年度 whose 2019–2024 equal the file's, the annual wages of a second transcription agreeing; 计发基数 holes filled in session 30 (4): 山东 2016, 2017 and 2019 as the notices' 在岗 wage ÷ 12, read on a reprint, a policy aggregator and a news report, and 江苏 2021 from a page quoting its notice, agreeing with a transcription; the indexed wage rounded to the fen before use in 山东, 吉林 and 湖北 (3), each from the one real table that needs it, no document found; 西藏's 计发基数 2015–2023 (9), its transcribed 当年口径 社平 series — the wage in the file for those years — as the base, from a transcriber who records the two as one series and the file's 2024–2026 entries that set both from one notice, no notice of those years read; 荆州's 2023 计发基数 6395, read off its 2024-01 table paid before 2024's was published; 黑龙江's average wage 2015–2018 and 江苏's 2016–2018 (7), from a transcribed wage series where a second transcription agrees (黑龙江's 计发基数 notices, 江苏's ceilings), the notices not read; 广东 from 2024-05: the last month its parts not modelled depend on, 2006-06 (its table's own note; a worker under 16 then, 劳动法 第十五条, with no deemed years is not warned), the 100 加发 (粤劳社〔2009〕32号 not read), the 缴费年限津贴 4 × whole years (粤人社发〔2014〕8号 not read) with 深圳's 0 (its 4 × years is in the 原办法 given), and the narrowed not-modelled entry (4), from four real tables; add-ons of a personal status given per case, from real tables, their documents not read (9): 四川 增发 on the indexed wage (its rate per case), the 独生子女 rates of 重庆 3%, 贵州, 云南 and 辽宁 5%, 云南's two provincial average pensions (3431, 3553), 辽宁's not-modelled entry and 重庆's narrowed one for a case giving the status; years rounding from real tables, no document found: 福建 half-year steps up (2), 江西 4 decimals, 湖南 and 贵州 2 decimals (3); parts not modelled, their documents not read: 重庆 独子待遇 and the 原办法 comparison, 贵州's and 云南's one-child add-ons (3); 内蒙古's transitional index floor of 1 from 2025-09 and the end of its not-modelled entry (2), from its 2025-09 table, no 内蒙古 document found; 辽宁, 甘肃, 宁夏, 青海, 西藏 from their real tables, no provincial document read (16): the years unit of each (6: 辽宁 2 decimals from 2024-03 and 4 from 2025-03), 辽宁 and 青海's transitional basis (B + B·Ī_t)/2 (4), 青海's pensions to the 角, 沈阳's 5-decimal transitional index, and four not-modelled entries (内蒙古's transitional index floor of 1, 西藏's 高原补贴养老金, 甘肃's 调节金, 青海's 西宁 addition); 15 verified in 2026-12 from full reprints of the notices on government or news sites, see docs/parameters.md “What counts as read”: 广东 2021-07..2023-07, 湖北 2022–2023, 贵州 2023, 北京's floor and ceiling 2022-07..2025-07, 安徽's 2023 计发基数; 深圳 from 2023-05: the transitional phase-in 70% / 90% / 100% as quoted in a 深圳 table's own note, its 1-fen unit, the 100 加发 and the narrowed not-modelled entry (6), no 深圳 document read, from three real tables; the average wage before the first notice read, 2014–2021, 26 provinces (64): transcribed from two public calculators (liubigfatty/pension-calculator, carlos-yk/miniprogram-pensionAbacus) with the notices they cite not read; 北京's 计发基数 2021–2023 and 新疆's 2022 (4), from real tables and their transcribed readings; 江苏 from 2024: the transitional phase-in 40% / 70% / 100% and its 角, 苏人社发〔2024〕4号 not read (quoted), the total 见分进角, all from eight real tables, and the not-modelled entry before 2024 with its end (7); 浙江 过渡调节金 480 and 3, 养老金补贴 150, 见分进角补足 10 fen, 浙人社发〔2018〕102号 and 〔2011〕146号 not read, and their start 2025-02-01 ending the refusal, from three real tables (5); 吉林 长缴增发: its rates, 吉政发〔1998〕28号 not read, and their start 2023-01-01 ending the refusal, both from its tables (2); 北京's G实 rate and period, 京劳社养发〔2007〕21号 and 31号 not read in the original, and its 2-decimal years from its tables (3); 广州's 2024 floor, from a third-party table; the crediting rate 1998–2015 (18): each province set its own, taken by convention as the People's Bank one-year deposit rate in force on 1 January, read from reprints; the index kept to 5 decimals in 山西, 信阳, 开封 and 洛阳's 4-decimal years (4), from their tables; 湖北's city 计发基数 2024–2025 (26) and its 第二档/第三档 2025 contribution figures (36) from transcribed tables; 福建's 2025 floor, 深圳's 2023 base; 广东's 2024 floor outside 广州 and 深圳's own floors 2024-01, 2024-07, 2025-07 and ceilings 2024-07, 2025-07 (6), from a transcribed table with the official pages it cites not read; elective retirement without an employer, 人社部发〔2024〕94号 not read in the original (3); holes filled in 2026-12 (20): the 计发基数 of 山东 2021 and 湖南 2022 read off real tables that pay provisionally at the previous year's base, 山东 2018 from 潍坊's reprinted notice, 山西 2019 from a public code ref's record of a reprint, and pre-2019 average wages read on news or third-party reprints, not on the 人社 site (重庆 2017–2018, 四川 2015–2018, 河南 2015, 山东 2016–2018 (鲁人社字〔2017〕160号 in full on a policy aggregator), 安徽 2015 and 2017, 河北 2017–2018, 湖南 2015–2016); issue 10 §3 verify-params pass (2026-12): 2 wages verified (辽宁 2022 on the 人社厅's own page, 湖南 2023 on 中国会计网's full reprint), 辽宁's 2022 floor and ceiling and 江苏's 2022 floor added verified from the 人社厅s' own pages, their 2023 nulls back to the ratios unverified (3: no 2023 figure read), and 广东's 2024-07 tier of 珠海, 佛山, 东莞 and 中山 (4767, 4) from 粤人社发〔2024〕33号's full text on a stored page whose address was not kept; 广西's 2022 计发基数 verified on 中智's policy library (-1); 四川's 2021 计发基数 7379 filled from 成都's notice quoting the province's (+1); 云南's 2024 wage, floor and ceiling verified on 禄丰市人民政府's full reprint of the notice (-3); verify-params2 (fifth pass): 青海's 2022 wage (the notice in full on 中智's policy library), 北京's 2022 计发基数 (京人社发〔2022〕14号 in full on 中华会计网校's 法规库) and 天津's 2021 计发基数 (the notice in full on 新浪天津) verified (-3), 北京's 2020 计发基数 9910 filled, unverified: 京人社发〔2020〕13号 in full only on an unidentified policy site, and news reports (+1); 江西's 2021 floor 3176 (below 60% of the wage) and its 2022 null, from the notice in full on an unidentified site (+2); 海南's 2021 wage verified and its 2021 floor 3925.8 and 计发基数 7169 added verified (琼人社发〔2021〕170号 in full on 税屋), their 2022 nulls unverified (-1 +2); 上海's 2022-07 floor 6520 (60% of the mean of two years' wages) from news reports of its 通告 (+1); verify-a (sixth pass, 北京 … 山东): nothing verified, 辽宁's 2021 wage, floor and ceiling filled from 辽人社〔2021〕32号 in full on 51社保's policy library (+3) and 浙江's 2022–2024 floors, a year behind the wage, from a reprint, the 人社厅's 解读 and summaries (+3); verify-b: 广西's wage 2021–2023, 贵州's 2025 wage, floor, ceiling and 计发基数, 广东's 2023-07 ceiling, 重庆's 2023 wage verified (-9), 河南's 2020-07 wage and floor and 陕西's 2020 计发基数 filled verified, 河南's floor null from 2021-07, 四川's 2021 floor 3416 and its 2022 null, 陕西's 2021 计发基数 6914 and its 2022 null, 重庆's 2024 floor and ceiling, its 2020 floor 3282 and ceiling 17455 with their 2021 nulls and its 2022 ceiling 19784, all unverified (+12); tables-audit: 北京's 2023 计发基数 11761 → 11525, unverified before and after (0); wage-holes (issue 10 §3): pre-2020 wages filled from third-party reprints of the notices, 安徽 2018 (淮南's notice quoting 皖人社秘〔2018〕199号), 江西 2019-05 (赣人社字〔2019〕187号 reported), 广西 2019 (桂人社发〔2018〕54号 on an HR blog), 海南 2016-01..2018-07 (4: 琼人社发〔2016〕139号 on 51社保's library, 〔2018〕210号 on ft22.com, reports), with their nulls (4) and the floors 安徽 2018 and 海南 2016-07 and their nulls (4) (+15); then 河北 2019 in both calibers (在岗 to April, 全口径 from May, as 石家庄 reported them on an HR firm's page) with their floors and ceiling and nulls (7), 安徽's 全口径 2019-05 with its published floor and ceiling and nulls (5: 皖人社明电〔2019〕73号 quoted in full by 铜陵's notice on an unidentified site, 巢湖 and 滁州 reports), 浙江 2019-07 (浙人社发〔2019〕24号 as a tax-information site explains it for 杭州) and its 2020 null (2) (+14); 重庆 2019's wage and floor, from an aggregator's summary (+2); 江西's 2016 年度 wage, from a company's article quoting an infographic, and its 2017 null (+2)); base-holes: 湖南's 2021 计发基数 6728 filled verified (湘人社规〔2021〕21号 in full on 桃江县's government site), and filled unverified from news reports or unidentified reprints of the notices (+9): 江苏 2020 (新华日报 on 人民网), 安徽 2020 with its 2021 null, 福建 2022 (福建日报), 广西 2020 (桂林晚报) and 2021 (中新网广西), 广东 2020 (开平's page on a mirror) and 2021, 青海 2021 (a county government's news item)); doubts (tenth pass): 安徽's 2020 wage 5028.42 → 5455.24 and 四川's 2015–2018 wages to the 在岗 caliber, unverified before and after (0), 安徽's 2020–2021 floors and ceilings as reported (3017.01, 3429.11, 16365.72, 17925.42) with their nulls moved to 2022 (+4), 四川's 2019 hole filled from the province's notice in full on an unidentified site, the wage to April and from May and their 50% floors, with the 2020 floor's null (+5), 河南's 2022–2024 dates moved to July (0); `suiren rules provenance --unverified` lists them
VERIFIED_WITHOUT_URL = 308  # of the 382 verified (doubts: 四川's bare 2019 wage null, which cited 国办发〔2019〕13号 by inheritance, is now a value, -1; wage-holes: 安徽's, 河北's and 重庆's bare 2018 and 2019 nulls, which cited 国办发〔2019〕13号 by inheritance, are now values, -3; verify-params: 山东 2023's wage now names its page, -1; the four 广东 cities' 2025-07 nulls cite 粤人社发〔2025〕32号 by number, +4): 196 are yearly figures (average wage, floor, ceiling, 计发基数, crediting rate), most of them a 文号 that came with the figure and no record of where the notice was read (the national crediting rate 2016–2025 cites only 人社部发〔2017〕31号, the method, not each year's notice); the rest national rules cited by document number or act title (国发〔2005〕38号, 《社会保险法》); searched again in 2026-12 in the stored corpora, no official page found for any of them
SHORTHAND = ("ENG", "PROV2024", "PY2025", "ANCHOR25", "LOW25", "PROVLIST", "[memory]", "per ")


def test_every_unverified_value_says_why():
    missing = [
        row.line()
        for row in cited_values(baseline_parameters())
        for source in row.provenance.sources
        if not source.verified and not (source.why or "").strip()
    ]
    assert not missing, "unverified without a why:\n" + "\n".join(missing)


def test_every_verified_value_names_a_document_or_url():
    bare = [
        row.line()
        for row in cited_values(baseline_parameters())
        for source in row.provenance.sources
        if source.verified and not (source.document or source.url)
    ]
    assert not bare, "verified without a document or URL:\n" + "\n".join(bare)


def test_the_unverified_values_are_the_counted_ones():
    rows = unverified_values(baseline_parameters())
    listing = "\n".join(row.line() for row in rows)
    print(f"{len(rows)} unverified values (未核实):\n{listing}")
    assert len(rows) == UNVERIFIED_VALUES, (
        f"{len(rows)} values are unverified, UNVERIFIED_VALUES says {UNVERIFIED_VALUES}:"
        " verifying a value lowers the count, an unverified new one raises it; update the"
        f" constant knowingly.\n{listing}"
    )


def test_the_values_verified_without_a_page_are_counted():
    """A document number alone passes the loader; the page it was read on is what shows it
    was read. Adding that page lowers the count; so does marking the value unverified."""
    rows = verified_without_url(baseline_parameters())
    listing = "\n".join(row.line() for row in rows)
    print(f"{len(rows)} values verified by a document alone (no page read recorded):\n{listing}")
    assert all(row.verified for row in rows)
    assert len(rows) == VERIFIED_WITHOUT_URL, (
        f"{len(rows)} verified values cite no page, VERIFIED_WITHOUT_URL says"
        f" {VERIFIED_WITHOUT_URL}; update the constant knowingly.\n{listing}"
    )


def test_a_verified_source_with_a_url_is_not_counted_as_unread():
    tree = baseline_parameters()
    unread = {(row.parameter, row.region, row.start) for row in verified_without_url(tree)}
    read = [
        row
        for row in cited_values(tree)
        if row.verified and any(source.url for source in row.provenance.sources)
    ]
    assert read, "some verified value cites the page it was read on"
    assert not [row for row in read if (row.parameter, row.region, row.start) in unread]


def test_no_internal_shorthand_reaches_a_reader():
    """Shorthand for where a number was copied from means nothing to a reader."""
    leaks = [
        row.line()
        for row in cited_values(baseline_parameters())
        if any(mark in row.provenance.render() for mark in SHORTHAND)
    ]
    assert not leaks, "\n".join(leaks)


def test_a_verified_source_prints_document_issuer_date_and_url():
    source = Source(
        document="京人社发〔2025〕13号",
        issuer="北京市人力资源和社会保障局",
        date=date(2025, 11, 7),
        url="https://www.beijing.gov.cn/zhengce/zhengcefagui/202511/t20251107_4265441.html",
    )
    assert source.render() == (
        "京人社发〔2025〕13号（北京市人力资源和社会保障局，2025-11-07）"
        " https://www.beijing.gov.cn/zhengce/zhengcefagui/202511/t20251107_4265441.html"
    )


def test_an_unverified_source_prints_why_and_the_note():
    source = Source(verified=False, why="未找到文号", note="天津2021年度全口径月平均工资")
    assert source.render() == "未核实：未找到文号 — 注：天津2021年度全口径月平均工资"
    cited = Source(document="鲁政发〔2006〕92号", issuer="山东省人民政府", verified=False, why="x")
    assert cited.render() == "鲁政发〔2006〕92号（山东省人民政府） — 未核实：x"


def test_a_value_is_verified_only_if_every_source_is():
    good = Source(document="国发〔2005〕38号")
    bad = Source(verified=False, why="两个来源冲突")
    assert Provenance((good,)).verified
    assert not Provenance((good, bad)).verified
    assert not Provenance(()).verified
    assert Provenance((good, bad)).render() == "国发〔2005〕38号 ｜ 未核实：两个来源冲突"


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        (Source(title="某通知"), "needs a 'document'"),
        (Source(verified=False), "needs a 'why'"),
        (Source(document="国发〔2005〕38号", why="?"), "drop it or write verified: false"),
        (Source(document="内养老发〔2006〕?号", verified=False, why="序号未录"), "neither"),
        (Source(url="rsj.beijing.gov.cn"), "http:// or https://"),
    ],
)
def test_a_source_says_what_is_wrong_with_it(source, problem):
    assert any(problem in text for text in source.problems())
