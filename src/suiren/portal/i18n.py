"""The portal's two languages (界面语言): Chinese by default, English on request, from gettext
catalogs managed with Babel.

The English sentence is the msgid (what templates and code write); ``locale/zh_CN`` holds the
Chinese of every one and ``locale/en`` the English as it is shown, so an editor may reword
either without touching code. Both catalogs are ``.po`` text in the package: they are read
and compiled in memory the first time a language is used (a few milliseconds), never from a
compiled ``.mo`` that a fresh clone would lack. ``make i18n`` extracts the msgids again and
updates both catalogs; ``tests/portal/test_catalogs.py`` fails on a msgid without a
translation, a fuzzy entry or a placeholder that differs.

A page is in one language: ``?lang=`` chooses it (and a cookie keeps it), else the browser's
``Accept-Language`` (English only if it prefers English to Chinese), else Chinese.
"""

from __future__ import annotations

import functools
from datetime import date
from io import BytesIO
from pathlib import Path

from babel.dates import format_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from suiren.domain.language import preferred_language

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "messages"
CATALOG_LOCALES = {"zh": "zh_CN", "en": "en"}  # the page's language -> its catalog's locale
HTML_LANG = {"zh": "zh-CN", "en": "en"}
# the switch names the other language in that language (so it reads right to who needs it)
SWITCH = {"zh": ("en", "English"), "en": ("zh", "中文")}
LANGUAGE_COOKIE = "suiren_lang"


def catalog_path(lang: str) -> Path:
    return LOCALE_DIR / CATALOG_LOCALES[lang] / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(lang: str) -> Translations:
    """The language's catalog, read from its ``.po`` and compiled in memory once (fuzzy
    entries are left out, as ``msgfmt`` would)."""
    assert lang in LANGUAGES, lang
    locale = CATALOG_LOCALES[lang]
    with catalog_path(lang).open("rb") as po:
        catalog = read_po(po, locale=locale, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def month(text: str | None, lang: str) -> str:
    """2026年11月 or Nov 2026 from "2026-11" (CLDR's year-month); anything else as it came."""
    if not text or len(text) != 7 or text[4] != "-" or not text.replace("-", "").isdigit():
        return text or ""
    year, number = int(text[:4]), int(text[5:])
    if not 1 <= number <= 12:
        return text
    return format_skeleton("yMMM", date(year, number, 1), locale=CATALOG_LOCALES[lang])


def language(chosen: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The page's language: ``?lang=`` first, then the cookie a switch set, then the browser's
    first choice in ``Accept-Language`` (English only if it prefers English); Chinese else."""
    for given in (chosen, cookie):
        if given in LANGUAGES:
            return str(given)
    return preferred_language(accept_language, LANGUAGES, DEFAULT_LANGUAGE)
