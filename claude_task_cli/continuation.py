"""Continuing a run from outside: read its state back, record what a client did.

A step done by an agent or a person (an `awaitingClient` step, an `interrupted` one, or any step the
client chose to do itself) is recorded with `record_step_result`; the next `execute` continues from
there and never runs it. A recorded failure stands until a result is recorded for the step. When
the recorded result is the last thing missing, the run completes here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from claude_task_cli.engine import document_key
from claude_task_cli.errors import RunStateError
from claude_task_cli.model import TaskDocument
from claude_task_cli.outcomes import RunStatus, StepStatus
from claude_task_cli.results import RunOutcome, UnitState, build_outcome, load_states, summarize
from claude_task_cli.store import Claim, Event, Store
from claude_task_cli.units import build_units


def status_of(doc: TaskDocument, store: Store, *, doc_key: str | None = None) -> RunOutcome:
    """The latest run of the document as stored (for `task_status`); nothing is claimed."""
    units = build_units(doc)
    run = store.latest_run(doc_key or document_key(doc))
    if run is None:
        raise RunStateError(f"{doc.source.path}: no run yet (execute_task starts one)")
    states = load_states(units, store.attempts(run.id))
    return build_outcome(doc, units, states, set(units), run_id=run.id)


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

    `failure` (a message) records a failure; otherwise the step completed with `result` (any JSON
    value). Raises `RunStateError` (no run, unknown step, step already completed),
    `DocumentChangedError` and `RunLockedError` (an executor is running the document).
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
    states = load_states(units, store.attempts(run.id))
    previous = summarize(s.status for s in states.values())
    if states[step_id].status == StepStatus.COMPLETED:
        store.finish_run(run.id, claim, previous)
        raise RunStateError(f"step {step_id} already completed in run {run.id}")
    status = StepStatus.FAILED if failure is not None else StepStatus.COMPLETED
    kind = "step_failed" if failure is not None else "step_completed"
    payload: dict[str, Any] = {"source": "client"}
    if failure is not None:
        payload["error"] = failure
    store.record_outcome(
        run.id,
        step_id,
        status,
        source="client",
        result=None if failure is not None else result,
        error=failure,
        events=[Event(kind=kind, ts=clock(), run_id=run.id, step_id=step_id, payload=payload)],
    )
    old = states[step_id]
    states[step_id] = UnitState(
        status=status,
        result=None if failure is not None else result,
        error=failure,
        args=old.args,
        calls=old.calls,
        source="client",
        attempt=old.attempt + 1,
    )
    after = summarize(s.status for s in states.values())
    events = []
    if after == RunStatus.COMPLETED:
        events.append(Event(kind="run_completed", ts=clock(), run_id=run.id, payload={}))
    store.finish_run(run.id, claim, after, events)
    return build_outcome(doc, units, states, set(units), run_id=run.id)
