"""`task_status` in a terminal: the completion matrix as a rich table with per-task progress."""

from __future__ import annotations

from rich.console import Console
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from claude_task_cli.cli.terminal_text import terminal_text
from claude_task_cli.report import Completion, Matrix, State

STYLE = {
    State.COMPLETED: "green",
    State.FAILED: "bold red",
    State.SKIPPED: "dim",
    State.PAUSED: "yellow",
    State.AWAITING_CLIENT: "cyan",
    State.RUNNING: "blue",
    State.NOT_RUN: "dim",
}


def _duration(ms: float | None) -> str:
    if ms is None:
        return ""
    return f"{ms:.1f} ms" if ms < 1000 else f"{ms / 1000:.2f} s"


def print_status(matrix: Matrix, console: Console | None = None) -> None:
    console = console or Console()
    run = f"run {matrix.run_id} ({matrix.run_status})" if matrix.has_evidence else "no run recorded"
    verdict_style = "bold green" if matrix.verdict == Completion.COMPLETE else "bold red"
    title = Text.assemble(  # tuples are styled; plain strings are not parsed as markup
        terminal_text(f"{matrix.doc_id}: {matrix.title} — {run} — "),
        (str(matrix.verdict), verdict_style),
        f" {matrix.steps_complete}/{matrix.steps_total} steps ({matrix.step_percent}%), "
        f"{matrix.tasks_complete}/{matrix.tasks_total} tasks ({matrix.task_percent}%)",
        f"; {note}" if (note := matrix.without_engine_note()) else "",
    )
    table = Table(title=title, title_justify="left", show_lines=False, expand=False)
    for column, justify in (
        ("task / step", "left"),
        ("title", "left"),
        ("completion", "left"),
        ("state", "left"),
        ("attempts", "right"),
        ("time", "right"),
        ("failure / blocked by", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    grouped = matrix.by_task()
    for task in matrix.tasks:
        table.add_row(
            Text(terminal_text(f"Task {task.id}"), style="bold"),
            Text(terminal_text(task.title), style="bold"),
            ProgressBar(total=max(task.steps_total, 1), completed=task.steps_complete, width=16),
            Text(f"{task.state} {task.percent}%", style=STYLE[task.state]),
            "",
            _duration(task.duration_ms),
            Text(terminal_text(", ".join(f"task {t}" for t in task.blocked_by)), style="dim"),
            end_section=False,
        )
        rows = grouped[task.id]
        for index, step in enumerate(rows):
            why = step.failure or ""
            if step.blocked_by:
                why += f" [blocked by {', '.join(step.blocked_by)}]"
            table.add_row(  # document text as Text: never parsed as rich markup
                Text(terminal_text(f"  {step.id}")),
                Text(terminal_text(step.title)),
                Text(step.completion_text, style=STYLE[step.state]),
                Text(str(step.state), style=STYLE[step.state]),
                str(step.attempts),
                _duration(step.duration_ms),
                Text(terminal_text(why.strip())),
                end_section=index == len(rows) - 1,
            )
    console.print(table)
    for reason in matrix.reasons:
        console.print(terminal_text(f"  {reason}"), style="red", markup=False, highlight=False)
