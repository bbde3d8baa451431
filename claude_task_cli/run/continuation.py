"""Continuing a run from outside: read its state back, record what a client did.

A step done by an agent or a person (an `awaitingClient` step, an `interrupted` one, or any step the
client chose to do itself) is recorded with `record_step_result`; the next `execute` continues from
there and never runs it. A recorded failure stands until a result is recorded for the step. When
the recorded result is the last thing missing, the run completes here.

A recorded result is checked as the engine checks a tool's (issue 3: "a failed verification fails
the step with the evidence kept"): against the step's `expect` assertions, and, for a step with
shell commands whose result carries an `exit_code`, that the code is 0. The checks are stored with
the outcome; a failing one records the step `failed` with a `verificationFailed` reason and the
result as its evidence, so a client cannot turn a failed verification into a completion by
recording the value it would have liked. The step's `source` stays `client` either way: reports
and the matrix say the result was not produced by a tool call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from claude_task_cli.convert.model import Expectation, TaskDocument
from claude_task_cli.errors import RunStateError
from claude_task_cli.outcomes import RunStatus, StepStatus, VerificationFailed
from claude_task_cli.run.results import RunOutcome, build_outcome, summarize
from claude_task_cli.run.units import Unit, build_units
from claude_task_cli.run.verify import verdict
from claude_task_cli.store import Claim, Event, StepState, Store, document_key

_EXIT_ZERO = Expectation(exit_code=0)


def status_of(doc: TaskDocument, store: Store, *, doc_key: str | None = None) -> RunOutcome:
    """The latest run of the document as stored (for `task_status`); nothing is claimed."""
    units = build_units(doc)
    run = store.latest_run(doc_key or document_key(doc))
    if run is None:
        raise RunStateError(f"{doc.source.path}: no run yet (execute_task starts one)")
    return build_outcome(doc, units, _states(store, units, run.id), set(units), run_id=run.id)


def _states(store: Store, units: dict[str, Unit], run_id: int) -> dict[str, StepState]:
    """Each unit's stored state (a unit never attempted: pending)."""
    stored = store.step_states(run_id)
    never = StepState()
    return {uid: stored.get(uid, never) for uid in units}


def record_step_result(
    store: Store,
    doc: TaskDocument,
    step_id: str,
    *,
    result: Any = None,
    failure: str | None = None,
    doc_key: str | None = None,
    clock: Callable[[], float] = time.time,
) -> RunOutcome:
    """Record the outcome of `step_id` in the document's latest unfinished run.

    `failure` (a message) records a failure; otherwise `result` (any JSON value) is verified
    (`verify_recorded`) and the step completed, or failed when a check did not hold: the returned
    outcome's step says which (`outcome.step(step_id).status`, `.pause_reason`, `.checks`).
    Raises `RunStateError` (no run, unknown step, step already completed), `DocumentChangedError`
    and `RunLockedError` (an executor is running the document).
    """
    units = build_units(doc)
    if step_id not in units:
        raise RunStateError(f"no step {step_id!r} in {doc.source.path}")
    key = doc_key or document_key(doc)
    latest = store.latest_run(key)
    if latest is None or latest.status == RunStatus.COMPLETED:
        what = "no run yet" if latest is None else f"run {latest.id} already completed"
        raise RunStateError(f"{doc.source.path}: {what}; nothing to record into")
    claim = Claim()
    run, _ = store.open_run(
        doc_key=key,
        doc_path=doc.source.path,
        doc_id=doc.id,
        sha256=doc.source.sha256,
        claim=claim,
    )
    states = _states(store, units, run.id)
    previous = summarize(s.status for s in states.values())
    if states[step_id].status == StepStatus.COMPLETED:
        store.finish_run(run.id, claim, previous)
        raise RunStateError(f"step {step_id} already completed in run {run.id}")
    checks, error, reason = None, failure, None
    if failure is None:
        checks, error, reason = verify_recorded(units[step_id], result)
    failed = error is not None
    status = StepStatus.FAILED if failed else StepStatus.COMPLETED
    kept = None if failure is not None else result  # a failed check keeps the result as evidence
    payload: dict[str, Any] = {"source": "client"}
    if error is not None:
        payload["error"] = error
    if reason is not None:
        payload["reason"] = reason.model_dump()
    store.record_outcome(
        run.id,
        step_id,
        status,
        source="client",
        result=kept,
        error=error,
        pause_reason=reason,
        checks=checks,
        events=[
            Event(
                kind="step_failed" if failed else "step_completed",
                ts=clock(),
                run_id=run.id,
                step_id=step_id,
                payload=payload,
            )
        ],
    )
    old = states[step_id]
    states[step_id] = StepState(
        status=status,
        source="client",
        result=kept,
        error=error,
        pause_reason=reason,
        checks=checks,
        args=old.args,
        attempts=old.attempts,
        attempt=old.attempt + 1,
    )
    after = summarize(s.status for s in states.values())
    events = []
    if after == RunStatus.COMPLETED:
        events.append(Event(kind="run_completed", ts=clock(), run_id=run.id, payload={}))
    store.finish_run(run.id, claim, after, events)
    return build_outcome(doc, units, states, set(units), run_id=run.id)


def verify_recorded(
    unit: Unit, result: Any
) -> tuple[list[dict[str, Any]] | None, str | None, VerificationFailed | None]:
    """Check a result the client recorded for `unit` as the engine checks a call's result.

    Returns the checks (None when the step asks for none), and for the first that failed the
    error line and the `verificationFailed` reason, as `unit_runner` words them.
    """
    step = unit.step
    if step is None:
        return None, None, None
    expectations: list[Expectation] = []
    if step.commands and isinstance(result, dict) and "exit_code" in result:
        expectations.append(_EXIT_ZERO)  # a command result: it must have succeeded
    if step.tool is not None:
        expectations.extend(step.tool.expect)
    if not expectations:
        return None, None, None
    return verdict(unit.id, unit.tool_name, expectations, result)
