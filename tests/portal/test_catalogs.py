"""The portal's catalogs are complete and its pages are in one language.

Every msgid the templates and the Python write (extracted here with Babel's extractors, as
``make i18n`` does) has a translation in both catalogs, none fuzzy, with the same
placeholders as its msgid; no catalog keeps an entry the code no longer writes.

An English page has no Chinese character in its visible text (the text, the title, and the
``aria-label`` and ``placeholder`` a reader hears) outside an element marked
``lang="zh-CN"``: the marked ones are data with no English name — a region's registry name
(GB/T 2260 names regions in Chinese only), the switch's 中文 — and what the rules engine
writes in its explanations (the document numbers of the regulations it cites, step names
that are "中文 / English"), which is shown as written. A Chinese page is in Chinese: none
of the English navigation, and Chinese in the title and every section's heading.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from suiren.portal import i18n
from suiren.portal.app import create_app
from suiren.portal.catalogs import extract
from suiren.portal.text import CJK_RE
from suiren.store.db import make_engine
from tests.api import settings_for
from tests.conftest import KEYS, migrate
from tests.portal import TODAY
from tests.portal.test_console import as_clerk, console_world, quick_hashes  # noqa: F401
from tests.portal.test_portal import log_in_with_code
from tests.worlds import populated

ROOT = Path(__file__).parents[2]
PLACEHOLDER_RE = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                 "source", "track", "wbr"}  # fmt: skip
HEARD_ATTRIBUTES = ("aria-label", "placeholder", "title", "alt")


@pytest.fixture(scope="module")
def msgids() -> dict[str | tuple[str, ...], Message]:
    return {m.id: m for m in extract(ROOT / "babel.cfg") if m.id}


def catalog(lang: str) -> Catalog:
    with i18n.catalog_path(lang).open("rb") as po:
        return read_po(po, locale=i18n.CATALOG_LOCALES[lang])


def strings(message: Message) -> tuple[str, ...]:
    return (message.string,) if isinstance(message.string, str) else tuple(message.string)


def placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER_RE.findall(text)}


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_msgid_has_a_translation_with_its_placeholders(lang: str, msgids: Any) -> None:
    entries = {m.id: m for m in catalog(lang) if m.id}
    assert not catalog(lang).fuzzy, "the header is marked fuzzy"
    missing = [i for i in msgids if i not in entries]
    assert not missing, f"not in locale/{lang}: run `make i18n` ({missing[:5]})"
    stale = [i for i in entries if i not in msgids]
    assert not stale, f"no longer written by the code: run `make i18n` ({stale[:5]})"
    for msgid, entry in entries.items():
        assert not entry.fuzzy, f"fuzzy in locale/{lang}: {msgid!r}"
        said = strings(entry)
        assert said and all(s.strip() for s in said), f"untranslated in {lang}: {msgid!r}"
        wanted = placeholders(msgid if isinstance(msgid, str) else msgid[-1])
        for s in said:
            assert placeholders(s) == wanted, f"placeholders differ in {lang}: {msgid!r} -> {s!r}"


def test_the_catalogs_load_from_their_po_files_with_no_compiled_mo() -> None:
    assert not list(i18n.LOCALE_DIR.rglob("*.mo"))
    zh, en = i18n.translations("zh"), i18n.translations("en")
    assert zh.gettext("Log in") == "登录" and en.gettext("Log in") == "Log in"
    assert zh.ngettext("%(num)d month", "%(num)d months", 2) % {"num": 2} == "2 个月"
    assert en.ngettext("%(num)d month", "%(num)d months", 1) % {"num": 1} == "1 month"


class VisibleText(HTMLParser):
    """The text a person sees or hears on a page, each piece with the language it is
    marked in (the nearest ``lang`` attribute above it)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, str]] = []
        self.pieces: list[tuple[str, str]] = []

    def lang(self) -> str:
        return self.stack[-1][1] if self.stack else ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        lang = values.get("lang") or self.lang()
        for name in HEARD_ATTRIBUTES:
            if values.get(name):
                self.pieces.append((str(values[name]), lang))
        if tag not in VOID_ELEMENTS:
            self.stack.append((tag, str(lang)))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if data.strip() and (not self.stack or self.stack[-1][0] not in ("script", "style")):
            self.pieces.append((data.strip(), self.lang()))


def unmarked_chinese(body: str) -> list[str]:
    """The pieces of visible text with Chinese in them that are not marked ``zh-CN``."""
    parser = VisibleText()
    parser.feed(body)
    return [text for text, lang in parser.pieces if CJK_RE.search(text) and lang != "zh-CN"]


def headings(body: str) -> list[str]:
    """The page's title and its sections' (h1, h2; not a card's, which names its data with
    a link to it)."""
    found = re.findall(r"<h[12][^>]*>(.*?)</h[12]>", body)
    return [re.sub(r"<[^>]*>", "", h) for h in found if not h.startswith("<a ")]


@pytest.fixture
def both_sides(tmp_path: Path) -> Iterator[tuple[TestClient, TestClient, dict[str, Any]]]:
    """The console's world on SQLite: a worker's browser (logged in) and a clerk's."""
    url = f"sqlite:///{tmp_path / 'suiren.db'}"
    engine = make_engine(url, keys=KEYS)
    migrate(engine)
    world = populated(engine, console_world)
    engine.dispose()
    app = create_app(settings_for(url, today=TODAY, demo_codes=True))
    with TestClient(app, raise_server_exceptions=False) as worker, TestClient(app) as clerk:
        assert log_in_with_code(worker, world["my_id"]).status_code == 303
        as_clerk(clerk, "national")
        yield worker, clerk, world


WORKER_PAGES = (
    "/statement",
    "/pay",
    "/pay?month=2026-06&base_yuan=6000",
    "/pay?month=2026-06&base_yuan=1",
    "/move",
    "/move?notice=requested",
    "/pension",
    "/pension?retire=2058-13",
    "/no-such-page",
)
CONSOLE_PAGES = (
    "/console/transfers",
    "/console/transfers/move-1",
    "/console/workers?q=44",
    "/console/funds",
    "/console/settlement",
    "/console/settlement/employee_pension/2026-06-15",
    "/console/audit",
)


def test_an_english_page_has_no_chinese_but_marked_names(both_sides: Any) -> None:
    worker, clerk, world = both_sides
    english = {"Accept-Language": "en"}
    pages = [(worker, path) for path in WORKER_PAGES] + [(clerk, p) for p in CONSOLE_PAGES]
    pages.append((clerk, f"/console/workers/{world['mine']}"))
    for client, path in pages:
        body = client.get(path, headers=english).text
        assert '<html lang="en">' in body, path
        assert not unmarked_chinese(body), (path, unmarked_chinese(body))
    audit = clerk.post("/console/audit", data={"csrf": _csrf(clerk)}, headers=english).text
    assert not unmarked_chinese(audit)
    login = TestClient(worker.app).get("/login", headers=english).text
    assert not unmarked_chinese(login)
    assert '<span lang="zh-CN">广州市</span> (440100)' in worker.get("/move", headers=english).text


def test_a_chinese_page_is_in_chinese(both_sides: Any) -> None:
    worker, clerk, _ = both_sides
    pages = [(worker, path) for path in WORKER_PAGES] + [(clerk, p) for p in CONSOLE_PAGES]
    for client, path in pages:
        body = client.get(path).text
        assert '<html lang="zh-CN">' in body, path
        for english in ("Log out", "Skip to content", "Suiren:", "Insured in", "Transfers"):
            assert english not in body, (path, english)
        for heading in headings(body):
            assert CJK_RE.search(heading) or not re.search(r"[A-Za-z]{3}", heading), (path, heading)


def _csrf(client: TestClient) -> str:
    from tests.portal import csrf_of

    return csrf_of(client.get("/console/audit").text)


def test_make_i18n_counts_a_msgid_new_since_the_last_run_as_untranslated() -> None:
    """``make i18n`` fails while a Chinese entry is missing: a msgid new since the last run
    comes out of Babel's update with no string at all (``None``), and counts, as an empty
    or fuzzy one does; a translated one does not."""
    from suiren.portal.catalogs import untranslated

    catalog = Catalog(locale="zh_CN")
    catalog.add("translated", "已译")
    assert untranslated(catalog) == 0
    catalog.add("new since the last run", None)
    catalog.add("empty", "")
    catalog.add("fuzzy", "模糊", flags=["fuzzy"])
    assert untranslated(catalog) == 3
