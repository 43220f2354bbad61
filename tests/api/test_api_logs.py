"""Resident ids are masked in the server's log lines too (issue 11 §2), uvicorn's access log
included: ``suiren serve`` runs uvicorn with ``api.logs.log_config``, and a request line that
holds a typed resident id (the console's workers search is a GET form) is logged masked."""

from __future__ import annotations

import base64
import logging
import socket
import threading
import time
import urllib.request
from typing import Any
from urllib.parse import quote

import pytest

from suiren.api.logs import MaskResidentIds, masked
from suiren.domain.resident_id import mask
from tests.conftest import SECRET
from tests.ledger_helpers import resident_id

PERSON = resident_id(9)
STARTUP_S = 20


def test_a_resident_id_is_masked_in_a_message_and_its_arguments() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        'id %s in "%s"',
        (PERSON, f"/x?q={PERSON}"),
        None,
    )
    assert MaskResidentIds().filter(record)
    assert record.getMessage() == f'id {mask(PERSON)} in "/x?q={mask(PERSON)}"'
    assert masked(f"sha {PERSON}ab, {PERSON.lower()}.") == f"sha {PERSON}ab, {mask(PERSON)}."


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_suiren_serves_with_an_access_log_that_masks_resident_ids(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    from suiren.cli.main import serve

    monkeypatch.setenv("SUIREN_DATABASE_URL", f"sqlite:///{tmp_path / 'suiren.db'}")
    monkeypatch.setenv("SUIREN_SECRET_KEY", base64.b64encode(SECRET).decode())
    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(app=app, **options))
    serve(host="127.0.0.1", port=8000, demo=False, seed_only=False, demo_people=100)
    assert served.get("log_config"), "suiren serve runs uvicorn without its log configuration"

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(served["app"], log_config=served["log_config"], log_level="info")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    records = _Records()
    try:
        deadline = time.monotonic() + STARTUP_S
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        logging.getLogger("uvicorn.access").addHandler(records)
        url = f"http://127.0.0.1:{port}/console/workers?q={PERSON}"
        with urllib.request.urlopen(url) as answer:  # to the login page: no session
            assert answer.status == 200
    finally:
        logging.getLogger("uvicorn.access").removeHandler(records)
        server.should_exit = True
        thread.join(timeout=STARTUP_S)
        listener.close()
    logged = [line for line in records.lines if "/console/workers" in line]
    assert logged, records.lines
    assert all(PERSON not in line and mask(PERSON) in line for line in logged), logged


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in text)  # ０-９, Ｘ


OLD_FORM = PERSON[:6] + PERSON[8:17]  # the first-generation 15-digit form of the same person


@pytest.mark.parametrize(
    ("written", "length"),
    [
        (PERSON, 18),
        (PERSON.lower(), 18),
        (_full_width(PERSON), 18),
        (quote(_full_width(PERSON)), 18),  # a GET form's query string, as the access log has it
        (quote(_full_width(PERSON)).lower(), 18),
        (f"{PERSON[:6]} {PERSON[6:14]} {PERSON[14:]}", 18),  # typed in groups
        (quote(f"{PERSON[:6]} {PERSON[6:14]} {PERSON[14:]}"), 18),
        (f"{PERSON[:6]}+{PERSON[6:14]}+{PERSON[14:]}", 18),
        (quote(_full_width(f"{PERSON[:6]} {PERSON[6:]}")), 18),
        (OLD_FORM, 15),
        (_full_width(OLD_FORM), 15),
    ],
)
def test_a_resident_id_however_written_is_masked_in_a_request_line(
    written: str, length: int
) -> None:
    line = masked(f'127.0.0.1:5 - "GET /console/workers?q={written}&page=2 HTTP/1.1" 200')
    hidden = PERSON[:2] + "*" * (length - 2)  # the province only (domain.resident_id.mask)
    assert line == f'127.0.0.1:5 - "GET /console/workers?q={hidden}&page=2 HTTP/1.1" 200'


@pytest.mark.parametrize(
    "text",
    [
        f"sha {PERSON}ab",  # part of a longer token
        "1" + PERSON,  # 19 digits
        "2026-12-02 13:10:57,123 order 12345678901234 and 1234567890123456",
    ],
)
def test_what_is_not_a_resident_id_stays_as_it_was(text: str) -> None:
    assert masked(text) == text
