"""Verification means what it says, through `execute_task` and the real command server: a shell
block runs as one script under `bash -e -o pipefail` (or `sh -e`), a failing line fails the step
and is named, a step result cannot inject shell, a failure is never reported as a mere pause, and
a failure stops what depends on it — or, with --fail-fast, everything."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from claude_task_cli.cli.app import app
from tests.support import COMMAND_SERVER, stdio, write_mcp_json

runner = CliRunner()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_mcp_json(tmp_path, {"cmd": stdio(COMMAND_SERVER)})
    monkeypatch.chdir(tmp_path)
    return tmp_path


def execute(project: Path, body: str, *options: str) -> tuple[int, dict[str, Any], str]:
    """Run `body` as a document: the exit code, the results by step, the summary's first line."""
    (project / "task.md").write_text(f"# Task 60: Checks\n\n### Task 1: Checks\n\n{body}")
    ran = runner.invoke(app, ["execute_task", "task.md", "--json", *options])
    document = json.loads(ran.stdout)
    return ran.exit_code, {r["step_id"]: r for r in document["results"]}, ran.stdout


FAILING_LINE = """- [ ] 1.1 A check whose first line fails
  ```bash
  echo checking
  false
  echo "all good"
  ```
- [ ] 1.2 [P] A failing pipeline
  - Depends on: none
  ```bash
  false | cat
  echo "all good"
  ```
- [ ] 1.3 [P] An sh block
  - Depends on: none
  ```sh
  [ -d / ] && echo "sh is here"
  test -e /no/such/file
  echo never
  ```
"""


@pytest.mark.slow
def test_a_failing_line_fails_the_step_and_is_named(project: Path) -> None:
    code, results, _ = execute(project, FAILING_LINE)
    assert code == 1
    first = results["1.1"]
    assert first["status"] == "failed"
    assert first["result"]["stdout"] == "checking\n"  # "all good" never ran
    assert first["result"]["exit_code"] == 1
    assert first["error"] == "'false' at line 8 (the bash block at line 6) exited 1"
    pipeline = results["1.2"]
    assert pipeline["status"] == "failed"
    assert pipeline["result"]["stdout"] == ""
    assert pipeline["error"].startswith("'false | cat' at line 14 ")
    sh = results["1.3"]
    assert sh["status"] == "failed"
    assert sh["result"]["stdout"] == "sh is here\n"
    assert sh["error"] == "'test -e /no/such/file' at line 21 (the sh block at line 19) exited 1"


@pytest.mark.slow
def test_the_dry_run_shows_each_script_as_written(project: Path) -> None:
    (project / "task.md").write_text(f"# Task 60: Checks\n\n### Task 1: Checks\n\n{FAILING_LINE}")
    planned = runner.invoke(app, ["execute_task", "task.md", "--dry-run"])
    assert planned.exit_code == 0, planned.output
    assert planned.stdout.splitlines()[:5] == [
        "wave 1  1.1      run as one script under bash -e -o pipefail:",
        "                 | echo checking",
        "                 | false",
        '                 | echo "all good"',
        "wave 1  1.2      run as one script under bash -e -o pipefail:",
    ]
    assert "wave 1  1.3      run as one script under sh -e:" in planned.stdout
    assert planned.stdout.splitlines()[-1].startswith(
        "on a failure: the steps that depend on it are skipped; the others still run"
    )
    fast = runner.invoke(app, ["execute_task", "task.md", "--dry-run", "--fail-fast"])
    assert fast.stdout.splitlines()[-1] == (
        "on a failure: the run stops there (--fail-fast); no step starts after it"
    )


INJECTION = """- [ ] 1.1 A result that looks like shell
  ```mcp
  server: cmd
  tool: run_command
  args:
    command: [printf, "%s", "'; touch pwned; '"]
  ```
- [ ] 1.2 Placed into a shell string
  ```mcp
  server: cmd
  tool: run_command
  args:
    command: "echo '${step:1.1/stdout}' > echoed.txt"
  ```
- [ ] 1.3 Where no quoting is sure
  - Depends on: 1.1
  ```mcp
  server: cmd
  tool: run_command
  args:
    command: "cat <<EOF > heredoc.txt\\n${step:1.1/stdout}\\nEOF"
  ```
"""


@pytest.mark.slow
def test_a_result_placed_into_a_shell_string_runs_no_shell(project: Path) -> None:
    code, results, _ = execute(project, INJECTION)
    assert results["1.2"]["status"] == "completed"
    assert (project / "echoed.txt").read_text() == "'; touch pwned; '\n"
    assert not (project / "pwned").exists()
    refused = results["1.3"]
    assert refused["status"] == "paused"
    assert refused["pause_reason"]["type"] == "invalidParams"
    [problem] = refused["pause_reason"]["problems"]
    assert problem.startswith("command: ${step:1.1/stdout} sits inside a here-document")
    assert not (project / "heredoc.txt").exists()  # nothing was called
    assert code == 3


FAILED_AND_PAUSED = """- [ ] 1.1 [P] A check that fails
  ```bash
  exit 4
  ```
- [ ] 1.2 [P] A step for a person
  - Look at the screen
- [ ] 1.3 [P] An independent check
  ```bash
  echo fine
  ```
"""


@pytest.mark.slow
def test_a_failure_beside_a_pause_exits_1_and_the_summary_says_both(project: Path) -> None:
    (project / "task.md").write_text(
        f"# Task 61: Both\n\n### Task 1: Checks\n\n{FAILED_AND_PAUSED}"
    )
    ran = runner.invoke(app, ["execute_task", "task.md"])
    assert ran.exit_code == 1, ran.output
    assert ran.stdout.splitlines()[0] == (
        "run 1 failed and paused: 1 awaiting_client, 1 completed, 1 failed"
    )


POLICY = """- [ ] 1.1 Fails first
  ```bash
  exit 1
  ```
- [ ] 1.2 Depends on it by document order
  ```bash
  echo dependent >> ran.txt
  ```

### Task 2: Independent

**Depends on**: none

- [ ] 2.1 [P] One
  ```bash
  echo 2.1 >> ran.txt
  ```
- [ ] 2.2 [P] Its sibling
  ```bash
  echo 2.2 >> ran.txt
  ```
"""


@pytest.mark.slow
def test_a_failure_stops_what_depends_on_it_and_fail_fast_stops_everything(
    project: Path,
) -> None:
    code, results, _ = execute(project, POLICY, "--concurrency", "1")
    assert code == 1
    statuses = {step: r["status"] for step, r in results.items()}
    assert statuses == {"1.1": "failed", "1.2": "skipped", "2.1": "completed", "2.2": "completed"}
    assert sorted((project / "ran.txt").read_text().split()) == ["2.1", "2.2"]
    (project / "ran.txt").unlink()
    code, results, _ = execute(project, POLICY, "--concurrency", "1", "--fail-fast", "--no-resume")
    assert code == 1
    statuses = {step: r["status"] for step, r in results.items()}
    assert statuses == {"1.1": "failed", "1.2": "skipped", "2.1": "skipped", "2.2": "skipped"}
    assert results["2.1"]["error"] == "not run: step 1.1 failed and --fail-fast stops there"
    assert not (project / "ran.txt").exists()
