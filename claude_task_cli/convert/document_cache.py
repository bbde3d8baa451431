"""Converted documents kept in the user's cache directory, found again by what was converted.

Exists for three targets of issue 16 (benchmarks/bench_report.py, bench_run_process.py), each
missed while the document was converted again in every process: all reports of a recorded
10,000-step run ≤ 2 s, `task_status --json` of it ≤ 0.5 s, and resuming that run ≤ 1.5× a fresh
1-step run. Reading the contract's JSON back (`contract.load_document`, pydantic) costs a fraction
of converting the markdown again.

A converted document is kept as its contract JSON in `<cache>/converted/<key>.json`, where the
key is the SHA-256 of the source's bytes together with everything else the conversion depends on:
the name it is shown by, the file's stem, the contract's schema version, this release's version
and the converter's modules (their sizes and times). `<cache>` is `$CLAUDE_TASK_CACHE_DIR`, else
`$XDG_CACHE_HOME/claude-task`, else `~/.cache/claude-task`: the user's, never the project's,
because what is kept is what runs — a file planted in a cloned project (its `.claude-task/`, say)
could otherwise make `execute_task` run commands its markdown does not show. A file that cannot be
read, does not validate against the contract or names other bytes is converted again and
replaced; writing is atomic (a temporary file, then `os.replace`), so concurrent processes see a
whole file or none; a cache that cannot be written only means nothing is kept. At most `KEEP`
files are kept, the least recently used go first.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

from claude_task_cli import __version__
from claude_task_cli.convert.converter import convert_text
from claude_task_cli.convert.document_json import to_data
from claude_task_cli.convert.model import SCHEMA_VERSION, TaskDocument
from claude_task_cli.convert.source import SourceText, read_source

KEEP = 64  # documents kept
FOLDER = "converted"
CACHE_ENV = "CLAUDE_TASK_CACHE_DIR"


def cache_dir() -> Path:
    """$CLAUDE_TASK_CACHE_DIR, else $XDG_CACHE_HOME/claude-task, else ~/.cache/claude-task."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "claude-task"


def convert_file_kept(path: Path, display: str) -> TaskDocument:
    """`convert_file(path, display)`, read back when that document was converted before and
    kept; converted and kept otherwise."""
    source = read_source(path, display)
    try:
        folder = cache_dir() / FOLDER
    except RuntimeError:  # no home directory to keep it in
        return convert_text(source, path.stem)
    kept = folder / f"{_key(source, path.stem)}.json"
    doc = _read(kept, source)
    if doc is not None:
        return doc
    doc = convert_text(source, path.stem)
    _write(folder, kept, doc)
    return doc


def _key(source: SourceText, stem: str) -> str:
    what = "\0".join((__version__, SCHEMA_VERSION, _code(), source.sha256, source.path, stem))
    return hashlib.sha256(what.encode("utf-8", "surrogatepass")).hexdigest()


def _code() -> str:
    """The converter's modules by name, size and modification time, as Python's bytecode cache
    tells source apart: a converter edited or reinstalled under the same version converts
    again."""
    found = []
    for entry in os.scandir(Path(__file__).parent):
        if entry.name.endswith(".py"):
            info = entry.stat()
            found.append(f"{entry.name}:{info.st_size}:{info.st_mtime_ns}")
    return ",".join(sorted(found))


def _read(kept: Path, source: SourceText) -> TaskDocument | None:
    """The kept document, or None when there is none or it is not the one asked for."""
    from claude_task_cli.convert.contract import load_document

    try:
        data = kept.read_bytes()
        doc = load_document(data)
    except (OSError, ValueError):  # missing, unreadable, not JSON, not the contract
        return None
    if doc.source.sha256 != source.sha256 or doc.source.path != source.path:
        return None
    with contextlib.suppress(OSError):
        os.utime(kept)  # recently used: kept longest
    return doc


def _write(folder: Path, kept: Path, doc: TaskDocument) -> None:
    """Keep `doc` as `kept`; a folder that cannot be written only means no document is kept."""
    text = json.dumps(to_data(doc), ensure_ascii=False, separators=(",", ":"))
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(dir=folder, suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(name, kept)
        _prune(folder)
    except OSError:
        Path(name).unlink(missing_ok=True)


def _prune(folder: Path) -> None:
    """Remove the least recently used documents beyond `KEEP`."""
    found = []
    for entry in os.scandir(folder):
        if entry.name.endswith(".json"):
            found.append((entry.stat().st_mtime, entry.path))
    for _mtime, name in sorted(found, reverse=True)[KEEP:]:
        Path(name).unlink(missing_ok=True)
