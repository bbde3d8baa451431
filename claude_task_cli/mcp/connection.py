"""One server's MCP session, owned from open to close by one task of the pool (`sessions.py`).

Opening runs the transport, `initialize` and a full `tools/list` within the start timeout; what
stops it becomes a `ServerStartError` naming the server, the reason and the end of its stderr,
every line through `redact`. A line on the server's stdout that is not an MCP message (the spec
allows nothing else there) is named once, with what was written: in the start error when the
server then fails to start, else in one warning — the SDK skips such a line, and so do other
clients, so a server that prints a banner and then speaks MCP still works. The SDK reports the
line through `logging` with a traceback; `sdk_log_handler` sends the SDK client's records to the
log file, not the screen. What the session offers the server (roots, elicitation) and how it
answers: `client_side.py`.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import tempfile
import traceback
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import anyio
from pydantic import BaseModel, ConfigDict

from claude_task_cli.errors import ServerStartError
from claude_task_cli.mcp.client_side import CallWatch, ClientSide, Handlers
from claude_task_cli.mcp.config import HttpServer, StdioServer, open_transport

if TYPE_CHECKING:
    from mcp import ClientSession

_SHOWN = 120  # characters of a server's stray output shown in a message


class ToolInfo(BaseModel):
    """A tool as the server listed it."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    name: str
    description: str | None = None
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None = None
    task_support: str | None = None  # `execution.taskSupport`: forbidden, optional, required


class Connection:
    """One server's session, owned from open to close by the task running `own`."""

    def __init__(
        self,
        entry: StdioServer | HttpServer,
        limit: int,
        redact: Callable[[str], str],
        client: ClientSide | None = None,
    ) -> None:
        self.entry = entry
        self.redact = redact
        self.in_flight: set[CallWatch] = set()  # the calls waiting on the server now
        self.handlers = Handlers(entry.name, client or ClientSide(), self.in_flight, entry.roots)
        self.limit = anyio.Semaphore(limit)
        self.ready = anyio.Event()
        self.close = anyio.Event()
        self.started = False
        self.session: ClientSession | None = None
        self.tools: dict[str, ToolInfo] = {}
        self.failure: ServerStartError | None = None
        self.broken: str | None = None
        self.stray: str | None = None  # the first thing it wrote on stdout that is not MCP
        # The server's stderr: lives as long as the connection, closed by `release`.
        self._errlog = (
            tempfile.TemporaryFile("w+", encoding="utf-8", prefix=f"mcp-{entry.name}-")  # noqa: SIM115
            if isinstance(entry, StdioServer)
            else None
        )

    async def own(self, base_env: Mapping[str, str], start_timeout: float) -> None:
        from mcp import ClientSession

        try:
            async with contextlib.AsyncExitStack() as stack:
                transport = open_transport(self.entry, base_env=base_env, errlog=self._errlog)
                read, write = await stack.enter_async_context(transport)
                session = await stack.enter_async_context(
                    ClientSession(
                        read, write, message_handler=self._on_message, **self.handlers.callbacks()
                    )
                )
                with anyio.fail_after(start_timeout):
                    await session.initialize()
                    self.tools = await _list_all_tools(session)
                self.session = session
                if self.stray is not None:
                    self._warn()
                self.ready.set()
                await self.close.wait()
        except Exception as exc:
            leaf = _leaf(exc)
            if self.session is None:
                reason = self.redact(_describe_start_failure(leaf, start_timeout))
                if self.stray is not None:
                    reason += f"; it wrote on stdout what is not an MCP message: {self.stray}"
                tail = [self.redact(line) for line in self.stderr_tail()]
                self.failure = ServerStartError(self.entry.name, reason, tail)
            elif not self.close.is_set():  # the transport failed under a live session
                self.broken = self.broken or str(leaf) or type(leaf).__name__
        finally:
            if self.session is None and self.failure is None:
                self.failure = ServerStartError(self.entry.name, "the pool closed while starting")
            self.ready.set()

    async def _on_message(self, message: Any) -> None:
        """Notifications and transport faults from the session: the first line of stdout that
        is not an MCP message is kept, and named at once when the session is open already."""
        if not isinstance(message, Exception) or self.stray is not None:
            return
        stray = _stray_output(message)
        if stray is not None:
            self.stray = self.redact(stray)
            if self.session is not None:
                self._warn()

    def _warn(self) -> None:
        from loguru import logger

        name, stray = self.entry.name, self.stray
        logger.warning(f"MCP server {name!r} wrote on stdout what is not an MCP message: {stray}")

    def stderr_tail(self, lines: int = 20) -> list[str]:
        """The last lines the server wrote to stderr (stdio only); `pread` leaves alone the file
        offset the child writes at."""
        if self._errlog is None or self._errlog.closed:
            return []
        fd = self._errlog.fileno()
        size = os.fstat(fd).st_size
        chunk = os.pread(fd, min(size, 64 * 1024), max(0, size - 64 * 1024))
        return chunk.decode("utf-8", errors="replace").splitlines()[-lines:]

    def release(self) -> None:
        if self._errlog is not None:
            self._errlog.close()


async def _list_all_tools(session: ClientSession) -> dict[str, ToolInfo]:
    from mcp_types import PaginatedRequestParams

    tools: dict[str, ToolInfo] = {}
    cursor: str | None = None
    while True:
        page = await session.list_tools(params=PaginatedRequestParams(cursor=cursor))
        for tool in page.tools:
            info = ToolInfo.model_validate(tool, from_attributes=True)
            if tool.execution is not None and tool.execution.task_support is not None:
                info = info.model_copy(update={"task_support": tool.execution.task_support})
            tools[tool.name] = info
        cursor = page.next_cursor
        if not cursor:
            return tools


def _stray_output(exc: Exception) -> str | None:
    """What a server wrote, when `exc` is the SDK's failure to read a line of its stdout as a
    JSON-RPC message (a pydantic `ValidationError`); trimmed and quoted."""
    from pydantic import ValidationError

    if not isinstance(exc, ValidationError):
        return None
    errors = sorted(exc.errors(include_url=False), key=lambda error: len(error["loc"]))
    if not errors:
        return None
    seen = errors[0]["input"]
    text = seen if isinstance(seen, str) else json.dumps(seen, ensure_ascii=False, default=str)
    return repr(text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…")


class _ToLog(logging.Handler):
    """The SDK client's log records (stdlib `logging`) to the log file, through loguru at debug
    level and through each open pool's `redact`: never a traceback on the screen."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.redactors: list[Callable[[str], str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        from loguru import logger

        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += "\n" + "".join(traceback.format_exception(record.exc_info[1])).rstrip()
        for redact in self.redactors:
            text = redact(text)
        logger.debug(f"{record.name}: {text}")


@functools.cache
def sdk_log_handler() -> _ToLog:
    """Installed once, on the SDK's client loggers, which then no longer reach stderr."""
    handler = _ToLog()
    sdk = logging.getLogger("mcp.client")
    sdk.addHandler(handler)
    sdk.propagate = False
    return handler


def _leaf(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def _describe_start_failure(exc: BaseException, start_timeout: float) -> str:
    from mcp import MCPError
    from mcp_types import CONNECTION_CLOSED

    if isinstance(exc, TimeoutError):
        return f"no answer to initialize within {start_timeout} s"
    if isinstance(exc, MCPError) and exc.code == CONNECTION_CLOSED:
        return "the server closed the connection before answering initialize"
    if isinstance(exc, OSError) and exc.strerror:
        return f"cannot run it: {exc.strerror}: {exc.filename or ''}".rstrip(": ")
    return f"{type(exc).__name__}: {exc}"
