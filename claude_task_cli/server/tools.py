"""claude-task as an MCP server: the CLI's operations as a few tools, for agents.

Each tool calls the same facade function (`operations.py`) as the CLI command of the same name
and returns what that command prints with `--json`, as structured content (and as compact JSON
text beside it). Every tool publishes the JSON Schema of its result (`schemas.py`), refuses
arguments it does not know, and says in its annotations what it touches. Errors: `boundary.py`.
Paths: `served_project.py` (everything inside the project root).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.subscriptions import InMemorySubscriptionBus
from mcp_types import (
    CallToolResult,
    Resource,
    SubscribeRequestParams,
    ToolAnnotations,
    UnsubscribeRequestParams,
)
from pydantic import Field

from claude_task_cli import __version__
from claude_task_cli.errors import InputError
from claude_task_cli.server.board import BoardTools
from claude_task_cli.server.execution import Execution
from claude_task_cli.server.mcp_tasks import RunTasks
from claude_task_cli.server.prompts import Prompts
from claude_task_cli.server.registration import TaskArg, Text, strict_tool, structured
from claude_task_cli.server.resources import Library
from claude_task_cli.server.runs import Runs
from claude_task_cli.server.schemas import output_schemas
from claude_task_cli.server.served_project import ServedProject
from claude_task_cli.server.subscriptions import Subscribers

SERVER_NAME = "claude-task"
INSTRUCTIONS = (
    "Markdown task documents (docs/tasks/*.md) made executable. execute_task runs one through the "
    "project's MCP servers and returns the run document: status, results, pauseReasons and a "
    "handoff saying what remains. Steps handed to you (awaitingClient, interrupted, ...) you do "
    "yourself and record with record_step; then execute_task again resumes. task_status and "
    "generate_report report from the recorded evidence; convert_task checks a document. TASK is "
    "a path inside the project or a document id under docs/tasks/ (e.g. 010). The task board: "
    "claim_task takes the next ready task, move_task moves one (review, block, retry), "
    "task_status without a task shows the board."
)


class Tools:
    """The tools, bound to one project."""

    def __init__(self, project: ServedProject, subscribers: Subscribers | None = None) -> None:
        self.project = project
        self.board = BoardTools(project)
        self.subscribers = subscribers

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
        path = self.project.task(task)
        outcome = record_step(
            path,
            step,
            result=result,
            failure=failure,
            state=self.project.state(),
            start=self.project.root,
        )
        if self.subscribers is not None:  # a step of the run ended: its resource changed
            import anyio.from_thread

            anyio.from_thread.run_sync(self.subscribers.changed, str(Path(path).resolve()))
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

    def task_status(
        self,
        task: Annotated[
            str | None,
            Text,
            Field(description="The task document (a path, or its id); none: the task board."),
        ] = None,
    ) -> CallToolResult:
        """Where a document's latest run stands, from the recorded evidence only: the verdict
        (COMPLETE only when every step's completion was verified), the reasons it is not, and
        each task and step with its state, attempts, time and what blocks it. Without task:
        the task board — every imported document's tasks grouped by state, and the totals."""
        from claude_task_cli.report_operations import status_json

        if task is None:
            return self.board.board()
        # the text `task_status --json` prints
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
        from claude_task_cli.report_operations import (
            build_reports,
            report_verdict,
            write_reports,
        )

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


def build_server(root: Path | None = None, db: str | None = None) -> MCPServer:
    """The server, its tools bound to the project root found from `root` (default: the cwd), its
    runs and board kept in `db` (a URL; default: `$CLAUDE_TASK_DB`, else the root's)."""
    project = ServedProject(root or Path.cwd(), db)
    bus = InMemorySubscriptionBus()  # subscriptions/listen streams (2026-07-28)
    subscribers = Subscribers(project, bus)
    runs = Runs(watch=subscribers.heard)
    tools, execution = Tools(project, subscribers), Execution(project, runs)
    schemas = output_schemas()
    local = {"open_world_hint": False}
    reads = ToolAnnotations(read_only_hint=True, idempotent_hint=True, **local)
    catalogue = (
        (tools.convert_task, "Check a task document", reads),
        (
            execution.execute_task,
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
            execution.cancel_run,
            "Stop a run",
            # steps in flight are cut short: what they did is not undone
            ToolAnnotations(
                read_only_hint=False, destructive_hint=True, idempotent_hint=True, **local
            ),
        ),
        (
            tools.generate_report,
            "Write verification reports",
            # stale reports of the document are deleted; the same evidence writes the same files
            ToolAnnotations(
                read_only_hint=False, destructive_hint=True, idempotent_hint=True, **local
            ),
        ),
        (
            tools.board.claim_task,
            "Claim a task from the board",
            # each call claims another task, or nothing
            ToolAnnotations(read_only_hint=False, destructive_hint=False, **local),
        ),
        (
            tools.board.move_task,
            "Move a task on the board",
            # recorded and reversible (re-open, restore, retry); the same move again changes nothing
            ToolAnnotations(
                read_only_hint=False, destructive_hint=False, idempotent_hint=True, **local
            ),
        ),
    )
    registered = [
        strict_tool(method, title, hints, schemas[method.__name__])
        for method, title, hints in catalogue
    ]
    library = Library(project)
    server = ProjectServer(
        library,
        SERVER_NAME,
        instructions=INSTRUCTIONS,
        version=__version__,
        log_level="WARNING",
        tools=registered,
        lifespan=runs.lifespan,
        extensions=[RunTasks(execution)],
        subscriptions=bus,
    )
    server.serve_subscriptions(subscribers)
    library.register(server)
    Prompts(project).register(server)
    return server


class ProjectServer(MCPServer[Any]):
    """The SDK's server, its resource list extended with the runs and reports there are now
    (the SDK lists only resources registered in advance)."""

    def __init__(self, library: Library, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.library = library

    def serve_subscriptions(self, subscribers: Subscribers) -> None:
        """`resources/subscribe` and `resources/unsubscribe` (up to 2025-11-25), served by the
        SDK's lowlevel server: `MCPServer` has no public way to add them."""
        lowlevel = self._lowlevel_server
        lowlevel.add_request_handler(
            "resources/subscribe", SubscribeRequestParams, subscribers.subscribe
        )
        lowlevel.add_request_handler(
            "resources/unsubscribe", UnsubscribeRequestParams, subscribers.unsubscribe
        )

    async def list_resources(self) -> list[Resource]:
        import anyio.to_thread

        listed = await super().list_resources()
        return [*listed, *await anyio.to_thread.run_sync(self.library.listed)]
