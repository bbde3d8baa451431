"""Read a project's `.mcp.json` (the Claude Code format) into typed server entries, and open the
SDK transport an entry describes (`mcp` is imported only then).

```json
{"mcpServers": {
  "cmd":  {"command": "/abs/venv/bin/python", "args": ["-m", "claude_task_cli.mcp.command_server"]},
  "time": {"type": "stdio", "command": "uvx", "args": ["mcp-server-time"], "env": {"TZ": "UTC"}},
  "api":  {"type": "http", "url": "https://${HOST:-localhost}/mcp",
           "headers": {"Authorization": "Bearer ${API_TOKEN}"}}
}}
```

- stdio entries: `command`, `args`, `env`, `cwd` (`"type": "stdio"` optional); a relative `cwd` is
  relative to the directory holding `.mcp.json`.
- streamable HTTP entries: `"type": "http"` (alias `"streamable-http"`), `url`, `headers`. An entry
  with a `url` and no `type` is taken as http. `"type": "sse"` loads, but the pool refuses it.
- `${VAR}` and `${VAR:-default}` expand in command, args, env values, cwd, url and header values;
  the default applies when VAR is unset or empty (as in the shell). `${VAR}` with VAR unset is an
  error naming the server and the variable. A plain `$VAR` is left alone.
- What `${VAR}` expands to is used to start and reach the server, and nowhere else: each entry
  keeps what it expanded from the environment (`expansions`), and `McpConfig.redact` puts the
  form as written back into any text about the server (a start failure, its stderr, a transport
  error) before it reaches the store, a report, the log or the screen. Values shorter than
  `MIN_REDACTED` characters are left alone (replacing every `1` would garble a message and hide
  nothing), and so are `:-default` values, which the file itself shows.
- `roots` (claude-task's own key, either transport): the directories the server is offered as
  its MCP roots, relative to the directory holding `.mcp.json` (`${VAR}` expands); without it,
  the project root (`client_side.py`); `[]` offers none. A server that takes its roots in place
  of its own directories — `server-filesystem` given directories on its command line — keeps
  those with `"roots": []`.
- Unknown keys in an entry (Claude Code and other clients add their own) are ignored; known keys
  are typed and checked.

The built-in command server can be declared as `{"command": "claude-task-command-server"}` (a
console script, found on the PATH the server is spawned with), but the robust form, independent of
PATH and of which environment is active, is
`{"command": "/abs/path/to/venv/bin/python", "args": ["-m", "claude_task_cli.mcp.command_server"]}`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TextIO

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from claude_task_cli.errors import McpConfigError

if TYPE_CHECKING:
    from mcp.client._transport import TransportStreams

CONFIG_NAME = ".mcp.json"
MIN_REDACTED = 4  # characters: shorter expanded values are not replaced in messages

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_TYPE_ALIASES = {"stdio": "stdio", "http": "http", "streamable-http": "http", "sse": "sse"}


class _Entry(BaseModel):
    # Lenient on keys we do not know (real configs carry client-specific extras).
    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str
    roots: list[Path] | None = Field(
        default=None, description="absolute after loading; None: the project root"
    )
    expansions: dict[str, str] = Field(
        default_factory=dict,
        repr=False,
        description="what `${VAR}` expanded to from the environment → the form as written",
    )

    def redact(self, text: str) -> str:
        """`text` with every value this entry expanded from the environment written back as
        `${VAR}` (the form in the file)."""
        return _redact(text, self.expansions)


class StdioServer(_Entry):
    """A server spawned as a subprocess, spoken to over stdin/stdout."""

    type: Literal["stdio"] = "stdio"
    command: str = Field(min_length=1)
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: Path | None = Field(default=None, description="absolute after loading")


class HttpServer(_Entry):
    """A server reached over streamable HTTP at `url`."""

    type: Literal["http"] = "http"
    url: str = Field(pattern=r"^https?://")
    headers: dict[str, str] = Field(default_factory=dict)


class SseServer(_Entry):
    """A legacy SSE server: loaded so the rest of the file works, refused when used."""

    type: Literal["sse"] = "sse"
    url: str
    headers: dict[str, str] = Field(default_factory=dict)


ServerConfig = Annotated[StdioServer | HttpServer | SseServer, Field(discriminator="type")]
_SERVER_ADAPTER: TypeAdapter[StdioServer | HttpServer | SseServer] = TypeAdapter(ServerConfig)


class McpConfig(BaseModel):
    """Every server a project declares, by name; `path` is the file they came from."""

    model_config = ConfigDict(frozen=True)

    path: Path | None = None
    servers: dict[str, ServerConfig] = Field(default_factory=dict)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.servers)

    def redact(self, text: str) -> str:
        """`text` with what any entry expanded from the environment written back as `${VAR}`."""
        expansions: dict[str, str] = {}
        for entry in self.servers.values():
            for value, written in entry.expansions.items():
                expansions.setdefault(value, written)
        return _redact(text, expansions)

    def get(self, name: str) -> StdioServer | HttpServer | SseServer:
        """The entry for `name`; `McpConfigError` naming the declared ones when there is none."""
        try:
            return self.servers[name]
        except KeyError:
            declared = ", ".join(sorted(self.servers)) or "none"
            raise McpConfigError(
                f"not declared in .mcp.json (declared: {declared})", path=self.path, server=name
            ) from None


def find_mcp_config(start: Path) -> Path | None:
    """The nearest `.mcp.json` in `start` (a directory or a file's directory) or its parents."""
    here = start.resolve()
    if not here.is_dir():
        here = here.parent
    for directory in (here, *here.parents):
        candidate = directory / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def load_mcp_config(path: Path, environ: Mapping[str, str] | None = None) -> McpConfig:
    """Parse, expand `${VAR}` against `environ` (default: `os.environ`) and validate `path`."""
    env = os.environ if environ is None else environ
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise McpConfigError(f"cannot read: {exc}", path=path) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise McpConfigError(
            f"invalid JSON: {exc.msg} (column {exc.colno})", path=path, line=exc.lineno
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("mcpServers"), dict):
        raise McpConfigError('expected an object with an "mcpServers" object', path=path)
    servers = {
        name: _load_entry(path, str(name), raw, env) for name, raw in data["mcpServers"].items()
    }
    return McpConfig(path=path.resolve(), servers=servers)


def _load_entry(
    path: Path, name: str, raw: Any, env: Mapping[str, str]
) -> StdioServer | HttpServer | SseServer:
    if not isinstance(raw, dict):
        raise McpConfigError("entry must be an object", path=path, server=name)
    entry = dict(raw)
    kind = entry.get("type", "http" if "url" in entry and "command" not in entry else "stdio")
    if kind not in _TYPE_ALIASES:
        raise McpConfigError(
            f"unknown type {kind!r} (expected stdio, http or streamable-http)",
            path=path,
            server=name,
        )
    entry["type"] = _TYPE_ALIASES[kind]
    entry["name"] = name
    expansions: dict[str, str] = {}

    def expand(value: Any, where: str) -> Any:
        if isinstance(value, str):
            return _expand(value, env, path, name, where, expansions)
        if isinstance(value, list):
            return [expand(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, dict):
            return {k: expand(v, f"{where}.{k}") for k, v in value.items()}
        return value

    for key in ("command", "args", "env", "cwd", "url", "headers", "roots"):
        if key in entry:
            entry[key] = expand(entry[key], key)
    if isinstance(entry.get("cwd"), str):
        entry["cwd"] = (path.resolve().parent / entry["cwd"]).resolve()
    if isinstance(entry.get("roots"), list):
        entry["roots"] = [
            (path.resolve().parent / root).resolve() if isinstance(root, str) else root
            for root in entry["roots"]
        ]
    entry["expansions"] = expansions
    try:
        return _SERVER_ADAPTER.validate_python(entry)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'][1:]) or 'entry'}: {err['msg']}"
            for err in exc.errors()
        )
        raise McpConfigError(problems, path=path, server=name) from None


def _expand(
    value: str,
    env: Mapping[str, str],
    path: Path,
    name: str,
    where: str,
    expansions: dict[str, str],
) -> str:
    def substitute(match: re.Match[str]) -> str:
        var, default = match.group(1), match.group(2)
        current = env.get(var)
        if current and len(current) >= MIN_REDACTED:
            expansions.setdefault(current, match.group(0))
        if default is not None:
            return current if current else default
        if current is None:
            raise McpConfigError(
                f"environment variable {var} is not set (in {where}; "
                f"write ${{{var}:-default}} to give a default)",
                path=path,
                server=name,
            )
        return current

    return _VAR.sub(substitute, value)


def _redact(text: str, expansions: Mapping[str, str]) -> str:
    if not expansions or not text:
        return text
    # one pass, longest value first: a value inside a longer one, or inside a `${VAR}` just
    # written back, is never replaced again
    values = sorted(expansions, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(value) for value in values))
    return pattern.sub(lambda match: expansions[match.group(0)], text)


def open_transport(
    entry: StdioServer | HttpServer,
    *,
    base_env: Mapping[str, str] | None = None,
    errlog: TextIO | None = None,
) -> contextlib.AbstractAsyncContextManager[TransportStreams]:
    """The SDK transport to `entry`: the spawned process (environment `base_env` under the entry's
    `env`, stderr to `errlog`) or the streamable HTTP endpoint (with the entry's headers)."""
    if isinstance(entry, StdioServer):
        from mcp import StdioServerParameters
        from mcp.client.stdio import stdio_client

        env = {**(base_env or {}), **entry.env}
        params = StdioServerParameters(
            command=entry.command, args=entry.args, env=env, cwd=entry.cwd
        )
        return stdio_client(params, errlog=errlog or sys.stderr)
    return _http_transport(entry)


@contextlib.asynccontextmanager
async def _http_transport(entry: HttpServer) -> AsyncIterator[TransportStreams]:
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    async with (
        create_mcp_http_client(headers=entry.headers or None) as client,
        streamable_http_client(entry.url, http_client=client) as streams,
    ):
        yield streams
