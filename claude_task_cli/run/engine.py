"""The executor: runs a document's step graph through MCP tool calls, durably and resumably.

Scheduling (`scheduler.py`): a unit (see `units.py`) starts as soon as every prerequisite
completed — not wave by wave — at most `concurrency` at once (default `DEFAULT_CONCURRENCY` = 4; the
caller also limits calls per server), ready units taken by task priority, then document order.

Per unit: arguments resolved from earlier results (`params.py`; unresolvable → `unresolvableParams`,
from a failed or skipped step → `unresolvedDependency`) and checked against the tool's `inputSchema`
(→ `schemaMismatch` / `invalidParams`) before any call; then commands (each through the command
server's `run_command`, exit code 0 required), then the tool. A failed call (an `isError` result, an
MCP error, a timeout, a dead server) or a failed `expect` is retried with exponential backoff
(`retry_backoff` × 2ⁿ, at most `MAX_BACKOFF` s) up to `tool.retries` extra attempts when the step is
`retryable`; then the unit fails with `toolError` / `verificationFailed`. Dependents of a failed or
skipped unit are skipped (with `unresolvedDependency` when they consume its output); dependents of a
paused unit wait; independent branches keep running. Run statuses: `results.py`.

Durability and resume: each attempt is written when it starts and when it ends (`store.py`; while
the run executes, through its step journal: durable at once, in the database in batches).
Executing a document again resumes its latest unfinished run: completed units never run again;
failed, skipped and paused ones are evaluated afresh; a unit found `running` (its executor died) is
retried if retryable, else it pauses with `interrupted` until the client records its outcome; a
failure recorded by the client stands. A document whose hash changed since the run started raises
`DocumentChangedError` unless `new_run`. The core never prints: events go to `on_event`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Awaitable, Callable

from claude_task_cli.convert.model import TaskDocument
from claude_task_cli.errors import DocumentChangedError
from claude_task_cli.outcomes import Interrupted, RunStatus, StepStatus
from claude_task_cli.run.caller import ToolCaller
from claude_task_cli.run.results import (
    PlannedCall,
    RunOutcome,
    UnitState,
    build_outcome,
    load_states,
    summarize,
)
from claude_task_cli.run.scheduler import Scheduler
from claude_task_cli.run.unit_runner import UnitRunner
from claude_task_cli.run.units import Unit, build_units, levels, select
from claude_task_cli.store.database import APPLY_AFTER, Claim, Event, Store
from claude_task_cli.store.records import document_key

DEFAULT_CONCURRENCY = 4
DEFAULT_COMMAND_TIMEOUT = 600.0  # seconds per shell command
RETRY_BACKOFF = 0.5  # seconds before the first retry, doubled each time
MAX_BACKOFF = 30.0
HEARTBEAT_EVERY = 5.0  # seconds between claim heartbeats

EventSink = Callable[[Event], None]


async def execute(
    doc: TaskDocument,
    caller: ToolCaller,
    store: Store,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    only_task: str | None = None,
    only_step: str | None = None,
    dry_run: bool = False,
    new_run: bool = False,
    doc_key: str | None = None,
    command_server: str | None = None,
    command_cwd: str | None = None,
    command_timeout: float = DEFAULT_COMMAND_TIMEOUT,
    retry_backoff: float = RETRY_BACKOFF,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    on_event: EventSink | None = None,
) -> RunOutcome:
    """Run (or resume) the document's graph; see the module docstring for the rules.

    `dry_run` claims, calls and writes nothing: the outcome's `plan` lists each selected unit by
    wave with its arguments resolved from the latest run's results where known. Raises
    `RunLockedError` when another executor holds the document, `DocumentChangedError`,
    `RunStateError` for an unknown `only_task`/`only_step`, and `ServerStartError` /
    `McpConfigError` (after recording the step and finishing the run) when a server cannot be used.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    units = build_units(doc)
    key = doc_key or document_key(doc)
    if dry_run:
        return _dry_run(doc, units, store, key, only_task, only_step, new_run=new_run)
    select(units, only_task, only_step, set())  # an unknown task or step claims nothing
    claim = Claim()
    run, resumed = store.open_run(
        doc_key=key,
        doc_path=doc.source.path,
        doc_id=doc.id,
        sha256=doc.source.sha256,
        claim=claim,
        new=new_run,
    )
    states = (
        load_states(units, store.attempts(run.id)) if resumed else {u: UnitState() for u in units}
    )
    runner = UnitRunner(
        units=units,
        states=states,
        caller=caller,
        store=store,
        run_id=run.id,
        command_server=command_server,
        command_cwd=command_cwd,
        command_timeout=command_timeout,
        retry_backoff=retry_backoff,
        max_backoff=MAX_BACKOFF,
        clock=clock,
        sleep=sleep,
        on_event=on_event,
    )
    previous_sink, store.on_commit = store.on_commit, runner.publish
    # Everything alive now (the SDK, the document, the servers' sessions) outlives the run: keep it
    # out of the collector's full passes, which cost ~60 ms each here and stall a step.
    gc.freeze()
    try:
        store.journal_run(run.id, claim)
        done = {uid for uid, s in states.items() if s.status == StepStatus.COMPLETED}
        scope = select(units, only_task, only_step, done)
        runner.emit(
            "resumed" if resumed else "run_started",
            None,
            doc_id=doc.id,
            sha256=doc.source.sha256,
            concurrency=concurrency,
            selected=None if only_task is None and only_step is None else sorted(scope),
            pid=claim.pid,
            total=len(scope),
            completed=len(scope & done),  # by earlier executions of a resumed run
        )
        _prepare_resume(runner, scope)
        chores = [
            asyncio.create_task(_heartbeat(store, run.id, claim)),
            asyncio.create_task(_apply_journal(store)),
        ]
        try:
            await Scheduler(runner, scope, concurrency).run()
        finally:
            for chore in chores:
                chore.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await chore
        outcome = build_outcome(doc, units, states, scope, run_id=run.id, resumed=resumed)
        runner.finish(claim, outcome.run_status, reasons=outcome.pause_reasons)
    except BaseException as exc:
        runner.finish(claim, summarize(s.status for s in states.values()), error=exc)
        raise
    finally:
        try:
            store.end_journal()
        finally:
            store.on_commit = previous_sink
            gc.unfreeze()
    if runner.abort is not None:
        raise runner.abort
    return outcome


def _prepare_resume(runner: UnitRunner, scope: set[str]) -> None:
    """Decide what each unit of a resumed run starts as (see the module docstring)."""
    for uid, state in runner.states.items():
        if state.status == StepStatus.RUNNING:
            unit = runner.units[uid]
            runner.interrupted(uid, state.attempt, unit.retryable)
            if unit.retryable:
                runner.states[uid] = UnitState(
                    calls=state.calls, args=state.args, attempt=state.attempt
                )
            else:
                reason = Interrupted(
                    blocked_step=uid, attempt=state.attempt, suggested_tool=unit.tool_name
                )
                runner.settle_plain(uid, StepStatus.PAUSED, reason=reason, quiet=uid not in scope)
                continue
        sticky = state.status == StepStatus.COMPLETED or (
            isinstance(state.reason, Interrupted)
            or (state.status == StepStatus.FAILED and state.source == "client")
        )
        if not sticky and uid in scope:
            runner.states[uid] = UnitState(
                calls=state.calls, args=state.args, attempt=state.attempt
            )


async def _heartbeat(store: Store, run_id: int, claim: Claim) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_EVERY)
        store.heartbeat(run_id, claim)


async def _apply_journal(store: Store) -> None:
    """The journaled writes into the database while the run waits on its calls."""
    while True:
        await asyncio.sleep(APPLY_AFTER)
        store.apply_due()


def _dry_run(
    doc: TaskDocument,
    units: dict[str, Unit],
    store: Store,
    key: str,
    only_task: str | None,
    only_step: str | None,
    *,
    new_run: bool,
) -> RunOutcome:
    """The plan of what `execute` with the same options would do: resume the latest unfinished
    run (refusing a changed document, as `execute` does), or start afresh after a completed run
    or with `new_run`."""
    from claude_task_cli.run.arguments import marker, resolve_args

    run = None if new_run else store.latest_run(key)
    if run is not None and run.status == RunStatus.COMPLETED:
        run = None
    if run is not None and run.source_sha256 != doc.source.sha256:
        raise DocumentChangedError(doc.source.path, run.id, run.source_sha256, doc.source.sha256)
    if run is not None:
        states = load_states(units, store.attempts(run.id))
    else:
        states = {uid: UnitState() for uid in units}
    done = {uid for uid, s in states.items() if s.status == StepStatus.COMPLETED}
    scope = select(units, only_task, only_step, done)
    results = {uid: states[uid].result for uid in done}
    plan: list[PlannedCall] = []
    for wave, layer in enumerate(levels(units, scope, done), start=1):
        for uid in layer:
            unit = units[uid]
            binding = unit.step.tool if unit.step is not None else None
            args = None
            if binding is not None:
                args = resolve_args(binding.args, results, placeholder=marker).args
            plan.append(
                PlannedCall(
                    step_id=uid,
                    wave=wave,
                    kind=unit.kind,
                    server=unit.server,
                    tool=unit.tool_name,
                    args=args,
                    commands=[c.script for c in unit.step.commands] if unit.step else [],
                )
            )
    return build_outcome(
        doc, units, states, scope, run_id=None if run is None else run.id, plan=plan
    )
