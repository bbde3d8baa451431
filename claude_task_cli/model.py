"""The JSON contract: a task document converted to a validated step graph.

Everything downstream (executor, reports, MCP server) consumes these models. `claude-task schema`
prints their JSON Schema; `docs/json-contract.md` documents them. Bump `SCHEMA_VERSION` on any
change a consumer could notice.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

SCHEMA_VERSION = "2.0"  # history in docs/json-contract.md "Versioning"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Status(StrEnum):
    """Status written by the author in a heading, normalised."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    COMPLETE = "complete"
    FAILED = "failed"
    UNKNOWN = "unknown"  # nothing written, or nothing recognisable


class StatusInfo(_Model):
    value: Status
    raw: str = Field(description="the status text exactly as written (empty when none)")


class Warning(_Model):
    line: int
    message: str


class Source(_Model):
    path: str
    sha256: str
    encoding: str = Field(description="encoding the bytes were decoded with (utf-8 unless guessed)")


class ListItem(_Model):
    """A bullet or numbered item. `checked` is null for a plain item, a bool for a checkbox."""

    text: str
    line: int
    checked: bool | None = None
    children: list[ListItem] = Field(default_factory=list)


class Expectation(_Model):
    """One assertion on a tool result. `path` is a `/`-separated path into the result value."""

    path: str = ""
    equals: Any = Field(
        default=None, description="written only when the author gave it (null is then a value)"
    )
    contains: str | None = None
    matches: str | None = None
    exists: bool | None = None
    exit_code: int | None = None

    @model_serializer(mode="wrap")
    def _equals_only_when_given(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # `equals: null` is an assertion of its own; an unset `equals` must not read back as one
        data: dict[str, Any] = handler(self)
        if "equals" not in self.model_fields_set:
            data.pop("equals", None)
        return data


class ToolBinding(_Model):
    """An MCP tool call bound to a step (a fenced block with info string `mcp`)."""

    server: str
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    retryable: bool = False
    retries: int = Field(default=0, ge=0, le=20, description="extra attempts when retryable")
    timeout: float | None = Field(default=None, gt=0, description="seconds per attempt")
    expect: list[Expectation] = Field(default_factory=list)
    line: int = Field(description="line of the opening fence")
    references: list[str] = Field(
        default_factory=list, description="step ids referenced by ${step:ID...} placeholders"
    )


class Command(_Model):
    """A fenced shell block inside a step, run later through the MCP command server."""

    lang: str
    script: str
    line: int


class Step(_Model):
    id: str
    title: str
    checked: bool
    line: int
    depends_on: list[str] = Field(default_factory=list)
    parallel: bool = False
    details: list[ListItem] = Field(default_factory=list)
    substeps: list[Step] = Field(default_factory=list)
    tool: ToolBinding | None = None
    commands: list[Command] = Field(default_factory=list)
    implicit: bool = Field(
        default=False, description="made by the converter from a fence outside any checklist"
    )


class Task(_Model):
    id: str
    title: str
    status: StatusInfo
    line: int
    priority: str | None = None
    complexity: str | None = None
    impact: str | None = None
    depends_on: list[str] = Field(default_factory=list)
    depends_declared: bool = Field(
        default=False, description="false when depends_on is the documented default"
    )
    parallel: bool = False
    description: str = ""
    steps: list[Step] = Field(default_factory=list)
    research: list[ListItem] = Field(default_factory=list)
    specifications: list[ListItem] = Field(default_factory=list)
    verification: list[ListItem] = Field(default_factory=list)
    cli_testing: list[ListItem] = Field(default_factory=list)
    acceptance_criteria: list[ListItem] = Field(default_factory=list)
    lists: dict[str, list[ListItem]] = Field(
        default_factory=dict, description="every other bold-labelled list, by label"
    )
    notes: list[ListItem] = Field(
        default_factory=list, description="unlabelled plain bullets under the task heading"
    )


class Section(_Model):
    """A heading that is not a task, with its text and any list items that belong to it."""

    title: str
    level: int
    line: int
    text: str
    items: list[ListItem] = Field(default_factory=list)


class UsageRow(_Model):
    command: str
    description: str
    example: str
    expected_output: str
    line: int


class ReportRequirements(_Model):
    sections: list[str] = Field(default_factory=list)
    naming: str | None = None
    line: int


class TaskDocument(_Model):
    schema_version: str = SCHEMA_VERSION
    source: Source
    id: str
    title: str
    status: StatusInfo
    objective: str | None = None
    requirements: list[ListItem] = Field(default_factory=list)
    sections: list[Section] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)
    waves: list[list[str]] = Field(default_factory=list)
    usage: list[UsageRow] = Field(default_factory=list)
    report_requirements: ReportRequirements | None = None
    warnings: list[Warning] = Field(default_factory=list)

    def to_json(self) -> str:
        """Deterministic JSON: field order fixed by the model, UTF-8, trailing newline."""
        return self.model_dump_json(indent=2) + "\n"

    def all_steps(self) -> list[tuple[Task, Step]]:
        """Every step and sub-step in document order, with its task."""
        out: list[tuple[Task, Step]] = []

        def walk(task: Task, steps: list[Step]) -> None:
            for step in steps:
                out.append((task, step))
                walk(task, step.substeps)

        for task in self.tasks:
            walk(task, task.steps)
        return out
