"""The built-in MCP command server: runs shell commands for steps, over stdio or streamable HTTP.

Tools:
- `run_command(command, cwd=None, env=None, timeout=60, shell=None)` → `{exit_code, stdout, stderr,
  duration_ms, timed_out}`. A list is an argv run without a shell; a string runs through
  `/bin/sh -c` (pass `shell=false` to split it into an argv instead). A non-zero exit code is a
  normal result; a timeout kills the command's whole process group and returns `timed_out: true`
  with the kill signal as a negative exit code. Only a missing `cwd` is a tool error.

Run it as `python -m claude_task_cli.mcp.command_server` (stdio) or with `--transport http
--port 0`, which binds an ephemeral port on 127.0.0.1 and prints
`listening on http://127.0.0.1:PORT/mcp` on stderr. Over HTTP it follows `claude-task serve`'s
rule (`http_serving.py`): any host but loopback needs a bearer token (`--token`, else
`$CLAUDE_TASK_TOKEN`) or it refuses to start, and Host/Origin must name the server.
Nothing but protocol messages is ever written to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shlex
import signal
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

SERVER_NAME = "claude-task-command-server"
MAX_STREAM_BYTES = 1 << 20  # per stream; the tail is kept, the head dropped with a marker
_KILL_GRACE = 2.0  # seconds to collect output after killing a timed-out command


class CommandResult(TypedDict):
    exit_code: int
    stdout: str
    stderr: str
    duration_ms: float
    timed_out: bool


async def run_command(
    command: str | list[str],
    cwd: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    shell: bool | None = None,
) -> CommandResult:
    """Run a command and return its exit code and output; a non-zero exit code is not an error.

    A list is an argv (no shell); a string runs through `/bin/sh -c` unless `shell` is false, in
    which case it is split like a shell would. `env` is added to the server's environment. On
    timeout the command's process group is killed and `timed_out` is true.
    """
    from mcp.server.mcpserver.exceptions import ToolError

    if cwd is not None and not os.path.isdir(cwd):
        raise ToolError(f"cwd does not exist or is not a directory: {cwd}")
    if isinstance(command, str) and not command.strip():
        raise ToolError("command is empty")
    if isinstance(command, list) and not command:
        raise ToolError("command is empty")
    use_shell = isinstance(command, str) if shell is None else shell
    if use_shell:
        argv = ["/bin/sh", "-c", command if isinstance(command, str) else shlex.join(command)]
    else:
        argv = shlex.split(command) if isinstance(command, str) else list(command)
    started = time.perf_counter()
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,  # never let a command read the MCP stream
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=cwd,
            env={**os.environ, **env} if env else None,
            start_new_session=True,  # its own process group, so a timeout kills all of it
        )
    except OSError as exc:
        # The shell reports a missing program as 127; do the same for an argv.
        return _result(127, b"", f"{argv[0]}: {exc.strerror or exc}\n".encode(), started, False)
    out, err = bytearray(), bytearray()
    collect = asyncio.gather(_drain(proc.stdout, out), _drain(proc.stderr, err), proc.wait())
    timed_out = False
    try:
        await asyncio.wait_for(asyncio.shield(collect), timeout)
    except TimeoutError:
        timed_out = True
        _kill_group(proc.pid)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(collect), _KILL_GRACE)
    finally:
        if proc.returncode is None:  # cancelled by the client, or the kill did not land
            _kill_group(proc.pid)
        collect.cancel()  # no-op when done; else a pipe held open by an escaped grandchild
    code = proc.returncode if proc.returncode is not None else -signal.SIGKILL
    return _result(code, bytes(out), bytes(err), started, timed_out)


def build_server() -> MCPServer:
    """A fresh server with its tool registered (built on demand: importing is cheap)."""
    from mcp.server.mcpserver import MCPServer

    server: MCPServer = MCPServer(SERVER_NAME, log_level="WARNING")
    server.add_tool(run_command, structured_output=True)
    return server


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: serve over stdio (default) or streamable HTTP."""
    parser = argparse.ArgumentParser(prog=SERVER_NAME, description=__doc__.splitlines()[0])
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    parser.add_argument("--host", default="127.0.0.1", help="http only (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="http only; 0 picks a free port")
    parser.add_argument("--token", help="http only: required bearer token ($CLAUDE_TASK_TOKEN)")
    parser.add_argument("--allowed-host", action="append", default=[], help="http only")
    args = parser.parse_args(argv)
    if args.transport == "stdio":
        build_server().run()
        return
    from claude_task_cli.errors import OptionError
    from claude_task_cli.mcp.http_serving import bearer_token, serve_http

    try:
        token = bearer_token(args.host, args.token)
    except OptionError as exc:
        parser.error(str(exc))  # one line, exit code 2
    serving = serve_http(
        build_server(), args.host, args.port, token=token, allowed_hosts=args.allowed_host
    )
    asyncio.run(serving)


async def _drain(stream: asyncio.StreamReader | None, buf: bytearray) -> None:
    if stream is None:
        return
    dropped = 0
    while chunk := await stream.read(65536):
        buf += chunk
        if len(buf) > MAX_STREAM_BYTES:
            dropped += len(buf) - MAX_STREAM_BYTES
            del buf[: len(buf) - MAX_STREAM_BYTES]
    if dropped:
        buf[:0] = f"[... {dropped} bytes dropped ...]\n".encode()


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _result(code: int, out: bytes, err: bytes, started: float, timed_out: bool) -> CommandResult:
    return {
        "exit_code": code,
        "stdout": out.decode("utf-8", errors="replace"),
        "stderr": err.decode("utf-8", errors="replace"),
        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        "timed_out": timed_out,
    }


if __name__ == "__main__":
    main()
