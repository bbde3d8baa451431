"""The completion matrix as JSON values: the one description of what `task_status --json` prints,
what `Matrix.to_dict()` returns and what the MCP door publishes as `task_status`'s output schema
(`server/schemas.py` takes these types as they are).

Typed dictionaries of `typing_extensions`, which pydantic reads on every Python this project
supports.
"""

from __future__ import annotations

from typing import Any, Literal

from typing_extensions import TypedDict

State = Literal["completed", "failed", "skipped", "paused", "awaiting_client", "running", "not_run"]
Completion = Literal["COMPLETE", "INCOMPLETE"]


class TaskRow(TypedDict):
    id: str
    title: str
    state: State
    completion: Completion
    steps_total: int
    steps_complete: int
    percent: float
    failures: list[str]
    blocked_by: list[str]
    duration_ms: float | None


class StepRow(TypedDict):
    id: str
    task_id: str
    title: str
    kind: str
    tool: str | None
    server: str | None
    state: State
    completion: Completion
    failure: str | None
    blocked_by: list[str]
    attempts: int
    duration_ms: float | None
    checks_passed: int
    checks_failed: int
    source: str | None
    pause_reason: dict[str, Any] | None


class Matrix(TypedDict):
    """The completion matrix, as `task_status --json` prints it (`report/matrix.py`)."""

    doc_id: str
    title: str
    run_id: int | None
    run_status: str | None
    document_changed: bool
    verdict: Completion
    reasons: list[str]
    steps_total: int
    steps_complete: int
    step_percent: float
    tasks_total: int
    tasks_complete: int
    task_percent: float
    checks_passed: int
    checks_failed: int
    complete_by_client: int
    complete_by_document: int
    tasks: list[TaskRow]
    steps: list[StepRow]
