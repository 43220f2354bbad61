"""The agency console (经办控制台, issue 11 §4) at ``/console/``: a clerk's desk over the same
services as the API, on the portal's app, templates and stylesheet.

``session`` holds the clerk's cookie, ``desk`` what every console page shares (the clerk
from the session, acting as an agency of their region; the CSRF check of every POST; the
access-log row of every write), ``login`` logging in and out, ``transfers`` the transfers
waiting for the region and their steps, ``region`` its workers, funds, settlement windows
and the audit. Each route declares its access rule (``api/access.py``), and the rules that
need the data are checked with it, so a page offers only what the clerk may do and a forged
request for anything else is the same 404 as an unknown one.
"""

from __future__ import annotations

from fastapi import APIRouter

from suiren.portal.console import login, region, transfers

router = APIRouter(include_in_schema=False)
router.include_router(login.router)
router.include_router(transfers.router)
router.include_router(region.router)
