"""Helpers shared by the test packages (fixtures live in conftest.py): where things are, the
`.mcp.json` a test project declares, the CLI run as a real process (with what it spawned), waiting
for a condition, a free port, and the raw HTML a CommonMark parser finds in a text. Not a test
module: tests import it, it imports no test."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
SEED = REPO.parent / "shared" / "seeds" / "task-003-orchestration-spec.md"
SAMPLE = REPO / "docs" / "tasks" / "010_time_and_commands.md"
COMMAND_SERVER = [sys.executable, "-m", "claude_task_cli.mcp.command_server"]
# The tests' own tools (echo, sleep, respond, exit), run by path: any current directory works.
TOOLS_SERVER = [sys.executable, str(REPO / "tests" / "servers" / "tools_server.py")]
TIME_SERVER = [sys.executable, "-m", "mcp_server_time", "--local-timezone", "UTC"]
# The npm reference servers, at the versions package-lock.json pins (`bash scripts/setup.sh`).
NPM_SCOPE = REPO / "node_modules" / "@modelcontextprotocol"
REQUIRE_REFERENCE_SERVERS = os.environ.get("CLAUDE_TASK_REQUIRE_REFERENCE_SERVERS") == "1"


def node_server(package: str) -> list[str]:
    """`[node, .../dist/index.js]` for an installed npm server; skip without it — or fail, where
    `CLAUDE_TASK_REQUIRE_REFERENCE_SERVERS=1` (set by `.ci/run`): CI must really run them."""
    import pytest

    node = shutil.which("node")
    script = NPM_SCOPE / package / "dist" / "index.js"
    missing = (
        "node is not on PATH"
        if node is None
        else None
        if script.is_file()
        else f"{script.relative_to(REPO)} is not installed (run: bash scripts/setup.sh)"
    )
    if missing is not None:
        if REQUIRE_REFERENCE_SERVERS:
            pytest.fail(f"@modelcontextprotocol/{package}: {missing}")
        pytest.skip(f"@modelcontextprotocol/{package}: {missing}")
    assert node is not None
    return [node, str(script)]


def corpus_files() -> list[Path]:
    """The shared corpus of real task documents (empty where ../shared is absent)."""
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*.md") if p.name != "README.md")


def stdio(command: list[str]) -> dict[str, Any]:
    """An `.mcp.json` entry that runs `command` (argv) over stdio."""
    return {"command": command[0], "args": command[1:]}


def servers(time_command: list[str] | None = None) -> dict[str, Any]:
    """The sample's `.mcp.json`: the time server (or `time_command` in its place) and the
    built-in command server as `commands`."""
    time_cmd = time_command or TIME_SERVER
    return {
        "mcpServers": {
            "time": stdio(time_cmd),
            "commands": stdio(COMMAND_SERVER),
        }
    }


def write_mcp_json(directory: Path, entries: dict[str, Any] | None = None) -> Path:
    """`directory/.mcp.json` declaring `entries` (default: `servers()`'s), returned."""
    path = directory / ".mcp.json"
    config = servers() if entries is None else {"mcpServers": entries}
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


CLI = [sys.executable, "-m", "claude_task_cli"]


def cli(
    project: Path, *args: str, timeout: float = 300, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """One claude-task command in `project`, to its end; `env` adds to the environment."""
    return subprocess.run(
        [*CLI, *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**_env(), **(env or {})},
    )


def start(project: Path, *args: str, log: Path) -> subprocess.Popen[bytes]:
    """A claude-task command started in `project`, its stdout and stderr to `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [*CLI, *args], cwd=project, stdout=out, stderr=subprocess.STDOUT, env=_env()
        )


def _env() -> dict[str, str]:
    return {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}


def free_port() -> int:
    """A TCP port free on the loopback interface just now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def children(pid: int) -> list[int]:
    """The direct children of `pid` (Linux `/proc`)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def alive(pid: int) -> bool:
    """Running (a zombie counts as dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in {"Z", "X"}


def kill9(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def command_server_of(pid: int) -> int | None:
    """The executor's command server child, if it runs."""
    for child in children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"claude_task_cli.mcp.command_server" in cmdline:
            return child
    return None


def html_in(markdown: str) -> list[str]:
    """Every piece of raw HTML and every autolink a CommonMark parser (raw HTML on, as CommonMark
    renders it) finds in `markdown`."""
    found = []
    stack = list(_commonmark().parse(markdown))
    while stack:
        token = stack.pop()
        if token.type in ("html_inline", "html_block"):
            found.append(token.content)
        if token.type == "link_open" and token.markup == "autolink":
            found.append(str(token.attrs.get("href")))
        stack.extend(token.children or [])
    return found


@functools.cache
def _commonmark() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark")
