"""What the report templates are given: plain data, built from the document, the run's evidence
and the completion matrix, joined per task and step.

Templates are the user's to override (a project's `templates/`), and run in Jinja's sandbox. What
they receive is JSON-shaped data only — dicts, lists, strings, numbers, booleans, None — never
the converter's, the store's or the matrix's objects, whose attributes and methods lead elsewhere.
Each shape is a `TypedDict` below; `templates/README.md` documents them for template authors.
A key is read in a template as `row.id` or `row["id"]` (the second form for a key that is also
the name of a mapping's method, such as `items`).

Everything is computed here, in a stable order, from the document and the recorded run: nothing
from the clock, nothing invented. Templates only lay it out.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any, TypedDict

from claude_task_cli.convert.model import ListItem, Step, Task, TaskDocument
from claude_task_cli.report.evidence import CommandEvidence, RunEvidence, StepEvidence
from claude_task_cli.report.failure_text import describe_reason
from claude_task_cli.report.files import task_file_name, task_texts
from claude_task_cli.report.matrix import Completion, Matrix

_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^\s)]+)\)|(?<![(<\[])(https?://[^\s)>\]`'\"]+)")


class Item(TypedDict):
    """A list item of the document, flattened: `depth` 0 is top level."""

    text: str
    checked: bool | None
    depth: int


class Link(TypedDict):
    text: str
    url: str


class TaskData(TypedDict):
    """A task of the document, as written (its steps are in its view's `steps`)."""

    id: str
    title: str
    status: dict[str, str]  # value (normalised), raw (as written)
    line: int
    priority: str | None
    complexity: str | None
    impact: str | None
    depends_on: list[str]
    parallel: bool
    description: str


class StepData(TypedDict):
    """A step of the document, as written."""

    id: str
    title: str
    checked: bool
    line: int
    depends_on: list[str]
    parallel: bool
    tool: dict[str, Any] | None  # server, tool, retryable, line
    commands: list[dict[str, Any]]  # lang, script, line


class StepView(TypedDict):
    """One step as the templates see it."""

    row: dict[str, Any]  # its matrix row
    step: StepData | None  # None for a task without steps (its single unit)
    evidence: StepEvidence | None
    has_tool: bool  # the step calls an MCP tool of its own
    result_lang: str  # how its output is fenced: json, or text
    reason: dict[str, Any] | None  # the pause reason's JSON contract (camelCase, `type`)
    reason_text: str
    commands: list[list[Any]]  # [number, command evidence] pairs, numbered from 1


class TaskView(TypedDict):
    task: TaskData
    row: dict[str, Any]  # its matrix row
    file_name: str
    steps: list[StepView]
    research: list[Item]
    verification: list[Item]
    acceptance: list[Item]
    specifications: list[Item]
    links: list[Link]
    warnings: list[str]
    ran: list[StepView]  # steps with recorded evidence
    incomplete: list[StepView]


@dataclass(frozen=True)
class ReportData:
    """Everything the templates of one document's reports are given, built once."""

    document: dict[str, Any]
    matrix: dict[str, Any]
    tasks: list[TaskView]
    document_links: list[Link]


def report_data(
    doc: TaskDocument, matrix: Matrix, run: RunEvidence | None, suffix: str = ".md"
) -> ReportData:
    """The document, the matrix and every task's view, as plain data."""
    tasks = [_task_data(t) for t in doc.tasks]
    data = matrix_data(matrix)
    rows = {row["id"]: row for row in data["steps"]}
    steps = {s.id: s for _task, s in doc.all_steps()}
    recorded = run["steps"] if run is not None else {}
    rows_of = matrix.by_task()
    warnings = _warnings_by_task(doc)
    views = []
    for task, task_data, row in zip(doc.tasks, tasks, data["tasks"], strict=True):
        # one text to scan: no link or report name spans a line, so the matches are the same
        texts = ["\n".join(task_texts(task))]
        own = [step_view(rows[r.id], steps.get(r.id), recorded.get(r.id)) for r in rows_of[task.id]]
        views.append(
            TaskView(
                task=task_data,
                row=row,
                file_name=task_file_name(doc, task, suffix, texts),
                steps=own,
                research=flatten(task.research),
                verification=flatten(task.verification),
                acceptance=flatten(task.acceptance_criteria),
                specifications=flatten(task.specifications),
                links=links_in(texts),
                warnings=warnings.get(task.id, []),
                ran=[s for s in own if s["evidence"] is not None],
                incomplete=[s for s in own if s["row"]["completion"] != Completion.COMPLETE],
            )
        )
    return ReportData(_document_data(doc, tasks), data, views, document_links(doc))


def matrix_data(matrix: Matrix) -> dict[str, Any]:
    """`Matrix.to_dict()`, with what the templates also read: `has_evidence`,
    `complete_without_engine`, and each step row's `completion_text`."""
    data: dict[str, Any] = dict(matrix.to_dict())
    data["has_evidence"] = matrix.has_evidence
    data["complete_without_engine"] = matrix.complete_without_engine
    for row, step in zip(data["steps"], matrix.steps, strict=True):
        row["completion_text"] = step.completion_text
    return data


def step_view(row: dict[str, Any], step: Step | None, evidence: StepEvidence | None) -> StepView:
    reason = evidence["pause_reason"] if evidence is not None else None
    text_result = evidence is not None and isinstance(evidence["result"], str)
    return StepView(
        row=row,
        step=None if step is None else _step_data(step),
        evidence=evidence,
        has_tool=step is not None and step.tool is not None,
        result_lang="text" if text_result else "json",
        reason=reason,
        reason_text=describe_reason(reason) if reason else "",
        commands=_numbered(evidence["commands"]) if evidence is not None else [],
    )


def _numbered(commands: list[CommandEvidence]) -> list[list[Any]]:
    return [[number, command] for number, command in enumerate(commands, 1)]


def _document_data(doc: TaskDocument, tasks: list[TaskData]) -> dict[str, Any]:
    return {
        "schema_version": doc.schema_version,
        "id": doc.id,
        "title": doc.title,
        "status": {"value": doc.status.value.value, "raw": doc.status.raw},
        "objective": doc.objective,
        "source": {
            "path": doc.source.path,
            "sha256": doc.source.sha256,
            "encoding": doc.source.encoding,
        },
        "requirements": flatten(doc.requirements),
        "sections": [
            {"title": s.title, "level": s.level, "line": s.line, "text": s.text}
            for s in doc.sections
        ],
        "tasks": tasks,
        "usage": [
            {
                "command": u.command,
                "description": u.description,
                "example": u.example,
                "expected_output": u.expected_output,
                "line": u.line,
            }
            for u in doc.usage
        ],
        "warnings": [{"line": w.line, "message": w.message} for w in doc.warnings],
    }


def _task_data(task: Task) -> TaskData:
    return TaskData(
        id=task.id,
        title=task.title,
        status={"value": task.status.value.value, "raw": task.status.raw},
        line=task.line,
        priority=task.priority,
        complexity=task.complexity,
        impact=task.impact,
        depends_on=list(task.depends_on),
        parallel=task.parallel,
        description=task.description,
    )


def _step_data(step: Step) -> StepData:
    tool = step.tool
    return StepData(
        id=step.id,
        title=step.title,
        checked=step.checked,
        line=step.line,
        depends_on=list(step.depends_on),
        parallel=step.parallel,
        tool=None
        if tool is None
        else {
            "server": tool.server,
            "tool": tool.tool,
            "retryable": tool.retryable,
            "line": tool.line,
        },
        commands=[{"lang": c.lang, "script": c.script, "line": c.line} for c in step.commands],
    )


def flatten(items: list[ListItem], depth: int = 0) -> list[Item]:
    out: list[Item] = []
    for item in items:
        out.append(Item(text=item.text, checked=item.checked, depth=depth))
        if item.children:
            out.extend(flatten(item.children, depth + 1))
    return out


def links_in(texts: list[str]) -> list[Link]:
    """Markdown links and bare URLs in `texts`, first occurrence of each URL, in order."""
    seen: dict[str, Link] = {}
    for text in texts:
        if "://" not in text:
            continue
        for match in _LINK.finditer(text):
            label, url, bare = match.groups()
            target = (url or bare or "").rstrip(".,;:")
            if target and target not in seen:
                seen[target] = Link(text=label or target, url=target)
    return list(seen.values())


def _warnings_by_task(doc: TaskDocument) -> dict[str, list[str]]:
    """The converter's warnings, each under the task whose lines hold it."""
    starts = sorted((t.line, t.id) for t in doc.tasks)
    lines = [line for line, _id in starts]
    out: dict[str, list[str]] = {}
    for warning in doc.warnings:
        index = bisect.bisect_right(lines, warning.line) - 1
        if index >= 0:
            out.setdefault(starts[index][1], []).append(f"line {warning.line}: {warning.message}")
    return out


def document_links(doc: TaskDocument) -> list[Link]:
    """Links the document names outside its tasks (its Resources, Documentation, ... sections)."""
    return links_in([s.text for s in doc.sections])
