"""`serve`: the MCP server (mcp_server.py) over stdio or streamable HTTP.

`mcp` is imported inside the command only: it costs ~1 s, and `claude-task --help` must not pay.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from claude_task_cli.cli.boundary import boundary, configure_logging, debug_enabled
from claude_task_cli.errors import InputError


def serve(
    transport: Annotated[
        str, typer.Option("--transport", help="stdio (default) or http (streamable HTTP).")
    ] = "stdio",
    host: Annotated[str, typer.Option("--host", help="http only.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="http only; 0 picks a free port.")
    ] = 0,
    root: Annotated[
        Path | None,
        typer.Option(
            "--root",
            help="Project root (default: the nearest .mcp.json, else .git, else the cwd).",
        ),
    ] = None,
) -> None:
    """Serve convert_task, execute_task, record_step, task_status and generate_report as MCP tools.

    Over stdio nothing but protocol messages is written to stdout; with --transport http the
    URL (http://HOST:PORT/mcp) is printed on stderr once the port is bound. Tool arguments may
    name paths only inside the project root.

    Examples:

      claude-task serve

      claude-task serve --transport http --port 8765
    """
    with boundary(eager_logging=False):
        if transport not in ("stdio", "http"):
            raise InputError("--transport", f"{transport!r}: choose stdio or http")
        if root is not None and not root.is_dir():
            raise InputError(root, "--root: not a directory")
        from claude_task_cli.server.tools import build_server

        server = build_server(root)
        configure_logging(debug_enabled())  # after MCPServer(), which sets up stdlib logging
        if transport == "stdio":
            server.run()
        else:
            import anyio

            from claude_task_cli.mcp.http_serving import serve_http

            anyio.run(serve_http, server, host, port)
