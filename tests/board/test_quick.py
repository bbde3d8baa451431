"""Quick runs recorded on both engines (the calls themselves: tests/cli/test_cli_board.py)."""

from __future__ import annotations

from claude_task_cli.board import Board, TaskState


def test_a_quick_run_is_recorded_and_creates_no_task(board: Board) -> None:
    run_id = board.quick_started("time", "get_current_time", {"timezone": "UTC"}, "ana")
    run = board.quick_finished(run_id, {"timezone": "UTC"}, None, "ana")
    assert (run.status, run.result, run.promoted_task) == ("completed", {"timezone": "UTC"}, None)
    assert board.tasks() == []
    kinds = [(e.kind, e.quick_run, e.actor) for e in board.events()]
    assert kinds == [("quick_run.started", run_id, "ana"), ("quick_run.completed", run_id, "ana")]


def test_a_promoted_quick_run_becomes_a_backlog_task(board: Board) -> None:
    run_id = board.quick_started("commands", "run_command", {"command": "false"}, "ana")
    run = board.quick_finished(run_id, None, "exit code 1", "ana", promote_to="repo")
    assert (run.status, run.error, run.promoted_task) == ("failed", "exit code 1", f"q{run_id}")
    (task,) = board.tasks()
    assert (task.repository, task.path, task.number, task.state) == (
        "repo", "quick-runs", f"q{run_id}", TaskState.BACKLOG,
    )  # fmt: skip
    assert (task.source, task.definition) == (
        "promoted_quick_action",
        {
            "server": "commands",
            "tool": "run_command",
            "args": {"command": "false"},
            "quick_run": run_id,
        },
    )
    created = board.events()[-1]
    assert (created.kind, created.quick_run, created.task) == ("task.created", run_id, task.number)
    assert board.move("quick-runs", task.number, TaskState.READY, "ana")[0].state == TaskState.READY
