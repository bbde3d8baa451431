"""The calls of one attempt: a unit's shell commands (through the command server), then its tool,
and the checks of what they returned.

A command must exit 0 (checked like an `expect` of `exit_code: 0`, the evidence kept); the tool's
result is checked against the binding's `expect`. The first failure ends the attempt: an `isError`
result is a `toolError`, a failed check a `verificationFailed`. A server that cannot be used at all
raises (`TaskCliError`): that is the unit runner's to handle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from claude_task_cli.convert.model import Expectation
from claude_task_cli.convert.step_kind import COMMAND_TOOL
from claude_task_cli.outcomes import PauseReason, ToolError, VerificationFailed
from claude_task_cli.run.units import Unit
from claude_task_cli.run.verify import check, verdict

if TYPE_CHECKING:
    from claude_task_cli.mcp.sessions import ProgressSink
    from claude_task_cli.run.caller import CallResult, ToolCaller

_EXIT_ZERO = Expectation(exit_code=0)
_COMMAND_GRACE = 30.0  # seconds the MCP call may outlive the command's own timeout


@dataclass(frozen=True, slots=True)
class CommandSetup:
    """Where a unit's shell commands run: the command server's name (None: not declared), the
    directory relative paths mean (the project root), and each command's timeout in seconds."""

    server: str | None
    cwd: str | None
    timeout: float


@dataclass(frozen=True, slots=True)
class Attempted:
    """One attempt's outcome: the last result, every check made, and why it failed (if it did)."""

    result: Any = None
    checks: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    reason: PauseReason | None = None


async def make_calls(
    caller: ToolCaller,
    unit: Unit,
    args: dict[str, Any] | None,
    commands: CommandSetup,
    *,
    on_progress: ProgressSink | None = None,
) -> Attempted:
    """Run the unit's commands, then call its tool with `args`; stop at the first failure.
    `on_progress` hears what the tool's server says of the call's progress. A call the server
    needs a person for (a question no one answered, a tool that runs only as a task) ends the
    attempt with that pause reason, for the step."""
    uid, step = unit.id, unit.step
    assert step is not None
    result: Any = None
    checks: list[dict[str, Any]] = []
    for command in step.commands:
        assert commands.server is not None
        call_args: dict[str, Any] = {"command": command.script, "timeout": commands.timeout}
        if commands.cwd is not None:
            call_args["cwd"] = commands.cwd
        done = await caller.call(
            commands.server, COMMAND_TOOL, call_args, commands.timeout + _COMMAND_GRACE
        )
        if done.is_error:
            return tool_error(unit, COMMAND_TOOL, done, result=result, checks=checks)
        result = _value(done)
        ran = check(_EXIT_ZERO, result)
        checks.append(ran.to_json())
        if not ran.passed:
            code = result.get("exit_code") if isinstance(result, dict) else None
            first = command.script.strip().splitlines()[0] if command.script.strip() else ""
            reason = VerificationFailed(
                failed_step=uid,
                expectation=f"command {first!r} exits 0",
                actual=code,
                suggested_tool=COMMAND_TOOL,
            )
            return Attempted(result, checks, f"command {first!r} exited {code}", reason)
    binding = step.tool
    if binding is None:
        return Attempted(result, checks)
    done = await caller.call(
        binding.server, binding.tool, args, binding.timeout, on_progress=on_progress
    )
    if done.pause is not None:  # the server needs a person: the step waits for one
        said = _value(done) if done.text or done.structured is not None else None
        waits = done.pause.model_copy(update={"blocked_step": uid})
        return Attempted(said if said is not None else result, checks, done.error, waits)
    if done.is_error:
        return tool_error(unit, binding.tool, done, result=result, checks=checks)
    result = _value(done)
    if not binding.expect:
        return Attempted(result, checks)
    verified, error, failed = verdict(uid, binding.tool, binding.expect, result)
    return Attempted(result, [*checks, *verified], error, failed)


def tool_error(
    unit: Unit,
    tool: str,
    done: CallResult | None,
    error: str = "",
    *,
    result: Any = None,
    checks: list[dict[str, Any]] | None = None,
) -> Attempted:
    """The attempt failed with a `toolError`: the call's error (else `error`), with the result and
    checks of the calls before it."""
    if done is not None:
        error = done.error or done.text or "the tool reported an error"
        if done.structured is not None:  # an error result's data is evidence too
            result = done.structured
    reason = ToolError(
        failed_step=unit.id, error=error, retryable=unit.retryable, suggested_tool=tool
    )
    return Attempted(result, checks or [], error, reason)


def _value(done: CallResult) -> Any:
    """A call's result: its structured content, else its text."""
    return done.structured if done.structured is not None else done.text
