"""Which expected figures of the determination-table cases are printed, and which computed.

The cases in ``tests/policy/cases/determination_tables.yaml`` that cite the public repository
``liubigfatty/pension-calculator`` take their figures from its case files, whose ``expected``
block is the transcriber's: sometimes the table's figures, sometimes his own calculator's
(北京 2023's were rewritten when he changed the 计发基数, commit 24e68e0). This audit looks for
each expected amount (the ``*_yuan`` outputs) in the repository's text of the table other than
that block:

- ``raw``: the article extracts ``cases/extracted/*_raw.txt`` (职场老楚's articles, which print
  the tables' figures); a figure of fewer than 5 digits counts only when the case cites the
  extract (a short number found elsewhere in 200 kB of text proves nothing);
- ``record``: the cited case file's own text outside its ``expected`` block (the transcriber's
  notes, source line, or a structured transcription of the table such as ``pension_breakdown``),
  at the cited commit, unless the figure there follows an ``=`` (a computation, not a reading);
  for ``data/test-cases.js`` the named test case's text outside its ``expected`` block;
- ``article``: a published article on the same table, read in the stored ``pages`` corpus
  (``ARTICLES``: its address and the amounts read there; the case's source cites the address).

A figure found in any is ``printed``; one found in none is ``computed`` (it exists only in
the transcriber's expected values). The history of each cited case file is read too: a figure
the transcriber changed after first writing it (``rewritten``) or a file marked
``recalibrated``/``generated`` is reported, whatever the text shows.

Run from the worktree: ``python -m tests.policy.audit_printed GIT_DIR [--json OUT]`` where
GIT_DIR is a clone of the repository (e.g. the ``fetch`` tool's mirror). It only reads.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

CASES = Path(__file__).parent / "cases" / "determination_tables.yaml"
REPO = "liubigfatty/pension-calculator"
RAW_COMMIT = (
    "c1cd73e1e687b0d7cb936080140504dff5983e84"  # the extracts' only version (gone by 5f7fef3)
)
RAW = (
    "cases/extracted/2640a169-7791-4abb-8d7d-fdb17cbf2e26_raw.txt",
    "cases/extracted/c9959c6e-c295-47ef-bc26-31f93f947c19_raw.txt",
)
# amounts read on an article on the same table (the `pages` corpus excerpt, tables-printed)
ARTICLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "js-2025-12-m60y3m-hongze": (
        "https://m.163.com/dy/article_v5/KL62GUIO055616Z4.html",
        ("2856.87", "638.91"),
    ),
    "zj-2025-02-m60": (
        "https://c.m.163.com/news/a/KBL1K58B0556CYTW.html",
        ("3064.27", "1759.51", "695.53", "572.76", "150", "6242.1"),
    ),
}
REF = re.compile(
    r"((?:cases|data|cloudfunctions|provinces)/[^\s@()'\"，,]*?\.(?:json|js|txt)"
    r"|provinces-bundle\.js)@([0-9a-f]{7,40})"
)
JS_NAME = re.compile(r"test case '([^']+)'|case ([^\s,()]+-[^\s,()]+)")
# "=… 1.2% = 154.45" is a computation; "G实=366.41" or "基础2706.81" a reading
COMPUTED_BEFORE = re.compile(r"[\d)）%][^=≈→，,；;。\n]{0,30}[=≈→]\s*$")


class Repo:
    def __init__(self, git_dir: str) -> None:
        self.git_dir = git_dir
        self._cache: dict[tuple[str, str], str | None] = {}

    def show(self, commit: str, path: str) -> str | None:
        key = (commit, path)
        if key not in self._cache:
            run = subprocess.run(
                ["git", "-C", self.git_dir, "show", f"{commit}:{path}"],
                capture_output=True,
                text=True,
                check=False,
            )
            self._cache[key] = run.stdout if run.returncode == 0 else None
        return self._cache[key]

    def history(self, path: str) -> list[str]:
        """Commits that touched path, oldest first."""
        run = subprocess.run(
            ["git", "-C", self.git_dir, "log", "--format=%H", "--", path],
            capture_output=True,
            text=True,
            check=False,
        )
        return list(reversed(run.stdout.split()))

    def text_at(self, commit: str, path: str) -> str | None:
        """The file at commit, or (commit not stored) its newest stored version."""
        text = self.show(commit, path)
        if text is None:
            versions = self.history(path)
            if versions:
                text = self.show(versions[-1], path)
        return text


def forms(value: str) -> list[str]:
    """The ways a table or a note may print an amount: 1587.1, 1587.10; 4827, 4827.0."""
    amount = Decimal(value)
    out = {value, f"{amount:.2f}", f"{amount.normalize():f}"}
    if amount == amount.to_integral():
        out |= {f"{amount:.0f}", f"{amount:.1f}"}
    if amount * 10 == (amount * 10).to_integral():
        out.add(f"{amount:.1f}")
    return sorted(out, key=len, reverse=True)


def find(text: str, value: str, *, reject_computed: bool) -> bool:
    if Decimal(value) == 0:
        return bool(re.search(r"过渡[^0-9\n]{0,12}(?<![\d.])0(?:\.0+)?(?![\d.])", text))
    for form in forms(value):
        pattern = rf"(?<![\d.]){re.escape(form)}(?!\d)(?!\.\d)"
        for match in re.finditer(pattern, text):
            if reject_computed and COMPUTED_BEFORE.search(
                text[max(0, match.start() - 40) : match.start()]
            ):
                continue
            return True
    return False


def strip_expected(data: Any) -> Any:
    if isinstance(data, dict):
        return {
            k: strip_expected(v) for k, v in data.items() if not k.lower().startswith("expected")
        }
    if isinstance(data, list):
        return [strip_expected(v) for v in data]
    return data


EXPECTED_KEYS = {
    "basic_yuan": ("basic_pension", "basicPension"),
    "account_yuan": ("personal_pension", "personalPension"),
    "transitional_yuan": ("transitional_pension", "transition_pension", "transitionalPension"),
    "total_yuan": ("total",),
    "extra_yuan": ("extra_pension", "extraPension"),
}


def identity(data: Any) -> str:
    """What the table's inputs are: the file with its expected values and notes left out."""
    if not isinstance(data, dict):
        return ""
    keep = {
        k: v
        for k, v in data.items()
        if k in ("birth_year", "birth_month", "retire_year", "retire_month", "personal_account")
    }
    return json.dumps(keep, sort_keys=True)


def expected_of(data: Any, key: str) -> str | None:
    if not isinstance(data, dict) or not isinstance(data.get("expected"), dict):
        return None
    for name in EXPECTED_KEYS.get(key.split("|")[-1], ()):
        value = data["expected"].get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return f"{Decimal(str(value)):.2f}"
    return None


def js_case(text: str, source: str) -> str:
    """The named test case of data/test-cases.js (or a provinces file) without its expected."""
    names = [a or b for a, b in JS_NAME.findall(source)]
    for name in names:
        at = text.find(name)
        if at < 0:
            continue
        start = text.rfind("{", 0, at)
        end = text.find("\n  },", at)
        block = text[start : end if end > 0 else at + 3000]
        return re.sub(r"expected\s*:\s*\{.*?\n\s*\}", "", block, flags=re.S)
    return ""


def flags(data: Any) -> list[str]:
    out = []
    if isinstance(data, dict):
        for key in ("recalibrated", "generated"):
            if data.get(key) is True:
                out.append(key)
        if data.get("recalibrate_source"):
            out.append(f"recalibrate_source={data['recalibrate_source']}")
    return out


def figures(case: dict[str, Any]) -> dict[str, str]:
    """The amounts a case checks, `period|key` for a case with periods."""
    out = {}
    if "periods" in case:
        for period, output in case["periods"].items():
            for key, value in output.items():
                if key.endswith("_yuan"):
                    out[f"{period}|{key}"] = str(value)
    for block in ("output", "computed_output"):
        for key, value in (case.get(block) or {}).items():
            if isinstance(value, dict):
                for k, v in value.items():
                    if k.endswith("_yuan"):
                        out[f"{key}|{k}"] = str(v)
            elif key.endswith("_yuan"):
                out[key] = str(value)
    return out


def audit(git_dir: str) -> list[dict[str, Any]]:
    repo = Repo(git_dir)
    # the extracts are OCR text: "1999. 12" is 1999.12
    raws = {
        path: re.sub(r"(?<=\d)\s*\.\s*(?=\d)", ".", repo.show(RAW_COMMIT, path) or "")
        for path in RAW
    }
    if not all(raws.values()):
        raise SystemExit(f"the raw extracts are not readable at {RAW_COMMIT} in {git_dir}")
    cases = yaml.safe_load(CASES.read_text(encoding="utf-8"))
    report = []
    for case in cases:
        source = str(case.get("source", ""))
        if REPO not in source:
            continue
        refs = REF.findall(source)
        records: list[tuple[str, str]] = []
        cited_raw = {p for p, _ in refs if p in raws}
        history: dict[str, list[tuple[str, Any]]] = {}
        marks: list[str] = []
        for path, commit in refs:
            if path in raws:
                continue
            text = repo.text_at(commit, path)
            if text is None:
                marks.append(f"missing {path}@{commit[:7]}")
                continue
            if path.endswith(".json"):
                try:
                    data = json.loads(text)
                except ValueError:
                    marks.append(f"unreadable {path}@{commit[:7]}")
                    continue
                records.append((path, json.dumps(strip_expected(data), ensure_ascii=False)))
                marks += flags(data)
                versions = []
                for version in repo.history(path):
                    try:
                        old = json.loads(repo.show(version, path) or "")
                    except ValueError:
                        continue
                    if identity(old) == identity(data):
                        versions.append((version[:7], old))
                history[path] = versions
            else:
                records.append((path, js_case(text, source)))
        found: dict[str, dict[str, Any]] = {}
        for key, value in figures(case).items():
            where = [
                path
                for path, text in raws.items()
                if (path in cited_raw or len(re.sub(r"\D", "", value)) >= 5)
                and find(text, value, reject_computed=False)
            ]
            where += [path for path, text in records if find(text, value, reject_computed=True)]
            where += article_printing(case["name"], value)
            # the same table (same birth, retirement and balance) with other expected values
            rewritten = sorted(
                {
                    f"{path}@{commit}: {old}"
                    for path, versions in history.items()
                    for commit, data in versions
                    if (old := expected_of(data, key)) is not None
                    and Decimal(old) != Decimal(value)
                }
            )
            found[key] = {"value": value, "printed_in": where, "rewritten_in": rewritten}
        origin = origin_of(found)
        report.append(
            {
                "name": case["name"],
                "region": case["input"]["region"],
                "outputs_from": origin,
                "figures": found,
                "marks": marks,
            }
        )
    # two cases of one table (same region, month and balance) share what the table prints
    tables: dict[tuple[str, str, str], set[str]] = {}
    for row, case in zip(
        report, (c for c in cases if REPO in str(c.get("source", ""))), strict=True
    ):
        key = table_key(case)
        for f in row["figures"].values():
            if f["printed_in"]:
                tables.setdefault(key, set()).add(f"{Decimal(f['value']):.2f}")
    for row, case in zip(
        report, (c for c in cases if REPO in str(c.get("source", ""))), strict=True
    ):
        for f in row["figures"].values():
            if not f["printed_in"] and f"{Decimal(f['value']):.2f}" in tables.get(
                table_key(case), ()
            ):
                f["printed_in"] = ["another case of the same table"]
        row["outputs_from"] = origin_of(row["figures"])
    return report


def article_printing(name: str, value: str) -> list[str]:
    """The article (``ARTICLES``) that prints the amount for this case, if one does."""
    url, amounts = ARTICLES.get(name, ("", ()))
    return [url] if any(Decimal(a) == Decimal(value) for a in amounts) else []


def table_key(case: dict[str, Any]) -> tuple[str, str, str]:
    data = case["input"]
    return (str(data["region"]), str(case.get("period", "")), str(data.get("account_yuan", "")))


def origin_of(found: dict[str, dict[str, Any]]) -> str:
    printed = [k for k, f in found.items() if f["printed_in"]]
    if not found:
        return "no amount"
    if len(printed) == len(found):
        return "printed"
    return "mixed" if printed else "computed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("git_dir")
    parser.add_argument("--json", help="write the per-case report here")
    args = parser.parse_args(argv)
    report = audit(args.git_dir)
    if args.json:
        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=1), "utf-8")
    counts: dict[str, int] = {}
    for row in report:
        counts[row["outputs_from"]] = counts.get(row["outputs_from"], 0) + 1
        computed = [k for k, f in row["figures"].items() if not f["printed_in"]]
        rewritten = [k for k, f in row["figures"].items() if f["rewritten_in"]]
        if computed or rewritten or row["marks"]:
            print(
                f"{row['name']}: {row['outputs_from']}; not printed {computed}; "
                f"rewritten {rewritten}; {' '.join(row['marks'])}"
            )
    print(f"{len(report)} cases: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
