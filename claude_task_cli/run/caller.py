"""What the executor needs from MCP: tools to list and call. `mcp.sessions.ServerPool` in
production; in-process fakes in the engine's unit tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from claude_task_cli.mcp.sessions import ProgressSink
    from claude_task_cli.outcomes import PauseReason


class ToolSpec(Protocol):
    @property
    def input_schema(self) -> Mapping[str, Any]: ...


class CallResult(Protocol):
    """A call's outcome; `kind` says why it failed (`tool`, `protocol`, `timeout`, `transport`),
    `sent` whether the request left at all (a server known to be gone answers without a trip)."""

    @property
    def is_error(self) -> bool: ...
    @property
    def kind(self) -> str | None: ...
    @property
    def sent(self) -> bool: ...
    @property
    def text(self) -> str: ...
    @property
    def structured(self) -> Any: ...
    @property
    def error(self) -> str | None: ...
    @property
    def pause(self) -> PauseReason | None:
        """Why the step waits for a person instead (its `blockedStep` left for the caller)."""
        ...


class ToolCaller(Protocol):
    """What the engine needs from MCP: `sessions.ServerPool` in production, fakes in tests."""

    async def list_tools(self, server: str) -> Mapping[str, ToolSpec]: ...

    async def call(
        self,
        server: str,
        tool: str,
        args: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        *,
        on_progress: ProgressSink | None = None,
    ) -> CallResult: ...
