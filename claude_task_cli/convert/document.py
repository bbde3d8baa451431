"""Blocks → TaskDocument: the title, the sections between headings and what they hold (objective,
requirements, usage table, report requirements); tasks are read by `tasks.TaskReader`.

Dependencies are only *read* here (ids and the line they were declared on); `graph.py` applies the
defaults, checks them and computes the waves.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from claude_task_cli.convert.blocks import Block, Heading, ListBlock, Paragraph, Table
from claude_task_cli.convert.model import (
    ReportRequirements,
    Section,
    Source,
    Status,
    StatusInfo,
    TaskDocument,
    UsageRow,
    Warning,
)
from claude_task_cli.convert.source import SourceText
from claude_task_cli.convert.status_marks import split_title
from claude_task_cli.convert.steps import StepContext, to_list_item, written_ids
from claude_task_cli.convert.tasks import LABEL, TASK_HEADING, TaskDependencies, TaskReader

_DOC_ID = re.compile(r"^task\s+#?(\d+[A-Za-z]?)\s*[:.\-–—]?\s*(.*)$", re.I)
_REPORT = re.compile(r"report\s+documentation\s+requirements", re.I)


@dataclass
class Parsed:
    """The document plus what the graph stage needs to check it."""

    doc: TaskDocument
    tasks: TaskDependencies
    steps: StepContext
    errors: list[tuple[int, str]] = field(default_factory=list)


class _Builder:
    def __init__(self, source: SourceText, stem: str, warnings: list[tuple[int, str]]) -> None:
        self.lines = source.text.split("\n")
        self.stem = stem
        self.doc = TaskDocument(
            source=Source(path=source.path, sha256=source.sha256, encoding=source.encoding),
            id=stem,
            title=stem,
            status=StatusInfo(value=Status.UNKNOWN, raw=""),
        )
        self.warnings: list[tuple[int, str]] = [*source.warnings, *warnings]
        self.errors: list[tuple[int, str]] = []
        self.steps = StepContext()
        self.tasks = TaskReader(self.doc, self.steps, self.lines, self.warnings, self.errors)
        self.section: Section | None = None
        self.label: str | None = None
        self.heading_lines: list[int] = []
        self.report: ReportRequirements | None = None
        self.report_level = 0

    def run(self, blocks: list[Block]) -> Parsed:
        doc = self.doc
        self.steps.reserved = written_ids(blocks)
        titled = False
        for block in blocks:
            if isinstance(block, Heading):
                if not titled and block.level == 1:
                    self._title(block)
                    titled = True
                    continue
                self._heading(block)
            elif self.tasks.task is not None:
                self.tasks.read(block)
            else:
                self._section_block(block)
        self.tasks.close()
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
        return Parsed(doc=doc, tasks=self.tasks.dependencies, steps=self.steps, errors=self.errors)

    def _text_after(self, heading_line: int) -> str:
        """The source text from below a heading to the next heading (headings come in order)."""
        later = bisect_right(self.heading_lines, heading_line)
        end = self.heading_lines[later] - 1 if later < len(self.heading_lines) else len(self.lines)
        return "\n".join(self.lines[heading_line:end]).strip()

    def _title(self, block: Heading) -> None:
        doc = self.doc
        title, status = split_title(block.text)
        match = _DOC_ID.match(title)
        doc.id = match.group(1) if match else _stem_id(self.stem)
        doc.title = (match.group(2) if match else title) or title
        doc.status = status
        self.tasks.label = None  # a title after a task's heading ends that task's labelled list
        self._open_section(block)

    def _heading(self, block: Heading) -> None:
        match = TASK_HEADING.match(block.text)
        if match and block.level >= 2:
            self.tasks.open(block, match.group(1), match.group(2))
            self.section = None
            self.heading_lines.append(block.line)
            return
        if self.tasks.sub_heading(block):
            return
        self.tasks.close()
        self._open_section(block)

    def _open_section(self, block: Heading) -> None:
        self.section = Section(title=block.text, level=block.level, line=block.line, text="")
        self.doc.sections.append(self.section)
        self.heading_lines.append(block.line)
        self.label = None
        if self.report is not None and block.level <= self.report_level:
            self.report = None
        if _REPORT.search(block.text):
            self.report = ReportRequirements(line=block.line)
            self.report_level = block.level
            self.doc.report_requirements = self.report

    def _section_block(self, block: Block) -> None:
        """A block outside any task: what the section it sits in makes of it."""
        doc = self.doc
        section = self.section
        title = (section.title if section else "").lower().rstrip(":")
        if isinstance(block, Paragraph):
            match = LABEL.match(block.text)
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
                    name = LABEL.match(item.text)
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
