"""What a run produced: each unit's result, the run's status, the progress document, as records.

Statuses, precisely (over a set of units: the selection for `RunOutcome.status`, the whole document
for `RunOutcome.run_status` and the stored run):

- `completed` — every unit completed;
- `paused` — some unit waits on the client (`paused` on a pause reason, or `awaiting_client`), or
  work remains that this execution was not asked to do; the client can act and execute again;
- `failed` — nothing waits on the client and some unit failed (tool error after its retry budget,
  failed verification, a failure recorded by the client); the others completed or were skipped;
- `running` — a unit is still running (only seen while an executor holds the run).

`record_json` turns these records (and the handoff's) into the JSON the doors return.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from enum import Enum
from typing import Annotated, Any

from pydantic import BaseModel, Field

from claude_task_cli.convert.model import TaskDocument
from claude_task_cli.convert.step_kind import UnitKind
from claude_task_cli.outcomes import PauseReason, Progress, ProgressStep, RunStatus, StepStatus
from claude_task_cli.run.units import Unit
from claude_task_cli.store import StepState, Store

# A list of text that is empty unless given, as the MCP door's output schema says
# (`server/schemas.py` makes it from these records).
Strings = Annotated[list[str], Field(json_schema_extra={"default": []})]


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


@dataclass(frozen=True, slots=True)
class StepResult:
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


@dataclass(frozen=True, slots=True)
class PlannedCall:
    """A dry run's line: what would run, with arguments resolved where already known."""

    step_id: str
    wave: int
    kind: UnitKind
    server: str | None = None
    tool: str | None = None
    args: Any = None
    commands: Strings = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """What `execute` returns (and `status_of` reads back): see the module docstring for
    `status` (the selected units) and `run_status` (the whole document)."""

    run_id: int | None
    doc_id: str
    doc_path: str
    goal: str
    status: RunStatus
    run_status: RunStatus
    steps: list[StepResult]
    pause_reasons: list[PauseReason]
    resumed: bool = False
    dry_run: bool = False
    plan: list[PlannedCall] | None = None

    def step(self, step_id: str) -> StepResult:
        return next(s for s in self.steps if s.step_id == step_id)

    @property
    def progress(self) -> Progress:
        """The PMCP progress document of these steps."""
        steps = [ProgressStep(name=s.step_id, tool=s.tool, status=s.status) for s in self.steps]
        return Progress(goal=self.goal, steps=steps)


def build_outcome(
    doc: TaskDocument,
    units: Mapping[str, Unit],
    states: Mapping[str, StepState],
    scope: set[str],
    *,
    run_id: int | None,
    resumed: bool = False,
    plan: list[PlannedCall] | None = None,
) -> RunOutcome:
    steps = []
    for uid, unit in units.items():
        state = states[uid]
        steps.append(
            StepResult(
                step_id=uid,
                task_id=unit.task.id,
                title=unit.title,
                kind=unit.kind,
                status=state.status,
                server=unit.server,
                tool=unit.tool_name,
                args=state.args,
                result=state.result,
                error=state.error,
                pause_reason=state.pause_reason,
                checks=state.checks,
                attempts=state.attempts,
                duration_ms=state.duration_ms,
                source=state.source,
                selected=uid in scope,
            )
        )
    reasons = [
        s.pause_reason
        for s in steps
        if s.selected and s.pause_reason is not None and s.status != StepStatus.COMPLETED
    ]
    return RunOutcome(
        run_id=run_id,
        doc_id=doc.id,
        doc_path=doc.source.path,
        goal=doc.objective or doc.title,
        status=summarize(s.status for s in steps if s.selected),
        run_status=summarize(s.status for s in steps),
        steps=steps,
        pause_reasons=reasons,
        resumed=resumed,
        dry_run=plan is not None,
        plan=plan,
    )


def fill_results(outcome: RunOutcome, store: Store) -> RunOutcome:
    """`outcome` with the values the run did not keep (`states.py`) read back from the store: the
    arguments of every step recorded with some, the result and checks of every settled step (a
    settled step's state is its latest attempt's)."""
    missing = [
        s.step_id
        for s in outcome.steps
        if s.args is None
        or (s.status != StepStatus.PENDING and s.result is None and s.checks is None)
    ]
    if outcome.run_id is None or not missing:
        return outcome
    stored = store.step_values(outcome.run_id, missing)
    return replace(
        outcome, steps=[_filled(step, stored.get(step.step_id)) for step in outcome.steps]
    )


def _filled(step: StepResult, stored: tuple[Any, Any, Any] | None) -> StepResult:
    """`step` with the stored values it lacks."""
    if stored is None:
        return step
    args, result, checks = stored
    if step.args is not None:
        args = step.args
    if step.status == StepStatus.PENDING or not (step.result is None and step.checks is None):
        result, checks = step.result, step.checks
    return replace(step, args=args, result=result, checks=checks)


def record_json(record: Any) -> dict[str, Any]:
    """A record's fields as JSON data: nested records and pause reasons converted (the latter in
    their camelCase shape), enums as their values, every other value (JSON data already) as is."""
    return {f.name: _field_json(getattr(record, f.name)) for f in fields(record)}


def _field_json(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if is_dataclass(value) and not isinstance(value, type):
        return record_json(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list) and value and isinstance(value[0], BaseModel | Enum):
        return [_field_json(item) for item in value]
    if isinstance(value, list) and value and is_dataclass(value[0]):
        return [_field_json(item) for item in value]
    return value
