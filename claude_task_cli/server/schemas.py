"""The JSON Schema of what each tool returns (its `outputSchema`), generated from the types the
results are made of: the converter's contract for `convert_task`, the run's models for the run
document, and typed dictionaries mirroring the JSON the CLI prints for the rest (the board's
included).

Published, not re-validated: the tools build their results from these same types, and the SDK
client checks every result against the schema it was given.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal, NotRequired

from pydantic import TypeAdapter
from typing_extensions import TypedDict

from claude_task_cli.outcomes import PauseReason, Progress, RunStatus, StepStatus
from claude_task_cli.report.matrix_shapes import Matrix
from claude_task_cli.run.handoff import Handoff
from claude_task_cli.run.results import PlannedCall, StepResult


class DocumentRef(TypedDict):
    """The document a run is of."""

    id: str
    path: str
    sha256: str


class RunDocument(TypedDict):
    """Where a run stands: `execute_task --json`, and the `claude-task://runs/{doc}` resource."""

    runId: int | None
    document: DocumentRef
    status: RunStatus  # the selected steps' (only_task / only_step), else the document's
    runStatus: RunStatus  # the whole document's
    progress: Progress
    results: list[StepResult]
    pauseReasons: list[PauseReason]
    handoff: Handoff
    answered: NotRequired[list[Answer]]  # steps a person answered through the client, this call


class Answer(TypedDict):
    """A step for a person, answered through the client's elicitation (see `people.py`)."""

    step: str
    action: Literal["accept", "decline", "cancel"]
    recorded: Literal["result", "failure"] | None
    answeredBy: str


class Plan(TypedDict):
    """A dry run: every call it would make, wave by wave, and the run it would resume."""

    dryRun: Literal[True]
    runId: int | None
    plan: list[PlannedCall]


class Recorded(TypedDict):
    """What `record_step` recorded, and where the run stands after it."""

    recorded: Literal["result", "failure"]
    step: str
    stepStatus: StepStatus  # failed when a result did not pass the step's checks
    error: str | None
    runId: int | None
    runStatus: RunStatus
    pauseReasons: list[PauseReason]


class Written(TypedDict):
    """The reports `generate_report` wrote and removed, and the verdict on what they report."""

    written: list[str]
    removed: list[str]
    complete: bool
    verdict: str
    reasons: list[str]


class Cancelled(TypedDict):
    """What `cancel_run` stopped."""

    cancelled: bool  # false: no run of the document was executing in this server
    runId: int | None
    document: str
    runStatus: RunStatus | None  # as recorded once the run stopped
    message: str


class Problem(TypedDict):
    path: str | None
    line: int | None
    message: str


class Failure(TypedDict):
    """A tool error's structured content (`boundary.py`): what the CLI would have said and done."""

    code: Literal["invalid_input", "environment", "internal"]
    exitCode: int
    kind: str
    message: str
    where: dict[str, Any] | None
    errors: list[Problem]


BoardState = Literal["backlog", "ready", "in_progress", "in_review", "done", "blocked", "cancelled"]


class BoardTaskRow(TypedDict):
    """A task on the board, as `board.BoardTask.to_dict` gives it (the claim token never)."""

    id: int
    document_id: int
    repository: str
    path: str
    doc_id: str
    number: str
    title: str
    position: int
    priority: str | None
    priority_rank: int
    state: BoardState
    source: str
    marker: str
    changes: list[str] | None
    retired_at: float | None
    created_at: float
    updated_at: float
    attempts: int
    max_attempts: int
    backoff: float
    not_before: float | None
    claim_worker: str | None
    lease_until: float | None
    reason: dict[str, Any] | None
    definition: dict[str, Any] | None
    auto_ready: bool
    retired: bool


class BoardDocument(TypedDict):
    repository: str
    document: str
    doc_id: str
    states: dict[BoardState, list[BoardTaskRow]]


class BoardView(TypedDict):
    """The board, as `task_status --json` without TASK prints it (`board.board_json`)."""

    documents: list[BoardDocument]
    totals: dict[BoardState, int]


class Claim(TypedDict):
    """A claim held, as `claim --json` prints it (`board.Claimed.to_dict`)."""

    claimed: Literal[True]
    document: str
    repository: str
    task: str
    title: str
    priority: str | None
    attempt: int
    max_attempts: int
    worker: str
    lease_until: float


class NoClaim(TypedDict):
    """Nothing claimed, and why: none ready, limits reached, or the task named is done."""

    claimed: Literal[False]
    worker: str
    reason: str


class MovedTask(BoardTaskRow):
    """A task after `move_task`, and whether the move changed it."""

    changed: bool


def _schema(kind: Any) -> dict[str, Any]:
    schema: dict[str, Any] = TypeAdapter(kind).json_schema(mode="serialization")
    return schema


def _either(*schemas: dict[str, Any]) -> dict[str, Any]:
    """One object schema that is any of `schemas` or a tool error's structured content (a
    client checks an error's structured content against the output schema too)."""
    options: list[dict[str, Any]] = []
    defs: dict[str, Any] = {}
    for given in (*schemas, _schema(Failure)):
        option = {k: v for k, v in given.items() if k not in ("$schema", "$defs")}
        defs.update(given.get("$defs", {}))
        options.append(option)
    return {"type": "object", "anyOf": options, "$defs": defs}


@cache
def output_schemas() -> dict[str, dict[str, Any]]:
    """Each tool's output schema, by tool name: its result, or a tool error."""
    from claude_task_cli.convert.contract import json_schema

    return {
        "convert_task": _either(json_schema()),
        "execute_task": _either(_schema(RunDocument), _schema(Plan)),
        "record_step": _either(_schema(Recorded)),
        "task_status": _either(_schema(Matrix), _schema(BoardView)),
        "generate_report": _either(_schema(Written)),
        "cancel_run": _either(_schema(Cancelled)),
        "claim_task": _either(_schema(Claim), _schema(NoClaim)),
        "move_task": _either(_schema(MovedTask)),
    }


def run_document_schema() -> dict[str, Any]:
    """The run document's schema on its own (the runs resource)."""
    return _schema(RunDocument)
