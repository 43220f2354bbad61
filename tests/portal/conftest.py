"""Every portal and console test runs under the API's PII scan (tests/api/pii.py): the pages
the app answers, its log lines and its access-log rows must hold no unmasked resident id, or
the test errors (issue 11 §6: every response body and log line of the test run)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.pii import Capture, scan


@pytest.fixture(autouse=True)
def no_resident_id_shown(pii_capture: Capture) -> Iterator[None]:
    yield
    scan(pii_capture)
