"""A pool of MCP client sessions for one run: one session per server, opened on first use.

    async with ServerPool(config, allowed={"cmd", "time"}) as pool:
        tools = await pool.list_tools("time")   # tools/list once per server, cached
        outcome = await pool.call("cmd", "run_command", {"command": "make"}, timeout=600)

A call always returns a `CallOutcome`: a tool error, a protocol error, a timeout or a dead server
is data for the executor. Only what stops a call from being made raises: an undeclared server
(`McpConfigError`, before anything is spawned) and a server that will not start
(`ServerStartError`, with its stderr tail). Each server's transport and `ClientSession` live in one
long-lived task of the pool's task group (anyio wants a context exited by the task that entered
it); calls from any task share the session, at most `per_server_limit` at a time per server.
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import anyio
from pydantic import BaseModel, ConfigDict

from claude_task_cli.errors import McpConfigError, ServerStartError
from claude_task_cli.mcp.config import HttpServer, McpConfig, StdioServer, open_transport

if TYPE_CHECKING:
    from anyio.abc import TaskGroup
    from mcp import ClientSession, MCPError
    from mcp_types import TextContent

ErrorKind = Literal["tool", "protocol", "timeout", "transport"]

# What a stdio server gets besides the SDK's HOME/LOGNAME/PATH/SHELL/TERM/USER and its own `env`.
PASSTHROUGH_ENV = ("LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ", "SSL_CERT_FILE", "SSL_CERT_DIR")


class ToolInfo(BaseModel):
    """A tool as the server listed it."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    name: str
    description: str | None = None
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None = None


@dataclass(slots=True, kw_only=True)  # not frozen: its __init__ would cost 3× as much
class CallOutcome:
    """The result of one `tools/call`; `kind` says why it failed, and is None when it did not.
    A plain dataclass: one is made per call, and nothing in it needs validating."""

    server: str
    tool: str
    is_error: bool
    kind: ErrorKind | None = None
    text: str = ""  # the text content blocks, joined by newlines
    structured: Any | None = None
    duration_ms: float
    error: str | None = None


class ServerPool:
    """The sessions of one run; use as `async with ServerPool(config, allowed) as pool:`."""

    def __init__(
        self,
        config: McpConfig,
        allowed: Collection[str] | None = None,
        *,
        per_server_limit: int = 8,
        start_timeout: float = 30.0,
        default_timeout: float | None = 300.0,
        base_env: Mapping[str, str] | None = None,
    ) -> None:
        """`allowed` defaults to every server in `config`; `base_env` (default: this process's
        locale and temp variables) is what stdio servers get under their configured `env`."""
        self.config = config
        self.allowed = frozenset(config.names if allowed is None else allowed)
        self.per_server_limit = per_server_limit
        self.start_timeout = start_timeout
        self.default_timeout = default_timeout
        if base_env is None:
            base_env = {k: os.environ[k] for k in PASSTHROUGH_ENV if k in os.environ}
        self.base_env = dict(base_env)
        self.sessions_opened = 0
        self._connections: dict[str, _Connection] = {}
        self._tg: TaskGroup | None = None
        self._used = False

    async def __aenter__(self) -> ServerPool:
        if self._used:
            raise RuntimeError("a ServerPool can be entered only once")
        self._used = True
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        assert self._tg is not None
        tg, self._tg = self._tg, None
        for conn in self._connections.values():
            conn.close.set()
        # Only a cancellation concerns the task group; any other error from the body propagates
        # as itself, not wrapped in an ExceptionGroup.
        cancelled = isinstance(exc_info[1], anyio.get_cancelled_exc_class())
        try:
            return await tg.__aexit__(*(exc_info if cancelled else (None, None, None)))
        finally:
            for conn in self._connections.values():
                conn.release()

    async def list_tools(self, server: str) -> dict[str, ToolInfo]:
        """The server's tools by name (listed once, when its session opened)."""
        return dict((await self._open(server)).tools)

    async def session(self, server: str) -> ClientSession:
        """The server's open SDK session itself: bare `call_tool`s on the very server process the
        pool's calls reach (the executor's benchmark compares the two)."""
        conn = await self._open(server)
        assert conn.session is not None
        return conn.session

    async def call(
        self,
        server: str,
        tool: str,
        args: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> CallOutcome:
        """Call `tool` on `server`. `timeout` (seconds; default `default_timeout`) bounds the
        request itself, not the wait for a free slot under `per_server_limit`."""
        mcp_error, text_content = _sdk_types()
        conn = self._connections.get(server)
        if conn is None or conn.session is None or self._tg is None:  # else: open, no await
            conn = await self._open(server)
        session = conn.session
        assert session is not None
        limit = timeout if timeout is not None else self.default_timeout
        kind: ErrorKind | None = None
        error: str | None = None
        slots = conn.limit
        try:  # a free slot is taken without a turn of the event loop
            slots.acquire_nowait()
        except anyio.WouldBlock:
            await slots.acquire()
        try:
            started = time.perf_counter()
            try:
                if conn.broken is not None:
                    raise _Gone(f"the server is gone: {conn.broken}")
                result = await session.call_tool(tool, dict(args or {}), limit)
            except (_Gone, mcp_error, anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
                kind, error = _classify(exc, limit)
            except OSError as exc:
                kind, error = "transport", f"{type(exc).__name__}: {exc}"
            except (RuntimeError, ValueError) as exc:  # bad structured content, unexpected result
                kind, error = "protocol", str(exc)
            ms = (time.perf_counter() - started) * 1000
        finally:
            slots.release()
        if kind is not None:
            if kind == "transport":
                conn.broken = conn.broken or error
                error = "\n  stderr: ".join([str(error), *conn.stderr_tail(5)])
            return CallOutcome(
                server=server, tool=tool, is_error=True, kind=kind, duration_ms=ms, error=error
            )
        text = "\n".join(
            b.text if isinstance(b, text_content) else _not_text(b) for b in result.content
        )
        return CallOutcome(
            server=server,
            tool=tool,
            is_error=result.is_error,
            kind="tool" if result.is_error else None,
            text=text,
            structured=result.structured_content,
            duration_ms=ms,
            error=(text or "the tool reported an error") if result.is_error else None,
        )

    async def _open(self, server: str) -> _Connection:
        if self._tg is None:
            raise RuntimeError("ServerPool used outside its 'async with' block")
        if server not in self.allowed:
            declared = ", ".join(sorted(self.allowed)) or "none"
            message = f"not declared for this run (declared: {declared})"
            raise McpConfigError(message, path=self.config.path, server=server)
        conn = self._connections.get(server)
        if conn is None:
            entry = self.config.get(server)
            if not isinstance(entry, StdioServer | HttpServer):
                message = f"transport {entry.type!r} is not supported; use stdio or http"
                raise McpConfigError(message, path=self.config.path, server=server)
            conn = self._connections[server] = _Connection(entry, self.per_server_limit)
        async with conn.lock:  # concurrent first calls: one opens, the others wait for it
            if not conn.started:
                conn.started = True
                self.sessions_opened += 1
                self._tg.start_soon(conn.own, self.base_env, self.start_timeout)
            await conn.ready.wait()
        if conn.failure is not None:
            raise conn.failure
        return conn


class _Connection:
    """One server's session, owned from open to close by the task running `own`."""

    def __init__(self, entry: StdioServer | HttpServer, limit: int) -> None:
        self.entry = entry
        self.lock = anyio.Lock()
        self.limit = anyio.Semaphore(limit)
        self.ready = anyio.Event()
        self.close = anyio.Event()
        self.started = False
        self.session: ClientSession | None = None
        self.tools: dict[str, ToolInfo] = {}
        self.failure: ServerStartError | None = None
        self.broken: str | None = None
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
                session = await stack.enter_async_context(ClientSession(read, write))
                with anyio.fail_after(start_timeout):
                    await session.initialize()
                    self.tools = await _list_all_tools(session)
                self.session = session
                self.ready.set()
                await self.close.wait()
        except Exception as exc:
            leaf = _leaf(exc)
            if self.session is None:
                reason = _describe_start_failure(leaf, start_timeout)
                self.failure = ServerStartError(self.entry.name, reason, self.stderr_tail())
            elif not self.close.is_set():  # the transport failed under a live session
                self.broken = self.broken or str(leaf) or type(leaf).__name__
        finally:
            if self.session is None and self.failure is None:
                self.failure = ServerStartError(self.entry.name, "the pool closed while starting")
            self.ready.set()

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
        tools.update((t.name, ToolInfo.model_validate(t, from_attributes=True)) for t in page.tools)
        cursor = page.next_cursor
        if not cursor:
            return tools


@functools.cache
def _sdk_types() -> tuple[type[MCPError], type[TextContent]]:
    """The SDK classes `call` needs, imported once (an import statement costs ~1 µs a call)."""
    from mcp import MCPError
    from mcp_types import TextContent

    return MCPError, TextContent


def _not_text(block: Any) -> str:
    """A content block that is not text (image, audio, resource) as one line saying what it was,
    so the evidence shows it came back; its data itself is not recorded."""
    kind = str(getattr(block, "type", "content"))
    details = [str(m) for m in (getattr(block, "mime_type", None),) if m]
    data = getattr(block, "data", None)
    if isinstance(data, str):  # base64
        details.append(f"{len(data) * 3 // 4 - data[-2:].count('='):,} bytes")
    uri = getattr(block, "uri", None) or getattr(getattr(block, "resource", None), "uri", None)
    if uri:
        details.append(str(uri))
    return f"[{kind}{': ' if details else ''}{', '.join(details)}; data not recorded]"


class _Gone(Exception):
    """A call to a server whose connection already broke, answered without a round trip."""


def _classify(exc: Exception, limit: float | None) -> tuple[ErrorKind, str]:
    from mcp import MCPError
    from mcp_types import CONNECTION_CLOSED, REQUEST_TIMEOUT

    if isinstance(exc, MCPError) and exc.code == REQUEST_TIMEOUT:
        return "timeout", f"no answer within {limit} s"
    if isinstance(exc, MCPError) and exc.code != CONNECTION_CLOSED:
        return "protocol", f"MCP error {exc.code}: {exc.message}"
    if isinstance(exc, _Gone):
        return "transport", str(exc)
    return "transport", "the connection to the server closed (did it exit?)"


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
