"""A document reduced to what the completion matrix judges: tasks, units, titles, dependencies.

The matrix (`matrix.py`) is arithmetic over this outline and a run's facts; `outline_of` is the one
place that reads the converter's model for it, with the engine's own notion of a unit (a step, or
`task:<id>` for a task without steps) and of its kind and tool (`convert/step_kind.py`), so the run
and the reports count the same units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from claude_task_cli.convert.model import Step, TaskDocument
from claude_task_cli.convert.step_kind import kind_of, server_of, tool_of


class UnitOutline(NamedTuple):
    """One unit the engine schedules (a step, or `task:<id>` for a task without steps)."""

    id: str
    task_id: str
    title: str
    kind: str  # tool | commands | both | group | client (see convert/step_kind.py)
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


def outline_of(doc: TaskDocument) -> Outline:
    """The outline of a converted document: its units, task by task, in document order."""
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
        if not own:  # what the engine makes of a task without steps
            uid = f"task:{task.id}"
            units[uid] = UnitOutline(uid, task.id, task.title, kind_of(None), (), None, None)
            own.append(uid)
        tasks.append(TaskOutline(task.id, task.title, tuple(task.depends_on), tuple(own)))
    return Outline(doc.id, doc.title, doc.source.path, doc.source.sha256, tuple(tasks), units)
