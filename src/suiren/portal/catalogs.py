"""The portal's catalogs kept in step with the code: ``make i18n`` runs this module.

Every msgid the templates and the Python write is extracted with Babel's extractors, as
``babel.cfg`` (at the repository's root) maps the files; each catalog in ``locale/`` is then
updated from them: a new msgid is added, a gone one dropped, a changed one matched to its
nearest old entry and marked fuzzy for a translator. The English catalog needs no
translator (its msgids are English): a new or changed entry there takes its msgid. The
Chinese catalog's new entries wait for a translator; ``tests/portal/test_catalogs.py``
fails until every one has its Chinese and no entry is fuzzy.
"""

from __future__ import annotations

import sys
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from suiren.portal import i18n

PORTAL_DIR = Path(__file__).parent
PO_WIDTH_CHARS = 100
HEADER = {
    "project": "Suiren",
    "version": "",
    "copyright_holder": "the Suiren authors",
    "header_comment": (
        "# The portal's words (Suiren, src/suiren/portal). Kept in step with the code by\n"
        "# `make i18n`; the msgids are the English.\n#"
    ),
}


def extract(mapping: Path) -> Catalog:
    """Every msgid of the portal, with where it is written, as ``mapping`` (babel.cfg) says."""
    with mapping.open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    template = Catalog(domain=i18n.DOMAIN, charset="utf-8", **HEADER)
    found = extract_from_dir(str(PORTAL_DIR), method_map, options_map)
    for filename, line, message, comments, context in found:
        template.add(message, None, [(filename, line)], auto_comments=comments, context=context)
    return template


def updated(lang: str, template: Catalog) -> Catalog:
    """The language's catalog updated from ``template`` (the English filled in from msgids)."""
    path = i18n.catalog_path(lang)
    if path.exists():
        with path.open("rb") as po:
            catalog = read_po(po, locale=i18n.CATALOG_LOCALES[lang], domain=i18n.DOMAIN)
    else:
        catalog = Catalog(locale=i18n.CATALOG_LOCALES[lang], domain=i18n.DOMAIN, **HEADER)
    created, msgids = catalog.creation_date, {m.id for m in catalog}
    catalog.update(template)
    if {m.id for m in catalog} == msgids:  # the same msgids: a run changes nothing
        catalog.creation_date = created
    catalog.fuzzy = False  # the header: Babel marks a new catalog's fuzzy until reviewed
    catalog.obsolete.clear()  # git keeps what was; a renamed msgid is matched as fuzzy
    if lang == "en":
        for message in catalog:
            if message.id and (message.fuzzy or not any(_strings(message.string))):
                message.string = message.id
                message.flags.discard("fuzzy")
    return catalog


def _strings(string: str | tuple[str, ...] | None) -> tuple[str, ...]:
    return (string,) if isinstance(string, str) else tuple(string or ())


def untranslated(catalog: Catalog) -> int:
    """The entries a translator still has to write or check: fuzzy, or with a string empty —
    a msgid new since the last run has none at all (``None``), and counts too."""
    return sum(
        1
        for m in catalog
        if m.id and (m.fuzzy or not (strings := _strings(m.string)) or not all(strings))
    )


def write(lang: str, catalog: Catalog) -> None:
    out = BytesIO()
    write_po(out, catalog, width=PO_WIDTH_CHARS, sort_output=True, include_lineno=False)
    path = i18n.catalog_path(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())


def main(argv: list[str]) -> int:
    """``python -m suiren.portal.catalogs [babel.cfg]``: update both catalogs; say how many
    Chinese entries a translator still has to write."""
    mapping = Path(argv[0] if argv else "babel.cfg")
    template = extract(mapping)
    waiting = 0
    for lang in i18n.LANGUAGES:
        catalog = updated(lang, template)
        write(lang, catalog)
        waiting += untranslated(catalog)
    print(f"{len(template)} msgids; {waiting} entries to translate or check (fuzzy or empty)")
    return 1 if waiting else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
