"""What the board keeps of a converted document's tasks, and where a document is on every machine.

A document is identified by its repository (the project root's directory name, or
`$CLAUDE_TASK_REPOSITORY`) and its path inside the project root, so that workers on other
machines, in other checkouts, find the same document. A task is described by a `TaskSpec`: its
number and title as written, its priority's rank, its status marker as written, its blockers, and
a hash of its definition (title, steps, criteria and lists; not line numbers, not the marker) that
tells a changed task from an unchanged one on re-import.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from claude_task_cli.convert.model import Task, TaskDocument
from claude_task_cli.project import project_root, repository_name

DEFAULT_RANK = 2
_RANKS = {
    "critical": 0, "urgent": 0, "highest": 0, "blocker": 0, "p0": 0,
    "high": 1, "p1": 1,
    "medium": 2, "normal": 2, "moderate": 2, "p2": 2,
    "low": 3, "p3": 3,
    "lowest": 4, "trivial": 4, "p4": 4,
}  # fmt: skip
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class TaskSpec:
    number: str
    title: str
    title_key: str
    position: int
    priority: str | None
    priority_rank: int
    marker: str  # the status marker as written (`✅ Complete`), empty when none
    marker_done: bool  # the marker says complete
    content_sha: str
    depends_on: tuple[str, ...]


def document_place(path: Path) -> tuple[str, str, Path]:
    """(repository, path inside the project root as POSIX, the project root) of a document."""
    resolved = path.resolve()
    root = project_root(resolved.parent)
    return repository_name(root), resolved.relative_to(root).as_posix(), root


def priority_rank(priority: str | None) -> int:
    """`HIGH` → 1; the first word decides; unknown or absent → medium (2)."""
    words = _WORD.findall((priority or "").lower())
    return _RANKS.get(words[0], DEFAULT_RANK) if words else DEFAULT_RANK


def title_key(title: str) -> str:
    """The title with case, punctuation and spacing folded: what matches a renumbered task."""
    return " ".join(_WORD.findall(title.lower()))


def specs_of(doc: TaskDocument) -> list[TaskSpec]:
    """The document's tasks as the board records them, in document order."""
    return [
        TaskSpec(
            number=task.id,
            title=task.title,
            title_key=title_key(task.title),
            position=position,
            priority=task.priority,
            priority_rank=priority_rank(task.priority),
            marker=task.status.raw,
            marker_done=task.status.value == "complete",
            content_sha=definition_sha(task),
            depends_on=tuple(dict.fromkeys(task.depends_on)),
        )
        for position, task in enumerate(doc.tasks)
    ]


def definition_sha(task: Task) -> str:
    """sha256 of what the task asks for, without where it is written or what its marker says."""
    data = _comparable(asdict(task), f"{task.id}.")
    for key in ("status", "id", "title", "depends_on", "depends_declared", "priority"):
        data.pop(key, None)  # compared on their own, not as a change of definition
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _comparable(value: Any, prefix: str) -> Any:
    """Without line numbers, and with step ids relative to the task (`2.1` of task 2 → `.1`),
    so that moving or renumbering a task does not read as a change of what it asks."""
    if isinstance(value, dict):
        return {
            k: _relative(v, prefix) if k in ("id", "depends_on") else _comparable(v, prefix)
            for k, v in value.items()
            if k != "line"
        }
    if isinstance(value, list):
        return [_comparable(v, prefix) for v in value]
    return value


def _relative(value: Any, prefix: str) -> Any:
    if isinstance(value, list):
        return [_relative(v, prefix) for v in value]
    if isinstance(value, str) and value.startswith(prefix):
        return "." + value[len(prefix) :]
    return value
