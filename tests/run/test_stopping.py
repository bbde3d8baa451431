"""Nothing non-retryable runs twice, with real processes: a step cut while it ran — its server
killed under it, its executor stopped by Ctrl-C or SIGTERM — pauses `interrupted`, the next
`execute_task` does not run it again, and `--rerun-interrupted` does when the person says so. A
stopped run is left cleanly: no longer `running`, its servers and their commands gone."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.support import (
    COMMAND_SERVER,
    alive,
    cli,
    command_server_of,
    kill9,
    start,
    stdio,
    wait_for,
    write_mcp_json,
)

DEPLOY = """# Task 70: Deploy once

### Task 1: Deploy

- [ ] 1.1 Deploy (not retryable: it must happen once)
  ```bash
  echo deployed >> ran.log
  echo $$ > shell.pid
  [ -e released ] || sleep 5
  ```
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_mcp_json(tmp_path, {"cmd": stdio(COMMAND_SERVER)})
    (tmp_path / "task.md").write_text(DEPLOY, encoding="utf-8")
    return tmp_path


def deployed(project: Path) -> int:
    log = project / "ran.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def shell_pid(project: Path) -> int | None:
    """The pid step 1.1's shell wrote, once it has written it."""
    written = project / "shell.pid"
    text = written.read_text().strip() if written.exists() else ""
    return int(text) if text else None


def step(project: Path) -> dict[str, Any]:
    done = cli(project, "task_status", "task.md", "--json")
    report = json.loads(done.stdout)
    assert report["run_status"] != "running"
    [only] = report["steps"]
    return dict(only)


@pytest.mark.slow
def test_a_step_whose_server_is_killed_mid_call_pauses_and_is_not_run_again(
    project: Path,
) -> None:
    proc = start(project, "execute_task", "task.md", log=project / "first.log")
    wait_for(lambda: shell_pid(project) is not None, 60, "the step to start")
    server = command_server_of(proc.pid)
    assert server is not None
    kill9(server)
    assert proc.wait(timeout=60) == 3  # paused, not failed
    paused = step(project)
    assert paused["state"] == "paused"
    assert paused["pause_reason"] == {
        "type": "interrupted",
        "blockedStep": "1.1",
        "attempt": 1,
        "suggestedTool": "run_command",
        "cause": "the server died during the call",
    }
    again = cli(project, "execute_task", "task.md")
    assert again.returncode == 3, again.stderr
    assert deployed(project) == 1  # not run twice
    (project / "released").touch()
    rerun = cli(project, "execute_task", "task.md", "--rerun-interrupted")
    assert rerun.returncode == 0, rerun.stderr
    assert deployed(project) == 2  # the person asked for it
    assert step(project)["state"] == "completed"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signum", "code", "name"),
    [(signal.SIGINT, 130, "SIGINT"), (signal.SIGTERM, 143, "SIGTERM")],
)
def test_a_signal_stops_the_run_cleanly(
    project: Path, signum: signal.Signals, code: int, name: str
) -> None:
    log = project / "executor.log"
    proc = start(project, "execute_task", "task.md", "-q", log=log)
    wait_for(lambda: shell_pid(project) is not None, 60, "the step to start")
    server = command_server_of(proc.pid)
    shell = shell_pid(project)
    assert server is not None
    assert shell is not None
    proc.send_signal(signum)
    assert proc.wait(timeout=60) == code
    said = log.read_text().strip().splitlines()
    assert said == [
        f"stopped by {name}: a step cut while it ran is recorded interrupted; execute_task "
        "resumes the run (with --rerun-interrupted it runs those steps again)"
    ]
    wait_for(lambda: not alive(server) and not alive(shell), 30, "the server and its command")
    stopped = step(project)
    assert stopped["state"] == "paused"
    assert stopped["pause_reason"]["cause"] == "the run was stopped while it ran"
    again = cli(project, "execute_task", "task.md")
    assert again.returncode == 3, again.stderr
    assert deployed(project) == 1
    (project / "released").touch()
    rerun = cli(project, "execute_task", "task.md", "--rerun-interrupted")
    assert rerun.returncode == 0, rerun.stderr
    assert deployed(project) == 2
