"""schemathesis over the API's own OpenAPI description (issue 11 §6): cases generated from
the spec for every operation, in process against the ASGI app, as several kinds of caller;
no answer is a server error and every answer is one the spec documents (its status, its
content type, its body's schema, its headers).

Each actor's run counts its cases and asserts its share; the shares add up to
``CASES_MIN``. The database is one migrated SQLite file for the module with a few enrolled
workers and transfers, and the paths of operations that take an id get real ids half the
time, so that the generated requests reach the services and not only the 404.

Deliberate choices:

- the checks are named (``CHECKS``): every conformance check, server errors, and, in
  negative mode, that schema-violating data is refused. ``positive_data_acceptance`` (a
  request valid by the schema must get a 2xx) is left out: a schema cannot say that a base is
  within the region's floor and ceiling or that a month was not paid already, so a 422 for a
  business rule is the right answer to a schema-valid request.
- hypothesis's ``too_slow`` and ``filter_too_much`` health checks are off: every example is a
  request through the app and a database transaction on a 2-core machine shared with other
  tests, and schemathesis's negative mode filters its own drafts; neither says anything about
  the API. ``deadline`` is off for the same reason (the first request warms the app up).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from suiren.api.app import create_app
from suiren.store.db import make_engine
from suiren.store.migrate import upgrade
from tests.api import settings_for
from tests.api.world import TODAY, World, populate
from tests.conftest import KEYS
from tests.ledger_helpers import quick_hashes  # noqa: F401  (a fixture)

CASES_MIN = 2_000  # generated cases in one run of this module, over all actors
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
    ignored_auth,
]


@dataclass(frozen=True)
class Run:
    """One actor's run: ``examples`` cases per operation in each generation mode."""

    actor: str | None  # a World token name; None: no credentials
    positive: int
    negative: int
    cases_min: int  # this run's share of CASES_MIN


RUNS = [
    Run("national", positive=30, negative=20, cases_min=900),
    Run("gz", positive=15, negative=8, cases_min=400),
    Run("gz_session", positive=10, negative=0, cases_min=200),
    Run("gz_clerk", positive=6, negative=0, cases_min=100),  # a clerk's token: Guangzhou's
    Run("platform", positive=6, negative=0, cases_min=100),
    Run("analyst", positive=4, negative=0, cases_min=70),
    Run("auditor", positive=6, negative=0, cases_min=100),
    Run(None, positive=8, negative=8, cases_min=250),
]
assert sum(run.cases_min for run in RUNS) >= CASES_MIN
# argon2id at its smallest cost (tests/ledger_helpers.py): a generated login with a name no
# clerk has hashes a password all the same (services/logins.py, ``no_such_login``), a fifth
# of the app's time here at the product's cost; the answers are the same
pytestmark = pytest.mark.usefixtures("quick_hashes")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('schemathesis') / 'suiren.db'}"
    engine = make_engine(url, keys=KEYS)
    upgrade(engine)
    made = populate(engine)
    engine.dispose()
    yield url, made


def real_ids(made: World) -> dict[str, st.SearchStrategy[str]]:
    """Path parameters that name objects of the world (half the time), so that requests
    reach past the 404; the other half schemathesis draws its own."""
    return {
        "worker_id": st.sampled_from(sorted(made.workers.values())),
        "transfer_id": st.sampled_from(sorted(made.transfers.values())),
        "window": st.sampled_from(["2026-06-14", "2026-06-15", "2026-06-01"]),
    }


def operation_cases(
    operation: Any, mode: GenerationMode, headers: dict[str, str], ids: dict[str, Any]
) -> st.SearchStrategy[Any]:
    generated = operation.as_strategy(generation_mode=mode, headers=headers)
    names = [name for name in ids if f"{{{name}}}" in operation.path]
    if mode is GenerationMode.NEGATIVE or not names:
        return generated  # type: ignore[no-any-return]
    pinned = operation.as_strategy(
        generation_mode=mode,
        headers=headers,
        path_parameters={name: ids[name] for name in names},
    )
    return st.one_of(generated, pinned)


def run_operation(
    operation: Any, mode: GenerationMode, headers: dict[str, str], ids: Any, examples: int
) -> int:
    """Generate and check up to ``examples`` cases; the number sent."""
    sent = [0]
    cases = operation_cases(operation, mode, headers, ids)

    @settings(
        max_examples=examples,
        deadline=None,
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(case=cases)
    def check(case: Any) -> None:
        sent[0] += 1
        # the credentials also given to the call: schemathesis then knows them for explicit
        # (valid) ones and probes the operation without them and with invalid ones
        case.call_and_validate(checks=CHECKS, headers=headers or None)

    check()
    return sent[0]


def negatable(operation: Any) -> bool:
    """Whether the operation has an input a request can get wrong besides its credentials
    (fixed for a run): a body, a query or header parameter, a path parameter with a pattern.
    The others (a bare id in the path and nothing else) have no negative cases."""
    raw = operation.definition.raw
    return "requestBody" in raw or any(
        p["in"] != "path" or "pattern" in p.get("schema", {}) for p in raw.get("parameters", [])
    )


@pytest.mark.parametrize("run", RUNS, ids=lambda run: run.actor or "no-credentials")
def test_every_answer_is_one_the_spec_documents(world, run: Run) -> None:  # type: ignore[no-untyped-def]
    url, made = world
    app = create_app(settings_for(url, today=TODAY))  # its own login counter per run
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    headers = made.auth(run.actor) if run.actor else {}
    ids = real_ids(made)
    sent = 0
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25, [o.label for o in operations]
    for operation in operations:
        sent += run_operation(operation, GenerationMode.POSITIVE, headers, ids, run.positive)
        if run.negative and negatable(operation):
            sent += run_operation(operation, GenerationMode.NEGATIVE, headers, ids, run.negative)
    print(f"{run.actor or 'no credentials'}: {sent} schemathesis cases")
    assert sent >= run.cases_min, f"only {sent} cases generated for {run.actor}"
