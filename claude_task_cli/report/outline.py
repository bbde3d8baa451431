"""A document reduced to what the completion matrix needs: tasks, units, titles, dependencies.

`task_status` of a 10,000-step run must answer in a fraction of a second, and converting such a
document takes ~0.5 s, so the outline is cached as plain JSON beside the state database, keyed by
the SHA-256 of the input file and a fingerprint of this package (its version and the modification
times of its modules: any change to the converter invalidates every cache). Building it from a
`TaskDocument` is the only place this module touches the converter's models; reading a cached
outline imports neither pydantic nor the converter. Units and tasks are `NamedTuple`s: cheap to
make, 12,000 of them for a 10,000-step document (see matrix.py).
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from claude_task_cli import __version__

if TYPE_CHECKING:
    from claude_task_cli.convert.model import Step, TaskDocument

OUTLINE_VERSION = 1
CACHE_DIR = "outlines"
KEEP_OUTLINES = 64


class UnitOutline(NamedTuple):
    """One unit the engine schedules (a step, or `task:<id>` for a task without steps)."""

    id: str
    task_id: str
    title: str
    kind: str  # tool | commands | both | group | client (see units.py)
    depends_on: tuple[str, ...]  # step-level prerequisites; task-level ones are on the task
    server: str | None = None
    tool: str | None = None


class TaskOutline(NamedTuple):
    id: str
    title: str
    depends_on: tuple[str, ...]  # task ids
    units: tuple[str, ...]  # its unit ids, in document order


@dataclass(frozen=True, slots=True)
class Outline:
    doc_id: str
    title: str
    source_path: str
    source_sha256: str
    tasks: tuple[TaskOutline, ...]
    units: dict[str, UnitOutline]  # in document order

    def task(self, task_id: str) -> TaskOutline:
        return next(t for t in self.tasks if t.id == task_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "source_path": self.source_path,
            "source_sha256": self.source_sha256,
            "tasks": [[t.id, t.title, list(t.depends_on), list(t.units)] for t in self.tasks],
            "units": [
                [u.id, u.task_id, u.title, u.kind, list(u.depends_on), u.server, u.tool]
                for u in self.units.values()
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outline:
        return cls(
            doc_id=data["doc_id"],
            title=data["title"],
            source_path=data["source_path"],
            source_sha256=data["source_sha256"],
            tasks=tuple(
                TaskOutline(tid, title, tuple(deps), tuple(units))
                for tid, title, deps, units in data["tasks"]
            ),
            units={
                uid: UnitOutline(uid, task_id, title, kind, tuple(deps), server, tool)
                for uid, task_id, title, kind, deps, server, tool in data["units"]
            },
        )


def outline_of(doc: TaskDocument) -> Outline:
    """The outline of a converted document: the engine's units (`units.py`: a step, or
    `task:<id>` for a task without steps) with the engine's own notion of their kind and tool."""
    from claude_task_cli.convert.step_kind import kind_of, server_of, tool_of

    units: dict[str, UnitOutline] = {}
    tasks = []
    steps_of: dict[int, list[Step]] = {id(t): [] for t in doc.tasks}
    for task, step in doc.all_steps():
        steps_of[id(task)].append(step)
    for task in doc.tasks:
        own = []
        for step in steps_of[id(task)]:
            units[step.id] = UnitOutline(
                step.id, task.id, step.title, kind_of(step), tuple(step.depends_on),
                server_of(step), tool_of(step),
            )  # fmt: skip
            own.append(step.id)
        if not own:  # what build_units makes of a task without steps
            uid = f"task:{task.id}"
            units[uid] = UnitOutline(uid, task.id, task.title, kind_of(None), (), None, None)
            own.append(uid)
        tasks.append(TaskOutline(task.id, task.title, tuple(task.depends_on), tuple(own)))
    return Outline(doc.id, doc.title, doc.source.path, doc.source.sha256, tuple(tasks), units)


def fingerprint() -> str:
    """This release of the converter: version, outline format, newest module time."""
    package = Path(__file__).parent
    newest = max(
        (entry.stat().st_mtime_ns for entry in os.scandir(package) if entry.name.endswith(".py")),
        default=0,
    )
    return f"{__version__}:{OUTLINE_VERSION}:{newest}"


def read_cached(cache_dir: Path, digest: str) -> Outline | None:
    """The cached outline of the input with this SHA-256, if present and current."""
    try:
        data = json.loads((cache_dir / f"{digest}.json").read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("fingerprint") != fingerprint():
        return None
    try:
        return Outline.from_json(data["outline"])
    except (KeyError, TypeError, ValueError, IndexError):
        return None  # a damaged cache is rebuilt, never trusted


def write_cached(cache_dir: Path, digest: str, outline: Outline) -> None:
    """Cache an outline (atomically). A cache that cannot be written is only slower next time."""
    record = {"fingerprint": fingerprint(), "outline": outline.to_json()}
    target = cache_dir / f"{digest}.json"
    temporary = cache_dir / f".{digest}.{os.getpid()}.tmp"
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        temporary.replace(target)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        return
    _prune(cache_dir)


def _prune(cache_dir: Path) -> None:
    """Keep the `KEEP_OUTLINES` newest outlines: each edit of a document adds one (a large
    document's is megabytes), and only its current text's is ever read again."""
    with contextlib.suppress(OSError):
        entries = [e for e in os.scandir(cache_dir) if e.name.endswith(".json") and e.is_file()]
        if len(entries) > KEEP_OUTLINES:
            entries.sort(key=lambda e: e.stat().st_mtime_ns, reverse=True)
            for old in entries[KEEP_OUTLINES:]:
                with contextlib.suppress(OSError):
                    os.unlink(old.path)
