"""The facade's board operations, beside `operations.py`: `work` (claim ready tasks and run each
through the executor) and quick runs (one tool call, recorded). The doors call these; the board's
other operations (import, claim, move, events, settings) are `board.Board`'s methods.

```python
with Board.open(database_url(None)) as board:
    report = work_tasks(board, WorkOptions(worker="ci-7", once=True))
    run = quick_run(board, "time", "get_current_time", {"timezone": "UTC"}, actor="ana@host")
```

A document's task runs through `operations.execute_document(doc, path, only_task=…)` (in
`_run_board_task`, the one place the board calls the executor); a promoted quick run by making its
call again.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claude_task_cli.operations import PYTHON_VARIABLE, execute_document, load_document
from claude_task_cli.project import project_root

if TYPE_CHECKING:
    from claude_task_cli.board import Board, Claimed, Execution
    from claude_task_cli.board.quick import QuickRun
    from claude_task_cli.board.worker import WorkOptions, WorkReport
    from claude_task_cli.run.results import RunOutcome
    from claude_task_cli.store.database import Event


def work_tasks(
    board: Board,
    options: WorkOptions,
    *,
    start: Path | None = None,
    on_progress: Callable[[str, Any], None] | None = None,
) -> WorkReport:
    """`work`: claim this project's ready tasks from the board and run each one — a document's
    task through `execute_document(only_task=…)`, a promoted quick run by making its call again —
    its outcome settled on the board under its claim (`board/worker.py`)."""
    from claude_task_cli.board.worker import work

    root = project_root(start or Path.cwd())
    return work(board, lambda c, step: _run_board_task(c, step, root), options, on_progress)


def _run_board_task(
    claimed: Claimed, step_event: Callable[[str, dict[str, Any]], None], root: Path
) -> Execution:
    from claude_task_cli.board import Execution
    from claude_task_cli.errors import RunLockedError

    task = claimed.task
    if task.definition is not None:  # a promoted quick run
        call = task.definition
        _result, error = quick_call(call["server"], call["tool"], call["args"], start=root)
        return Execution("passed" if error is None else "failed", message=error or "")
    path = root / task.path
    if not path.is_file():
        return Execution("failed", message=f"{task.path}: no such file under {root}")
    doc, path = load_document(str(path))
    if task.number not in {t.id for t in doc.tasks}:
        message = f"{task.path} has no task {task.number} now: import it again"
        return Execution("failed", message=message)

    def on_event(event: Event) -> None:
        if event.kind == "step_started":
            step_event("task.step_started", {"step": event.step_id, **event.payload})
        elif event.kind.startswith("step_") and event.kind not in ("step_retried", "step_progress"):
            status = event.kind.removeprefix("step_")
            step_event("task.step_completed", {"step": event.step_id, "status": status})

    try:
        outcome = execute_document(doc, path, only_task=task.number, on_event=on_event)
    except RunLockedError as exc:
        return Execution("busy", message=str(exc))
    return _execution_of(outcome)


def _execution_of(outcome: RunOutcome) -> Execution:
    from claude_task_cli.board import Execution
    from claude_task_cli.outcomes import RunStatus

    if outcome.status == RunStatus.COMPLETED:
        return Execution("passed", run_id=outcome.run_id)
    if outcome.status == RunStatus.PAUSED:
        reasons = [r.model_dump(mode="json", by_alias=True) for r in outcome.pause_reasons]
        return Execution("paused", run_id=outcome.run_id, pause_reasons=reasons)
    failures = [
        {"step": s.step_id, "status": s.status.value, "error": s.error}
        for s in outcome.steps
        if s.selected and s.status.value in ("failed", "skipped")
    ]
    return Execution("failed", run_id=outcome.run_id, failures=failures)


def quick_call(
    server: str, tool: str, args: dict[str, Any], *, start: Path | None = None
) -> tuple[Any, str | None]:
    """One tool call on a server of the project's `.mcp.json`: (its result, its error or None)."""
    import asyncio

    from claude_task_cli.errors import McpConfigError
    from claude_task_cli.mcp.config import find_mcp_config, load_mcp_config
    from claude_task_cli.mcp.sessions import ServerPool

    os.environ.setdefault(PYTHON_VARIABLE, sys.executable)
    here = start or Path.cwd()
    found = find_mcp_config(here)
    if found is None:
        raise McpConfigError(f"no .mcp.json in {here} or above; cannot call {server!r}")
    config = load_mcp_config(found)
    config.get(server)

    async def call() -> Any:
        async with ServerPool(config, allowed={server}, per_server_limit=1) as pool:
            return await pool.call(server, tool, args)

    outcome = asyncio.run(call())
    result = outcome.structured if outcome.structured is not None else outcome.text or None
    return result, (
        outcome.error or outcome.text or "the tool failed"
    ) if outcome.is_error else None


def quick_run(
    board: Board,
    server: str,
    tool: str,
    args: dict[str, Any],
    actor: str,
    *,
    promote: bool = False,
    start: Path | None = None,
) -> QuickRun:
    """`quick`: one tool call made once and recorded on the board; a task only when promoted."""
    from claude_task_cli.board.tasks_of import repository_name
    from claude_task_cli.errors import TaskCliError

    run_id = board.quick_started(server, tool, args, actor)
    repository = repository_name(project_root(start or Path.cwd())) if promote else None
    try:
        result, error = quick_call(server, tool, args, start=start)
    except TaskCliError as exc:
        board.quick_finished(run_id, None, str(exc).splitlines()[0], actor, repository)
        raise
    return board.quick_finished(run_id, result, error, actor, repository)
