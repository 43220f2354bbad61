"""CSRF protection on every form (issue 11 §2), found from the app's routes: every POST
outside ``/api/`` — the portal's and the console's, those of today and any added later — is
refused (403, the CSRF message) without this browser's token: none, empty, one made for
another browser's nonce, or tampered. The forms' own tests check what each does with a
good token."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from suiren.api import access
from suiren.portal.app import API_PREFIX, create_app
from tests.api import settings_for
from tests.portal import csrf_of


def _form_paths(app: Any) -> list[str]:
    posts = [p for m, p, _ in access.operations(app.routes) if m == "POST"]
    forms = [re.sub(r"\{[a-z_]+(:path)?\}", "some-id", p) for p in posts]
    return [p for p in forms if not p.startswith(API_PREFIX)]


def test_every_form_is_refused_without_this_browsers_csrf_token(tmp_path: Any) -> None:
    app = create_app(settings_for(f"sqlite:///{tmp_path / 'suiren.db'}"))
    paths = _form_paths(app)
    assert {"/login", "/pay", "/move", "/console/login", "/console/audit"} <= set(paths), paths
    with TestClient(app, raise_server_exceptions=False) as browser, TestClient(app) as other:
        mine = csrf_of(browser.get("/login").text)  # this browser's nonce cookie and token
        foreign = csrf_of(other.get("/login").text)  # valid, but for another browser's nonce
        tampered = mine[:-1] + ("1" if mine.endswith("0") else "0")
        for path in paths:
            for token in (None, "", foreign, tampered):
                form = {"reason": "x"} if token is None else {"csrf": token, "reason": "x"}
                refused = browser.post(path, data=form, follow_redirects=False)
                assert refused.status_code == 403, (path, token, refused.status_code)
                assert "并非来自本站" in refused.text, (path, refused.text[:300])
