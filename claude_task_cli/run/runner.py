"""Synchronous entry points for the CLI and the MCP server: config, servers, store, engine.

```python
outcome = run_document(doc, RunOptions(concurrency=4), on_event=render)  # execute (or resume)
with open_store(doc) as store:
    status = status_of(doc, store)                               # task_status
    record_step_result(store, doc, "3.1", result={"ok": True})   # a step done outside
print(handoff(outcome, doc).narrative())
```

The project root is found from the document's directory (nearest `.mcp.json`, else `.git`); the
state database is `options.state`, else `$CLAUDE_TASK_DB`, else `<root>/.claude-task/state.db`
(`store.urls.state_location`). Servers
come from the nearest `.mcp.json` or `mcp_config_path`; every server the document names must be
declared there (checked before anything starts). The command server is the declared stdio server
that runs `claude_task_cli.mcp.command_server` (or `claude-task-command-server`), unless named.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claude_task_cli.convert.model import TaskDocument
from claude_task_cli.errors import McpConfigError
from claude_task_cli.mcp.config import McpConfig, StdioServer, find_mcp_config, load_mcp_config
from claude_task_cli.project import project_root
from claude_task_cli.run.caller import CallResult, ToolCaller, ToolSpec
from claude_task_cli.run.engine import execute
from claude_task_cli.run.options import RunOptions
from claude_task_cli.run.results import RunOutcome, fill_results
from claude_task_cli.run.stopping import stoppable
from claude_task_cli.store import Event, Store
from claude_task_cli.store.urls import DatabaseUrl, state_location

if TYPE_CHECKING:
    from claude_task_cli.mcp.client_side import Asker
    from claude_task_cli.mcp.sessions import ProgressSink, ServerStart

COMMAND_SERVER_MODULE = "claude_task_cli.mcp.command_server"
COMMAND_SERVER_SCRIPT = "claude-task-command-server"


def document_dir(doc: TaskDocument, doc_path: Path | None = None) -> Path:
    """Where the document lives (the current directory when its path is not a file)."""
    path = doc_path or Path(doc.source.path)
    return path.resolve().parent if path.is_file() else Path.cwd()


def open_store(
    doc: TaskDocument, state_path: Path | DatabaseUrl | None = None, doc_path: Path | None = None
) -> Store:
    """The state database for a document: `state_path`, else the documented default."""
    return Store(state_location(state_path, document_dir(doc, doc_path)))


def find_command_server(config: McpConfig) -> str | None:
    """The name of the declared built-in command server, if any."""
    for name, entry in config.servers.items():
        if isinstance(entry, StdioServer) and (
            COMMAND_SERVER_MODULE in entry.args or Path(entry.command).name == COMMAND_SERVER_SCRIPT
        ):
            return name
    return None


def servers_needed(doc: TaskDocument) -> dict[str, str]:
    """Each server the document calls, with the first step calling it."""
    needed: dict[str, str] = {}
    for _task, step in doc.all_steps():
        if step.tool is not None:
            needed.setdefault(step.tool.server, step.id)
    return needed


def load_config(doc: TaskDocument, start: Path, mcp_config_path: Path | None = None) -> McpConfig:
    """The `.mcp.json` that serves the document; every server it calls must be declared."""
    path = mcp_config_path or find_mcp_config(start)
    needed = servers_needed(doc)
    if path is None:
        if needed:
            names = ", ".join(sorted(needed))
            raise McpConfigError(f"no .mcp.json in {start} or above; the document calls {names}")
        return McpConfig()
    config = load_mcp_config(path)
    for server, step_id in sorted(needed.items(), key=lambda item: item[1]):
        if server not in config.names:
            declared = ", ".join(sorted(config.names)) or "none"
            raise McpConfigError(
                f"step {step_id} calls server {server!r}, which is not declared "
                f"(declared: {declared})",
                path=path,
            )
    return config


def run_document(
    doc: TaskDocument,
    options: RunOptions,
    *,
    doc_path: Path | None = None,
    command_server: str | None = None,
    on_event: Callable[[Event], None] | None = None,
    ask: Asker | None = None,
) -> RunOutcome:
    """Execute (or resume) a document against the project's servers; blocks until it stops.

    `options.per_server` (default: `options.concurrency`) bounds concurrent calls to one server;
    `options.call_timeout` (seconds, default `DEFAULT_CALL_TIMEOUT`) bounds a tool call whose step
    sets no `timeout`. Every server the document calls starts at once, before the first step; each
    is offered the project root as its root, and a question one asks a person goes to `ask` (None:
    declined, and the step pauses with it). Raises the engine's domain errors, `McpConfigError`
    before anything starts, `ServerStartError` when a server will not start (the step and the run
    are recorded first), and `RunStoppedError` when Ctrl-C or SIGTERM stopped the run
    (`stopping.py`).
    """
    start = document_dir(doc, doc_path)
    config = load_config(doc, start, options.mcp_config)
    commands = command_server or find_command_server(config)
    key = str(doc_path.resolve()) if doc_path is not None else None

    async def go(store: Store) -> RunOutcome:
        from claude_task_cli.mcp.client_side import ClientSide
        from claude_task_cli.mcp.sessions import DEFAULT_CALL_TIMEOUT, ServerPool

        async def run(caller: ToolCaller) -> RunOutcome:
            return await execute(
                doc,
                caller,
                store,
                options,
                doc_key=key,
                command_server=commands,
                command_cwd=str(project_root(start)),
                on_event=on_event,
            )

        if options.dry_run:
            return await run(_NoCalls())
        needed = set(servers_needed(doc))
        if commands and any(step.commands for _task, step in doc.all_steps()):
            needed.add(commands)
        allowed = needed | ({commands} if commands else set())
        limit = options.per_server or options.concurrency
        timeout = options.call_timeout or DEFAULT_CALL_TIMEOUT
        async with ServerPool(
            config,
            allowed=allowed,
            per_server_limit=limit,
            default_timeout=timeout,
            client=ClientSide(roots=(project_root(start),), ask=ask),
            on_start=_server_events(on_event),
        ) as pool:
            pool.start(needed)  # all at once, while the run opens its state
            return await stoppable(lambda: run(pool))

    with Store(state_location(options.state, start)) as store:
        return asyncio.run(go(store))


def read_results(
    outcome: RunOutcome, doc: TaskDocument, options: RunOptions, doc_path: Path | None = None
) -> RunOutcome:
    """The outcome of a run made `with_results=False`, with every settled step's result."""
    start = document_dir(doc, doc_path)
    with Store(state_location(options.state, start)) as store:
        return fill_results(outcome, store)


def _server_events(
    on_event: Callable[[Event], None] | None,
) -> Callable[[ServerStart], None] | None:
    """Each server's start as an event for `on_event`: `server_starting`, then `server_ready` or
    `server_failed` (with `seconds`, and the `error`). Not stored: a server starts before the run
    opens, so these events have no run (`run_id` 0)."""
    if on_event is None:
        return None
    sink = on_event

    def report(start: ServerStart) -> None:
        payload: dict[str, Any] = {"server": start.server}
        if start.state != "starting":
            payload["seconds"] = round(start.seconds, 3)
        if start.error is not None:
            payload["error"] = start.error
        sink(Event(kind=f"server_{start.state}", ts=time.time(), run_id=0, payload=payload))

    return report


class _NoCalls:
    """The caller of a dry run, which calls nothing."""

    async def list_tools(self, server: str) -> Mapping[str, ToolSpec]:
        raise AssertionError("a dry run lists no tools")

    async def call(
        self,
        server: str,
        tool: str,
        args: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        *,
        on_progress: ProgressSink | None = None,
    ) -> CallResult:
        raise AssertionError("a dry run calls nothing")
