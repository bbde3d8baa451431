"""What the proof suites share: a project of their own, the CLI run as a real process, the state
as `task_status --json` reports it, and the side effects steps leave in `ran/`.

Not a test module: the suites import it, it imports no test. Every step of a proof document
appends one line to `ran/<step id>` when it runs, so how often a step ran is counted from what it
did, not from what the executor recorded.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support import COMMAND_SERVER, write_mcp_json

CLI = [sys.executable, "-m", "claude_task_cli"]


def make_project(root: Path, document: str, name: str = "proof.md") -> Path:
    """A project under `root`: `.mcp.json` with the command server, `ran/`, the document."""
    root.mkdir(parents=True, exist_ok=True)
    write_mcp_json(root, {"commands": {"command": COMMAND_SERVER[0], "args": COMMAND_SERVER[1:]}})
    (root / "ran").mkdir(exist_ok=True)
    path = root / name
    path.write_text(document, encoding="utf-8")
    return path


def cli(project: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """One claude-task command in `project`, to its end."""
    return subprocess.run(
        [*CLI, *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=_env(),
    )


def start(project: Path, *args: str, log: Path) -> subprocess.Popen[bytes]:
    """A claude-task command started in `project`, its stdout and stderr to `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [*CLI, *args], cwd=project, stdout=out, stderr=subprocess.STDOUT, env=_env()
        )


def _env() -> dict[str, str]:
    return {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}


def status(project: Path, doc: Path) -> dict[str, Any]:
    """`task_status --json` of the document's latest run (`run_id` None: no run yet)."""
    done = cli(project, "task_status", str(doc), "--json", timeout=120)
    assert done.returncode in (0, 1), done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def steps_in(report: dict[str, Any], state: str) -> set[str]:
    return {s["id"] for s in report["steps"] if s["state"] == state}


def ran(project: Path) -> dict[str, int]:
    """How many times each step ran, from the lines it appended to `ran/<id>`."""
    return {
        path.name: len(path.read_text(encoding="utf-8").splitlines())
        for path in (project / "ran").iterdir()
    }


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


def progress(log: Path, word: str) -> set[str]:
    """The step ids the executor's progress lines reported with `word` (`completed`, ...)."""
    found = set()
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == word:
            found.add(parts[1])
    return found
