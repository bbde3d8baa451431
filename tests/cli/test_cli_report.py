"""generate_report and task_status through typer's CliRunner on a project holding a run recorded
by a real execution (tests/report/fixtures), plus one real process."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from claude_task_cli.cli.app import app
from claude_task_cli.cli.status_table import print_status
from claude_task_cli.convert.converter import convert_file
from claude_task_cli.report.status import completion_of
from tests.report.regen_reports import DOCUMENTS, GOLDEN, install

runner = CliRunner()
DEMO, GREEN = DOCUMENTS
GREEN_STATE = ".claude-task/green.db"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    install(tmp_path, DEMO, tmp_path / ".claude-task" / "state.db")  # the default database
    install(tmp_path, GREEN, tmp_path / GREEN_STATE)  # each run is run 1 of its database
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return tmp_path


def golden(name: str) -> str:
    return (GOLDEN / name).read_text(encoding="utf-8")


def test_all_reports_are_written_and_an_incomplete_run_exits_1(project: Path) -> None:
    result = runner.invoke(app, ["generate_report", "020"])
    assert result.exit_code == 1, result.output
    reports = project / "docs" / "reports"
    names = sorted(p.name for p in reports.iterdir())
    assert names == sorted(p.name for p in GOLDEN.glob("020_*.md"))
    for name in names:
        assert (reports / name).read_text(encoding="utf-8") == golden(name)
    assert "wrote docs/reports/020_final_summary.md" in result.stdout
    assert "020: INCOMPLETE — 3 of 8 steps complete (37.5%); run 1 (paused)" in result.stdout
    assert "  5 of 8 steps are not complete" in result.stdout


def test_a_complete_run_exits_0(project: Path) -> None:
    result = runner.invoke(
        app, ["generate_report", "021_all_green", "--all", "--state", GREEN_STATE]
    )
    assert result.exit_code == 0, result.output
    assert "021: COMPLETE — 2 of 2 steps complete (100.0%); run 1 (completed)" in result.stdout
    assert (project / "docs" / "reports" / "021_final_summary.md").read_text() == golden(
        "021_final_summary.md"
    )


@pytest.mark.parametrize("subtask", ["task_1", "1", "Task 1"])
def test_one_task_to_stdout(project: Path, subtask: str) -> None:
    result = runner.invoke(app, ["generate_report", "020", subtask, "--stdout"])
    assert result.exit_code == 1
    assert result.stdout == golden("020_task_1_commands.md")
    assert "task 1: INCOMPLETE — 2 of 4 steps complete (50.0%); run 1 (paused)" in result.stderr
    assert not (project / "docs" / "reports").exists()


def test_a_complete_task_of_an_incomplete_run_exits_0(project: Path) -> None:
    result = runner.invoke(
        app, ["generate_report", "021", "task_1", "--out", "out", "--state", GREEN_STATE]
    )
    assert result.exit_code == 0, result.output
    assert (project / "out" / "021_task_1_clock_and_shell.md").is_file()


def test_no_recorded_run_means_no_evidence_and_exit_1(project: Path) -> None:
    fresh = project / "docs" / "tasks" / "030_fresh.md"
    fresh.write_text("# Task 030: Fresh\n\n## Task 1: Only\n\n- [ ] 1.1 Nothing ran\n")
    (project / ".claude-task" / "state.db").unlink()
    result = runner.invoke(app, ["generate_report", "030"])
    assert result.exit_code == 1
    assert "030: INCOMPLETE — 0 of 1 step complete (0.0%); no run recorded" in result.stdout
    for report in (project / "docs" / "reports").iterdir():
        assert "No evidence recorded" in report.read_text()
    assert not (project / ".claude-task" / "state.db").exists()  # nothing created to look


def test_json_format(project: Path) -> None:
    result = runner.invoke(app, ["generate_report", "020", "--format", "json", "--stdout"])
    assert result.exit_code == 1
    documents = json.loads(result.stdout)
    assert [d.get("task", {}).get("id") for d in documents[:3]] == ["1", "2", "3"]
    assert documents[-1]["matrix"]["step_percent"] == 37.5
    written = runner.invoke(app, ["generate_report", "020", "2", "--format", "json"])
    data = json.loads(
        (project / "docs" / "reports" / "020_task_2_time_server_checks.json").read_text()
    )
    assert written.exit_code == 1
    assert [s["state"] for s in data["steps"]] == ["completed", "failed", "failed"]


def test_junit_and_the_github_summary(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = project / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = runner.invoke(
        app, ["generate_report", "020", "--junit", "build/junit.xml", "--github-summary"]
    )
    assert result.exit_code == 1
    root = ET.parse(project / "build" / "junit.xml").getroot()
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("8", "4", "1")
    text = summary.read_text()
    assert text.startswith("earlier step\n## Completion Matrix — 020")
    assert "**Verdict: INCOMPLETE**" in text
    assert "exited with 3; stderr:\n\n```text\nboom\n```\n" in text
    monkeypatch.delenv("GITHUB_STEP_SUMMARY")
    quiet = runner.invoke(
        app, ["generate_report", "021", "--github-summary", "--state", GREEN_STATE]
    )
    assert quiet.exit_code == 0
    assert "--github-summary: $GITHUB_STEP_SUMMARY is not set; nothing appended" in quiet.stderr


def test_templates_option_overrides_file_by_file(project: Path) -> None:
    (project / "mine").mkdir()
    (project / "mine" / "final_summary.md.j2").write_text("{{ matrix.verdict }} {{ doc.id }}\n")
    result = runner.invoke(app, ["generate_report", "020", "--templates", "mine"])
    assert result.exit_code == 1
    reports = project / "docs" / "reports"
    assert (reports / "020_final_summary.md").read_text() == "INCOMPLETE 020\n"
    assert (reports / "020_task_1_commands.md").read_text() == golden("020_task_1_commands.md")
    (project / "templates").mkdir()
    (project / "templates" / "final_summary.md.j2").write_text("project {{ doc.id }}\n")
    runner.invoke(app, ["generate_report", "020"])
    assert (reports / "020_final_summary.md").read_text() == "project 020\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["020", "task_1", "--all"], "task_1: give either SUBTASK or --all, not both"),
        (
            ["020", "task_9"],
            "task_9: no task '9' in docs/tasks/020_report_demo.md (tasks: 1, 2, 3)",
        ),
        (["999"], "999: no task document with that id or name in "),
        (["020", "--format", "xml"], "--format: 'xml': choose md or json"),
        (["020", "--templates", "absent"], "absent: no such templates directory"),
    ],
)
def test_input_errors_are_one_line_and_exit_2(project: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["generate_report", *args])
    assert result.exit_code == 2
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_broken_template_is_an_input_error(project: Path) -> None:
    (project / "templates").mkdir()
    (project / "templates" / "task_report.md.j2").write_text("ok\n{% if %}\n")
    result = runner.invoke(app, ["generate_report", "020", "1"])
    assert result.exit_code == 2
    assert "task_report.md.j2:2: TemplateSyntaxError" in result.stderr


# -- task_status --------------------------------------------------------------------------------


def test_task_status_json_is_the_matrix(project: Path) -> None:
    result = runner.invoke(app, ["task_status", "020", "--json"])
    assert result.exit_code == 0, result.output
    matrix = json.loads(golden("020_report_demo.status.json"))
    assert result.stdout == json.dumps(matrix, ensure_ascii=False, separators=(",", ":")) + "\n"
    beside = {p.name for p in (project / ".claude-task").iterdir()}
    assert {n for n in beside if not n.startswith(("state.db", "green.db"))} <= {".gitignore"}
    again = runner.invoke(app, ["task_status", "docs/tasks/020_report_demo.md", "--json"])
    assert again.stdout == result.stdout


def test_task_status_plain_lines(project: Path) -> None:
    result = runner.invoke(app, ["task_status", "020"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "020: Report evidence {{ 7*7 }} demo — run 1 paused — INCOMPLETE: 3/8 steps (37.5%), "
        "0/3 tasks (0.0%)"
    )
    assert any(
        line.startswith("  1.4        INCOMPLETE skipped         attempts 0  Echo what")
        and line.endswith("[blocked by 1.3]")
        for line in lines
    )
    assert any(
        line.startswith("task 3      INCOMPLETE awaiting_client 0/1 (0.0%)") for line in lines
    )


def test_task_status_without_a_run(project: Path) -> None:
    (project / ".claude-task" / "state.db").unlink()
    result = runner.invoke(app, ["task_status", "021", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert (data["run_id"], data["verdict"]) == (None, "INCOMPLETE")
    assert {s["state"] for s in data["steps"]} == {"not_run"}


def test_task_status_of_a_converted_json_document(project: Path) -> None:
    converted = project / "graph.json"
    converted.write_text(convert_file(project / "docs" / "tasks" / DEMO.name).to_json())
    result = runner.invoke(app, ["task_status", "graph.json", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["steps_total"] == 8


def test_the_rich_table_shows_document_text_literally(tmp_path: Path) -> None:
    document = tmp_path / "doc.md"
    document.write_text(
        "# Task 5: [red]x[/red]\n\n## Task 1: [bold]T[/bold]\n\n- [ ] 1.1 [link]s\n"
    )
    matrix = completion_of(document, convert_file(document), state_path=tmp_path / "none.db")
    buffer = io.StringIO()
    print_status(matrix, Console(file=buffer, force_terminal=True, width=160, color_system=None))
    text = buffer.getvalue()
    assert "[bold]T[/bold]" in text
    assert "[link]s" in text
    assert "no evidence recorded" in text


@pytest.mark.slow
def test_task_status_in_a_real_process(project: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "claude_task_cli", "task_status", "020", "--json"],
        capture_output=True, text=True, cwd=project, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["verdict"] == "INCOMPLETE"


def _record(project: Path, step: str, result: object) -> None:
    from claude_task_cli.operations import record_step

    record_step("020", step, result=result, start=project)


def test_a_failed_check_recorded_over_stays_incomplete_everywhere(project: Path) -> None:
    """The audit's G1: results recorded for every failed step, 2.2's still failing its `expect`."""
    for step, result in (("1.3", {"exit_code": 0}), ("1.4", "x"), ("2.3", {}), ("3.1", True)):
        _record(project, step, result)
    _record(project, "2.2", {"time_difference": "+9.0h"})
    report = runner.invoke(app, ["generate_report", "020", "--junit", "out/junit.xml"])
    assert report.exit_code == 1, report.output
    assert "020: INCOMPLETE — 7 of 8 steps complete (87.5%)" in report.stdout
    assert "  1 check failed\n" in report.stdout
    # the parts that are 0 are left out
    assert "  4 steps completed without a tool call by the engine (4 recorded by the client)\n" in (
        report.stdout
    )
    assert ET.parse(project / "out" / "junit.xml").getroot().get("failures") == "1"
    status = json.loads(runner.invoke(app, ["task_status", "020", "--json"]).stdout)
    rows = {s["id"]: s for s in status["steps"]}
    assert (rows["2.2"]["state"], rows["2.2"]["source"]) == ("failed", "client")
    assert rows["2.2"]["pause_reason"]["type"] == "verificationFailed"
    assert rows["2.2"]["pause_reason"]["actual"] == "+9.0h"
    assert rows["1.3"]["pause_reason"] is None
    assert status["complete_by_client"] == 4
    lines = runner.invoke(app, ["task_status", "020"]).stdout.splitlines()
    row = next(line for line in lines if line.startswith("  1.3        COMPLETE   completed "))
    assert row.endswith(" (recorded by the client)")
    assert "  4 steps completed without a tool call by the engine" in "\n".join(lines)
    document = project / "docs" / "tasks" / DEMO.name
    matrix = completion_of(document, convert_file(document, f"docs/tasks/{DEMO.name}"))
    buffer = io.StringIO()
    print_status(matrix, Console(file=buffer, force_terminal=True, width=200, color_system=None))
    assert "COMPLETE (recorded by the client)" in buffer.getvalue()
    assert "4 steps completed without a tool call by the engine" in buffer.getvalue()


def test_regenerating_after_a_task_is_renamed_removes_its_old_report(project: Path) -> None:
    """G3: docs/reports must not keep 020_task_1_commands.md beside the renamed task's report."""
    reports = project / "docs" / "reports"
    reports.mkdir(parents=True)
    for name in ("020_task_9_gone.md", "020_task_1_commands.json", "notes.md", "021_task_1_x.md"):
        (reports / name).write_text("kept?")
    assert runner.invoke(app, ["generate_report", "020"]).exit_code == 1
    assert not (reports / "020_task_9_gone.md").exists()
    document = project / "docs" / "tasks" / DEMO.name
    text = document.read_text(encoding="utf-8")
    document.write_text(text.replace("020_task_1_commands.md", "020_task_1_shell_work.md"))
    result = runner.invoke(app, ["generate_report", "020"])
    assert result.exit_code == 1, result.output
    assert "wrote docs/reports/020_task_1_shell_work.md" in result.stdout
    assert "removed docs/reports/020_task_1_commands.md (a stale report of this document)" in (
        result.stdout
    )
    names = sorted(p.name for p in reports.iterdir())
    assert names == [
        "020_final_summary.md",
        "020_task_1_commands.json",  # another format: left alone
        "020_task_1_shell_work.md",
        "020_task_2_time_server_checks.md",
        "020_task_3_a_person_reviews.md",
        "021_task_1_x.md",
        "notes.md",
    ]
    one = runner.invoke(app, ["generate_report", "020", "2"])  # one task: nothing removed
    assert "removed" not in one.stdout


def test_task_status_shows_control_characters_without_acting_on_them(tmp_path: Path) -> None:
    """A title or a tool's error holding an escape sequence is shown, not sent to the terminal."""
    document = tmp_path / "doc.md"
    document.write_text(
        "# Task 5: Clear\x1b[2J\n\n## Task 1: Bell\x07\n\n- [ ] 1.1 Red \x1b[31mtext\n"
    )
    result = runner.invoke(app, ["task_status", str(document), "--state", str(tmp_path / "s.db")])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout
    assert "\x07" not in result.stdout
    assert "Clear\\x1b[2J" in result.stdout
    assert "Red \\x1b[31mtext" in result.stdout
    buffer = io.StringIO()
    matrix = completion_of(document, convert_file(document), state_path=tmp_path / "s.db")
    print_status(matrix, Console(file=buffer, force_terminal=True, width=160, color_system=None))
    assert "\x1b[31mtext" not in buffer.getvalue()
    assert "Red \\x1b[31mtext" in buffer.getvalue()


@pytest.mark.slow
@pytest.mark.parametrize(
    "args", [["task_status", "020", "--json"], ["generate_report", "020"], ["--help"]]
)
def test_a_reader_that_went_away_stops_it_quietly(project: Path, args: list[str]) -> None:
    """Output piped into a reader that closed it (`| head`): exit 141 as a tool killed by
    SIGPIPE, nothing on stderr; what it wrote is written."""
    read, write = os.pipe()
    os.close(read)
    with os.fdopen(write, "wb") as closed:
        done = subprocess.run(
            [sys.executable, "-m", "claude_task_cli", *args],
            stdout=closed,
            stderr=subprocess.PIPE,
            text=True,
            cwd=project,
            timeout=60,
            check=False,
        )
    if args == ["--help"]:  # click's own handling, before any command: quiet too
        assert (done.returncode, done.stderr) == (1, "")
        return
    assert (done.returncode, done.stderr) == (141, "")
    if args[0] == "generate_report":
        assert len(list((project / "docs" / "reports").glob("*.md"))) > 1
