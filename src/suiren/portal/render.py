"""Pages from Jinja2 templates (autoescaped), with what every page needs: the CSRF field of
this browser's forms, the logged-in worker's (or console clerk's) navigation, and headers that keep a personal
page out of caches and other sites' frames."""

from __future__ import annotations

from functools import partial
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from suiren.portal import i18n, session, text

_environments: dict[str, Environment] = {}
LANGUAGE_COOKIE_MAX_AGE_S = 365 * 24 * 3600  # a language switched stays for a year


def environment(lang: str) -> Environment:
    """The template environment of a language, built on first use (not at import): its
    catalog installed for ``_``, ``gettext`` and ``ngettext`` (new style: ``%(name)s``
    placeholders filled and escaped), its filters writing months and places in it. One
    environment per language, so that no request changes another's translations."""
    env = _environments.get(lang)
    if env is None:
        env = Environment(
            loader=PackageLoader("suiren.portal", "templates"),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            extensions=["jinja2.ext.i18n"],
        )
        env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
        env.filters.update(
            yuan=text.yuan,
            yuan_text=text.yuan_text,
            masked=text.masked,
            month=partial(i18n.month, lang=lang),
            region=partial(text.region, lang=lang),
            half=partial(text.half, lang=lang),
            as_written=partial(text.as_written, lang=lang),
            finding=partial(text.finding, lang=lang),
            segment=segment,
        )
        env.globals.update(
            SCHEMES=text.SCHEMES,
            ACCOUNT_KINDS=text.ACCOUNT_KINDS,
            SCENARIOS=text.SCENARIOS,
            TRANSFER_STATES=text.TRANSFER_STATES,
            TRANSFER_STEPS=text.TRANSFER_STEPS,
            TRANSFER_EVENTS=text.TRANSFER_EVENTS,
            TRANSFER_KINDS=text.TRANSFER_KINDS,
            FUND_KINDS=text.FUND_KINDS,
            label=partial(text.label, lang=lang),
            figures=partial(text.figures, lang=lang),
            interest_rates=partial(text.interest_rates, lang=lang),
            causes=partial(text.causes, lang=lang),
            say=partial(text.say, lang=lang),
            CSRF_FIELD=session.CSRF_FIELD,
            html_lang=i18n.HTML_LANG[lang],
            switch_to=i18n.SWITCH[lang][0],
            switch_html_lang=i18n.HTML_LANG[i18n.SWITCH[lang][0]],
            switch_name=i18n.SWITCH[lang][1],
        )
        _environments[lang] = env
    return env


def segment(value: object) -> str:
    """An id as one segment of a URL's path: every "/" and reserved character escaped, so
    that a transfer id such as ``x/../move-1`` (an API client may choose "/" and ".") leads
    to that transfer, never — its dot segments resolved by the browser — to another."""
    return quote(str(value), safe="")


def _language(request: Request) -> tuple[str, bool]:
    """The page's language, and whether ``?lang=`` chose it (then a cookie keeps it)."""
    chosen = request.query_params.get("lang")
    lang = i18n.language(
        chosen,
        request.cookies.get(i18n.LANGUAGE_COOKIE),
        request.headers.get("accept-language"),
    )
    return lang, chosen in i18n.LANGUAGES


def language_of(request: Request) -> str:
    """The language this request's page is written in."""
    return _language(request)[0]


def keep_language(response: Response, lang: str, https: bool) -> None:
    """The cookie that keeps a language chosen with ``?lang=`` for the next pages."""
    response.set_cookie(
        i18n.LANGUAGE_COOKIE,
        lang,
        max_age=LANGUAGE_COOKIE_MAX_AGE_S,
        path="/",
        secure=https,
        httponly=True,
        samesite="lax",
    )


def language_cookie(lang: str, https: bool) -> str:
    """``keep_language``'s cookie as a ``Set-Cookie`` header's value."""
    response = Response()
    keep_language(response, lang, https)
    return response.headers["set-cookie"]


def page(
    request: Request,
    key: bytes,
    template: str,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """``template`` rendered for this browser: a CSRF nonce cookie is set if it has none."""
    nonce = session.nonce_of(request)
    fresh = nonce is None
    if nonce is None:
        nonce = session.new_nonce()
    context.setdefault("message", None)
    context.setdefault("message_kind", "error")
    context.setdefault("worker", None)
    context.setdefault("clerk", None)
    context.setdefault("active", None)
    lang, switched = _language(request)
    body = (
        environment(lang)
        .get_template(template)
        .render(
            csrf=session.csrf_token(request, key, nonce),
            **context,
        )
    )
    response = HTMLResponse(body, status_code=status)
    if fresh:
        session.set_nonce(request, response, nonce)
    if switched:
        keep_language(response, lang, https=request.url.scheme == "https")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "HX-Request, Cookie, Accept-Language"
    return response
