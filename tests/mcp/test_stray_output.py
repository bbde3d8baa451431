"""A server that writes on stdout what is not an MCP message is named in one line, with what it
wrote (trimmed), and no SDK traceback reaches the screen. The SDK skips such a line (as other
clients do), so a server that prints a banner and then speaks MCP still works, with one warning;
a server that then fails to start says so in its start error."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from loguru import logger

from claude_task_cli.errors import ServerStartError
from claude_task_cli.mcp.config import McpConfig, StdioServer
from claude_task_cli.mcp.sessions import ServerPool
from tests.support import REPO, TOOLS_SERVER, cli, stdio, write_mcp_json

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

RAW_SERVER = [sys.executable, str(REPO / "tests" / "servers" / "raw_server.py")]
NOT_MCP = "wrote on stdout what is not an MCP message"


def one(entry: StdioServer) -> McpConfig:
    return McpConfig(servers={entry.name: entry})


def python(code: str) -> StdioServer:
    return StdioServer(name="noisy", command=sys.executable, args=["-c", code])


@pytest.fixture
def warnings() -> Iterator[list[str]]:
    said: list[str] = []
    sink = logger.add(lambda message: said.append(message.record["message"]), level="WARNING")
    yield said
    logger.remove(sink)


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("Server v1.2 ready", "'Server v1.2 ready'"),
        ('{"hello": "world"}', '\'{"hello": "world"}\''),  # JSON, but not JSON-RPC
        ("x" * 500, "'" + "x" * 119 + "…'"),
    ],
)
async def test_a_server_that_fails_to_start_names_what_it_wrote(line: str, shown: str) -> None:
    entry = python(f"print({line!r}, flush=True); import sys; sys.exit(1)")
    with anyio.fail_after(30):
        async with ServerPool(one(entry)) as pool:
            with pytest.raises(ServerStartError) as info:
                await pool.list_tools("noisy")
    assert str(info.value).splitlines()[0] == (
        "MCP server 'noisy' failed to start: the server closed the connection before answering"
        f" initialize; it {NOT_MCP}: {shown}"
    )


async def test_a_server_that_never_answers_names_what_it_wrote_at_the_timeout() -> None:
    entry = python("print('Listening...', flush=True); import time; time.sleep(60)")
    with anyio.fail_after(30):
        async with ServerPool(one(entry), start_timeout=5) as pool:
            with pytest.raises(ServerStartError) as info:
                await pool.list_tools("noisy")
    assert info.value.message == (
        f"no answer to initialize within 5 s; it {NOT_MCP}: 'Listening...'"
    )


async def test_a_banner_before_mcp_is_one_warning_and_the_server_works(
    warnings: list[str],
) -> None:
    args = [*TOOLS_SERVER[1:], "--garbage", "Server v1.2 ready"]
    entry = StdioServer(name="noisy", command=TOOLS_SERVER[0], args=args)
    with anyio.fail_after(30):
        async with ServerPool(one(entry)) as pool:
            first = await pool.call("noisy", "echo", {"value": 1})
            second = await pool.call("noisy", "echo", {"value": 2})
    assert (first.structured, second.structured) == ({"value": 1}, {"value": 2})
    assert warnings == [f"MCP server 'noisy' {NOT_MCP}: 'Server v1.2 ready'"]


def run_cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cli(project, *args, env={"CLAUDE_TASK_LOG_DIR": str(project / "logs")})


DOC = """# Task 60: A noisy server

## Task 1: Call it

- [ ] 1.1 Call
  ```mcp
  server: noisy
  tool: {tool}
  args: {{text: hello}}
  ```
"""


def test_the_cli_names_a_failed_start_in_one_line_without_a_traceback(tmp_path: Path) -> None:
    code = "print('Listening on stdio...', flush=True); import sys; sys.exit(3)"
    write_mcp_json(tmp_path, {"noisy": {"command": sys.executable, "args": ["-c", code]}})
    (tmp_path / "task.md").write_text(DOC.format(tool="echo"), encoding="utf-8")
    ran = run_cli(tmp_path, "execute_task", "task.md", "-q")
    assert ran.returncode == 4
    assert ran.stderr.splitlines() == [
        "MCP server 'noisy' failed to start: the server closed the connection before answering"
        f" initialize; it {NOT_MCP}: 'Listening on stdio...'"
    ]
    logged = (tmp_path / "logs" / "claude-task.log").read_text(encoding="utf-8")
    assert "Failed to parse JSONRPC message from server" in logged  # the SDK's record: logged


@pytest.mark.parametrize(
    ("server", "tool", "said"),
    [
        ([*TOOLS_SERVER, "--garbage", "Server v1.2 ready"], "echo", "'Server v1.2 ready'"),
        (RAW_SERVER, "noisy", "'noise: hello'"),  # mid-session, in the middle of a call
    ],
)
def test_the_cli_warns_once_and_the_run_goes_on(
    tmp_path: Path, server: list[str], tool: str, said: str
) -> None:
    write_mcp_json(tmp_path, {"noisy": stdio(server)})
    args = "{value: hello}" if tool == "echo" else "{text: hello}"
    (tmp_path / "task.md").write_text(
        DOC.format(tool=tool).replace("{text: hello}", args), encoding="utf-8"
    )
    ran = run_cli(tmp_path, "execute_task", "task.md", "-q", "--json")
    assert ran.returncode == 0, ran.stderr
    assert ran.stderr.splitlines() == [f"WARNING: MCP server 'noisy' {NOT_MCP}: {said}"]
