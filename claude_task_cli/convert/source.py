"""Reading a task document's bytes into clean text: BOM, line endings, encodings, binaries.

Lines are counted on the clean text, so CRLF and BOM inputs give the same line numbers (and the
same JSON) as the clean file.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from claude_task_cli.errors import InputError

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


def read_source(path: Path, display: str | None = None) -> SourceText:
    """Read one document from disk, mapping OS errors to one-line InputErrors."""
    shown = display or str(path)
    try:
        if path.is_dir():
            raise InputError(
                shown, "is a directory (pass the directory itself to convert every *.md in it)"
            )
        data = path.read_bytes()
    except FileNotFoundError:
        dangling = " (a symbolic link to a missing file)" if path.is_symlink() else ""
        raise InputError(shown, f"no such file{dangling}") from None
    except OSError as exc:  # a symlink loop, no permission, a device that fails ...
        raise InputError(shown, f"cannot read: {exc.strerror or exc}") from exc
    return decode(data, shown)


def display_path(path: Path) -> str:
    """How a path is shown and recorded: relative to the working directory when inside it.
    Symbolic links are not followed: a link is named as the author typed it."""
    try:
        return Path(os.path.abspath(path)).relative_to(os.getcwd()).as_posix()
    except (ValueError, OSError):  # outside the working directory; no working directory
        return path.as_posix()
