"""Errors as RFC 9457 problem details (``application/problem+json``), never a stack trace.

``type`` is a stable URI per error code (``urn:suiren:problem:<code>``, the code the CLI's
``--json`` errors carry too); ``title`` is in the caller's language (``Accept-Language``:
zh-CN by default, en); ``detail`` says what was wrong with this request, in the caller's
language too (a catalogue ``Text``, ``domain.messages``; pydantic's validation message after
the field it names is its own English);
``field`` names the input at fault where there is one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from suiren.domain.error_titles import DEFAULT as DEFAULT_TITLE
from suiren.domain.error_titles import TITLES
from suiren.domain.errors import SuirenError
from suiren.domain.language import preferred_language
from suiren.domain.messages import Text

MEDIA_TYPE = "application/problem+json"

# code -> HTTP status; a code not listed is 422 (the titles: ``domain.error_titles``). The
# rule (docs/ARCHITECTURE.md, "What a refusal's status says"): 409 when the request is
# well-formed and allowed but the ledger already records the same thing otherwise — an id
# with other content, a kept answer, a person's insurance held in another region, a history
# imported with other figures — so that sending it again can never succeed; 422 when a rule
# refuses the request as sent
STATUS: dict[str, int] = {
    "unauthorized": 401,
    "not-found": 404,
    "unknown-worker": 404,
    "method-not-allowed": 405,
    "conflict": 409,
    "kept-answer-unsealed": 409,
    "transaction-conflict": 409,
    "insurance-moved": 409,
    "history-conflict": 409,
    "enrolled-elsewhere": 409,
    "too-large": 413,
    "locked": 429,
    "codes-per-day": 429,
    "retry": 503,
    "concurrent-change": 503,
    "database-not-ready": 503,
    "internal": 500,
    "key-not-usable": 503,
    "wrong-key": 503,
}
# code -> (HTTP status, zh-CN title, English title)
PROBLEMS: dict[str, tuple[int, str, str]] = {
    code: (STATUS.get(code, 422), *titles) for code, titles in TITLES.items()
}
DEFAULT = (422, *DEFAULT_TITLE)
STATUS_DESCRIPTIONS = {  # the OpenAPI description of each status a route may refuse with
    401: "No valid credentials: none, an unknown or revoked key, a bad or expired session, or"
    " a worker's session ended since it was signed (log out everywhere, an agency's end of"
    " it, a new password); a write whose caller changed so while it ran writes nothing",
    404: "Not found: an unknown id and one this caller may not see answer alike",
    405: "Method not allowed (the Allow header lists the path's methods)",
    409: "Conflicts with what the ledger records: an id with other content, a person enrolled"
    " in another region (a move is a transfer), a history imported otherwise, or the answer"
    " kept for its Idempotency-Key was changed",
    413: "Request too large",
    422: "Invalid or refused: the problem's type names the reason",
    429: "Too many attempts: try again later",
    500: "Internal error: nothing was written",
    503: "The database refused the request or is not set up: try again",
}


def language(request: Request) -> str:
    """zh-CN unless the caller prefers English (``Accept-Language``, with its q-values)."""
    wanted = preferred_language(request.headers.get("accept-language"), ("zh", "en"), "zh")
    return "en" if wanted == "en" else "zh-CN"


class Problem(BaseModel):
    """The body of every refusal (RFC 9457), as the OpenAPI description documents it."""

    type: str = Field(description="urn:suiren:problem:<code>, stable per error code")
    title: str = Field(description="the kind of problem, in the caller's language")
    status: int = Field(ge=400, le=599)
    detail: str = Field(
        description="what was wrong with this request: in the caller's language where the"
        " message has both, else in English"
    )
    instance: str = Field(description="the path of the request")
    field: str | None = Field(default=None, description="the input at fault, if any")
    request_id: str | None = Field(default=None, description="the X-Request-ID of the request")


def documented(statuses: Iterable[int]) -> dict[str, Any]:
    """OpenAPI ``responses`` entries: each status a problem+json body (components' Problem)."""
    return {
        str(status): {
            "description": STATUS_DESCRIPTIONS[status],
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in sorted(statuses)
    }


def problem(
    request: Request,
    code: str,
    detail: str | Text,
    field: str | None = None,
    status: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    known_status, zh, en = PROBLEMS.get(code, DEFAULT)
    english = language(request) == "en"
    if isinstance(detail, Text):  # a message in both languages: the caller's (``domain.messages``)
        detail = detail.en if english or not detail.zh else detail.zh
    body: dict[str, Any] = {
        "type": f"urn:suiren:problem:{code}",
        "title": en if english else zh,
        "status": status or known_status,
        "detail": _encodable(detail),
        "instance": _encodable(request.url.path),
    }
    if field:
        body["field"] = _encodable(field)
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    return JSONResponse(
        body, status_code=body["status"], media_type=MEDIA_TYPE, headers=dict(headers or {})
    )


def _encodable(text: str) -> str:
    """``text`` as UTF-8 can carry it: a refusal may echo what was sent, and a lone surrogate
    (``\\ud800``, which JSON can spell) would otherwise fail the answer itself (a 500)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def from_error(request: Request, error: SuirenError) -> JSONResponse:
    """The problem of a user error; its ``detail`` in the caller's language where the message
    has both (``domain.messages``), else as it was written (English)."""
    return problem(request, error.code, error.said, error.field)
