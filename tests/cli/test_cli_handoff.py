"""The handoff execute_task prints when a run stops short, worded per outcome, against the real
command server: a failed run says what failed and what its command wrote on stderr and how to go
on; a paused run names the record_step command for each step that waits on the client."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from claude_task_cli.cli.app import app
from tests.support import COMMAND_SERVER, stdio, write_mcp_json

runner = CliRunner()

DOCUMENT = """# Try

**Objective**: See the words.

## Implementation Tasks

### Task 1: Build

**Implementation Steps**:
- [ ] 1.1 Check a file
  ```bash
  echo "looking for VERSION"
  test -f VERSION || { echo "no VERSION here" >&2; exit 1; }
  ```
- [ ] 1.2 Use it
  ```bash
  cat VERSION
  ```

### Task 2: Review

**Implementation Steps**:
- [ ] 2.1 A person reads it
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "docs" / "tasks").mkdir(parents=True)
    (tmp_path / "docs" / "tasks" / "try.md").write_text(DOCUMENT)
    write_mcp_json(tmp_path, {"commands": stdio(COMMAND_SERVER)})
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.slow
def test_a_failed_then_a_paused_run_each_say_what_happened_and_what_to_do(project: Path) -> None:
    failed = runner.invoke(app, ["execute_task", "try", "-q"])
    assert failed.exit_code == 1, failed.output
    assert "\nRun 1 of document try failed: 0 of 3 steps done; 1 failed, 2 skipped.\n" in (
        failed.stdout
    )
    assert "  It wrote on stderr:\n    no VERSION here\n" in failed.stdout
    # a script's later lines stand under its first
    assert (
        '    $ echo "looking for VERSION"\n'
        '      test -f VERSION || { echo "no VERSION here" >&2; exit 1; }\n'
    ) in failed.stdout
    assert failed.stdout.endswith(
        "\nFix the cause, then claude-task execute_task try runs the steps that failed or were "
        "skipped again (completed ones do not run twice).\n"
    )
    assert "record_step" not in failed.stdout  # nothing waits on the client

    (project / "VERSION").write_text("1.0.0\n")
    paused = runner.invoke(app, ["execute_task", "try", "-q"])
    assert paused.exit_code == 3, paused.output
    assert "\nRun 1 of document try is paused: 2 of 3 steps done; 1 awaiting the client.\n" in (
        paused.stdout
    )
    assert (
        "- 2.1 A person reads it [awaiting_client]\n"
        "  For the client: do this step, then record it as done (or its result, or why it could "
        "not be done).\n"
        "  2.1: A person reads it\n"
        "  Record it: claude-task record_step try 2.1 --done [--note TEXT] (or --result "
        "JSON|@FILE, or --fail TEXT)\n"
    ) in paused.stdout
    assert paused.stdout.endswith("\nRecording what waits completes the run.\n")

    recorded = runner.invoke(app, ["record_step", "try", "2.1", "--done"])
    assert recorded.stdout == "recorded step 2.1 as done; run 1 is completed\n"
