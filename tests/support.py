"""Helpers shared by the test packages (fixtures live in conftest.py): where things are, and the
`.mcp.json` a test project declares. Not a test module: tests import it, it imports no test."""

from __future__ import annotations

import json
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
