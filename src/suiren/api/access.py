"""Who may see what: the one place that decides access (issue 11 §2).

Every route declares its rule with ``@rule(...)``; a test fails when a route has none. The
rules that need the data (a worker's region) are checked with it here, and a foreign id
answers exactly as an unknown one (404), so that existence does not leak.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from fastapi.routing import APIRoute
from sqlalchemy import Connection

from suiren.api.auth import Actor, ActorKind
from suiren.domain.errors import SuirenError
from suiren.domain.messages import text as message
from suiren.ledger.accounts import Scheme

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC = "public"  # no credentials: health, the API's own description
ANY_ACTOR = "any-actor"  # any valid key: the pension calculator (no one's data)
AGENCY_OF_WORKER = "agency-of-worker"  # an agency whose region holds the worker
AGENCY_OF_REGION = "agency-of-region"  # an agency over the region the request names
TRANSFER_PARTY = "transfer-party"  # the old region's agency (approve), the new one's (accept…)
AUDITOR = "auditor"  # an auditor, or the national agency
WORKER_SELF = "worker-self"  # a worker's own records, with their session token
NATIONAL = "national"  # the national agency: settlement between regions
ANALYST = "analyst"  # an analyst, or the national agency: aggregates, no one's records
PLATFORM = "platform"  # a platform's own declarations: the workers it engages
PLATFORM_OF_WORKER = "platform-of-worker"  # a platform that has declared the worker
RULES = (
    PUBLIC,
    ANY_ACTOR,
    AGENCY_OF_WORKER,
    AGENCY_OF_REGION,
    TRANSFER_PARTY,
    AUDITOR,
    WORKER_SELF,
    NATIONAL,
    ANALYST,
    PLATFORM,
    PLATFORM_OF_WORKER,
)


class NotFound(SuirenError):
    code = "not-found"


def rule(name: str) -> Callable[[F], F]:
    """Declare a route's access rule (checked by the route, listed by the test)."""
    if name not in RULES:
        raise AssertionError(f"unknown access rule {name!r}")

    def mark(endpoint: F) -> F:
        endpoint.__access_rule__ = name  # type: ignore[attr-defined]
        return endpoint

    return mark


def rule_of(endpoint: Callable[..., Any]) -> str | None:
    return getattr(endpoint, "__access_rule__", None)


def endpoints(routes: Iterable[Any], prefix: str = "") -> Iterator[tuple[str, Callable[..., Any]]]:
    """Every (path, endpoint function) of the app's API routes, through included routers."""
    for _, path, endpoint in operations(routes, prefix):
        yield path, endpoint


def operations(
    routes: Iterable[Any], prefix: str = ""
) -> Iterator[tuple[str, str, Callable[..., Any]]]:
    """Every (method, path, endpoint function) of the app's API routes; the path as the
    OpenAPI description names it (``{transfer_id}``, not ``{transfer_id:path}``)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from operations(included.routes, prefix + getattr(included, "prefix", ""))
        elif isinstance(route, APIRoute):
            path = route.path_format
            path = path if path.startswith(prefix) else prefix + path
            for method in sorted(route.methods):
                yield method, path, route.endpoint


def region(actor: Actor, code: str) -> str:
    """``code`` if ``actor`` is an agency over it; else the request is refused as unknown."""
    if not actor.covers_region(code):
        raise NotFound(message("api.region-not-served", code=code[:8]))
    return code


NO_SUCH = message("api.no-such")
ID_SHOWN_MAX = 60  # characters of a path's id a 404 repeats (a 10,000-character id was echoed)


def not_here(what: str, identifier: str) -> NotFound:
    """The one 404 of an unknown (or foreign: the same answer) ``what`` (its noun's message
    code), naming the id as
    sent, cut to ``ID_SHOWN_MAX`` characters."""
    shown = identifier if len(identifier) <= ID_SHOWN_MAX else identifier[:ID_SHOWN_MAX] + "…"
    return NotFound(message("api.not-here", what=message(what), shown=shown))


# which side of a transfer may take each step: 转出地 approves, 转入地 accepts and completes
TRANSFER_SIDES = {"approve": ("from",), "accept": ("to",), "complete": ("to",),
                  "reject": ("from", "to"), "view": ("from", "to")}  # fmt: skip


def transfer(connection: Connection, actor: Actor, transfer_id: str, step: str) -> Any:
    """The transfer, if ``actor`` is the agency of a side that may take ``step``; any other
    case — unknown, another region's, the other side's step — is the same 404."""
    from suiren.services.transfers import get_transfer

    missing = not_here("noun.transfer", transfer_id)
    try:
        view = get_transfer(connection, transfer_id)
    except SuirenError:
        raise missing from None
    sides = {"from": view.from_region, "to": view.to_region}
    if not any(actor.covers_region(sides[side]) for side in TRANSFER_SIDES[step]):
        raise missing
    return view


def offered_steps(actor: Actor, view: Any) -> tuple[str, ...]:
    """The steps a desk offers ``actor`` on the transfer now: its next step if that is the
    side ``actor`` covers (转出地 approves, 转入地 accepts and completes), and, beside it
    while the transfer can still be refused, reject. ``transfer`` checks a step that is
    taken, whatever was offered."""
    from suiren.services.transfers import NEXT_STEP, State

    state = State(view.state)
    following = NEXT_STEP.get(state)
    if following is None:
        return ()
    sides = {"from": view.from_region, "to": view.to_region}
    if not any(actor.covers_region(sides[side]) for side in TRANSFER_SIDES[following]):
        return ()
    rejectable = state in (State.REQUESTED, State.APPROVED)
    return (following, "reject") if rejectable else (following,)


def worker_self(actor: Actor) -> str:
    """The worker id of a worker's own session; any other actor: 404."""
    if actor.kind is not ActorKind.WORKER:
        raise NotFound(NO_SUCH)
    return actor.scope


def national(actor: Actor) -> None:
    if not actor.covers_region("000000"):
        raise NotFound(NO_SUCH)


def analyst(actor: Actor) -> None:
    if not (actor.kind is ActorKind.ANALYST or actor.covers_region("000000")):
        raise NotFound(NO_SUCH)


def auditor(actor: Actor) -> None:
    if not (actor.kind is ActorKind.AUDITOR or actor.covers_region("000000")):
        raise NotFound(NO_SUCH)


def worker_region(
    connection: Connection, actor: Actor, worker_id: str, scheme: Scheme = Scheme.EMPLOYEE_PENSION
) -> str:
    """The region holding the worker's insurance, if ``actor`` is an agency over it; any other
    case — an unknown worker, one not enrolled, another region's — is the same 404."""
    agency(actor, worker_id)
    return covered_worker(actor, worker_id, worker_regions(connection, worker_id, scheme))


def agency(actor: Actor, worker_id: str) -> None:
    """An agency may ask for a worker (whose region is checked with the data); anyone else:
    the 404 of an unknown worker, before anything is read."""
    if actor.kind is not ActorKind.AGENCY:
        raise not_here("noun.worker", worker_id)


def agencies_only(actor: Actor) -> None:
    """A route for agencies (a file of their region's rows): anyone else gets the 404 of
    an unknown resource, before the upload is read."""
    if actor.kind is not ActorKind.AGENCY:
        raise NotFound(NO_SUCH)


def worker_regions(
    connection: Connection, worker_id: str, scheme: Scheme = Scheme.EMPLOYEE_PENSION
) -> tuple[str, str] | None:
    """(region of the enrolment, region holding the relation) of the worker in ``scheme``;
    None: unknown, or not enrolled."""
    from suiren.services.workers import enrolment_regions

    return enrolment_regions(connection, worker_id, scheme)


def covered_worker(actor: Actor, worker_id: str, regions: tuple[str, str] | None) -> str:
    """The region holding the worker if ``actor`` is an agency over it or over the
    enrolment's region (``regions`` from ``worker_regions``); else the same 404."""
    if actor.kind is not ActorKind.AGENCY or regions is None:
        raise not_here("noun.worker", worker_id)
    region, held = regions
    if not (actor.covers_region(region) or actor.covers_region(held)):
        raise not_here("noun.worker", worker_id)
    return held


def platform(actor: Actor) -> str:
    """The platform id of a platform's key; any other actor: 404."""
    if actor.kind is not ActorKind.PLATFORM:
        raise NotFound(NO_SUCH)
    return actor.scope


def platform_worker(connection: Connection, actor: Actor, worker_id: str) -> str:
    """The platform id, if ``actor`` is a platform that has declared the worker; any other
    case — an unknown worker, one another platform declared, an agency or a worker asking —
    is the same 404 (agencies read a worker by their own routes)."""
    from suiren.services.platforms import engagements

    missing = not_here("noun.worker", worker_id)
    if actor.kind is not ActorKind.PLATFORM:
        raise missing
    if not engagements(connection, actor.scope, worker_id):
        raise missing
    return actor.scope


def contribution_month(connection: Connection, actor: Actor, month_id: str) -> str:
    """The region that recorded the contribution month ``month_id`` (``PAYMENT-ID/YYYY-MM``),
    if ``actor`` is an agency over it; any other case — no such month, another region's, an
    entry that is no contribution month — is the same 404."""
    from sqlalchemy import select

    from suiren.store.tables import contribution_months

    missing = not_here("noun.contribution-month", month_id)
    if actor.kind is not ActorKind.AGENCY:
        raise missing
    region = connection.execute(
        select(contribution_months.c.region).where(contribution_months.c.tx_id == month_id)
    ).scalar()
    if region is None or not actor.covers_region(region):
        raise missing
    return str(region)
