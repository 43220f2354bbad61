"""The server's log lines with resident ids masked (issue 11 §2: "resident ids are masked in
every response and log line").

Nothing of Suiren logs a resident id, but uvicorn's access log writes each request line
whole, query string included: a clerk who types a full resident id into the console's
workers search (a GET form) would put it in the log. ``MaskResidentIds`` rewrites every
18-character resident id (17 digits and a check character, standing alone) in a record's
message and arguments to its masked form (``domain.resident_id.mask``) before any handler
sees it; ``log_config`` is uvicorn's logging configuration with it on the server's loggers
(``suiren serve`` runs uvicorn with it).
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

from suiren.domain.resident_id import mask

RESIDENT_ID_RE = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])", re.ASCII)
SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "suiren")


def masked(text: str) -> str:
    return RESIDENT_ID_RE.sub(lambda found: mask(found.group(0)), text)


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
