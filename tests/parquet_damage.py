"""Parquet files damaged past their first row group, for the intake tests (services, CLI, API).

A file is written in row groups of a few rows (``write_in_row_groups``), with the page
checksums (CRC-32) a writer may store; ``damage`` then overwrites bytes inside one later row
group, the footer left intact, so that the file opens and its first row groups read as
before. Two kinds of damage, each found from the file's own metadata:

- ``"page header"``: the header of the first data page of the group's first column, so that
  the page cannot be read at all;
- ``"value"``: the last byte of the group's first column's dictionary page, so that the page
  still decodes, to another value — only its checksum says it changed.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

DAMAGES = ("page header", "value")


def write_in_row_groups(path: Path, table: pa.Table, group_rows: int) -> None:
    pq.write_table(
        table, path, row_group_size=group_rows, compression="none", write_page_checksum=True
    )


def damage(path: Path, group: int, how: str) -> None:
    """Overwrite bytes of row group ``group`` (0-based) of the Parquet file at ``path``."""
    column = pq.ParquetFile(path).metadata.row_group(group).column(0)
    data = bytearray(path.read_bytes())
    if how == "page header":
        offset = column.data_page_offset
        data[offset : offset + 4] = b"\xff\xff\xff\xff"
    elif how == "value":
        assert column.has_dictionary_page
        offset = column.data_page_offset - 1  # the dictionary page's last byte: a value's
        data[offset] ^= 0x01  # an ASCII digit or letter becomes another one
    else:
        raise AssertionError(how)
    path.write_bytes(bytes(data))
