"""Blocks → TaskDocument: title, objective, requirements, sections, tasks, usage table.

Dependencies are only *read* here (ids and the line they were declared on); `graph.py` applies the
defaults, checks them and computes the waves.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from claude_task_cli.convert.blocks import Block, Fence, Heading, Item, ListBlock, Paragraph, Table
from claude_task_cli.convert.model import (
    ListItem,
    ReportRequirements,
    Section,
    Source,
    Status,
    StatusInfo,
    Step,
    Task,
    TaskDocument,
    UsageRow,
    Warning,
)
from claude_task_cli.convert.source import SourceText
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
    written_ids,
)

# A leading emoji or mark is allowed: the corpus writes `## 🎯 TASK #001: Title`.
_TASK = re.compile(
    r"^(?:[^\w\s]+\s*)?(?:sub)?task\s+#?0*(\d+[A-Za-z]?(?:\.\d+)*)"
    r"\s*(?:[:.)\-–—]\s*|\s+|$)(.*)$",
    re.I,
)
_DOC_ID = re.compile(r"^task\s+#?(\d+[A-Za-z]?)\s*[:.\-–—]?\s*(.*)$", re.I)
_LABEL = re.compile(r"^\*\*([^*]+?):?\*\*\s*(?:\([^)]*\))?\s*:?\s*(.*)$")
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
class Parsed:
    """The document plus what the graph stage needs to check it."""

    doc: TaskDocument
    task_dep_lines: dict[str, int] = field(default_factory=dict)
    task_declared: dict[str, list[str]] = field(default_factory=dict)
    steps: StepContext = field(default_factory=StepContext)
    errors: list[tuple[int, str]] = field(default_factory=list)
    duplicate_tasks: dict[str, list[int]] = field(default_factory=dict)


class _Builder:
    def __init__(self, source: SourceText, stem: str, warnings: list[tuple[int, str]]) -> None:
        self.source = source
        self.lines = source.text.split("\n")
        self.stem = stem
        self.parsed = Parsed(doc=self._empty_doc())
        self.warnings: list[tuple[int, str]] = [*source.warnings, *warnings]
        self.task: Task | None = None
        self.task_level = 0
        self.section: Section | None = None
        self.label: str | None = None
        self.heading_lines: list[int] = []
        self.report: ReportRequirements | None = None
        self.report_level = 0
        self.loose_fences: list[Fence] = []
        self.task_ids: set[str] = set()
        self.task_numbers = FreeNumbers(self.task_ids.__contains__)

    def _empty_doc(self) -> TaskDocument:
        src = Source(
            path=self.source.path, sha256=self.source.sha256, encoding=self.source.encoding
        )
        unknown = StatusInfo(value=Status.UNKNOWN, raw="")
        return TaskDocument(source=src, id=self.stem, title=self.stem, status=unknown)

    # -- driving ---------------------------------------------------------------------------
    def run(self, blocks: list[Block]) -> Parsed:
        doc = self.parsed.doc
        self.parsed.steps.reserved = written_ids(blocks)
        titled = False
        for block in blocks:
            if isinstance(block, Heading):
                if not titled and block.level == 1:
                    self._title(block)
                    titled = True
                    continue
                self._heading(block)
            elif self.task is not None:
                self._task_block(block)
            else:
                self._section_block(block)
        self._close_task()
        if not titled:
            self.warnings.append(
                (1, f"no `# Title` heading; title taken from the file name {self.stem!r}")
            )
        if not doc.tasks:
            self.warnings.append(
                (1, "no `Task N:` headings: nothing to execute (converted as a plan)")
            )
        for section in doc.sections:
            if section.level:
                section.text = self._text_after(section.line)
        doc.warnings = [Warning(line=ln, message=msg) for ln, msg in sorted(set(self.warnings))]
        return self.parsed

    def _text_after(self, heading_line: int) -> str:
        """The source text from below a heading to the next heading (headings come in order)."""
        later = bisect_right(self.heading_lines, heading_line)
        end = self.heading_lines[later] - 1 if later < len(self.heading_lines) else len(self.lines)
        return "\n".join(self.lines[heading_line:end]).strip()

    # -- headings --------------------------------------------------------------------------
    def _title(self, block: Heading) -> None:
        doc = self.parsed.doc
        title, status = split_title(block.text)
        match = _DOC_ID.match(title)
        doc.id = match.group(1) if match else _stem_id(self.stem)
        doc.title = (match.group(2) if match else title) or title
        doc.status = status
        self._open_section(block)

    def _heading(self, block: Heading) -> None:
        match = _TASK.match(block.text)
        if match and block.level >= 2:
            self._close_task()
            self._open_task(block, match.group(1), match.group(2))
            return
        if self.task is not None and block.level > self.task_level:
            self.label = block.text.rstrip(":").strip()  # a sub-heading inside a task labels lists
            return
        self._close_task()
        self._open_section(block)

    def _open_section(self, block: Heading) -> None:
        self.section = Section(title=block.text, level=block.level, line=block.line, text="")
        self.parsed.doc.sections.append(self.section)
        self.heading_lines.append(block.line)
        self.label = None
        if self.report is not None and block.level <= self.report_level:
            self.report = None
        if re.search(r"report\s+documentation\s+requirements", block.text, re.I):
            self.report = ReportRequirements(line=block.line)
            self.report_level = block.level
            self.parsed.doc.report_requirements = self.report

    def _open_task(self, block: Heading, number: str, rest: str) -> None:
        title, status = split_title(rest)
        task_id = number.lower()
        taken = self.task_ids
        if task_id in taken:
            suffix = self.task_numbers.first(f"{task_id}-", 2)
            self.parsed.duplicate_tasks.setdefault(task_id, []).append(block.line)
            self.warnings.append(
                (block.line, f"duplicate task id {task_id}; renamed {task_id}-{suffix}")
            )
            task_id = f"{task_id}-{suffix}"
        taken.add(task_id)
        if status.value is Status.UNKNOWN and status.raw:
            self.warnings.append((block.line, f"unrecognised status {status.raw!r}"))
        parallel = "[P]" in title
        title = title.replace("[P]", "").strip()
        self.task = Task(id=task_id, title=title, status=status, line=block.line, parallel=parallel)
        self.task_level = block.level
        self.label = None
        self.section = None
        self.heading_lines.append(block.line)
        heading_deps = _HEADING_DEPENDS.search(title)
        if heading_deps:
            refs = parse_depends(heading_deps.group(1))
            if refs:
                self._declare_task_deps(refs, block.line)
                self.warnings.append(
                    (block.line, f"dependencies read from the heading: {', '.join(refs)}")
                )

    def _close_task(self) -> None:
        task = self.task
        if task is None:
            return
        ctx = self.parsed.steps
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
        self.parsed.doc.tasks.append(task)
        self.task = None

    # -- blocks inside a task --------------------------------------------------------------
    def _task_block(self, block: Block) -> None:
        task = self.task
        assert task is not None
        if isinstance(block, Paragraph):
            self._task_paragraph(task, block)
        elif isinstance(block, ListBlock):
            self._task_list(task, block)
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

    def _task_paragraph(self, task: Task, block: Paragraph) -> None:
        pieces = _LABEL_SPLIT.split(block.text) if block.text.startswith("**") else [block.text]
        if len(pieces) > 1:  # `**Status**: …` / `**Dependencies**: …` on consecutive lines
            line = block.line
            for piece in pieces:
                line = self._line_of(piece, line)
                self._task_paragraph(task, Paragraph(piece.strip(), line))
            return
        metas = _META.findall(block.text)
        if metas:
            for key, value in metas:
                setattr(task, key.lower(), value.upper())
            return
        match = _LABEL.match(block.text)
        if not match:
            task.description = f"{task.description}\n\n{block.text}".strip()
            return
        label, rest = match.group(1).strip(), match.group(2).strip()
        key = label.lower()
        if key in ("depends on", "dependencies", "depends"):
            self._task_depends(rest, block.line)
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

    def _task_list(self, task: Task, block: ListBlock) -> None:
        key = (self.label or "").lower()
        has_boxes = any(item.checked is not None for item in block.items)
        if key in _STEP_LABELS or (self.label is None and has_boxes):
            ctx = self.parsed.steps
            boxes = [item for item in block.items if item.checked is not None]
            plain = [item for item in block.items if item.checked is None]
            task.steps.extend(build_steps(boxes, task.id, ctx))
            task.notes.extend(self._task_bullets(task, plain))
            return
        if self.label is None:
            task.notes.extend(self._task_bullets(task, block.items))
            return
        self._labelled(task).extend(to_list_item(item) for item in block.items)

    def _task_bullets(self, task: Task, items: list[Item]) -> list[ListItem]:
        """Plain bullets under a task; `Depends on:` and `Execution mode:` are read, not kept."""
        kept: list[ListItem] = []
        for item in items:
            text = item.text
            low = text.lower().replace("*", "")
            if low.startswith(("depends on", "dependencies:")) and not item.children:
                self._task_depends(text.split(":", 1)[1] if ":" in text else "", item.line)
            elif low.startswith("execution mode") and not item.children:
                task.parallel = "parallel" in low
            else:
                kept.append(to_list_item(item))
        return kept

    def _task_depends(self, text: str, line: int) -> None:
        span = _TASK_RANGE.fullmatch(text.strip())
        if span and int(span.group(1)) < int(span.group(2)) <= int(span.group(1)) + 1000:
            refs: list[str] | None = [str(n) for n in range(int(span[1]), int(span[2]) + 1)]
            first, last = str(int(span[1])), str(int(span[2]))
            message = f"dependency range {text.strip()!r} read as tasks {first} to {last}"
            self.warnings.append((line, message))
        else:
            refs = parse_depends(text)
        if refs is None:
            self.parsed.errors.append(
                (line, f"cannot read task dependencies from {text.strip()!r}")
            )
            return
        self._declare_task_deps(refs, line)

    def _declare_task_deps(self, refs: list[str], line: int) -> None:
        assert self.task is not None
        task_id = self.task.id
        known = self.parsed.task_declared.get(task_id, [])
        self.parsed.task_declared[task_id] = known + [r.lstrip("0").lower() or "0" for r in refs]
        self.parsed.task_dep_lines.setdefault(task_id, line)

    def _labelled(self, task: Task) -> list[ListItem]:
        label = self.label or ""
        field_name = _FIELD_LABELS.get(label.lower())
        if field_name is not None:
            items: list[ListItem] = getattr(task, field_name)
            return items
        return task.lists.setdefault(label, [])

    # -- blocks outside tasks --------------------------------------------------------------
    def _section_block(self, block: Block) -> None:
        doc = self.parsed.doc
        section = self.section
        title = (section.title if section else "").lower().rstrip(":")
        if isinstance(block, Paragraph):
            match = _LABEL.match(block.text)
            self.label = match.group(1).strip().lower() if match else self.label
            if match and self.label == "objective" and doc.objective is None:
                doc.objective = match.group(2).strip() or None
            if self.report is not None and "`" in block.text and "naming" in title:
                self.report.naming = block.text.strip().strip("`")
            if title == "objective" and doc.objective is None:
                doc.objective = block.text
            return
        if isinstance(block, Table) and "usage" in title:
            doc.usage.extend(_usage_rows(block))
            return
        if isinstance(block, ListBlock):
            items = [to_list_item(item) for item in block.items]
            if (
                not doc.tasks
                and (self.label == "requirements" or title == "requirements")
                and not doc.requirements
            ):
                doc.requirements = items
                return
            if self.report is not None:
                for item in items:
                    name = _LABEL.match(item.text)
                    if name:
                        self.report.sections.append(name.group(1).strip())
            if section is None:
                self.warnings.append((block.line, "list before any heading"))
                section = Section(title="", level=0, line=block.line, text="")
                self.section = section
                doc.sections.append(section)
            section.items.extend(items)


def _usage_rows(table: Table) -> list[UsageRow]:
    rows: list[UsageRow] = []
    for cells, line in list(zip(table.rows, table.row_lines, strict=True))[1:]:
        padded = [*cells, "", "", "", ""][:4]
        command = padded[0].strip()
        if command.startswith("`") and command.endswith("`") and command.count("`") == 2:
            command = command[1:-1]
        rows.append(
            UsageRow(
                command=command,
                description=padded[1],
                example=padded[2],
                expected_output=padded[3],
                line=line,
            )
        )
    return rows


def _stem_id(stem: str) -> str:
    match = re.search(r"(?:^|_)(\d+[A-Za-z]?)(?:_|$)", stem)
    return match.group(1) if match else stem


def build_document(
    source: SourceText, blocks: list[Block], stem: str, warnings: list[tuple[int, str]]
) -> Parsed:
    """Fold parsed blocks into a TaskDocument (dependencies read, not yet resolved); `warnings`
    are the parser's, kept with the builder's own."""
    return _Builder(source, stem, warnings).run(blocks)
