"""What the report templates are given: the document's text and the run's evidence, joined per
task and step, plus the pictures (a mermaid dependency graph, a duration bar chart) as text.

Everything is computed here, in a stable order, from the document and the recorded run: nothing
from the clock, nothing invented. Templates only lay it out.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from claude_task_cli.convert.model import ListItem, Step, Task, TaskDocument
from claude_task_cli.report.evidence import CommandEvidence, RunEvidence, StepEvidence
from claude_task_cli.report.failure_text import describe_reason
from claude_task_cli.report.markdown_escape import duration, mermaid_label
from claude_task_cli.report.matrix import Completion, Matrix, State, StepRow, TaskRow

GRAPH_MAX_STEPS = 60  # beyond this the graph shows tasks, not steps (mermaid's own limits)
GRAPH_MAX_TASKS = 80
CHART_MAX_BARS = 25
CHART_WIDTH = 40
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^\s)]+)\)|(?<![(<\[])(https?://[^\s)>\]`'\"]+)")
_SLUG = re.compile(r"[^a-z0-9]+")
_SAFE_ID = re.compile(r"[^A-Za-z0-9.-]+")
_REPORT_NAME = re.compile(r"(?<![\w.])([\w.-]+?)_task_([\w.-]+?)_([\w-]+)\.md")
STATE_STYLE = {
    State.COMPLETED: "fill:#d4edda,stroke:#1e7e34,color:#000",
    State.FAILED: "fill:#f8d7da,stroke:#b21f2d,color:#000",
    State.SKIPPED: "fill:#e2e3e5,stroke:#6c757d,color:#000",
    State.PAUSED: "fill:#fff3cd,stroke:#b8860b,color:#000",
    State.AWAITING_CLIENT: "fill:#d1ecf1,stroke:#0c5460,color:#000",
    State.RUNNING: "fill:#cce5ff,stroke:#004085,color:#000",
    State.NOT_RUN: "fill:#ffffff,stroke:#6c757d,stroke-dasharray:4 3,color:#000",
}


@dataclass(frozen=True)
class Item:
    """A list item of the document, flattened: `depth` 0 is top level."""

    text: str
    checked: bool | None
    depth: int


@dataclass(frozen=True)
class Link:
    text: str
    url: str


@dataclass(slots=True)
class StepView:
    """One step as the templates see it (built by `task_views`)."""

    row: StepRow
    step: Step | None  # None for a task without steps (its single unit)
    evidence: StepEvidence | None
    has_tool: bool  # the step calls an MCP tool of its own
    result_lang: str  # how its output is fenced: json, or text
    reason: dict[str, Any] | None  # the pause reason's JSON contract (camelCase, `type`)
    reason_text: str
    commands: list[tuple[int, CommandEvidence]]  # the evidence's commands, numbered from 1


def step_view(row: StepRow, step: Step | None, evidence: StepEvidence | None) -> StepView:
    result = evidence.result if evidence is not None else None
    pause = evidence.pause_reason if evidence is not None else None
    reason = pause.model_dump(mode="json", by_alias=True) if pause is not None else None
    return StepView(
        row,
        step,
        evidence,
        step is not None and step.tool is not None,
        "text" if isinstance(result, str) else "json",
        reason,
        describe_reason(reason) if reason else "",
        list(enumerate(evidence.commands, 1)) if evidence is not None and evidence.commands else [],
    )


@dataclass(frozen=True)
class TaskView:
    task: Task
    row: TaskRow
    file_name: str
    steps: list[StepView]
    research: list[Item]
    verification: list[Item]
    acceptance: list[Item]
    specifications: list[Item]
    links: list[Link]
    warnings: list[str] = field(default_factory=list)
    ran: list[StepView] = field(init=False)  # steps with recorded evidence
    incomplete: list[StepView] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ran", [s for s in self.steps if s.evidence is not None])
        done = Completion.COMPLETE
        object.__setattr__(self, "incomplete", [s for s in self.steps if s.row.completion != done])


def flatten(items: list[ListItem], depth: int = 0) -> list[Item]:
    out: list[Item] = []
    for item in items:
        out.append(Item(item.text, item.checked, depth))
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
                seen[target] = Link(label or target, target)
    return list(seen.values())


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
    report (`…/003_task_1_converter.md`, as the seed writes), else its title."""
    feature = None
    for text in texts if texts is not None else _task_texts(task):
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


def _task_texts(task: Task) -> list[str]:
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


def task_views(
    doc: TaskDocument, matrix: Matrix, run: RunEvidence | None, suffix: str = ".md"
) -> list[TaskView]:
    steps = {s.id: s for _task, s in doc.all_steps()}
    recorded = run.steps if run is not None else {}
    grouped = matrix.by_task()
    warnings = _warnings_by_task(doc)
    out = []
    for task, row in zip(doc.tasks, matrix.tasks, strict=True):
        # one text to scan: no link or report name spans a line, so the matches are the same
        texts = ["\n".join(_task_texts(task))]
        views = [step_view(r, steps.get(r.id), recorded.get(r.id)) for r in grouped[task.id]]
        out.append(
            TaskView(
                task=task,
                row=row,
                file_name=task_file_name(doc, task, suffix, texts),
                steps=views,
                research=flatten(task.research),
                verification=flatten(task.verification),
                acceptance=flatten(task.acceptance_criteria),
                specifications=flatten(task.specifications),
                links=links_in(texts),
                warnings=warnings.get(task.id, []),
            )
        )
    return out


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


def dependency_graph(doc: TaskDocument, matrix: Matrix) -> tuple[str | None, str]:
    """A mermaid flowchart coloured by state, and a note on what it shows."""
    if matrix.steps_total <= GRAPH_MAX_STEPS:
        return _step_graph(doc, matrix), "Each box is a step, grouped by task, coloured by state."
    if matrix.tasks_total <= GRAPH_MAX_TASKS:
        note = (
            f"{matrix.steps_total} steps are too many to draw; each box is a task, coloured by "
            "its most urgent state."
        )
        return _task_graph(doc, matrix), note
    return None, (
        f"Not drawn: {matrix.tasks_total} tasks and {matrix.steps_total} steps exceed what a "
        "mermaid diagram can show; the matrix above lists every dependency."
    )


def _class_lines(used: set[State]) -> list[str]:
    return [f"    classDef {s.value} {STATE_STYLE[s]}" for s in State if s in used]


def _step_graph(doc: TaskDocument, matrix: Matrix) -> str:
    node = {row.id: f"s{i}" for i, row in enumerate(matrix.steps)}
    grouped = matrix.by_task()
    lines = ["flowchart TD"]
    for t_index, task in enumerate(matrix.tasks):
        lines.append(f'    subgraph t{t_index}["{mermaid_label(f"Task {task.id}: {task.title}")}"]')
        for row in grouped[task.id]:
            label = mermaid_label(f"{row.id} {row.title}") + "<br/>" + row.state.value
            lines.append(f'        {node[row.id]}["{label}"]:::{row.state.value}')
        lines.append("    end")
    task_node = {t.id: f"t{i}" for i, t in enumerate(matrix.tasks)}
    units = {row.id: row for row in matrix.steps}
    steps = {s.id: s for _t, s in doc.all_steps()}
    for row in matrix.steps:
        step = steps.get(row.id)
        for dep in step.depends_on if step is not None else []:
            if dep in units:
                lines.append(f"    {node[dep]} --> {node[row.id]}")
    for written in doc.tasks:
        for dep in written.depends_on:
            if dep in task_node:
                lines.append(f"    {task_node[dep]} --> {task_node[written.id]}")
    lines.extend(_class_lines({row.state for row in matrix.steps}))
    return "\n".join(lines)


def _task_graph(doc: TaskDocument, matrix: Matrix) -> str:
    node = {t.id: f"t{i}" for i, t in enumerate(matrix.tasks)}
    lines = ["flowchart TD"]
    for task in matrix.tasks:
        label = mermaid_label(f"Task {task.id}: {task.title}")
        extra = f"<br/>{task.steps_complete}/{task.steps_total} steps"
        lines.append(f'    {node[task.id]}["{label}{extra}"]:::{task.state.value}')
    for written in doc.tasks:
        for dep in written.depends_on:
            if dep in node:
                lines.append(f"    {node[dep]} --> {node[written.id]}")
    lines.extend(_class_lines({t.state for t in matrix.tasks}))
    return "\n".join(lines)


def duration_chart(matrix: Matrix) -> tuple[list[str], str]:
    """Bars of the slowest steps (time of all their calls), and a note on what is shown."""
    timed = [r for r in matrix.steps if r.duration_ms is not None]
    if not timed:
        return [], "No step durations were recorded."
    ranked = sorted(timed, key=lambda r: -(r.duration_ms or 0.0))[:CHART_MAX_BARS]
    longest = max(r.duration_ms or 0.0 for r in ranked) or 1.0
    width = max(len(r.id) for r in ranked)
    bars = []
    for r in ranked:
        ms = r.duration_ms or 0.0
        filled = max(1, round(CHART_WIDTH * ms / longest)) if ms > 0 else 0
        bars.append(
            f"{r.id.ljust(width)} {'█' * filled}{' ' * (CHART_WIDTH - filled)} {duration(ms)}"
        )
    shown = len(ranked)
    note = (
        f"The {shown} slowest of {len(timed)} timed steps."
        if shown < len(timed)
        else f"All {len(timed)} timed steps, slowest first."
    )
    return bars, note
