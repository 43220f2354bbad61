"""Every API test runs under the PII scan (tests/api/pii.py): after each test, what it made
the API answer, log or record must hold no unmasked resident id, or the test errors. And the
fixture of the tests that send the whole app what a hostile or careless caller sends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.pii import Capture, scan
from tests.api.world import World, served


@pytest.fixture(autouse=True)
def no_resident_id_shown(pii_capture: Capture) -> Iterator[None]:
    yield
    scan(pii_capture)


@pytest.fixture
def hostile(
    database_url: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, World, Any]]:
    with served(database_url, monkeypatch) as app:
        yield app
