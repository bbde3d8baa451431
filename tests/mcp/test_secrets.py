"""What `.mcp.json` expands from `${VAR}` never reaches the database, the reports, the log or the
screen: every message about a server shows the form as written. End to end, through the real
CLI in its own process: a server that cannot start, and a run whose server dies mid-run with the
secret in its stderr."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.support import TOOLS_SERVER, cli, write_mcp_json

pytestmark = pytest.mark.slow


def everything_written(project: Path, logs: Path) -> str:
    """Every byte the runs left: the state (database, WAL, journals), reports, the log."""
    files = [p for root in (project, logs) for p in root.rglob("*") if p.is_file()]
    return "\n".join(p.read_bytes().decode("utf-8", errors="replace") for p in files)


@pytest.fixture
def secret() -> str:
    return f"hunter2-{uuid.uuid4().hex}"


@pytest.fixture
def env(tmp_path: Path, secret: str) -> dict[str, str]:
    return {
        "CLAUDE_TASK_LOG_DIR": str(tmp_path / "logs"),
        "NO_COLOR": "1",
        "SECRET_DIR": str(tmp_path / secret),
        "API_TOKEN": secret,
    }


START = """# Task 50: A server that cannot start

## Task 1: Call it

- [ ] 1.1 Call
  ```mcp
  server: hidden
  tool: anything
  ```
"""


def test_a_start_failure_shows_the_command_as_written(
    tmp_path: Path, env: dict[str, str], secret: str
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    write_mcp_json(
        project, {"hidden": {"command": "${SECRET_DIR}/bin/server", "args": ["${API_TOKEN}"]}}
    )
    (project / "task.md").write_text(START, encoding="utf-8")

    ran = cli(project, "execute_task", "task.md", env=env)
    assert ran.returncode == 4, ran.stderr
    assert (
        "MCP server 'hidden' failed to start: cannot run it: No such file or directory: "
        "${SECRET_DIR}/bin/server"
    ) in ran.stderr
    status = cli(project, "task_status", "task.md", "--json", env=env)
    report = cli(project, "generate_report", "task.md", env=env)
    shown = ran.stdout + ran.stderr + status.stdout + status.stderr + report.stdout + report.stderr
    assert "${SECRET_DIR}/bin/server" in status.stdout  # the step's error, as recorded
    assert "${SECRET_DIR}/bin/server" in everything_written(project, tmp_path / "logs")
    assert secret not in shown
    assert secret not in everything_written(project, tmp_path / "logs")


RUN = """# Task 51: A server that dies

## Task 1: Use it

- [ ] 1.1 A call that works
  ```mcp
  server: tools
  tool: echo
  args: {value: fine}
  ```
- [ ] 1.2 A call the server does not survive
  ```mcp
  server: tools
  tool: exit
  ```
"""


def test_a_run_records_and_shows_only_the_unexpanded_form(
    tmp_path: Path, env: dict[str, str], secret: str
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    tools = {
        "command": TOOLS_SERVER[0],
        # the server writes its command line on stderr: the tail shown when it dies holds it
        "args": [*TOOLS_SERVER[1:], "--token", "${API_TOKEN}"],
        "env": {"API_TOKEN": "${API_TOKEN}"},
    }
    write_mcp_json(project, {"tools": tools})
    (project / "task.md").write_text(RUN, encoding="utf-8")

    ran = cli(project, "--debug", "execute_task", "task.md", "--json", env=env)
    assert ran.returncode == 3, ran.stderr  # 1.2 was cut while it ran: interrupted, not failed
    results = {r["step_id"]: r for r in json.loads(ran.stdout)["results"]}
    assert results["1.1"]["result"] == {"value": "fine"}
    error = results["1.2"]["error"]
    assert "the connection to the server closed" in error
    assert "--token ${API_TOKEN}" in error  # the server's stderr, as the file writes it
    status = cli(project, "task_status", "task.md", "--json", env=env)
    report = cli(project, "generate_report", "task.md", env=env)
    assert report.returncode == 1, report.stderr
    shown = ran.stdout + ran.stderr + status.stdout + status.stderr + report.stdout + report.stderr
    written = everything_written(project, tmp_path / "logs")
    assert "--token ${API_TOKEN}" in written  # in the database and the report
    assert secret not in shown
    assert secret not in written
