"""execute_task and record_step through the CLI, against real MCP servers over stdio."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claude_task_cli.cli.app import app
from claude_task_cli.errors import InputError
from claude_task_cli.project import locate_document
from tests.support import SAMPLE, servers, write_mcp_json

runner = CliRunner()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "docs" / "tasks").mkdir(parents=True)
    shutil.copy(SAMPLE, tmp_path / "docs" / "tasks" / SAMPLE.name)
    (tmp_path / "README.md").write_text("sample project\n")
    (tmp_path / ".mcp.json").write_text(json.dumps(servers()))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.slow
def test_run_pauses_for_the_client_then_a_recorded_result_completes_it(project: Path) -> None:
    result = runner.invoke(app, ["execute_task", "010", "--json"])
    assert result.exit_code == 3, result.output
    run = json.loads(result.stdout)
    assert (run["status"], run["runStatus"]) == ("paused", "paused")
    assert run["pauseReasons"] == [
        {
            "type": "awaitingClient",
            "blockedStep": "3.1",
            "guidance": run["pauseReasons"][0]["guidance"],
            "suggestedTool": None,
        }
    ]
    assert run["progress"]["schemaVersion"]
    assert run["progress"]["goal"].startswith("A small")
    statuses = {s["name"]: s["status"] for s in run["progress"]["steps"]}
    assert statuses == {
        "1.1": "completed", "1.2": "completed", "2.1": "completed",
        "2.2": "completed", "2.3": "completed", "3.1": "awaiting_client",
    }  # fmt: skip
    results = {r["step_id"]: r for r in run["results"]}
    assert results["1.1"]["result"]["timezone"] == "UTC"  # a real answer from mcp-server-time
    assert results["2.2"]["result"]["stdout"] == "README present\n"  # run in the project root
    assert results["2.3"]["result"]["stdout"].startswith("UTC now: 20")  # the placeholder resolved
    assert run["handoff"]["remaining"][0]["step_id"] == "3.1"

    recorded = runner.invoke(app, ["record_step", "010", "3.1", "--result", '{"confirmed": true}'])
    assert recorded.exit_code == 0, recorded.output
    assert recorded.stdout.strip() == "recorded the result of step 3.1; run 1 is completed"
    assert (project / ".claude-task" / "state.db").is_file()


@pytest.mark.slow
def test_plain_output_shows_the_handoff_narrative(project: Path) -> None:
    result = runner.invoke(app, ["execute_task", "docs/tasks/010_time_and_commands.md"])
    assert result.exit_code == 3
    assert "run 1 paused: 1 awaiting_client, 5 completed" in result.stdout
    assert "Remaining:\n- 3.1 A person confirms the Tokyo time looks right" in result.stdout
    done = result.stdout.split("Done:")[1].split("Remaining:")[0]
    assert "README present" in done  # a done step's result, read back for the handoff
    assert "claude-task record_step docs/tasks/010_time_and_commands.md 3.1 --done" in result.stdout
    assert "completed 1.1" in result.stderr  # progress lines go to stderr


@pytest.mark.slow
def test_a_selection_says_the_run_is_still_open_and_the_dry_run_plans_the_rest(
    project: Path,
) -> None:
    result = runner.invoke(app, ["execute_task", "010", "--step", "1.2"])  # 1.1, then 1.2
    assert result.exit_code == 0, result.output
    assert "selection completed, run 1 paused: 2 completed, 4 pending" in result.stdout
    planned = runner.invoke(app, ["execute_task", "010", "--dry-run"])
    assert planned.exit_code == 0, planned.output
    steps = [line.split()[2] for line in planned.stdout.splitlines() if line.startswith("wave")]
    assert sorted(steps) == ["2.1", "2.2", "2.3", "3.1"]  # resumed: 1.1 and 1.2 do not run again
    fresh = runner.invoke(app, ["execute_task", "010", "--dry-run", "--no-resume"])
    assert [line.split()[2] for line in fresh.stdout.splitlines()][:2] == ["1.1", "1.2"]


def test_a_recorded_result_that_fails_its_expect_fails_the_step(project: Path) -> None:
    (project / ".mcp.json").write_text(json.dumps(servers(["/bin/false"])))
    assert runner.invoke(app, ["execute_task", "010", "-q"]).exit_code == 4  # no time server
    wrong = runner.invoke(
        app, ["record_step", "010", "1.2", "--result", '{"time_difference": "+8.0h"}']
    )
    assert wrong.exit_code == 1, wrong.output
    assert "step 1.2, which fails its verification" in wrong.stdout
    assert "the step is failed" in wrong.stdout
    right = runner.invoke(
        app, ["record_step", "010", "1.2", "--result", '{"time_difference": "+9.0h"}']
    )
    assert right.exit_code == 0, right.output
    assert right.stdout.startswith("recorded the result of step 1.2; run 1 is failed")


def test_dry_run_calls_nothing(project: Path) -> None:
    (project / ".mcp.json").write_text(json.dumps(servers(["/bin/false"])))
    result = runner.invoke(app, ["execute_task", "010", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert (
        result.stdout.splitlines()[0]
        == 'wave 1  1.1      time.get_current_time {"timezone": "UTC"}'
    )
    assert "wave 3  2.3      commands.run_command" in result.stdout
    assert "<result of step 1.1 at /datetime>" in result.stdout
    assert not (project / ".claude-task").exists() or not any(
        p.name == "state.db-wal" for p in (project / ".claude-task").iterdir()
    )


@pytest.mark.slow
def test_a_server_that_does_not_start_is_an_environment_error(project: Path) -> None:
    crash = [sys.executable, "-c", "import sys; sys.stderr.write('boom\\n'); sys.exit(1)"]
    (project / ".mcp.json").write_text(json.dumps(servers(crash)))
    result = runner.invoke(app, ["execute_task", "010"])
    assert result.exit_code == 4
    assert "time" in result.stderr
    assert "boom" in result.stderr
    assert "Traceback" not in result.output


def test_an_undeclared_server_is_refused_before_anything_runs(project: Path) -> None:
    write_mcp_json(project, {})
    result = runner.invoke(app, ["execute_task", "010"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "docs/tasks/010_time_and_commands.md:21: server 'time' is not declared in .mcp.json "
        "(it declares none)"
    )


def test_unknown_task_is_one_line(project: Path) -> None:
    result = runner.invoke(app, ["execute_task", "999"])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("999: no task document with that id or name in ")


def test_record_step_needs_exactly_one_outcome(project: Path) -> None:
    result = runner.invoke(app, ["record_step", "010", "3.1"])
    assert result.exit_code == 2
    assert result.stderr == "give exactly one of --done, --result or --fail\n"


def test_locate_by_path_stem_id_and_title(tmp_path: Path) -> None:
    tasks = tmp_path / "docs" / "tasks"
    tasks.mkdir(parents=True)
    (tasks / "003_test_mcp.md").write_text("# Task 003: A\n")
    (tasks / "notes.md").write_text("\ufeff# Task 42: Titled only\n")
    (tasks / "007_a.md").write_text("# A\n")
    (tasks / "007_b.md").write_text("# B\n")
    deep = tmp_path / "src" / "pkg"
    deep.mkdir(parents=True)
    assert locate_document("003_test_mcp", deep) == tasks / "003_test_mcp.md"
    assert locate_document("3", deep) == tasks / "003_test_mcp.md"
    assert locate_document("003", deep) == tasks / "003_test_mcp.md"
    assert locate_document("42", deep) == tasks / "notes.md"
    assert locate_document(str(tasks / "notes.md"), deep) == tasks / "notes.md"
    with pytest.raises(InputError, match=r"ambiguous: matches 007_a\.md, 007_b\.md"):
        locate_document("007", deep)
    with pytest.raises(InputError, match="no such file"):
        locate_document("docs/tasks/missing.md", deep)


def test_a_converted_json_document_can_be_executed(project: Path) -> None:
    runner.invoke(app, ["convert_task", "docs/tasks/010_time_and_commands.md", "-o", "graph.json"])
    result = runner.invoke(app, ["execute_task", "graph.json", "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert (plan["dryRun"], plan["runId"]) == (True, None)
    assert [p["step_id"] for p in plan["plan"]][:2] == ["1.1", "1.2"]
    (project / "bad.json").write_text("{}")
    bad = runner.invoke(app, ["execute_task", "bad.json"])
    assert bad.exit_code == 2
    assert bad.stderr.startswith("bad.json: not a converted task document")


@pytest.mark.slow
def test_console_script_runs_a_document_in_a_real_process(project: Path) -> None:
    script = shutil.which("claude-task") or str(Path(sys.executable).parent / "claude-task")
    done = subprocess.run(
        [script, "execute_task", "010", "--json", "-q"],
        capture_output=True, text=True, timeout=120, check=False, cwd=project,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert json.loads(done.stdout)["pauseReasons"][0]["type"] == "awaitingClient"


ECHO_CONTAINS = """# Task 011: Round trip

### Task 1: Echo

**Implementation Steps**:

- [ ] 1.1 Echo a greeting
  ```mcp
  server: commands
  tool: run_command
  args:
    command: [echo, hello world]
  expect:
    - path: stdout
      contains: world
  ```
"""


def test_an_expectation_without_equals_holds_after_the_json_round_trip(project: Path) -> None:
    # schema 1.0 wrote `"equals": null` for every expectation, which read back as "equals null":
    # this `contains` check failed when the run came from the converted .json file
    (project / "docs" / "tasks" / "011_round_trip.md").write_text(ECHO_CONTAINS)
    converted = runner.invoke(
        app, ["convert_task", "docs/tasks/011_round_trip.md", "-o", "rt.json"]
    )
    assert converted.exit_code == 0, converted.output
    written = json.loads((project / "rt.json").read_text())
    assert written["tasks"][0]["steps"][0]["tool"]["expect"] == [
        {"path": "stdout", "contains": "world", "matches": None, "exists": None, "exit_code": None}
    ]
    result = runner.invoke(app, ["execute_task", "rt.json", "--json"])
    assert result.exit_code == 0, result.output
    (step,) = json.loads(result.stdout)["results"]
    assert (step["status"], step["checks"][0]["passed"]) == ("completed", True)
    written["schema_version"] = "1.0"
    (project / "old.json").write_text(json.dumps(written))
    old = runner.invoke(app, ["execute_task", "old.json"])
    assert old.exit_code == 2
    assert old.stderr.startswith(
        "old.json: converted with schema_version 1.0, this release reads 2.0"
    )


@pytest.mark.slow
def test_task_status_after_a_run_and_after_a_recorded_step(project: Path) -> None:
    assert runner.invoke(app, ["execute_task", "010"]).exit_code == 3  # paused for the client
    after_run = runner.invoke(app, ["task_status", "010", "--json"])
    assert after_run.exit_code == 0, after_run.output
    assert json.loads(after_run.stdout)["steps_complete"] == 5

    recorded = ["record_step", "010", "3.1", "--result", '{"confirmed": true}']
    assert runner.invoke(app, recorded).exit_code == 0
    after_record = runner.invoke(app, ["task_status", "010", "--json"])
    assert json.loads(after_record.stdout)["verdict"] == "COMPLETE"
