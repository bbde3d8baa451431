"""The units the engine schedules: every step and sub-step of a document, with its prerequisites.

A unit is one step (`doc.all_steps()`), or `task:<id>` for a task with no steps at all. Its
prerequisites are the step's `depends_on` (computed by the converter) plus every unit of each task
the step's task depends on. What a unit does follows from the step:

- `tool`: one MCP call; `commands`: each shell command through the command server's
  `run_command`; `both`: the commands, then the tool;
- `group`: a step with sub-steps and nothing of its own completes when its sub-steps have;
- `client`: anything else is work for an agent or a person (a step ticked `[x]` in the document
  counts as done by the author).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from claude_task_cli.convert import graph
from claude_task_cli.convert.model import ListItem, Step, Task, TaskDocument
from claude_task_cli.convert.step_kind import UnitKind, kind_of, server_of, tool_of
from claude_task_cli.errors import RunStateError

_PRIORITY = {"critical": 0, "urgent": 0, "highest": 0, "high": 1, "medium": 2, "normal": 2}
_DEFAULT_RANK = 2  # no priority written ranks with medium
_LOW_RANK = 3


@dataclass(eq=False, slots=True)
class Unit:
    """A unit of the graph; made once by `build_units` and not changed after."""

    id: str
    task: Task
    step: Step | None
    prereqs: tuple[str, ...]
    order: int
    rank: int = _DEFAULT_RANK
    dependents: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.step.title if self.step is not None else self.task.title

    @property
    def kind(self) -> UnitKind:
        return kind_of(self.step)

    @property
    def server(self) -> str | None:
        return server_of(self.step)

    @property
    def tool_name(self) -> str | None:
        """The tool a client would call to do this unit: the bound tool, else `run_command`."""
        return tool_of(self.step)

    @property
    def retryable(self) -> bool:
        return bool(self.step and self.step.tool and self.step.tool.retryable)

    @property
    def references(self) -> list[str]:
        return list(self.step.tool.references) if self.step and self.step.tool else []

    def guidance(self) -> str:
        """What a client needs to do this unit by hand: title, details, acceptance criteria."""
        lines = [f"{self.id}: {self.title}" if self.step else f"Task {self.task.id}: {self.title}"]
        if self.kind == "group":
            return lines[0] + " (done when its sub-steps are)"
        if self.step is None and self.task.description:
            lines.append(self.task.description)
        details = self.step.details if self.step is not None else []
        lines.extend(_bullets(details, "  "))
        if self.step is not None and self.step.commands:
            lines.append("Commands:")
            # a script's later lines under its first
            lines.extend(
                "  $ " + c.script.rstrip().replace("\n", "\n    ") for c in self.step.commands
            )
        if self.task.acceptance_criteria:
            lines.append(f"Acceptance criteria of task {self.task.id}:")
            lines.extend(_bullets(self.task.acceptance_criteria, "  "))
        return "\n".join(lines)


def _bullets(items: Iterable[ListItem], indent: str) -> list[str]:
    out: list[str] = []
    for item in items:
        out.append(f"{indent}- {item.text}")
        out.extend(_bullets(item.children, indent + "  "))
    return out


def _rank(task: Task) -> int:
    words = (task.priority or "").lower().split()
    if not words:
        return _DEFAULT_RANK
    return _PRIORITY.get(words[0], _LOW_RANK if words[0] == "low" else _DEFAULT_RANK)


def build_units(doc: TaskDocument) -> dict[str, Unit]:
    """Every unit of the document, in document order, with prerequisites and dependents."""
    by_task: dict[int, list[Step]] = {}
    for task, step in doc.all_steps():
        by_task.setdefault(id(task), []).append(step)
    own: dict[str, list[str]] = {}
    pairs: list[tuple[str, Task, Step | None]] = []
    for task in doc.tasks:
        steps = by_task.get(id(task), [])
        own[task.id] = [s.id for s in steps] or [f"task:{task.id}"]
        if steps:
            pairs.extend((s.id, task, s) for s in steps)
        else:
            pairs.append((own[task.id][0], task, None))
    units: dict[str, Unit] = {}
    for order, (unit_id, owner, maybe_step) in enumerate(pairs):
        after = [uid for dep in owner.depends_on for uid in own.get(dep, [])]
        before = maybe_step.depends_on if maybe_step is not None else []
        prereqs = tuple(dict.fromkeys([*before, *after]))
        units[unit_id] = Unit(unit_id, owner, maybe_step, prereqs, order, _rank(owner))
    for unit in units.values():
        for prereq in unit.prereqs:
            if prereq in units:
                units[prereq].dependents.append(unit.id)
    return units


def select(
    units: dict[str, Unit],
    only_task: str | None,
    only_step: str | None,
    done: set[str],
) -> set[str]:
    """The units to run: a task's or a step's units (a step with its sub-steps) plus whatever
    they need that is not `done` yet; everything when nothing is selected."""
    if only_task is None and only_step is None:
        return set(units)
    roots: list[str] = []
    if only_task is not None:
        task_id = only_task.removeprefix("task:")
        roots += [u.id for u in units.values() if u.task.id == task_id]
        if not roots:
            known = ", ".join(dict.fromkeys(u.task.id for u in units.values())) or "none"
            raise RunStateError(f"no task {only_task!r} in the document (tasks: {known})")
    if only_step is not None:
        if only_step not in units:
            raise RunStateError(f"no step {only_step!r} in the document")
        roots.append(only_step)
    scope: set[str] = set()
    stack = list(roots)
    while stack:
        unit_id = stack.pop()
        if unit_id in scope:
            continue
        scope.add(unit_id)
        stack.extend(p for p in units[unit_id].prereqs if p in units and p not in done)
    return scope


def levels(units: dict[str, Unit], scope: set[str], done: set[str]) -> list[list[str]]:
    """The units of `scope` not `done`, layered by dependency (what a dry run shows as waves),
    in document order within a layer."""
    todo = sorted(scope - done, key=lambda uid: units[uid].order)
    pending = set(todo)
    return graph.levels({uid: [p for p in units[uid].prereqs if p in pending] for uid in todo})
