"""A run's record: its events, and the outcomes reached without a call, written to the store.

Every outcome goes to the store with its event, and the event callback (`on_event`) is fed by the
store's `on_commit`: what a user is shown is always already durable. Outcomes are deferred writes
(group commit, `Store.flush`): they ride with the next attempt's start, or are committed before the
run waits on anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from claude_task_cli.outcomes import PauseReason, RunStatus, StepStatus
from claude_task_cli.run.states import UnitStates
from claude_task_cli.store import Claim, Event, StepState, Store

STEP_EVENT = {
    StepStatus.COMPLETED: "step_completed",
    StepStatus.FAILED: "step_failed",
    StepStatus.SKIPPED: "step_skipped",
    StepStatus.PAUSED: "step_paused",
    StepStatus.AWAITING_CLIENT: "step_awaiting_client",
}
_RUN_EVENT = {
    RunStatus.COMPLETED: "run_completed",
    RunStatus.PAUSED: "paused",
    RunStatus.FAILED: "run_failed",
    RunStatus.RUNNING: "run_interrupted",
}
INTERRUPTED = "interrupted: the executor stopped while this attempt was running"


class Recorder:
    """Writes one run's events and plain outcomes, keeping `states` in step."""

    def __init__(
        self,
        store: Store,
        run_id: int,
        states: UnitStates,
        clock: Callable[[], float],
        on_event: Callable[[Event], None] | None,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.states = states
        self.clock = clock
        self.on_event = on_event

    def event(self, kind: str, step_id: str | None, **payload: Any) -> Event:
        return Event(
            kind=kind, ts=self.clock(), run_id=self.run_id, step_id=step_id, payload=payload
        )

    def publish(self, events: Iterable[Event]) -> None:
        """The store's `on_commit`: committed events to the callback."""
        if self.on_event is not None:
            for item in events:
                self.on_event(item)

    def emit(self, kind: str, step_id: str | None, **payload: Any) -> None:
        self.store.append([self.event(kind, step_id, **payload)])

    def settle(
        self,
        uid: str,
        status: StepStatus,
        *,
        error: str | None = None,
        reason: PauseReason | None = None,
        source: str = "engine",
        quiet: bool = False,
    ) -> None:
        """Record an outcome reached without a call (skipped, paused, awaiting, a group done)."""
        payload: dict[str, Any] = {"source": source}
        if reason is not None:
            payload["reason"] = reason.model_dump()
        if error is not None:
            payload["error"] = error
        events = [] if quiet else [self.event(STEP_EVENT[status], uid, **payload)]
        self.store.record_outcome(
            self.run_id,
            uid,
            status,
            source=source,
            error=error,
            pause_reason=reason,
            events=events,
            defer=True,
        )
        old = self.states[uid]
        self.states.set(
            uid,
            StepState(
                status=status,
                source=source,
                error=error,
                pause_reason=reason,
                args=old.args,
                attempts=old.attempts,
                attempt=old.attempt + 1,
            ),
        )

    def interrupted(self, uid: str, retry: bool, attempt: int | None = None) -> None:
        """Close an attempt left `running` (by a dead executor, or a run cancelled while its call
        was made: `attempt`); a retryable unit starts afresh."""
        number = self.states[uid].attempt if attempt is None else attempt
        item = self.event("step_interrupted", uid, attempt=number, retry=retry)
        self.store.finish_attempt(
            self.run_id,
            uid,
            number,
            StepStatus.FAILED,
            error=INTERRUPTED,
            events=[item],
            defer=True,
        )
        if retry:
            self.restart(uid)

    def restart(self, uid: str) -> None:
        """`uid` to be evaluated afresh (pending), keeping its arguments and attempt count."""
        old = self.states[uid]
        self.states.set(uid, StepState(args=old.args, attempts=old.attempts, attempt=old.attempt))

    def finish_run(
        self,
        claim: Claim,
        status: RunStatus,
        *,
        reasons: Iterable[PauseReason] = (),
        error: BaseException | None = None,
    ) -> None:
        payload: dict[str, Any] = {
            "status": str(status),
            "reasons": [r.model_dump() for r in reasons],
        }
        if error is not None:
            payload["error"] = f"{type(error).__name__}: {error}"
        item = self.event(_RUN_EVENT[status], None, **payload)
        self.store.finish_run(self.run_id, claim, status, events=[item])
