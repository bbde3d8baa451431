"""A server that writes on stdout what is not an MCP message is named in one line, with what it
wrote (trimmed), and no SDK traceback reaches the screen: at start the start fails at once; in
the middle of a session the call goes on and one warning says so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from claude_task_cli.errors import ServerStartError
from claude_task_cli.mcp.config import McpConfig, StdioServer
from claude_task_cli.mcp.sessions import ServerPool
from tests.support import REPO, TOOLS_SERVER, write_mcp_json

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

RAW_SERVER = [sys.executable, str(REPO / "tests" / "servers" / "raw_server.py")]


def garbling(line: str) -> McpConfig:
    entry = StdioServer(
        name="noisy", command=TOOLS_SERVER[0], args=[*TOOLS_SERVER[1:], "--garbage", line]
    )
    return McpConfig(servers={"noisy": entry})


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("Server v1.2 ready", "'Server v1.2 ready'"),
        ('{"hello": "world"}', '\'{"hello": "world"}\''),  # JSON, but not JSON-RPC
        ("x" * 500, "'" + "x" * 119 + "…'"),
    ],
)
async def test_output_that_is_not_mcp_fails_the_start_at_once(line: str, shown: str) -> None:
    with anyio.fail_after(30):  # well under the start timeout below: no waiting it out
        async with ServerPool(garbling(line), start_timeout=120) as pool:
            with pytest.raises(ServerStartError) as info:
                await pool.list_tools("noisy")
    assert info.value.message == f"it wrote on stdout what is not an MCP message: {shown}"
    assert str(info.value).splitlines()[0] == (
        f"MCP server 'noisy' failed to start: it wrote on stdout what is not an MCP message: {shown}"
    )


def run_cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "CLAUDE_TASK_LOG_DIR": str(project / "logs")}
    return subprocess.run(
        [sys.executable, "-m", "claude_task_cli", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


DOC = """# Task 60: A noisy server

## Task 1: Call it

- [ ] 1.1 Call
  ```mcp
  server: noisy
  tool: {tool}
  args: {{text: hello}}
  ```
"""


def test_the_cli_names_the_server_in_one_line_without_a_traceback(tmp_path: Path) -> None:
    args = [*TOOLS_SERVER[1:], "--garbage", "Listening on stdio..."]
    write_mcp_json(tmp_path, {"noisy": {"command": TOOLS_SERVER[0], "args": args}})
    (tmp_path / "task.md").write_text(DOC.format(tool="echo"), encoding="utf-8")
    ran = run_cli(tmp_path, "execute_task", "task.md", "-q")
    assert ran.returncode == 4
    first, *tail = ran.stderr.splitlines()
    assert first == (
        "MCP server 'noisy' failed to start: it wrote on stdout what is not an MCP message: "
        "'Listening on stdio...'"
    )
    assert all(line.startswith("  stderr: ") for line in tail), ran.stderr
    assert "Traceback" not in ran.stderr
    logged = (tmp_path / "logs" / "claude-task.log").read_text(encoding="utf-8")
    assert "Failed to parse JSONRPC message from server" in logged  # the SDK's record: logged


def test_a_stray_line_mid_session_is_one_warning_and_the_call_goes_on(tmp_path: Path) -> None:
    write_mcp_json(tmp_path, {"noisy": {"command": RAW_SERVER[0], "args": RAW_SERVER[1:]}})
    (tmp_path / "task.md").write_text(DOC.format(tool="noisy"), encoding="utf-8")
    ran = run_cli(tmp_path, "execute_task", "task.md", "-q", "--json")
    assert ran.returncode == 0, ran.stderr
    assert '"said": "hello"' in ran.stdout
    assert ran.stderr.splitlines() == [
        "WARNING: MCP server 'noisy' wrote on stdout what is not an MCP message: 'noise: hello'"
    ]
