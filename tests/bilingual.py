"""What a step of an explanation (``rules.explain.Step.to_json``) must say in each language.

Chinese: the name and the formula have Chinese in them, and nothing in Chinese — name,
formula, an input's name or value, the result — has an English word (a parameter's path, a
field's name and a symbol such as B_local, Ī_t or W × r × N are not words: they are written
alike in both). English: the name and the formula have words, and nothing has a Chinese
character. The keys it always had say both, Chinese first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
# three letters or more standing alone: not part of an identifier (only_child_parent,
# pension.extra.only_child_rate, B_local) nor a symbol's subscript
ENGLISH_WORD = re.compile(r"(?<![A-Za-z_.])[A-Za-z]{3,}(?![A-Za-z_.])")
NOT_WORDS = {"min", "true", "false"}  # a formula's min(…); a yes/no field's value as given


def english_words(text: str) -> list[str]:
    return [w for w in ENGLISH_WORD.findall(text) if w not in NOT_WORDS]


def step_problems(step: dict[str, Any]) -> list[str]:
    """What is wrong with ``step`` in either language (empty: nothing)."""
    name = step["step_zh"]
    problems = []
    for key in ("step", "formula"):
        zh, en = step[f"{key}_zh"], step[f"{key}_en"]
        if not CJK.search(zh):
            problems.append(f"{name}: {key}_zh has no Chinese: {zh!r}")
        if not re.search("[A-Za-z]{2,}", en):
            problems.append(f"{name}: {key}_en has no English: {en!r}")
        both = zh if zh == en else f"{zh} / {en}"
        if step[key] != both:
            problems.append(f"{name}: {key} is not 中文 / English: {step[key]!r}")
    zh_texts = [
        step["step_zh"],
        step["formula_zh"],
        step["result_zh"],
        *step["inputs_zh"],
        *step["inputs_zh"].values(),
    ]
    en_texts = [
        step["step_en"],
        step["formula_en"],
        step["result_en"],
        *step["inputs_en"],
        *step["inputs_en"].values(),
    ]
    problems += [f"{name}: English in the Chinese: {t!r}" for t in zh_texts if english_words(t)]
    problems += [f"{name}: Chinese in the English: {t!r}" for t in en_texts if CJK.search(t)]
    if len(step["inputs_zh"]) != len(step["inputs_en"]) or len(step["inputs"]) != len(
        step["inputs_en"]
    ):
        problems.append(f"{name}: an input lost a language: {step['inputs_zh']!r}")
    return problems


def all_problems(steps: Iterable[dict[str, Any]]) -> list[str]:
    return [problem for step in steps for problem in step_problems(step)]
