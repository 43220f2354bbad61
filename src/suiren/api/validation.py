"""A request that does not match its schema (FastAPI's 422, pydantic's errors), said in
Chinese as well as in pydantic's English.

Pydantic writes its errors in English alone (``msg``), with a stable ``type`` and the
constraint in ``ctx``. The English stays as pydantic wrote it (programs and logs read it);
the Chinese is written here for the common types — a missing or extra field, a wrong type, a
number or a date that does not parse, too long or too short, a pattern, a choice, a bound —
from the type and its ``ctx``; any other type reads as a general Chinese sentence, never as
the English alone. ``tests/api/test_api_problems.py`` checks each type here, and the fallback.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from suiren.domain.messages import Text

# pydantic's error type -> the Chinese, with ``ctx``'s fields as pydantic names them
ZH: dict[str, str] = {
    "missing": "缺少此必填字段",
    "extra_forbidden": "不允许此字段（请求中有多余的字段）",
    "string_type": "应为字符串",
    "int_type": "应为整数",
    "int_parsing": "应为整数，无法解析为整数",
    "int_from_float": "应为整数，收到带小数部分的数",
    "float_type": "应为数字",
    "float_parsing": "应为数字，无法解析为数字",
    "decimal_type": "应为十进制数或十进制字符串",
    "decimal_parsing": "应为十进制数，无法解析",
    "decimal_max_digits": "十进制数最多 {max_digits} 位数字",
    "decimal_max_places": "十进制数最多 {decimal_places} 位小数",
    "decimal_whole_digits": "十进制数的整数部分最多 {whole_digits} 位",
    "bool_type": "应为布尔值（true 或 false）",
    "bool_parsing": "应为布尔值（true 或 false），无法解析",
    "list_type": "应为数组",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "date_type": "应为日期（如 2026-07-01）",
    "date_parsing": "应为日期（如 2026-07-01），无法解析",
    "date_from_datetime_parsing": "应为日期（如 2026-07-01），无法解析",
    "date_from_datetime_inexact": "应为日期（如 2026-07-01），不能带有时间",
    "datetime_type": "应为日期时间（如 2026-07-01T08:00:00）",
    "datetime_parsing": "应为日期时间（如 2026-07-01T08:00:00），无法解析",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "最多 {max_length} 个字符",
    "too_short": "至少 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "string_pattern_mismatch": "格式不符，应匹配 {pattern}",
    "enum": "应为以下之一：{expected}",
    "literal_error": "应为以下之一：{expected}",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应大于或等于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应小于或等于 {le}",
    "union_tag_invalid": "类型标记 {tag} 无效，应为以下之一：{expected_tags}",
    "union_tag_not_found": "缺少类型标记字段 {discriminator}",
    "json_invalid": "不是有效的 JSON",
    "json_type": "应为 JSON 文本",
    # a login name (``routes.auth.CodeRequest``): one of the two
    "one_login_name": "请给出 resident_id 或 phone 其中之一（不能两者都给，也不能都不给）",
    # a validator's own words are English (pydantic's ``msg`` keeps them)
    "value_error": "值无效",
    "assertion_error": "值无效",
}
FALLBACK = "值不符合要求（{kind}）"


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def said(error: Mapping[str, Any]) -> Text:
    """One pydantic error (``RequestValidationError.errors()``'s item) in both languages: the
    Chinese for its type (the general sentence, naming the type, where none is written or its
    ``ctx`` lacks a field), and pydantic's own English."""
    kind = str(error.get("type", ""))
    english = str(error.get("msg", "the request does not match its schema"))
    context = {k: str(v) for k, v in (error.get("ctx") or {}).items()}
    template = ZH.get(kind)
    if template is None or not _fields(template) <= set(context):
        return Text(FALLBACK.format(kind=kind or "?"), english)
    return Text(template.format_map(context), english)
