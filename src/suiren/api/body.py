"""What a request may carry into the API, checked before any route reads it: a JSON body
read strictly, no NUL character in a path or a query, and no query parameter named twice.

FastAPI reads a JSON body with ``json.loads``, which lets the last of two equal keys win
(``{"payment_id": "a", "payment_id": "b"}`` pays ``b``), reads ``NaN`` and ``Infinity``, and
lets ``\\u0000`` and lone surrogates (``\\ud800``) through into strings. A NUL cannot be stored
by PostgreSQL (psycopg refuses it: the database would answer 503 "try again" to a request
that never succeeds, while SQLite stores it), and a lone surrogate cannot be encoded as
UTF-8, not even in the problem that echoes it back. ``JsonBodyRoute`` gives every route of an
area a request whose ``json()`` refuses all of these with a 422 that says which and where
(``StrictJsonRequest``); ``strict_json`` is the same reader for a route that reads its body
itself. ``checked_url`` is the path's and the query's check (no NUL, no parameter named
twice), an app-wide dependency (the portal's pages too, which answer it with their error page).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from suiren.domain.errors import InvalidInput
from suiren.domain.json_numbers import INTEGER_DIGITS_MAX, IntegerTooLong, json_integer
from suiren.domain.messages import Text, quoted
from suiren.domain.messages import text as message

WHERE_CHARS_MAX = 60  # of a key path named in a refusal


class BodyRefused(HTTPException):
    """A JSON body this API does not read: a 422 invalid-request whose detail says why."""

    def __init__(self, detail: Text) -> None:
        super().__init__(status_code=422, detail=detail)  # said in the caller's language


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise BodyRefused(message("body.key-twice", shown=_shown(key)))
        found[key] = value
    return found


def _constant(name: str) -> Any:
    raise BodyRefused(message("body.constant", name=name))


def _shown(text: str) -> str:
    shown = ascii(text[:WHERE_CHARS_MAX])  # never a lone surrogate in what is echoed
    return shown + ("…" if len(text) > WHERE_CHARS_MAX else "")


def unfit_character(text: str) -> Text | None:
    """What no request's text may hold, named, or None: a NUL (no PostgreSQL text can hold
    it) or a lone surrogate (no UTF-8 can)."""
    if "\x00" in text:
        return message("body.nul")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return message("body.surrogate")
    return None


def _check_strings(data: Any) -> None:
    """Every key and string of ``data`` fit to store and to echo (iterative: the parser
    bounds the depth already)."""
    todo: list[tuple[str, Any]] = [("", data)]
    while todo:
        where, value = todo.pop()
        if isinstance(value, str):
            items: list[tuple[str, Any]] = []
            strings = [value]
        elif isinstance(value, dict):
            items = [(f"{where}.{key}" if where else key, item) for key, item in value.items()]
            strings = list(value)
        elif isinstance(value, list):
            items = [(f"{where}[{n}]", item) for n, item in enumerate(value)]
            strings = []
        else:
            continue
        for text in strings:
            unfit = unfit_character(text)
            if unfit is not None:
                raise BodyRefused(message("body.unfit", where=_shown(where or "value"), what=unfit))
        todo += items


def strict_json(body: bytes) -> Any:
    """A JSON body as this API reads one: UTF-8, each key once an object, numbers only as
    numbers, no NUL or lone surrogate in a key or a string; else ``BodyRefused``. One UTF-8
    byte-order mark before it is read past, as the CLI reads a file."""
    try:
        data = json.loads(
            body.removeprefix(b"\xef\xbb\xbf").decode("utf-8"),
            object_pairs_hook=_object,
            parse_constant=_constant,
            parse_int=json_integer,
        )
    except UnicodeDecodeError:
        raise BodyRefused(message("body.not-utf8")) from None
    except json.JSONDecodeError as error:
        raise BodyRefused(
            message("body.not-json", error=quoted(error.msg), line=error.lineno, column=error.colno)
        ) from None
    except RecursionError:
        raise BodyRefused(message("body.too-deep")) from None
    except IntegerTooLong:
        raise BodyRefused(message("json.integer-too-long", digits=INTEGER_DIGITS_MAX)) from None
    except ValueError as error:  # e.g. an integer of more digits than Python reads
        raise BodyRefused(message("body.unreadable", error=quoted(str(error)[:200]))) from None
    _check_strings(data)
    return data


class StrictJsonRequest(Request):
    """A request whose JSON body is read by ``strict_json`` (FastAPI reads a route's body
    model through ``json()``)."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = strict_json(await self.body())
        return self._json


class JsonBodyRoute(APIRoute):
    """A route of the API: its handler is given a ``StrictJsonRequest``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict


async def checked_url(request: Request) -> None:
    """A path or a query holding a NUL (``%00``) is refused before any route reads it (an id
    with one is no id, and PostgreSQL cannot even compare it); so is a query that names a
    parameter twice (``?state=requested&state=approved``): FastAPI would take the last, a
    proxy or a firewall in front may read the first — two Idempotency-Keys or Authorization
    headers are refused alike. On the event loop, and the query parsed only when its raw text
    may hold either: every request pays this."""
    if "\x00" in request.scope["path"]:
        raise InvalidInput(message("api.nul-path"), field="path")
    raw = request.scope.get("query_string", b"")
    if b"%00" not in raw and b"\x00" not in raw and b"&" not in raw:
        return
    seen: set[str] = set()
    for name, value in request.query_params.multi_items():
        if "\x00" in name or "\x00" in value:
            raise InvalidInput(
                message("api.nul-query", name=_shown(name)),
                field=name.replace("\x00", "")[:WHERE_CHARS_MAX] or "query",
            )
        if name in seen:
            raise InvalidInput(
                message("api.query-twice", name=_shown(name)), field=name[:WHERE_CHARS_MAX]
            )
        seen.add(name)
