"""Runs kept on a PostgreSQL server (`--db`, `$CLAUDE_TASK_DB`): a real `execute_task` (the
built-in command server) recorded there, read by `task_status` and `generate_report` in other
processes and from another checkout of the project (another path, as on another machine), resumed
there without running its completed steps again, and claimed by one of two executors started at
once; the other gets the lock message. Nothing is written to the project's SQLite file.
A bad URL and a server out of reach are one line each (exit 2 and 4), and a password is shown
nowhere."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claude_task_cli.cli.app import app
from claude_task_cli.outcomes import StepStatus
from claude_task_cli.store import Store
from claude_task_cli.store.urls import parse_url
from tests.postgres_server import PostgresServer
from tests.support import COMMAND_SERVER, cli, start, stdio, wait_for, write_mcp_json

runner = CliRunner()

DOCUMENT = """# Task 91: Shared runs

### Task 1: Work

- [ ] 1.1 A command
  ```bash
  echo one
  ```
- [ ] 1.2 A person's check
  - Look at it
- [ ] 1.3 After it
  ```bash
  echo three
  ```
"""

# The first step waits for the test's word, so the executor that won the claim still holds it
# when the other one tries, however slowly either starts.
HELD = """# Task 92: Held

### Task 1: Hold

- [ ] 1.1 Wait for the word
  ```bash
  while [ ! -e {release} ]; do sleep 0.05; done
  ```
"""


def project_at(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(exist_ok=True)
    write_mcp_json(directory, {"cmd": stdio(COMMAND_SERVER)})
    (directory / name).write_text(text, encoding="utf-8")
    return directory


def step_states(url: str, document: Path) -> dict[str, tuple[StepStatus, int]]:
    """Each step's status and number of calls in the document's latest run, as stored."""
    with Store(parse_url(url)) as store:
        run = store.latest_run(str(document.resolve()))
        assert run is not None
        return {sid: (s.status, s.attempts) for sid, s in store.step_states(run.id).items()}


@pytest.mark.slow
def test_a_run_recorded_in_postgresql_is_read_resumed_and_reported_elsewhere(
    tmp_path: Path, postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = postgres_server.create_schema("shared_runs")
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    project = project_at(tmp_path / "one" / "proj", "task.md", DOCUMENT)
    elsewhere = project_at(tmp_path / "two" / "proj", "task.md", DOCUMENT)  # another checkout
    first = cli(project, "execute_task", "task.md", "-q", "--db", url)
    assert first.returncode == 3, first.stderr  # paused at the person's check
    assert step_states(url, project / "task.md") == {
        "1.1": (StepStatus.COMPLETED, 1),
        "1.2": (StepStatus.AWAITING_CLIENT, 0),
    }

    monkeypatch.setenv("CLAUDE_TASK_DB", url)  # the other commands find it by the environment
    status = cli(elsewhere, "task_status", "task.md", "--json")
    assert status.returncode == 0, status.stderr
    steps = {s["id"]: s["state"] for s in json.loads(status.stdout)["steps"]}
    assert steps == {"1.1": "completed", "1.2": "awaiting_client", "1.3": "not_run"}
    report = cli(project, "generate_report", "task.md", "--stdout")
    assert report.returncode == 1, report.stderr  # not complete yet, and says so
    assert "one" in report.stdout  # 1.1's recorded output is the evidence

    recorded = cli(elsewhere, "record_step", "task.md", "1.2", "--done", "--note", "looked")
    assert recorded.returncode == 0, recorded.stderr
    resumed = cli(elsewhere, "execute_task", "task.md", "-q")
    assert resumed.returncode == 0, resumed.stderr
    assert step_states(url, elsewhere / "task.md") == {
        "1.1": (StepStatus.COMPLETED, 1),  # not run again
        "1.2": (StepStatus.COMPLETED, 0),
        "1.3": (StepStatus.COMPLETED, 1),
    }
    final = cli(project, "generate_report", "task.md", "--stdout")
    assert final.returncode == 0, final.stderr
    for checkout in (project, elsewhere):  # all of it on the server
        assert not (checkout / ".claude-task" / "state.db").exists()


@pytest.mark.slow
def test_two_executors_started_at_once_one_runs_the_other_is_refused(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    url = postgres_server.create_schema("two_executors")
    release = tmp_path / "release"
    project = project_at(tmp_path / "p", "held.md", HELD.format(release=release))
    args = ("execute_task", "held.md", "-q", "--db", url)
    executors = [start(project, *args, log=tmp_path / f"executor{i}.log") for i in (1, 2)]
    try:
        wait_for(lambda: any(p.poll() is not None for p in executors), 120, "a refusal")
        refused = next(p for p in executors if p.poll() is not None)
        release.touch()
        winner = next(p for p in executors if p is not refused)
        assert winner.wait(timeout=120) == 0
    finally:
        release.touch()
        for proc in executors:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert refused.returncode == 4
    said = (tmp_path / f"executor{executors.index(refused) + 1}.log").read_text()
    assert "is being executed by pid" in said
    assert "wait for it to finish (or stop it) and try again" in said
    assert step_states(url, project / "held.md") == {"1.1": (StepStatus.COMPLETED, 1)}


def test_a_bad_url_and_a_server_out_of_reach_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = project_at(tmp_path, "task.md", DOCUMENT)
    monkeypatch.chdir(project)
    away = "postgresql://ana:s3cret@127.0.0.1:1/x"
    for command in (["task_status", "task.md"], ["execute_task", "task.md", "-q"]):
        bad = runner.invoke(app, [*command, "--db", "mysql://x/y"])
        assert (bad.exit_code, bad.stderr) == (
            2,
            "mysql://x/y: unknown database 'mysql': use sqlite:///PATH or postgresql://…\n",
        )
        unreachable = cli(project, *command, "--db", away)  # a real process: its own log
        lines = unreachable.stderr.strip().splitlines()
        assert (unreachable.returncode, len(lines)) == (4, 1), unreachable.stderr
        assert lines[0].startswith(
            "postgresql://ana:***@127.0.0.1:1/x: cannot open the state database: "
        )
    logs = Path(os.environ["CLAUDE_TASK_LOG_DIR"])
    assert any(logs.rglob("*.log"))
    assert not any("s3cret" in f.read_text() for f in logs.rglob("*") if f.is_file())


def test_db_and_state_together_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project_at(tmp_path, "task.md", DOCUMENT))
    both = runner.invoke(app, ["task_status", "task.md", "--state", "s.db", "--db", "x.db"])
    assert (both.exit_code, both.stderr) == (2, "--db: give --db or --state, not both\n")
