"""``suiren rules provenance``: every value with its provenance, in-process."""

from __future__ import annotations

import json
from pathlib import Path

from suiren.policy import baseline_parameters
from suiren.rules.provenance_report import cited_values
from tests.cli.runner import invoke


def test_provenance_lists_every_value_and_counts_them(tmp_path: Path):
    done = invoke(["rules", "provenance", "--json"], {}, tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    report = json.loads(done.stdout)
    rows = cited_values(baseline_parameters())
    assert report["counts"]["values"] == len(rows) == len(report["values"])
    assert report["counts"]["verified"] + report["counts"]["unverified"] == len(rows)
    unread = [
        row for row in rows if row.verified and not any(s.url for s in row.provenance.sources)
    ]
    assert report["counts"]["verified_without_url"] == len(unread) > 0
    beijing = next(
        v
        for v in report["values"]
        if (v["parameter"], v["region"], v["in_force_from"])
        == ("pension.base", "110000", "2025-01-01")
    )
    assert beijing["verified"] is True
    assert beijing["provenance"][0]["document"] == "京人社发〔2025〕13号"
    assert beijing["reference"].startswith("京人社发〔2025〕13号（北京市人力资源和社会保障局）")


def test_unverified_lists_only_those_with_why(tmp_path: Path):
    done = invoke(["rules", "provenance", "--unverified"], {}, tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    *lines, summary_zh, summary = done.stdout.strip().split("\n")
    assert lines and all("未核实：" in line for line in lines)
    unverified = sum(1 for row in cited_values(baseline_parameters()) if not row.verified)
    assert len(lines) == unverified
    # a Chinese line, then its English line
    assert summary_zh.startswith("共 ") and summary_zh.endswith(f"未核实 {unverified} 个")
    assert summary.endswith(f"{unverified} unverified")
    assert "by a document number alone, no page recorded" in summary
