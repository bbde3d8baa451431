"""Reading one task: its heading, then the paragraphs, lists and fences under it until the next.

A task heading is `Task N: Title` at level 2 or deeper (a leading emoji allowed). Under it,
`**Label**:` paragraphs and sub-headings label the lists that follow (`Implementation Steps` lists
are steps, `Research Requirements` and the other known labels are fields, any other label a named
list); `**Priority**:`-style lines, the status and `Depends on` are read into the task. A shell or
`mcp` fence outside any checklist becomes a step of its own. Dependencies are only read here, with
the line they were declared on; `graph.py` checks and orders them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from claude_task_cli.convert.blocks import Block, Fence, Heading, Item, ListBlock, Paragraph
from claude_task_cli.convert.model import ListItem, Status, StatusInfo, Step, Task, TaskDocument
from claude_task_cli.convert.status_marks import classify, split_title
from claude_task_cli.convert.steps import (
    SHELL_LANGS,
    FreeNumbers,
    StepContext,
    bind_fences,
    block_items,
    build_steps,
    free_id,
    parse_depends,
    to_list_item,
)

# A leading emoji or mark is allowed: the corpus writes `## 🎯 TASK #001: Title`.
TASK_HEADING = re.compile(
    r"^(?:[^\w\s]+\s*)?(?:sub)?task\s+#?0*(\d+[A-Za-z]?(?:\.\d+)*)"
    r"\s*(?:[:.)\-–—]\s*|\s+|$)(.*)$",
    re.I,
)
LABEL = re.compile(r"^\*\*([^*]+?):?\*\*\s*(?:\([^)]*\))?\s*:?\s*(.*)$")
_META = re.compile(r"\*\*(Priority|Complexity|Impact)\*\*\s*:\s*\**\s*([A-Za-z][\w-]*)", re.I)
# Where a folded paragraph of `**Label**: value` lines starts its next label.
_LABEL_SPLIT = re.compile(r"\s+(?=\*\*[^*]+?(?::\*\*|\*\*\s*:))")
_TASK_RANGE = re.compile(r"(?:tasks?\s*)?#?(\d+)\s*(?:-|–|—|\.\.|to)\s*(?:task\s*)?#?(\d+)", re.I)
_HEADING_DEPENDS = re.compile(r"\(\s*depends\s+on\s+([^)]*)\)", re.I)
_STEP_LABELS = {
    "implementation steps", "steps", "implementation", "subtasks", "sub-tasks", "tasks",
    "checklist", "implementation checklist", "task list", "todo", "to do",
}  # fmt: skip
_FIELD_LABELS = {
    "research requirements": "research",
    "research": "research",
    "technical specifications": "specifications",
    "specifications": "specifications",
    "verification method": "verification",
    "verification": "verification",
    "cli testing requirements": "cli_testing",
    "acceptance criteria": "acceptance_criteria",
}


@dataclass
class TaskDependencies:
    """Task dependencies as written, for the graph stage to check and order."""

    declared: dict[str, list[str]] = field(default_factory=dict)  # task id → ids it names
    lines: dict[str, int] = field(default_factory=dict)  # task id → line of its first declaration
    duplicates: dict[str, list[int]] = field(default_factory=dict)  # id → lines it came again


class TaskReader:
    """Reads the task that is open (at most one at a time) into `doc.tasks` when it closes."""

    def __init__(
        self,
        doc: TaskDocument,
        steps: StepContext,
        lines: list[str],
        warnings: list[tuple[int, str]],
        errors: list[tuple[int, str]],
    ) -> None:
        self.doc = doc
        self.steps = steps
        self.lines = lines
        self.warnings = warnings
        self.errors = errors
        self.dependencies = TaskDependencies()
        self.task: Task | None = None
        self.level = 0
        self.label: str | None = None
        self.loose_fences: list[Fence] = []
        self.ids: set[str] = set()
        self.numbers = FreeNumbers(self.ids.__contains__)

    def open(self, block: Heading, number: str, rest: str) -> None:
        """Start a task at its heading (`number` and the `rest` of its title as matched)."""
        self.close()
        title, status = split_title(rest)
        task_id = number.lower()
        if task_id in self.ids:
            suffix = self.numbers.first(f"{task_id}-", 2)
            self.dependencies.duplicates.setdefault(task_id, []).append(block.line)
            self.warnings.append(
                (block.line, f"duplicate task id {task_id}; renamed {task_id}-{suffix}")
            )
            task_id = f"{task_id}-{suffix}"
        self.ids.add(task_id)
        if status.value is Status.UNKNOWN and status.raw:
            self.warnings.append((block.line, f"unrecognised status {status.raw!r}"))
        parallel = "[P]" in title
        title = title.replace("[P]", "").strip()
        self.task = Task(id=task_id, title=title, status=status, line=block.line, parallel=parallel)
        self.level = block.level
        self.label = None
        heading_deps = _HEADING_DEPENDS.search(title)
        if heading_deps:
            refs = parse_depends(heading_deps.group(1))
            if refs:
                self._declare(refs, block.line)
                self.warnings.append(
                    (block.line, f"dependencies read from the heading: {', '.join(refs)}")
                )

    def sub_heading(self, block: Heading) -> bool:
        """A heading deeper than the open task's labels the lists after it; False otherwise."""
        if self.task is None or block.level <= self.level:
            return False
        self.label = block.text.rstrip(":").strip()
        return True

    def close(self) -> None:
        """Finish the open task, if any: its loose fences become steps of their own."""
        task = self.task
        if task is None:
            return
        ctx = self.steps
        for fence in self.loose_fences:
            step_id = free_id(task.id, len(task.steps) + 1, ctx.numbers)
            ctx.taken.add(step_id)
            tool, commands = bind_fences(step_id, [fence], ctx)
            task.steps.append(
                Step(
                    id=step_id,
                    title=task.title,
                    checked=False,
                    line=fence.line,
                    tool=tool,
                    commands=commands,
                    implicit=True,
                )
            )
            self.warnings.append(
                (fence.line, f"```{fence.info} block outside a checklist: made step {step_id}")
            )
        self.loose_fences = []
        self.doc.tasks.append(task)
        self.task = None

    def read(self, block: Block) -> None:
        """One block under the open task's heading."""
        task = self.task
        assert task is not None
        if isinstance(block, Paragraph):
            self._paragraph(task, block)
        elif isinstance(block, ListBlock):
            self._list(task, block)
        elif (
            isinstance(block, Fence)
            and (block.info == "mcp" or block.info in SHELL_LANGS)
            and (self.label is None or self.label.lower() in _STEP_LABELS)
        ):
            self.loose_fences.append(block)
        elif self.label is not None:
            self._labelled(task).extend(block_items([block]))
        else:
            task.notes.extend(block_items([block]))

    def _paragraph(self, task: Task, block: Paragraph) -> None:
        pieces = _LABEL_SPLIT.split(block.text) if block.text.startswith("**") else [block.text]
        if len(pieces) > 1:  # `**Status**: …` / `**Dependencies**: …` on consecutive lines
            line = block.line
            for piece in pieces:
                line = self._line_of(piece, line)
                self._paragraph(task, Paragraph(piece.strip(), line))
            return
        metas = _META.findall(block.text)
        if metas:
            for key, value in metas:
                setattr(task, key.lower(), value.upper())
            return
        match = LABEL.match(block.text)
        if not match:
            task.description = f"{task.description}\n\n{block.text}".strip()
            return
        label, rest = match.group(1).strip(), match.group(2).strip()
        key = label.lower()
        if key in ("depends on", "dependencies", "depends"):
            self._depends(rest, block.line)
            self.label = None
        elif key == "execution mode":
            task.parallel = rest.lower().startswith("parallel")
        elif key == "status" and rest and not task.status.raw:
            task.status = StatusInfo(value=classify(rest), raw=rest)
            if task.status.value is Status.UNKNOWN:
                self.warnings.append((block.line, f"unrecognised status {rest!r}"))
        else:
            self.label = label
            if rest:
                self._labelled(task).append(ListItem(text=rest, line=block.line))

    def _line_of(self, piece: str, start: int) -> int:
        """The source line (from `start` on) where a piece of a folded paragraph begins."""
        head = piece.strip()[:20]
        for number in range(start, min(start + 50, len(self.lines) + 1)):
            if head and head in self.lines[number - 1]:
                return number
        return start

    def _list(self, task: Task, block: ListBlock) -> None:
        key = (self.label or "").lower()
        has_boxes = any(item.checked is not None for item in block.items)
        if key in _STEP_LABELS or (self.label is None and has_boxes):
            boxes = [item for item in block.items if item.checked is not None]
            plain = [item for item in block.items if item.checked is None]
            task.steps.extend(build_steps(boxes, task.id, self.steps))
            task.notes.extend(self._bullets(task, plain))
            return
        if self.label is None:
            task.notes.extend(self._bullets(task, block.items))
            return
        self._labelled(task).extend(to_list_item(item) for item in block.items)

    def _bullets(self, task: Task, items: list[Item]) -> list[ListItem]:
        """Plain bullets under a task; `Depends on:` and `Execution mode:` are read, not kept."""
        kept: list[ListItem] = []
        for item in items:
            text = item.text
            low = text.lower().replace("*", "")
            if low.startswith(("depends on", "dependencies:")) and not item.children:
                self._depends(text.split(":", 1)[1] if ":" in text else "", item.line)
            elif low.startswith("execution mode") and not item.children:
                task.parallel = "parallel" in low
            else:
                kept.append(to_list_item(item))
        return kept

    def _depends(self, text: str, line: int) -> None:
        span = _TASK_RANGE.fullmatch(text.strip())
        if span and int(span.group(1)) < int(span.group(2)) <= int(span.group(1)) + 1000:
            refs: list[str] | None = [str(n) for n in range(int(span[1]), int(span[2]) + 1)]
            first, last = str(int(span[1])), str(int(span[2]))
            message = f"dependency range {text.strip()!r} read as tasks {first} to {last}"
            self.warnings.append((line, message))
        else:
            refs = parse_depends(text)
        if refs is None:
            self.errors.append((line, f"cannot read task dependencies from {text.strip()!r}"))
            return
        self._declare(refs, line)

    def _declare(self, refs: list[str], line: int) -> None:
        assert self.task is not None
        task_id = self.task.id
        declared = self.dependencies.declared
        declared[task_id] = declared.get(task_id, []) + [r.lstrip("0").lower() or "0" for r in refs]
        self.dependencies.lines.setdefault(task_id, line)

    def _labelled(self, task: Task) -> list[ListItem]:
        label = self.label or ""
        field_name = _FIELD_LABELS.get(label.lower())
        if field_name is not None:
            items: list[ListItem] = getattr(task, field_name)
            return items
        return task.lists.setdefault(label, [])
