"""Errors as RFC 9457 problem details (``application/problem+json``), never a stack trace.

``type`` is a stable URI per error code (``urn:suiren:problem:<code>``, the code the CLI's
``--json`` errors carry too); ``title`` is in the caller's language (``Accept-Language``:
zh-CN by default, en); ``detail`` says what was wrong with this request; ``field`` names the
input at fault where there is one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from suiren.domain.errors import SuirenError

MEDIA_TYPE = "application/problem+json"

# code -> (HTTP status, zh-CN title, English title); a code not listed is 422
PROBLEMS: dict[str, tuple[int, str, str]] = {
    "unauthorized": (401, "未提供有效凭证", "No valid credentials"),
    "not-found": (404, "未找到", "Not found"),
    "unknown-worker": (404, "未找到", "Not found"),
    "method-not-allowed": (405, "不支持该方法", "Method not allowed"),
    "conflict": (409, "与已记录的交易冲突", "Conflicts with a recorded transaction"),
    "transaction-conflict": (409, "与已记录的交易冲突", "Conflicts with a recorded transaction"),
    "insurance-moved": (409, "参保关系已转移", "The insurance relation has moved"),
    "idempotency-key-reused": (
        422,
        "幂等键已用于另一请求",
        "The idempotency key was used for another request",
    ),
    "invalid-request": (422, "请求无效", "Invalid request"),
    "engagement-refused": (422, "用工声明被拒绝", "Engagement declaration refused"),
    "invalid-code": (422, "验证码不正确或已过期", "The one-time code is not valid or has expired"),
    "invalid-phone": (422, "手机号码无效", "Invalid mobile number"),
    "too-large": (413, "请求过大", "Request too large"),
    "locked": (429, "尝试次数过多，请稍后再试", "Too many attempts; try again later"),
    "retry": (503, "请稍后重试", "Try again"),
    "concurrent-change": (503, "数据已被同时修改，请重试", "Changed concurrently; try again"),
    "database-not-ready": (503, "数据库尚未初始化", "The database is not set up"),
    "internal": (500, "服务内部错误", "Internal error"),
    # the services' refusals (422): each its own title, so that the caller reads in their
    # language what kind of refusal it is; ``detail`` says what was wrong with the request
    "invalid-input": (422, "输入无效", "Invalid input"),
    "invalid-amount": (422, "金额无效", "Invalid amount"),
    "invalid-month": (422, "月份无效", "Invalid month"),
    "invalid-resident-id": (422, "身份证号码无效", "Invalid resident id"),
    "invalid-credit-code": (422, "统一社会信用代码无效", "Invalid unified social credit code"),
    "unknown-region": (422, "未知的行政区划代码", "Unknown region code"),
    "invalid-case": (422, "测算案例无效", "Invalid pension case"),
    "parameter-error": (422, "政策参数有误", "Policy parameter error"),
    "parameter-not-found": (422, "缺少所需的政策参数", "A policy parameter is missing"),
    "enrolment-refused": (422, "参保登记被拒绝", "Enrolment refused"),
    "contribution-refused": (422, "缴费被拒绝", "Contribution refused"),
    "payment-refused": (422, "缴费被拒绝", "Payment refused"),
    "medical-refused": (422, "医保业务被拒绝", "Medical insurance request refused"),
    "transfer-refused": (422, "转移接续被拒绝", "Transfer refused"),
    "settlement-refused": (422, "清算被拒绝", "Settlement refused"),
    "reversal-refused": (422, "冲正被拒绝", "Reversal refused"),
    "file-refused": (422, "文件被拒绝", "File refused"),
    "clerk-exists": (422, "经办人员登录名已存在", "The clerk login exists already"),
    "key-not-usable": (503, "密钥不可用", "The secret key is not usable"),
    "wrong-key": (503, "密钥与数据库不符", "The secret key is not this database's"),
}
DEFAULT = (422, "请求被拒绝", "Request refused")
STATUS_DESCRIPTIONS = {  # the OpenAPI description of each status a route may refuse with
    401: "No valid credentials: none, an unknown or revoked key, a bad or expired session",
    404: "Not found: an unknown id and one this caller may not see answer alike",
    405: "Method not allowed (the Allow header lists the path's methods)",
    409: "Conflicts with a recorded transaction",
    413: "Request too large",
    422: "Invalid or refused: the problem's type names the reason",
    429: "Too many attempts: try again later",
    500: "Internal error: nothing was written",
    503: "The database refused the request or is not set up: try again",
}


def language(request: Request) -> str:
    """zh-CN unless the caller prefers English (the first language named)."""
    wanted = request.headers.get("accept-language", "")
    first = wanted.split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "zh-CN"


class Problem(BaseModel):
    """The body of every refusal (RFC 9457), as the OpenAPI description documents it."""

    type: str = Field(description="urn:suiren:problem:<code>, stable per error code")
    title: str = Field(description="the kind of problem, in the caller's language")
    status: int = Field(ge=400, le=599)
    detail: str = Field(description="what was wrong with this request")
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
    detail: str,
    field: str | None = None,
    status: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    known_status, zh, en = PROBLEMS.get(code, DEFAULT)
    body: dict[str, Any] = {
        "type": f"urn:suiren:problem:{code}",
        "title": en if language(request) == "en" else zh,
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
    return problem(request, error.code, error.message, error.field)
