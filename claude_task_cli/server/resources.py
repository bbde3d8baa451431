"""What an agent can read without calling a tool: runs, reports, the format and its schema.

- `claude-task://runs/{doc}` — a document's latest run, as the run document `execute_task`
  returns (JSON); listed for each document that has a run. `{doc}` is what TASK accepts without
  a slash: the document's id or file stem under docs/tasks/.
- `claude-task://reports/{name}` — a report under the project's docs/reports/; each is listed.
- `claude-task://format` — the task document format reference (docs/task-format.md).
- `claude-task://schema` — the JSON Schema of a converted document (`claude-task schema`).

Everything is read inside the project root (`served_project.py`). A resource that cannot be
read (no run yet, no such report) is a protocol error with the CLI's one-line message
(`answering`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from importlib.resources import files
from typing import TYPE_CHECKING, Any, TypeVar

from mcp.server.mcpserver.resources import FunctionResource
from mcp_types import Resource

from claude_task_cli.errors import InputError, TaskCliError
from claude_task_cli.server.boundary import protocol_error
from claude_task_cli.server.served_project import ServedProject

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

SCHEME = "claude-task://"
RUNS = SCHEME + "runs/{doc}"
REPORTS = SCHEME + "reports/{name}"
FORMAT = SCHEME + "format"
SCHEMA = SCHEME + "schema"
_MIME = {".md": "text/markdown", ".json": "application/json", ".xml": "application/xml"}
T = TypeVar("T")


def answering(fn: Callable[..., T]) -> Callable[..., T]:
    """A domain error while reading a resource or getting a prompt as the protocol error the
    client is shown: its one-line message, and what it is as data (`boundary.protocol_error`)."""

    @functools.wraps(fn)
    def answer(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except TaskCliError as exc:
            raise protocol_error(exc) from exc

    return answer


class Library:
    """The project's resources, bound to one project."""

    def __init__(self, project: ServedProject) -> None:
        self.project = project

    def register(self, server: MCPServer) -> None:
        """Add the static resources and the two templates to `server`."""
        server.add_resource(
            FunctionResource.from_function(
                format_reference,
                FORMAT,
                name="task-format",
                title="Task document format",
                description="How to write a task document: headings, steps, dependencies, "
                "tool bindings (mcp blocks), shell commands, expectations.",
                mime_type="text/markdown",
            )
        )
        server.add_resource(
            FunctionResource.from_function(
                document_schema,
                SCHEMA,
                name="task-document-schema",
                title="Converted document JSON Schema",
                description="The JSON Schema of convert_task's output.",
                mime_type="application/schema+json",
            )
        )
        server.resource(
            RUNS,
            name="run",
            title="A document's latest run",
            description="The run document of the document's latest run: status, results, "
            "pause reasons and the handoff. {doc}: the document's id or file stem.",
            mime_type="application/json",
        )(answering(self.run))
        server.resource(
            REPORTS,
            name="report",
            title="A verification report",
            description="A report generate_report wrote under docs/reports/.",
            mime_type="text/markdown",
        )(answering(self.report))

    def listed(self) -> list[Resource]:
        """The runs and reports there are now (the static resources are listed by the server)."""
        from claude_task_cli.operations import documents_run

        found: list[Resource] = []
        root = self.project.root
        for path in sorted(documents_run(self.project.state(), root)):
            if path.is_file() and path.is_relative_to(root):
                shown = path.relative_to(root).as_posix()
                found.append(
                    Resource(
                        uri=RUNS.format(doc=path.stem),
                        name=f"run of {shown}",
                        title=f"Latest run of {shown}",
                        mime_type="application/json",
                    )
                )
        folder = self.project.reports(None)
        if folder.is_dir():
            for report in sorted(p for p in folder.iterdir() if p.is_file()):
                found.append(
                    Resource(
                        uri=REPORTS.format(name=report.name),
                        name=report.name,
                        title=f"Report {report.name}",
                        mime_type=_MIME.get(report.suffix, "text/plain"),
                    )
                )
        return found

    def run(self, doc: str) -> str:
        """A document's latest run, as the run document (JSON)."""
        from claude_task_cli.operations import latest_run, run_document_json

        task = self.project.task(doc)
        loaded, _path, outcome = latest_run(task, state=self.project.state())
        if outcome is None:
            raise InputError(doc, "no run yet (execute_task starts one)")
        data = run_document_json(outcome, loaded)
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    def report(self, name: str) -> str:
        """A report under docs/reports/, as written."""
        folder = self.project.reports(None)
        path = self.project.inside(str(folder / name))
        if path.parent != folder or not path.is_file():
            raise InputError(name, f"no such report in {folder}")
        return path.read_text(encoding="utf-8")


def format_reference() -> str:
    """The task document format reference."""
    return (
        files("claude_task_cli.server")
        .joinpath("reference", "task-format.md")
        .read_text(encoding="utf-8")
    )


def document_schema() -> str:
    """The JSON Schema of a converted document, as `claude-task schema` prints it."""
    from claude_task_cli.convert.contract import json_schema

    schema: dict[str, Any] = {"$schema": "https://json-schema.org/draft/2020-12/schema"}
    schema.update(json_schema())
    return json.dumps(schema, indent=2, ensure_ascii=False)
