"""`execute_task` as an MCP client, as a user runs it, against npm's reference servers over stdio:

- without a terminal, `server-everything`'s question is declined and the step pauses with it in
  the run document and the handoff; its task-only tool pauses the step (`taskRequired`); its
  progress notifications are progress lines;
- in a terminal (a real pseudo-terminal), the person answers the question and the run goes on;
- `server-filesystem`, declared without directories, works in the project root (its roots).
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from claude_task_cli.cli.app import app
from claude_task_cli.operations import latest_run
from tests.support import node_server, stdio, write_mcp_json

pytestmark = pytest.mark.slow
runner = CliRunner()

EVERYTHING = """# Task 80: What a server asks of its client

## Task 1: Ask a person
**Depends on**: none

- [ ] 1.1 Ask for the details
  ```mcp
  server: everything
  tool: trigger-elicitation-request
  ```
- [ ] 1.2 Say they were given
  ```mcp
  server: everything
  tool: echo
  args: {message: "given"}
  ```

## Task 2: Work a while
**Depends on**: none

- [ ] 2.1 A long operation
  ```mcp
  server: busy
  tool: trigger-long-running-operation
  args: {duration: 0.3, steps: 3}
  ```

## Task 3: Research
**Depends on**: none

- [ ] 3.1 Research, as a task only
  ```mcp
  server: everything
  tool: simulate-research-query
  args: {topic: roots}
  ```
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    monkeypatch.setenv("NO_COLOR", "1")
    return root


def declare(project: Path, **servers: list[str]) -> None:
    write_mcp_json(project, {name: stdio(cmd) for name, cmd in servers.items()})


def test_without_a_terminal_a_question_pauses_its_step_with_it(project: Path) -> None:
    everything = [*node_server("server-everything"), "stdio"]
    declare(project, everything=everything, busy=everything)
    (project / "task.md").write_text(EVERYTHING, encoding="utf-8")
    shown = runner.invoke(app, ["execute_task", "task.md"])
    assert shown.exit_code == 3, shown.output  # paused for the client
    assert "progress  2.1 A long operation 1/3" in shown.stderr
    assert "progress  2.1 A long operation 3/3" in shown.stderr
    assert (
        'Waiting for a person: server everything asked "Please provide inputs for the '
        'following fields:" (fields: name, check,' in shown.stdout
    )
    assert "simulate-research-query on server everything runs only as an MCP task" in shown.stdout

    again = runner.invoke(app, ["execute_task", "task.md", "--json"])
    assert again.exit_code == 3, again.output
    run: dict[str, Any] = json.loads(again.stdout)
    reasons = {r["blockedStep"]: r for r in run["pauseReasons"]}
    assert set(reasons) == {"1.1", "3.1"}
    assert reasons["1.1"]["type"] == "questionDeclined"
    assert reasons["1.1"]["requestedSchema"]["required"] == ["name"]
    assert reasons["1.1"]["callsInFlight"] == 1
    assert reasons["3.1"] == {
        "type": "taskRequired",
        "blockedStep": "3.1",
        "server": "everything",
        "suggestedTool": "simulate-research-query",
    }
    steps = {r["step_id"]: r for r in run["results"]}
    assert steps["2.1"]["status"] == "completed"  # from the first run
    assert steps["1.2"]["status"] == "pending"  # waits for the person


ANSWERS = {"Answer it?": "y", "String (required)": "Ada Lovelace", "Boolean": "y"}


def at_a_terminal(command: list[str], cwd: Path, answers: dict[str, str]) -> tuple[int, str]:
    """`command` run in a pseudo-terminal (stdin, stdout and stderr), each prompt answered:
    the answer whose key the prompt's line holds, else Enter (the default). Returns the exit
    code and everything shown, without terminal escapes."""
    main, child = pty.openpty()
    env = {**os.environ, "TERM": "dumb", "COLUMNS": "200"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(command, stdin=child, stdout=child, stderr=child, cwd=cwd, env=env)
    os.close(child)
    shown, deadline = "", time.monotonic() + 120
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if not select.select([main], [], [], 0.2)[0]:
                continue
            try:
                shown += os.read(main, 65536).decode(errors="replace")
            except OSError:  # the child closed the terminal
                break
            line = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", shown).rsplit("\n", 1)[-1]
            if line.endswith(": "):  # a prompt waits
                reply = next((a for key, a in answers.items() if key in line), "")
                os.write(main, reply.encode() + b"\r")
                shown += "\n"
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        while select.select([main], [], [], 0.1)[0]:
            try:
                more = os.read(main, 65536)
            except OSError:
                break
            if not more:
                break
            shown += more.decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(main)
    return code, re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", shown)


def test_at_a_terminal_the_person_answers_and_the_run_goes_on(project: Path) -> None:
    declare(project, everything=[*node_server("server-everything"), "stdio"])
    first_task = EVERYTHING.split("## Task 2", maxsplit=1)[0]
    (project / "task.md").write_text(first_task, encoding="utf-8")
    command = [sys.executable, "-m", "claude_task_cli", "execute_task", "task.md"]
    code, shown = at_a_terminal(command, project, ANSWERS)
    assert "MCP server everything asks" in shown
    assert "Please provide inputs for the following fields:" in shown
    assert code == 0, shown
    _doc, _path, run = latest_run("task.md")
    assert run is not None
    answered = run.step("1.1").result
    assert "- Name: Ada Lovelace" in answered
    assert "- Agreed to terms: true" in answered
    assert "- Favorite Integer: 42" in answered  # the default, kept with Enter
    assert run.step("1.2").status == "completed"


FILES = """# Task 33: Files in the project root, through its roots

## Task 1: Look around
**Depends on**: none

- [ ] 1.1 Where the server may go
  ```mcp
  server: fs
  tool: list_allowed_directories
  retryable: true
  retries: 5
  expect:
    - {path: content, contains: "@ROOT@"}
  ```
- [ ] 1.2 Read a note of the project
  ```mcp
  server: fs
  tool: read_text_file
  args: {path: "@ROOT@/notes/a.txt"}
  expect:
    - {path: content, equals: "inside the project\\n"}
  ```
"""


def test_the_filesystem_server_works_in_the_project_root(project: Path) -> None:
    declare(project, fs=node_server("server-filesystem"))  # no directories: the client's roots
    (project / "notes").mkdir()
    (project / "notes" / "a.txt").write_text("inside the project\n", encoding="utf-8")
    root = str(project.resolve())
    (project / "task.md").write_text(FILES.replace("@ROOT@", root), encoding="utf-8")
    done = runner.invoke(app, ["execute_task", "task.md", "--json"])
    assert done.exit_code == 0, done.output
    steps = {r["step_id"]: r for r in json.loads(done.stdout)["results"]}
    assert steps["1.1"]["result"]["content"].splitlines()[1:] == [root]
    assert steps["1.2"]["result"]["content"] == "inside the project\n"


def test_the_servers_check_sees_the_tools_a_run_would(project: Path) -> None:
    declare(project, everything=[*node_server("server-everything"), "stdio"])
    document = EVERYTHING.replace("server: busy", "server: everything") + (
        "\n## Task 4: Roots\n**Depends on**: none\n\n- [ ] 4.1 The roots offered\n"
        "  ```mcp\n  server: everything\n  tool: get-roots-list\n  ```\n"
    )
    (project / "task.md").write_text(document, encoding="utf-8")
    # get-roots-list and trigger-elicitation-request are listed only to a client that declares
    # roots and elicitation: the check's client does, as the run's
    checked = runner.invoke(app, ["convert_task", "task.md", "--check", "--servers"])
    assert checked.exit_code == 0, checked.output
