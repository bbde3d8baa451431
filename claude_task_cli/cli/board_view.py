"""How the board commands print: the board (`task_status` with no TASK), claims, work, events.

Plain lines when piped or with NO_COLOR, a rich table in a terminal, JSON with `--json`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import typer

from claude_task_cli.cli.boundary import plain_output

if TYPE_CHECKING:
    from claude_task_cli.board import BoardEvent, BoardTask
    from claude_task_cli.board.importer import ImportResult
    from claude_task_cli.board.worker import Worked


def show_board(tasks: list[BoardTask]) -> None:
    if not tasks:
        typer.echo("the board is empty: claude-task import DOC records a document's tasks")
        return
    if plain_output():
        typer.echo("\n".join(board_lines(tasks)))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Task board", show_lines=False)
    for column in ("Document", "Task", "State", "Title", "Worker / reason"):
        table.add_column(column)
    for task in tasks:
        table.add_row(task.path, task.number, task.state.value, task.title, _detail(task))
    Console().print(table)


def board_lines(tasks: list[BoardTask]) -> list[str]:
    from claude_task_cli.board.states import ORDER

    lines: list[str] = []
    by_document: dict[tuple[str, str], list[BoardTask]] = {}
    for task in tasks:
        by_document.setdefault((task.repository, task.path), []).append(task)
    for (repository, path), group in by_document.items():
        counts = ", ".join(
            f"{sum(1 for t in group if t.state == s)} {s.value}"
            for s in ORDER
            if any(t.state == s for t in group)
        )
        lines.append(f"{repository}:{path} — {len(group)} tasks: {counts}")
        for state in ORDER:
            for task in (t for t in group if t.state == state):
                detail = _detail(task)
                lines.append(
                    f"  {state.value:<12} task {task.number:<5} {task.title}"
                    + (f" — {detail}" if detail else "")
                )
    return lines


def _detail(task: BoardTask) -> str:
    parts = []
    if task.claim_worker:
        parts.append(f"by {task.claim_worker}")
    if task.reason:
        parts.append(str(task.reason.get("message") or task.reason.get("kind")))
        if task.reason.get("unblock"):
            parts.append(f"unblock: {task.reason['unblock']}")
    if task.changes:
        parts.append(f"changed: {', '.join(task.changes)}")
    if task.attempts:
        parts.append(f"attempts {task.attempts}/{task.max_attempts}")
    return "; ".join(parts)


def import_lines(result: ImportResult, preview: bool) -> list[str]:
    verb = "would record" if preview else "recorded"
    lines = [
        f"{result.repository}:{result.document}: {verb} {len(result.created)} new, "
        f"{len(result.changed)} changed, {len(result.retired)} retired, "
        f"{len(result.unchanged)} unchanged"
    ]
    lines += [f"  new      task {n}" for n in result.created]
    lines += [f"  changed  task {n}: {', '.join(c)}" for n, c in result.changed.items()]
    lines += [f"  retired  task {n}" for n in result.retired]
    return lines


def worked_line(worked: Worked) -> str:
    task = worked.claimed.task
    where = "claim lost" if worked.task is None else worked.task.state.value
    why = f": {worked.execution.message}" if worked.execution.message else ""
    return f"{task.label}: {worked.execution.status} → {where}{why}"


def event_lines(found: list[BoardEvent]) -> list[str]:
    lines = []
    for event in found:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(event.ts))
        what = event.task and f"{event.document} task {event.task}"
        if event.quick_run is not None and not what:
            what = f"quick run {event.quick_run}"
        payload = ", ".join(f"{k}={v}" for k, v in event.payload.items())
        lines.append(f"{when} {event.kind:<20} {event.actor:<16} {what or '-'}  {payload}")
    return lines
