"""Logins: a one-time code, a worker's registration, session tokens for workers and clerks,
and the throttle every login route (and the portal's forms) counts against."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator
from pydantic_core import PydanticCustomError

from suiren.api import access, trail
from suiren.api.body import JsonBodyRoute
from suiren.api.problems import documented
from suiren.api.routes.common import (
    ActorDep,
    Service,
    ServiceDep,
    end_own_sessions,
    service_of,
)
from suiren.api.throttle import LIMIT
from suiren.domain.messages import text as message
from suiren.domain.phone import CHARS_MAX as PHONE_CHARS_MAX
from suiren.services.clerks import LOGIN_CHARS_MAX as CLERK_LOGIN_CHARS_MAX
from suiren.services.logins import LoginName

router = APIRouter(route_class=JsonBodyRoute)


AUTH_REQUESTS_PER_MINUTE = LIMIT  # per client address, for the /auth routes and login forms
# every /auth route, past AUTH_REQUESTS_PER_MINUTE; a code, while its login's last was tried too
# often, within a minute of its last, or past the day's CODES_PER_DAY
THROTTLED = documented({429})
LOGIN_REFUSED = documented({401, 429})  # a wrong code or password reads alike


def throttle_logins(request: Request) -> None:
    """At most AUTH_REQUESTS_PER_MINUTE login requests a minute from one address (in this
    process, in bounded memory: ``api/throttle.py``). The portal's login forms count here
    too."""
    address = request.client.host if request.client else "?"
    if not service_of(request).login_throttle.allow(address):
        from suiren.services.logins import LoginLocked

        raise LoginLocked(message("login.too-many-requests"))


PhoneField = Annotated[
    str,
    Field(
        min_length=11,
        max_length=PHONE_CHARS_MAX,
        description="a mainland mobile number (11 digits; +86, spaces and hyphens allowed)",
    ),
]


class CodeRequest(BaseModel):
    """A worker's login name: their resident id, or the mobile number they bound to their
    login (``PUT /me/phone``) — one of the two."""

    model_config = ConfigDict(extra="forbid")

    resident_id: str | None = Field(default=None, min_length=15, max_length=18)
    phone: PhoneField | None = None

    @model_validator(mode="after")
    def _one_name(self) -> CodeRequest:
        if (self.resident_id is None) == (self.phone is None):  # Chinese: ``api.validation``
            raise PydanticCustomError(
                "one_login_name", "give either resident_id or phone, not both"
            )
        return self

    def login_name(self, service: Service) -> LoginName:
        from suiren.services.logins import phone_login, resident_login

        if self.phone is not None:
            return phone_login(service.vault, self.phone)
        assert self.resident_id is not None  # _one_name
        return resident_login(service.vault, self.resident_id, service.now())


class Registration(CodeRequest):
    code: str = Field(pattern=r"^[0-9]{6}$")
    password: str = Field(min_length=8, max_length=128)


class Credentials(CodeRequest):
    """A worker's resident id or bound mobile number, and password (set with
    ``/auth/register``)."""

    password: str = Field(min_length=1, max_length=128)


class ClerkCredentials(BaseModel):
    """An agency clerk's login name and password (``suiren clerk add``; the console's)."""

    model_config = ConfigDict(extra="forbid")

    login: str = Field(min_length=1, max_length=CLERK_LOGIN_CHARS_MAX)
    password: str = Field(min_length=1, max_length=128)


@router.post("/auth/code", status_code=202, responses=THROTTLED)
@access.rule(access.PUBLIC)
def auth_code(request: Request, body: CodeRequest, service: ServiceDep) -> JSONResponse:
    """Send a one-time code to the phone on record for a resident id, or to the mobile number
    given (demo mode: the code is in the answer). The answer is the same whether the person
    is insured, or the number bound, or not. A login is sent one code a minute at most
    (429 ``locked``, saying how many seconds to wait) and ten a day, Beijing time (429
    ``codes-per-day``: ask again tomorrow)."""
    from suiren.services.logins import request_code

    throttle_logins(request)
    with service.transaction() as connection:
        code = request_code(connection, service.vault, body.login_name(service), service.now())
        trail.record(connection, request, trail.ANONYMOUS, 202, service.now())
    answer: dict[str, Any] = {"sent": True}
    if service.settings.demo_codes:
        answer["demo_code"] = code
    return JSONResponse(answer, status_code=202)


@router.post("/auth/register", status_code=201, responses=LOGIN_REFUSED)
@access.rule(access.PUBLIC)
def auth_register(request: Request, body: Registration, service: ServiceDep) -> JSONResponse:
    """Set a password with a one-time code for a resident id or a bound mobile number (an
    enrolled person only; any refusal reads the same)."""
    from suiren.services.logins import REFUSED, LoginRefused, register

    throttle_logins(request)
    with service.transaction() as connection:  # a wrong code's attempt is kept: then refused
        worker = register(
            connection,
            service.vault,
            body.login_name(service),
            body.code,
            body.password,
            service.now(),
        )
        if worker is not None:
            trail.record(connection, request, trail.worker_actor_id(worker), 201, service.now())
    if worker is None:
        raise LoginRefused(REFUSED)
    return JSONResponse({"registered": True}, status_code=201)


def _credentials_kind(body: Any) -> str:
    """A clerk's credentials name a login; any other body is read as a worker's (so that a
    mistake in either is reported against the fields its sender meant)."""
    return "ClerkCredentials" if isinstance(body, dict) and "login" in body else "Credentials"


UNION_TAGS = frozenset({"Credentials", "ClerkCredentials"})  # not fields: left out of errors
AnyCredentials = Annotated[
    Annotated[Credentials, Tag("Credentials")]
    | Annotated[ClerkCredentials, Tag("ClerkCredentials")],
    Discriminator(_credentials_kind),
]


@router.post("/auth/token", responses=LOGIN_REFUSED)
@access.rule(access.PUBLIC)
def auth_token(request: Request, body: AnyCredentials, service: ServiceDep) -> JSONResponse:
    """A session token (Bearer) for a worker's resident id or bound mobile number and
    password (``wt_…``: their own
    records, under ``/me``), or for an agency clerk's login name and password (``ct_…``:
    what an agency key of the clerk's region may do, no more). The same limit per address
    and lock-out for both; any refusal reads the same, whether the login exists or not."""
    from suiren.services.logins import TOKEN_TTL

    throttle_logins(request)
    if isinstance(body, ClerkCredentials):
        token = _clerk_token(request, body, service)
    else:
        token = _worker_token(request, body, service)
    return JSONResponse(
        {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": int(TOKEN_TTL.total_seconds()),
        }
    )


@router.post("/auth/logout", status_code=204)
@access.rule(access.WORKER_SELF)
def auth_logout(request: Request, actor: ActorDep, service: ServiceDep) -> Response:
    """Log out with a worker's session token (``wt_…``, ``/auth/token``'s): the session
    ends on the server, and with it every other session of the worker — their other phone's,
    the portal's — as ``/me/sessions/end`` ends them (a token is signed, not stored: what it
    carries is the generation of all the worker's sessions). The token, and any copy of it,
    is refused from the next request on (401); a second logout with it is refused the same
    way and ends nothing, so an old copy cannot end the sessions of a later login. Log in
    again for a new token."""
    return end_own_sessions(request, actor, service)


def _worker_token(request: Request, body: Credentials, service: Service) -> str:
    """The worker's token; the login is in the access log, as a clerk's is."""
    from suiren.services.logins import REFUSED, LoginRefused, log_in, worker_token

    token = None
    with service.transaction() as connection:  # a failure is counted: then refused
        worker = log_in(
            connection, service.vault, body.login_name(service), body.password, service.now()
        )
        if worker is not None:
            trail.record(connection, request, trail.worker_actor_id(worker), 200, service.now())
            token = worker_token(connection, service.token_key, worker, service.now())
    if token is None:
        raise LoginRefused(REFUSED)
    return token


def _clerk_token(request: Request, body: ClerkCredentials, service: Service) -> str:
    """The clerk's token, as the console's login gives (the same check, lock-out and
    refusal); the login is in the access log, as a console login is."""
    from suiren.services.clerks import REFUSED, log_in_clerk, sign_clerk_token
    from suiren.services.logins import LoginRefused

    now = service.now()
    with service.transaction() as connection:  # a failure is counted: then refused
        clerk = log_in_clerk(connection, body.login, body.password, now)
        if clerk is not None:
            trail.record(connection, request, clerk.actor_id, 200, now)
    if clerk is None:
        raise LoginRefused(REFUSED)
    return sign_clerk_token(service.token_key, clerk.login, now, clerk.generation)
