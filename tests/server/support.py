"""Helpers for the server's tests (fixtures are in conftest.py): a project with real servers
declared and a document per domain error, and `claude-task serve` over HTTP in a subprocess.
Not a test module: tests import it, it imports no test."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mcp import StdioServerParameters
from mcp_types import CallToolResult

from tests.support import SAMPLE, TOOLS_SERVER, servers, stdio

BROKEN = """# Task 30: Broken

## Task 1: Steps

- [ ] 1.1 First
- [ ] 1.2 Second
  - Depends on: 9.9
"""
CYCLE = "# Task 31: Cycle\n\n### Task 1: A\n**Depends on**: Task 1\n"
TWO_ERRORS = """# Task 32: Two errors

### Task 1: A
**Depends on**: Task 7

### Task 2: B
**Depends on**: Task 8
"""
UNDECLARED = """# Task 40: Undeclared

### Task 1: Call a server nobody declared

- [ ] 1.1 Ask
  ```mcp
  server: nowhere
  tool: anything
  ```
"""
DEAD = """# Task 50: Dead server

### Task 1: Call a server that will not start

- [ ] 1.1 Ask
  ```mcp
  server: dead
  tool: anything
  ```
"""
PERSON = """# Task 60: For a person

### Task 1: Look

- [ ] 1.1 A person looks at the sky
"""

APPROVAL = """# Task 61: Approval

### Task 1: Approve and announce

- [ ] 1.1 A person approves the release
- [ ] 1.2 Announce who approved it
  ```mcp
  server: tools
  tool: echo
  args:
    value: "approved by ${step:1.1/approver}"
  ```
  - Depends on: 1.1
"""

SLOW = """# Task 70: Slow

### Task 1: Wait, then say so

- [ ] 1.1 Wait a long while
  ```mcp
  server: tools
  tool: sleep
  args:
    seconds: 120
  ```
- [ ] 1.2 Say it is over
  ```mcp
  server: tools
  tool: echo
  args:
    value: over
  ```
  - Depends on: 1.1
"""
SHORT = SLOW.replace("Task 70: Slow", "Task 71: Short").replace("seconds: 120", "seconds: 1")


def write_project(root: Path) -> Path:
    """A project root: the sample document, one document per error, a README, and a .mcp.json
    declaring the real time and command servers, the tests' tools server (`echo`, `sleep`) as
    `tools`, and a `dead` server (`/bin/false`)."""
    tasks = root / "docs" / "tasks"
    tasks.mkdir(parents=True)
    shutil.copy(SAMPLE, tasks / SAMPLE.name)
    for name, text in (
        ("030_broken.md", BROKEN),
        ("031_cycle.md", CYCLE),
        ("032_two_errors.md", TWO_ERRORS),
        ("040_undeclared.md", UNDECLARED),
        ("050_dead.md", DEAD),
        ("060_person.md", PERSON),
        ("061_approval.md", APPROVAL),
        ("070_slow.md", SLOW),
        ("071_short.md", SHORT),
    ):
        (tasks / name).write_text(text, encoding="utf-8")
    (root / "README.md").write_text("sample project\n")
    config = servers()
    config["mcpServers"]["dead"] = {"command": "/bin/false", "args": []}
    config["mcpServers"]["tools"] = stdio(TOOLS_SERVER)
    (root / ".mcp.json").write_text(json.dumps(config))
    return root


# Pinned in package.json, installed into node_modules/ by scripts/setup.sh (npm ci).
INSPECTOR_BIN = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "mcp-inspector"
REQUIRED = os.environ.get("CLAUDE_TASK_REQUIRE_REFERENCE_SERVERS") == "1"


def server_env(tmp_path: Path) -> dict[str, str]:
    """What a spawned server needs beyond stdio_client's default environment."""
    return {
        "CLAUDE_TASK_LOG_DIR": str(tmp_path / "logs"),
        "CLAUDE_TASK_CACHE_DIR": str(tmp_path / "cache"),
        "NO_COLOR": "1",
    }


def data(result: CallToolResult) -> dict[str, Any]:
    """A tool call's structured result, which must not be an error."""
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


def serve_over_stdio(project: Path, tmp_path: Path) -> StdioServerParameters:
    """`claude-task serve` in `project` over stdio, as an agent's client starts it."""
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "claude_task_cli", "serve"],
        cwd=project,
        env=server_env(tmp_path),
    )


@contextmanager
def serving_http(root: Path, tmp_path: Path, *args: str, env: dict[str, str] | None = None
                 ) -> Iterator[str]:  # fmt: skip
    """`claude-task serve --transport http --port 0 ARGS` in `root`; yields its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "claude_task_cli", "serve", "--transport", "http", "--port", "0",
         *args],
        cwd=root,
        env={**os.environ, **server_env(tmp_path), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()  # announced once the port is bound
        assert line.startswith("listening on http://"), line + proc.stderr.read()
        yield line.split()[-1]
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
        assert out == ""  # nothing on stdout, ever
