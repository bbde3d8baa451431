"""`work`: claim ready tasks one at a time and run each through the executor it is given, its
lease renewed while it runs, its outcome settled under its claim token (`settle.py`).

The executor is injected (`ExecuteTask`): the facade passes one that runs the task's document
through `execute_task` for that task (`operations.work_tasks`); tests pass small fakes. While the
task runs, a thread renews the lease every third of its length over its own connection; if the
claim is lost meanwhile (the lease ended during a stall, a person moved the task), the outcome's
write is refused by the fence and the task is reported as lost, not settled.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from claude_task_cli.board.claims import LEASE, Limits, renew
from claude_task_cli.board.errors import ClaimLostError
from claude_task_cli.board.records import BoardTask, Claimed
from claude_task_cli.board.settle import Execution
from claude_task_cli.board.store import Board
from claude_task_cli.errors import StoreError, TaskCliError
from claude_task_cli.store.engines import DatabaseUrl, open_database

StepEvent = Callable[[str, dict[str, Any]], None]  # (kind, payload), recorded under the claim
ExecuteTask = Callable[[Claimed, StepEvent], Execution]


@dataclass(frozen=True)
class WorkOptions:
    worker: str
    lease: float = LEASE
    once: bool = False
    max_tasks: int | None = None
    limits: Limits = field(default_factory=Limits)


@dataclass(frozen=True)
class Worked:
    """One task a worker claimed and ran: how it went, and where it is now (None: claim lost)."""

    claimed: Claimed
    execution: Execution
    task: BoardTask | None

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.claimed.to_dict(),
            "execution": self.execution.status,
            "message": self.execution.message,
            "state": None if self.task is None else self.task.state.value,
            "claim_lost": self.task is None,
        }


@dataclass
class WorkReport:
    worked: list[Worked] = field(default_factory=list)
    stopped: str = ""  # why the worker stopped claiming (nothing ready, --once, --max-tasks)


class LeaseKeeper:
    """Renews a claim's lease every third of its length until stopped, over its own connection;
    `lost` once the claim no longer holds."""

    def __init__(self, url: DatabaseUrl, claimed: Claimed, lease: float) -> None:
        self.url = url
        self.claimed = claimed
        self.lease = lease
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        task = self.claimed.task
        db = None
        try:
            db = open_database(self.url)
            while not self._stop.wait(self.lease / 3):
                try:
                    with db.transaction() as tx:
                        renew(tx, task.id, self.claimed.token, self.lease, task.label)
                except ClaimLostError:
                    self.lost = True
                    return
                except StoreError:
                    continue  # a busy or unreachable database: the next turn tries again
        except StoreError:
            return  # no connection: the lease runs out and the fence guards the outcome
        finally:
            if db is not None:
                db.close()


def work(
    board: Board,
    execute: ExecuteTask,
    options: WorkOptions,
    on_progress: Callable[[str, Claimed | Worked], None] | None = None,
) -> WorkReport:
    """Claim and run ready tasks until none is ready (or `once`, or `max_tasks`)."""
    report = WorkReport()
    while True:
        if options.max_tasks is not None and len(report.worked) >= options.max_tasks:
            report.stopped = f"ran {options.max_tasks} tasks (--max-tasks)"
            break
        claimed, why = board.claim(options.worker, options.lease, options.limits)
        if claimed is None:
            report.stopped = why
            break
        if on_progress is not None:
            on_progress("claimed", claimed)
        worked = run_claimed(board, execute, claimed, options.lease)
        report.worked.append(worked)
        if on_progress is not None:
            on_progress("settled", worked)
        if options.once:
            report.stopped = "ran one task (--once)"
            break
    return report


def run_claimed(board: Board, execute: ExecuteTask, claimed: Claimed, lease: float) -> Worked:
    """Run one claimed task with its lease kept, then settle it under its token."""

    def step_event(kind: str, payload: dict[str, Any]) -> None:
        board.step_event(claimed, kind, payload)

    failure: BaseException | None = None
    with LeaseKeeper(board.db.url, claimed, lease):
        try:
            execution = execute(claimed, step_event)
        except TaskCliError as exc:
            execution = Execution("failed", message=str(exc).splitlines()[0])
        except BaseException as exc:  # a bug or an interrupt: settled as a failure, then raised
            execution = Execution("failed", message=f"interrupted: {exc!r}")
            failure = exc
    try:
        task: BoardTask | None = board.settle(claimed, execution)
    except ClaimLostError:
        task = None
    if failure is not None:
        raise failure
    return Worked(claimed, execution, task)
