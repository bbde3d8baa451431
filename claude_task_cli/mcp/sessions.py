"""A pool of MCP client sessions for one run: one session per server, reused by every call.

    async with ServerPool(config, allowed={"cmd", "time"}) as pool:
        pool.start({"cmd", "time"})             # open both at once, now (else: on first use)
        tools = await pool.list_tools("time")   # tools/list once per server, cached
        outcome = await pool.call("cmd", "run_command", {"command": "make"}, timeout=600)

`start` opens the servers a run will need concurrently, so a document calling three servers
waits for the slowest start, not for the sum of them; a server that fails to start is reported
where it is first used, as if it had been opened there.

A call always returns a `CallOutcome`: a tool error, a protocol error, a timeout or a dead server
is data for the executor. Only what stops a call from being made raises: an undeclared server
(`McpConfigError`, before anything is spawned) and a server that will not start
(`ServerStartError`, with its stderr tail, and what it wrote on stdout that is not an MCP
message, if anything). A server whose connection broke (it died, or closed the connection) is
started again by the next call to it, at most `MAX_RESTARTS` times a run, so a retry of the call
it cut, and the calls after it, reach a live server; a call cut by the break is not repeated
here — whether to call again is the executor's to decide. Past the limit, calls to it answer
`transport` at once, without a round trip (`sent` false).

Every message about a server passes through `McpConfig.redact`, so what `.mcp.json` expanded from
`${VAR}` is shown as written. The SDK's own log records go to the log file (`logger.debug`), not to
the screen. Each server's transport and `ClientSession` live in one long-lived task of the pool's
task group (anyio wants a context exited by the task that entered it); calls from any task share
the session, at most `per_server_limit` at a time per server.

What the sessions offer their servers (the project root as a root, answers to their questions)
is the pool's `client` (`client_side.py`). Two outcomes of a call are the person's to resolve, not
failures: a question the server asked that nobody was there to answer, and a tool that runs only
as an MCP task (`execution.taskSupport: required`; not called) — `CallOutcome.pause` says which.
A call given `on_progress` hears the server's progress notifications for it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import anyio

from claude_task_cli.errors import McpConfigError
from claude_task_cli.mcp.client_side import CallWatch, ClientSide
from claude_task_cli.mcp.config import HttpServer, McpConfig, StdioServer
from claude_task_cli.mcp.connection import Connection, ToolInfo, sdk_log_handler
from claude_task_cli.mcp.content import record
from claude_task_cli.outcomes import PauseReason, QuestionDeclined, TaskRequired

if TYPE_CHECKING:
    from anyio.abc import TaskGroup
    from mcp import ClientSession, MCPError
    from mcp.shared.dispatcher import ProgressFnT

ErrorKind = Literal["tool", "protocol", "timeout", "transport"]
# What a server says of a call's progress: (progress, total or None, message or None).
ProgressSink = Callable[[float, float | None, str | None], None]
DEFAULT_CALL_TIMEOUT = 300.0  # seconds a tools/call may take, unless the step or the run says
MAX_RESTARTS = 3  # times one server is started again in a run after its connection broke

# What a stdio server gets besides the SDK's HOME/LOGNAME/PATH/SHELL/TERM/USER and its own `env`.
PASSTHROUGH_ENV = ("LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ", "SSL_CERT_FILE", "SSL_CERT_DIR")


@dataclass(slots=True, kw_only=True)  # not frozen: a frozen __init__ costs more, once a call
class CallOutcome:
    """The result of one `tools/call`; `kind` says why it failed, and is None when it did not.
    `text` and `structured` are the result as recorded (`content.py`): every block as a line,
    and the structured content — with the blocks beside it when they say more. `pause`: why the
    step waits for a person instead (`questionDeclined`, `taskRequired`), with an empty
    `blockedStep` for the executor, which knows the step, to fill in. A plain dataclass: one is
    made per call, and nothing in it needs validating."""

    server: str
    tool: str
    is_error: bool
    kind: ErrorKind | None = None
    text: str = ""
    structured: Any | None = None
    duration_ms: float
    error: str | None = None
    sent: bool = True  # False: the server was known gone, the request never left
    pause: PauseReason | None = None


@dataclass(frozen=True, slots=True)
class ServerStart:
    """A server's start as it goes: `starting`, then `ready` or `failed` after `seconds`."""

    server: str
    state: Literal["starting", "ready", "failed"]
    seconds: float = 0.0
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
        default_timeout: float | None = DEFAULT_CALL_TIMEOUT,
        base_env: Mapping[str, str] | None = None,
        client: ClientSide | None = None,
        on_start: Callable[[ServerStart], None] | None = None,
    ) -> None:
        """`allowed` defaults to every server in `config`; `default_timeout` bounds a call that
        names no timeout (None: no bound); `base_env` (default: this process's locale and temp
        variables) is what stdio servers get under their configured `env`; `client` is what the
        sessions offer their servers (default: no roots, every question declined); `on_start`
        hears when each server begins to start and when it is ready or failed (a start takes
        seconds: a user is told what is happening meanwhile)."""
        self.config = config
        self.allowed = frozenset(config.names if allowed is None else allowed)
        self.per_server_limit = per_server_limit
        self.start_timeout = start_timeout
        self.default_timeout = default_timeout
        if base_env is None:
            base_env = {k: os.environ[k] for k in PASSTHROUGH_ENV if k in os.environ}
        self.base_env = dict(base_env)
        self.client = client or ClientSide()
        self.sessions_opened = 0
        self.on_start = on_start
        self._connections: dict[str, Connection] = {}
        self._replaced: list[Connection] = []  # broken connections a restart took over from
        self._restarts: dict[str, int] = {}
        self._tg: TaskGroup | None = None
        self._used = False

    async def __aenter__(self) -> ServerPool:
        if self._used:
            raise RuntimeError("a ServerPool can be entered only once")
        self._used = True
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        sdk_log_handler().redactors.append(self.config.redact)
        return self

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        assert self._tg is not None
        tg, self._tg = self._tg, None
        connections = [*self._replaced, *self._connections.values()]
        for conn in connections:
            conn.close.set()
        # Only a cancellation concerns the task group; any other error from the body propagates
        # as itself, not wrapped in an ExceptionGroup.
        cancelled = isinstance(exc_info[1], anyio.get_cancelled_exc_class())
        try:
            return await tg.__aexit__(*(exc_info if cancelled else (None, None, None)))
        finally:
            for conn in connections:
                conn.release()
            sdk_log_handler().redactors.remove(self.config.redact)

    def start(self, servers: Iterable[str]) -> None:
        """Begin opening each of `servers` now, concurrently, without waiting for any. A server
        that cannot be opened (undeclared, an unsupported transport, a failed start) raises
        where it is first used, as it would without this."""
        if self._tg is None:
            raise RuntimeError("ServerPool used outside its 'async with' block")
        for server in sorted(servers):
            with contextlib.suppress(McpConfigError):
                self._begin(self._connection(server))

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
        *,
        on_progress: ProgressSink | None = None,
    ) -> CallOutcome:
        """Call `tool` on `server`. `timeout` (seconds; default `default_timeout`) bounds the
        request itself, not the wait for a free slot under `per_server_limit`; `on_progress`
        hears the server's progress notifications for this call."""
        mcp_error = _sdk_error()
        conn = self._connections.get(server)
        if conn is None or conn.session is None or self._tg is None:  # else: open, no await
            conn = await self._open(server)
        if conn.broken is not None:
            conn = await self._restart(server, conn)
        session = conn.session
        assert session is not None
        info = conn.tools.get(tool)
        if info is not None and info.task_support == "required":
            return _task_required(server, tool)
        progress = None if on_progress is None else _progress_callback(on_progress)
        watch = CallWatch()
        limit = timeout if timeout is not None else self.default_timeout
        kind: ErrorKind | None = None
        error: str | None = None
        slots = conn.limit
        try:  # a free slot is taken without a turn of the event loop
            slots.acquire_nowait()
        except anyio.WouldBlock:
            await slots.acquire()
        gone = conn.broken is not None
        conn.in_flight.add(watch)
        try:
            started = time.perf_counter()
            try:
                if gone:
                    raise _Gone(f"the server is gone: {conn.broken}")
                result = await session.call_tool(tool, dict(args or {}), limit, progress)
            except (_Gone, mcp_error, anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
                kind, error = _classify(exc, limit)
            except OSError as exc:
                kind, error = "transport", f"{type(exc).__name__}: {exc}"
            except (RuntimeError, ValueError) as exc:  # bad structured content, unexpected result
                kind, error = "protocol", str(exc)
            ms = (time.perf_counter() - started) * 1000
        finally:
            conn.in_flight.discard(watch)
            slots.release()
        if kind is not None:
            if kind == "transport":
                conn.broken = conn.broken or error
                error = "\n  stderr: ".join([str(error), *conn.stderr_tail(5)])
            return CallOutcome(
                server=server,
                tool=tool,
                is_error=True,
                kind=kind,
                duration_ms=ms,
                error=self.config.redact(str(error)),
                sent=not gone,
            )
        recorded = record(result.content, result.structured_content)
        return CallOutcome(
            server=server,
            tool=tool,
            is_error=result.is_error,
            kind="tool" if result.is_error else None,
            text=recorded.text,
            structured=recorded.structured,
            duration_ms=ms,
            error=(recorded.text or "the tool reported an error") if result.is_error else None,
            pause=_declined(server, tool, watch),
        )

    async def _open(self, server: str) -> Connection:
        if self._tg is None:
            raise RuntimeError("ServerPool used outside its 'async with' block")
        conn = self._connection(server)
        self._begin(conn)
        await conn.ready.wait()
        if conn.failure is not None:
            raise conn.failure
        return conn

    async def _restart(self, server: str, broken: Connection) -> Connection:
        """The server started again in place of its broken connection (once, whoever asks
        first; the others wait for that start), unless it was restarted `MAX_RESTARTS` times."""
        if self._connections.get(server) is broken:
            if self._restarts.get(server, 0) >= MAX_RESTARTS:
                return broken
            self._restarts[server] = self._restarts.get(server, 0) + 1
            broken.close.set()
            self._replaced.append(broken)
            del self._connections[server]
        return await self._open(server)

    def _connection(self, server: str) -> Connection:
        """The server's connection, made (not started) on first request."""
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
            conn = self._connections[server] = Connection(
                entry, self.per_server_limit, self.config.redact, self.client
            )
        return conn

    def _begin(self, conn: Connection) -> None:
        """Start `conn`'s owning task unless it runs already (no await: one start per server)."""
        if not conn.started:
            assert self._tg is not None
            conn.started = True
            self.sessions_opened += 1
            self._tg.start_soon(conn.own, self.base_env, self.start_timeout)
            if self.on_start is not None:
                self.on_start(ServerStart(conn.entry.name, "starting"))
                self._tg.start_soon(self._report_start, conn, self.on_start)

    @staticmethod
    async def _report_start(conn: Connection, on_start: Callable[[ServerStart], None]) -> None:
        name, began = conn.entry.name, time.perf_counter()
        await conn.ready.wait()
        seconds = time.perf_counter() - began
        if conn.failure is None:
            on_start(ServerStart(name, "ready", seconds))
        else:
            on_start(ServerStart(name, "failed", seconds, conn.failure.message))


def _task_required(server: str, tool: str) -> CallOutcome:
    """A tool that runs only as an MCP task, not called: the person's to run another way."""
    error = (
        f"tool {tool!r} on server {server!r} runs only as an MCP task (taskSupport: required), "
        "which this executor does not run: not called"
    )
    pause = TaskRequired(blocked_step="", server=server, suggested_tool=tool)
    return CallOutcome(
        server=server, tool=tool, is_error=True, kind="protocol", duration_ms=0.0, error=error,
        pause=pause,
    )  # fmt: skip


def _declined(server: str, tool: str, watch: CallWatch) -> PauseReason | None:
    """The first question declined while the call ran, as the pause it makes (None: none)."""
    if not watch.declined:
        return None
    asked, in_flight = watch.declined[0]
    return QuestionDeclined(
        blocked_step="",
        server=server,
        question=asked.message,
        requested_schema=asked.schema,
        url=asked.url,
        calls_in_flight=in_flight,
        suggested_tool=tool,
    )


def _progress_callback(sink: ProgressSink) -> ProgressFnT:
    """`sink` as the SDK's progress callback (a coroutine function)."""

    async def heard(progress: float, total: float | None, message: str | None) -> None:
        sink(progress, total, message)

    return heard


@functools.cache
def _sdk_error() -> type[MCPError]:
    """The SDK's error class, imported once (`call` runs per step)."""
    from mcp import MCPError

    return MCPError


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
