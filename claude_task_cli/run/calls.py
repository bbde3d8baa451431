"""The calls of one attempt: a unit's shell blocks (through the command server), then its tool,
and the checks of what they returned.

Each fenced block runs as one script (`run_command(script=…)`): a `sh` block under `sh -e`, any
other under `bash -e -o pipefail`, as CI runners run `shell: sh` / `shell: bash`; it must exit 0
(checked like an `expect` of `exit_code: 0`, the evidence kept, the failing line named). The tool's
result is checked against the binding's `expect`. The first failure ends the attempt: an `isError`
result is a `toolError`, a failed check a `verificationFailed`. A call cut while it ran — its
server died under it, or it ran out of time — may have taken effect: for a unit that is not
retryable that is `interrupted` (the unit pauses), not a failure the next execution would run
again. A server that cannot be used at all raises (`TaskCliError`): that is the unit runner's to
handle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from claude_task_cli.convert.model import Command, Expectation
from claude_task_cli.convert.step_kind import COMMAND_TOOL
from claude_task_cli.outcomes import Interrupted, PauseReason, ToolError, VerificationFailed
from claude_task_cli.run.units import Unit
from claude_task_cli.run.verify import check, verdict

if TYPE_CHECKING:
    from claude_task_cli.mcp.sessions import ProgressSink
    from claude_task_cli.run.caller import CallResult, ToolCaller

ScriptShell = Literal["bash", "sh"]

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
        done = await caller.call(
            commands.server,
            COMMAND_TOOL,
            script_args(command, commands),
            commands.timeout + _COMMAND_GRACE,
        )
        if done.is_error:
            return tool_error(unit, COMMAND_TOOL, done, result=result, checks=checks)
        result = _value(done)
        ran = check(_EXIT_ZERO, result)
        checks.append(ran.to_json())
        if not ran.passed:
            code = result.get("exit_code") if isinstance(result, dict) else None
            error = failed_block(command, result)
            if isinstance(result, dict) and result.get("timed_out") and not unit.retryable:
                cause = "the command ran out of time and was killed"
                cut = Interrupted(
                    blocked_step=uid, attempt=0, suggested_tool=COMMAND_TOOL, cause=cause
                )
                return Attempted(result, checks, f"interrupted: {error}", cut)
            reason = VerificationFailed(
                failed_step=uid,
                expectation=expected_of(command, result),
                actual=code,
                suggested_tool=COMMAND_TOOL,
            )
            return Attempted(result, checks, error, reason)
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
    verified, wrong, failed = verdict(uid, binding.tool, binding.expect, result)
    return Attempted(result, [*checks, *verified], wrong, failed)


def shell_of(command: Command) -> ScriptShell:
    """The shell a fenced block runs under: `sh` for a `sh` block, bash for the others."""
    return "sh" if command.lang == "sh" else "bash"


def script_args(command: Command, commands: CommandSetup) -> dict[str, Any]:
    """`run_command`'s arguments for one fenced block: the block as one script."""
    args: dict[str, Any] = {
        "script": command.script,
        "shell": shell_of(command),
        "timeout": commands.timeout,
    }
    if commands.cwd is not None:
        args["cwd"] = commands.cwd
    return args


# Words that end a compound command: an `sh` block names the last line the shell read, which for
# a failure inside a loop or an `if` is the line that closes it.
_CLOSERS = frozenset({"done", "fi", "esac", "}", ")"})


def _failing_line(command: Command, result: Any) -> str | None:
    """`'false' at line 7 (the bash block at line 6)`, when the shell named the line; in an `sh`
    block a line that closes a loop or block says so."""
    data = result if isinstance(result, dict) else {}
    line = data.get("failed_line")
    if not isinstance(line, int):
        return None
    text = data.get("failed_command") or ""
    shell = shell_of(command)
    block = f"the {shell} block at line {command.line}"
    at = command.line + line  # its line 1 follows the fence
    words = text.replace(";", " ").split()
    if shell == "sh" and words and words[0] in _CLOSERS:
        return f"the loop or block ending at line {at} ({text!r}) ({block})"
    return f"{text!r} at line {at} ({block})"


def expected_of(command: Command, result: Any) -> str:
    """The check a block failed, worded with its failing line when known."""
    where = _failing_line(command, result)
    return f"{where or f'the {shell_of(command)} block at line {command.line}'} exits 0"


def failed_block(command: Command, result: Any) -> str:
    """What failed in a block, its failing line named when the shell told it."""
    data = result if isinstance(result, dict) else {}
    where = f"the {shell_of(command)} block at line {command.line}"
    if data.get("timed_out"):
        return f"{where} ran out of time and was killed"
    return f"{_failing_line(command, result) or where} exited {data.get('exit_code')}"


def tool_error(
    unit: Unit,
    tool: str,
    done: CallResult | None,
    error: str = "",
    *,
    result: Any = None,
    checks: list[dict[str, Any]] | None = None,
) -> Attempted:
    """The attempt failed with a `toolError` — or, for a unit that is not retryable whose call
    was cut while it ran, was `interrupted`: the call's error (else `error`), with the result and
    checks of the calls before it."""
    if done is not None:
        error = done.error or done.text or "the tool reported an error"
        if done.structured is not None:  # an error result's data is evidence too
            result = done.structured
        cause = cut_by(done)
        if cause is not None and not unit.retryable:
            reason: PauseReason = Interrupted(
                blocked_step=unit.id, attempt=0, suggested_tool=tool, cause=cause
            )
            return Attempted(result, checks or [], f"interrupted: {error}", reason)
    reason = ToolError(
        failed_step=unit.id, error=error, retryable=unit.retryable, suggested_tool=tool
    )
    return Attempted(result, checks or [], error, reason)


def cut_by(done: CallResult) -> str | None:
    """Why a call was cut while it ran (it may have taken effect), or None: it was not."""
    if done.kind == "timeout":
        return "the call ran out of time"
    if done.kind == "transport" and done.sent:
        return "the server died during the call"
    return None


def _value(done: CallResult) -> Any:
    """A call's result: its structured content, else its text."""
    return done.structured if done.structured is not None else done.text
