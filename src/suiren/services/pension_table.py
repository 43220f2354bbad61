"""The pension calculator on tables (Parquet): a million cases in, a million results out.

The fields and their rules are the JSON calculator's (``pension_calc.NUMBER_FIELDS`` and the
rest); only the reading differs. A column of decimals (``decimal128``) or integers is read at
once, exactly, where its field allows (amounts, months of divisor, years with up to three
places, indices with up to six); a column of text, or of years with four places or more
(which may be months as printed), is read value by value with the field's own rule, as in
JSON. Binary floats are refused: they cannot say 0.1. Errors name the row (``case N``, from
0), the column and the reason, as the JSON calculator's do.

The results are a table of the same length and order: ``id`` where the input had one, the
four amounts in fen (int64) and ``warnings`` (a list of code, field, message per row: ``message`` in Chinese then English,
``message_zh`` and ``message_en`` each alone).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from suiren.domain.errors import InvalidInput
from suiren.domain.messages import Text, quoted
from suiren.domain.messages import text as message
from suiren.policy.pension import INDEX_SCALE_INPUT, YEARS_SCALE, PensionResult
from suiren.services.pension_calc import (
    ABSENT,
    CASES_MAX,
    FIELDS,
    INDEX_FIELDS,
    INDEX_MAX,
    INDEX_REASON,
    NUMBER_FIELDS,
    REQUIRED,
    REQUIRED_TEXT,
    TEXT_CHARS_MAX,
    TEXT_FIELDS,
    YEARS_FIELDS,
    YEARS_MAX,
    CaseError,
    CaseInput,
    CaseWarnings,
    Notes,
    ParsedCases,
    coefficients,
    index_values,
    note_years,
    number_values,
    refused_value,
    split_index,
    unknown_field,
)

YEARS_FAST_PLACES_MAX = 3  # four places or more may be whole months as printed: read one by one
T = TypeVar("T")


def decimal_column(unscaled: Any, scale: int, precision: int = 18) -> pa.Array:
    """decimal128(precision, scale) from int64 unscaled values (12345, 2 -> 123.45), built in
    place: how a program writes exact amounts into a table of cases."""
    values = np.asarray(unscaled, dtype=np.int64)
    words = np.zeros((len(values), 2), dtype="<i8")
    words[:, 0], words[:, 1] = values, values >> 63
    return pa.Array.from_buffers(
        pa.decimal128(precision, scale), len(values), [None, pa.py_buffer(words.tobytes())]
    )


def read_cases_table(path: Path) -> pa.Table:
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise InvalidInput(
            message("cases.not-parquet", name=path.name, error=quoted(exc))
        ) from None
    if not 1 <= table.num_rows <= CASES_MAX:
        raise InvalidInput(message("case.count", most=CASES_MAX, count=table.num_rows))
    return table


def case_input(table: pa.Table) -> CaseInput:
    """The table's columns read by the fields' rules (see the module doc)."""
    names = table.column_names
    for name in names:
        if name not in FIELDS:
            hint = difflib.get_close_matches(name, FIELDS, n=1)
            fields = ", ".join(FIELDS)
            raise InvalidInput(
                message(
                    "cases.column",
                    name=repr(name),
                    reason=unknown_field(hint, Text(fields, fields)),
                )
            )
    if len(set(names)) != len(names):
        raise InvalidInput(message("cases.column-twice"))
    n = table.num_rows
    columns = {name: table.column(name).combine_chunks() for name in names}
    for name, column in columns.items():
        if pa.types.is_floating(column.type):
            raise InvalidInput(message("cases.column-floats", name=repr(name)))
    notes: Notes = {}
    numbers = {name: _number(columns.get(name), name, n, notes) for name in NUMBER_FIELDS}
    return CaseInput(
        n=n,
        ids=_ids(columns.get("id"), n),
        text={name: _text(columns.get(name), name, n) for name in TEXT_FIELDS},
        numbers=numbers,
        index={
            name: _index(columns.get(name), name, n, required)
            for name, required in INDEX_FIELDS.items()
        },
        coefficient=(
            None
            if "transitional_coefficient" not in columns
            else coefficients(columns["transitional_coefficient"].to_pylist())
        ),
        notes=notes,
    )


def _ids(column: pa.Array | None, n: int) -> list[Any]:
    if column is None:
        return [None] * n
    if pa.types.is_integer(column.type):
        return column.to_pylist()  # type: ignore[no-any-return]
    _check_text(column, "id")
    return column.to_pylist()  # type: ignore[no-any-return]


def _check_text(column: pa.Array, name: str) -> pa.Array:
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if not _is_text(column):
        raise InvalidInput(message("cases.column-not-text", name=repr(name), kind=column.type))
    long = pc.greater(pc.utf8_length(column), TEXT_CHARS_MAX)
    if pc.any(long).as_py():
        i = int(pc.index(long, True).as_py())
        raise CaseError(i, name, message("case.text-field", chars_max=TEXT_CHARS_MAX))
    return column


def _text(column: pa.Array | None, name: str, n: int) -> np.ndarray:
    """A string array (absent as ``ABSENT``), built from the column's few distinct values."""
    if column is None:
        return np.full(n, ABSENT)
    encoded = pc.dictionary_encode(_check_text(column, name).fill_null(ABSENT))
    words = np.array(encoded.dictionary.to_pylist() or [ABSENT])
    return words[encoded.indices.to_numpy(zero_copy_only=False)]  # type: ignore[no-any-return]


def _scaled(column: pa.Array, scale: int, places_max: int) -> np.ndarray | None:
    """The values × ``scale`` as int64 (nulls as -1), or None where the column is not
    decimals or integers with at most ``places_max`` places, or holds a value too large (the
    caller then reads it value by value, with exact errors). ``scale`` is a multiple of
    10^places, so the product is exact."""
    kind = column.type
    if pa.types.is_integer(kind):
        raw = column.fill_null(0).to_numpy()
        if raw.size and max(int(raw.max()), -int(raw.min())) > (1 << 62) // scale:
            return None  # uint64 beyond int64, or a product that would wrap: value by value
        values = raw.astype(np.int64)
        factor = scale
    elif pa.types.is_decimal(kind) and kind.bit_width == 128 and kind.scale <= places_max:
        values = _unscaled(column)
        if values is None:
            return None
        factor = scale // 10**kind.scale
    else:
        return None
    if values.size and max(int(values.max()), -int(values.min())) > (1 << 62) // factor:
        return None  # (np.abs of -2^63 is -2^63: the bound is taken on Python integers)
    out = values * factor
    if column.null_count:
        out = np.where(column.is_null().to_numpy(zero_copy_only=False), -1, out)
    return out  # type: ignore[no-any-return]


def _fast(column: pa.Array, scale: int, places_max: int) -> np.ndarray | None:
    """``_scaled`` of the column, or of a text column whose every value is a plain decimal
    (digits, perhaps a point and at most ``places_max`` places) read as a decimal column of
    that many places — what such a value means by the field's rule too, without reading a
    million strings one by one. Anything else (a sign, a space, 年 and 月, more places):
    None, and the field's rule reads it."""
    fast = _scaled(column, scale, places_max)
    if fast is not None or not _is_text(column):
        return fast
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    places = rf"(\.[0-9]{{1,{places_max}}})?" if places_max else ""
    plain = pc.match_substring_regex(column, rf"^[0-9]{{1,{30 - places_max}}}{places}$")
    if not pc.all(plain.fill_null(True)).as_py():
        return None
    try:
        decimals = pc.cast(column, pa.decimal128(38, places_max))
    except pa.ArrowException:
        return None
    return _scaled(decimals, scale, places_max)


def _is_text(column: pa.Array) -> bool:
    kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _distinct(column: pa.Array) -> tuple[list[Any], np.ndarray]:
    """The column's distinct values (in the order they first appear; None last, where there
    are nulls) and each row's position among them: a field's rule read once per value."""
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    encoded = pc.dictionary_encode(column)
    words = encoded.dictionary.to_pylist()
    at = encoded.indices.fill_null(len(words)).to_numpy(zero_copy_only=False).astype(np.int64)
    if column.null_count:
        words.append(None)
    return words, at


def _per_value(column: pa.Array, read: Callable[[list[Any]], T]) -> tuple[T, list[Any], np.ndarray]:
    """``read`` (a field's rule over a list of values) of the column's distinct values
    (``_distinct``), with those values and each row's position among them; where it refuses
    one, of every row instead, so that the refusal names the first row holding it."""
    words, at = _distinct(column)
    try:
        return read(words), words, at
    except CaseError:
        words = column.to_pylist()
        return read(words), words, np.arange(len(words))


def _spread(noted: Notes, at: np.ndarray, notes: Notes) -> None:
    """Notes taken per distinct value (``_distinct``) given to every row holding it."""
    if not noted:
        return
    for row in np.flatnonzero(np.isin(at, list(noted))):
        for field, said in noted[int(at[row])].items():
            notes.setdefault(int(row), {})[field] = said


def _unscaled(column: pa.Array) -> np.ndarray | None:
    """A decimal128 column's unscaled integers (its 16-byte two's complement values, read in
    place), or None if one does not fit in 64 bits. Null slots read as 0."""
    words = np.frombuffer(column.buffers()[1], dtype="<i8")
    words = words[2 * column.offset : 2 * (column.offset + len(column))].reshape(-1, 2)
    low, high = words[:, 0], words[:, 1]
    valid = ~column.is_null().to_numpy(zero_copy_only=False)
    if not bool(np.all((high == (low >> 63)) | ~valid)):
        return None
    return np.where(valid, low, 0)


def _number(column: pa.Array | None, name: str, n: int, notes: Notes) -> np.ndarray:
    spec = NUMBER_FIELDS[name]
    if column is None:
        if spec.absent is REQUIRED:
            raise CaseError(0, name, REQUIRED_TEXT)
        return np.full(n, spec.absent, dtype=np.int64)
    years = name in YEARS_FIELDS
    fast = None
    if name in ("birth", "retire"):
        months = _months(column, name, spec.reason)
        if months is not None:
            return months
    elif spec.scale is not None:
        fast = _fast(column, spec.scale, len(str(spec.scale)) - 1)
    elif years:
        fast = _fast(column, YEARS_SCALE, YEARS_FAST_PLACES_MAX)
    if fast is None:  # other text, or finer than the fast path reads: the field's own rule
        values, words, at = _per_value(column, lambda raw: number_values(raw, name))
        if years:
            noted: Notes = {}
            note_years(words, values, name, noted)
            _spread(noted, at, notes)
        return values[at]  # type: ignore[no-any-return]
    absent = fast < 0
    maximum = (YEARS_MAX * YEARS_SCALE) if years else spec.maximum * (spec.scale or 1)
    bad = (fast > maximum) | (fast == 0 if spec.positive else np.zeros(n, dtype=bool))
    bad |= absent & (column.is_null().to_numpy(zero_copy_only=False) == False)  # noqa: E712
    _refuse_first(bad, absent & (spec.absent is REQUIRED), column, name, spec.reason)
    if bool(np.any(absent)):
        fast = np.where(absent, spec.absent, fast)
    return fast


def _refuse_first(
    bad: np.ndarray, missing: np.ndarray, column: pa.Array, name: str, reason: Text
) -> None:
    """Refuse the first row (in the table's order, as the field's rule reading row by row
    does) whose value is refused (``bad``) or absent though required (``missing``)."""
    wrong = bad | missing
    if bool(np.any(wrong)):
        i = int(np.flatnonzero(wrong)[0])
        said = refused_value(reason, column[i].as_py()) if bad[i] else REQUIRED_TEXT
        raise CaseError(i, name, said)


def _months(column: pa.Array, name: str, reason: Text) -> np.ndarray | None:
    """Month ordinals of a text column of "YYYY-MM" (-1 where null), read at once."""
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if not _is_text(column):
        return None  # the field's rule refuses it with its reason
    good = pc.match_substring_regex(column, r"^[0-9]{4}-(0[1-9]|1[0-2])$")
    bad = pc.and_(pc.invert(good.fill_null(True)), column.is_valid())
    if pc.any(bad).as_py():
        i = int(pc.index(bad, True).as_py())
        raise CaseError(i, name, refused_value(reason, column[i].as_py()))
    filled = column.fill_null("0000-01")
    year = pc.cast(pc.utf8_slice_codeunits(filled, 0, 4), pa.int64()).to_numpy()
    month = pc.cast(pc.utf8_slice_codeunits(filled, 5, 7), pa.int64()).to_numpy()
    out = year * 12 + month - 1
    if column.null_count:
        out = np.where(column.is_null().to_numpy(zero_copy_only=False), -1, out)
    return out  # type: ignore[no-any-return]


def _index(
    column: pa.Array | None, name: str, n: int, required: bool
) -> tuple[np.ndarray, dict[int, Fraction]]:
    if column is None:
        if required:
            raise CaseError(0, name, REQUIRED_TEXT)
        return np.full(n, -1, dtype=np.int64), {}
    fast = _fast(column, INDEX_SCALE_INPUT, 6)
    if fast is None:  # other text, or more than six places: exact values one by one
        (exact, finer), _, at = _per_value(
            column, lambda raw: split_index(index_values(raw, name, required))
        )
        spread = np.flatnonzero(np.isin(at, list(finer))) if finer else ()
        return exact[at], {int(i): finer[int(at[i])] for i in spread}
    absent = column.is_null().to_numpy(zero_copy_only=False)
    bad = (fast > INDEX_MAX * INDEX_SCALE_INPUT) | ((fast < 0) & ~absent)
    _refuse_first(bad, absent & required, column, name, INDEX_REASON)
    return fast, {}


def results_table(parsed: ParsedCases, result: PensionResult, warnings: CaseWarnings) -> pa.Table:
    """One row per case, in order: id (where given), the amounts in fen, the warnings."""
    columns: dict[str, Any] = {}
    if any(i is not None for i in parsed.ids):
        columns["id"] = pa.array(parsed.ids)
    columns |= {
        "basic_pension_fen": pa.array(result.basic_fen, pa.int64()),
        "account_pension_fen": pa.array(result.account_pension_fen, pa.int64()),
        "transitional_pension_fen": pa.array(result.transitional_fen, pa.int64()),
        "extra_pension_fen": pa.array(result.extra, pa.int64()),
        "total_fen": pa.array(result.total_fen, pa.int64()),
        "warnings": _warnings_column(warnings),
    }
    return pa.table(columns)


WARNING_TYPE = pa.struct(
    [(name, pa.string()) for name in ("code", "field", "message", "message_zh", "message_en")]
)


def _warnings_column(warnings: CaseWarnings) -> pa.Array:
    """Each case's list of warnings. The words are dictionary-encoded (each distinct warning
    once, a million cases of one region's warning a million small integers); the file is
    written without Arrow's schema, so a reader sees plain strings (``write_results``)."""
    offsets = warnings.offsets.astype(np.int32)
    which = pa.array(warnings.which, pa.int32())
    distinct = warnings.distinct
    words = {
        "code": [w.code for w in distinct],
        "field": [w.field for w in distinct],
        "message": [w.message for w in distinct],
        "message_zh": [w.said.zh for w in distinct],
        "message_en": [w.said.en for w in distinct],
    }
    values = pa.StructArray.from_arrays(
        [
            pa.DictionaryArray.from_arrays(which, pa.array(words[f.name], pa.string()))
            for f in WARNING_TYPE
        ],
        names=[f.name for f in WARNING_TYPE],
    )
    return pa.ListArray.from_arrays(pa.array(offsets), values)


def write_results(path: Path, table: pa.Table, name: str = "") -> None:
    """Written beside the target and renamed into place (``output_files``): a reader never
    sees half a file, and a place no file can be written is refused, not a traceback. Arrow's
    schema is not stored: the Parquet schema says all a reader needs, and the warnings'
    dictionary-encoded words (``_warnings_column``) are read back as plain strings."""
    from suiren.services.output_files import OutputFile

    with OutputFile(path, name, binary=True) as out:
        pq.write_table(table, out.stream, store_schema=False)
