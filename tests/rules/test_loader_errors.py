"""One bad parameter file per failure mode: the error names the file, the line and the fix.

The loader reports every problem it finds (as records: file, line, parameter, date), not
only the first; the last fixtures are values that parse but are implausible.
"""

import re
import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from suiren.domain.errors import ParameterError
from suiren.domain.region import default_registry
from suiren.policy import policy_folder
from suiren.rules import loader
from suiren.rules.loader import load_tree

BAD = Path(__file__).parent / "bad_parameters"

CASES = {
    "unknown_key": (6, "unknown key 'valeus'", "did you mean 'values'"),
    "duplicate_key": (8, "duplicate key '2006-01-01'", "first at line 7"),
    "bad_date": (8, "'2019-13-01' is not a real calendar date", "check month and day"),
    "not_a_date": (7, "'from 2019' is not a date", "YYYY-MM-DD"),
    "missing_reference": (6, "has no reference", "metadata.reference"),
    "wrong_type": (7, "must be a number", "twenty percent"),
    "unknown_region": (9, "unknown region code 990000", "GB/T 2260"),
    "bad_yaml": (6, "not valid YAML", ""),
    "missing_unit": (2, "metadata needs a 'unit'", "currency-CNY"),
    "bad_table_key": (10, "table keys must be whole numbers", "'sixty'"),
    "unknown_metadata": (5, "unknown key 'refrence'", "did you mean 'reference'"),
    "free_text_reference": (10, "reference of rate on 2024-01-01", "write it as a mapping"),
    "verified_without_document": (11, "a verified source needs a 'document'", "verified: false"),
    "unverified_without_why": (9, "rate in region 310000", "needs a 'why'"),
    "unknown_reference_key": (7, "unknown key 'issued'", "did you mean 'issuer'"),
    "bad_published": (5, "metadata.published is one of", "yearly"),
    "tab_separator": (4, "a tab character", "separate with spaces"),
    "control_character": (8, "the character U+0007 is not allowed", "remove it"),
}
IMPLAUSIBLE = ("several_errors", "floor_above_ceiling", "interest_rate_ten_times")


def problems_of(folder: Path) -> list[ParameterError]:
    with pytest.raises(ParameterError) as caught:
        load_tree(folder, default_registry())
    return list(caught.value.problems)


@pytest.mark.parametrize("mode", sorted(CASES))
def test_each_failure_mode_names_file_line_and_fix(mode):
    line, what, fix = CASES[mode]
    with pytest.raises(ParameterError) as caught:
        load_tree(BAD / mode, default_registry())
    message = caught.value.message
    assert f"{BAD / mode / 'rate.yaml'}:{line}:" in message, message
    assert what in message, message
    assert fix in message, message
    assert any(
        (p.file, p.line) == (str(BAD / mode / "rate.yaml"), line) and what in p.message
        for p in caught.value.problems
    )


def outcome(folder: Path) -> list[tuple[str, int | None, str]] | str:
    try:
        load_tree(folder, default_registry())
    except ParameterError as error:
        return [(p.file, p.line, p.message) for p in error.problems]
    return "loaded"


@pytest.mark.parametrize("mode", sorted([*CASES, *IMPLAUSIBLE]))
def test_a_file_loads_alike_with_libyaml_or_without(mode, monkeypatch):
    """libyaml (CSafeLoader) and PyYAML (SafeLoader) judge some texts differently — a tab
    after a colon or in a flow libyaml takes, PyYAML refuses — and word their errors
    differently: the loader's answer is the same with either."""
    with_libyaml = outcome(BAD / mode)
    monkeypatch.setattr(loader, "_FAST_LOADER", None)
    assert outcome(BAD / mode) == with_libyaml


def test_every_parameter_file_reads_alike_with_libyaml_or_without():
    """Each of the real parameter files gives the same nodes (tag, value, line) to both."""

    def tree(node):  # type: ignore[no-untyped-def]
        if isinstance(node, yaml.ScalarNode):
            return (node.tag, node.value, node.start_mark.line)
        if isinstance(node, yaml.SequenceNode):
            return (node.tag, [tree(item) for item in node.value])
        return (node.tag, [(tree(k), tree(v)) for k, v in node.value])

    files = sorted((policy_folder() / "parameters").rglob("*.yaml"))
    assert len(files) > 50
    for path in files:
        text = path.read_text(encoding="utf-8")
        fast = tree(yaml.compose(text, Loader=yaml.CSafeLoader))
        assert fast == tree(yaml.compose(text, Loader=yaml.SafeLoader)), path


def test_every_fixture_has_a_case():
    assert sorted(p.name for p in BAD.iterdir()) == sorted([*CASES, *IMPLAUSIBLE])


def test_every_problem_of_a_file_is_reported_at_once():
    """Five mistakes in one file: five records, in line order, each with its date."""
    problems = problems_of(BAD / "several_errors")
    file = str(BAD / "several_errors" / "rate.yaml")
    assert [(p.file, p.line) for p in problems] == [(file, n) for n in (8, 9, 10, 12, 17)]
    assert [p.start for p in problems] == [
        None,  # the date itself is wrong
        date(2018, 1, 1),
        date(2019, 1, 1),
        None,  # the region is wrong
        date(2021, 1, 1),
    ]
    texts = [p.message for p in problems]
    assert "'2017-13-01' is not a real calendar date" in texts[0]
    assert "[000000] 2018-01-01: 0.829 is outside the plausible range 0 to 0.1" in texts[1]
    assert "must be a number" in texts[2]
    assert "unknown region code 990000" in texts[3]
    assert "[440000] 2021-01-01: 0.669 is outside the plausible range" in texts[4]
    assert all(p.parameter == "rate" for p in problems)


def test_a_floor_above_its_ceiling_fails_to_load():
    problems = problems_of(BAD / "floor_above_ceiling")
    floor = str(BAD / "floor_above_ceiling" / "contribution" / "base" / "published_floor.yaml")
    assert {(p.file, p.line, p.start) for p in problems} == {(floor, 11, date(2025, 7, 1))}
    above, near = sorted(problems, key=lambda p: "near" in p.message)
    assert "[440000] 2025-07-01: 49000 is above contribution.base.published_ceiling 27549" in (
        above.message
    )
    assert "789.3% above contribution.base.floor_ratio 0.6 × " in near.message


def test_an_interest_rate_ten_times_too_high_fails_to_load():
    (problem,) = problems_of(BAD / "interest_rate_ten_times")
    assert problem.file.endswith("interest_rate_ten_times/account/interest_rate.yaml")
    assert (problem.line, problem.parameter) == (15, "account.interest_rate")
    assert problem.start == date(2024, 1, 1)
    assert "0.262 is outside the plausible range 0 to 0.1" in problem.message


def _edited_policy(tmp_path: Path, relative: str, old: str, new: str) -> Path:
    """A copy of the real parameters with one line of one file changed."""
    folder = tmp_path / "parameters"
    shutil.copytree(policy_folder() / "parameters", folder)
    path = folder / relative
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return folder


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_the_real_guangdong_floor_typed_as_49000_fails_to_load(tmp_path):
    """The issue's example, on the real parameters: every payment outside Guangzhou would
    otherwise have been refused at run time."""
    relative = "contribution/base/published_floor.yaml"
    guangdong = (  # 广东's own entry (深圳's 4775 of the same day cites it unverified)
        "        value: 4775\n        reference:\n          document: 粤人社发〔2025〕32号\n"
        "          issuer: 广东省人力资源和社会保障厅\n          note:"
    )
    folder = _edited_policy(tmp_path, relative, guangdong, guangdong.replace("4775", "49000"))
    problems = problems_of(folder)
    line = _line_of(folder / relative, "value: 49000")
    assert {(p.file, p.line, p.start) for p in problems} == {
        (str(folder / relative), line - 1, date(2025, 7, 1))  # the entry's date line
    }
    messages = "\n".join(p.message for p in problems)
    assert "[440000] 2025-07-01: 49000 is outside the plausible range 2000 to 12000" in messages
    assert re.search(r"49000 is above contribution.base.published_ceiling \d+", messages)
    assert re.search(r"49000 is [\d.]+% above contribution.base.floor_ratio", messages)


SHENZHEN_TOLERANCE = 'regions: {"110000": 0.34, "440000": 0.19, "440300": 0.34, "510000": 0.17}'


def test_a_regions_own_near_tolerance_covers_only_that_region(tmp_path):
    """深圳's 2024 floors, 3523 (40% of the wage) and 4492 (49%), load under its own
    tolerance; without it the 15% every other region keeps refuses them, and only them
    (广东's own 4492 keeps its 19%)."""
    relative = "contribution/base/published_floor.yaml"
    folder = _edited_policy(
        tmp_path, relative, SHENZHEN_TOLERANCE, SHENZHEN_TOLERANCE.replace(', "440300": 0.34', "")
    )
    problems = sorted(problems_of(folder), key=lambda p: p.line or 0)
    assert [(p.file, p.start) for p in problems] == [
        (str(folder / relative), date(2024, 1, 1)),
        (str(folder / relative), date(2024, 7, 1)),
    ]
    assert problems[0].line == _line_of(folder / relative, "value: 3523") - 1
    assert "[440300] 2024-01-01: 3523 is 33.3% below contribution.base.floor_ratio" in (
        problems[0].message
    )
    assert "[440300] 2024-07-01: 4492 is 18.3% below" in problems[1].message
    assert all("metadata.near allows 15%" in p.message for p in problems)


def test_beijings_forty_percent_floors_load_only_under_its_own_tolerance(tmp_path):
    """北京's floors before 2019-07 were 40% of its wage (2585 of 6463), then 3613 for two
    years: under the 15% every other region keeps they fail to load, each of them, and its
    2021-07 floor (5360, 57%) and the 60% ones from 2022-07 do not."""
    relative = "contribution/base/published_floor.yaml"
    folder = _edited_policy(
        tmp_path, relative, SHENZHEN_TOLERANCE, SHENZHEN_TOLERANCE.replace('"110000": 0.34, ', "")
    )
    problems = sorted(problems_of(folder), key=lambda p: p.line or 0)
    # 3387 is checked twice: against the wage on its first day and again on 2019-05-01,
    # where another parameter the check reads changes
    assert [p.start for p in problems] == [
        date(2015, 10, 1),
        date(2016, 7, 1),
        date(2017, 7, 1),
        date(2018, 7, 1),
        date(2018, 7, 1),
        date(2019, 7, 1),
        date(2020, 7, 1),
    ]
    assert "[110000] 2015-10-01: 2585 is 33.3% below contribution.base.floor_ratio" in (
        problems[0].message
    )
    assert all("metadata.near allows 15%" in p.message for p in problems)


def test_sichuans_fifty_percent_floors_load_only_under_its_own_tolerance(tmp_path):
    """四川's 2019 enterprise floors were 50% of its wage (3353 of 6705.33 to April, 2697 of
    5393.08 from May): under the 15% every other region keeps they fail to load, and only
    they (its 2021 floor, 3416, is 55%)."""
    relative = "contribution/base/published_floor.yaml"
    folder = _edited_policy(
        tmp_path, relative, SHENZHEN_TOLERANCE, SHENZHEN_TOLERANCE.replace(', "510000": 0.17', "")
    )
    problems = sorted(problems_of(folder), key=lambda p: p.line or 0)
    assert [p.start for p in problems] == [date(2019, 1, 1), date(2019, 5, 1)]
    assert "[510000] 2019-01-01: 3353 is 16.7% below contribution.base.floor_ratio" in (
        problems[0].message
    )
    assert "[510000] 2019-05-01: 2697 is 16.7% below" in problems[1].message
    assert all("metadata.near allows 15%" in p.message for p in problems)


def test_a_near_tolerance_for_an_unknown_region_fails_to_load(tmp_path):
    relative = "contribution/base/published_floor.yaml"
    folder = _edited_policy(
        tmp_path, relative, SHENZHEN_TOLERANCE, SHENZHEN_TOLERANCE.replace("440300", "990000")
    )
    problems = problems_of(folder)
    assert any("unknown region code 990000" in p.message for p in problems), problems


def test_the_real_interest_rate_ten_times_too_high_fails_to_load(tmp_path):
    """An analyst who types 0.262 for 2.62% (and copies it into a case) is stopped here."""
    relative = "account/interest_rate.yaml"
    folder = _edited_policy(tmp_path, relative, "2024-01-01: 0.0262", "2024-01-01: 0.262")
    (problem,) = problems_of(folder)
    assert (problem.file, problem.line) == (
        str(folder / relative),
        _line_of(folder / relative, "0.262"),
    )
    assert (problem.parameter, problem.start) == ("account.interest_rate", date(2024, 1, 1))


def test_problems_of_several_files_are_reported_together(tmp_path):
    folder = _edited_policy(tmp_path, "account/interest_rate.yaml", ": 0.0262", ": 0.262")
    floor = folder / "contribution/base/published_floor.yaml"
    floor.write_text(floor.read_text().replace("value: 4775\n", "value: 49000\n"))
    problems = problems_of(folder)
    assert {Path(p.file).name for p in problems} == {"interest_rate.yaml", "published_floor.yaml"}


def test_a_check_naming_a_missing_parameter_is_a_problem(tmp_path):
    folder = tmp_path / "p"
    shutil.copytree(BAD / "floor_above_ceiling", folder)
    (folder / "contribution" / "base" / "published_ceiling.yaml").unlink()
    problems = problems_of(folder)
    assert any(
        "metadata.at_most of contribution.base.published_floor names"
        " contribution.base.published_ceiling, which is not a parameter" in p.message
        for p in problems
    )


SHANGHAI_2019 = "        until: 2020-06-30  # 2019年度 ran"


def test_a_yearly_figure_read_after_its_until_is_provisional(tmp_path):
    """With its ``until`` a day earlier, 上海's 2019 wage read on 2020-06-30 is provisional;
    without it, the twelve-month rule applies again (2020-05 on, provisional)."""
    relative = "contribution/base/average_monthly_wage.yaml"
    earlier = _edited_policy(
        tmp_path / "a", relative, SHANGHAI_2019, SHANGHAI_2019.replace("06-30", "06-29")
    )
    without = _edited_policy(tmp_path / "b", relative, SHANGHAI_2019, "        # no until")
    wage = "contribution.base.average_monthly_wage"
    ancestry = ("310000", "000000")
    for folder, day, provisional in [
        (earlier, date(2020, 6, 29), False),
        (earlier, date(2020, 6, 30), True),
        (without, date(2020, 4, 30), False),
        (without, date(2020, 5, 1), True),
    ]:
        found = load_tree(folder, default_registry()).parameter(wage).find(day, ancestry)
        assert found is not None and found.start == date(2019, 5, 1)
        assert found.provisional is provisional, (folder, day)


@pytest.mark.parametrize(
    ("until", "why"),
    [
        ("2019-04-30", "must be on or after the value's start 2019-05-01"),
        ("2022-05-01", "less than 36 months after it"),
        ("2020-07-01", "until 2020-07-01 is not before the next value's start 2020-07-01"),
        ("2020-6-30", "is not a date"),
    ],
)
def test_a_bad_until_fails_to_load(tmp_path, until, why):
    relative = "contribution/base/average_monthly_wage.yaml"
    folder = _edited_policy(
        tmp_path, relative, SHANGHAI_2019, SHANGHAI_2019.replace("2020-06-30", until)
    )
    problems = problems_of(folder)
    assert len(problems) == 1 and why in problems[0].message, problems
    assert problems[0].file == str(folder / relative)
    assert problems[0].line in (
        _line_of(folder / relative, f"until: {until}"),
        _line_of(folder / relative, f"until: {until}") - 2,  # the entry's date line
    )


def test_until_on_a_figure_not_published_yearly_fails_to_load(tmp_path):
    relative = "pension/rounding_unit_fen.yaml"
    folder = _edited_policy(
        tmp_path, relative, "  2006-01-01: 1\n", "  2006-01-01: {value: 1, until: 2007-12-31}\n"
    )
    (problem,) = problems_of(folder)
    assert (problem.file, problem.line) == (
        str(folder / relative),
        _line_of(folder / relative, "until"),
    )
    assert "until is for a figure published yearly" in problem.message
