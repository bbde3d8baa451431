"""Moves on a real board, on both engines: every allowed transition succeeds and records one
event with its actor; every other one is refused with its rule and blocker and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from claude_task_cli.board import ALLOWED, Board, TaskState, TransitionError
from claude_task_cli.board.states import ORDER
from tests.board.support import import_file

S = TaskState
PAIRS = [(source, target) for source in ORDER for target in ORDER if source != target]


def _set_states(board: Board, states: dict[str, S]) -> None:
    """Test set-up: put tasks (by number) straight into a state."""
    with board.db.transaction() as tx:
        for number, state in states.items():
            tx.execute("UPDATE board_tasks SET state = ? WHERE number = ?", (state.value, number))


def _state(board: Board, number: str) -> S:
    return next(t.state for t in board.tasks() if t.number == number)


def test_every_pair_of_states(board: Board, write_doc: Callable[..., Path]) -> None:
    path = write_doc("900_moves", [(f"Move {n}", []) for n in range(len(PAIRS))])
    import_file(board, path)
    _set_states(board, {str(n): source for n, (source, _target) in enumerate(PAIRS, 1)})
    for n, (source, target) in enumerate(PAIRS, 1):
        before = len(board.events())
        allowed = target in ALLOWED[source]
        if allowed and target != S.IN_PROGRESS:
            task, changed = board.move("900", str(n), target, "ana")
            assert (task.state, changed) == (target, True)
            (event,) = board.events()[before:]
            assert (event.actor, event.task, event.payload["from"], event.payload["to"]) == (
                "ana", str(n), source.value, target.value,
            )  # fmt: skip
            assert event.ts > 0
            continue
        with pytest.raises(TransitionError) as refused:
            board.move("900", str(n), target, "ana")
        rule = (
            "claim"
            if allowed
            else "review"
            if (source, target) == (S.IN_PROGRESS, S.DONE)
            else "transition"
        )
        assert refused.value.rule == rule, (source, target)
        assert refused.value.exit_code == 2
        assert f"900_moves.md task {n}: refused by the {rule} rule: " in str(refused.value)
        assert _state(board, str(n)) == source
        assert len(board.events()) == before  # nothing recorded


def test_force_passes_the_claim_guard_only(board: Board, write_doc: Callable[..., Path]) -> None:
    import_file(board, write_doc("901_force", [("A", []), ("B", []), ("C", [1])]))
    _set_states(board, {"1": S.READY, "2": S.BACKLOG, "3": S.READY})
    task, _ = board.move("901", "1", S.IN_PROGRESS, "ana", force=True)
    assert (task.state, task.claim_worker, task.attempts) == (S.IN_PROGRESS, "ana", 1)
    assert board.events()[-1].payload["forced"] is True
    with pytest.raises(TransitionError, match="transition rule"):
        board.move("901", "2", S.IN_PROGRESS, "ana", force=True)
    with pytest.raises(
        TransitionError, match=r"dependency rule: blocked by task 1 \(in_progress\)"
    ):
        board.move("901", "3", S.IN_PROGRESS, "ana", force=True)


def test_moving_to_the_same_state_changes_nothing(
    board: Board, write_doc: Callable[..., Path]
) -> None:
    import_file(board, write_doc("902_same", [("A", [])]))
    before = len(board.events())
    task, changed = board.move("902", "task_1", S.BACKLOG, "ana")
    assert (task.state, changed, len(board.events())) == (S.BACKLOG, False, before)


def test_dependency_guard_and_cancelled_blockers(
    board: Board, write_doc: Callable[..., Path]
) -> None:
    import_file(board, write_doc("903_deps", [("Base", []), ("Next", [1]), ("Last", [1])]))
    with pytest.raises(TransitionError) as refused:
        board.move("903", "2", S.READY, "ana")
    assert (refused.value.rule, refused.value.blocker) == (
        "dependency", "blocked by task 1 (backlog), not resolved yet",
    )  # fmt: skip
    board.move("903", "1", S.CANCELLED, "ana")
    board.move("903", "2", S.READY, "ana")  # cancelled satisfies a blocker by default
    board.change_setting("blockers.cancelled_satisfies", "false", "ana")
    with pytest.raises(TransitionError, match=r"blocked by task 1 \(cancelled\)"):
        board.move("903", "3", S.READY, "ana")
    assert board.events()[-1].kind == "settings.updated"


def test_done_releases_auto_ready_dependents(board: Board, write_doc: Callable[..., Path]) -> None:
    import_file(
        board, write_doc("904_chain", [("A", []), ("B", [1]), ("C", [1, 2])]), auto_ready=True
    )
    assert [t.state for t in board.tasks()] == [S.READY, S.BACKLOG, S.BACKLOG]
    board.move("904", "1", S.IN_PROGRESS, "ana", force=True)
    board.change_setting("review.auto_approve", "true", "ana")
    board.move("904", "1", S.DONE, "ana")
    assert [t.state for t in board.tasks()] == [S.DONE, S.READY, S.BACKLOG]
    promoted = board.events()[-1]
    assert (promoted.kind, promoted.task, promoted.payload["note"]) == (
        "task.updated", "2", "its blockers are resolved",
    )  # fmt: skip


def test_review_flag(
    board: Board, write_doc: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import_file(board, write_doc("905_review", [("A", []), ("B", [])]))
    _set_states(board, {"1": S.IN_PROGRESS, "2": S.IN_PROGRESS})
    with pytest.raises(TransitionError) as refused:
        board.move("905", "1", S.DONE, "ana")
    assert refused.value.rule == "review"
    monkeypatch.setenv("FEATURE_PRD_AUTO_APPROVE_REVIEW", "true")
    task, _ = board.move("905", "1", S.DONE, "ana")
    assert task.state == S.DONE
    assert board.events()[-1].kind == "task.completed"
    monkeypatch.setenv("FEATURE_PRD_AUTO_APPROVE_REVIEW", "false")  # the environment wins
    board.change_setting("review.auto_approve", "true", "ana")
    with pytest.raises(TransitionError, match="review rule"):
        board.move("905", "2", S.DONE, "ana")
    monkeypatch.delenv("FEATURE_PRD_AUTO_APPROVE_REVIEW")
    assert board.move("905", "2", S.DONE, "ana")[0].state == S.DONE


def test_blocked_keeps_its_reason_and_a_retry_starts_over(
    board: Board, write_doc: Callable[..., Path]
) -> None:
    import_file(board, write_doc("906_block", [("A", [])]))
    board.move("906", "1", S.READY, "ana")
    task, _ = board.move("906", "1", S.BLOCKED, "ana", note="waiting for keys")
    assert task.reason is not None
    assert task.reason["message"] == "waiting for keys"
    assert task.reason["unblock"] == "claude-task move docs/tasks/906_block.md 1 ready"
    event = board.events()[-1]
    assert (event.kind, event.payload["note"]) == ("task.blocked", "waiting for keys")
    task, _ = board.move("906", "1", S.READY, "ana")
    assert (task.reason, task.attempts) == (None, 0)
