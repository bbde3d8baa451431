"""Serving an MCPServer over streamable HTTP on a port that is announced before it serves.

Shared by the built-in command server and `claude-task serve --transport http`: the socket is
bound first, so port 0 resolves to a real port that can be printed (on stderr) before a client
connects; connections made right after the announcement wait in the backlog.
"""

from __future__ import annotations

import socket
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer


async def serve_http(server: MCPServer, host: str, port: int) -> None:
    """Serve `server` at http://HOST:PORT/mcp until cancelled; print that URL on stderr first."""
    import uvicorn

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    app = server.streamable_http_app(host=host)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    print(f"listening on http://{shown}:{bound}/mcp", file=sys.stderr, flush=True)
    await uvicorn.Server(config).serve(sockets=[sock])
