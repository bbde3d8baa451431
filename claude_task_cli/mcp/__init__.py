"""MCP plumbing for a run: the project's `.mcp.json`, the pool of sessions to its servers, and
the built-in command server.

    config = load_mcp_config(find_mcp_config(Path.cwd()))
    async with ServerPool(config) as pool:
        pool.start(config.names)
        outcome = await pool.call("time", "get_current_time", {"timezone": "UTC"})

The MCP SDK is imported only when a server is first opened. The names below load on first use:
the built-in command server is a module of this package, and every start of it imports the
package; it needs none of the client side.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from claude_task_cli.mcp.client_side import Answer, Asker, ClientSide, Question
    from claude_task_cli.mcp.config import (
        HttpServer,
        McpConfig,
        StdioServer,
        find_mcp_config,
        load_mcp_config,
    )
    from claude_task_cli.mcp.connection import ToolInfo
    from claude_task_cli.mcp.sessions import DEFAULT_CALL_TIMEOUT, CallOutcome, ServerPool

_WHERE = {
    "HttpServer": "config",
    "McpConfig": "config",
    "StdioServer": "config",
    "find_mcp_config": "config",
    "load_mcp_config": "config",
    "Answer": "client_side",
    "Asker": "client_side",
    "ClientSide": "client_side",
    "Question": "client_side",
    "ToolInfo": "connection",
    "DEFAULT_CALL_TIMEOUT": "sessions",
    "CallOutcome": "sessions",
    "ServerPool": "sessions",
}
__all__ = [
    "DEFAULT_CALL_TIMEOUT",
    "Answer",
    "Asker",
    "CallOutcome",
    "ClientSide",
    "HttpServer",
    "McpConfig",
    "Question",
    "ServerPool",
    "StdioServer",
    "ToolInfo",
    "find_mcp_config",
    "load_mcp_config",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
