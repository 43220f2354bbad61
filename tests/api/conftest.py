"""Every API test runs under the PII scan (tests/api/pii.py): after each test, what it made
the API answer, log or record must hold no unmasked resident id, or the test errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.pii import Capture, installed


@pytest.fixture(scope="session")
def pii_capture() -> Iterator[Capture]:
    with installed(Capture()) as capture:
        yield capture


@pytest.fixture(autouse=True)
def no_resident_id_shown(pii_capture: Capture) -> Iterator[None]:
    yield
    findings = pii_capture.findings()  # this test's, and any module fixture's set-up before it
    pii_capture.seen.clear()  # scanned: keep the session's memory flat
    if findings:
        pytest.fail(
            f"{len(findings)} unmasked resident id(s) in what the API said or logged:\n"
            + "\n".join(findings[:10]),
            pytrace=False,
        )
