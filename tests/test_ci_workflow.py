"""The CI recipe of docs/ci.md: the example workflow passes actionlint, and its steps, played as
GitHub Actions plays them (a failed step skips the next ones unless they say `if: always()`),
fail the job on an incomplete run while still writing the reports, the JUnit file and the summary.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import REPO

WORKFLOW = REPO / "docs" / "ci" / "claude-task.yml"
BIN = Path(sys.executable).parent

CHECKS = """# Checks

## Task 1: The build

- [ ] 1.1 The sources are there
  ```bash
  test -f README.md
  ```
- [ ] 1.2 The version is released
  ```mcp
  server: commands
  tool: run_command
  args:
    command: cat VERSION
  expect:
    - path: stdout
      equals: "1.0.0\\n"
  ```
"""


def steps() -> list[dict[str, Any]]:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    (job,) = workflow["jobs"].values()
    return list(job["steps"])


def test_the_workflow_passes_actionlint() -> None:
    actionlint = shutil.which("actionlint", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    assert actionlint is not None, "actionlint is a development dependency: bash scripts/setup.sh"
    done = subprocess.run(
        [actionlint, "-no-color", str(WORKFLOW)], capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_reports_are_published_whatever_the_run_did() -> None:
    names = [step.get("name") or step.get("uses") for step in steps()]
    execute = next(i for i, s in enumerate(steps()) if "execute_task" in s.get("run", ""))
    for step in steps()[execute + 1 :]:
        assert step.get("if") == "always()", step
    report = steps()[execute + 1]
    assert "--junit" in report["run"]
    assert "--github-summary" in report["run"]
    uses = {step["uses"].split("@")[0]: step for step in steps() if "uses" in step}
    assert uses["actions/upload-artifact"]["with"]["path"] == "${{ env.REPORTS }}"
    assert uses["mikepenz/action-junit-report"]["with"]["report_paths"].endswith("/junit.xml")
    assert names.index("Check the documents against .mcp.json and the servers' tools") < execute


def play(project: Path, summary: Path) -> list[tuple[str, str]]:
    """Each `run` step of the job in `project` (installing skipped: the tools are here), as
    GitHub plays them; (name, outcome) per step: success, failure or skipped."""
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    (job,) = workflow["jobs"].values()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_TASK_PYTHON")}
    env.update(job["env"])
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", GITHUB_STEP_SUMMARY=str(summary))
    failed = False
    outcomes = []
    for step in job["steps"]:
        if "run" not in step or step["name"].startswith("Install"):
            continue
        if failed and step.get("if") != "always()":
            outcomes.append((step["name"], "skipped"))
            continue
        done = subprocess.run(
            ["bash", "-e", "-c", step["run"]], cwd=project, env=env, capture_output=True,
            text=True, timeout=300, check=False,
        )  # fmt: skip
        failed = failed or done.returncode != 0
        outcomes.append((step["name"], "failure" if done.returncode else "success"))
    return outcomes


@pytest.mark.slow
def test_an_incomplete_run_fails_the_job_and_still_reports(tmp_path: Path) -> None:
    project = tmp_path / "project"
    init = subprocess.run(
        [str(BIN / "claude-task"), "init", str(project)], capture_output=True, check=False
    )
    assert init.returncode == 0, init.stderr
    (project / "README.md").write_text("a project\n")
    (project / "VERSION").write_text("0.9.0\n")
    (project / "docs" / "tasks" / "checks.md").write_text(CHECKS)
    summary = tmp_path / "summary.md"

    assert play(project, summary) == [
        ("Check the documents against .mcp.json and the servers' tools", "success"),
        ("Execute", "failure"),
        ("Reports, also when the run failed or paused", "failure"),  # not COMPLETE: exit 1
    ]
    junit = (project / "build" / "reports" / "junit.xml").read_text()
    assert 'failures="1"' in junit
    assert (project / "build" / "reports" / "checks_final_summary.md").is_file()
    shown = summary.read_text()
    assert "INCOMPLETE" in shown
    assert "- 1 check failed\n" in shown
    # the failure as a reader of the summary page sees it, once escaped, with its stderr when any
    assert (
        "### Failed steps\n\n**1.2 The version is released** — verification failed: stdout "
        "equals '1.0.0\\n' (actual: '0.9.0\\n')\n"
    ) in shown

    (project / "VERSION").write_text("1.0.0\n")  # the fix; a new job starts from a fresh state
    shutil.rmtree(project / ".claude-task")
    assert [outcome for _name, outcome in play(project, summary)] == ["success"] * 3
    assert 'failures="0"' in (project / "build" / "reports" / "junit.xml").read_text()
