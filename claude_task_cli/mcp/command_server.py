"""The built-in MCP command server: runs shell commands for steps, over stdio or streamable HTTP.

Tools:
- `run_command(command=None, script=None, shell=None, cwd=None, env=None, timeout=60)` →
  `{exit_code, stdout, stderr, duration_ms, timed_out}`, one of `command` and `script` given.
  - `command`: a list is an argv run without a shell; a string runs through `/bin/sh -c` (`shell`
    false splits it into an argv instead, `"bash"` runs it through `bash -c`).
  - `script`: a whole script run as one, the way CI runners run a step's `shell: bash` /
    `shell: sh`: under `bash -e -o pipefail` (`shell="bash"`, the default) or `sh -e`
    (`shell="sh"`). The first failing line stops it; the result adds `failed_line` (1-based, in
    the script) and `failed_command` (that line's text), null when nothing failed. Under bash it
    is the failing command's line; under sh, which has no ERR trap, the last line the shell had
    read (`sh_script.py`): the failing command's, or the end of the loop or `if` it sits in.
  A non-zero exit code is a normal result; a timeout kills the command's whole process group and
  returns `timed_out: true` with the kill signal as a negative exit code. stdin is /dev/null. A
  missing `cwd`, an empty command or script, both or neither given are tool errors.

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
import re
import shlex
import signal
import tempfile
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, NotRequired, TypedDict

from claude_task_cli.mcp.sh_script import LineFeed

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

SERVER_NAME = "claude-task-command-server"
MAX_STREAM_BYTES = 1 << 20  # per stream; the tail is kept, the head dropped with a marker
MAX_SCRIPT_BYTES = 120 * 1024  # one argv string may not exceed 128 KiB on Linux
_KILL_GRACE = 2.0  # seconds to collect output after killing a timed-out command
ScriptShell = Literal["bash", "sh"]

# Where a shell names the line of its own syntax error: `bash: -c: line 3: syntax error …`,
# dash's `/bin/sh: 3: Syntax error: …`.
_SYNTAX_ERROR_LINE = re.compile(r"^(?:bash: -c: line |\S*sh: )(\d+): .*syntax error", re.M | re.I)


class CommandResult(TypedDict):
    exit_code: int
    stdout: str
    stderr: str
    duration_ms: float
    timed_out: bool
    failed_line: NotRequired[int | None]  # a script's only: the line that stopped it
    failed_command: NotRequired[str | None]  # ... and its text


async def run_command(
    command: str | list[str] | None = None,
    script: str | None = None,
    shell: bool | ScriptShell | None = None,
    cwd: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> CommandResult:
    """Run a command, or a script as one, and return its exit code and output; a non-zero exit code
    is not an error. Give one of `command` and `script`.

    `command`: a list is an argv (no shell); a string runs through `/bin/sh -c` (`shell` false
    splits it like a shell would instead; `shell="bash"` runs it through `bash -c`).
    `script`: run as one script under `bash -e -o pipefail` (`shell="bash"`, the default) or
    `sh -e` (`shell="sh"`), as CI runners do; the first failing line stops it and is named in
    `failed_line` / `failed_command` (bash; `sh` names only a syntax error's line).
    `env` is added to the server's environment; stdin is /dev/null. On timeout the process group
    is killed and `timed_out` is true.
    """
    from mcp.server.mcpserver.exceptions import ToolError

    if cwd is not None and not os.path.isdir(cwd):
        raise ToolError(f"cwd does not exist or is not a directory: {cwd}")
    if (command is None) == (script is None):
        raise ToolError("give one of command (an argv or a shell string) and script")
    if script is not None:
        return await _run_script(script, shell, cwd, env, timeout)
    assert command is not None
    if not (command.strip() if isinstance(command, str) else command):
        raise ToolError("command is empty")
    use_shell = isinstance(command, str) if shell is None else shell
    if use_shell:
        text = command if isinstance(command, str) else shlex.join(command)
        argv = ["bash" if use_shell == "bash" else "/bin/sh", "-c", text]
    else:
        argv = shlex.split(command) if isinstance(command, str) else list(command)
    return await _execute(argv, cwd, env, timeout)


async def _run_script(
    script: str, shell: object, cwd: str | None, env: dict[str, str] | None, timeout: float
) -> CommandResult:
    """`script` as one process under `bash -e -o pipefail` or `sh -e`, its failing line named.

    For bash an ERR trap (inherited by functions and subshells through `set -E`) writes the line
    number to a file of its own, so the script's stdout and stderr stay as it wrote them. The trap
    writes only while `-e` is in force, i.e. when the failure ends the script, and the first line
    written is the innermost. The trap is prepended on the script's first line, so the shell's own
    messages (`bash: line 3: …`) count lines as the script does.
    """
    from mcp.server.mcpserver.exceptions import ToolError

    if shell not in (None, "bash", "sh"):
        raise ToolError('a script runs under shell "bash" (the default) or "sh"')
    if not script.strip():
        raise ToolError("script is empty")
    size = len(script.encode("utf-8", errors="surrogateescape"))
    if size > MAX_SCRIPT_BYTES:
        raise ToolError(
            f"script is {size} bytes, over the {MAX_SCRIPT_BYTES} a shell argument may hold: "
            "write it to a file and run that file"
        )
    if shell == "sh":
        feed = LineFeed(script)
        try:
            result = await _execute(feed.argv, cwd, env, timeout, feed=feed)
            return _name_failed_line(result, script, feed.read_up_to())
        finally:
            feed.close()
    handle, trace = tempfile.mkstemp(prefix="claude-task-err.")
    os.close(handle)
    try:
        record = f"[[ $- == *e* ]] && builtin printf '%s\\n' \"$LINENO\" >> {shlex.quote(trace)}"
        prefixed = f"set -E; trap {shlex.quote(record)} ERR; {script}"
        result = await _execute(["bash", "-e", "-o", "pipefail", "-c", prefixed], cwd, env, timeout)
        with open(trace, "rb") as recorded:
            first = recorded.readline(32).strip()
    finally:
        with contextlib.suppress(OSError):
            os.unlink(trace)
    return _name_failed_line(result, script, int(first) if first.isdigit() else None)


def _name_failed_line(result: CommandResult, script: str, line: int | None) -> CommandResult:
    """Add `failed_line` / `failed_command` to a script's result: the trapped line, else the line
    of a syntax error the shell reported, else null."""
    failed = result["exit_code"] != 0 and not result["timed_out"]
    if failed and line is None:
        syntax = _SYNTAX_ERROR_LINE.search(result["stderr"])
        line = int(syntax.group(1)) if syntax else None
    lines = script.split("\n")
    known = failed and line is not None and 1 <= line <= len(lines)
    result["failed_line"] = line if known else None
    result["failed_command"] = lines[line - 1].strip() if known and line is not None else None
    return result


async def _execute(
    argv: list[str],
    cwd: str | None,
    env: dict[str, str] | None,
    timeout: float,
    *,
    feed: LineFeed | None = None,
) -> CommandResult:
    """Run `argv` in its own process group with stdin on /dev/null, collecting both streams (and
    handing it its script through `feed`, if given)."""
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
            pass_fds=(feed.read_fd,) if feed else (),
        )
    except OSError as exc:
        # The shell reports a missing program as 127; do the same for an argv.
        return _result(127, b"", f"{argv[0]}: {exc.strerror or exc}\n".encode(), started, False)
    feeding = asyncio.ensure_future(feed.feed()) if feed else None
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
        if feeding is not None:
            feeding.cancel()  # the shell stopped before reading all of its script
            with contextlib.suppress(asyncio.CancelledError):
                await feeding
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
