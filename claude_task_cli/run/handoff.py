"""The handoff after a run stops: what was done (with results), what remains and how to do it.

Two renderings of one `Handoff`: the record itself (JSON for machines through `record_json`, pause
reasons and progress in their PMCP camelCase shapes) and `narrative()`, plain language for an
agent or a person.
Arguments of remaining tool calls are resolved from the results known so far; a value not known
yet is shown as `<result of step X at /path>`.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from claude_task_cli.convert.model import TaskDocument
from claude_task_cli.outcomes import (
    AwaitingClient,
    CommandServerUndeclared,
    Interrupted,
    InvalidParams,
    PauseReason,
    Progress,
    QuestionDeclined,
    RunStatus,
    SchemaMismatch,
    StepStatus,
    TaskRequired,
    ToolError,
    UnresolvableParams,
    UnresolvedDependency,
    VerificationFailed,
)
from claude_task_cli.run.arguments import marker, resolve_args, shell_args_of
from claude_task_cli.run.results import RunOutcome, Strings
from claude_task_cli.run.units import build_units

_SHOWN = 240  # characters of a result shown in the narrative
_STDERR_LINES = 10  # lines of a failed command's stderr shown


@dataclass(frozen=True, slots=True)
class DoneStep:
    step_id: str
    title: str
    tool: str | None
    result: Any = None
    source: str = "engine"


@dataclass(frozen=True, slots=True, kw_only=True)
class RemainingStep:
    step_id: str
    title: str
    status: StepStatus
    server: str | None = None
    tool: str | None = None
    arguments: dict[str, Any] | None = None
    commands: Strings = field(default_factory=list)
    waiting_for: Strings = field(default_factory=list)
    pause_reason: PauseReason | None = None
    guidance: str


@dataclass(frozen=True, slots=True)
class Handoff:
    task_id: str
    run_id: int | None
    status: RunStatus
    goal: str
    done: list[DoneStep]
    remaining: list[RemainingStep]
    pause_reasons: list[PauseReason]
    progress: Progress

    def narrative(self, document: str | None = None) -> str:
        """The handoff in plain language, for the command line: a step the client can unblock
        names the `claude-task record_step` command for it, with the document as `document` (as
        the user named it; by default its id)."""
        document = document or self.task_id
        lines = [self.headline(), f"Goal: {self.goal}"]
        if self.done:
            lines += ["", "Done:"]
            for step in self.done:
                how = f" ({step.tool})" if step.tool else ""
                by = {
                    "client": " [recorded by the client]",
                    "document": " [ticked in the document]",
                }
                shown = "" if step.result is None else f" → {_show(step.result)}"
                lines.append(f"- {step.step_id} {step.title}{how}{by.get(step.source, '')}{shown}")
        if self.remaining:
            lines += ["", "Remaining:"]
            for left in self.remaining:
                lines.append(f"- {left.step_id} {left.title} [{left.status}]")
                if left.tool is not None and left.server is not None:
                    lines.append(
                        f"  Call {left.tool} on server {left.server} with "
                        f"{json.dumps(left.arguments or {}, ensure_ascii=False)}"
                    )
                lines.extend(f"  {line}" for line in left.guidance.splitlines())
                if left.status.blocks_client:
                    lines.append(
                        f"  Record it: claude-task record_step {document} {left.step_id} "
                        "--done [--note TEXT] (or --result JSON|@FILE, or --fail TEXT)"
                    )
                if isinstance(left.pause_reason, Interrupted):  # it may have taken effect
                    lines.append(
                        "  Or, once you know it did not take effect, run it again: "
                        f"claude-task execute_task {document} --rerun-interrupted"
                    )
        return "\n".join(lines) + "\n"

    def headline(self) -> str:
        """`Run 2 of document 102 failed: 2 of 3 steps done; 1 failed.` — worded per outcome."""
        what = f"Run {self.run_id} of document" if self.run_id is not None else "Document"
        if any(isinstance(r, Interrupted) for r in self.pause_reasons):
            outcome = "was interrupted"
        else:
            outcome = _OUTCOME[self.status]
        total = len(self.done) + len(self.remaining)
        if not self.remaining:
            done = "its one step done" if total == 1 else f"all {total} steps done"
            return f"{what} {self.task_id} {outcome}: {done}."
        counts = Counter(left.status for left in self.remaining)
        left_text = ", ".join(f"{counts[s]} {label}" for s, label in _LEFT.items() if counts[s])
        steps = f"{len(self.done)} of {total} step{'' if total == 1 else 's'} done"
        return f"{what} {self.task_id} {outcome}: {steps}; {left_text}."


# How the headline says a run's status, and each kind of step that remains.
_OUTCOME = {
    RunStatus.COMPLETED: "completed",
    RunStatus.FAILED: "failed",
    RunStatus.PAUSED: "is paused",
    RunStatus.RUNNING: "is running (or its executor stopped)",
}
_LEFT = {
    StepStatus.FAILED: "failed",
    StepStatus.PAUSED: "paused",
    StepStatus.AWAITING_CLIENT: "awaiting the client",
    StepStatus.SKIPPED: "skipped",
    StepStatus.RUNNING: "running",
    StepStatus.PENDING: "not run yet",
}


def handoff(outcome: RunOutcome, doc: TaskDocument) -> Handoff:
    """The handoff for a run's outcome (from `execute`, `status_of` or `record_step_result`)."""
    units = build_units(doc)
    by_id = {s.step_id: s for s in outcome.steps}
    results = {s.step_id: s.result for s in outcome.steps if s.status == StepStatus.COMPLETED}
    done: list[DoneStep] = []
    remaining: list[RemainingStep] = []
    for step in outcome.steps:
        if step.status == StepStatus.COMPLETED:
            done.append(DoneStep(step_id=step.step_id, title=step.title, tool=step.tool,
                                 result=step.result, source=step.source))  # fmt: skip
            continue
        unit = units[step.step_id]
        binding = unit.step.tool if unit.step is not None else None
        arguments = None
        if binding is not None:
            shell = shell_args_of(binding.server, binding.tool, None)
            arguments = resolve_args(
                binding.args, results, placeholder=marker, shell_args=shell
            ).args
        waiting = [
            p for p in unit.prereqs if p in by_id and by_id[p].status != StepStatus.COMPLETED
        ]
        advice = _advice(step.pause_reason, step.status, waiting, step.error)
        if step.status == StepStatus.FAILED:
            advice = "\n".join(part for part in (advice, stderr_shown(step.result)) if part)
        guidance = "\n".join(part for part in (advice, unit.guidance()) if part)
        remaining.append(
            RemainingStep(
                step_id=step.step_id,
                title=step.title,
                status=step.status,
                server=unit.server,
                tool=step.tool,
                arguments=arguments,
                commands=[c.script.rstrip() for c in unit.step.commands] if unit.step else [],
                waiting_for=waiting,
                pause_reason=step.pause_reason,
                guidance=guidance,
            )
        )
    return Handoff(
        task_id=outcome.doc_id,
        run_id=outcome.run_id,
        status=outcome.run_status,
        goal=outcome.goal,
        done=done,
        remaining=remaining,
        pause_reasons=outcome.pause_reasons,
        progress=outcome.progress,
    )


def _advice(
    reason: PauseReason | None, status: StepStatus, waiting: list[str], error: str | None
) -> str:
    record = "then record its outcome (a result, or a failure message)"
    if isinstance(reason, AwaitingClient):
        return "For the client: do this step, then record it as done (or its result, or why it could not be done)."  # noqa: E501
    if isinstance(reason, SchemaMismatch):
        fields = ", ".join(reason.missing_fields)
        return f"Blocked: the arguments lack {fields}, required by {reason.suggested_tool}. Add them to the step's mcp block, or make the call yourself and {record}."  # noqa: E501
    if isinstance(reason, InvalidParams):
        return "Blocked: the arguments break the tool's schema: " + "; ".join(reason.problems)
    if isinstance(reason, UnresolvableParams):
        return f"Blocked: the value for {reason.missing_param} is not in the referenced step's result; fix the placeholder, or do the step yourself and {record}."  # noqa: E501
    if isinstance(reason, UnresolvedDependency):
        return f"Blocked: it uses {reason.missing_output}, but step {reason.producing_step} did not complete."  # noqa: E501
    if isinstance(reason, ToolError):
        again = "it may succeed if run again" if reason.retryable else "fix the cause first"
        return f"Failed: {reason.suggested_tool} reported: {reason.error} ({again})."
    if isinstance(reason, VerificationFailed):
        return f"Failed verification: expected {reason.expectation}, got {_show(reason.actual)}."
    if isinstance(reason, Interrupted):
        return f"Interrupted: it was running when the executor stopped (attempt {reason.attempt}); check whether it took effect, {record}."  # noqa: E501
    if isinstance(reason, CommandServerUndeclared):
        return "Blocked: it runs shell commands, but .mcp.json declares no command server (add one running `python -m claude_task_cli.mcp.command_server`), or run them yourself and record the outcome."  # noqa: E501
    if isinstance(reason, QuestionDeclined):
        return f"Waiting for a person: server {reason.server} asked {_asked(reason)}, and no one was at a terminal to answer. Run execute_task again in a terminal to answer it, or do the step yourself and {record}."  # noqa: E501
    if isinstance(reason, TaskRequired):
        return f"Blocked: {reason.suggested_tool} on server {reason.server} runs only as an MCP task, which this executor does not run: call it from a client that runs tasks (or do the step another way), {record}."  # noqa: E501
    if status in (StepStatus.SKIPPED, StepStatus.FAILED):
        return f"{status.capitalize()}: {error}" if error else str(status).capitalize()
    if waiting:
        return "Waits for step" + ("s " if len(waiting) > 1 else " ") + ", ".join(waiting) + "."
    return ""


def _asked(reason: QuestionDeclined) -> str:
    """The question, and what it wants: the form's fields, or the address to visit."""
    asked = json.dumps(reason.question, ensure_ascii=False)
    if reason.url is not None:
        return f"{asked} (visit {reason.url})"
    fields = (reason.requested_schema or {}).get("properties") or {}
    if fields:
        asked += f" (fields: {', '.join(fields)})"
    if reason.calls_in_flight > 1:
        others = reason.calls_in_flight - 1
        asked += f" while {others} other call(s) to it ran too: it may have come from one of them"
    return asked


def stderr_shown(result: Any) -> str:
    """A failed command's stderr (its last `_STDERR_LINES` lines), or "" when it wrote none."""
    stderr = result.get("stderr") if isinstance(result, dict) else None
    if not isinstance(stderr, str) or not stderr.strip():
        return ""
    lines = stderr.rstrip().splitlines()
    shown = [f"  {line}" for line in lines[-_STDERR_LINES:]]
    earlier = len(lines) - len(shown)
    more = f" (its last {len(shown)} lines; {earlier} more before them)" if earlier else ""
    return "\n".join([f"It wrote on stderr{more}:", *shown])


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"
