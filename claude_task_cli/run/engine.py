"""The executor: runs a document's step graph through MCP tool calls, durably and resumably.

Scheduling (`scheduler.py`): a unit (see `units.py`) starts as soon as every prerequisite
completed — not wave by wave — at most `concurrency` at once (the caller also limits calls per
server), ready units taken by task priority, then document order.

Per unit (`unit_runner.py`): arguments resolved from earlier results (unresolvable →
`unresolvableParams`, from a failed or skipped step → `unresolvedDependency`) and checked against
the tool's `inputSchema` (→ `schemaMismatch` / `invalidParams`) before any call; then commands
(each through the command server's `run_command`, exit code 0 required), then the tool. A failed
call (an `isError` result, an MCP error, a timeout, a dead server) or a failed `expect` is retried
with exponential backoff (`retry_backoff` × 2ⁿ, at most `max_backoff` s) up to `tool.retries` extra
attempts when the step is `retryable`; then the unit fails with `toolError` /
`verificationFailed`. Dependents of a failed or skipped unit are skipped (with
`unresolvedDependency` when they consume its output); dependents of a paused unit wait;
independent branches keep running. Run statuses: `results.py`.

Durability and resume: each attempt is committed when it starts, before its call, and its end
rides with the next write (`store`). Executing a document again resumes its latest unfinished run:
completed units never run again; failed, skipped and paused ones are evaluated afresh; a unit found
`running` (its executor died) is retried if retryable, else it pauses with `interrupted` until the
client records its outcome; a failure recorded by the client stands. A run cancelled while its
calls are made (Ctrl-C, the MCP door's cancel) closes them the same way at once and is recorded
stopped. A document whose hash changed since the run started raises `DocumentChangedError`
unless `new_run`. The core never prints: events go to `on_event`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping

from claude_task_cli.convert.model import TaskDocument
from claude_task_cli.outcomes import Interrupted, StepStatus
from claude_task_cli.run.caller import ToolCaller
from claude_task_cli.run.calls import CommandSetup
from claude_task_cli.run.options import RunOptions
from claude_task_cli.run.plan import dry_run
from claude_task_cli.run.recorder import Recorder
from claude_task_cli.run.results import RunOutcome, build_outcome, fill_results, summarize
from claude_task_cli.run.scheduler import Scheduler
from claude_task_cli.run.states import UnitStates, referenced
from claude_task_cli.run.unit_runner import UnitRunner
from claude_task_cli.run.units import Unit, build_units, select
from claude_task_cli.store import APPLY_AFTER, Claim, Event, Store, document_key

HEARTBEAT_EVERY = 5.0  # seconds between claim heartbeats
STOPPED = "the run was stopped while it ran"
_BAD = (StepStatus.FAILED, StepStatus.SKIPPED)

EventSink = Callable[[Event], None]


async def execute(
    doc: TaskDocument,
    caller: ToolCaller,
    store: Store,
    options: RunOptions | None = None,
    *,
    doc_key: str | None = None,
    command_server: str | None = None,
    command_cwd: str | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    on_event: EventSink | None = None,
) -> RunOutcome:
    """Run (or resume) the document's graph; see the module docstring for the rules.

    A dry run (`options.dry_run`) claims, calls and writes nothing: the outcome's `plan` lists
    each selected unit by wave (`plan.py`). Raises `RunLockedError` when another executor holds
    the document, `DocumentChangedError`, `RunStateError` for an unknown `only_task`/`only_step`,
    and `ServerStartError` / `McpConfigError` (after recording the step and finishing the run)
    when a server cannot be used.
    """
    options = options or RunOptions()
    units = build_units(doc)
    key = doc_key or document_key(doc)
    if options.dry_run:
        return dry_run(doc, units, store, key, options, command_server)
    select(units, options.only_task, options.only_step, set())  # an unknown one claims nothing
    claim = Claim()
    run, resumed = store.open_run(
        doc_key=key,
        doc_path=doc.source.path,
        doc_id=doc.id,
        sha256=doc.source.sha256,
        claim=claim,
        new=options.new_run,
    )
    states = UnitStates(units, referenced(units))
    if resumed:
        states.load(store.step_states(run.id, values=states.needed))
    store.journal_run(run.id, claim)
    recorder = Recorder(store, run.id, states, clock, on_event)
    commands = CommandSetup(command_server, command_cwd, options.command_timeout)
    runner = UnitRunner(
        units, states, caller, recorder, options, commands, clock=clock, sleep=sleep
    )
    previous_sink, store.on_commit = store.on_commit, recorder.publish
    try:
        done = {uid for uid, s in states.items() if s.status == StepStatus.COMPLETED}
        scope = select(units, options.only_task, options.only_step, done)
        recorder.emit(
            "resumed" if resumed else "run_started",
            None,
            doc_id=doc.id,
            sha256=doc.source.sha256,
            concurrency=options.concurrency,
            selected=None
            if options.only_task is None and options.only_step is None
            else sorted(scope),
            pid=claim.pid,
            total=len(scope),
            completed=len(scope & done),  # by earlier executions of a resumed run
        )
        _prepare_resume(units, states, recorder, scope, rerun=options.rerun_interrupted)
        upkeep = asyncio.create_task(_upkeep(store, run.id, claim))
        try:
            await _schedule(units, states, runner, scope, options)
        finally:
            upkeep.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await upkeep  # a write it could not make is raised here
        outcome = build_outcome(doc, units, states.all(), scope, run_id=run.id, resumed=resumed)
        recorder.finish_run(claim, outcome.run_status, reasons=outcome.pause_reasons)
    except BaseException as exc:
        if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt):
            _interrupt(units, states, recorder, runner.in_flight)
        recorder.finish_run(claim, summarize(states.statuses().values()), error=exc)
        raise
    finally:
        try:
            store.end_journal(run.id)
        finally:
            store.on_commit = previous_sink
    if runner.abort is not None:
        raise runner.abort
    return fill_results(outcome, store) if options.with_results else outcome


async def _schedule(
    units: Mapping[str, Unit],
    states: UnitStates,
    runner: UnitRunner,
    scope: set[str],
    options: RunOptions,
) -> None:
    """Run the pending units of `scope`, each once its prerequisites completed; with `fail_fast`,
    none starts after the first failure (those left are skipped, saying why)."""
    pending = [uid for uid in scope if states.status(uid) == StepStatus.PENDING]
    graph = {
        uid: [
            p for p in units[uid].prereqs if p in units and states.status(p) != StepStatus.COMPLETED
        ]
        for uid in pending
    }
    for uid in units:  # in document order
        if states.status(uid) in _BAD:
            runner.cascade(uid, scope)
    scheduler = Scheduler(
        graph,
        priority=lambda uid: (units[uid].rank, units[uid].order),
        concurrency=options.concurrency,
        before_wait=runner.store.flush,
    )
    failed: list[str] = []

    async def work(uid: str) -> bool:
        if states.status(uid) != StepStatus.PENDING:  # settled before: not to run
            return False
        await runner.run(uid)
        status = states.status(uid)
        if status in _BAD:
            runner.cascade(uid, scope)
        if status == StepStatus.FAILED:
            failed.append(uid)
        if runner.abort is not None or (failed and options.fail_fast):
            scheduler.stop()
        return status == StepStatus.COMPLETED

    await scheduler.run(work)
    if failed and options.fail_fast:
        runner.skip_pending(scope, f"not run: step {failed[0]} failed and --fail-fast stops there")
    runner.store.flush()


def _prepare_resume(
    units: Mapping[str, Unit],
    states: UnitStates,
    recorder: Recorder,
    scope: set[str],
    *,
    rerun: bool,
) -> None:
    """Decide what each unit of a resumed run starts as (see the module docstring); `rerun`: the
    units paused `interrupted` run again."""
    for uid, state in list(states.items()):
        unit = units[uid]
        if state.status == StepStatus.RUNNING:
            recorder.interrupted(uid, retry=unit.retryable)
            if not unit.retryable:
                reason = Interrupted(
                    blocked_step=uid, attempt=state.attempt, suggested_tool=unit.tool_name
                )
                recorder.settle(uid, StepStatus.PAUSED, reason=reason, quiet=uid not in scope)
                continue
        sticky = state.status == StepStatus.COMPLETED or (
            (isinstance(state.pause_reason, Interrupted) and not rerun)
            or (state.status == StepStatus.FAILED and state.source == "client")
        )
        if not sticky and uid in scope and state.status != StepStatus.PENDING:
            recorder.restart(uid)


def _interrupt(
    units: Mapping[str, Unit], states: UnitStates, recorder: Recorder, in_flight: dict[str, int]
) -> None:
    """A cancelled run (Ctrl-C, the MCP door's cancel): each call it was making is closed as a
    resumed run would close it, so the run is recorded stopped, not `running` — a
    non-retryable unit pauses as `interrupted`, a retryable one and any unit taken but not
    called yet are pending again. No await: nothing here waits on the cancelled loop."""
    for uid, attempt in in_flight.items():
        unit = units[uid]
        recorder.interrupted(uid, retry=unit.retryable, attempt=attempt)
        if not unit.retryable:
            reason = Interrupted(
                blocked_step=uid, attempt=attempt, suggested_tool=unit.tool_name, cause=STOPPED
            )
            recorder.settle(uid, StepStatus.PAUSED, reason=reason)
    for uid, status in states.statuses().items():
        if status == StepStatus.RUNNING:
            recorder.restart(uid)


async def _upkeep(store: Store, run_id: int, claim: Claim) -> None:
    """While the run goes on, calls in flight included: the journaled writes put in the database
    every `APPLY_AFTER` seconds, so other readers see the run at most about that far behind
    (`store`), and the claim's heartbeat every `HEARTBEAT_EVERY`."""
    beat = time.monotonic()
    while True:
        await asyncio.sleep(APPLY_AFTER)
        store.apply_due()
        if time.monotonic() - beat >= HEARTBEAT_EVERY:
            beat = time.monotonic()
            store.heartbeat(run_id, claim)
