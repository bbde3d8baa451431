"""`notifications/resources/updated` for a document's run (`claude-task://runs/{doc}`): sent to
the clients that subscribed to it each time one of its steps ends — in a run this server executes,
or recorded with `record_step` — and when the run stops.

- Up to protocol 2025-11-25, a client subscribes with `resources/subscribe` (and stops with
  `resources/unsubscribe`); the server then declares `resources.subscribe`. The notification
  carries the URI as the client wrote it: `runs/010` and `runs/010_time_and_commands` name the
  same document, and a client subscribed to either hears of it. Only run resources can be
  subscribed to; another URI, or a document that is not there, is refused (invalid params).
- From 2026-07-28, a client opens a `subscriptions/listen` stream naming the URIs (the SDK serves
  it); the update is published for the URI `resources/list` shows (`runs/{file stem}`) and for the
  document's id (`runs/010`).

Runs executed elsewhere (the CLI, another server) are not heard of: nothing tells this server.
The SDK's `MCPServer` has no public way to serve `resources/subscribe`; its lowlevel server does
(`add_request_handler`), which `tools.ProjectServer` reaches (`register`).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from mcp.server.subscriptions import ResourceUpdated, SubscriptionBus
from mcp_types import EmptyResult, SubscribeRequestParams, UnsubscribeRequestParams

from claude_task_cli.errors import InputError, TaskCliError
from claude_task_cli.outcomes import STEP_END
from claude_task_cli.server.boundary import protocol_error
from claude_task_cli.server.resources import RUNS
from claude_task_cli.server.served_project import ServedProject

if TYPE_CHECKING:
    from mcp.server.context import ServerRequestContext
    from mcp.server.session import ServerSession

    from claude_task_cli.store.database import Event

RUN_END = frozenset({"run_completed", "paused", "run_failed", "run_interrupted"})
_PREFIX = RUNS.removesuffix("{doc}")


class Subscribers:
    """Who is subscribed to which document's run, and the updates sent to them."""

    def __init__(self, project: ServedProject, bus: SubscriptionBus) -> None:
        self.project = project
        self.bus = bus
        # by document (its resolved path): each subscriber's session and the URI it wrote
        self._subscribed: dict[str, list[tuple[ServerSession, str]]] = {}
        self._ids: dict[str, str] = {}  # document → its id, from its runs' first events
        self._sending: set[asyncio.Task[None]] = set()

    async def subscribe(
        self, ctx: ServerRequestContext[Any, Any], params: SubscribeRequestParams
    ) -> EmptyResult:
        key = await self._document(params.uri)
        entries = self._subscribed.setdefault(key, [])
        if not any(_same_client(s, ctx.session) and u == params.uri for s, u in entries):
            entries.append((ctx.session, params.uri))
        return EmptyResult()

    async def unsubscribe(
        self, ctx: ServerRequestContext[Any, Any], params: UnsubscribeRequestParams
    ) -> EmptyResult:
        key = await self._document(params.uri)
        entries = self._subscribed.get(key, [])
        entries[:] = [
            (s, u) for s, u in entries if not (_same_client(s, ctx.session) and u == params.uri)
        ]
        return EmptyResult()

    def heard(self, key: str, event: Event) -> None:
        """An event of a run of the document `key` (on the server's loop)."""
        if event.kind in ("run_started", "resumed") and isinstance(
            event.payload.get("doc_id"), str
        ):
            self._ids[key] = event.payload["doc_id"]
        if event.kind in STEP_END or event.kind in RUN_END:
            self.changed(key)

    def changed(self, key: str) -> None:
        """The run of the document `key` changed: tell its subscribers (on the server's loop)."""
        task = asyncio.get_running_loop().create_task(self._send(key))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, key: str) -> None:
        entries = self._subscribed.get(key, [])
        for session, uri in list(entries):
            try:
                await session.send_resource_updated(uri)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):  # the client left
                if (session, uri) in entries:
                    entries.remove((session, uri))
        names = {Path(key).stem, self._ids.get(key)}
        for name in sorted(n for n in names if n):
            await self.bus.publish(ResourceUpdated(uri=RUNS.format(doc=name)))

    async def _document(self, uri: str) -> str:
        """The document a run URI names (its resolved path); a protocol error otherwise."""
        try:
            if not uri.startswith(_PREFIX) or not uri.removeprefix(_PREFIX):
                raise InputError(uri, f"only a document's run can be subscribed to ({RUNS})")
            doc = uri.removeprefix(_PREFIX)
            found = await anyio.to_thread.run_sync(self.project.task, doc)
        except TaskCliError as exc:
            raise protocol_error(exc) from exc
        return str(Path(found).resolve())


def _same_client(one: ServerSession, other: ServerSession) -> bool:
    """Whether two requests' sessions are of one connection: its `initialize` parameters, kept
    once per connection, are the same object (the session itself is made per request)."""
    return one.client_params is other.client_params and one.client_params is not None
