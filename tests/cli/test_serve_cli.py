"""``suiren serve`` on a port another server holds (a second ``make run``, an earlier server
left running) is refused before anything is done: exit 2, in Chinese and English, with no
demo world seeded and no "serving on" said. uvicorn said it in English after the "serving
on" lines, and exited 3."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.runner import SECRET, detail_zh, invoke, refusal


@pytest.fixture
def held_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.mark.parametrize("demo", [[], ["--demo", "--demo-people", "1"]], ids=["plain", "demo"])
def test_a_port_in_use_is_refused_before_anything_is_done(
    tmp_path: Path, held_port: int, demo: list[str]
) -> None:
    env = {"SUIREN_SECRET_KEY": SECRET, "SUIREN_TODAY": "2026-06-15"}
    done = invoke(["serve", "--port", str(held_port), *demo], env, tmp_path)
    said = refusal(done)
    assert detail_zh(done) == (
        f"端口 {held_port} 已被占用（另一个 suiren serve 或 make run？）：请用 --port 选择其他端口"
    )
    assert f"error: the port {held_port} is in use" in said
    assert not (tmp_path / "demo-logins.json").exists()  # nothing seeded
