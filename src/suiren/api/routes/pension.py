"""The pension calculator (``suiren pension calc``) over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from suiren.api import access
from suiren.api.body import JsonBodyRoute
from suiren.api.routes.common import (
    ActorDep,
    ServiceDep,
    _plain,
)
from suiren.domain.errors import InvalidInput
from suiren.domain.messages import text as message

router = APIRouter(route_class=JsonBodyRoute)


@router.post("/pension/calc")
@access.rule(access.ANY_ACTOR)
async def pension_calc(request: Request, actor: ActorDep, service: ServiceDep) -> JSONResponse:
    """The calculator of ``suiren pension calc``: a case (JSON object) or an array of cases;
    the same fields, rules, warnings and results."""
    from suiren.services.pension_calc import (
        calculate,
        case_warnings,
        output_records,
        parse_cases,
        parse_json,
    )

    body = await request.body()

    def compute() -> Any:
        try:
            data = parse_json(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise InvalidInput(message("api.body-not-utf8")) from None
        single = isinstance(data, dict)
        if not single and not isinstance(data, list):
            raise InvalidInput(message("api.body-cases"))
        today = service.now().date()
        parsed = parse_cases([data] if single else data, service.policy, today)
        warnings = case_warnings(parsed, service.policy, today)
        result = calculate(parsed, service.policy)
        records = output_records(parsed, result, service.policy, single, warnings)
        return _plain(records[0] if single else records)

    # a batch of up to BODY_BYTES_MAX computes in a worker thread: never on the event loop
    return JSONResponse(await run_in_threadpool(compute))
