"""The board's audit trail: every change is recorded by an event written in the transaction that
makes the change, with who made it (`actor`) and when (the database's clock).

Kinds: `task.created`, `task.updated` (any other change: a move, a re-import's changes, a lease
that ended, a retry), `task.claimed`, `task.step_started`, `task.step_completed` (the executor's
steps while `work` runs the task), `task.blocked` (entered `blocked`, with its reason),
`task.completed` (entered `done`), and `quick_run.started`, `quick_run.completed`,
`quick_run.failed`. A change of state is one event whose payload has `from` and `to`.
"""

from __future__ import annotations

from typing import Any

from claude_task_cli.board.records import BoardEvent, dumps, loads
from claude_task_cli.board.states import TaskState
from claude_task_cli.store.engines import Tx

_INSERT = (
    "INSERT INTO board_events (ts, kind, actor, document_id, task_id, quick_run_id, payload)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_FENCED = (
    "INSERT INTO board_events (ts, kind, actor, document_id, task_id, quick_run_id, payload)"
    " SELECT ?, ?, ?, document_id, id, NULL, ? FROM board_tasks WHERE id = ? AND claim_token = ?"
)


def record(
    tx: Tx,
    now: float,
    kind: str,
    actor: str,
    *,
    document_id: int | None = None,
    task_id: int | None = None,
    quick_run_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Append one event inside the caller's transaction."""
    row = (now, kind, actor, document_id, task_id, quick_run_id, dumps(payload or {}))
    tx.execute(_INSERT, row)


def record_fenced(
    tx: Tx, now: float, kind: str, actor: str, task_id: int, token: str, payload: dict[str, Any]
) -> bool:
    """Append a claimed task's event only while `token` holds its claim; False when refused."""
    done = tx.execute(_FENCED, (now, kind, actor, dumps(payload), task_id, token))
    return done.rowcount == 1


def state_kind(target: TaskState) -> str:
    """The event a change of state into `target` is recorded as."""
    if target == TaskState.DONE:
        return "task.completed"
    if target == TaskState.BLOCKED:
        return "task.blocked"
    return "task.updated"


def read_events(tx: Tx, document_id: int | None = None, limit: int | None = None) -> list[Any]:
    """Events in order (of one document, or all); the latest `limit` when given."""
    where = "" if document_id is None else " WHERE e.document_id = ?"
    params: tuple[Any, ...] = () if document_id is None else (document_id,)
    sql = (
        "SELECT e.id, e.ts, e.kind, e.actor, d.path, t.number, e.quick_run_id, e.payload"
        " FROM board_events e LEFT JOIN board_documents d ON d.id = e.document_id"
        " LEFT JOIN board_tasks t ON t.id = e.task_id" + where + " ORDER BY e.id"
    )
    if limit is not None:
        sql = f"SELECT * FROM ({sql} DESC LIMIT {int(limit)}) latest ORDER BY id"
    rows = tx.execute(sql, params).fetchall()
    return [
        BoardEvent(
            id=row[0],
            ts=row[1],
            kind=row[2],
            actor=row[3],
            document=row[4],
            task=row[5],
            quick_run=row[6],
            payload=loads(row[7]),
        )
        for row in rows
    ]
