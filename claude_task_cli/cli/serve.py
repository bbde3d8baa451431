"""`serve`: the MCP server (`claude_task_cli.server`) over stdio or streamable HTTP.

`mcp` is imported inside the command only: importing the SDK is most of a server's start, and
`claude-task --help` must not pay for it (its start-up target: docs/benchmarks.md).
"""

import functools
from pathlib import Path
from typing import Annotated

import typer

from claude_task_cli.cli.boundary import boundary, configure_logging, debug_enabled
from claude_task_cli.cli.options import DbOpt
from claude_task_cli.errors import InputError


def serve(
    transport: Annotated[
        str, typer.Option("--transport", help="stdio (default) or http (streamable HTTP).")
    ] = "stdio",
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="http only. Anything but loopback needs a bearer token (--token).",
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="http only; 0 picks a free port.")
    ] = 0,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            help=(
                "http only: require 'Authorization: Bearer TOKEN' on every request "
                "(default: $CLAUDE_TASK_TOKEN; prefer it, a command line is visible to others)."
            ),
        ),
    ] = None,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-host",
            help="http only: another Host name clients use to reach the server (repeatable).",
        ),
    ] = None,
    root: Annotated[
        Path | None,
        typer.Option(
            "--root",
            help="Project root (default: the nearest .mcp.json, else .git, else the cwd).",
        ),
    ] = None,
    db: DbOpt = None,
) -> None:
    """Serve the CLI's operations as MCP tools (and cancel_run), runs and reports as resources.

    Over stdio nothing but protocol messages is written to stdout; with --transport http the
    URL (http://HOST:PORT/mcp) is printed on stderr once the port is bound. It listens on
    loopback unless --host says otherwise; any other host refuses to start without a bearer
    token, and requests whose Host or Origin header does not name the server are refused. Tool
    arguments may name paths only inside the project root.

    Examples:

      claude-task serve

      claude-task serve --transport http --port 8765

      CLAUDE_TASK_TOKEN=$(openssl rand -hex 32) claude-task serve --transport http --host 0.0.0.0
    """
    with boundary(eager_logging=False):
        if transport not in ("stdio", "http"):
            raise InputError("--transport", f"{transport!r}: choose stdio or http")
        if root is not None and not root.is_dir():
            raise InputError(root, "--root: not a directory")
        from claude_task_cli.mcp.http_serving import bearer_token
        from claude_task_cli.server.tools import build_server

        bearer = bearer_token(host, token) if transport == "http" else None

        server = build_server(root, db)
        configure_logging(debug_enabled())  # after MCPServer(), which sets up stdlib logging
        if transport == "stdio":
            server.run()
        else:
            import anyio

            from claude_task_cli.mcp.http_serving import serve_http

            serving = functools.partial(
                serve_http, server, host, port, token=bearer, allowed_hosts=allowed_host or ()
            )
            anyio.run(serving)
