"""What a claimed task comes to once the executor has run it, written under its claim token.

- passed (every step of the task passed): `in_review`, or `done` when review is auto-approved;
- paused (a step waits for an agent or a person, or its arguments need fixing): `blocked`, with
  the pause reasons and what unblocks it; a retry would pause again;
- failed: back to `ready` after `backoff × 2^(attempt-1)` seconds while attempts remain, else
  `blocked` with the failures and what unblocks it;
- busy (the executor could not start it now: another executor holds the document's run): back to
  `ready` a few seconds later, the attempt not counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from claude_task_cli.board import moves
from claude_task_cli.board.records import BoardTask, Claimed
from claude_task_cli.board.states import Policy, TaskState
from claude_task_cli.store.engines import Tx

BUSY_DELAY = 5.0  # seconds before a task whose document's run was held elsewhere is tried again


@dataclass(frozen=True)
class Execution:
    """How running a claimed task went, as the facade reads it from the executor's outcome."""

    status: Literal["passed", "failed", "paused", "busy"]
    run_id: int | None = None
    message: str = ""
    failures: list[dict[str, Any]] = field(default_factory=list)  # {"step", "error"}
    pause_reasons: list[dict[str, Any]] = field(default_factory=list)


def settle(tx: Tx, claimed: Claimed, execution: Execution, policy: Policy) -> BoardTask:
    """Move the claimed task as `execution` says, fenced by the claim's token."""
    now = tx.now()
    task = moves.load_task(tx, claimed.task.id)
    worker, token = claimed.worker, claimed.token
    move = f"claude-task move {task.path} {task.number} ready"
    run = {"run_id": execution.run_id} if execution.run_id is not None else {}
    if execution.status == "passed":
        target = TaskState.DONE if policy.auto_approve_review else TaskState.IN_REVIEW
        return moves.apply(tx, now, task, target, worker, policy, token=token, payload=run)
    if execution.status == "busy":
        note = execution.message or "could not start now"
        return _retry(tx, now, task, claimed, policy, note, BUSY_DELAY, uncount=True)
    if execution.status == "paused":
        reason = {
            "kind": "paused",
            **run,
            "message": execution.message or "a step waits for an agent or a person",
            "pause_reasons": execution.pause_reasons,
            "unblock": f"resolve what the steps wait for (claude-task task_status {task.path}; "
            f"record_step for a step done outside), then: {move}",
        }
        return moves.apply(
            tx, now, task, TaskState.BLOCKED, worker, policy, token=token, reason=reason
        )
    if task.attempts < task.max_attempts:
        delay = task.backoff * 2 ** max(task.attempts - 1, 0)
        note = f"attempt {task.attempts} of {task.max_attempts} failed; retried after {delay:g}s"
        payload = {**run, "failures": execution.failures, "message": execution.message}
        return _retry(tx, now, task, claimed, policy, note, delay, uncount=False, payload=payload)
    reason = {
        "kind": "failed",
        **run,
        "attempts": task.attempts,
        "message": execution.message or f"failed {task.attempts} times",
        "failures": execution.failures,
        "unblock": f"fix what failed (claude-task task_status {task.path}), then: {move}",
    }
    return moves.apply(tx, now, task, TaskState.BLOCKED, worker, policy, token=token, reason=reason)


def _retry(
    tx: Tx,
    now: float,
    task: BoardTask,
    claimed: Claimed,
    policy: Policy,
    note: str,
    delay: float,
    *,
    uncount: bool,
    payload: dict[str, Any] | None = None,
) -> BoardTask:
    """Back to `ready` under the claim, not to be claimed again for `delay` seconds."""
    moved = moves.apply(
        tx,
        now,
        task,
        TaskState.READY,
        claimed.worker,
        policy,
        token=claimed.token,
        system=True,
        note=note,
        payload=payload,
    )
    _later(tx, task.id, now + delay, uncount=uncount)
    return moves.load_task(tx, moved.id)


def _later(tx: Tx, task_id: int, not_before: float, *, uncount: bool) -> None:
    sets = "not_before = ?" + (", attempts = attempts - 1" if uncount else "")
    tx.execute(f"UPDATE board_tasks SET {sets} WHERE id = ?", (not_before, task_id))
