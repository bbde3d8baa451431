"""The report files: their names, their atomic writing, and the earlier ones left behind.

Names, as the seed gives them: `<doc-id>_task_<n>_<slug>.md` per task and
`<doc-id>_final_summary.md` (`.json` with `--format json`); the slug is the feature name the task
itself gives its report, else its title. A name is a plain file name: no separator, no leading dot.

"Regenerating overwrites cleanly": each file is written whole and renamed over the old one (one that
already holds exactly that text is left as it is), and when every report of a document is
regenerated, its earlier task reports that were not written again (a task renamed, renumbered or
removed) are removed. Only files of exactly the report naming pattern of that document id and format
are candidates, and only regular files; nothing else in the directory (other documents' reports, the
summary, a reader's notes) is touched.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from claude_task_cli.convert.model import ListItem, Task, TaskDocument
from claude_task_cli.errors import ReportError

_SLUG = re.compile(r"[^a-z0-9]+")
_SAFE_ID = re.compile(r"[^A-Za-z0-9.-]+")
_REPORT_NAME = re.compile(r"(?<![\w.])([\w.-]+?)_task_([\w.-]+?)_([\w-]+)\.md")


@dataclass(frozen=True)
class Rendered:
    name: str  # a file name inside the output directory
    text: str


def slug(text: str, limit: int = 60) -> str:
    """A file-name-safe slug: ASCII letters, digits and `_` only (never `.`, `/` or `..`)."""
    folded = text.replace("ß", "ss").replace("æ", "ae").replace("ø", "o").replace("œ", "oe")
    ascii_text = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()
    cut = _SLUG.sub("_", ascii_text.lower()).strip("_")[:limit].rstrip("_")
    return cut or "task"


def safe_id(text: str) -> str:
    """An id usable in a file name: no separators, no leading dot."""
    return _SAFE_ID.sub("_", text).lstrip(".") or "_"


def task_file_name(
    doc: TaskDocument, task: Task, suffix: str = ".md", texts: list[str] | None = None
) -> str:
    """`<doc-id>_task_<n>_<slug>.md`; the slug is the feature name the task itself gives its
    report (`…/003_task_1_converter.md`, as the seed writes), else its title. `texts`: the task's
    texts (`task_texts`), when already at hand."""
    feature = None
    for text in texts if texts is not None else task_texts(task):
        if "_task_" not in text:
            continue
        for found in _REPORT_NAME.finditer(text):
            if (found.group(1), found.group(2)) == (doc.id, task.id):
                feature = found.group(3)
                break
        if feature:
            break
    return f"{safe_id(doc.id)}_task_{safe_id(task.id)}_{slug(feature or task.title)}{suffix}"


def summary_file_name(doc: TaskDocument, suffix: str = ".md") -> str:
    return f"{safe_id(doc.id)}_final_summary{suffix}"


def task_texts(task: Task) -> list[str]:
    """Every text the author wrote in a task: title, description, list items, step titles and
    details, in document order."""
    texts = [task.title, task.description]
    lists = [task.research, task.specifications, task.verification, task.cli_testing]
    lists += [task.acceptance_criteria, task.notes, *task.lists.values()]
    for items in lists:
        if items:
            _item_texts(items, texts)
    stack = list(task.steps)
    while stack:
        step = stack.pop(0)
        texts.append(step.title)
        if step.details:
            _item_texts(step.details, texts)
        stack[0:0] = step.substeps
    return texts


def _item_texts(items: list[ListItem], out: list[str]) -> None:
    for item in items:
        out.append(item.text)
        if item.children:
            _item_texts(item.children, out)


def write(rendered: Sequence[Rendered], out_dir: Path) -> list[Path]:
    """Write each report inside `out_dir` (created if missing), replacing any previous one.

    Each file is written whole to a temporary name and renamed over the old one, so a reader
    never sees half a report. The directory is opened once and every name taken relative to it
    (`dir_fd`): a report name is a plain file name, so nothing lands outside it, and a symlink
    standing at a report's name is replaced, never followed."""
    for item in rendered:
        if item.name in ("", ".", "..") or Path(item.name).name != item.name:
            raise ReportError(f"{item.name!r}: a report name must stay inside {out_dir}")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        directory = os.open(out_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise ReportError(f"{out_dir}: cannot create the output directory: {exc}") from exc
    try:
        for item in rendered:
            try:
                _replace(directory, item.name, item.text.encode("utf-8"))
            except OSError as exc:
                raise ReportError(f"{out_dir / item.name}: cannot write the report: {exc}") from exc
    finally:
        os.close(directory)
    return [out_dir / item.name for item in rendered]


_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def _replace(directory: int, name: str, data: bytes) -> None:
    """`name` in `directory` (a file descriptor) replaced by a file holding `data`, unless it is
    a regular file that holds `data` already."""
    if _holds(directory, name, data):
        return
    temporary = f".{name}.{os.getpid()}.tmp"
    try:
        fd = os.open(temporary, _NEW_FILE, 0o666, dir_fd=directory)
    except FileExistsError:  # left by a process killed mid-write, or planted: never followed
        os.unlink(temporary, dir_fd=directory)
        fd = os.open(temporary, _NEW_FILE, 0o666, dir_fd=directory)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(temporary, name, src_dir_fd=directory, dst_dir_fd=directory)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=directory)
        raise


def _holds(directory: int, name: str, data: bytes) -> bool:
    """Whether `name` is a regular file (not followed if a link, not waited on if a FIFO) whose
    bytes are `data`.

    Regenerating reports mostly regenerates the same text, and rewriting a file (a new file and a
    rename) costs far more than reading it back, by an amount that varies with the disk: for the
    2,001 reports of benchmarks/bench_report.py's run it decided whether regenerating them met its
    target (≤ 2 s; figures in docs/benchmarks.md). Files left be also keep their times for tools
    that watch them."""
    try:
        fd = os.open(
            name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=directory
        )
    except OSError:
        return False
    try:
        found = os.fstat(fd)
        if not stat.S_ISREG(found.st_mode) or found.st_size != len(data):
            return False
        return os.read(fd, len(data) + 1) == data
    finally:
        os.close(fd)


def report_pattern(doc_id: str, suffix: str) -> re.Pattern[str]:
    """The names `task_file_name` gives the task reports of `doc_id` with `suffix` (`.md`)."""
    return re.compile(
        rf"{re.escape(safe_id(doc_id))}_task_[A-Za-z0-9._-]+?_[a-z0-9_]+{re.escape(suffix)}",
        re.ASCII,
    )


def stale_reports(out_dir: Path, doc_id: str, suffix: str, written: Iterable[Path]) -> list[Path]:
    """Task reports of `doc_id` in `out_dir` that are not among `written`, by name."""
    if not out_dir.is_dir():
        return []
    pattern = report_pattern(doc_id, suffix)
    kept = {p.name for p in written}
    return sorted(
        path
        for path in out_dir.iterdir()
        if pattern.fullmatch(path.name)
        and path.name not in kept
        and path.is_file()
        and not path.is_symlink()
    )


def remove_stale_reports(
    out_dir: Path, doc_id: str, suffix: str, written: Iterable[Path]
) -> list[Path]:
    """Remove `stale_reports(...)`; return what was removed. Raises `ReportError`."""
    removed = []
    for path in stale_reports(out_dir, doc_id, suffix, written):
        try:
            path.unlink()
        except FileNotFoundError:
            continue  # gone already
        except OSError as exc:
            raise ReportError(f"{path}: cannot remove the stale report: {exc}") from exc
        removed.append(path)
    return removed
