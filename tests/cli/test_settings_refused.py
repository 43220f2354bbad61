"""A ``SUIREN_*`` setting that cannot be used is refused before anything is opened: exit 2,
the kind of refusal, then why in Chinese and in English — never a traceback. A database URL
that SQLAlchemy cannot read (``notaurl``, an empty one, a port that is no number) printed
SQLAlchemy's traceback, and another database or driver (``mysql://``, ``bogus://``,
``postgresql+psycopg2://``) its traceback too, or — without a key set — a missing key; the
settings' own checks (a day, the proxies) said why in English alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.runner import SECRET, detail_zh, invoke, refusal

ARGS = ["worker", "statement", "W1"]
DATABASE = {
    "not a URL": ("notaurl", "不是数据库网址", "not a database URL"),
    "empty": ("", "不是数据库网址", "not a database URL"),
    "a port not a number": ("postgresql://h:abc/d", "不是数据库网址", "not a database URL"),
    "a port out of range": ("postgres://h:99999/d", "端口 99999", "the port 99999"),
    "another database": ("mysql://u:hunter2@h/d", "不支持的数据库 mysql", "mysql is not a"),
    "no such database": ("bogus://x", "不支持的数据库 bogus", "bogus is not a supported"),
    "another driver": (
        "postgresql+psycopg2://h/d",
        "不支持的数据库 postgresql+psycopg2",
        "postgresql+psycopg2 is not a supported database",
    ),
}
OWN_CHECKS = {
    "SUIREN_TODAY": ("yesterday", "须为 YYYY-MM-DD 格式的日期", "must be a day YYYY-MM-DD"),
    "SUIREN_FORWARDED_ALLOW_IPS": (
        "*",
        "请写明代理的地址或网段，不能用 *",
        "name the proxies' addresses or networks, not *",
    ),
}


@pytest.mark.parametrize("key", [None, SECRET], ids=["no key", "a key"])
@pytest.mark.parametrize("case", DATABASE)
def test_a_database_url_not_usable_is_refused_in_both_languages(
    tmp_path: Path, case: str, key: str | None
) -> None:
    url, chinese, english = DATABASE[case]
    env = {"SUIREN_DATABASE_URL": url} | ({} if key is None else {"SUIREN_SECRET_KEY": key})
    for args in (ARGS, ["db", "upgrade"], ["serve", "--port", "18099"]):
        done = invoke(args, env, tmp_path)
        said = refusal(done)
        assert "SUIREN_DATABASE_URL 不可用：" in said and chinese in said, (args, said)
        assert f"error: SUIREN_DATABASE_URL is not usable: {english}" in said, (args, said)
        assert "hunter2" not in done.stderr  # a URL's password is never repeated
    assert list(tmp_path.iterdir()) == []  # nothing made: no database, no key file


@pytest.mark.parametrize("name", OWN_CHECKS)
def test_a_settings_own_check_says_why_in_chinese_too(tmp_path: Path, name: str) -> None:
    value, chinese, english = OWN_CHECKS[name]
    done = invoke(ARGS, {name: value, "SUIREN_SECRET_KEY": SECRET}, tmp_path)
    said = refusal(done)
    assert detail_zh(done) == f"{name} 不可用：{chinese}", said
    assert f"error: {name} is not usable: {english}" in said
