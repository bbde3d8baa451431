"""Running one unit of a run: the checks before any call, the attempts, retries, and recording.

Before a call: the arguments are resolved from earlier results (an unresolvable placeholder pauses
the unit, one whose producing step failed skips it) and checked against the tool's `inputSchema`;
shell commands need a declared command server. Then each attempt is recorded when it starts
(committed before its call) and when it ends (deferred: it rides with the next write). A failed
attempt of a retryable unit is retried after a backoff, up to the binding's `retries`. The rules
as a whole: `engine.py`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from claude_task_cli.convert.step_kind import COMMAND_TOOL
from claude_task_cli.errors import StoreError, TaskCliError
from claude_task_cli.outcomes import (
    AwaitingClient,
    CommandServerUndeclared,
    Interrupted,
    PauseReason,
    QuestionDeclined,
    StepStatus,
    TaskRequired,
    ToolError,
    UnresolvedDependency,
)
from claude_task_cli.run.arguments import (
    ArgsValidator,
    make_validator,
    refused_reason,
    resolve_args,
    schema_reason,
    shell_args_of,
    unresolved_reason,
)
from claude_task_cli.run.calls import CommandSetup, make_calls, tool_error
from claude_task_cli.run.options import RunOptions
from claude_task_cli.run.recorder import Recorder
from claude_task_cli.run.states import UnitStates
from claude_task_cli.run.units import Unit
from claude_task_cli.store import StepState

if TYPE_CHECKING:
    from claude_task_cli.mcp.sessions import ProgressSink
    from claude_task_cli.run.caller import ToolCaller, ToolSpec


class UnitRunner:
    """Runs units to an outcome; `abort` is set when a server cannot be used at all."""

    def __init__(
        self,
        units: Mapping[str, Unit],
        states: UnitStates,
        caller: ToolCaller,
        recorder: Recorder,
        options: RunOptions,
        commands: CommandSetup,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self.units = units
        self.states = states
        self.caller = caller
        self.recorder = recorder
        self.store = recorder.store
        self.options = options
        self.commands = commands
        self.clock = clock
        self.sleep = sleep
        self.abort: TaskCliError | None = None
        self.in_flight: dict[str, int] = {}  # unit → the attempt whose call is being made
        self._validators: dict[tuple[str, str], ArgsValidator | None] = {}
        self._tools: dict[str, Mapping[str, ToolSpec]] = {}

    async def run(self, uid: str) -> None:
        """Run one unit to an outcome; a server that cannot be used sets `abort`."""
        unit = self.units[uid]
        self.states.start(uid)
        if unit.kind == "group":
            self.recorder.settle(uid, StepStatus.COMPLETED)
        elif unit.kind == "client":
            if unit.step is not None and unit.step.checked:
                self.recorder.settle(uid, StepStatus.COMPLETED, source="document")
            else:
                waiting = AwaitingClient(blocked_step=uid, guidance=unit.guidance())
                self.recorder.settle(uid, StepStatus.AWAITING_CLIENT, reason=waiting)
        else:
            try:
                await self._run_calls(unit)
            except StoreError:  # the state cannot be kept: nothing to record, the run stops
                raise
            except TaskCliError as exc:
                self.abort = self.abort or exc
                if self.states.status(uid) == StepStatus.RUNNING:
                    reason = ToolError(
                        failed_step=uid,
                        error=str(exc).splitlines()[0],
                        retryable=unit.retryable,
                        suggested_tool=unit.tool_name or "",
                    )
                    self.recorder.settle(uid, StepStatus.FAILED, error=str(exc), reason=reason)

    def cascade(self, uid: str, scope: set[str]) -> None:
        """Skip every pending unit of `scope` downstream of a failed or skipped unit."""
        stack = [uid]
        while stack:
            cause = stack.pop()
            for dep in self.units[cause].dependents:
                if dep not in scope or self.states.status(dep) != StepStatus.PENDING:
                    continue
                self.recorder.settle(
                    dep,
                    StepStatus.SKIPPED,
                    error=f"step {cause} did not complete",
                    reason=self._dependency_reason(self.units[dep]),
                )
                stack.append(dep)

    def skip_pending(self, scope: set[str], why: str) -> None:
        """Skip every unit of `scope` still pending (the run stops short of them)."""
        for uid in sorted(scope, key=lambda u: self.units[u].order):
            if self.states.status(uid) == StepStatus.PENDING:
                self.recorder.settle(uid, StepStatus.SKIPPED, error=why)

    def _dependency_reason(self, unit: Unit) -> PauseReason | None:
        binding = unit.step.tool if unit.step is not None else None
        if binding is None:
            return None
        refs = unit.references
        statuses = {ref: self.states.status(ref) for ref in refs if ref in self.states}
        for problem in resolve_args(binding.args, self.states.results(refs)).unresolved:
            reason = unresolved_reason(unit.id, binding.tool, problem, statuses)
            if isinstance(reason, UnresolvedDependency):
                return reason
        return None

    async def _run_calls(self, unit: Unit) -> None:
        """The checks before any call, then the attempts."""
        uid, step = unit.id, unit.step
        assert step is not None
        binding = step.tool
        args: dict[str, Any] | None = None
        if binding is not None:
            results = self.states.results(binding.references) if binding.references else {}
            shell = shell_args_of(binding.server, binding.tool, self.commands.server)
            resolution = resolve_args(binding.args, results, shell_args=shell)
            if resolution.refused:  # a value a shell would read as code: nothing is called
                why = refused_reason(uid, binding.tool, resolution.refused)
                self.recorder.settle(uid, StepStatus.PAUSED, reason=why)
                return
            if resolution.unresolved:
                why = unresolved_reason(
                    uid, binding.tool, resolution.unresolved[0], self.states.statuses()
                )
                skipped = isinstance(why, UnresolvedDependency)
                self.recorder.settle(
                    uid, StepStatus.SKIPPED if skipped else StepStatus.PAUSED, reason=why
                )
                return
            args = resolution.args
            # like a bash fence: relative paths mean the project root, wherever we run from
            is_command = (binding.server, binding.tool) == (self.commands.server, COMMAND_TOOL)
            if is_command and self.commands.cwd is not None and "cwd" not in args:
                args["cwd"] = self.commands.cwd
            tools = await self._tools_of(binding.server)
            spec = tools.get(binding.tool)
            if spec is None:
                listed = ", ".join(sorted(tools)) or "none"
                error = f"server {binding.server!r} has no tool {binding.tool!r} (it has: {listed})"
                reason = ToolError(
                    failed_step=uid, error=error, retryable=False, suggested_tool=binding.tool
                )
                self.recorder.settle(uid, StepStatus.FAILED, error=error, reason=reason)
                return
            key = (binding.server, binding.tool)
            if key not in self._validators:
                self._validators[key] = make_validator(spec.input_schema)
            mismatch = schema_reason(uid, binding.tool, self._validators[key], args)
            if mismatch is not None:
                self.recorder.settle(uid, StepStatus.PAUSED, reason=mismatch)
                return
        if step.commands and self.commands.server is None:
            scripts = [c.script.rstrip() for c in step.commands]
            waiting = CommandServerUndeclared(blocked_step=uid, commands=scripts)
            self.recorder.settle(uid, StepStatus.PAUSED, reason=waiting)
            return
        if step.commands and self.commands.server is not None:
            # opened before the attempt starts, so a step's duration is its own, not the spawn's
            await self._tools_of(self.commands.server)
        recorded = args if binding is not None else {"commands": [c.script for c in step.commands]}
        budget = 1 + (binding.retries if binding is not None and binding.retryable else 0)
        for number in range(1, budget + 1):
            await self._attempt(unit, args, recorded, last=number == budget, nth=number)
            if self.states.status(uid) != StepStatus.RUNNING:
                return
            await self.sleep(self.options.backoff(number))

    async def _tools_of(self, server: str) -> Mapping[str, ToolSpec]:
        """The server's tools, listed once per run (no await, no task switch, after that)."""
        tools = self._tools.get(server)
        if tools is None:
            self.store.flush()  # opening a server may take a while: commit what is settled
            tools = self._tools[server] = await self.caller.list_tools(server)
        return tools

    async def _attempt(
        self, unit: Unit, args: dict[str, Any] | None, recorded: Any, *, last: bool, nth: int
    ) -> None:
        """One attempt: started (committed before the call), called, ended (deferred, unless a
        retry waits next)."""
        uid, recorder = unit.id, self.recorder
        state = self.states[uid]
        number = state.attempt + 1
        # `attempt` numbers the step's outcomes (a skip is one); `call` counts its calls
        started = recorder.event(
            "step_started", uid, attempt=number, call=state.attempts + 1, tool=unit.tool_name
        )
        t0 = self.clock()
        attempt = self.store.start_attempt(recorder.run_id, uid, recorded, events=[started])
        self.in_flight[uid] = attempt
        try:
            outcome = await make_calls(
                self.caller, unit, args, self.commands, on_progress=self._progress(uid)
            )
        except TaskCliError as exc:  # a server that cannot be used: no retry, stop the run
            self.abort = self.abort or exc
            outcome = tool_error(unit, unit.tool_name or "", None, str(exc))
            last = True
        del self.in_flight[uid]  # not when cancelled: the engine closes it (`engine.py`)
        ms = (self.clock() - t0) * 1000
        reason_now = outcome.reason
        if outcome.reason is None:
            status = StepStatus.COMPLETED
            item = recorder.event("step_completed", uid, attempt=attempt, duration_ms=round(ms, 3))
        elif isinstance(outcome.reason, Interrupted):  # cut while it ran: no retry, no failure
            status = StepStatus.PAUSED
            reason_now = outcome.reason.model_copy(update={"attempt": attempt})
            item = recorder.event(
                "step_paused",
                uid,
                attempt=attempt,
                error=outcome.error,
                reason=reason_now.model_dump(),
            )
        elif isinstance(outcome.reason, QuestionDeclined | TaskRequired):  # no retry: a person
            status = StepStatus.PAUSED
            reason = outcome.reason.model_dump()
            item = recorder.event(
                "step_paused", uid, attempt=attempt, source="engine", reason=reason
            )
        elif last:
            status = StepStatus.FAILED
            reason = outcome.reason.model_dump()
            item = recorder.event(
                "step_failed", uid, attempt=attempt, error=outcome.error, reason=reason
            )
        else:
            status = StepStatus.RUNNING
            delay = self.options.backoff(nth)
            item = recorder.event(
                "step_retried", uid, attempt=attempt, error=outcome.error, delay=delay
            )
        checks = outcome.checks or None
        self.store.finish_attempt(
            recorder.run_id,
            uid,
            attempt,
            StepStatus.FAILED if status == StepStatus.RUNNING else status,
            result=outcome.result,
            error=outcome.error,
            pause_reason=reason_now,
            checks=checks,
            events=[item],
            defer=status != StepStatus.RUNNING,  # a retry sleeps next: commit that one now
        )
        held = self.states.holds(uid)  # else in the store only
        self.states.set(
            uid,
            StepState(
                status=status,
                result=outcome.result if held else None,
                error=outcome.error,
                pause_reason=reason_now,
                args=recorded,
                checks=checks if held else None,
                attempts=state.attempts + 1,
                duration_ms=ms,
                attempt=attempt,
            ),
        )

    def _progress(self, uid: str) -> ProgressSink | None:
        """What the step's server says of its call's progress, as `step_progress` events to
        `on_event` (shown live; not stored: it is not evidence); None when no one listens."""
        recorder = self.recorder
        if recorder.on_event is None:
            return None

        def heard(progress: float, total: float | None, message: str | None) -> None:
            said = recorder.event(
                "step_progress", uid, progress=progress, total=total, message=message
            )
            recorder.publish([said])

        return heard
