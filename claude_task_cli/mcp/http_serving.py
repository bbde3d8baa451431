"""Serving an MCPServer over streamable HTTP: announced before it serves, closed to strangers.

Shared by the built-in command server and `claude-task serve --transport http`:

- The socket is bound first, so port 0 resolves to a real port that can be printed (on stderr)
  before a client connects; connections made right after the announcement wait in the backlog.
- Loopback (127.0.0.1, ::1, localhost) is the default. Any other host is reachable by others, so
  it needs a bearer token (`--token`, else `$CLAUDE_TASK_TOKEN`): without one the server refuses
  to start. With a token, every request must carry `Authorization: Bearer TOKEN` (401 otherwise).
- The Host and Origin headers are checked against the bound address (the SDK's DNS rebinding
  protection, `TransportSecuritySettings`): a page on another site that resolves its name to this
  machine gets 421 (Host) or 403 (Origin). A wildcard bind (0.0.0.0, ::) accepts this machine's
  own names and addresses; `allowed_hosts` adds the names clients use (a DNS name, a proxy's).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import socket
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from claude_task_cli.errors import OptionError

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer
    from mcp.server.transport_security import TransportSecuritySettings
    from starlette.types import ASGIApp, Receive, Scope, Send

TOKEN_ENV = "CLAUDE_TASK_TOKEN"
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bearer_token(host: str, token: str | None) -> str | None:
    """The token to require: `token`, else `$CLAUDE_TASK_TOKEN`, else none. OptionError when
    `host` is not loopback and there is none: nobody else may reach an open server."""
    token = token or os.environ.get(TOKEN_ENV) or None
    if token is None and not is_loopback(host):
        raise OptionError(
            f"--host {host}: serving beyond this machine needs a bearer token: "
            f"give --token or set {TOKEN_ENV}"
        )
    return token


def security_for(
    host: str, port: int, allowed_hosts: Iterable[str] = ()
) -> TransportSecuritySettings:
    """Host and Origin values a request may carry to reach the server bound at HOST:PORT."""
    from mcp.server.transport_security import TransportSecuritySettings

    names = list(_LOOPBACK_NAMES) if is_loopback(host) else [host]
    if host in ("0.0.0.0", "::"):  # a wildcard bind: this machine's own names and addresses
        names = [*_LOOPBACK_NAMES, *_own_names()]
    names.extend(allowed_hosts)
    hosts = [_with_port(name, port) for name in dict.fromkeys(names)]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts,
        allowed_origins=[f"{scheme}://{value}" for value in hosts for scheme in ("http", "https")],
    )


async def serve_http(
    server: MCPServer,
    host: str,
    port: int,
    *,
    token: str | None = None,
    allowed_hosts: Sequence[str] = (),
) -> None:
    """Serve `server` at http://HOST:PORT/mcp until cancelled; print that URL on stderr first.

    `token` must already be decided (`bearer_token`); it is required when given."""
    import uvicorn

    if token is None and not is_loopback(host):
        raise OptionError(f"--host {host}: serving beyond this machine needs a bearer token")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    app: Any = server.streamable_http_app(
        host=host, transport_security=security_for(host, bound, allowed_hosts)
    )
    if token is not None:
        app = BearerGate(app, token)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    print(f"listening on http://{shown}:{bound}/mcp", file=sys.stderr, flush=True)
    await uvicorn.Server(config).serve(sockets=[sock])


class BearerGate:
    """ASGI: HTTP requests without `Authorization: Bearer TOKEN` get 401; the rest pass."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                await _unauthorized(send)
                return
        await self.app(scope, receive, send)


async def _unauthorized(send: Send) -> None:
    body = b"a bearer token is required (Authorization: Bearer TOKEN)\n"
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"www-authenticate", b'Bearer realm="claude-task"'),
    ]
    await send({"type": "http.response.start", "status": 401, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _own_names() -> list[str]:
    """This machine's host names and the addresses they resolve to."""
    names = [socket.gethostname(), socket.getfqdn()]
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None)
    except OSError:
        infos = []
    names.extend(str(info[4][0]) for info in infos)
    return names


def _with_port(name: str, port: int) -> str:
    bracketed = f"[{name}]" if ":" in name and not name.startswith("[") else name
    return f"{bracketed}:{port}"
