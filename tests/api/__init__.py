"""API tests."""

from __future__ import annotations

import base64
from typing import Any

from suiren.settings import Settings
from tests.conftest import SECRET


def settings_for(url: str = "sqlite:///:memory:", **extra: Any) -> Settings:
    """The service's settings for a test database, with the tests' secret."""
    return Settings(database_url=url, secret_key=base64.b64encode(SECRET).decode(), **extra)
