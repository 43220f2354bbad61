"""The lists' cursors (``api.paging``): a key comes back as it went, a page that was not full
has no next one, and only the text a page gave is taken back."""

from __future__ import annotations

import pytest

from suiren.api.paging import decode_cursor, encode_cursor, next_cursor
from suiren.domain.errors import InvalidInput


@pytest.mark.parametrize("key", ["W3F2A9C01B7D4", "a", "ab", "abc", "t1/330100", "工"])
def test_a_key_comes_back_from_its_cursor(key: str) -> None:
    assert "=" not in encode_cursor(key)
    assert decode_cursor(encode_cursor(key)) == key
    assert next_cursor(["first", key], 2) == encode_cursor(key)  # the last key of a full page


def test_the_first_page_has_no_cursor_and_a_short_page_no_next() -> None:
    assert decode_cursor(None) == ""
    assert next_cursor(["a"], 2) is None and next_cursor([], 1) is None


@pytest.mark.parametrize("value", ["AA", "YQ==", "YR", "a%00", "!!", "Y"])
def test_a_cursor_no_page_gave_is_refused(value: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        decode_cursor(value)
    assert refused.value.field == "cursor"
