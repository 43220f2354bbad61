"""Explanations: every result says how it was reached.

A ``Step`` records one named calculation: the formula in words, the values that went in,
the result, and the parameters it used with their references. A result's explanation is
the list of its steps, serialisable to JSON for the CLI and the API.

A step speaks both languages (``domain.messages.Text``: zh-CN and English), so that each
reader sees it in theirs: its name and formula always; an input's name and value and the
result where they have words (a plain ``str`` is a number, a month, a code or a symbol that
reads the same in both). Its JSON keeps the keys it always had — ``step``, ``formula``,
``inputs``, ``result``: ``中文 / English`` where the two differ (a number as it is),
``inputs`` keyed by the input's English name — and gives each language whole beside them
(``step_zh``, ``step_en``, ``formula_zh``, …, ``inputs_zh`` keyed by the Chinese names):
a page shows its language's, the command line both, Chinese first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from suiren.domain.messages import Text
from suiren.rules.parameters import ResolvedValue

Words = str | Text  # a Text in both languages, or a str that reads the same in each
LANGUAGES = ("zh", "en")


def said(words: Words, lang: str) -> str:
    """``words`` in ``lang`` ("zh" or "en")."""
    if isinstance(words, Text):
        return words.zh if lang == "zh" else words.en
    return words


def both(words: Words) -> str:
    """``中文 / English`` where the two differ; a str, or a Text alike in both, as it is."""
    if isinstance(words, Text) and words.zh != words.en:
        return words.joined()
    return said(words, "en")


@dataclass(frozen=True, slots=True)
class Step:
    name: Text
    formula: Text
    inputs: Mapping[Words, Words]
    result: Words
    parameters: tuple[ResolvedValue, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, words in (("step", self.name), ("formula", self.formula)):
            out[key] = both(words)
            out.update({f"{key}_{lang}": said(words, lang) for lang in LANGUAGES})
        out["inputs"] = {said(k, "en"): both(v) for k, v in self.inputs.items()}
        for lang in LANGUAGES:
            out[f"inputs_{lang}"] = {said(k, lang): said(v, lang) for k, v in self.inputs.items()}
        out["result"] = both(self.result)
        out.update({f"result_{lang}": said(self.result, lang) for lang in LANGUAGES})
        out["parameters"] = [p.cite() for p in self.parameters]
        return out
