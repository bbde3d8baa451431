"""Helpers shared by the test packages (fixtures live in conftest.py): where things are, and the
`.mcp.json` a test project declares. Not a test module: tests import it, it imports no test."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

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


def servers(time_command: list[str] | None = None) -> dict[str, Any]:
    """The sample's `.mcp.json`: the time server (or `time_command` in its place) and the
    built-in command server as `commands`."""
    time_cmd = time_command or TIME_SERVER
    return {
        "mcpServers": {
            "time": {"command": time_cmd[0], "args": time_cmd[1:]},
            "commands": {"command": COMMAND_SERVER[0], "args": COMMAND_SERVER[1:]},
        }
    }


def write_mcp_json(directory: Path, entries: dict[str, Any] | None = None) -> Path:
    """`directory/.mcp.json` declaring `entries` (default: `servers()`'s), returned."""
    path = directory / ".mcp.json"
    config = servers() if entries is None else {"mcpServers": entries}
    path.write_text(json.dumps(config), encoding="utf-8")
    return path
