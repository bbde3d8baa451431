"""What a converted document would run: waves, roots, blocked roots and counts (writes nothing)."""

from __future__ import annotations

from dataclasses import dataclass

from claude_task_cli.convert.model import ListItem, Status, TaskDocument


@dataclass(slots=True, kw_only=True)
class Counts:
    tasks: int
    steps: int
    checklist_items: int
    checked: int
    tool_bindings: int
    commands: int
    warnings: int


@dataclass(slots=True, kw_only=True)
class Preview:
    path: str
    id: str
    title: str
    waves: list[list[str]]
    roots: list[str]
    blocked_roots: list[str]
    counts: Counts


def checklist_items(doc: TaskDocument) -> list[tuple[int, bool]]:
    """(line, checked) of every checkbox in the document, wherever the converter put it."""
    found: list[tuple[int, bool]] = []

    def items(entries: list[ListItem]) -> None:
        for entry in entries:
            if entry.checked is not None:
                found.append((entry.line, entry.checked))
            items(entry.children)

    items(doc.requirements)
    for section in doc.sections:
        items(section.items)
    for task in doc.tasks:
        for field in (
            "research",
            "specifications",
            "verification",
            "cli_testing",
            "acceptance_criteria",
            "notes",
        ):
            items(getattr(task, field))
        for entries in task.lists.values():
            items(entries)
    for _task, step in doc.all_steps():
        if not step.implicit:
            found.append((step.line, step.checked))
        items(step.details)
    return sorted(found)


def preview(doc: TaskDocument) -> Preview:
    roots = [task.id for task in doc.tasks if not task.depends_on]
    blocked = [
        task.id
        for task in doc.tasks
        if not task.depends_on and task.status.value in (Status.BLOCKED, Status.FAILED)
    ]
    steps = doc.all_steps()
    boxes = checklist_items(doc)
    return Preview(
        path=doc.source.path,
        id=doc.id,
        title=doc.title,
        waves=doc.waves,
        roots=roots,
        blocked_roots=blocked,
        counts=Counts(
            tasks=len(doc.tasks),
            steps=len(steps),
            checklist_items=len(boxes),
            checked=sum(1 for _line, checked in boxes if checked),
            tool_bindings=sum(1 for _t, s in steps if s.tool is not None),
            commands=sum(len(s.commands) for _t, s in steps),
            warnings=len(doc.warnings),
        ),
    )
