"""Fixtures shared by the server's tests (helpers in support.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server.support import INSPECTOR_BIN, REQUIRED, server_env, serving_http, write_project


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project root (see `write_project`), the working directory of the test."""
    root = write_project(tmp_path / "project")
    monkeypatch.chdir(root)
    return root


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
