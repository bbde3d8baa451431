"""`execute_task` as an MCP task (SEP-2663, the `io.modelcontextprotocol/tasks` extension).

A client that declares the extension on its `tools/call` (2026-07-28 and later) gets, for
`execute_task` (not a dry run), a task handle at once instead of waiting: the run is started as
with `wait: false`, and the task is the run — its id is `RUN:DOCUMENT` (`3:docs/tasks/010.md`)
and its state is read back from the run registry and the durable store, so it survives the
client reconnecting:

- `tasks/get` → `working` while this server executes the run; `completed`, with the run
  document as the `CallToolResult`, once it stopped (completed, paused or failed: the result says
  which); `cancelled` when it was cancelled, or stopped without finishing (its executor was
  stopped: `execute_task` resumes it);
- `tasks/cancel` → `cancel_run`; `tasks/update` → acknowledged (a task run never asks for input:
  steps for people pause it, as with `wait: false`).

Everything else (`execute_task` without the extension, any other tool) goes through unchanged.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp.server.extension import Extension, MethodBinding
from mcp_types import CallToolRequestParams, CallToolResult, RequestParams
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import Field

from claude_task_cli.errors import InputError, TaskCliError
from claude_task_cli.server.boundary import protocol_error
from claude_task_cli.server.registration import structured

if TYPE_CHECKING:
    from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

    from claude_task_cli.server.execution import Execution

    Request = ServerRequestContext[Any, Any]

IDENTIFIER = "io.modelcontextprotocol/tasks"
POLL_MS = 1000
_MODERN = frozenset(MODERN_PROTOCOL_VERSIONS)


class TaskParams(RequestParams):
    task_id: str = Field(alias="taskId")


class UpdateParams(TaskParams):
    input_responses: dict[str, Any] = Field(default_factory=dict, alias="inputResponses")


class RunTasks(Extension):
    """The tasks extension, its tasks being this server's runs (see the module docstring)."""

    identifier = IDENTIFIER

    def __init__(self, execution: Execution) -> None:
        self.execution = execution
        self.created: dict[str, str] = {}
        self.cancelled: set[str] = set()

    def methods(self) -> list[MethodBinding]:
        return [
            MethodBinding("tasks/get", TaskParams, self.get, protocol_versions=_MODERN),
            MethodBinding("tasks/update", UpdateParams, self.update, protocol_versions=_MODERN),
            MethodBinding("tasks/cancel", TaskParams, self.cancel, protocol_versions=_MODERN),
        ]

    async def intercept_tool_call(
        self,
        params: CallToolRequestParams,
        ctx: Request,
        call_next: CallNext,
    ) -> HandlerResult:
        arguments = params.arguments or {}
        declared = ctx.session.client_capabilities
        wanted = (
            ctx.protocol_version in _MODERN
            and declared is not None
            and IDENTIFIER in (declared.extensions or {})
        )
        if params.name != "execute_task" or not wanted or arguments.get("dry_run") is True:
            return await call_next(ctx)
        params.arguments = {**arguments, "wait": False}  # the run goes on in the server
        started = await call_next(ctx)
        if not isinstance(started, CallToolResult) or started.is_error:
            return started  # refused before it started: the error, as without the extension
        run = started.structured_content or {}
        path = Path(run["document"]["path"]).resolve()
        task_id = f"{run['runId']}:{path.relative_to(self.execution.project.root).as_posix()}"
        self.created[task_id] = _now()
        return {"resultType": "task", **self._task(task_id, "working", "the run started")}

    async def get(self, _ctx: Request, params: TaskParams) -> dict[str, Any]:
        return await self._state(params.task_id)

    async def update(self, _ctx: Request, params: UpdateParams) -> dict[str, Any]:
        self._located(params.task_id)  # an unknown task is an error; answers are not awaited
        return {}

    async def cancel(self, _ctx: Request, params: TaskParams) -> dict[str, Any]:
        run_id, path = self._located(params.task_id)
        handle = self.execution.runs.active.get(str(path))
        if handle is not None and handle.run_id == run_id:
            self.cancelled.add(params.task_id)
            await self.execution.runs.stop(handle)
        return await self._state(params.task_id)

    async def _state(self, task_id: str) -> dict[str, Any]:
        import anyio.to_thread

        from claude_task_cli.operations import latest_run, run_document_json

        run_id, path = self._located(task_id)
        handle = self.execution.runs.active.get(str(path))
        if handle is not None and handle.run_id == run_id:
            return self._task(task_id, "working", "the run is executing")
        state = self.execution.project.state()
        try:
            doc, _path, outcome = await anyio.to_thread.run_sync(
                lambda: latest_run(str(path), state=state)
            )
        except TaskCliError as exc:
            raise protocol_error(exc) from exc
        if outcome is None or outcome.run_id != run_id:
            raise protocol_error(InputError(task_id, "no such task: its run is not the latest"))
        if task_id in self.cancelled or outcome.run_status == "running":
            message = "the run was stopped before it finished; execute_task resumes it"
            return self._task(task_id, "cancelled", message)
        result = structured(run_document_json(outcome, doc))
        dumped = result.model_dump(by_alias=True, mode="json", exclude_none=True)
        return {**self._task(task_id, "completed", f"the run is {outcome.run_status}"),
                "result": dumped}  # fmt: skip

    def _located(self, task_id: str) -> tuple[int, Path]:
        """A task id as its run id and its document (resolved, inside the project)."""
        number, _, shown = task_id.partition(":")
        if not number.isdigit() or not shown:
            raise protocol_error(InputError(task_id, "not a task of this server"))
        try:
            path = Path(self.execution.project.task(shown)).resolve()
        except TaskCliError as exc:
            raise protocol_error(exc) from exc
        return int(number), path

    def _task(self, task_id: str, status: str, message: str) -> dict[str, Any]:
        created = self.created.get(task_id) or _now()
        return {
            "taskId": task_id,
            "status": status,
            "statusMessage": message,
            "createdAt": created,
            "lastUpdatedAt": _now(),
            "ttlMs": None,
            "pollIntervalMs": POLL_MS,
        }


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
