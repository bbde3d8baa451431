"""Reading a task document's bytes into clean text: BOM, line endings, encodings, binaries.

Lines are counted on the clean text, so CRLF and BOM inputs give the same line numbers (and the
same JSON) as the clean file.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from claude_task_cli.errors import InputError, OptionError

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024  # the largest real document is 32 KB
LIMIT_ENV = "CLAUDE_TASK_MAX_DOCUMENT_BYTES"
_BOM = b"\xef\xbb\xbf"
# Bytes that never appear in a text document; one of them means "binary".
_BINARY_MARKERS = (b"\x00",)


@dataclass(frozen=True)
class SourceText:
    path: str
    text: str
    sha256: str
    encoding: str
    warnings: tuple[tuple[int, str], ...] = ()


def decode(data: bytes, path: str) -> SourceText:
    """Decode document bytes; raise InputError for empty or binary input."""
    digest = hashlib.sha256(data).hexdigest()
    body = data[len(_BOM) :] if data.startswith(_BOM) else data
    if not body.strip():
        raise InputError(path, "empty file: no task document to convert")
    if any(marker in body[:65536] for marker in _BINARY_MARKERS):
        raise InputError(path, "binary file: not a markdown task document")
    warnings: list[tuple[int, str]] = []
    try:
        text = body.decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        try:
            text = body.decode("cp1252")
            encoding = "cp1252"
        except UnicodeDecodeError:
            text = body.decode("latin-1")
            encoding = "latin-1"
        warnings.append(
            (line, f"not valid UTF-8 (first bad byte at line {line}); decoded as {encoding}")
        )
    # Normalise line endings: CRLF and lone CR both become LF.
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return SourceText(path, text, digest, encoding, tuple(warnings))


def size_limit() -> int:
    """The largest document read, in bytes: MAX_DOCUMENT_BYTES unless LIMIT_ENV says otherwise."""
    raw = os.environ.get(LIMIT_ENV, "").strip()
    if not raw:
        return MAX_DOCUMENT_BYTES
    if not raw.isdigit() or int(raw) == 0:
        raise OptionError(f"{LIMIT_ENV}={raw!r}: expected a positive number of bytes")
    return int(raw)


def read_source(path: Path, display: str | None = None) -> SourceText:
    """Read one document from disk, mapping OS errors to one-line InputErrors.

    Only a regular file is read: a FIFO or a device is refused before it is opened (opening a
    FIFO blocks until a writer comes), and the file is opened without blocking and checked
    again, in case the path changed in between. A file over `size_limit()` is refused unread."""
    shown = display or str(path)
    limit = size_limit()
    try:
        _refuse_special(os.stat(path).st_mode, shown)
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(descriptor, "rb") as stream:
            info = os.fstat(stream.fileno())
            _refuse_special(info.st_mode, shown)
            data = b"" if info.st_size > limit else stream.read(limit + 1)
            size = max(info.st_size, len(data))
    except FileNotFoundError:
        dangling = " (a symbolic link to a missing file)" if path.is_symlink() else ""
        raise InputError(shown, f"no such file{dangling}") from None
    except OSError as exc:  # a symlink loop, no permission, a device that fails ...
        raise InputError(shown, f"cannot read: {exc.strerror or exc}") from exc
    if size > limit:
        raise InputError(
            shown,
            f"{size:,} bytes, over the {limit:,}-byte limit for a task document "
            f"(set {LIMIT_ENV} to raise it)",
        )
    return decode(data, shown)


def _refuse_special(mode: int, shown: str) -> None:
    """InputError for anything but a regular file, naming what it is."""
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise InputError(
            shown, "is a directory (pass the directory itself to convert every *.md in it)"
        )
    kind = (
        "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
        else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a socket" if stat.S_ISSOCK(mode)
        else "a special file"
    )  # fmt: skip
    raise InputError(shown, f"is {kind}, not a regular file: nothing was read")


def display_path(path: Path) -> str:
    """How a path is shown and recorded: relative to the working directory when inside it.
    Symbolic links are not followed: a link is named as the author typed it."""
    try:
        return Path(os.path.abspath(path)).relative_to(os.getcwd()).as_posix()
    except (ValueError, OSError):  # outside the working directory; no working directory
        return path.as_posix()
