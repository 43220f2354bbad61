"""The portal's session and its forms' CSRF check.

The session is the worker's API token (``wt_…``, ``services/logins.sign_token``: HMAC-signed,
30 minutes) in a cookie that scripts cannot read (HttpOnly), that no other site's page sends
(SameSite=Strict), and that travels only over HTTPS when the portal is served over HTTPS
(Secure). Its expiry is checked on every request by ``read_token``, and its generation
against the worker's sessions' row (``logins.check_session``: a session ended since — log out
everywhere, an agency's end of them, a new password — is refused); every write checks it
again in its own transaction (``confirm``). The cookie's own Max-Age only tidies the
browser.

Every POST form carries a CSRF token in a hidden field: the HMAC of a random nonce kept in
its own cookie and of the session the page was served to (a signed double submit bound to
the session). A page from another site can neither read the nonce nor compute the HMAC
without the server's key, so a forged form is refused even if the browser would send the
cookies; and one who can write a cookie for the domain (a sibling subdomain) but not read
one, who plants a nonce of theirs, gets a token for it only for a session of their own.
The nonce is renewed at each login and logout.

The logout ends the worker's sessions on the server (``end_sessions``: every one, as *Log out
on every device* does), so that a copy of the cookie taken before — a shared computer's —
opens nothing afterwards; then the browser's cookies go (``end``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from fastapi import Request, Response
from sqlalchemy import Connection

from suiren.services.logins import (
    TOKEN_TTL,
    LoginRefused,
    Session,
    TokenKind,
    check_session,
    read_token,
)

if TYPE_CHECKING:
    from suiren.api.routes.common import Service

SESSION_COOKIE = "suiren_session"
CSRF_COOKIE = "suiren_csrf"
CSRF_FIELD = "csrf"
NONCE_BYTES = 24
COOKIE_CHARS_MAX = 512  # a session token is about 120 characters; anything longer is refused


def _secure(request: Request) -> bool:
    """Secure cookies when the portal is reached over HTTPS (uvicorn's proxy headers set the
    scheme behind a TLS proxy)."""
    return request.url.scheme == "https"


class SessionEnded(Exception):
    """The worker's sessions were ended while a write of theirs ran (``confirm``): nothing is
    written, and ``pages.own_page`` sends them to log in again."""


def _signed(request: Request, key: bytes, now: datetime) -> Session | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > COOKIE_CHARS_MAX:
        return None
    try:
        return read_token(key, token, now)
    except (LoginRefused, ValueError, KeyError, TypeError):
        return None


def current(request: Request, service: Service) -> Session | None:
    """The worker's session from the cookie, or None: absent, tampered, another key's,
    expired, or of sessions ended since (the worker logged out everywhere, an agency ended
    them, a new password) — all alike. One read of the worker's sessions' row by its primary
    key, in a read transaction of its own."""
    now = service.now()
    signed = _signed(request, service.token_key, now)
    if signed is None:
        return None
    try:
        with service.transaction(read_only=True) as connection:
            check_session(connection, signed)
    except LoginRefused:
        return None
    return signed


def confirm(connection: Connection, request: Request, key: bytes, worker_id: str) -> None:
    """A worker's write checks their session again in its own transaction, as the API's
    writes check their caller (``auth.confirm_caller``): the cookie's session must still be
    ``worker_id``'s and of their sessions' generation, its row held until the write commits;
    else ``SessionEnded`` and nothing is written."""
    from suiren.api.routes.common import service_of

    signed = _signed(request, key, service_of(request).now())
    if signed is None or signed.worker_id != worker_id:
        raise SessionEnded
    try:
        check_session(connection, signed, hold=True)
    except LoginRefused:
        raise SessionEnded from None


def end_sessions(request: Request, service: Service) -> bool:
    """The logout's end of the worker's sessions on the server, if the cookie is a session
    now (``logins.end_sessions`` by the worker, in the access log, in one transaction that
    holds the sessions' row from its check to its commit); False when it is none — absent,
    tampered, expired, or ended already (a second logout, a copy of an ended cookie) — and
    nothing is written."""
    from suiren.api import trail
    from suiren.services.logins import end_sessions

    now = service.now()
    signed = _signed(request, service.token_key, now)
    if signed is None:
        return False
    with service.transaction() as connection:
        try:
            check_session(connection, signed, hold=True)
        except LoginRefused:
            return False
        actor = trail.worker_actor_id(signed.worker_id)
        end_sessions(connection, signed.worker_id, now, actor)
        trail.record(connection, request, actor, 303, now)
    return True


def had_session(request: Request) -> bool:
    """Whether the browser sent a session cookie (to tell "expired" from "never logged in")."""
    return bool(request.cookies.get(SESSION_COOKIE))


def start(request: Request, response: Response, token: str) -> None:
    """Log the worker in: their token (``logins.worker_token``, signed in the login's
    transaction) in the session cookie, and a fresh CSRF nonce."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(TOKEN_TTL.total_seconds()),
        path="/",
        secure=_secure(request),
        httponly=True,
        samesite="strict",
    )
    set_nonce(request, response, new_nonce())


def end(request: Request, response: Response) -> None:
    """Log out in this browser (the logout ends the sessions themselves first,
    ``end_sessions``): the session cookie goes, and so does the form nonce (a new one comes
    with the next page)."""
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(
            name, path="/", secure=_secure(request), httponly=True, samesite="strict"
        )


def new_nonce() -> str:
    return secrets.token_urlsafe(NONCE_BYTES)


def nonce_of(request: Request) -> str | None:
    nonce = request.cookies.get(CSRF_COOKIE)
    return nonce if nonce and len(nonce) <= COOKIE_CHARS_MAX else None


def set_nonce(request: Request, response: Response, nonce: str) -> None:
    response.set_cookie(
        CSRF_COOKIE, nonce, path="/", secure=_secure(request), httponly=True, samesite="strict"
    )


def csrf_token(request: Request, key: bytes, nonce: str) -> str:
    """The hidden field's value for a form served with ``nonce`` in its cookie, to the
    session this request holds (``_bound_to``); a session's form's begins with its tag
    (``_session_tag``: "this browser's page, served to a session", not which), so that its
    form posted after the session's cookie went is told from a forged one (``forged``)."""
    bound = _bound_to(request, key)
    message = b"portal-csrf:" + nonce.encode() + b"\x00" + bound.encode()
    mac = hmac.new(key, message, hashlib.sha256).hexdigest()
    return f"{_session_tag(key, nonce)}.{mac}" if bound else mac


def _session_tag(key: bytes, nonce: str) -> str:
    return hmac.new(key, b"portal-csrf-session:" + nonce.encode(), hashlib.sha256).hexdigest()[:32]


def csrf_valid(request: Request, key: bytes, given: str | None) -> bool:
    """The form's token matches the nonce in this browser's cookie and the session it holds."""
    nonce = nonce_of(request)
    if nonce is None or not given:
        return False
    return hmac.compare_digest(csrf_token(request, key, nonce), given)


def forged(request: Request, key: bytes, given: str | None) -> bool:
    """Whether a form that acts for a session (every form but a login's) is refused as not
    this browser's: its token is not ``csrf_valid``, and it is not one a page of this
    browser gave to a session whose cookie has gone since. A browser drops the session
    cookie at its Max-Age — the session's ``TOKEN_TTL`` — so a form left open past it comes
    without one; nothing is done without a session, and such a form is answered as a page
    that needs one is, with the way to the login page (its token, bound to the session, no
    longer matches a browser without it). With a session cookie, only its own token does."""
    if csrf_valid(request, key, given):
        return False
    nonce = nonce_of(request)
    if _area_cookie(request)[1] or nonce is None or not given or "." not in given:
        return True
    return not hmac.compare_digest(_session_tag(key, nonce), given.partition(".")[0])


def _area_cookie(request: Request) -> tuple[TokenKind, str | None]:
    """The session cookie of the request's area (the console's under ``/console``, the
    portal's elsewhere) and the kind of token it holds."""
    from suiren.portal.console.session import CONSOLE_COOKIE, CONSOLE_PATH

    console = request.url.path.startswith(CONSOLE_PATH)
    kind = TokenKind.CLERK if console else TokenKind.WORKER
    return kind, request.cookies.get(CONSOLE_COOKIE if console else SESSION_COOKIE)


_NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # a "now" before every token's expiry


def _bound_to(request: Request, key: bytes) -> str:
    """Whose forms this request's are: the session its area's cookie holds (the console's
    under ``/console``, the portal's elsewhere) as signed by ``key`` — its kind, subject and
    generation; "" for none (a login page). So a token a page gave for a nonce is a token of
    that session's forms only: who can plant a nonce cookie in a worker's browser (a sibling
    subdomain can write one) but not read the worker's cookies gets no token of the
    worker's forms from a page of their own. The expiry is not looked at: a form whose
    session expired since is refused as an expired session (to the login page), not as a
    forged form (``forged``: so too where the browser dropped the cookie with it)."""
    kind, token = _area_cookie(request)
    if not token or len(token) > COOKIE_CHARS_MAX:
        return ""
    try:
        signed = read_token(key, token, _NEVER, kind)
    except (LoginRefused, ValueError, KeyError, TypeError):
        return ""
    return f"{kind.value}{signed.subject}:{signed.generation}"
