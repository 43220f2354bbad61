"""Provenance (出处): where a parameter's value comes from, as fields rather than free text.

Every dated value cites one or more sources. A source is either *verified* — it names the
official document that set the value, by its document number (文号, 京人社发〔2025〕13号) or,
for an act published without one (a law, an NPC decision), by its title in 《》, or the
official page it was read from — or *unverified*, and then says why (``why``): no document
number found, transcribed from a third-party calculator, two sources that conflict. The
rest (which year's wage a figure is, the article quoted, how a start date was inferred)
goes in ``note``. The loader (``suiren.rules.loader``) checks these rules; an explanation
prints ``render()``; ``suiren rules provenance --unverified`` lists what is left to verify.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

SOURCE_KEYS = ("document", "title", "issuer", "date", "url", "verified", "why", "note")
DOCUMENT_NUMBER_RE = re.compile(r"^[\u4e00-\u9fa5]+〔\d{4}〕\d+号$")
ACT_TITLE_RE = re.compile(r"^《[^《》]+》$")
URL_RE = re.compile(r"^https?://\S+$")
UNVERIFIED_LABEL = "未核实"
SOURCE_SEPARATOR = " ｜ "


def is_document(text: str) -> bool:
    """A document number (国发〔2005〕38号) or the title of an act without one (《…》)."""
    return bool(DOCUMENT_NUMBER_RE.match(text) or ACT_TITLE_RE.match(text))


@dataclass(frozen=True, slots=True)
class Source:
    """One cited source of a value.

    ``document``: the document number (文号), or the title in 《》 of an act published
    without one; ``title``: the document's title (without 《》); ``issuer``: the body that
    issued it; ``date``: the day it was issued or published; ``url``: where it was read;
    ``verified``: False when the value is not yet checked against an official text, and
    then ``why`` says what is missing; ``note``: anything else a reader needs.
    """

    document: str | None = None
    title: str | None = None
    issuer: str | None = None
    date: date | None = None
    url: str | None = None
    verified: bool = True
    why: str | None = None
    note: str | None = None

    def citation(self) -> str:
        """The document part: 京人社发〔2025〕13号《title》（issuer，date）url."""
        text = self.document or ""
        if self.title:
            text += f"《{self.title}》"
        details = "，".join(part for part in (self.issuer, self._date_text()) if part)
        if details:
            text += f"（{details}）"
        if self.url:
            text += f" {self.url}" if text else self.url
        return text

    def _date_text(self) -> str | None:
        return self.date.isoformat() if self.date is not None else None

    def render(self) -> str:
        """One line for an explanation: the citation, then 未核实：why, then the note."""
        parts = [self.citation()]
        if not self.verified:
            parts.append(f"{UNVERIFIED_LABEL}：{self.why}")
        if self.note:
            parts.append(f"注：{self.note}")
        return " — ".join(part for part in parts if part)

    def to_json(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "document": self.document,
            "title": self.title,
            "issuer": self.issuer,
            "date": self._date_text(),
            "url": self.url,
            "verified": self.verified,
            "why": self.why,
            "note": self.note,
        }
        return {key: value for key, value in fields.items() if value is not None}

    def problems(self) -> list[str]:
        """What makes this source unacceptable (empty when it is fine)."""
        found = []
        if self.verified and not (self.document or self.url):
            found.append(
                "a verified source needs a 'document' (文号 such as 国发〔2005〕38号, or an act's"
                " 《title》) or a 'url'; if neither is known write verified: false and say why"
            )
        if not self.verified and not (self.why and self.why.strip()):
            found.append("an unverified source needs a 'why' (what is missing to verify it)")
        if self.verified and self.why:
            found.append("'why' explains an unverified source; drop it or write verified: false")
        if self.document is not None and not is_document(self.document):
            found.append(
                f"document {self.document!r} is neither a document number (京人社发〔2025〕13号)"
                " nor an act's title in 《》; put partial numbers in 'why' and leave it out"
            )
        if self.url is not None and not URL_RE.match(self.url):
            found.append(f"url {self.url!r} must start with http:// or https://")
        return found


@dataclass(frozen=True, slots=True)
class Provenance:
    """Every source a value cites (usually one)."""

    sources: tuple[Source, ...] = ()

    @property
    def verified(self) -> bool:
        return bool(self.sources) and all(source.verified for source in self.sources)

    def render(self) -> str:
        """The sources on one line, separated by " ｜ " (a note may hold "；" itself)."""
        return SOURCE_SEPARATOR.join(source.render() for source in self.sources)

    def to_json(self) -> list[dict[str, Any]]:
        return [source.to_json() for source in self.sources]

    def unverified_reasons(self) -> list[str]:
        return [source.why or "" for source in self.sources if not source.verified]

    def __str__(self) -> str:
        return self.render()


NO_PROVENANCE = Provenance()
