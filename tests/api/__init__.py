"""API tests."""

from __future__ import annotations

import base64
from typing import Any

from suiren.settings import Settings
from tests.conftest import SECRET


def settings_for(url: str = "sqlite:///:memory:", **extra: Any) -> Settings:
    """The service's settings for a test database, with the tests' secret."""
    return Settings(database_url=url, secret_key=base64.b64encode(SECRET).decode(), **extra)


def auth(key: str, **headers: str) -> dict[str, str]:
    """The headers of a request with this bearer key or token (and ``headers``)."""
    return {"Authorization": f"Bearer {key}", **headers}


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """The response is a problem+json refusal of ``status`` and ``code``: its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == f"urn:suiren:problem:{code}" and body["status"] == status
    assert body["title"] and body["detail"] and "Traceback" not in response.text
    return body  # type: ignore[no-any-return]
