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

from suiren.domain.messages import QUOTED

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


def said_problems(record: dict[str, Any], key: str = "message") -> list[str]:
    """What is wrong with a record's text in either language (a warning's ``message``):
    ``key_zh`` has Chinese and no English word; ``key_en`` has English words, and Chinese only
    where it names what the Chinese half names too (a part of the pension as its table prints
    it), never words of its own; ``key`` is both, Chinese first."""
    zh, en = record[f"{key}_zh"], record[f"{key}_en"]
    name = record.get("code", key)
    problems = []
    if not CJK.search(zh) or english_words(zh):
        problems.append(f"{name}: {key}_zh is not Chinese alone: {zh!r}")
    if not english_words(en):
        problems.append(f"{name}: {key}_en is not English: {en!r}")
    strange = [run for run in re.findall(f"(?:{CJK.pattern})+", en) if run not in zh]
    if strange:
        problems.append(f"{name}: Chinese in {key}_en that {key}_zh does not say: {strange}")
    if record[key] != f"{zh} / {en}":
        problems.append(f"{name}: {key} is not 中文 / English: {record[key]!r}")
    return problems


def all_said_problems(records: Iterable[dict[str, Any]], key: str = "message") -> list[str]:
    return [problem for record in records for problem in said_problems(record, key)]


NUMBER = re.compile(r"\d+(?:[./-]\d+)*")  # 2026-07, 1234.56, 60 (of 60岁0个月 and 60y0m)
LIST_NUMBER = re.compile(r"^\s*\d+\. ")  # a step's number, on its Chinese line only


def numbers(line: str) -> list[str]:
    return sorted(NUMBER.findall(LIST_NUMBER.sub("", line)))


def line_language(line: str, before: str) -> str:
    """``zh`` (Chinese, no English word), ``en`` (English words; Chinese only where it names
    what ``before``, its Chinese line, names too), ``""`` (neither: a code, a number, a
    blank) or ``mixed``. Identifiers and codes (current_law, account.interest_rate, 440100,
    Ī) are no language's words."""
    chinese, words = CJK.search(line), english_words(line)
    if chinese and not words:
        return "zh"
    runs = re.findall(f"(?:{CJK.pattern})+", line)
    if words and all(run in before for run in runs):
        return "en"
    return "mixed" if words else ""


def line_problems(lines: Iterable[str]) -> list[str]:
    """What is wrong with a terminal's lines said in two languages: a line that mixes them, a
    Chinese line not followed by its English line (or an English one with no Chinese line
    before it), and a pair whose numbers (months, amounts, ages) are not the same."""
    problems, before, kind_before = [], "", ""
    for line in lines:
        kind = line_language(line, before if kind_before == "zh" else "")
        if kind == "mixed":
            problems.append(f"mixes Chinese and English: {line!r}")
        elif kind == "en" and kind_before != "zh":
            problems.append(f"English with no Chinese line before it: {line!r}")
        elif kind == "en" and numbers(line) != numbers(before):
            problems.append(f"not the same numbers: {before!r} and {line!r}")
        if kind_before == "zh" and kind != "en":
            problems.append(f"Chinese with no English line after it: {before!r}")
        before, kind_before = line, kind
    if kind_before == "zh":
        problems.append(f"Chinese with no English line after it: {before!r}")
    return problems


# codes are no language's words and are written alike in a Chinese line and its English line:
# what ``codes_as_letters`` puts as a letter before ``line_problems`` reads a terminal's lines
CODES = (
    (re.compile(r"W[0-9A-F]{12}"), "W"),  # a worker's id
    (re.compile(r"\b[0-9a-f]{12}\b"), "K"),  # an API key's id
    (re.compile(r"[a-z][a-z0-9+]*://[^\s）)]+"), "U"),  # a URL (a database's, the service's)
    (re.compile(r"[\w.-]*\.(?:json|csv|key)\b"), "F"),  # a file's name
    (re.compile(r"/console/|/api/v1\b"), "/C/"),  # the console's and the API's address
    (re.compile(r"\bsuiren(?: [a-z]+)+"), "S"),  # a command, as typed
    (re.compile(r"--[a-z][a-z-]*(?: FILE)?"), "--X"),  # an option, as typed
    (re.compile(r"(第 \d+ 行，|row \d+, )[a-z_]+(?=[：:])"), r"\1F"),  # a refused row's column
    (re.compile(r"\bAPI\b"), "X"),  # written so in Chinese too (API 密钥)
)


def codes_as_letters(line: str, folder: str | None = None) -> str:
    """``line`` with its codes (``CODES``) and ``folder`` (a test's) as letters."""
    if folder is not None:
        line = line.replace(folder, "P")
    for pattern, letter in CODES:
        line = pattern.sub(letter, line)
    return line


# what a driver or Python said (its error's name and reason, in English: no catalogue has it)
# is quoted in a Chinese text after QUOTED (``domain.messages.quoted``), never as its own words
RAISED = re.compile(r"\b[A-Z]\w*(?:Error|Exception|Warning)\b")


def what_problems(what: str, what_zh: str) -> list[str]:
    """What is wrong with an audit problem's two texts (store/audit.py ``Problem``): the
    Chinese is empty or has no Chinese, or has English words the English does not (what both
    quote — a value, a driver's reason — is alike in both), or a driver's or Python's error
    not marked as quoted (``QUOTED``); the English has Chinese the
    Chinese does not; the two differ in their numbers (a sequence, a balance, a row's range)."""
    problems = []
    if not CJK.search(what_zh):
        problems.append(f"no Chinese beside {what!r}: {what_zh!r}")
    own = set(english_words(what_zh)) - set(english_words(what))
    if own:
        problems.append(f"English words of its own in {what_zh!r}: {sorted(own)}")
    raised = RAISED.search(what_zh.partition(QUOTED)[0])
    if raised:
        problems.append(f"a reader's own words ({raised[0]}) not after {QUOTED}: {what_zh!r}")
    strange = [run for run in re.findall(f"(?:{CJK.pattern})+", what) if run not in what_zh]
    if strange:
        problems.append(f"Chinese in {what!r} that {what_zh!r} does not say: {strange}")
    if numbers(what) != numbers(what_zh):
        problems.append(f"not the same numbers: {what_zh!r} and {what!r}")
    return problems
