"""claude-task as an MCP server: the CLI's operations as tools, for agents.

Tools (each calls the same core function as the CLI command of the same name, `operations.py`):

- `convert_task(path)` → the JSON step graph (`convert_task --stdout`).
- `execute_task(task, only_task, only_step, concurrency, no_resume, dry_run)` → the run document
  (`execute_task --json`); with `dry_run`, `{"dryRun": true, "plan": [...]}`.
- `record_step(task, step, result | failure)` → what was recorded and where the run stands.
- `task_status(task)` → the completion matrix (`task_status --json`).
- `generate_report(task, subtask, format, out)` → the files written and the verdict.

A domain error (`errors.py`) is an `is_error` result: its one-line message (one line per
problem) as text, and `{"errors": [{path, line, message}], "exitCode": N}` as structured
content. Any other exception is a bug: one line to the client, the traceback to the log file.
Every path a tool receives must resolve inside the project root (the directory holding
`.mcp.json`, else `.git`, else the server's working directory).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, ParamSpec, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BeforeValidator, Field

from claude_task_cli import __version__
from claude_task_cli.errors import InputError, TaskCliError, TaskSpecError, TaskSpecErrors

SERVER_NAME = "claude-task"
INSTRUCTIONS = (
    "Markdown task documents (docs/tasks/*.md) made executable: convert_task validates one into a "
    "step graph; execute_task runs it through the project's MCP servers and returns the run "
    "document (status, progress, results, pauseReasons, handoff); steps handed to you "
    "(awaitingClient) are done by you and recorded with record_step, then execute_task "
    "continues; task_status and generate_report report from the recorded evidence. TASK is a "
    "path inside the project or a document id under docs/tasks/ (e.g. 010)."
)

P = ParamSpec("P")
R = TypeVar("R")


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


class ProjectPaths:
    """Resolves paths from tool arguments, refusing any that lead outside the project root."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def inside(self, value: str) -> Path:
        """`value` (relative to the root, or absolute) as an absolute path inside the root."""
        given = Path(value)
        resolved = (given if given.is_absolute() else self.root / given).resolve()
        if not resolved.is_relative_to(self.root):
            raise InputError(value, f"outside the project root {self.root}; refused")
        return resolved

    def task(self, task: str) -> str:
        """TASK as a path inside the root, or an id looked up under the root's docs/tasks/."""
        from claude_task_cli.locate import locate_document

        given = Path(task)
        looks_like_path = (
            given.is_absolute()
            or "/" in task
            or given.suffix.lower() in (".md", ".json")
            or (self.root / given).exists()
        )
        if looks_like_path:
            path = self.inside(task)
            if not path.is_file():
                raise InputError(task, "is a directory" if path.is_dir() else "no such file")
            return str(path)
        found = locate_document(task, self.root)
        return str(self.inside(str(found.resolve())))


def error_result(exc: TaskCliError) -> CallToolResult:
    """A domain error as an MCP tool error: its lines as text, the problems as data."""
    specific = exc.errors if isinstance(exc, TaskSpecErrors) else [exc]
    errors: list[dict[str, Any]] = []
    for item in specific:
        if isinstance(item, TaskSpecError):
            errors.append({"path": item.path, "line": item.line, "message": item.message})
        else:
            path = getattr(item, "path", None)
            message = getattr(item, "message", None) if path is not None else None
            errors.append({"path": path, "line": None, "message": message or str(item)})
    return CallToolResult(
        content=[TextContent(type="text", text="\n".join(exc.lines()))],
        structured_content={"errors": errors, "exitCode": int(exc.exit_code)},
        is_error=True,
    )


def _boundary(fn: Callable[P, R]) -> Callable[P, R | CallToolResult]:
    """The server's one error boundary: domain errors and bugs become tool errors."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | CallToolResult:
        from loguru import logger

        try:
            return fn(*args, **kwargs)
        except TaskCliError as exc:
            logger.opt(exception=exc).debug(f"{fn.__name__}: domain error")
            return error_result(exc)
        except Exception as exc:
            from claude_task_cli.cli.boundary import log_dir

            logger.opt(exception=exc).debug(f"{fn.__name__}: internal error: {exc!r}")
            log = log_dir() / "claude-task.log"
            text = f"internal error: {exc} (traceback in {log})"
            return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)

    return wrapper


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

    def execute_task(
        self,
        task: TaskArg,
        only_task: Annotated[
            str | None, Text, Field(description="Run only this task (and what it needs).")
        ] = None,
        only_step: Annotated[
            str | None, Text, Field(description="Run only this step (and what it needs).")
        ] = None,
        concurrency: Annotated[int, Field(ge=1, description="Steps running at once.")] = 4,
        no_resume: Annotated[
            bool, Field(description="Start a new run instead of resuming the latest one.")
        ] = False,
        dry_run: Annotated[
            bool, Field(description="Return the plan and resolved calls; call nothing.")
        ] = False,
    ) -> dict[str, Any]:
        """Run a task document through real MCP tool calls on the project's servers (or resume
        its paused run). Returns the run document: status (completed, paused, failed),
        progress, results, pauseReasons and the handoff saying what remains for you."""
        from claude_task_cli.operations import (
            execute_document,
            load_document,
            plan_json,
            run_document_json,
        )

        doc, path = load_document(self.paths.task(task), self.paths.root)
        outcome = execute_document(
            doc,
            path,
            only_task=only_task,
            only_step=only_step,
            concurrency=concurrency,
            dry_run=dry_run,
            new_run=no_resume,
        )
        if dry_run:
            return {"dryRun": True, "plan": plan_json(outcome)}
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
        return {
            "recorded": "failure" if failure is not None else "result",
            "step": step,
            "runId": outcome.run_id,
            "runStatus": outcome.run_status,
            "pauseReasons": [
                r.model_dump(mode="json", by_alias=True) for r in outcome.pause_reasons
            ],
        }

    def task_status(self, task: TaskArg) -> dict[str, Any]:
        """Where a document's latest run stands: the completion matrix, every task and step
        COMPLETE or not, attempts, time, failures and what blocks them."""
        from claude_task_cli.operations import status_matrix

        return status_matrix(self.paths.task(task), start=self.paths.root).to_dict()

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
        from claude_task_cli.operations import build_reports, report_verdict
        from claude_task_cli.report import write

        target = None if out is None else self.paths.inside(out)
        built = build_reports(self.paths.task(task), subtask, fmt=format, start=self.paths.root)
        written = write(built.rendered, target or built.root / "docs" / "reports")
        verdict = report_verdict(built.reports, built.task_id)
        return {
            "written": [self._shown(p) for p in written],
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
    from claude_task_cli.project import project_root

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
        server.add_tool(_boundary(method), annotations=hints, structured_output=True)
    return server
