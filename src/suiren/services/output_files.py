"""Files written for the person running a command: whole or not at all, readable by its owner.

``--out`` and ``--errors`` of the CLI, a key, a checkpoint, the pension results, the demo's
logins: a map of resident ids or a report of refused rows names people, and a key is a
secret. Each is written to a new file beside its target (``tempfile.mkstemp``: a name
nobody can have placed there, created 0600) and, once complete and flushed to disk, renamed
over the target (``os.replace``); a target that must not exist yet is linked instead, which
fails if it does. The folder is then flushed too, so that the new name survives a power
cut. So a reader never sees half a file, a write that fails leaves the target as it was (an
earlier report stays whole), and the file is its owner's alone whatever was there before.

A target that cannot be written — a folder that does not exist, a path that is a folder or
a device, a place where no file can be made, a full disk — is refused (``InvalidInput``: the
CLI exits 2) with the reason, never a traceback. A symbolic link is written through: the
file it names is replaced, in that file's folder.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from suiren.domain.errors import InvalidInput
from suiren.domain.messages import Text, quoted
from suiren.domain.messages import text as message

PARTIAL_SUFFIX = ".partial"  # a file left by a process killed while writing ends so


class OutputFile:
    """``with OutputFile(path) as out: out.write(...)``: the target replaced on success, left
    as it was if the block raises. ``commit`` and ``discard`` for a writer that outlives one
    block (a report written as a file is read)."""

    def __init__(
        self, path: Path, name: str = "", *, binary: bool = False, overwrite: bool = True
    ) -> None:
        self.path = Path(os.path.realpath(path)) if os.path.islink(path) else path
        self.shown = str(path)
        self.name = name  # the option that named it, for the message: "--out"
        self.binary = binary
        self.overwrite = overwrite
        self.handle: IO[Any] | None = None
        self._temp: str | None = None

    def __enter__(self) -> OutputFile:
        self.open()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        if kind is None:
            self.commit()
            return
        self.discard()
        if isinstance(error, OSError):  # the block's own writing to the handle
            raise self.refusal(error) from None

    def open(self) -> None:
        self._check_target()
        try:
            fd, self._temp = tempfile.mkstemp(
                prefix=f".{self.path.name}.", suffix=PARTIAL_SUFFIX, dir=self.path.parent
            )
        except OSError as error:
            raise self.refusal(error) from None
        if self.binary:
            self.handle = os.fdopen(fd, "wb")
        else:
            self.handle = os.fdopen(fd, "w", encoding="utf-8", newline="")

    @property
    def stream(self) -> IO[Any]:
        """The file being written, for a writer that takes a file (``pq.write_table``)."""
        if self.handle is None:
            raise AssertionError("OutputFile used before open")
        return self.handle

    def write(self, data: Any) -> None:
        try:
            self.stream.write(data)
        except OSError as error:
            self.discard()
            raise self.refusal(error) from None

    def commit(self) -> None:
        """Flush the file to disk and put it in place of the target."""
        if self.handle is None or self._temp is None:
            raise AssertionError("OutputFile.commit before open")
        try:
            self.handle.flush()
            os.fsync(self.handle.fileno())
            self.handle.close()
            if self.overwrite:
                os.replace(self._temp, self.path)
                self._temp = None
            else:
                self._link(self._temp)
            sync_folder(self.path.parent)
        except FileExistsError:
            raise InvalidInput(self._said("output.exists"), field=self.name or None) from None
        except OSError as error:
            raise self.refusal(error) from None
        finally:
            self.discard()

    def discard(self) -> None:
        """Remove what was written; the target is as it was."""
        if self.handle is not None:
            with contextlib.suppress(OSError):  # its data is thrown away: a failed flush too
                self.handle.close()
            self.handle = None
        if self._temp is not None:
            Path(self._temp).unlink(missing_ok=True)
            self._temp = None

    def refusal(self, error: OSError) -> InvalidInput:
        reason = quoted(error.strerror or error)
        return InvalidInput(
            self._said("output.cannot-write", reason=reason), field=self.name or None
        )

    def _said(self, code: str, **values: object) -> Text:
        """The message ``code`` about this file, naming its option first where it has one."""
        label = Text(f"{self.name}：", f"{self.name}: ") if self.name else Text("", "")
        return message(code, label=label, shown=self.shown, **values)

    def _check_target(self) -> None:
        try:
            mode = self.path.stat().st_mode
        except FileNotFoundError:
            return
        except OSError as error:
            raise self.refusal(error) from None
        if stat.S_ISDIR(mode):
            raise InvalidInput(self._said("output.folder"), field=self.name or None)
        if not stat.S_ISREG(mode):  # a device or a pipe is never replaced by a file
            raise InvalidInput(self._said("output.not-regular"), field=self.name or None)
        if not self.overwrite:
            raise InvalidInput(self._said("output.exists"), field=self.name or None)

    def _link(self, temp: str) -> None:
        """The finished file under the target's name only if that name is free (a key, a
        checkpoint). Where the file system has no hard links, the target is created
        exclusively and the bytes copied (removed again if that fails)."""
        try:
            os.link(temp, self.path)
            return
        except FileExistsError:
            raise
        except OSError:
            pass
        data = Path(temp).read_bytes()
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError:
            self.path.unlink(missing_ok=True)
            raise


def _file_key(path: Path) -> tuple[object, ...]:
    """What ``path`` names: an existing file by its device and inode (a link to it, another
    hard link or spelling of it is the same file), else the absolute path it would have."""
    try:
        info = os.stat(path)
    except OSError:
        return ("path", os.path.realpath(path))
    return ("file", info.st_dev, info.st_ino)


def distinct_files(inputs: dict[str, Path | None], outputs: dict[str, Path | None]) -> None:
    """Refuse, before anything is read or written, an output that is one of the command's
    input files or another output: a report or a map put in place of the file it reports on
    (``--errors PAYMENTS.csv``, a link to it) destroyed the file the caller needs to correct
    and send again, and two outputs at one path kept only the last written. Each dict maps
    an option's name (``--file``, ``--errors``) to its path (None: not given)."""
    seen: dict[tuple[object, ...], str] = {
        _file_key(path): name for name, path in inputs.items() if path is not None
    }
    for name, path in outputs.items():
        if path is None:
            continue
        key = _file_key(path)
        other = seen.get(key)
        if other is not None:
            raise InvalidInput(
                message("output.is-input", label=name, shown=str(path), other=other),
                field=name,
            )
        seen[key] = name


def sync_folder(folder: Path) -> None:
    """Flush a folder's entries to disk: a file renamed or linked into it is there after a
    power cut, not only its bytes. A file system that cannot flush a folder is let be."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_private(path: Path, data: str | bytes, name: str = "", overwrite: bool = True) -> None:
    """``data`` as the whole of ``path`` (see the module's doc)."""
    with OutputFile(path, name, binary=isinstance(data, bytes), overwrite=overwrite) as out:
        out.write(data)
