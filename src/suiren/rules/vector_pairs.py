"""The distinct (date, region) pairs of a batch, and each case's pair, in one compiled pass.

A batch has millions of cases and a handful of pairs. Parsing every region code into an
integer, sorting the keys (``np.unique``) and searching each case's key took four times as
long as a bare numpy expression of the whole national pension formula (issue 10 §6). This
pass reads each case's day and code once, keeps the pairs seen so far in a short table (a
case's pair is usually the previous case's, and otherwise one of a few) and gives up when
the batch has more than ``PAIRS_TABLE_MAX`` pairs, for the caller's sorting path.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import numpy.typing as npt

REGION_SPAN = 1_000_000  # region codes are six digits
REGION_DIGITS = 6
PAIRS_TABLE_MAX = 64  # beyond this a linear table costs more than sorting
BAD_CODE = -1  # status: a region code is not six digits
TOO_MANY_PAIRS = -2  # status: more than PAIRS_TABLE_MAX pairs


def _first_seen_pairs(days: Any, characters: Any, pair_of_case: Any, keys: Any) -> int:
    """Fill ``pair_of_case`` and ``keys`` (in order of first appearance); return the count.

    ``characters`` holds each code's six UTF-32 characters. Returns ``BAD_CODE`` or
    ``TOO_MANY_PAIRS`` instead when the batch is not for this path.
    """
    count = 0
    last_key = -1
    last_pair = -1
    for i in range(len(days)):
        code = 0
        for j in range(REGION_DIGITS):
            digit = int(characters[i, j]) - 48  # ord("0")
            if digit < 0 or digit > 9:
                return BAD_CODE
            code = code * 10 + digit
        key = days[i] * REGION_SPAN + code
        if key != last_key:
            last_pair = -1
            for p in range(count):
                if keys[p] == key:
                    last_pair = p
                    break
            if last_pair < 0:
                if count == PAIRS_TABLE_MAX:
                    return TOO_MANY_PAIRS
                keys[count] = key
                last_pair = count
                count += 1
            last_key = key
        pair_of_case[i] = last_pair
    return count


def _renumber(pair_of_case: Any, rank: Any) -> None:
    for i in range(len(pair_of_case)):
        pair_of_case[i] = rank[pair_of_case[i]]


COMPILED_ROWS_MIN = 50_000  # a smaller batch sorts its keys in less time than numba takes to load


@functools.cache
def _compiled() -> tuple[Any, Any]:
    """The two loops, compiled on first use (importing numba costs every command ~0.2 s)."""
    import numba

    return (
        numba.njit(cache=True, nogil=True)(_first_seen_pairs),
        numba.njit(cache=True, nogil=True)(_renumber),
    )


def sorted_pairs(
    days: npt.NDArray[np.int64], regions: npt.NDArray[Any], rows_min: int = COMPILED_ROWS_MIN
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.intp]] | None:
    """(distinct keys day·REGION_SPAN + code, sorted; each case's index into them).

    The same as ``np.unique`` of the keys and ``np.searchsorted``. ``None`` when the fast
    path does not apply (fewer than ``rows_min`` cases, codes given as integers or in another
    layout, or too many pairs).
    """
    codes = np.asarray(regions)
    if codes.dtype != np.dtype("<U6") or codes.ndim != 1 or len(codes) < rows_min:
        return None
    first_seen_pairs, renumber = _compiled()
    characters = np.ascontiguousarray(codes).view(np.uint32).reshape(-1, REGION_DIGITS)
    day_column = np.ascontiguousarray(days, dtype=np.int64)
    pair_of_case = np.empty(len(codes), dtype=np.intp)
    keys = np.empty(PAIRS_TABLE_MAX, dtype=np.int64)
    count = int(first_seen_pairs(day_column, characters, pair_of_case, keys))
    if count == BAD_CODE:
        raise AssertionError("region codes must be six digits")
    if count == TOO_MANY_PAIRS:
        return None
    order = np.argsort(keys[:count], kind="stable")
    if bool(np.any(order != np.arange(count))):
        rank = np.empty(count, dtype=np.intp)
        rank[order] = np.arange(count)
        renumber(pair_of_case, rank)
    distinct: npt.NDArray[np.int64] = keys[:count][order]
    return distinct, pair_of_case
