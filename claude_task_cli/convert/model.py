"""The JSON contract: a task document converted to a validated step graph.

Everything downstream (executor, reports, MCP server) consumes these models. `claude-task schema`
prints their JSON Schema; `docs/json-contract.md` documents them. Bump `SCHEMA_VERSION` on any
change a consumer could notice.

They are plain dataclasses, so converting a document without `mcp` blocks imports no pydantic
(importing the package stays light for every stage that only reads the model). pydantic
validates what users and files give (`contract.py`: bindings, converted `.json`, the JSON Schema)
through the same classes: `field` metadata carries descriptions and bounds,
`__pydantic_config__` forbids unknown keys. `document_json.py` writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Final

from claude_task_cli.convert.not_given import NOT_GIVEN

SCHEMA_VERSION = "2.0"  # history in docs/json-contract.md "Versioning"


_FORBID: Final = {"extra": "forbid"}  # pydantic's ConfigDict, as the plain dict it is


class Status(StrEnum):
    """Status written by the author in a heading, normalised."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    COMPLETE = "complete"
    FAILED = "failed"
    UNKNOWN = "unknown"  # nothing written, or nothing recognisable


@dataclass(slots=True, kw_only=True)
class StatusInfo:
    __pydantic_config__: ClassVar[dict[str, str]] = _FORBID

    value: Status
    raw: str = field(
        metadata={"description": "the status text exactly as written (empty when none)"}
    )


@dataclass(slots=True, kw_only=True)
class Warning:
    __pydantic_config__: ClassVar[dict[str, str]] = _FORBID

    line: int
    message: str


@dataclass(slots=True, kw_only=True)
class Source:
    __pydantic_config__: ClassVar[dict[str, str]] = _FORBID

    path: str
    sha256: str
    encoding: str = field(
        metadata={"description": "encoding the bytes were decoded with (utf-8 unless guessed)"}
    )


@dataclass(slots=True, kw_only=True)
class ListItem:
    """A bullet or numbered item. `checked` is null for a plain item, a bool for a checkbox."""

    __pydantic_config__: ClassVar[dict[str, str]] = _FORBID

    text: str
    line: int
    checked: bool | None = None
    children: list[ListItem] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class Expectation:
    """One assertion on a tool result. `path` is a `/`-separated path into the result value."""

    __pydantic_config__: ClassVar[dict[str, str]] = _FORBID

    path: str = ""
    equals: Any = field(
        default=NOT_GIVEN,
        metadata={"description": "written only when the author gave it (null is then a value)"},
    )
    contains: str | None = None
    matches: str | None = None
    exists: bool | None = None
    exit_code: int | None = None


@dataclass(slots=True, kw_only=True)
class ToolBinding:
    """An MCP tool call bound to a step (a fenced block with info string `mcp`)."""

    __pydantic_config__: ClassVar[dict[str, str]] = _FORBID

    server: str
    tool: str
    args: dict[str, Any] = field(default_factory=dict)
    retryable: bool = False
    retries: int = field(
        default=0, metadata={"ge": 0, "le": 20, "description": "extra attempts when retryable"}
    )
    timeout: float | None = field(
        default=None, metadata={"gt": 0, "description": "seconds per attempt"}
    )
    expect: list[Expectation] = field(default_factory=list)
    line: int = field(metadata={"description": "line of the opening fence"})
    references: list[str] = field(
        default_factory=list,
        metadata={"description": "step ids referenced by ${step:ID...} placeholders"},
    )


@dataclass(slots=True, kw_only=True)
class Command:
    """A fenced shell block inside a step, run later through the MCP command server."""

    __pydantic_config__: ClassVar[dict[str, str]] = _FORBID

    lang: str
    script: str
    line: int


@dataclass(slots=True, kw_only=True)
class Step:
    __pydantic_config__: ClassVar[dict[str, str]] = _FORBID

    id: str
    title: str
    checked: bool
    line: int
    depends_on: list[str] = field(default_factory=list)
    parallel: bool = False
    details: list[ListItem] = field(default_factory=list)
    substeps: list[Step] = field(default_factory=list)
    tool: ToolBinding | None = None
    commands: list[Command] = field(default_factory=list)
    implicit: bool = field(
        default=False,
        metadata={"description": "made by the converter from a fence outside any checklist"},
    )


@dataclass(slots=True, kw_only=True)
class Task:
    __pydantic_config__: ClassVar[dict[str, str]] = _FORBID

    id: str
    title: str
    status: StatusInfo
    line: int
    priority: str | None = None
    complexity: str | None = None
    impact: str | None = None
    depends_on: list[str] = field(default_factory=list)
    depends_declared: bool = field(
        default=False, metadata={"description": "false when depends_on is the documented default"}
    )
    parallel: bool = False
    description: str = ""
    steps: list[Step] = field(default_factory=list)
    research: list[ListItem] = field(default_factory=list)
    specifications: list[ListItem] = field(default_factory=list)
    verification: list[ListItem] = field(default_factory=list)
    cli_testing: list[ListItem] = field(default_factory=list)
    acceptance_criteria: list[ListItem] = field(default_factory=list)
    lists: dict[str, list[ListItem]] = field(
        default_factory=dict, metadata={"description": "every other bold-labelled list, by label"}
    )
    notes: list[ListItem] = field(
        default_factory=list,
        metadata={"description": "unlabelled plain bullets under the task heading"},
    )


@dataclass(slots=True, kw_only=True)
class Section:
    """A heading that is not a task, with its text and any list items that belong to it."""

    __pydantic_config__: ClassVar[dict[str, str]] = _FORBID

    title: str
    level: int
    line: int
    text: str
    items: list[ListItem] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class UsageRow:
    __pydantic_config__: ClassVar[dict[str, str]] = _FORBID

    command: str
    description: str
    example: str
    expected_output: str
    line: int


@dataclass(slots=True, kw_only=True)
class ReportRequirements:
    __pydantic_config__: ClassVar[dict[str, str]] = _FORBID

    sections: list[str] = field(default_factory=list)
    naming: str | None = None
    line: int


@dataclass(slots=True, kw_only=True)
class TaskDocument:
    __pydantic_config__: ClassVar[dict[str, str]] = _FORBID

    schema_version: str = SCHEMA_VERSION
    source: Source
    id: str
    title: str
    status: StatusInfo
    objective: str | None = None
    requirements: list[ListItem] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    waves: list[list[str]] = field(default_factory=list)
    usage: list[UsageRow] = field(default_factory=list)
    report_requirements: ReportRequirements | None = None
    warnings: list[Warning] = field(default_factory=list)

    def to_json(self) -> str:
        """Deterministic JSON: field order fixed by the model, UTF-8, trailing newline."""
        from claude_task_cli.convert.document_json import dumps

        return dumps(self)

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
