"""One bad parameter file per failure mode: the error names the file, the line and the fix."""

from pathlib import Path

import pytest

from suiren.domain.errors import ParameterError
from suiren.domain.region import default_registry
from suiren.rules.loader import load_tree

BAD = Path(__file__).parent / "bad_parameters"

CASES = {
    "unknown_key": (5, "unknown key 'valeus'", "did you mean 'values'"),
    "duplicate_key": (7, "duplicate key '2006-01-01'", "first at line 6"),
    "bad_date": (7, "'2019-13-01' is not a real calendar date", "check month and day"),
    "not_a_date": (6, "'from 2019' is not a date", "YYYY-MM-DD"),
    "missing_reference": (5, "has no reference", "metadata.reference"),
    "wrong_type": (6, "must be a number", "twenty percent"),
    "unknown_region": (8, "unknown region code 990000", "GB/T 2260"),
    "bad_yaml": (5, "not valid YAML", ""),
    "missing_unit": (2, "metadata needs a 'unit'", "currency-CNY"),
    "bad_table_key": (9, "table keys must be whole numbers", "'sixty'"),
    "unknown_metadata": (4, "unknown key 'refrence'", "did you mean 'reference'"),
}


@pytest.mark.parametrize("mode", sorted(CASES))
def test_each_failure_mode_names_file_line_and_fix(mode):
    line, what, fix = CASES[mode]
    with pytest.raises(ParameterError) as caught:
        load_tree(BAD / mode, default_registry())
    message = caught.value.message
    assert f"{BAD / mode / 'rate.yaml'}:{line}:" in message, message
    assert what in message, message
    assert fix in message, message


def test_every_fixture_has_a_case():
    assert sorted(p.name for p in BAD.iterdir()) == sorted(CASES)
