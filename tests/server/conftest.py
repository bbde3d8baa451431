"""Set-up shared by the server's tests: a project with real servers declared, and documents that
make each domain error happen."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support import SAMPLE, servers

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


def write_project(root: Path) -> Path:
    """A project root: the sample document, one document per error, a README, and a .mcp.json
    declaring the real time and command servers and a `dead` server (`/bin/false`)."""
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
    ):
        (tasks / name).write_text(text, encoding="utf-8")
    (root / "README.md").write_text("sample project\n")
    config = servers()
    config["mcpServers"]["dead"] = {"command": "/bin/false", "args": []}
    (root / ".mcp.json").write_text(json.dumps(config))
    return root


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project root (see `write_project`), the working directory of the test."""
    root = write_project(tmp_path / "project")
    monkeypatch.chdir(root)
    return root


# Pinned in package.json, installed into node_modules/ by scripts/setup.sh (npm ci).
INSPECTOR_BIN = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "mcp-inspector"
REQUIRED = os.environ.get("CLAUDE_TASK_REQUIRE_REFERENCE_SERVERS") == "1"


def server_env(tmp_path: Path) -> dict[str, str]:
    """What a spawned server needs beyond stdio_client's default environment."""
    return {"CLAUDE_TASK_LOG_DIR": str(tmp_path / "logs"), "NO_COLOR": "1"}


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


@pytest.fixture
def http_server(project: Path, tmp_path: Path) -> Iterator[str]:
    """`claude-task serve --transport http --port 0` in the project; yields its URL."""
    with serving_http(project, tmp_path) as url:
        yield url


@pytest.fixture
def inspector(project: Path, tmp_path: Path) -> Callable[..., Any]:
    """The official MCP Inspector CLI: `inspector(TARGET..., "--method", ...)` → its JSON answer
    (TARGET: a URL, or a command spawned over stdio in the project)."""
    if not INSPECTOR_BIN.exists() or shutil.which("node") is None:
        message = "the MCP Inspector is not installed (bash scripts/setup.sh installs it with npm)"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)

    def run(*args: str, timeout: float = 30, ok: bool = True, tool_error: bool = False) -> Any:
        """`ok=False`: the finished process itself; `tool_error`: the tool's answer is an error
        (the Inspector then exits 5 and still prints the result)."""
        env = {**os.environ, "MCP_CATALOG_PATH": str(tmp_path / "inspector-catalog.json"),
               **server_env(tmp_path)}  # fmt: skip
        done = subprocess.run([str(INSPECTOR_BIN), "--cli", *args], cwd=project, env=env,
                              capture_output=True, text=True, timeout=timeout, check=False)  # fmt: skip
        if not ok:
            return done
        assert done.returncode == (5 if tool_error else 0), done.stdout + done.stderr
        return json.loads(done.stdout)

    return run
