"""Running one unit of a run: checks before the call, the call(s), retries, and recording.

Every outcome goes to the store with its event; the event callback is the store's `on_commit`, so
what a user is shown is always already durable. Final outcomes are deferred writes (group commit,
see `Store.flush`): they ride with the next attempt's start, or are flushed before anything waits
(a server opening, a worker going idle); an attempt's start is durable before its call (through
the run's step journal, `Store.journal_run`). Rules: `engine.py`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from claude_task_cli.convert.model import Expectation
from claude_task_cli.convert.step_kind import COMMAND_TOOL
from claude_task_cli.errors import TaskCliError
from claude_task_cli.outcomes import (
    AwaitingClient,
    CommandServerUndeclared,
    PauseReason,
    QuestionDeclined,
    RunStatus,
    StepStatus,
    TaskRequired,
    ToolError,
    UnresolvedDependency,
    VerificationFailed,
)
from claude_task_cli.run.arguments import (
    ArgsValidator,
    make_validator,
    resolve_args,
    schema_reason,
    unresolved_reason,
)
from claude_task_cli.run.results import UnitState
from claude_task_cli.run.units import Unit
from claude_task_cli.run.verify import check, verdict
from claude_task_cli.store.database import Claim, Event, Store

if TYPE_CHECKING:
    from claude_task_cli.mcp.sessions import ProgressSink
    from claude_task_cli.run.caller import CallResult, ToolCaller, ToolSpec

_EXIT_ZERO = Expectation(exit_code=0)
_COMMAND_GRACE = 30.0  # seconds the MCP call may outlive the command's own timeout
_STEP_EVENT = {
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


@dataclass
class _Try:
    """One attempt's outcome."""

    result: Any = None
    checks: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    reason: PauseReason | None = None


@dataclass
class UnitRunner:
    units: Mapping[str, Unit]
    states: dict[str, UnitState]
    caller: ToolCaller
    store: Store
    run_id: int
    command_server: str | None
    command_cwd: str | None
    command_timeout: float
    retry_backoff: float
    max_backoff: float
    clock: Callable[[], float]
    sleep: Callable[[float], Awaitable[None]]
    on_event: Callable[[Event], None] | None
    abort: TaskCliError | None = None
    _validators: dict[tuple[str, str], ArgsValidator | None] = field(default_factory=dict)
    _tools: dict[str, Mapping[str, ToolSpec]] = field(default_factory=dict)

    # events and plain outcomes -----------------------------------------------------------------

    def event(self, kind: str, step_id: str | None, **payload: Any) -> Event:
        # validated init: pydantic-core does it in ~1.8 µs, model_construct (Python) in ~3.2
        return Event(
            kind=kind, ts=self.clock(), run_id=self.run_id, step_id=step_id, payload=payload
        )

    def publish(self, events: Iterable[Event]) -> None:
        if self.on_event is not None:
            for item in events:
                self.on_event(item)

    def emit(self, kind: str, step_id: str | None, **payload: Any) -> None:
        self.store.append([self.event(kind, step_id, **payload)])

    def settle_plain(
        self,
        uid: str,
        status: StepStatus,
        *,
        result: Any = None,
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
        events = [] if quiet else [self.event(_STEP_EVENT[status], uid, **payload)]
        self.store.record_outcome(
            self.run_id,
            uid,
            status,
            source=source,
            result=result,
            error=error,
            pause_reason=reason,
            events=events,
            defer=True,
        )
        old = self.states[uid]
        self.states[uid] = UnitState(
            status=status,
            result=result,
            error=error,
            reason=reason,
            args=old.args,
            calls=old.calls,
            source=source,
            attempt=old.attempt + 1,
        )

    def interrupted(self, uid: str, attempt: int, retry: bool) -> None:
        """Close the attempt a dead executor left `running`."""
        item = self.event("step_interrupted", uid, attempt=attempt, retry=retry)
        self.store.finish_attempt(
            self.run_id,
            uid,
            attempt,
            StepStatus.FAILED,
            error="interrupted: the executor stopped while this attempt was running",
            events=[item],
            defer=True,
        )

    def cascade(self, uid: str, scope: set[str]) -> None:
        """Skip every pending unit of `scope` downstream of a failed or skipped unit."""
        stack = [uid]
        while stack:
            cause = stack.pop()
            for dep in self.units[cause].dependents:
                if dep not in scope or self.states[dep].status != StepStatus.PENDING:
                    continue
                self.settle_plain(
                    dep,
                    StepStatus.SKIPPED,
                    error=f"step {cause} did not complete",
                    reason=self._dependency_reason(self.units[dep]),
                )
                stack.append(dep)

    def _dependency_reason(self, unit: Unit) -> PauseReason | None:
        binding = unit.step.tool if unit.step is not None else None
        if binding is None:
            return None
        statuses = {ref: self.states[ref].status for ref in unit.references if ref in self.states}
        for problem in resolve_args(binding.args, self._results(unit)).unresolved:
            reason = unresolved_reason(unit.id, binding.tool, problem, statuses)
            if isinstance(reason, UnresolvedDependency):
                return reason
        return None

    def finish(
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

    # running a unit ---------------------------------------------------------------------------

    def _results(self, unit: Unit) -> dict[str, Any]:
        return {
            ref: self.states[ref].result
            for ref in unit.references
            if ref in self.states and self.states[ref].status == StepStatus.COMPLETED
        }

    async def run(self, uid: str) -> None:
        """Run one unit to an outcome; a server that cannot be used sets `abort`."""
        unit = self.units[uid]
        kind = unit.kind
        if kind == "group":
            self.settle_plain(uid, StepStatus.COMPLETED)
        elif kind == "client":
            if unit.step is not None and unit.step.checked:
                self.settle_plain(uid, StepStatus.COMPLETED, source="document")
            else:
                waiting = AwaitingClient(blocked_step=uid, guidance=unit.guidance())
                self.settle_plain(uid, StepStatus.AWAITING_CLIENT, reason=waiting)
        else:
            try:
                await self._run_calls(unit)
            except TaskCliError as exc:
                self.abort = self.abort or exc
                if self.states[uid].status == StepStatus.RUNNING:
                    reason = ToolError(
                        failed_step=uid,
                        error=str(exc).splitlines()[0],
                        retryable=unit.retryable,
                        suggested_tool=unit.tool_name or "",
                    )
                    self.settle_plain(uid, StepStatus.FAILED, error=str(exc), reason=reason)

    async def _run_calls(self, unit: Unit) -> None:
        uid, step = unit.id, unit.step
        assert step is not None
        binding = step.tool
        args: dict[str, Any] | None = None
        if binding is not None:
            results = self._results(unit) if binding.references else {}
            resolution = resolve_args(binding.args, results)
            if resolution.unresolved:
                statuses = {k: s.status for k, s in self.states.items()}
                why = unresolved_reason(uid, binding.tool, resolution.unresolved[0], statuses)
                status = (
                    StepStatus.SKIPPED
                    if isinstance(why, UnresolvedDependency)
                    else StepStatus.PAUSED
                )
                self.settle_plain(uid, status, reason=why)
                return
            args = resolution.args
            # like a bash fence: relative paths mean the project root, wherever we run from
            is_command = (binding.server, binding.tool) == (self.command_server, COMMAND_TOOL)
            if is_command and self.command_cwd is not None and "cwd" not in args:
                args["cwd"] = self.command_cwd
            tools = self._tools.get(binding.server)
            if tools is None:  # listed once per run; no await (no task switch) after that
                self.store.flush()  # opening a server may take a while: commit what is settled
                tools = self._tools[binding.server] = await self.caller.list_tools(binding.server)
            spec = tools.get(binding.tool)
            if spec is None:
                listed = ", ".join(sorted(tools)) or "none"
                error = f"server {binding.server!r} has no tool {binding.tool!r} (it has: {listed})"
                reason = ToolError(
                    failed_step=uid, error=error, retryable=False, suggested_tool=binding.tool
                )
                self.settle_plain(uid, StepStatus.FAILED, error=error, reason=reason)
                return
            key = (binding.server, binding.tool)
            if key not in self._validators:
                self._validators[key] = make_validator(spec.input_schema)
            mismatch = schema_reason(uid, binding.tool, self._validators[key], args)
            if mismatch is not None:
                self.settle_plain(uid, StepStatus.PAUSED, reason=mismatch)
                return
        if step.commands and self.command_server is None:
            scripts = [c.script.rstrip() for c in step.commands]
            self.settle_plain(
                uid,
                StepStatus.PAUSED,
                reason=CommandServerUndeclared(blocked_step=uid, commands=scripts),
            )
            return
        commands_at = self.command_server
        if step.commands and commands_at is not None and commands_at not in self._tools:
            # opened before the attempt starts, so a step's duration is its own, not the spawn's
            self.store.flush()
            self._tools[commands_at] = await self.caller.list_tools(commands_at)
        recorded = args if binding is not None else {"commands": [c.script for c in step.commands]}
        budget = 1 + (binding.retries if binding is not None and binding.retryable else 0)
        for number in range(1, budget + 1):
            await self._attempt_once(unit, args, recorded, last=number == budget, nth=number)
            if self.states[uid].status != StepStatus.RUNNING:
                return
            await self.sleep(min(self.max_backoff, self.retry_backoff * 2 ** (number - 1)))

    async def _attempt_once(
        self, unit: Unit, args: dict[str, Any] | None, recorded: Any, *, last: bool, nth: int
    ) -> None:
        uid = unit.id
        state = self.states[uid]
        started = self.event("step_started", uid, attempt=state.attempt + 1, tool=unit.tool_name)
        t0 = self.clock()
        attempt = self.store.start_attempt(self.run_id, uid, recorded, events=[started])
        state.attempt, state.calls, state.args = attempt, state.calls + 1, recorded
        try:
            outcome = await self._call(unit, args)
        except TaskCliError as exc:  # a server that cannot be used: no retry, stop the run
            self.abort = self.abort or exc
            outcome = self._tool_error(_Try(), unit, unit.tool_name or "", None, str(exc))
            last = True
        ms = (self.clock() - t0) * 1000
        if outcome.reason is None:
            status, item = (
                StepStatus.COMPLETED,
                self.event("step_completed", uid, attempt=attempt, duration_ms=round(ms, 3)),
            )
        elif isinstance(outcome.reason, QuestionDeclined | TaskRequired):  # no retry: a person
            reason = outcome.reason.model_dump()
            status, item = (
                StepStatus.PAUSED,
                self.event("step_paused", uid, attempt=attempt, source="engine", reason=reason),
            )
        elif last:
            status, item = (
                StepStatus.FAILED,
                self.event(
                    "step_failed",
                    uid,
                    attempt=attempt,
                    error=outcome.error,
                    reason=outcome.reason.model_dump(),
                ),
            )
        else:
            delay = min(self.max_backoff, self.retry_backoff * 2 ** (nth - 1))
            status, item = (
                StepStatus.RUNNING,
                self.event("step_retried", uid, attempt=attempt, error=outcome.error, delay=delay),
            )
        self.store.finish_attempt(
            self.run_id,
            uid,
            attempt,
            StepStatus.FAILED if status == StepStatus.RUNNING else status,
            result=outcome.result,
            error=outcome.error,
            pause_reason=outcome.reason,
            checks=outcome.checks or None,
            events=[item],
            defer=status != StepStatus.RUNNING,  # a retry sleeps next: commit that one now
        )
        self.states[uid] = UnitState(
            status=status,
            result=outcome.result,
            error=outcome.error,
            reason=outcome.reason,
            args=recorded,
            checks=outcome.checks or None,
            calls=state.calls,
            duration_ms=ms,
            attempt=attempt,
        )

    async def _call(self, unit: Unit, args: dict[str, Any] | None) -> _Try:
        uid, step = unit.id, unit.step
        assert step is not None
        outcome = _Try()
        for command in step.commands:
            assert self.command_server is not None
            call_args: dict[str, Any] = {"command": command.script, "timeout": self.command_timeout}
            if self.command_cwd is not None:
                call_args["cwd"] = self.command_cwd
            done = await self.caller.call(
                self.command_server, COMMAND_TOOL, call_args, self.command_timeout + _COMMAND_GRACE
            )
            if done.is_error:
                return self._tool_error(outcome, unit, COMMAND_TOOL, done)
            outcome.result = _value(done)
            ran = check(_EXIT_ZERO, outcome.result)
            outcome.checks.append(ran.to_json())
            if not ran.passed:
                code = outcome.result.get("exit_code") if isinstance(outcome.result, dict) else None
                first = command.script.strip().splitlines()[0] if command.script.strip() else ""
                outcome.error = f"command {first!r} exited {code}"
                outcome.reason = VerificationFailed(
                    failed_step=uid,
                    expectation=f"command {first!r} exits 0",
                    actual=code,
                    suggested_tool=COMMAND_TOOL,
                )
                return outcome
        binding = step.tool
        if binding is None:
            return outcome
        done = await self.caller.call(
            binding.server, binding.tool, args, binding.timeout, on_progress=self._progress(uid)
        )
        if done.pause is not None:  # the server needs a person: the step waits for one
            outcome.result = _value(done) if done.text or done.structured is not None else None
            outcome.reason = done.pause.model_copy(update={"blocked_step": uid})
            outcome.error = done.error
            return outcome
        if done.is_error:
            return self._tool_error(outcome, unit, binding.tool, done)
        outcome.result = _value(done)
        if binding.expect:
            checks, error, reason = verdict(uid, binding.tool, binding.expect, outcome.result)
            outcome.checks.extend(checks)
            if reason is not None:
                outcome.error, outcome.reason = error, reason
        return outcome

    def _progress(self, uid: str) -> ProgressSink | None:
        """What the step's server says of its call's progress, as `step_progress` events to
        `on_event` (shown live; not stored: it is not evidence); None when no one listens."""
        if self.on_event is None:
            return None

        def heard(progress: float, total: float | None, message: str | None) -> None:
            said = self.event("step_progress", uid, progress=progress, total=total, message=message)
            self.publish([said])

        return heard

    @staticmethod
    def _tool_error(
        outcome: _Try, unit: Unit, tool: str, done: CallResult | None, error: str = ""
    ) -> _Try:
        if done is not None:
            error = done.error or done.text or "the tool reported an error"
            if done.structured is not None:  # an error result's data is evidence too
                outcome.result = done.structured
        outcome.error = error
        outcome.reason = ToolError(
            failed_step=unit.id, error=outcome.error, retryable=unit.retryable, suggested_tool=tool
        )
        return outcome


def _value(done: CallResult) -> Any:
    """A call's result: its structured content, else its text."""
    return done.structured if done.structured is not None else done.text
