"""Pages from Jinja2 templates (autoescaped), with what every page needs: the CSRF field of
this browser's forms, the logged-in worker's (or console clerk's) navigation, and headers that keep a personal
page out of caches and other sites' frames."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from suiren.portal import session, text

_environment: Environment | None = None
LANGUAGE_COOKIE_MAX_AGE_S = 365 * 24 * 3600  # a language switched stays for a year


def environment() -> Environment:
    """The template environment, built on first use (not at import)."""
    global _environment
    if _environment is None:
        env = Environment(
            loader=PackageLoader("suiren.portal", "templates"),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters.update(
            yuan=text.yuan, yuan_text=text.yuan_text, month=text.month, region=text.region
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
            label=text.label,
            bi=bilingual,
            CSRF_FIELD=session.CSRF_FIELD,
            CHROME=text.CHROME,
        )
        _environment = env
    return _environment


def bilingual(zh: str, en: str, lang: str = "zh") -> Markup:
    """A label in the page's language, then the other one marked as such (screen readers
    switch voice): Chinese first by default, English first on an English page."""
    if lang == "en":
        return Markup('{} <span lang="zh-CN" class="en">{}</span>').format(escape(en), escape(zh))
    return Markup('{} <span lang="en" class="en">{}</span>').format(escape(zh), escape(en))


def _language(request: Request) -> tuple[str, bool]:
    """The page's language, and whether ``?lang=`` chose it (then a cookie keeps it)."""
    chosen = request.query_params.get("lang")
    lang = text.language(
        chosen,
        request.cookies.get(text.LANGUAGE_COOKIE),
        request.headers.get("accept-language"),
    )
    return lang, chosen in text.LANGUAGES


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
        environment()
        .get_template(template)
        .render(
            csrf=session.csrf_token(key, nonce),
            lang=lang,
            chrome=text.CHROME[lang],
            bi=lambda zh, en: bilingual(zh, en, lang),
            **context,
        )
    )
    response = HTMLResponse(body, status_code=status)
    if fresh:
        session.set_nonce(request, response, nonce)
    if switched:
        response.set_cookie(
            text.LANGUAGE_COOKIE,
            lang,
            max_age=LANGUAGE_COOKIE_MAX_AGE_S,
            path="/",
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="lax",
        )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "HX-Request, Cookie, Accept-Language"
    return response
