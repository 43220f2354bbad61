"""The progress bar of a file (``contribute --file``, ``worker enrol --file``, ``worker
import-history``) is a Chinese line, then its English line with the same counts, as every
result the CLI prints (tests/bilingual.py ``line_problems``); it is drawn on standard error,
and only on a terminal."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from suiren.cli.intake import _progress
from tests.bilingual import line_problems

LABELS = ("intake.progress-payments", "intake.progress-workers", "intake.progress-history")


def drawn(label: str, total: int | None, rows: list[int]) -> list[str]:
    """The bar's lines after ``rows`` were taken, drawn on a terminal 120 columns wide."""
    terminal = Console(file=io.StringIO(), force_terminal=True, width=120)
    shown = Console(file=io.StringIO(), force_terminal=True, width=120, record=True)
    progress = _progress(total, label, terminal)
    with progress as advance:
        for n in rows:
            advance(n)
        shown.print(progress.bar.get_renderable())
    return [line.rstrip() for line in shown.export_text().splitlines() if line.strip()]


@pytest.mark.parametrize("label", LABELS)
def test_the_bar_is_a_chinese_line_then_its_english_line(label: str) -> None:
    lines = drawn(label, 2500, [1000, 500])
    assert len(lines) == 2, lines
    assert line_problems(lines) == [], "\n".join(line_problems(lines) + lines)
    assert "1500/2500" in lines[0] and "1500/2500" in lines[1], lines
    assert "行/秒" in lines[0] and "rows/s" in lines[1], lines


def test_a_file_of_unknown_length_too() -> None:
    lines = drawn("intake.progress-payments", None, [7])
    assert len(lines) == 2 and line_problems(lines) == [], lines


def test_the_bar_is_drawn_on_standard_error_and_only_on_a_terminal() -> None:
    on_a_terminal = _progress(3, "intake.progress-payments")
    assert on_a_terminal.bar.console.stderr, "standard output is the summary's, and --json's"
    piped = Console(file=io.StringIO(), force_terminal=False)
    assert _progress(3, "intake.progress-payments", piped).bar.disable
