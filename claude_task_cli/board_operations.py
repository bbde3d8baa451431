"""The facade's board operations, beside `operations.py`: opening the board, claiming and moving
a task and the board's view as both doors show them, `work` (claim ready tasks and run each
through the executor) and quick runs (one tool call, recorded). The board's other operations
(import, events, settings) are `board.Board`'s methods.

```python
with open_board() as board:
    claim = claim_task(board, "ci-7", 60.0, claim_limits())
    moved = move_task(board, "010", "2", "in_review", actor="ana@host")
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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claude_task_cli.operations import PYTHON_VARIABLE, execute_document, load_document
from claude_task_cli.project import project_root

if TYPE_CHECKING:
    from claude_task_cli.board import Board, BoardTask, Claimed, Execution, Limits
    from claude_task_cli.board.quick import QuickRun
    from claude_task_cli.board.worker import WorkOptions, WorkReport
    from claude_task_cli.run.results import RunOutcome
    from claude_task_cli.store.database import Event
    from claude_task_cli.store.urls import DatabaseUrl


def open_board(db: str | None = None, *, start: Path | None = None, create: bool = True) -> Board:
    """The board at `db` (`sqlite:///PATH`, `postgresql://…`), else `$CLAUDE_TASK_DB`, else the
    state database of the project found from `start` (default: the working directory). With
    `create=False` a SQLite file that does not exist yet is not created: an empty board in
    memory stands in for it (looking at the board writes nothing)."""
    from claude_task_cli.board import Board
    from claude_task_cli.store.engines import DatabaseUrl, database_url

    url = database_url(db, start)
    if not create and url.path is not None and not url.path.exists():
        url = DatabaseUrl("sqlite", ":memory:", Path(":memory:"))
    return Board.open(url)


def board_view(board: Board) -> dict[str, Any]:
    """The board as `task_status --json` without TASK prints it: every document's tasks grouped
    by state, and the totals."""
    from claude_task_cli.board import board_json

    return board_json(board.tasks())


def claim_limits(
    per_worker: int | None = None,
    per_repository: int | None = None,
    any_repository: bool = False,
    *,
    start: Path | None = None,
) -> Limits:
    """A claim's limits: tasks in progress per worker and per repository, and only the
    repository of the project found from `start` unless `any_repository`."""
    from claude_task_cli.board import Limits
    from claude_task_cli.project import repository_name

    mine = None if any_repository else (repository_name(project_root(start or Path.cwd())),)
    return Limits(repositories=mine, per_worker=per_worker, per_repository=per_repository)


@dataclass(frozen=True)
class ClaimAnswer:
    """What a claim got: the claim, or None and why nothing was claimed."""

    worker: str
    claimed: Claimed | None
    reason: str = ""

    @property
    def nothing_to_do(self) -> bool:
        """The task named is done already: nothing was claimed, and nothing needed to be."""
        return self.claimed is None and self.reason.endswith("nothing to do")

    def to_dict(self) -> dict[str, Any]:
        """As `claim --json` prints it: the claim, or `{"claimed": false, "worker", "reason"}`."""
        if self.claimed is not None:
            return self.claimed.to_dict()
        return {"claimed": False, "worker": self.worker, "reason": self.reason}


def claim_task(
    board: Board,
    worker: str,
    lease: float,
    limits: Limits,
    document: str | None = None,
    task: str | None = None,
) -> ClaimAnswer:
    """`claim`: atomically claim the best ready task — or the one `document` and `task` name —
    and move it to in_progress for `lease` seconds. A named task the rules refuse raises
    `TransitionError` (the rule and the blocker)."""
    from claude_task_cli.errors import InputError

    if document is None and task is None:
        claimed, why = board.claim(worker, lease, limits)
    elif task is None:
        raise InputError(str(document), "name the TASK to claim too (or neither)")
    elif document is None:
        raise InputError(task, "name the document of the task to claim too (or neither)")
    else:
        claimed, why = board.claim_task(document, task, worker, lease, limits)
    return ClaimAnswer(worker, claimed, why)


@dataclass(frozen=True)
class Moved:
    """A task after a manual move, and whether the move changed it."""

    task: BoardTask
    changed: bool

    def to_dict(self) -> dict[str, Any]:
        """As `move --json` prints it: the task, and `changed`."""
        return {**self.task.to_dict(), "changed": self.changed}


def move_task(
    board: Board,
    document: str,
    task: str,
    state: str,
    actor: str,
    *,
    reason: str | None = None,
    force: bool = False,
) -> Moved:
    """`move`: a manual transition of `document`'s `task` to `state` (a state's name), recorded
    as `actor`'s with `reason`; `force` enters in_progress without a claim. A move the rules
    refuse raises `TransitionError` (the rule and the blocker; nothing changed); a move to the
    task's own state changes nothing."""
    from claude_task_cli.board import parse_state
    from claude_task_cli.errors import InputError

    try:
        target = parse_state(state)
    except ValueError as exc:
        raise InputError(state, str(exc)) from None
    moved, changed = board.move(document, task, target, actor, note=reason, force=force)
    return Moved(moved, changed)


def work_tasks(
    board: Board,
    options: WorkOptions,
    *,
    start: Path | None = None,
    on_progress: Callable[[str, Any], None] | None = None,
) -> WorkReport:
    """`work`: claim this project's ready tasks from the board and run each one — a document's
    task through `execute_document` with `RunOptions(only_task=…)`, a promoted quick run by making
    its call again — its outcome settled on the board under its claim (`board/worker.py`)."""
    from claude_task_cli.board.worker import work

    root = project_root(start or Path.cwd())
    runs = board.db.url  # the runs of its tasks are kept where the board is
    return work(board, lambda c, step: _run_board_task(c, step, root, runs), options, on_progress)


def _run_board_task(
    claimed: Claimed,
    step_event: Callable[[str, dict[str, Any]], None],
    root: Path,
    runs: DatabaseUrl,
) -> Execution:
    from claude_task_cli.board import Execution
    from claude_task_cli.errors import RunLockedError
    from claude_task_cli.run.options import RunOptions

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
        options = RunOptions(only_task=task.number, state=runs)
        outcome = execute_document(doc, path, options, on_event=on_event)
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
    from claude_task_cli.mcp.client_side import ClientSide
    from claude_task_cli.mcp.config import find_mcp_config, load_mcp_config
    from claude_task_cli.mcp.sessions import ServerPool

    os.environ.setdefault(PYTHON_VARIABLE, sys.executable)
    here = start or Path.cwd()
    found = find_mcp_config(here)
    if found is None:
        raise McpConfigError(f"no .mcp.json in {here} or above; cannot call {server!r}")
    config = load_mcp_config(found)
    config.get(server)

    client = ClientSide(roots=(project_root(here),))  # as a run offers its servers

    async def call() -> Any:
        async with ServerPool(config, allowed={server}, per_server_limit=1, client=client) as pool:
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
    from claude_task_cli.errors import TaskCliError
    from claude_task_cli.project import repository_name

    run_id = board.quick_started(server, tool, args, actor)
    repository = repository_name(project_root(start or Path.cwd())) if promote else None
    try:
        result, error = quick_call(server, tool, args, start=start)
    except TaskCliError as exc:
        board.quick_finished(run_id, None, str(exc).splitlines()[0], actor, repository)
        raise
    return board.quick_finished(run_id, result, error, actor, repository)
