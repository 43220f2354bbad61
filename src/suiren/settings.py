"""Settings (pydantic-settings), read from the environment with the ``SUIREN_`` prefix.

Built once at an edge (the CLI command) and passed inward; never
read at import time.

The secret that protects resident ids and keys the ledger's chain lives in one configured
place, never in the repository and never in the working folder:

1. ``SUIREN_SECRET_KEY`` (base64 of 32 bytes), or
2. ``SUIREN_KEY_FILE`` (a file holding that text, readable by its owner only), or
3. for the embedded SQLite database only, the file beside it: ``<database>.key``, created
   (mode 0600) together with a new database, whole or not at all. An existing database
   whose key file is missing (or empty) is refused, never given a new key.

A PostgreSQL database needs 1 or 2. The database records the key's fingerprint on first use
and refuses any other key (store/db.py), so the same person is the same worker whoever runs
the command and wherever.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import re
import secrets
import stat
import tempfile
from datetime import date
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from suiren.domain.errors import InvalidInput
from suiren.domain.messages import Text, quoted
from suiren.domain.messages import text as message

DEFAULT_DATABASE_URL = "sqlite:///./suiren.db"
SECRET_BYTES = 32
KEY_FILE_BYTES_MAX = 1024
KEY_TEXT_CHARS = 44  # base64 of SECRET_BYTES
KEY_SUFFIX = ".key"
_DAY_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def trusted_proxies(value: str) -> list[str]:
    """The items of ``forwarded_allow_ips``, blanks dropped, each written as the server reads
    it: a network with host bits (``10.20.0.5/16``, taken by the check below) as its network
    (``10.20.0.0/16``) — the server takes only the latter for a network, and the former for a
    name that no client has, trusting nothing."""
    return [str(ipaddress.ip_network(i, strict=False)) if "/" in i else i for i in _items(value)]


def _items(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


class KeyNotUsable(InvalidInput):
    code = "key-not-usable"


class SettingRefused(ValueError):
    """A setting refused by its own check below, in both languages: pydantic keeps the
    exception as its error's ``ctx["error"]``, and ``Context.build`` says its ``said``
    (pydantic's own checks, in English alone, are quoted as said)."""

    def __init__(self, said: Text) -> None:
        super().__init__(said.en)
        self.said = said


# the databases the store is written for, as SQLAlchemy names them (after ``normalise_url``):
# the embedded SQLite (Python's own driver) and PostgreSQL through psycopg 3
DATABASE_DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")
PORT_MAX = 65535


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SUIREN_")

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str | None = None  # base64 of 32 random bytes
    key_file: Path | None = None
    today: date | None = None  # fixes "today" for tests and replays; None = the real date
    scenario: str = "current_law"
    intake_chunk_rows: int = Field(default=100_000, ge=1, le=1_000_000)  # rows per unit of work
    # bytes of kept statements and estimates per API process (api.reads); 0: none kept
    read_cache_bytes: int = Field(default=64 * 1024 * 1024, ge=0, le=2**34)
    # the API answers a login's one-time code itself instead of sending it by SMS (demo only)
    demo_codes: bool = False
    # the proxies in front of `suiren serve` whose X-Forwarded-For and X-Forwarded-Proto are
    # believed: addresses or networks, comma-separated; "" none. The client's address (the
    # login limit per address, the access log) and https (Secure cookies) come from them.
    # Behind a proxy on another host, name it: else every worker shares its address, and one
    # address's 20 logins a minute are the whole province's
    forwarded_allow_ips: str = "127.0.0.1, ::1"  # a proxy on this host, either loopback

    @field_validator("database_url")
    @classmethod
    def _a_database(cls, value: str) -> str:
        """A URL of a database the store is written for, checked before anything connects: an
        unreadable URL, another database (``mysql://``) or driver (``postgresql+psycopg2``)
        or a port out of range failed later with SQLAlchemy's traceback, or as a missing key.
        The URL itself is never repeated: it may hold a password."""
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        from suiren.store.db import normalise_url

        try:
            url = make_url(normalise_url(value))
        except (ArgumentError, ValueError):  # ValueError: a port that is not a number
            raise SettingRefused(message("settings.database-url")) from None
        if url.drivername not in DATABASE_DRIVERS:
            raise SettingRefused(message("settings.database-kind", kind=url.drivername[:40]))
        if url.port is not None and not 1 <= url.port <= PORT_MAX:
            raise SettingRefused(message("settings.database-port", port=url.port))
        return value

    @field_validator("today", mode="before")
    @classmethod
    def _a_day(cls, value: object) -> object:
        """YYYY-MM-DD in ASCII digits only: not a timestamp, not a datetime, not ２０２６."""
        if isinstance(value, str) and not _DAY_RE.fullmatch(value):
            raise SettingRefused(message("settings.not-a-day"))
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxies(cls, value: str) -> str:
        """Each an IP address or network: a typo would otherwise trust nothing silently (the
        server takes what is not an address as a name), and "*" would let any client say it
        is any address — past the login limit — so it is refused: name the proxies."""
        for item in _items(value):
            if item == "*":
                raise SettingRefused(message("settings.proxies-star"))
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise SettingRefused(
                    message("settings.proxy-not-address", item=repr(item[:64]))
                ) from None
        return value

    def key_path(self) -> Path | None:
        """Where the key file is: configured, or beside the embedded database."""
        if self.key_file is not None:
            return self.key_file
        from suiren.store.db import sqlite_path

        database = sqlite_path(self.database_url)
        return None if database is None else database.with_name(database.name + KEY_SUFFIX)

    def secret(self) -> bytes:
        """The 32-byte master secret (see module doc); a clear error if it is not usable."""
        if self.secret_key is not None:
            if not self.secret_key.strip():
                raise KeyNotUsable(message("key.empty-env"))
            return _decode(self.secret_key, "SUIREN_SECRET_KEY")
        path = self.key_path()
        if path is None:
            raise KeyNotUsable(message("key.none"))
        from suiren.store.db import sqlite_path

        database = sqlite_path(self.database_url)
        # The database is looked at before its key: a key file is in place before its database
        # is written, so a database written now had its key when the key is looked for. Looked
        # at after, a command that made both meanwhile (two started at once) had its new
        # database refused here as one whose key file is missing.
        written = self.key_file is None and database is not None and _written(database)
        if path.exists() or path.is_symlink():
            return _read_key_file(path)
        if self.key_file is not None or database is None:
            raise KeyNotUsable(message("key.file-missing", path=path))
        if written:
            raise KeyNotUsable(message("key.file-lost", database=database, path=path))
        if not path.parent.is_dir():
            raise KeyNotUsable(message("key.no-folder", folder=path.parent))
        return _create_key_file(path)

    def current_date(self) -> date:
        return self.today or date.today()


def _written(database: Path) -> bool:
    try:
        return database.stat().st_size > 0
    except (FileNotFoundError, NotADirectoryError):
        return False


def _decode(text: str, where: str | Text) -> bytes:
    try:
        raw = base64.b64decode(text.strip().encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise KeyNotUsable(message("key.not-base64", where=where)) from None
    if len(raw) != SECRET_BYTES:
        raise KeyNotUsable(message("key.length", where=where, bytes=SECRET_BYTES, got=len(raw)))
    return raw


def _read_key_file(path: Path) -> bytes:
    if path.is_dir():
        raise KeyNotUsable(message("key.file-folder", path=path))
    try:
        info = path.stat()
    except OSError as exc:
        raise KeyNotUsable(
            message("key.file-unreadable", path=path, error=quoted(exc.strerror))
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise KeyNotUsable(message("key.file-not-regular", path=path))
    if info.st_mode & 0o077:
        raise KeyNotUsable(
            message("key.file-open", path=path, mode=f"{stat.S_IMODE(info.st_mode):o}")
        )
    if info.st_size > KEY_FILE_BYTES_MAX:
        raise KeyNotUsable(message("key.file-too-large", path=path))
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        raise KeyNotUsable(message("key.file-not-text", path=path)) from None
    if len(text.strip()) < KEY_TEXT_CHARS:
        # what a process stopped while an earlier version created the key left behind
        state = (
            message("key.state-empty")
            if not text.strip()
            else message("key.state-cut", chars=len(text.strip()))
        )
        raise KeyNotUsable(message("key.file-cut", path=path, state=state, chars=KEY_TEXT_CHARS))
    return _decode(text, message("key.where-file", path=path))


def _create_key_file(path: Path) -> bytes:
    """A new key beside a new database, put in place whole: written to a temporary file of
    its own in the same folder (``tempfile.mkstemp``: mode 0600) and flushed to disk, then
    linked under the key file's name, which fails if the name is taken — another process
    made the key first, and its key is the one used. Created under its name and then
    written, a key file was empty for a moment: a process stopped then left an empty file
    that refused every later command, and a process that lost the race read it empty."""
    from suiren.services.output_files import PARTIAL_SUFFIX, sync_folder

    raw = secrets.token_bytes(SECRET_BYTES)
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=PARTIAL_SUFFIX, dir=path.parent)
    except OSError as error:
        raise KeyNotUsable(
            message("key.cannot-create", path=path, error=quoted(error.strerror))
        ) from None
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(base64.b64encode(raw).decode() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temp, path)
    except FileExistsError:  # another process put its key there first: use theirs
        return _read_key_file(path)
    except OSError as error:  # a full disk; a file system without hard links
        raise KeyNotUsable(
            message("key.cannot-link", path=path, error=quoted(error.strerror))
        ) from None
    finally:
        Path(temp).unlink(missing_ok=True)
    sync_folder(path.parent)  # the key's name survives a power cut once a command used it
    return raw


def new_key_text() -> str:
    """A fresh secret as base64 text (for ``suiren key generate``)."""
    return base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()
