"""An MCP server with the tools tests and benchmarks need and production does not.

Run it by path, `python tests/servers/tools_server.py` (it imports nothing from the tests, so the
current directory does not matter), or as `python -m tests.servers.tools_server` from the
repository root. Over stdio only.

- `echo(value)` → `{"value": value}`: a bare round trip;
- `sleep(seconds)` → `{"slept_ms": …}`: a call that takes a while without blocking the server;
- `respond(blocks, structured, error)`: a result shaped at will — `blocks` are content blocks in
  order, each `{"text": "…"}`, `{"image": N}`, `{"audio": N}` or `{"blob": N, "uri": "…"}`
  (N bytes of `pattern(N)`), beside `structured` content, as an error result when `error`;
- `exit(code)`: the process exits at once, without answering.

`--garbage LINE` writes LINE on stdout before serving. `--wait-for DIR N` is a start barrier:
the server adds a file to DIR and serves only once DIR holds N of them, so N servers opened one
after the other never start (each gives up after 60 s). On start the server writes its command
line on stderr (what a server's stderr tail may show).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import sys
import time
from pathlib import Path
from typing import Any


def pattern(size: int) -> bytes:
    """The `size` bytes a `respond` block of that size carries."""
    return (bytes(range(256)) * (size // 256 + 1))[:size]


async def echo(value: Any) -> dict[str, Any]:
    """Return `value` unchanged."""
    return {"value": value}


async def sleep(seconds: float) -> dict[str, float]:
    """Sleep without blocking the server, then say how long it took."""
    started = time.perf_counter()
    await asyncio.sleep(max(0.0, seconds))
    return {"slept_ms": (time.perf_counter() - started) * 1000}


async def respond(
    blocks: list[dict[str, Any]] | None = None,
    structured: dict[str, Any] | None = None,
    error: bool = False,
) -> Any:
    """A result with these content blocks, this structured content, flagged an error or not."""
    from mcp_types import (
        AudioContent,
        BlobResourceContents,
        CallToolResult,
        EmbeddedResource,
        ImageContent,
        TextContent,
    )

    content: list[Any] = []
    for block in blocks or []:
        if "text" in block:
            content.append(TextContent(type="text", text=block["text"]))
        elif "image" in block:
            data = base64.b64encode(pattern(block["image"])).decode()
            content.append(ImageContent(type="image", data=data, mime_type="image/png"))
        elif "audio" in block:
            data = base64.b64encode(pattern(block["audio"])).decode()
            content.append(AudioContent(type="audio", data=data, mime_type="audio/wav"))
        else:
            blob = base64.b64encode(pattern(block["blob"])).decode()
            resource = BlobResourceContents(
                uri=block.get("uri", "file:///blob.bin"),
                mime_type="application/octet-stream",
                blob=blob,
            )
            content.append(EmbeddedResource(type="resource", resource=resource))
    return CallToolResult(content=content, structured_content=structured, is_error=error)


async def exit_now(code: int = 3) -> dict[str, str]:
    """Exit the process at once; the call never gets an answer (the tool `exit`)."""
    os._exit(code)


def barrier(directory: Path, count: int) -> None:
    """Wait until `count` servers (this one included) have started on `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / str(os.getpid())).touch()
    deadline = time.monotonic() + 60
    while len(list(directory.iterdir())) < count:
        if time.monotonic() > deadline:
            sys.exit(f"tools server: the other {count - 1} servers never started")
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--garbage", help="a line to write on stdout before serving")
    parser.add_argument("--wait-for", nargs=2, metavar=("DIR", "N"), help="a start barrier")
    args, _rest = parser.parse_known_args()  # the rest: whatever a test passes along
    print(f"tools server: started as {' '.join(sys.argv)}", file=sys.stderr, flush=True)
    if args.garbage is not None:
        os.write(1, args.garbage.encode() + b"\n")
    if args.wait_for is not None:
        barrier(Path(args.wait_for[0]), int(args.wait_for[1]))

    from mcp.server.mcpserver import MCPServer

    server = MCPServer("claude-task-test-tools", log_level="WARNING")
    for tool in (echo, sleep):
        server.add_tool(tool, structured_output=True)
    server.add_tool(exit_now, name="exit", structured_output=True)
    server.add_tool(respond)
    server.run()


if __name__ == "__main__":
    main()
