"""The console's session: the clerk's signed token (``ct_…``, ``services/clerks``; 30
minutes, renewed while the clerk works) in a cookie of its own, sent only to ``/console``,
that scripts cannot read (HttpOnly), that no other site's page sends (SameSite=Strict), and
that travels only over HTTPS when the console is served over HTTPS (Secure).

The token carries the generation of the clerk's sessions, which every request compares with
their row (``desk_of``): the logout moves it on (``services/clerks.end_clerk_sessions``), so
a copy of the cookie taken before, or a token renewed from it, opens nothing afterwards.

A worker's session cookie opens no console page, nor a clerk's a portal page: the tokens
are of different kinds (their MACs are computed in different domains). The forms' CSRF
check is the portal's (``portal/session.py``): a nonce cookie and its HMAC, bound to the
clerk's session, in every form, renewed at each login and logout.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import Request, Response

from suiren.portal import session as portal_session
from suiren.services.clerks import Clerk, read_clerk_token, sign_clerk_token
from suiren.services.logins import TOKEN_TTL, LoginRefused, Session

CONSOLE_COOKIE = "suiren_console"
CONSOLE_PATH = "/console"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def current(request: Request, key: bytes, now: datetime) -> Session | None:
    """The clerk's session as signed (``subject``: the login), or None: absent, tampered, a
    worker's, another key's, or expired — all alike. Whether it has been ended since is the
    database's to say (``desk_of``)."""
    token = request.cookies.get(CONSOLE_COOKIE)
    if not token or len(token) > portal_session.COOKIE_CHARS_MAX:
        return None
    try:
        return read_clerk_token(key, token, now)
    except (LoginRefused, ValueError, KeyError, TypeError):
        return None


def had_session(request: Request) -> bool:
    return bool(request.cookies.get(CONSOLE_COOKIE))


def start(
    request: Request, response: Response, key: bytes, clerk: Clerk | Session, now: datetime
) -> None:
    """Log the clerk in (or renew the session, at its generation): the signed token in the
    console cookie."""
    login = clerk.login if isinstance(clerk, Clerk) else clerk.subject
    response.set_cookie(
        CONSOLE_COOKIE,
        sign_clerk_token(key, login, now, clerk.generation),
        max_age=int(TOKEN_TTL.total_seconds()),
        path=CONSOLE_PATH,
        secure=_secure(request),
        httponly=True,
        samesite="strict",
    )


def renew_if_old(
    request: Request, response: Response, key: bytes, held: Session, now: datetime
) -> None:
    """A session past half its life is renewed with the page (a clerk at work stays logged
    in; one who leaves the desk is logged out within ``TOKEN_TTL``)."""
    if held.expires_at - now < TOKEN_TTL / 2:
        start(request, response, key, held, now)


def end(request: Request, response: Response) -> None:
    """Remove this browser's cookies (the logout ends the sessions themselves first)."""
    response.delete_cookie(
        CONSOLE_COOKIE, path=CONSOLE_PATH, secure=_secure(request), httponly=True, samesite="strict"
    )
    response.delete_cookie(
        portal_session.CSRF_COOKIE,
        path="/",
        secure=_secure(request),
        httponly=True,
        samesite="strict",
    )
