"""Quick runs: one tool call, made once and recorded, creating no task unless promoted.

A quick run is a row of `board_quick_runs` with its events (`quick_run.started`, then
`quick_run.completed` or `quick_run.failed`). Promoted (`quick --promote`), it also becomes a task
in `backlog` (source `promoted_quick_action`) of its repository's `quick-runs` list, which holds
no file: the task's definition is the call, and `work` runs it by making the call again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from claude_task_cli.board import events
from claude_task_cli.board.records import dumps, loads
from claude_task_cli.store.engines import Tx

QUICK_PATH = "quick-runs"  # the promoted quick runs' list, in place of a document's path
MAX_ATTEMPTS = 3
BACKOFF = 30.0


@dataclass(frozen=True)
class QuickRun:
    id: int
    server: str
    tool: str
    args: dict[str, Any]
    status: str  # completed | failed
    result: Any
    error: str | None
    promoted_task: str | None  # the task's number in `quick-runs`

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def started(tx: Tx, server: str, tool: str, args: dict[str, Any], actor: str) -> int:
    """Record a quick run as started (committed before the call is made)."""
    now = tx.now()
    run_id: int = tx.execute(
        "INSERT INTO board_quick_runs (server, tool, args, status, actor, started_at)"
        " VALUES (?, ?, ?, 'running', ?, ?) RETURNING id",
        (server, tool, dumps(args), actor, now),
    ).fetchone()[0]
    payload = {"server": server, "tool": tool, "args": args}
    events.record(tx, now, "quick_run.started", actor, quick_run_id=run_id, payload=payload)
    return run_id


def finished(
    tx: Tx,
    run_id: int,
    result: Any,
    error: str | None,
    actor: str,
    promote_to: str | None,
) -> QuickRun:
    """Record how the call went; with `promote_to` (a repository), make it a task there too."""
    now = tx.now()
    status = "failed" if error is not None else "completed"
    tx.execute(
        "UPDATE board_quick_runs SET status = ?, finished_at = ?, result = ?, error = ?"
        " WHERE id = ?",
        (status, now, None if result is None else dumps(result), error, run_id),
    )
    server, tool, args_text = tx.execute(
        "SELECT server, tool, args FROM board_quick_runs WHERE id = ?", (run_id,)
    ).fetchone()
    args = loads(args_text)
    payload: dict[str, Any] = {"status": status}
    if error is not None:
        payload["error"] = error
    events.record(tx, now, f"quick_run.{status}", actor, quick_run_id=run_id, payload=payload)
    number = None
    if promote_to is not None:
        number = _promote(tx, now, run_id, (server, tool, args), promote_to, actor)
    return QuickRun(run_id, server, tool, args, status, result, error, number)


def _promote(
    tx: Tx,
    now: float,
    run_id: int,
    call: tuple[str, str, dict[str, Any]],
    repository: str,
    actor: str,
) -> str:
    server, tool, args = call
    tx.lock(f"board-document:{repository}/{QUICK_PATH}")
    row = tx.execute(
        "SELECT id FROM board_documents WHERE repository = ? AND path = ?",
        (repository, QUICK_PATH),
    ).fetchone()
    if row is None:
        row = tx.execute(
            "INSERT INTO board_documents (repository, path, doc_id, title, sha256, created_at,"
            " imported_at) VALUES (?, ?, 'quick', 'Promoted quick runs', '', ?, ?) RETURNING id",
            (repository, QUICK_PATH, now, now),
        ).fetchone()
    document_id = row[0]
    position = tx.execute(
        "SELECT COUNT(*) FROM board_tasks WHERE document_id = ?", (document_id,)
    ).fetchone()[0]
    number, title = f"q{run_id}", f"{server} {tool}"
    definition = {"server": server, "tool": tool, "args": args, "quick_run": run_id}
    task_id = tx.execute(
        "INSERT INTO board_tasks (document_id, number, title, title_key, position, priority,"
        " priority_rank, state, source, marker, content_sha, auto_ready, created_at, updated_at,"
        " attempts, max_attempts, backoff, definition) VALUES (?, ?, ?, ?, ?, NULL, 2, 'backlog',"
        " 'promoted_quick_action', '', '', 0, ?, ?, 0, ?, ?, ?) RETURNING id",
        (
            document_id,
            number,
            title,
            title.lower(),
            position,
            now,
            now,
            MAX_ATTEMPTS,
            BACKOFF,
            dumps(definition),
        ),
    ).fetchone()[0]
    tx.execute("UPDATE board_quick_runs SET promoted_task_id = ? WHERE id = ?", (task_id, run_id))
    events.record(
        tx,
        now,
        "task.created",
        actor,
        document_id=document_id,
        task_id=task_id,
        quick_run_id=run_id,
        payload={"number": number, "title": title, "state": "backlog", "quick_run": run_id},
    )
    return number
