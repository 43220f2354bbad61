"""The server's log lines with resident ids masked (issue 11 §2: "resident ids are masked in
every response and log line").

Nothing of Suiren logs a resident id, but uvicorn's access log writes each request line
whole, query string included: a clerk who types a full resident id into the console's
workers search (a GET form) would put it in the log. ``MaskResidentIds`` rewrites every
resident id standing alone — 18 characters (17 digits and a check character) or an old
15-digit one, in ASCII or full-width digits, raw or percent-encoded, typed in groups — in a
record's message and arguments to its masked form (``domain.resident_id.mask``) before any handler
sees it; ``log_config`` is uvicorn's logging configuration with it on the server's loggers
(``suiren serve`` runs uvicorn with it).
"""

from __future__ import annotations

import copy
import logging
import re
import unicodedata
from typing import Any

from suiren.domain.resident_id import mask

# A digit as it may reach a log line: ASCII, full-width (typed with a Chinese input method),
# or full-width percent-encoded in a query string (%EF%BC%90..99); the check character also
# X or x in either width. Between two characters, one space, '+' or %20 (an id typed in
# groups). An 18-character id, or a first-generation 15-digit one, standing alone.
_DIGIT = r"(?:[0-9\uff10-\uff19]|%EF%BC%9[0-9])"
_CHECK = r"(?:[0-9Xx\uff10-\uff19\uff38\uff58]|%EF%BC%9[0-9]|%EF%BC%B8|%EF%BD%98)"
_GAP = r"(?:[ +]|%20)?"
RESIDENT_ID_RE = re.compile(
    rf"(?<![0-9A-Za-z\uff10-\uff19])(?:(?:{_DIGIT}{_GAP}){{17}}{_CHECK}|(?:{_DIGIT}{_GAP}){{14}}{_DIGIT})"
    r"(?![0-9A-Za-z\uff10-\uff19\uff38\uff58]|%EF%BC%9|%EF%BC%B8|%EF%BD%98)",
    re.IGNORECASE,
)
_ENCODED = re.compile(r"%EF%BC%9([0-9])|%EF%BC%B8|%EF%BD%98|[ +]|%20", re.IGNORECASE)
SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "suiren")


def masked(text: str) -> str:
    return RESIDENT_ID_RE.sub(lambda found: mask(_plain(found.group(0))), text)


def _plain(written: str) -> str:
    """An id as matched, in ASCII without its gaps (what ``mask`` keeps is its province)."""

    def plain(found: re.Match[str]) -> str:
        if found.group(1):  # a full-width digit
            return found.group(1)
        return "" if found.group(0) in (" ", "+", "%20") else "X"  # a gap, or Ｘ/ｘ

    return unicodedata.normalize("NFKC", _ENCODED.sub(plain, written))


class MaskResidentIds(logging.Filter):
    """Masks resident ids in a record's message and string arguments; lets every record on."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = masked(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(masked(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: masked(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration, with ``MaskResidentIds`` on the server's loggers."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["mask_resident_ids"] = {"()": MaskResidentIds}
    loggers = config.setdefault("loggers", {})
    for name in SERVER_LOGGERS:
        loggers.setdefault(name, {"level": "INFO"})
        loggers[name]["filters"] = ["mask_resident_ids"]
    return config
