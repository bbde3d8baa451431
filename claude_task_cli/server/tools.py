"""claude-task as an MCP server: the CLI's operations as tools, for agents.

Tools (each calls the same core function as the CLI command of the same name, `operations.py`):

- `convert_task(path)` → the JSON step graph (`convert_task --stdout`).
- `execute_task(task, only_task, only_step, concurrency, per_server, no_resume, dry_run)` → the run
  document (`execute_task --json`); with `dry_run`, `{"dryRun": true, "plan": [...]}`. A progress
  notification each time a step ends, when the client sent a progress token.
- `record_step(task, step, result | failure)` → what was recorded and where the run stands.
- `task_status(task)` → the completion matrix (`task_status --json`).
- `generate_report(task, subtask, format, out)` → the files written and the verdict.

A domain error (`errors.py`) is an `is_error` result (`mcp_boundary.py`): its one-line
message (one line per problem) as text, and `{"errors": [{path, line, message}], "exitCode": N}`
as structured content. Any other exception is a bug: one line to the client, the traceback to
the log file. Every path a tool receives must resolve inside the project root (the directory holding
`.mcp.json`, else `.git`, else the server's working directory).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp_types import ToolAnnotations
from pydantic import BeforeValidator, Field

from claude_task_cli import __version__
from claude_task_cli.errors import InputError
from claude_task_cli.project import ProjectPaths, project_root
from claude_task_cli.server.boundary import StepProgress, tool_boundary

SERVER_NAME = "claude-task"
INSTRUCTIONS = (
    "Markdown task documents (docs/tasks/*.md) made executable: convert_task validates one into a "
    "step graph; execute_task runs it through the project's MCP servers and returns the run "
    "document (status, progress, results, pauseReasons, handoff); steps handed to you "
    "(awaitingClient) are done by you and recorded with record_step, then execute_task "
    "continues; task_status and generate_report report from the recorded evidence. TASK is a "
    "path inside the project or a document id under docs/tasks/ (e.g. 010)."
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
    Field(description="A task document (.md), its converted .json, or its id under docs/tasks/."),
]


class Tools:
    """The tools, bound to one project root."""

    def __init__(self, paths: ProjectPaths) -> None:
        self.paths = paths

    def convert_task(
        self,
        path: Annotated[str, Field(description="A task document (.md) inside the project.")],
    ) -> dict[str, Any]:
        """Convert a markdown task document into its validated JSON step graph (tasks, steps,
        dependencies, waves, tool bindings, warnings). Errors point at file:line."""
        from claude_task_cli.operations import load_document

        doc, _ = load_document(self.paths.task(path), self.paths.root)
        graph: dict[str, Any] = json.loads(doc.to_json())
        return graph

    async def execute_task(
        self,
        task: TaskArg,
        only_task: Annotated[
            str | None, Text, Field(description="Run only this task (and what it needs).")
        ] = None,
        only_step: Annotated[
            str | None, Text, Field(description="Run only this step (and what it needs).")
        ] = None,
        concurrency: Annotated[int, Field(ge=1, description="Steps running at once.")] = 4,
        per_server: Annotated[
            int | None,
            Field(ge=1, description="Calls at once to any one server (default: concurrency)."),
        ] = None,
        no_resume: Annotated[
            bool, Field(description="Start a new run instead of resuming the latest one.")
        ] = False,
        dry_run: Annotated[
            bool, Field(description="Return the plan and resolved calls; call nothing.")
        ] = False,
        ctx: Context | None = None,
    ) -> dict[str, Any]:
        """Run a task document through real MCP tool calls on the project's servers (or resume
        its paused run). Returns the run document: status (completed, paused, failed),
        progress, results, pauseReasons and the handoff saying what remains for you. A client
        that sends a progress token gets a notification each time a step ends."""
        import anyio.from_thread
        import anyio.to_thread

        from claude_task_cli.operations import (
            execute_document,
            load_document,
            plan_json,
            run_document_json,
        )
        from claude_task_cli.run.options import RunOptions

        options = RunOptions(
            concurrency=concurrency,
            per_server=per_server,
            only_task=only_task,
            only_step=only_step,
            new_run=no_resume,
            dry_run=dry_run,
        )
        doc, path = load_document(self.paths.task(task), self.paths.root)
        run = functools.partial(execute_document, doc, path, options)
        # The run has an event loop of its own, on a worker thread; the portal carries its step
        # ends back to this loop as notifications, and is left only when all of them are sent.
        async with anyio.from_thread.BlockingPortal() as portal:
            progress = StepProgress(portal, ctx, total=len(doc.all_steps()))
            outcome = await anyio.to_thread.run_sync(
                functools.partial(run, on_event=progress.on_event)
            )
        if dry_run:
            return plan_json(outcome)
        return run_document_json(outcome, doc)

    def record_step(
        self,
        task: TaskArg,
        step: Annotated[str, Text, Field(description="The step id, e.g. 3.1 (task:3 for a task).")],
        result: Annotated[
            Any, Field(description="The step's result, any JSON value (or give failure).")
        ] = None,
        failure: Annotated[
            str | None, Field(description="Record a failure with this message instead.")
        ] = None,
    ) -> dict[str, Any]:
        """Record the outcome of a step you (or a person) did outside the executor; the next
        execute_task continues from there. Give exactly one of result or failure."""
        from claude_task_cli.operations import record_step

        if (result is None) == (failure is None):
            raise InputError(step, "give exactly one of result or failure")
        outcome = record_step(
            self.paths.task(task), step, result=result, failure=failure, start=self.paths.root
        )
        recorded = outcome.step(step)
        return {
            "recorded": "failure" if failure is not None else "result",
            "step": step,
            # a result that fails the step's `expect` is recorded as a failure of the step
            "stepStatus": recorded.status,
            "error": recorded.error,
            "runId": outcome.run_id,
            "runStatus": outcome.run_status,
            "pauseReasons": [
                r.model_dump(mode="json", by_alias=True) for r in outcome.pause_reasons
            ],
        }

    def task_status(self, task: TaskArg) -> dict[str, Any]:
        """Where a document's latest run stands: the completion matrix, every task and step
        COMPLETE or not, attempts, time, failures and what blocks them."""
        from claude_task_cli.operations import status_json

        # the text `task_status --json` prints
        text = status_json(self.paths.task(task), start=self.paths.root)
        matrix: dict[str, Any] = json.loads(text)
        return matrix

    def generate_report(
        self,
        task: TaskArg,
        subtask: Annotated[
            str | None,
            Text,
            Field(description="One task's report (`1` or `task_1`); default: all."),
        ] = None,
        format: Annotated[Literal["md", "json"], Field(description="md or json.")] = "md",
        out: Annotated[
            str | None,
            Field(description="Output directory inside the project (default: docs/reports)."),
        ] = None,
    ) -> dict[str, Any]:
        """Write verification reports (one per task and a final summary with the completion
        matrix) from the evidence real runs recorded. Returns the files written and the
        verdict: complete is true only when what was reported is COMPLETE."""
        from claude_task_cli.operations import build_reports, report_verdict, write_reports

        target = None if out is None else self.paths.inside(out)
        built = build_reports(self.paths.task(task), subtask, fmt=format, start=self.paths.root)
        written, removed = write_reports(built, target)
        verdict = report_verdict(built.reports, built.task_id)
        return {
            "written": [self._shown(p) for p in written],
            "removed": [self._shown(p) for p in removed],
            "complete": verdict.complete,
            "verdict": verdict.lines[0],
            "reasons": [line.strip() for line in verdict.lines[1:]],
        }

    def _shown(self, path: Path) -> str:
        resolved = path.resolve()
        return (
            resolved.relative_to(self.paths.root).as_posix()
            if resolved.is_relative_to(self.paths.root)
            else resolved.as_posix()
        )


def build_server(root: Path | None = None) -> MCPServer:
    """The server, its tools bound to the project root found from `root` (default: the cwd)."""
    tools = Tools(ProjectPaths(project_root(root or Path.cwd())))
    server: MCPServer = MCPServer(
        SERVER_NAME, instructions=INSTRUCTIONS, version=__version__, log_level="WARNING"
    )
    reads = ToolAnnotations(read_only_hint=True, open_world_hint=False)
    writes = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)
    for method, hints in (
        (tools.convert_task, reads),
        (tools.execute_task, ToolAnnotations(read_only_hint=False, open_world_hint=True)),
        (tools.record_step, writes),
        (tools.task_status, reads),
        (tools.generate_report, writes),
    ):
        server.add_tool(tool_boundary(method), annotations=hints, structured_output=True)
    return server
