"""The ``cli`` fixture: ``suiren`` commands in-process against a migrated database."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.runner import Run, runner


@pytest.fixture
def cli(database_url: tuple[str, dict[str, str]], tmp_path: Path) -> Run:
    url, extra = database_url
    return runner(url, extra, tmp_path)
