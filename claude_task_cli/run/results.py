"""What a run produced, as typed records: per-step results, the run's status, progress.

Statuses, precisely (over a set of units: the selection for `RunOutcome.status`, the whole document
for `RunOutcome.run_status` and the stored run):

- `completed` — every unit completed;
- `paused` — some unit waits on the client (`paused` on a pause reason, or `awaiting_client`), or
  work remains that this execution was not asked to do; the client can act and execute again;
- `failed` — nothing waits on the client and some unit failed (tool error after its retry budget,
  failed verification, a failure recorded by the client); the others completed or were skipped;
- `running` — a unit is still running (only seen while an executor holds the run).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from claude_task_cli.convert.model import TaskDocument
from claude_task_cli.convert.step_kind import UnitKind
from claude_task_cli.outcomes import (
    PauseReason,
    Progress,
    ProgressStep,
    RunStatus,
    StepStatus,
)
from claude_task_cli.run.units import Unit
from claude_task_cli.store.database import AttemptRecord


@dataclass
class UnitState:
    """The engine's view of one unit: its latest outcome, and how many calls it took."""

    status: StepStatus = StepStatus.PENDING
    result: Any = None
    error: str | None = None
    reason: PauseReason | None = None
    args: Any = None
    checks: list[dict[str, Any]] | None = None
    calls: int = 0
    duration_ms: float | None = None
    source: str = "engine"
    attempt: int = 0


def load_states(units: Mapping[str, Unit], rows: Iterable[AttemptRecord]) -> dict[str, UnitState]:
    """Fold stored attempts (ordered by attempt) into each unit's current state."""
    states = {uid: UnitState() for uid in units}
    for row in rows:
        state = states.get(row.step_id)
        if state is None:
            continue
        calls = state.calls + (row.started_at is not None)
        states[row.step_id] = UnitState(
            status=row.status,
            result=row.result,
            error=row.error,
            reason=row.pause_reason,
            args=row.args if row.args is not None else state.args,
            checks=row.checks,
            calls=calls,
            duration_ms=row.duration_ms,
            source=row.source,
            attempt=row.attempt,
        )
    return states


def summarize(statuses: Iterable[StepStatus]) -> RunStatus:
    """The status of a set of units (see the module docstring)."""
    seen = set(statuses)
    if seen <= {StepStatus.COMPLETED}:
        return RunStatus.COMPLETED
    if any(s.blocks_client for s in seen):
        return RunStatus.PAUSED
    if seen & {StepStatus.FAILED, StepStatus.SKIPPED}:
        return RunStatus.FAILED
    if StepStatus.RUNNING in seen:
        return RunStatus.RUNNING
    return RunStatus.PAUSED


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True)


class StepResult(_Result):
    """One unit's outcome: its latest attempt, with the evidence (result, checks) kept."""

    step_id: str
    task_id: str
    title: str
    kind: UnitKind
    status: StepStatus
    server: str | None = None
    tool: str | None = None
    args: Any = None
    result: Any = None
    error: str | None = None
    pause_reason: PauseReason | None = None
    checks: list[dict[str, Any]] | None = None
    attempts: int = 0
    duration_ms: float | None = None
    source: str = "engine"
    selected: bool = True


class PlannedCall(_Result):
    """A dry run's line: what would run, with arguments resolved where already known."""

    step_id: str
    wave: int
    kind: UnitKind
    server: str | None = None
    tool: str | None = None
    args: Any = None
    commands: list[str] = []


class RunOutcome(_Result):
    """What `execute` returns (and `status_of` reads back): see the module docstring for
    `status` (the selected units) and `run_status` (the whole document)."""

    run_id: int | None
    doc_id: str
    doc_path: str
    status: RunStatus
    run_status: RunStatus
    resumed: bool = False
    dry_run: bool = False
    steps: list[StepResult]
    pause_reasons: list[PauseReason]
    progress: Progress
    plan: list[PlannedCall] | None = None

    def step(self, step_id: str) -> StepResult:
        return next(s for s in self.steps if s.step_id == step_id)


def build_outcome(
    doc: TaskDocument,
    units: Mapping[str, Unit],
    states: Mapping[str, UnitState],
    scope: set[str],
    *,
    run_id: int | None,
    resumed: bool = False,
    plan: list[PlannedCall] | None = None,
) -> RunOutcome:
    steps = [
        StepResult(
            step_id=uid,
            task_id=unit.task.id,
            title=unit.title,
            kind=unit.kind,
            status=states[uid].status,
            server=unit.server,
            tool=unit.tool_name,
            args=states[uid].args,
            result=states[uid].result,
            error=states[uid].error,
            pause_reason=states[uid].reason,
            checks=states[uid].checks,
            attempts=states[uid].calls,
            duration_ms=states[uid].duration_ms,
            source=states[uid].source,
            selected=uid in scope,
        )
        for uid, unit in units.items()
    ]
    reasons = [
        s.pause_reason
        for s in steps
        if s.selected and s.pause_reason is not None and s.status != StepStatus.COMPLETED
    ]
    progress = Progress(
        goal=doc.objective or doc.title,
        steps=[ProgressStep(name=s.step_id, tool=s.tool, status=s.status) for s in steps],
    )
    return RunOutcome(
        run_id=run_id,
        doc_id=doc.id,
        doc_path=doc.source.path,
        status=summarize(s.status for s in steps if s.selected),
        run_status=summarize(s.status for s in steps),
        resumed=resumed,
        dry_run=plan is not None,
        steps=steps,
        pause_reasons=reasons,
        progress=progress,
        plan=plan,
    )
