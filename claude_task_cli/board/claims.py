"""Claims: the ready queue, the atomic claim of its best task, leases, and their end.

The ready queue is every `ready` task, across documents, that is not retired, not waiting out a
retry's backoff (`not_before`) and whose blockers are all resolved, by priority rank, then creation
time, then id. A claim moves the best one to `in_progress` in one transaction, with a fresh claim
token (which fences every later write of the task: `moves.apply(token=…)`), the worker's name, and
a lease that ends `lease` seconds later on the database's clock; its attempt is counted at once.

- SQLite: the transaction is `BEGIN IMMEDIATE` (claimers queue for the write lock) and the claim one
  `UPDATE … WHERE id = (the best ready task) RETURNING`.
- PostgreSQL: `UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING` takes the
  best task no other claimer is taking (its event written by the same statement); concurrent
  claimers never wait on each other's rows.

Limits: at most `per_worker` tasks in progress under one worker name and `per_repository` per
repository; on PostgreSQL the count is taken under an advisory lock (of the worker's name; one
for every claim under a repository cap), so two claimers never both see room for one. Manual
moves (`move --force`) are not bounded by them. A lease that ended without its worker settling the
task (a crash, a stall) returns the task to `ready` at the next claim, its attempt counted, or to
`blocked` when that was its last attempt.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from claude_task_cli.board import events, moves
from claude_task_cli.board.errors import ClaimLostError, TransitionError
from claude_task_cli.board.records import BoardTask, Claimed
from claude_task_cli.board.schema import TASK_COLUMNS, TASKS_FROM
from claude_task_cli.board.settings import policy_now
from claude_task_cli.board.states import Move, Policy, TaskState, check_move
from claude_task_cli.store.engines import Tx

LEASE = 60.0  # seconds; `work` renews it every third of that while the task runs
SCHEDULER = "board"  # the actor of the scheduler's own moves (a lease that ended)
# PostgreSQL: claims under a repository cap hold this advisory lock while they count and take, one
# at a time (a lock per repository would have to be taken before the task, whose repository is
# not known yet; taken after it, two claimers can wait on each other's)
CAPPED = "board-claims-capped"

_TAKE = (
    "UPDATE board_tasks SET state = 'in_progress', claim_token = ?, claim_worker = ?,"
    " lease_until = ?, attempts = attempts + 1, updated_at = ?, changes = NULL, not_before = NULL"
    " WHERE id = {target} AND state = 'ready' RETURNING id"
)
# PostgreSQL's claim in one round trip (the benchmark's 8 claimers on 2 cores spend their time
# on round trips, not in the server): the best task locked and taken, its `task.claimed` event
# written, the task returned as `TASK_COLUMNS` reads it.
_TAKE_PG = (
    "WITH took AS (UPDATE board_tasks SET state = 'in_progress', claim_token = ?,"
    " claim_worker = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?, changes = NULL,"
    " not_before = NULL WHERE id = ({best}) RETURNING *),"
    " logged AS (INSERT INTO board_events (ts, kind, actor, document_id, task_id, payload)"
    " SELECT updated_at, 'task.claimed', claim_worker, document_id, id,"
    " json_build_object('attempt', attempts, 'from', 'ready', 'lease_until', lease_until,"
    " 'to', 'in_progress')::text FROM took)"
    f" SELECT {TASK_COLUMNS} FROM took t JOIN board_documents d ON d.id = t.document_id"
)
_REPOSITORY_LOAD = (
    "SELECT COUNT(*) FROM board_tasks x JOIN board_documents dx ON dx.id = x.document_id"
    " WHERE x.state = 'in_progress' AND dx.repository = {repository}"
)


@dataclass(frozen=True)
class Limits:
    """What a claimer may take: `repositories` (None: any), and the concurrency caps."""

    repositories: tuple[str, ...] | None = None
    per_worker: int | None = None
    per_repository: int | None = None


def ready_where(policy: Policy) -> str:
    """The ready queue's condition on `t` (a task) as SQL; its one parameter is the time now."""
    return (
        "t.state = 'ready' AND t.retired_at IS NULL AND (t.not_before IS NULL OR t.not_before <= ?)"
        " AND NOT EXISTS (SELECT 1 FROM board_edges e JOIN board_tasks b ON b.id = e.blocker_id"
        " WHERE e.task_id = t.id AND b.retired_at IS NULL AND b.state NOT IN "
        + moves.resolved_sql(policy)
        + ")"
    )


def expire_leases(tx: Tx, now: float, policy: Policy) -> list[BoardTask]:
    """Settle every claim whose lease ended: `ready` again, or `blocked` after its last try."""
    sql = (
        "SELECT id, claim_token, claim_worker FROM board_tasks"
        " WHERE state = 'in_progress' AND lease_until < ? ORDER BY id"
    )
    if tx.dialect == "postgresql":
        sql += " FOR UPDATE SKIP LOCKED"
    settled = []
    for task_id, token, worker in tx.execute(sql, (now,)).fetchall():
        task = moves.load_task(tx, task_id)
        last = task.attempts >= task.max_attempts
        reason = None
        if last:
            reason = {
                "kind": "lease_expired",
                "worker": worker,
                "attempts": task.attempts,
                "message": f"the lease of worker {worker} ended before it settled the task "
                f"(attempt {task.attempts} of {task.max_attempts})",
                "unblock": f"find out why {worker} stopped, then: "
                f"claude-task move {task.path} {task.number} ready",
            }
        target = TaskState.BLOCKED if last else TaskState.READY
        try:
            settled.append(
                moves.apply(
                    tx,
                    now,
                    task,
                    target,
                    SCHEDULER,
                    policy,
                    reason=reason,
                    token=token,
                    system=True,
                    note=f"the lease of {worker} ended",
                )
            )
        except ClaimLostError:
            continue  # settled meanwhile by its worker
    return settled


def claim_next(tx: Tx, worker: str, lease: float, limits: Limits) -> tuple[Claimed | None, str]:
    """Claim the best ready task for `worker`: (the claim, "") or (None, why nothing was)."""
    policy, now = policy_now(tx)
    expire_leases(tx, now, policy)
    full = _worker_full(tx, worker, limits)
    if full:
        return None, full
    where = [ready_where(policy)]
    params: list[object] = [now]
    if limits.repositories is not None:
        where.append(f"d.repository IN ({', '.join('?' for _ in limits.repositories)})")
        params += limits.repositories
    if limits.per_repository is not None:
        tx.lock(CAPPED)  # counted and taken while no other capped claim is in flight
        where.append("(" + _REPOSITORY_LOAD.format(repository="d.repository") + ") < ?")
        params.append(limits.per_repository)
    best = (
        f"SELECT t.id FROM {TASKS_FROM} WHERE {' AND '.join(where)}"
        " ORDER BY t.priority_rank, t.created_at, t.id LIMIT 1"
    )
    token = uuid.uuid4().hex
    took = None
    if tx.dialect == "sqlite":  # the write lock is held: the best task is ours to take
        took = tx.execute(
            _TAKE.format(target=f"({best})"), (token, worker, now + lease, now, *params)
        ).fetchone()
    else:  # one statement: pick (skipping rows other claimers hold), take, record, return
        row = tx.execute(
            _TAKE_PG.format(best=best + " FOR UPDATE OF t SKIP LOCKED"),
            (token, worker, now + lease, now, *params),
        ).fetchone()
        if row is None:
            return None, "nothing is ready"
        task = BoardTask.of(row)
        return Claimed(task, token, worker, now + lease), ""
    return (None, "nothing is ready") if took is None else (_claimed(tx, took[0]), "")


def _worker_full(tx: Tx, worker: str, limits: Limits) -> str:
    if limits.per_worker is None:
        return ""
    tx.lock(f"board-worker:{worker}")
    held = tx.execute(
        "SELECT COUNT(*) FROM board_tasks WHERE state = 'in_progress' AND claim_worker = ?",
        (worker,),
    ).fetchone()[0]
    if held >= limits.per_worker:
        return f"worker {worker} holds {held} claims (its limit: {limits.per_worker})"
    return ""


def _room(tx: Tx, repository: str, limits: Limits) -> bool:
    tx.lock(CAPPED)
    held = tx.execute(_REPOSITORY_LOAD.format(repository="?"), (repository,)).fetchone()[0]
    return bool(limits.per_repository is None or held < limits.per_repository)


def _claimed(tx: Tx, task_id: int) -> Claimed:
    task = moves.load_task(tx, task_id)
    assert task.claim_token is not None
    assert task.claim_worker is not None
    assert task.lease_until is not None
    events.record(
        tx,
        task.updated_at,
        "task.claimed",
        task.claim_worker,
        document_id=task.document_id,
        task_id=task.id,
        payload={
            "from": "ready",
            "to": "in_progress",
            "attempt": task.attempts,
            "lease_until": task.lease_until,
        },
    )
    return Claimed(task, task.claim_token, task.claim_worker, task.lease_until)


def claim_task(
    tx: Tx, task: BoardTask, worker: str, lease: float, limits: Limits, policy: Policy
) -> tuple[Claimed | None, str]:
    """Claim one named task: a `done` one is left alone and said so (idempotent start); one in
    progress or in review is not taken; anything else goes through the rules."""
    if task.state == TaskState.DONE:
        return None, f"{task.label} is done already; nothing to do"
    if task.state in (TaskState.IN_PROGRESS, TaskState.IN_REVIEW):
        holder = f" by {task.claim_worker}" if task.claim_worker else ""
        return None, f"{task.label} is {task.state.value}{holder}; not claimed"
    now = tx.now()
    blockers = moves.unresolved(tx, task.id, policy)
    try:
        check_move(
            Move(task.state, TaskState.IN_PROGRESS, claimed=True, unresolved=blockers), policy
        )
    except TransitionError as exc:
        raise exc.at(task.label) from None
    full = _worker_full(tx, worker, limits)
    if full:
        return None, full
    if limits.per_repository is not None and not _room(tx, task.repository, limits):
        return None, f"repository {task.repository} is at its limit ({limits.per_repository})"
    token = uuid.uuid4().hex
    took = tx.execute(
        _TAKE.format(target="?"), (token, worker, now + lease, now, task.id)
    ).fetchone()
    return (None, "taken meanwhile") if took is None else (_claimed(tx, took[0]), "")


def renew(tx: Tx, task_id: int, token: str, lease: float, where: str) -> float:
    """Extend a held claim's lease to `lease` seconds from now; `ClaimLostError` if not held."""
    until = tx.now() + lease
    done = tx.execute(
        "UPDATE board_tasks SET lease_until = ? WHERE id = ? AND claim_token = ?"
        " AND state = 'in_progress'",
        (until, task_id, token),
    )
    if done.rowcount != 1:
        raise ClaimLostError(where)
    return until
