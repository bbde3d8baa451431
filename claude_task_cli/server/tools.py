"""claude-task as an MCP server: the CLI's operations as a few tools, for agents.

Each tool calls the same facade function (`operations.py`) as the CLI command of the same name
and returns what that command prints with `--json`, as structured content (and as compact JSON
text beside it). Every tool publishes the JSON Schema of its result (`schemas.py`), refuses
arguments it does not know, and says in its annotations what it touches. Errors: `boundary.py`.
Paths: `served_project.py` (everything inside the project root).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase
from mcp_types import CallToolResult, InputRequiredResult, Resource, TextContent, ToolAnnotations
from pydantic import BeforeValidator, ConfigDict, Field, ValidationError

from claude_task_cli import __version__
from claude_task_cli.errors import InputError
from claude_task_cli.server.boundary import arguments_result, tool_boundary
from claude_task_cli.server.people import People
from claude_task_cli.server.progress import StepProgress
from claude_task_cli.server.prompts import Prompts
from claude_task_cli.server.resources import Library
from claude_task_cli.server.schemas import output_schemas
from claude_task_cli.server.served_project import ServedProject

if TYPE_CHECKING:
    from claude_task_cli.convert.model import TaskDocument
    from claude_task_cli.run.results import RunOutcome

SERVER_NAME = "claude-task"
INSTRUCTIONS = (
    "Markdown task documents (docs/tasks/*.md) made executable. execute_task runs one through the "
    "project's MCP servers and returns the run document: status, results, pauseReasons and a "
    "handoff saying what remains. Steps handed to you (awaitingClient, interrupted, ...) you do "
    "yourself and record with record_step; then execute_task again resumes. task_status and "
    "generate_report report from the recorded evidence; convert_task checks a document. TASK is "
    "a path inside the project or a document id under docs/tasks/ (e.g. 010)."
)


def _as_text(value: object) -> object:
    """Ids sent as numbers (`3.1`, `10`: clients parse what looks like one) taken as text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


Text = BeforeValidator(_as_text)
TaskArg = Annotated[
    str,
    Text,
    Field(description="The task document: a path inside the project, or its id (e.g. 010)."),
]


def structured(data: Any, text: str | None = None) -> CallToolResult:
    """A tool's result: `data` as structured content, and as compact JSON text beside it."""
    shown = (
        text if text is not None else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    )
    return CallToolResult(content=[TextContent(type="text", text=shown)], structured_content=data)


class Tools:
    """The tools, bound to one project."""

    def __init__(self, project: ServedProject) -> None:
        self.project = project

    def convert_task(
        self,
        path: Annotated[str, Text, Field(description="The task document (.md), or its id.")],
    ) -> CallToolResult:
        """Check a markdown task document and return its step graph: tasks, steps with their
        dependencies, tool bindings and shell commands, and warnings. Use it to see what
        execute_task would run; a problem comes back as an error naming file:line."""
        from claude_task_cli.operations import load_document

        doc, _ = load_document(self.project.task(path), self.project.root)
        text = doc.to_json()
        return structured(json.loads(text), text)

    async def execute_task(
        self,
        task: TaskArg,
        only_task: Annotated[
            str | None, Text, Field(description="Run only this task, and what it needs.")
        ] = None,
        only_step: Annotated[
            str | None, Text, Field(description="Run only this step, and what it needs.")
        ] = None,
        concurrency: Annotated[int, Field(ge=1, le=64, description="Steps at once.")] = 4,
        per_server: Annotated[
            int | None,
            Field(ge=1, le=64, description="Calls at once to one server (default: concurrency)."),
        ] = None,
        no_resume: Annotated[
            bool, Field(description="Start a new run instead of resuming the unfinished one.")
        ] = False,
        dry_run: Annotated[
            bool, Field(description="Only return the calls it would make, with their arguments.")
        ] = False,
        ctx: Context | None = None,
    ) -> CallToolResult | InputRequiredResult:
        """Run a task document: each step's MCP tool call or shell commands on the project's
        servers, in dependency order, every outcome recorded. Executing again resumes an
        unfinished run; completed steps never run twice. Returns the run document: status
        (completed, paused, failed), results, pauseReasons, and handoff.remaining — the steps
        left for you, with how to do each. Do those, record_step each, then execute_task again.
        Sends a progress notification as each step ends when given a progress token."""
        from claude_task_cli.operations import (
            execute_document,
            load_document,
            plan_json,
            run_document_json,
        )

        doc, path = load_document(self.project.task(task), self.project.root)
        run = functools.partial(
            execute_document,
            doc,
            path,
            mcp_config=self.project.servers_for(doc),
            state=self.project.state(),
            only_task=only_task,
            only_step=only_step,
            concurrency=concurrency,
            per_server_limit=per_server,
            dry_run=dry_run,
            new_run=no_resume,
        )
        if dry_run:
            return structured(plan_json(await _running(run, doc, ctx)))
        people = People(ctx, doc, str(path), self.project.state())
        if people.run_id is not None:  # the same call again, with the answers to its questions
            run = functools.partial(run, new_run=False)
        await people.record_answers()
        outcome = people.finished or await _running(run, doc, ctx)
        while True:  # each round records at least one answer, and no step is asked twice
            asked = await people.ask(outcome)
            if isinstance(asked, InputRequiredResult):
                return asked
            if not asked:
                break
            finished = people.finished
            if finished is not None:  # the answer completed the run: nothing left to execute
                outcome = finished
                break
            outcome = await _running(functools.partial(run, new_run=False), doc, ctx)
        data = run_document_json(outcome, doc)
        if people.answered:
            data["answered"] = people.answered
        return structured(data)

    def record_step(
        self,
        task: TaskArg,
        step: Annotated[str, Text, Field(description="The step id, e.g. 3.1 (task:3 for a task).")],
        result: Annotated[
            Any, Field(description="What the step produced: any JSON value. Or give failure.")
        ] = None,
        failure: Annotated[
            str | None, Field(description="Instead of a result: why the step failed.")
        ] = None,
    ) -> CallToolResult:
        """Record the outcome of a step you (or a person) did: exactly one of result or failure.
        A result is checked as the executor checks a tool's (the step's expect, a command's
        exit code); one that fails is kept as evidence and fails the step. The next
        execute_task continues from there."""
        from claude_task_cli.operations import record_step

        if (result is None) == (failure is None):
            raise InputError(step, "give exactly one of result or failure")
        outcome = record_step(
            self.project.task(task),
            step,
            result=result,
            failure=failure,
            state=self.project.state(),
            start=self.project.root,
        )
        recorded = outcome.step(step)
        return structured(
            {
                "recorded": "failure" if failure is not None else "result",
                "step": step,
                "stepStatus": recorded.status,
                "error": recorded.error,
                "runId": outcome.run_id,
                "runStatus": outcome.run_status,
                "pauseReasons": [
                    r.model_dump(mode="json", by_alias=True) for r in outcome.pause_reasons
                ],
            }
        )

    def task_status(self, task: TaskArg) -> CallToolResult:
        """Where a document's latest run stands, from the recorded evidence only: the verdict
        (COMPLETE only when every step's completion was verified), the reasons it is not, and
        each task and step with its state, attempts, time and what blocks it."""
        from claude_task_cli.operations import status_json

        # the text `task_status --json` prints, a stopped run's served from its cache
        text = status_json(self.project.task(task), state=self.project.state())
        return structured(json.loads(text), text)

    def generate_report(
        self,
        task: TaskArg,
        subtask: Annotated[
            str | None, Text, Field(description="One task's report (1 or task_1); default: all.")
        ] = None,
        format: Annotated[Literal["md", "json"], Field(description="md or json.")] = "md",
        out: Annotated[
            str | None, Field(description="Folder inside the project (default: docs/reports).")
        ] = None,
    ) -> CallToolResult:
        """Write verification reports from the recorded evidence: one per task and a final
        summary. Overwrites them, and — when writing every report — deletes this document's
        task reports that no longer apply. Returns the files written and removed, and whether
        what was reported is COMPLETE."""
        from claude_task_cli.operations import build_reports, report_verdict, write_reports

        target = self.project.reports(out)
        built = build_reports(
            self.project.task(task),
            subtask,
            fmt=format,
            state=self.project.state(),
            start=self.project.root,
            root=self.project.root,
        )
        written, removed = write_reports(built, target)
        verdict = report_verdict(built.reports, built.task_id)
        return structured(
            {
                "written": [self._shown(p) for p in written],
                "removed": [self._shown(p) for p in removed],
                "complete": verdict.complete,
                "verdict": verdict.lines[0],
                "reasons": [line.strip() for line in verdict.lines[1:]],
            }
        )

    def _shown(self, path: Path) -> str:
        return path.resolve().relative_to(self.project.root).as_posix()


async def _running(
    run: Callable[..., RunOutcome], doc: TaskDocument, ctx: Context | None
) -> RunOutcome:
    """`run` (a blocking `execute_document`) on a worker thread, its step ends sent as progress."""
    import anyio.from_thread
    import anyio.to_thread

    # The run has an event loop of its own, on a worker thread; the portal carries its step
    # ends back to this loop as notifications, and is left only when all of them are sent.
    async with anyio.from_thread.BlockingPortal() as portal:
        progress = StepProgress(portal, ctx, total=len(doc.all_steps()))
        outcome = await anyio.to_thread.run_sync(functools.partial(run, on_event=progress.on_event))
    return outcome


class StrictTool(Tool):
    """A tool whose arguments that do not fit its schema (an unknown one included) are one
    line each, as a tool error with structured content like any other (`boundary.py`)."""

    async def run(
        self, arguments: dict[str, Any], context: Context[Any, Any], convert_result: bool = False
    ) -> Any:
        try:
            return await super().run(arguments, context, convert_result=convert_result)
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError):
                return arguments_result(self.name, exc.__cause__)
            raise


def strict_tool(
    fn: Callable[..., Any], title: str, hints: ToolAnnotations, schema: dict[str, Any]
) -> Tool:
    """`fn` as a tool that refuses arguments it does not declare and publishes `schema` as the
    JSON Schema of its structured result (built by `structured`, published as is)."""
    made = Tool.from_function(tool_boundary(fn), title=title, annotations=hints)
    tool = StrictTool.model_validate(dict(made), from_attributes=False)
    model = tool.fn_metadata.arg_model
    config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    strict: type[ArgModelBase] = type(model.__name__, (model,), {"model_config": config})
    tool.fn_metadata.arg_model = strict
    tool.fn_metadata.output_schema = without_titles(schema)
    tool.parameters = without_titles(strict.model_json_schema(by_alias=True))
    return tool


def without_titles(schema: Any) -> Any:
    """`schema` without pydantic's generated `title`s, which repeat the names beside them and
    only cost a model's context."""
    if isinstance(schema, dict):
        return {
            key: without_titles(value)
            for key, value in schema.items()
            if not (key == "title" and isinstance(value, str))
        }
    if isinstance(schema, list):
        return [without_titles(item) for item in schema]
    return schema


def build_server(root: Path | None = None) -> MCPServer:
    """The server, its tools bound to the project root found from `root` (default: the cwd)."""
    tools = Tools(ServedProject(root or Path.cwd()))
    schemas = output_schemas()
    local = {"open_world_hint": False}
    reads = ToolAnnotations(read_only_hint=True, idempotent_hint=True, **local)
    catalogue = (
        (tools.convert_task, "Check a task document", reads),
        (
            tools.execute_task,
            "Run a task document",
            # it runs whatever the document says, on the servers the project declares
            ToolAnnotations(read_only_hint=False, destructive_hint=True, open_world_hint=True),
        ),
        (
            tools.record_step,
            "Record a step's outcome",
            ToolAnnotations(read_only_hint=False, destructive_hint=False, **local),
        ),
        (tools.task_status, "Where a run stands", reads),
        (
            tools.generate_report,
            "Write verification reports",
            # stale reports of the document are deleted; the same evidence writes the same files
            ToolAnnotations(
                read_only_hint=False, destructive_hint=True, idempotent_hint=True, **local
            ),
        ),
    )
    registered = [
        strict_tool(method, title, hints, schemas[method.__name__])
        for method, title, hints in catalogue
    ]
    library = Library(tools.project)
    server = ProjectServer(
        library,
        SERVER_NAME,
        instructions=INSTRUCTIONS,
        version=__version__,
        log_level="WARNING",
        tools=registered,
    )
    library.register(server)
    Prompts(tools.project).register(server)
    return server


class ProjectServer(MCPServer[Any]):
    """The SDK's server, its resource list extended with the runs and reports there are now
    (the SDK lists only resources registered in advance)."""

    def __init__(self, library: Library, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.library = library

    async def list_resources(self) -> list[Resource]:
        import anyio.to_thread

        listed = await super().list_resources()
        return [*listed, *await anyio.to_thread.run_sync(self.library.listed)]
