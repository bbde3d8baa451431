"""TASK as reports and task_status take it: every spelling of one document (id, stem, path, from
any directory of the project) reaches the same recorded run. `project.locate_document` itself is
tested with execute_task in tests/cli/test_cli_execute.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claude_task_cli.cli.app import app
from tests.report.regen_reports import DOCUMENTS, install

DEMO = DOCUMENTS[0]

runner = CliRunner()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    install(tmp_path, DEMO, tmp_path / ".claude-task" / "state.db")
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    return tmp_path


@pytest.mark.parametrize(
    ("cwd", "task"),
    [
        (".", "020"),
        (".", "20"),
        (".", "020_report_demo"),
        (".", "docs/tasks/020_report_demo.md"),
        ("src/pkg", "020"),
        ("src/pkg", "../../docs/tasks/020_report_demo.md"),
        ("docs/tasks", "020_report_demo.md"),
    ],
)
def test_every_spelling_finds_the_same_run(
    project: Path, monkeypatch: pytest.MonkeyPatch, cwd: str, task: str
) -> None:
    monkeypatch.chdir(project / cwd)
    result = runner.invoke(app, ["task_status", task, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["run_id"], data["steps_complete"]) == (1, 3)
    report = runner.invoke(app, ["generate_report", task, "task_2", "--stdout"])
    assert "run 1 of `" in report.stdout


def test_a_missing_file_is_one_line(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    result = runner.invoke(app, ["task_status", "docs/tasks/nope.md"])
    assert result.exit_code == 2
    assert result.stderr == "docs/tasks/nope.md: no such file\n"
