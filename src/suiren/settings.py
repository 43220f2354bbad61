"""Settings (pydantic-settings), read from the environment with the ``SUIREN_`` prefix.

Built once at an edge (the CLI command, the API app factory) and passed inward; never
read at import time. The secret that protects resident ids comes from
``SUIREN_SECRET_KEY`` (base64, 32 bytes) or from a key file created on first use beside
the embedded database — never from the repository.
"""

from __future__ import annotations

import base64
import os
import secrets
from datetime import date
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from suiren.domain.errors import InvalidInput

DEFAULT_DATABASE_URL = "sqlite:///./suiren.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SUIREN_")

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str | None = None  # base64 of 32 random bytes
    key_file: Path = Path("./suiren.key")
    today: date | None = None  # fixes "today" for tests and replays; None = the real date
    scenario: str = "current_law"

    def secret(self) -> bytes:
        """The 32-byte master secret (created in ``key_file`` if none is configured)."""
        if self.secret_key:
            raw = base64.b64decode(self.secret_key)
        elif self.key_file.exists():
            raw = base64.b64decode(self.key_file.read_text().strip())
        else:
            raw = secrets.token_bytes(32)
            fd = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(base64.b64encode(raw).decode())
        if len(raw) != 32:
            raise InvalidInput("SUIREN_SECRET_KEY must be base64 of exactly 32 bytes")
        return raw

    def current_date(self) -> date:
        return self.today or date.today()
