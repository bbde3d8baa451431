"""`notifications/resources/updated` for a document's run, over stdio with the official SDK
client: a 2025-11-25 client subscribes with `resources/subscribe` and hears of each step's end
(a run executed here, a step recorded with record_step) under the URI it wrote, until it
unsubscribes; a 2026-07-28 client hears the same through a `subscriptions/listen` stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import mcp_types as types
import pytest
from mcp import Client, ClientSession, MCPError
from mcp.client.session import IncomingMessage
from mcp.client.stdio import stdio_client

from tests.server.support import serve_over_stdio

pytestmark = pytest.mark.anyio


class Heard:
    """The resource updates a client received, and a way to wait for them."""

    def __init__(self) -> None:
        self.uris: list[str] = []
        self._more = anyio.Event()

    async def on_message(self, message: IncomingMessage) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            self.uris.append(str(message.params.uri))
            self._more.set()

    async def at_least(self, count: int) -> list[str]:
        with anyio.fail_after(30):
            while len(self.uris) < count:
                self._more = anyio.Event()
                await self._more.wait()
        return self.uris


@asynccontextmanager
async def session(project: Path, tmp_path: Path, heard: Heard) -> AsyncIterator[ClientSession]:
    with (tmp_path / "server-stderr.txt").open("w") as err, anyio.fail_after(120):
        async with (
            stdio_client(serve_over_stdio(project, tmp_path), errlog=err) as (read, write),
            ClientSession(read, write, message_handler=heard.on_message) as client,
        ):
            await client.initialize()
            yield client


async def subscribe(client: ClientSession, uri: str, *, stop: bool = False) -> None:
    """What a 2025-11-25 client sends (the SDK marks its own helper deprecated for 2026)."""
    request: types.ClientRequest = (
        types.UnsubscribeRequest(params=types.UnsubscribeRequestParams(uri=uri))
        if stop
        else types.SubscribeRequest(params=types.SubscribeRequestParams(uri=uri))
    )
    await client.send_request(request, types.EmptyResult)


async def test_a_subscriber_hears_each_step_end_until_it_unsubscribes(
    project: Path, tmp_path: Path
) -> None:
    heard = Heard()
    async with session(project, tmp_path, heard) as client:
        capabilities = client.server_capabilities
        assert capabilities is not None
        assert capabilities.resources is not None
        assert capabilities.resources.subscribe is True
        await subscribe(client, "claude-task://runs/071")  # by id
        await subscribe(client, "claude-task://runs/071_short")  # by stem: the same document
        await subscribe(client, "claude-task://runs/010")  # another document: never run here
        done = await client.call_tool("execute_task", {"task": "071"})
        assert not done.is_error
        # two steps end, and the run: three updates, under each URI subscribed
        uris = await heard.at_least(6)
        assert set(uris) == {"claude-task://runs/071", "claude-task://runs/071_short"}
        await subscribe(client, "claude-task://runs/071", stop=True)
        await subscribe(client, "claude-task://runs/071_short", stop=True)
        count = len(heard.uris)
        again = await client.call_tool("execute_task", {"task": "071", "no_resume": True})
        assert not again.is_error
        status = await client.call_tool("task_status", {"task": "071"})  # a round trip after
        assert not status.is_error
    assert len(heard.uris) == count


async def test_a_step_recorded_by_the_client_is_an_update(project: Path, tmp_path: Path) -> None:
    heard = Heard()
    async with session(project, tmp_path, heard) as client:
        paused = await client.call_tool("execute_task", {"task": "060"})  # a step for a person
        assert not paused.is_error
        await subscribe(client, "claude-task://runs/060")
        recorded = await client.call_tool(
            "record_step", {"task": "060", "step": "1.1", "result": {"looked": True}}
        )
        assert not recorded.is_error
        assert await heard.at_least(1) == ["claude-task://runs/060"]


async def test_only_a_documents_run_can_be_subscribed_to(project: Path, tmp_path: Path) -> None:
    async with session(project, tmp_path, Heard()) as client:
        with pytest.raises(MCPError) as other:
            await subscribe(client, "claude-task://format")
        with pytest.raises(MCPError) as missing:
            await subscribe(client, "claude-task://runs/999")
    assert other.value.code == types.INVALID_PARAMS
    assert "only a document's run can be subscribed to" in other.value.message
    assert missing.value.code == types.INVALID_PARAMS
    assert missing.value.message.startswith("999: ")


async def test_a_listen_stream_hears_the_same(project: Path, tmp_path: Path) -> None:
    async with Client(serve_over_stdio(project, tmp_path)) as client:  # negotiates 2026-07-28
        uri = "claude-task://runs/071_short"  # as resources/list shows it
        async with client.listen(resource_subscriptions=[uri]) as stream:
            done = await client.call_tool("execute_task", {"task": "071"})
            assert not done.is_error
            with anyio.fail_after(30):
                event = await anext(aiter(stream))
    assert event.uri == uri  # type: ignore[union-attr]
