"""The final summary's pictures, as text: a mermaid dependency graph coloured by state, and a bar
chart of the slowest steps. Labels are escaped (`markdown_escape.mermaid_label`): whatever a title
says stays a label."""

from __future__ import annotations

from claude_task_cli.convert.model import TaskDocument
from claude_task_cli.report.markdown_escape import duration, mermaid_label
from claude_task_cli.report.matrix import Matrix, State

GRAPH_MAX_STEPS = 60  # beyond this the graph shows tasks, not steps (mermaid's own limits)
GRAPH_MAX_TASKS = 80
CHART_MAX_BARS = 25
CHART_WIDTH = 40
STATE_STYLE = {
    State.COMPLETED: "fill:#d4edda,stroke:#1e7e34,color:#000",
    State.FAILED: "fill:#f8d7da,stroke:#b21f2d,color:#000",
    State.SKIPPED: "fill:#e2e3e5,stroke:#6c757d,color:#000",
    State.PAUSED: "fill:#fff3cd,stroke:#b8860b,color:#000",
    State.AWAITING_CLIENT: "fill:#d1ecf1,stroke:#0c5460,color:#000",
    State.RUNNING: "fill:#cce5ff,stroke:#004085,color:#000",
    State.NOT_RUN: "fill:#ffffff,stroke:#6c757d,stroke-dasharray:4 3,color:#000",
}


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
