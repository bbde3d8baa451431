"""Mistakes caught before a run, each at its line with the fix in the message: `convert_task
--check` and `execute_task --dry-run` against the project's `.mcp.json`; `--check --servers`
against the real servers' tool lists and input schemas; a server that does not start because
it is not installed, with the install command."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claude_task_cli.cli.app import app
from tests.support import COMMAND_SERVER, servers, write_mcp_json

runner = CliRunner()

MISTAKES = """# Task 7: Mistakes

## Task 1: Calls

- [ ] 1.1 The clock
  ```mcp
  server: tme
  tool: get_current_time
  args:
    timezone: UTC
  ```
- [ ] 1.2 A tool misspelt
  ```mcp
  server: time
  tool: convert_tme
  args: {source_timezone: UTC}
  ```
- [ ] 1.3 Arguments that do not fit
  ```mcp
  server: time
  tool: convert_time
  args:
    source_timezone: UTC
    tme: "12:00"
    target_timezone: 9
  ```
- [ ] 1.4 One missing, one known only during the run
  ```mcp
  server: time
  tool: convert_time
  args:
    source_timezone: "${step:1.1/timezone}"
    time: "12:00"
  ```
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "docs" / "tasks").mkdir(parents=True)
    (tmp_path / "docs" / "tasks" / "007_mistakes.md").write_text(MISTAKES)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_check_names_an_undeclared_server_at_its_line_with_the_near_name(project: Path) -> None:
    write_mcp_json(project)
    result = runner.invoke(app, ["convert_task", "docs/tasks/007_mistakes.md", "--check"])
    assert result.exit_code == 2
    assert result.stderr == (
        "docs/tasks/007_mistakes.md:7: server 'tme' is not declared in .mcp.json "
        "(did you mean 'time'?)\n"
    )
    planned = runner.invoke(app, ["execute_task", "007", "--dry-run"])
    assert planned.exit_code == 2
    assert planned.stderr == result.stderr
    ran = runner.invoke(app, ["execute_task", "007"])
    assert (ran.exit_code, ran.stderr) == (2, result.stderr)  # before any server starts


def test_without_a_near_name_the_declared_ones_are_listed(project: Path) -> None:
    write_mcp_json(project, {"commands": {"command": COMMAND_SERVER[0]}})
    result = runner.invoke(app, ["convert_task", "docs/tasks/", "--check"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "docs/tasks/007_mistakes.md:7: server 'tme' is not declared in .mcp.json "
        "(it declares commands)",
        *(
            f"docs/tasks/007_mistakes.md:{line}: server 'time' is not declared in .mcp.json "
            "(it declares commands)"
            for line in (14, 20, 29)
        ),
    ]


def test_a_missing_mcp_json_is_an_environment_error(project: Path) -> None:
    where = project / "docs" / "tasks"
    expected = (
        "docs/tasks/007_mistakes.md:7: step 1.1 calls server 'tme', but there is no .mcp.json "
        f"in {where} or above (claude-task init writes one)\n"
    )
    for argv in (
        ["convert_task", "docs/tasks/007_mistakes.md", "--check"],
        ["execute_task", "007", "--dry-run"],
        ["execute_task", "007"],
    ):
        result = runner.invoke(app, argv)
        assert (result.exit_code, result.stderr) == (4, expected), argv


def test_a_document_that_calls_no_server_needs_no_mcp_json(project: Path) -> None:
    (project / "docs" / "tasks" / "008_plain.md").write_text(
        "# Plain\n\n## Task 1: A\n- [ ] 1.1 B\n"
    )
    result = runner.invoke(app, ["convert_task", "docs/tasks/008_plain.md", "--check", "--servers"])
    assert (result.exit_code, result.output) == (0, "")


def test_servers_goes_with_check(project: Path) -> None:
    result = runner.invoke(app, ["convert_task", "docs/tasks/007_mistakes.md", "--servers"])
    assert (result.exit_code, result.stderr) == (2, "--servers goes with --check\n")


@pytest.mark.slow
def test_check_servers_finds_unknown_tools_and_arguments_that_do_not_fit(project: Path) -> None:
    write_mcp_json(project)
    document = project / "docs" / "tasks" / "007_mistakes.md"
    document.write_text(MISTAKES.replace("server: tme", "server: time"))
    result = runner.invoke(app, ["convert_task", str(document), "--check", "--servers"])
    assert result.exit_code == 2, result.output
    shown = "docs/tasks/007_mistakes.md"  # as given, relative to the working directory
    assert result.stderr.splitlines() == [
        f"{shown}:15: server 'time' has no tool 'convert_tme' (did you mean 'convert_time'?)",
        f"{shown}:24: tool 'convert_time': unknown argument 'tme' (did you mean 'time'?)",
        f"{shown}:25: tool 'convert_time': argument 'target_timezone': 9 is not of type 'string'",
        f"{shown}:31: tool 'convert_time': missing required argument 'target_timezone'",
    ]
    assert result.stdout == ""


@pytest.mark.slow
def test_a_missing_reference_server_module_gets_its_install_command(project: Path) -> None:
    # -S: an interpreter without site-packages, where mcp_server_time is not installed
    write_mcp_json(project, servers([sys.executable, "-S", "-m", "mcp_server_time"])["mcpServers"])
    document = project / "docs" / "tasks" / "007_mistakes.md"
    document.write_text(MISTAKES.replace("server: tme", "server: time"))
    for argv in (
        ["convert_task", str(document), "--check", "--servers"],
        ["execute_task", "007"],
    ):
        result = runner.invoke(app, argv)
        assert result.exit_code == 4, result.output
        assert result.stderr.splitlines()[-1] == (
            f"  hint: mcp-server-time is not installed for {sys.executable}: "
            f"{sys.executable} -m pip install mcp-server-time"
        )


@pytest.mark.slow
def test_a_missing_reference_server_command_gets_its_install_command(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(project / "empty-bin"))
    write_mcp_json(project, {"time": {"command": "mcp-server-time"}})
    document = project / "docs" / "tasks" / "007_mistakes.md"
    document.write_text(MISTAKES.replace("server: tme", "server: time"))
    result = runner.invoke(app, ["convert_task", str(document), "--check", "--servers"])
    assert result.exit_code == 4, result.output
    assert result.stderr.splitlines() == [
        "MCP server 'time' failed to start: cannot run it: No such file or directory: "
        "mcp-server-time",
        "  hint: mcp-server-time is not installed (no command mcp-server-time): "
        "pip install mcp-server-time",
    ]
    assert json.loads((project / ".mcp.json").read_text())  # the config is left alone
