"""Every API test runs under the PII scan (tests/api/pii.py): after each test, what it made
the API answer, log or record must hold no unmasked resident id, or the test errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.pii import Capture, scan


@pytest.fixture(autouse=True)
def no_resident_id_shown(pii_capture: Capture) -> Iterator[None]:
    yield
    scan(pii_capture)
