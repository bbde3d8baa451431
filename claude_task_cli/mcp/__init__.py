"""MCP plumbing for a run: the project's `.mcp.json`, the pool of sessions to its servers, and
the built-in command server. Importing this package does not import the MCP SDK (the SDK is
imported when a server is first opened), so a command that calls no server never pays for it.

    config = load_mcp_config(find_mcp_config(Path.cwd()))
    async with ServerPool(config) as pool:
        pool.start(config.names)
        outcome = await pool.call("time", "get_current_time", {"timezone": "UTC"})
"""

from claude_task_cli.mcp.config import (
    HttpServer,
    McpConfig,
    StdioServer,
    find_mcp_config,
    load_mcp_config,
)
from claude_task_cli.mcp.connection import ToolInfo
from claude_task_cli.mcp.sessions import DEFAULT_CALL_TIMEOUT, CallOutcome, ServerPool

__all__ = [
    "DEFAULT_CALL_TIMEOUT",
    "CallOutcome",
    "HttpServer",
    "McpConfig",
    "ServerPool",
    "StdioServer",
    "ToolInfo",
    "find_mcp_config",
    "load_mcp_config",
]
