"""Opaque cursors of the lists that come a page at a time: the API's (``?cursor=``, answered
with ``next_cursor``) and the agency console's (``?after=`` and ``?before=``).

A cursor is the last key of the page before it (a worker's or a transfer's id), in URL-safe
base64 without padding: opaque to a caller, who only hands back what a page gave. It imports
no web framework, so that the API's routes and the portal share one form of it.
"""

from __future__ import annotations

import base64

from suiren.domain.errors import InvalidInput
from suiren.domain.messages import text as message


def encode_cursor(key: str) -> str:
    """The cursor of a page that starts after ``key``."""
    return base64.urlsafe_b64encode(key.encode()).rstrip(b"=").decode()


def next_cursor(keys: list[str], limit: int) -> str | None:
    """The cursor of the page after one of ``limit`` rows whose keys are ``keys``, or None
    where that page was not full (it was the last)."""
    if len(keys) < limit:
        return None
    return encode_cursor(keys[-1])


def decode_cursor(value: str | None) -> str:
    """The key a page starts after ("" for the first page, ``value`` None); a cursor no page
    gave is refused (``InvalidInput``, field ``cursor``)."""
    if value is None:
        return ""
    try:
        padded = value.encode() + b"=" * (-len(value) % 4)
        key = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        key = None
    # only the text ``encode_cursor`` gives: a key with a NUL ("AA") no id has, and PostgreSQL
    # cannot even compare
    if key is None or "\x00" in key or encode_cursor(key) != value:
        raise InvalidInput(message("api.cursor"), field="cursor") from None
    return key
