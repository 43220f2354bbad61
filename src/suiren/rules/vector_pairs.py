"""The distinct (date, region) pairs of a batch, and each case's pair, in one compiled pass.

A batch has millions of cases and a handful of pairs. Parsing every region code into an
integer, sorting the keys (``np.unique``) and searching each case's key took four times as
long as a bare numpy expression of the whole national pension formula (issue 10 §6). This
pass reads each case's day and code once, keeps the pairs seen so far in a short table (a
case's pair is usually the previous case's, and otherwise one of a few) and gives up when
the batch has more than ``PAIRS_TABLE_MAX`` pairs, for the caller's sorting path.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

import numpy as np
import numpy.typing as npt

REGION_SPAN = 1_000_000  # region codes are six digits
REGION_DIGITS = 6
PAIRS_TABLE_MAX = 64  # beyond this a linear table costs more than sorting
BAD_CODE = -1  # status: a region code is not six digits
TOO_MANY_PAIRS = -2  # status: more than PAIRS_TABLE_MAX pairs


def _first_seen_pairs(
    days: Any, characters: Any, words: Any, pair_of_case: Any, keys: Any, seen: Any
) -> int:
    """Fill ``pair_of_case`` and ``keys`` (in order of first appearance); return the count.

    ``characters`` holds each code's six UTF-32 characters and ``words`` the same 24 bytes as
    three 64-bit words: a case is matched to the pairs seen so far (``seen``: day and words
    of each) by comparing words, and only a code not seen yet is parsed and checked. Returns
    ``BAD_CODE`` or ``TOO_MANY_PAIRS`` instead when the batch is not for this path.
    """
    count = 0
    last_day = days[0] ^ 1 if len(days) else 0  # the first case matches no previous one
    last_0 = last_1 = last_2 = 0
    last_pair = -1
    for i in range(len(days)):
        day, w0, w1, w2 = days[i], words[i, 0], words[i, 1], words[i, 2]
        # the previous case's pair when day and code are the same (one test of the four)
        if ((day ^ last_day) | (w0 ^ last_0) | (w1 ^ last_1) | (w2 ^ last_2)) != 0:
            last_pair = -1
            for p in range(count):
                if ((seen[p, 0] ^ day) | (seen[p, 1] ^ w0) | (seen[p, 2] ^ w1)
                        | (seen[p, 3] ^ w2)) == 0:  # fmt: skip
                    last_pair = p
                    break
            if last_pair < 0:
                code = 0
                for j in range(REGION_DIGITS):
                    digit = int(characters[i, j]) - 48  # ord("0")
                    if digit < 0 or digit > 9:
                        return BAD_CODE
                    code = code * 10 + digit
                if count == PAIRS_TABLE_MAX:
                    return TOO_MANY_PAIRS
                keys[count] = day * REGION_SPAN + code
                seen[count, 0], seen[count, 1], seen[count, 2], seen[count, 3] = day, w0, w1, w2
                last_pair = count
                count += 1
            last_day, last_0, last_1, last_2 = day, w0, w1, w2
        pair_of_case[i] = last_pair
    return count


def _renumber(pair_of_case: Any, rank: Any) -> None:
    for i in range(len(pair_of_case)):
        pair_of_case[i] = rank[pair_of_case[i]]


COMPILED_ROWS_MIN = 50_000  # a smaller batch sorts its keys in less time than numba takes to load


def njit_cached(function: Any, **options: Any) -> Any:
    """``numba.njit(cache=True, **options)(function)``: compiled once per machine, into
    ``__pycache__`` next to the source or numba's cache folder (numba writes each file
    under a unique name, then renames it, so processes compiling at once do not clash).
    Where numba finds no writable place for its cache (an install read-only to its user,
    without a writable home), compiled in each process instead of failing; and where the
    cache cannot be written when a loop is compiled (a full disk, a file size limit), the
    loop compiled is used and the cache left as it was: a cache is a speed-up, and its
    failure was a traceback from whatever command first ran the loop."""
    import numba

    try:
        dispatcher = numba.njit(cache=True, **options)(function)
    except RuntimeError as error:
        if "no locator available" not in str(error):
            raise
        return numba.njit(cache=False, **options)(function)
    dispatcher._cache = _tolerant_cache(function)  # numba's own: Dispatcher.enable_caching
    return dispatcher


def _tolerant_cache(function: Any) -> Any:
    """numba's cache of ``function``, except that a compiled loop it cannot save is kept in
    this process only (numba raises the OSError from inside the call being compiled)."""
    return _tolerant_cache_class()(function)


@functools.cache
def _tolerant_cache_class() -> Any:
    """numba's ``FunctionCache`` with ``save_overload`` tolerant of a cache it cannot write
    (the class made once, on first use: numba is imported where a loop is compiled)."""
    from numba.core.caching import FunctionCache

    class TolerantCache(FunctionCache):
        def save_overload(self, sig: Any, data: Any) -> None:
            # compiled for this process; the next one compiles (and saves) again
            with contextlib.suppress(OSError):
                super().save_overload(sig, data)  # type: ignore[no-untyped-call]

    return TolerantCache


@functools.cache
def _compiled() -> tuple[Any, Any]:
    """The two loops, compiled on first use (importing numba costs every command ~0.2 s)."""
    return njit_cached(_first_seen_pairs, nogil=True), njit_cached(_renumber, nogil=True)


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
    contiguous = np.ascontiguousarray(codes)
    characters = contiguous.view(np.uint32).reshape(-1, REGION_DIGITS)
    words = contiguous.view(np.int64).reshape(-1, 3)  # the same 24 bytes per code
    day_column = np.ascontiguousarray(days, dtype=np.int64)
    pair_of_case = np.empty(len(codes), dtype=np.intp)
    keys = np.empty(PAIRS_TABLE_MAX, dtype=np.int64)
    seen = np.empty((PAIRS_TABLE_MAX, 4), dtype=np.int64)
    count = int(first_seen_pairs(day_column, characters, words, pair_of_case, keys, seen))
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
