"""The store's records, shared by the stages that read a run: runs, attempts, events, step states.

One style: frozen, slotted dataclasses, made from rows the store wrote itself (nothing here
validates input). The vocabulary, from the row up:

- `AttemptRecord` — one row of `step_attempts`: an attempt (a call) of a step, or an outcome
  reached without a call (`started_at` None: paused, skipped, awaiting or recorded by the client);
- `StepState` — where one step stands: its rows folded (`fold`), latest outcome first. The executor
  keeps one per unit while it runs, and reports read the same fold;
- `RunRecord` — one row of `runs`; `Event` — one entry of the append-only log.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from claude_task_cli.outcomes import PauseReason, RunStatus, StepStatus

Checks = list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: int
    doc_key: str
    doc_path: str
    doc_id: str
    source_sha256: str
    status: RunStatus
    started_at: float
    ended_at: float | None = None
    claim_pid: int | None = None
    claim_host: str | None = None
    claim_token: str | None = None
    claim_heartbeat: float | None = None
    claim_started: str | None = None  # when the claiming process started (`claims.started_at`)


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One row per attempt; `source` is engine, client (recorded by `record_step`) or document
    (ticked `[x]`)."""

    run_id: int
    step_id: str
    attempt: int
    status: StepStatus
    source: str
    args: Any = None
    result: Any = None
    error: str | None = None
    pause_reason: PauseReason | None = None
    checks: Checks | None = None
    started_at: float | None = None
    ended_at: float | None = None
    duration_ms: float | None = None

    @property
    def called(self) -> bool:
        """A call was made (else the row records an outcome reached without one)."""
        return self.started_at is not None


@dataclass(frozen=True, slots=True)
class Event:
    """An entry of the append-only log; `id` is 0 until stored."""

    kind: str
    ts: float
    run_id: int
    step_id: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    id: int = 0


@dataclass(frozen=True, slots=True)
class StepState:
    """Where one step stands: its latest outcome, and what its attempts add up to.

    `attempts` counts calls made (an outcome reached without a call makes a row, not a call);
    `attempt` is the latest row's number. `duration_ms` is the latest attempt's, `total_ms` that of
    every call together. `args` are the latest arguments recorded. `started_at` is the first call's
    start (else the first row's end), `ended_at` the latest row's end. A state read without its
    values (`Store.step_states(values=...)`) has `args`, `result` and `checks` None.
    """

    status: StepStatus = StepStatus.PENDING
    source: str = "engine"
    result: Any = None
    error: str | None = None
    pause_reason: PauseReason | None = None
    checks: Checks | None = None
    args: Any = None
    attempts: int = 0
    attempt: int = 0
    duration_ms: float | None = None
    total_ms: float | None = None
    started_at: float | None = None
    ended_at: float | None = None


def fold(rows: Sequence[AttemptRecord]) -> StepState:
    """One step's rows (ordered by attempt) folded into its state."""
    latest = rows[-1]
    called = [r for r in rows if r.called]
    durations = [r.duration_ms for r in called if r.duration_ms is not None]
    return StepState(
        status=latest.status,
        source=latest.source,
        result=latest.result,
        error=latest.error,
        pause_reason=latest.pause_reason,
        checks=latest.checks,
        args=next((r.args for r in reversed(rows) if r.args is not None), None),
        attempts=len(called),
        attempt=latest.attempt,
        duration_ms=latest.duration_ms,
        total_ms=sum(durations) if durations else None,
        started_at=called[0].started_at if called else rows[0].ended_at,
        ended_at=latest.ended_at,
    )


def fold_by_step(rows: Iterable[AttemptRecord]) -> dict[str, StepState]:
    """Rows ordered by step, then attempt, folded per step."""
    grouped: dict[str, list[AttemptRecord]] = {}
    for row in rows:
        grouped.setdefault(row.step_id, []).append(row)
    return {step_id: fold(group) for step_id, group in grouped.items()}
