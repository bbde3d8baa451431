"""The board's commands through the CLI: import, claim, move, events, settings, task_status's
board, and work and quick against real MCP servers over stdio."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claude_task_cli.cli.app import app
from claude_task_cli.store import Store
from claude_task_cli.store.urls import parse_url
from tests.support import write_mcp_json

runner = CliRunner()
UTC = '{"timezone": "UTC"}'

PLAN = """# Task 950: Board plan

## Implementation Tasks

### Task 1: Passes

**Depends on**: none

**Implementation Steps**:
- [ ] 1.1 Succeed
  ```bash
  echo fine
  ```

### Task 2: Fails

**Depends on**: none

**Implementation Steps**:
- [ ] 2.1 Fail
  ```bash
  exit 3
  ```

### Task 3: Needs a person

**Depends on**: none

**Implementation Steps**:
- [ ] 3.1 A person looks at it

### Task 4: After the first

**Depends on**: Task 1

**Implementation Steps**:
- [ ] 4.1 Succeed too
  ```bash
  echo also fine
  ```
"""


def _project(root: Path, monkeypatch: pytest.MonkeyPatch, url: str) -> Path:
    (root / ".git").mkdir()
    (root / "docs" / "tasks").mkdir(parents=True)
    (root / "docs" / "tasks" / "950_plan.md").write_text(PLAN, encoding="utf-8")
    write_mcp_json(root)
    monkeypatch.chdir(root)
    monkeypatch.setenv("CLAUDE_TASK_DB", url)
    monkeypatch.setenv("CLAUDE_TASK_REPOSITORY", "repo")
    return root


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Path:
    """A project with the plan and servers, its board on each engine."""
    return _project(tmp_path, monkeypatch, db_url)


@pytest.fixture
def sqlite_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The same project on SQLite only: for what is the same on both engines (the calls)."""
    return _project(tmp_path, monkeypatch, f"sqlite:///{tmp_path / 'state.db'}")


def _json(*args: str, code: int = 0) -> object:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)


def _states(document: str = "950") -> dict[str, str]:
    board = _json("task_status")
    assert isinstance(board, dict)
    found = {}
    for entry in board["documents"]:
        for state, tasks in entry["states"].items():
            found.update({t["number"]: state for t in tasks})
    return found


def test_import_claim_move_and_events(project: Path) -> None:
    preview = _json("import", "950", "--preview")
    assert preview["documents"][0]["created"] == ["1", "2", "3", "4"]  # type: ignore[index]
    assert preview["documents"][0]["waves"] == [["1", "2", "3"], ["4"]]  # type: ignore[index]
    assert _json("events") == []  # a preview records nothing
    assert runner.invoke(app, ["import", "950"]).exit_code == 0
    assert set(_states().values()) == {"backlog"}
    nothing = _json("claim", code=5)
    assert nothing == {"claimed": False, "worker": nothing["worker"], "reason": "nothing is ready"}  # type: ignore[index]
    assert runner.invoke(app, ["move", "950", "1", "ready", "--reason", "go"]).exit_code == 0
    claimed = _json("claim", "--worker", "agent-1")
    assert claimed == {
        "claimed": True, "document": "docs/tasks/950_plan.md", "repository": "repo",
        "task": "1", "title": "Passes", "priority": None, "attempt": 1, "max_attempts": 3,
        "worker": "agent-1", "lease_until": claimed["lease_until"],  # type: ignore[index]
    }  # fmt: skip
    refused = runner.invoke(app, ["move", "950", "1", "done"])
    assert refused.exit_code == 2
    assert "refused by the review rule" in refused.stderr
    refused = runner.invoke(app, ["move", "950", "4", "ready"])
    assert refused.exit_code == 2
    assert refused.stderr.strip() == (
        "docs/tasks/950_plan.md task 4: refused by the dependency rule: "
        "blocked by task 1 (in_progress), not resolved yet"
    )
    assert runner.invoke(app, ["move", "950", "1", "in_review"]).exit_code == 0
    approved = runner.invoke(app, ["move", "950", "task_1", "done"])
    assert approved.stdout == "docs/tasks/950_plan.md task 1: now done\n"
    done_already = _json("claim", "950", "1")
    assert done_already["reason"].endswith("is done already; nothing to do")  # type: ignore[index]
    kinds = [e["kind"] for e in _json("events", "950")]  # type: ignore[union-attr]
    assert kinds == ["task.created"] * 4 + [
        "task.updated", "task.claimed", "task.updated", "task.completed",
    ]  # fmt: skip
    plain = runner.invoke(app, ["task_status"])
    assert "repo:docs/tasks/950_plan.md — 4 tasks: 3 backlog, 1 done" in plain.stdout
    bad = runner.invoke(app, ["move", "950", "1", "finished"])
    assert bad.exit_code == 2
    assert "'finished' is not a state" in bad.stderr


def test_settings(project: Path) -> None:
    shown = runner.invoke(app, ["settings"])
    assert shown.stdout == "review.auto_approve = false\nblockers.cancelled_satisfies = true\n"
    changed = runner.invoke(app, ["settings", "review.auto_approve", "true"])
    assert changed.stdout == "review.auto_approve = true\n"
    assert runner.invoke(app, ["settings", "nope", "true"]).exit_code == 2


def test_a_bad_database_url_is_one_line(project: Path) -> None:
    result = runner.invoke(app, ["task_status", "--db", "mysql://x/y"])
    assert result.exit_code == 2
    assert (
        result.stderr
        == "mysql://x/y: unknown database 'mysql': use sqlite:///PATH or postgresql://…\n"
    )


@pytest.mark.slow
def test_work_runs_each_task_through_the_executor(project: Path) -> None:
    imported = runner.invoke(app, ["import", "950", "--ready", "--attempts", "2", "--backoff", "0"])
    assert imported.exit_code == 0, imported.output
    report = _json("work", "--worker", "w1", code=1)
    assert report["stopped"] == "nothing is ready"  # type: ignore[index]
    ran = [(w["task"], w["execution"], w["state"]) for w in report["worked"]]  # type: ignore[index]
    assert ran == [
        ("1", "passed", "in_review"), ("2", "failed", "ready"), ("2", "failed", "blocked"),
        ("3", "paused", "blocked"),
    ]  # fmt: skip
    board = _json("task_status")
    tasks = {t["number"]: t for e in board["documents"] for s in e["states"].values() for t in s}  # type: ignore[index]
    assert tasks["2"]["reason"]["kind"] == "failed"
    assert tasks["2"]["reason"]["failures"][0]["step"] == "2.1"
    assert tasks["2"]["reason"]["unblock"].endswith(
        "claude-task move docs/tasks/950_plan.md 2 ready"
    )
    assert tasks["3"]["reason"]["pause_reasons"][0]["type"] == "awaitingClient"
    steps = [e for e in _json("events") if e["kind"].startswith("task.step_")]  # type: ignore[union-attr]
    assert {(e["task"], e["kind"], e["payload"]["step"]) for e in steps} >= {
        ("1", "task.step_started", "1.1"), ("1", "task.step_completed", "1.1"),
    }  # fmt: skip
    assert runner.invoke(app, ["move", "950", "1", "done"]).exit_code == 0  # a person approves
    assert _states()["4"] == "ready"  # its blocker done: ready (imported with --ready)
    with Store(parse_url(os.environ["CLAUDE_TASK_DB"])) as store:  # its runs: where the board is
        assert [r.doc_path for r in store.runs()] == ["docs/tasks/950_plan.md"]
    assert not (project / ".claude-task" / "state.db").exists()


@pytest.mark.slow
def test_work_with_auto_approved_review(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEATURE_PRD_AUTO_APPROVE_REVIEW", "true")
    runner.invoke(app, ["import", "950", "--ready"])
    report = _json("work", "--once")
    assert [(w["task"], w["state"]) for w in report["worked"]] == [("1", "done")]  # type: ignore[index]
    assert _states()["4"] == "ready"  # task 1 done: its dependent became ready at once
    kinds = [e["kind"] for e in _json("events", "--limit", "2")]  # type: ignore[union-attr]
    assert kinds == ["task.completed", "task.updated"]


@pytest.mark.slow
def test_quick_runs(sqlite_project: Path) -> None:  # recorded on both: tests/board/test_quick.py
    once = _json("quick", "time", "get_current_time", "--args", UTC)
    assert (once["status"], once["result"]["timezone"], once["promoted_task"]) == (  # type: ignore[index]
        "completed", "UTC", None,
    )  # fmt: skip
    assert _json("task_status") == {"documents": [], "totals": _json("task_status")["totals"]}  # type: ignore[index]
    promoted = _json("quick", "time", "get_current_time", "--args", UTC, "--promote")
    assert promoted["promoted_task"] == f"q{promoted['id']}"  # type: ignore[index]
    assert _states() == {promoted["promoted_task"]: "backlog"}  # type: ignore[index]
    failed = runner.invoke(app, ["quick", "time", "no_such_tool"])
    assert failed.exit_code == 1
    kinds = [e["kind"] for e in _json("events")]  # type: ignore[union-attr]
    assert kinds == [
        "quick_run.started", "quick_run.completed", "quick_run.started", "quick_run.completed",
        "task.created", "quick_run.started", "quick_run.failed",
    ]  # fmt: skip
    runner.invoke(app, ["move", "quick-runs", promoted["promoted_task"], "ready"])  # type: ignore[index]
    worked = _json("work", "--once")
    assert worked["worked"][0]["state"] == "in_review"  # type: ignore[index]


def test_reading_or_previewing_creates_no_database(project: Path, tmp_path: Path) -> None:
    missing = tmp_path / "none" / "state.db"
    for args in (["task_status"], ["events"], ["import", "950", "--preview"]):
        result = runner.invoke(app, [*args, "--db", f"sqlite:///{missing}"])
        assert result.exit_code == 0, result.output
    assert not missing.parent.exists()


def test_reports_show_the_board_history_of_the_document(project: Path) -> None:
    assert runner.invoke(app, ["import", "950"]).exit_code == 0
    moved = runner.invoke(app, ["move", "950", "1", "ready", "--reason", "go <b>now</b>"])
    assert moved.exit_code == 0
    assert runner.invoke(app, ["claim", "--worker", "agent-1"]).exit_code == 0
    one = runner.invoke(app, ["generate_report", "950", "task_1", "--stdout"])
    assert one.exit_code == 1, one.output  # incomplete: nothing was run
    history = one.stdout[one.stdout.index("Board History") :]
    rows = [line.split(" | ") for line in history.splitlines() if line.startswith("| 20")]
    assert [row[1] for row in rows] == ["task.created", "task.updated", "task.claimed"]
    assert rows[2][2] == "agent-1"
    assert "backlog → ready; note: go &lt;b&gt;now&lt;/b&gt;" in rows[1][3]  # text inert
    every = runner.invoke(app, ["generate_report", "950", "--stdout"])
    summary = every.stdout[every.stdout.index("## Board History") :]
    assert summary.count("| task.created |") == 4  # each of the four tasks, in the summary
    task_2 = every.stdout[every.stdout.index("# 950 Task 2: Fails") :]
    assert "task.claimed" not in task_2[: task_2.index("# 950 Task 3:")]


def test_a_report_reads_the_board_without_creating_one(
    sqlite_project: Path, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["generate_report", "950", "--stdout"])
    assert result.exit_code == 1, result.output  # incomplete: nothing was run
    assert "Board History" not in result.stdout  # never imported: no history
    assert not (tmp_path / "state.db").exists()  # and no board made for the question
