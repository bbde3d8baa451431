"""Outcomes of a run as data: step and run statuses, pause reasons, the progress document.

Pause reasons are the PMCP contract (seeds/plan-pause-reasons.md): JSON tagged by `type`, camelCase
fields. The four seed variants keep their exact shapes:

    {"type": "unresolvableParams", "blockedStep", "missingParam", "suggestedTool"}
    {"type": "schemaMismatch", "blockedStep", "missingFields": [...], "suggestedTool"}
    {"type": "toolError", "failedStep", "error", "retryable", "suggestedTool"}
    {"type": "unresolvedDependency", "blockedStep", "missingOutput", "producingStep",
     "suggestedTool"}

Variants added here, same style, for what the seeds do not cover: `invalidParams` (arguments that
break the tool's schema other than by a missing field), `awaitingClient` (a step with no tool: work
for an agent or a person), `interrupted` (a non-retryable step found running after a crash: it may
or may not have taken effect, so it is never re-run blindly), `commandServerUndeclared` (shell
commands but no command server in `.mcp.json`) and `verificationFailed` (an `expect` assertion or a
command's exit code did not hold); and two for what a step's server asks of the executor as an MCP
client that it cannot give: `questionDeclined` (the server asked a person a question, through
elicitation, with no one at a terminal to answer it) and `taskRequired` (the tool runs only as an
MCP task). `suggestedTool` is the bare tool name, as in the seed; it is null only where no tool
applies.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic.alias_generators import to_camel

PROGRESS_SCHEMA_VERSION = "1"


class StepStatus(StrEnum):
    """Where a step stands in a run.

    `paused` waits on a pause reason the client can resolve (fix arguments, record an outcome);
    `awaiting_client` is a step with no tool, waiting for its result to be recorded; `skipped`
    means a step it depends on failed or was skipped.
    """

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    PAUSED = "paused"
    AWAITING_CLIENT = "awaiting_client"

    @property
    def blocks_client(self) -> bool:
        """True when the client (an agent or a person) can unblock the step."""
        return self in (StepStatus.PAUSED, StepStatus.AWAITING_CLIENT)


class RunStatus(StrEnum):
    """A run's status; see `engine` for exactly when each one is reached."""

    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"


class _Camel(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )


class UnresolvableParams(_Camel):
    """A placeholder names a completed step whose result has nothing at that path."""

    type: Literal["unresolvableParams"] = "unresolvableParams"
    blocked_step: str
    missing_param: str
    suggested_tool: str


class SchemaMismatch(_Camel):
    """Resolved arguments lack fields the tool's `inputSchema` requires."""

    type: Literal["schemaMismatch"] = "schemaMismatch"
    blocked_step: str
    missing_fields: list[str]
    suggested_tool: str


class ToolError(_Camel):
    """The call failed (an `isError` result, an MCP error, a timeout, a dead server) after the
    step's retry budget; `retryable` is the step's own hint that trying again may succeed."""

    type: Literal["toolError"] = "toolError"
    failed_step: str
    error: str
    retryable: bool
    suggested_tool: str


class UnresolvedDependency(_Camel):
    """The step consumes the output of a step that failed or was skipped."""

    type: Literal["unresolvedDependency"] = "unresolvedDependency"
    blocked_step: str
    missing_output: str
    producing_step: str
    suggested_tool: str


class InvalidParams(_Camel):
    """Resolved arguments break the tool's `inputSchema` (wrong type, unknown value, ...)."""

    type: Literal["invalidParams"] = "invalidParams"
    blocked_step: str
    problems: list[str]
    suggested_tool: str


class AwaitingClient(_Camel):
    """A step with no tool binding: the client does the work and records its outcome."""

    type: Literal["awaitingClient"] = "awaitingClient"
    blocked_step: str
    guidance: str
    suggested_tool: str | None = None


class Interrupted(_Camel):
    """A non-retryable step was cut while running — its executor died or was stopped, its server
    died during the call, the call ran out of time — so it may have taken effect: the client
    checks and records its outcome (or asks for it to run again) instead of the engine calling it
    again. `cause` says what cut it, when known."""

    type: Literal["interrupted"] = "interrupted"
    blocked_step: str
    attempt: int
    suggested_tool: str | None = None
    cause: str | None = None


class CommandServerUndeclared(_Camel):
    """A step has shell commands but the project's `.mcp.json` declares no command server."""

    type: Literal["commandServerUndeclared"] = "commandServerUndeclared"
    blocked_step: str
    commands: list[str]
    suggested_tool: str = "run_command"


class VerificationFailed(_Camel):
    """An `expect` assertion (or a command's exit code) did not hold; the evidence is kept."""

    type: Literal["verificationFailed"] = "verificationFailed"
    failed_step: str
    expectation: str
    actual: Any = None
    suggested_tool: str | None = None


class QuestionDeclined(_Camel):
    """The step's server asked a person a question while the step ran (an MCP elicitation
    request: `question`, with the form it wants filled, `requestedSchema`, or a `url` to visit)
    and no one was at a terminal to answer it: it was declined, and the step waits for a person —
    to run it again at a terminal, or to do it and record its outcome. What the tool returned
    after the refusal is kept as the attempt's result. The protocol does not say which call a
    question is about: `callsInFlight` is how many calls to that server were in flight when it
    was asked — above 1, each of them pauses with it, and this step may not be the one that
    asked."""

    type: Literal["questionDeclined"] = "questionDeclined"
    blocked_step: str
    server: str
    question: str
    requested_schema: dict[str, Any] | None = None
    url: str | None = None
    calls_in_flight: int = 1
    suggested_tool: str


class TaskRequired(_Camel):
    """The step's tool runs only as an MCP task (its `execution.taskSupport` is `required`),
    which this executor does not run as a client: it was not called. The client runs it some
    other way and records the step's outcome."""

    type: Literal["taskRequired"] = "taskRequired"
    blocked_step: str
    server: str
    suggested_tool: str


PauseReason = Annotated[
    UnresolvableParams
    | SchemaMismatch
    | ToolError
    | UnresolvedDependency
    | InvalidParams
    | AwaitingClient
    | Interrupted
    | CommandServerUndeclared
    | VerificationFailed
    | QuestionDeclined
    | TaskRequired,
    Field(discriminator="type"),
]
PAUSE_REASON: TypeAdapter[PauseReason] = TypeAdapter(PauseReason)


def step_of(reason: PauseReason) -> str:
    """The step a pause reason is about."""
    if isinstance(reason, ToolError | VerificationFailed):
        return reason.failed_step
    return reason.blocked_step


def pause_reason_json(reason: PauseReason) -> str:
    return PAUSE_REASON.dump_json(reason).decode()


def parse_pause_reason(text: str) -> PauseReason:
    return PAUSE_REASON.validate_json(text)


class ProgressStep(_Camel):
    name: str
    tool: str | None = None
    status: StepStatus


class Progress(_Camel):
    """The PMCP progress document: `{goal, steps: [{name, tool, status}], schemaVersion}`."""

    goal: str
    steps: list[ProgressStep]
    schema_version: str = PROGRESS_SCHEMA_VERSION


# The events that end a step (for this run), with the word shown for each.
STEP_END: dict[str, str] = {
    "step_completed": "completed",
    "step_failed": "failed",
    "step_skipped": "skipped",
    "step_paused": "paused",
    "step_awaiting_client": "awaiting client",
}
# Those that settle it for this run: what progress counts (a step waiting on the client is not).
STEP_SETTLED = frozenset({"step_completed", "step_failed", "step_skipped"})
