"""`execute_task` as an MCP task (SEP-2663) for a client that declares the tasks extension: a
task handle at once, `tasks/get` polled to completion, `tasks/cancel`; the run is the task."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import anyio
import pytest
from mcp import Client
from mcp.client.extension import ClaimContext, ClientExtension, ResultClaim
from mcp_types import CallToolResult, Request, RequestParams, Result
from pydantic import Field, TypeAdapter

from claude_task_cli.server.mcp_tasks import IDENTIFIER
from claude_task_cli.server.tools import build_server

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
ANY: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any])


class Handle(Result):
    result_type: Literal["task"] = Field(alias="resultType")
    task_id: str = Field(alias="taskId")
    status: str


class TaskRef(RequestParams):
    task_id: str = Field(alias="taskId")


class GetTask(Request[TaskRef, Literal["tasks/get"]]):
    method: Literal["tasks/get"] = "tasks/get"
    name_param = "taskId"


class CancelTask(Request[TaskRef, Literal["tasks/cancel"]]):
    method: Literal["tasks/cancel"] = "tasks/cancel"
    name_param = "taskId"


class Polling(ClientExtension):
    """A client side of the extension: a task handle polled with tasks/get until it ends, or
    cancelled once it is working when `cancel` is set."""

    identifier = IDENTIFIER

    def __init__(self, cancel: bool = False) -> None:
        self.cancel = cancel
        self.handles: list[Handle] = []
        self.seen: list[dict[str, Any]] = []

    def claims(self) -> list[ResultClaim[Any]]:
        return [ResultClaim(result_type="task", model=Handle, resolve=self.resolve)]

    async def resolve(self, handle: Handle, ctx: ClaimContext) -> CallToolResult:
        self.handles.append(handle)
        ref = TaskRef(taskId=handle.task_id)
        with anyio.fail_after(60):
            while True:
                task = await ctx.session.send_request(GetTask(params=ref), ANY)
                self.seen.append(task)
                if task["status"] == "working" and self.cancel:
                    task = await ctx.session.send_request(CancelTask(params=ref), ANY)
                    self.seen.append(task)
                if task["status"] != "working":
                    break
                await anyio.sleep(task["pollIntervalMs"] / 1000)
        if task["status"] == "completed":
            return CallToolResult.model_validate(task["result"])
        return CallToolResult(content=[], is_error=True, structured_content=task)


async def test_execute_task_as_a_task_is_polled_to_its_run_document(project: Path) -> None:
    polling = Polling()
    async with Client(build_server(project), extensions=[polling]) as client:
        result = await client.call_tool("execute_task", {"task": "071"})
        plain = await client.call_tool("task_status", {"task": "071"})  # not a task: unchanged
    [handle] = polling.handles
    assert handle.task_id == "1:docs/tasks/071_short.md"  # the run is the task
    assert polling.seen[0]["status"] == "working"
    assert polling.seen[-1]["status"] == "completed"
    assert result.structured_content is not None
    assert (result.structured_content["runId"], result.structured_content["runStatus"]) == (
        1, "completed")  # fmt: skip
    assert plain.structured_content is not None
    assert plain.structured_content["verdict"] == "COMPLETE"


async def test_tasks_cancel_stops_the_run(project: Path) -> None:
    polling = Polling(cancel=True)
    async with Client(build_server(project), extensions=[polling]) as client:
        result = await client.call_tool("execute_task", {"task": "070"})
        again = await client.call_tool("execute_task", {"task": "070", "dry_run": True})
    assert result.is_error
    assert polling.seen[-1]["status"] == "cancelled"
    assert again.structured_content is not None  # a dry run is never a task
    assert again.structured_content["dryRun"] is True


async def test_a_client_without_the_extension_waits_as_before(project: Path) -> None:
    async with Client(build_server(project)) as client:
        result = await client.call_tool("execute_task", {"task": "071"})
    assert result.structured_content is not None
    assert result.structured_content["runStatus"] == "completed"


async def test_as_a_task_over_streamable_http(http_server: str) -> None:
    polling = Polling()
    with anyio.fail_after(90):
        async with Client(http_server, extensions=[polling]) as client:
            result = await client.call_tool("execute_task", {"task": "071"})
    assert polling.handles
    assert polling.seen[-1]["status"] == "completed"
    assert result.structured_content is not None
    assert result.structured_content["runStatus"] == "completed"
