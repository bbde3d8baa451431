"""`claude-task init`: the files it writes, what it keeps, what it prints; the starter it writes
runs (pauses for the person, `record_step --done` completes it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claude_task_cli.cli.app import app
from claude_task_cli.samples import SAMPLES, SERVER_ENTRIES, sample_text

runner = CliRunner()


@pytest.fixture
def empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "new-project"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # claude-task itself not on it: the note shows
    return folder


def test_init_in_an_empty_folder_writes_three_files_and_says_what_to_run_next(
    empty: Path,
) -> None:
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    assert json.loads((empty / ".mcp.json").read_text()) == {
        "mcpServers": {
            "commands": {
                "command": "${CLAUDE_TASK_PYTHON:-python3}",
                "args": ["-m", "claude_task_cli.mcp.command_server"],
            },
            "claude-task": {"command": "claude-task", "args": ["serve"]},
        }
    }
    assert (empty / "docs" / "tasks" / "starter.md").read_text() == sample_text("starter")
    assert (empty / ".gitignore").read_text() == ".claude-task/\n"
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        "created   .mcp.json (added commands, claude-task)",
        "created   docs/tasks/starter.md (commands and tool calls through the built-in command "
        "server, a step for a person)",
        "created   .gitignore (ignores .claude-task/)",
    ]
    assert lines[3].startswith("note: claude-task is not on PATH")
    assert lines[4:9] == [
        "",
        "Next:",
        "  claude-task convert_task docs/tasks/starter.md --preview   # the steps, wave by wave; "
        "runs nothing",
        "  claude-task execute_task starter                           # runs it; pauses at the "
        "step for a person",
        "  claude-task record_step starter 2.1 --done                 # that step done: the run "
        "completes",
    ]
    assert lines[-1] == "  claude mcp add claude-task -- claude-task serve"


def test_a_second_init_changes_nothing_and_what_a_user_wrote_is_kept(empty: Path) -> None:
    mine = {
        "mcpServers": {
            "db": {"command": "db-server"},
            "commands": {"command": "/opt/venv/bin/claude-task-command-server"},
        },
        "other": 1,
    }
    (empty / ".mcp.json").write_text(json.dumps(mine))
    (empty / ".gitignore").write_text("node_modules/")  # no newline at the end
    (empty / "docs" / "tasks").mkdir(parents=True)
    (empty / "docs" / "tasks" / "starter.md").write_text("# My own starter\n")

    first = runner.invoke(app, ["init"])
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines()[:3] == [
        "updated   .mcp.json (added claude-task; kept your commands)",
        "kept      docs/tasks/starter.md (differs from the sample; left as it is)",
        "updated   .gitignore (ignores .claude-task/)",
    ]
    config = json.loads((empty / ".mcp.json").read_text())
    assert config["other"] == 1
    assert config["mcpServers"] == {
        **mine["mcpServers"],
        "claude-task": SERVER_ENTRIES["claude-task"],
    }
    assert (empty / ".gitignore").read_text() == "node_modules/\n.claude-task/\n"
    assert (empty / "docs" / "tasks" / "starter.md").read_text() == "# My own starter\n"

    files = sorted(p for p in empty.rglob("*") if p.is_file())
    before = {p: p.read_bytes() for p in files}
    second = runner.invoke(app, ["init", "--json"])
    assert second.exit_code == 0, second.output
    assert [(f["path"], f["action"]) for f in json.loads(second.stdout)["files"]] == [
        (".mcp.json", "unchanged"),
        ("docs/tasks/starter.md", "kept"),
        (".gitignore", "unchanged"),
    ]
    assert {p: p.read_bytes() for p in sorted(empty.rglob("*")) if p.is_file()} == before


def test_an_example_brings_its_servers_and_says_what_to_install(empty: Path) -> None:
    result = runner.invoke(app, ["init", "--example", "clock", "--json"])
    assert result.exit_code == 0, result.output
    done = json.loads(result.stdout)
    assert done["sample"] == "clock"
    assert set(json.loads((empty / ".mcp.json").read_text())["mcpServers"]) == {
        "commands", "claude-task", "time",
    }  # fmt: skip
    assert done["notes"][0] == (
        "this sample needs a server installed beside claude-task: pip install mcp-server-time"
    )
    assert done["next"][1] == {
        "command": "claude-task execute_task clock",
        "shows": "runs it; pauses at the step for a person",
    }
    assert done["claudeMcpAdd"] == "claude mcp add claude-task -- claude-task serve"
    assert (empty / "docs" / "tasks" / "clock.md").read_text() == sample_text("clock")


def test_an_unknown_example_names_the_near_one(empty: Path) -> None:
    result = runner.invoke(app, ["init", "--example", "clok"])
    assert result.exit_code == 2
    assert result.stderr == (
        "--example: no sample named 'clok' (did you mean 'clock'? samples: starter, clock, git)\n"
    )
    assert list(empty.iterdir()) == []


def test_a_broken_mcp_json_is_not_overwritten(empty: Path) -> None:
    (empty / ".mcp.json").write_text('{"mcpServers": {,}}')
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 2
    assert result.stderr == (
        ".mcp.json: not valid JSON (line 1: Expecting property name enclosed in double quotes); "
        "fix it, then run init again\n"
    )
    assert (empty / ".mcp.json").read_text() == '{"mcpServers": {,}}'


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_sample_converts_without_warnings(name: str, tmp_path: Path) -> None:
    path = tmp_path / SAMPLES[name].file_name
    path.write_text(sample_text(name))
    result = runner.invoke(app, ["convert_task", str(path), "--stdout"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    doc = json.loads(result.stdout)
    servers = {
        step["tool"]["server"]
        for task in doc["tasks"]
        for step in task["steps"]
        if step.get("tool") is not None
    }
    assert servers <= set(SAMPLES[name].servers)
