"""Moving a task from one state to another inside the caller's transaction: the rules of
`states.py` judged on what the database holds now, the change, its event, and what it releases.

Every move goes through `apply`: a manual one (`claude-task move`), a claim's, a worker's outcome
(fenced by its claim token: refused with `ClaimLostError` when the token no longer holds), and
the scheduler's own (a lease that ended, a retry: `system=True`, the allowed `in_progress → ready`
without the dependency guard, since the task was claimed with its blockers resolved and the
ready queue waits for them anyway). Leaving `in_progress` releases the claim; entering `blocked`
stores the reason; entering `done` (or `cancelled`, when that resolves blockers) re-evaluates
the dependents: a dependent in `backlog` marked `auto_ready` (`import --ready`) whose blockers are
now all resolved moves to `ready` in the same transaction.
"""

from __future__ import annotations

from typing import Any

from claude_task_cli.board import events
from claude_task_cli.board.errors import ClaimLostError, TransitionError
from claude_task_cli.board.records import BoardTask, dumps
from claude_task_cli.board.schema import TASK_COLUMNS, TASKS_FROM
from claude_task_cli.board.states import GUARDED, Move, Policy, TaskState, check_move
from claude_task_cli.errors import InputError
from claude_task_cli.store.engines import Tx

S = TaskState


def load_task(tx: Tx, task_id: int) -> BoardTask:
    row = tx.execute(f"SELECT {TASK_COLUMNS} FROM {TASKS_FROM} WHERE t.id = ?", (task_id,))
    found = row.fetchone()
    if found is None:
        raise InputError(str(task_id), "no such task on the board")
    return BoardTask.of(found)


def resolved_sql(policy: Policy) -> str:
    """`('done', 'cancelled')` or `('done')`: the states that resolve a blocker, as SQL."""
    return "(" + ", ".join(f"'{state.value}'" for state in policy.resolved()) + ")"


def unresolved(tx: Tx, task_id: int, policy: Policy) -> tuple[str, ...]:
    """The task's blockers that are not resolved, as `task 2 (in_progress)`."""
    rows = tx.execute(
        "SELECT b.number, b.state FROM board_edges e JOIN board_tasks b ON b.id = e.blocker_id"
        " WHERE e.task_id = ? AND b.retired_at IS NULL AND b.state NOT IN "
        + resolved_sql(policy)
        + " ORDER BY b.position",
        (task_id,),
    ).fetchall()
    return tuple(f"task {number} ({state})" for number, state in rows)


def apply(
    tx: Tx,
    now: float,
    task: BoardTask,
    target: TaskState,
    actor: str,
    policy: Policy,
    *,
    reason: dict[str, Any] | None = None,
    note: str | None = None,
    claimed: bool = False,
    forced: bool = False,
    token: str | None = None,
    system: bool = False,
    payload: dict[str, Any] | None = None,
) -> BoardTask:
    """Move `task` to `target` if the rules allow it (`TransitionError` naming the rule and the
    blocker otherwise); `token` fences the write. Returns the task as it now is."""
    if token is not None and task.claim_token != token:
        raise ClaimLostError(task.label)
    blockers = unresolved(tx, task.id, policy) if target in GUARDED and not system else ()
    try:
        check_move(Move(task.state, target, claimed, forced, blockers), policy)
    except TransitionError as exc:
        raise exc.at(task.label) from None
    sets = ["state = ?", "updated_at = ?", "changes = NULL", "reason = ?"]
    params: list[Any] = [target.value, now, None if reason is None else dumps(reason)]
    if task.state == S.IN_PROGRESS:
        sets += ["claim_token = NULL", "claim_worker = NULL", "lease_until = NULL"]
    if target == S.IN_PROGRESS and forced and not claimed:
        sets += ["claim_worker = ?", "attempts = attempts + 1"]
        params.append(actor)
    if target == S.READY and task.state == S.BLOCKED:
        sets += ["attempts = 0", "not_before = NULL"]  # a person's retry starts the policy anew
    where = "id = ?" if token is None else "id = ? AND claim_token = ?"
    params += [task.id] if token is None else [task.id, token]
    done = tx.execute(f"UPDATE board_tasks SET {', '.join(sets)} WHERE {where}", params)
    if done.rowcount != 1:
        raise ClaimLostError(task.label)
    details: dict[str, Any] = {"from": task.state.value, "to": target.value}
    if forced:
        details["forced"] = True
    if note:
        details["note"] = note
    if reason is not None:
        details["reason"] = reason
    details.update(payload or {})
    events.record(
        tx,
        now,
        events.state_kind(target),
        actor,
        document_id=task.document_id,
        task_id=task.id,
        payload=details,
    )
    if target in policy.resolved():
        promote_dependents(tx, now, task.id, actor, policy)
    return load_task(tx, task.id)


def promote_dependents(tx: Tx, now: float, task_id: int, actor: str, policy: Policy) -> None:
    """Re-evaluate the ready queue after `task_id` resolved: its `auto_ready` dependents in
    `backlog` whose blockers are all resolved now move to `ready`."""
    rows = tx.execute(
        "SELECT t.id FROM board_edges e JOIN board_tasks t ON t.id = e.task_id"
        " WHERE e.blocker_id = ? AND t.state = 'backlog' AND t.auto_ready = 1"
        " AND t.retired_at IS NULL ORDER BY t.position",
        (task_id,),
    ).fetchall()
    for (dependent,) in rows:
        if not unresolved(tx, dependent, policy):
            task = load_task(tx, dependent)
            apply(tx, now, task, S.READY, actor, policy, note="its blockers are resolved")
