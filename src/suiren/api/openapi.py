"""``python -m suiren.api.openapi``: write the API's OpenAPI description to docs/openapi.json
(a test checks that the committed file is the code's)."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

from suiren.api.app import create_app
from suiren.settings import Settings


def document() -> str:
    settings = Settings(
        database_url="sqlite:///:memory:", secret_key=base64.b64encode(b"\0" * 32).decode()
    )
    return (
        json.dumps(create_app(settings).openapi(), indent=2, ensure_ascii=False, sort_keys=True)
        + "\n"
    )


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/openapi.json")
    target.write_text(document(), encoding="utf-8")
    print(f"wrote {target}")
