import pytest

from suiren.domain.errors import InvalidMonth
from suiren.domain.month import Month, month_range


def test_month_arithmetic():
    m = Month.parse("2025-07")
    assert str(m + 6) == "2026-01"
    assert str(m.minus(7)) == "2024-12"
    assert Month.parse("2026-01") - Month.parse("2025-07") == 6
    assert m.year == 2025 and m.month == 7
    assert Month.parse("1971-04") + 664 == Month.parse("2026-08")
    assert [str(x) for x in month_range(Month.parse("2024-11"), Month.parse("2025-02"))] == [
        "2024-11",
        "2024-12",
        "2025-01",
        "2025-02",
    ]


@pytest.mark.parametrize("text", ["2025-13", "2025-7", "25-07", "2025/07", "", "2025-00"])
def test_bad_months_are_refused(text):
    with pytest.raises(InvalidMonth):
        Month.parse(text)
