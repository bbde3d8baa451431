"""Claims on both engines: the ready queue's order, leases on the database's clock, fencing by
claim token, retries, idempotent start, and the concurrency limits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from claude_task_cli.board import (
    Board,
    Claimed,
    ClaimLostError,
    Execution,
    Limits,
    TaskState,
    TransitionError,
)
from tests.board.support import import_file

S = TaskState


def _import(board: Board, path: Path, **options: object) -> None:
    """Imported ready, with no backoff between a failed task's attempts, unless said otherwise."""
    import_file(board, path, **{"auto_ready": True, "backoff": 0.0, **options})


def _claim(board: Board, worker: str = "w1", **limits: object) -> Claimed:
    claimed, why = board.claim(worker, limits=Limits(**limits))  # type: ignore[arg-type]
    assert claimed is not None, why
    return claimed


def _end_lease(board: Board, claimed: Claimed) -> None:
    """Test set-up: the lease ended an hour ago (as if its worker stalled or died)."""
    with board.db.transaction() as tx:
        tx.execute("UPDATE board_tasks SET lease_until = ? WHERE id = ?", (0.0, claimed.task.id))


def test_queue_order_priority_then_creation_across_documents(
    board: Board, write_doc: Callable[..., Path]
) -> None:
    _import(board, write_doc("920_a", [("A low", []), ("A plain", [])], priorities={1: "LOW"}))
    _import(board, write_doc("921_b", [("B high", []), ("B plain", [])], priorities={1: "HIGH"}))
    order = []
    while (claimed := board.claim("w1")[0]) is not None:
        order.append(claimed.task.title)
    assert order == ["B high", "A plain", "B plain", "A low"]
    assert board.claim("w1") == (None, "nothing is ready")


def test_claim_moves_one_task_and_records_it(board: Board, write_doc: Callable[..., Path]) -> None:
    _import(board, write_doc("922_c", [("Only", [])]))
    claimed = _claim(board, "ci-7")
    task = board.find_task("922", "1")
    assert (task.state, task.claim_worker, task.attempts) == (S.IN_PROGRESS, "ci-7", 1)
    assert claimed.lease_until == task.lease_until
    assert claimed.to_dict()["claimed"] is True
    event = board.events()[-1]
    assert (event.kind, event.actor, event.payload["attempt"]) == ("task.claimed", "ci-7", 1)


def test_unresolved_blockers_keep_a_ready_task_off_the_queue(
    board: Board, write_doc: Callable[..., Path]
) -> None:
    _import(board, write_doc("923_d", [("Base", []), ("Next", [1])]))
    board.change_setting("review.auto_approve", "true", "ana")
    board.settle(_claim(board), Execution("passed"))  # Base done: Next becomes ready
    board.move("923", "1", S.READY, "ana")  # re-open Base: Next is ready but blocked again
    assert board.claim("w2")[0].task.title == "Base"  # type: ignore[union-attr]
    assert board.claim("w2") == (None, "nothing is ready")


def test_an_ended_lease_returns_the_task_its_attempt_counted(
    board: Board, write_doc: Callable[..., Path]
) -> None:
    _import(board, write_doc("924_e", [("Only", [])]), max_attempts=2)
    first = _claim(board, "w1")
    _end_lease(board, first)
    second = _claim(board, "w2")
    assert (second.task.id, second.task.attempts) == (first.task.id, 2)
    lapsed = [e for e in board.events() if e.payload.get("note") == "the lease of w1 ended"]
    assert [(e.kind, e.actor, e.payload["to"]) for e in lapsed] == [
        ("task.updated", "board", "ready")
    ]
    _end_lease(board, second)  # its last attempt: blocked, with what unblocks it
    assert board.claim("w3") == (None, "nothing is ready")
    task = board.find_task("924", "1")
    assert task.state == S.BLOCKED
    assert task.reason is not None
    assert (task.reason["kind"], task.reason["attempts"]) == ("lease_expired", 2)
    assert task.reason["unblock"].endswith("claude-task move docs/tasks/924_e.md 1 ready")


def test_a_stale_claim_is_fenced(board: Board, write_doc: Callable[..., Path]) -> None:
    _import(board, write_doc("925_f", [("Only", [])]))
    stale = _claim(board, "w1")
    _end_lease(board, stale)
    fresh = _claim(board, "w2")
    with pytest.raises(ClaimLostError, match=r"925_f\.md task 1: the claim is no longer held"):
        board.settle(stale, Execution("passed"))
    with pytest.raises(ClaimLostError):
        board.renew(stale)
    assert board.step_event(stale, "task.step_started", {"step": "1.1"}) is False
    assert board.step_event(fresh, "task.step_started", {"step": "1.1"}) is True
    assert board.renew(fresh, lease=120.0) > fresh.lease_until
    task = board.find_task("925", "1")
    assert (task.state, task.claim_worker) == (S.IN_PROGRESS, "w2")
    assert board.settle(fresh, Execution("passed")).state == S.IN_REVIEW


def test_a_person_moving_a_claimed_task_revokes_the_claim(
    board: Board, write_doc: Callable[..., Path]
) -> None:
    _import(board, write_doc("926_g", [("Only", [])]))
    claimed = _claim(board)
    board.move("926", "1", S.BLOCKED, "ana", note="wrong approach")
    with pytest.raises(ClaimLostError):
        board.settle(claimed, Execution("passed"))
    assert board.find_task("926", "1").state == S.BLOCKED


def test_failure_retries_with_backoff_then_blocks(
    board: Board, write_doc: Callable[..., Path]
) -> None:
    _import(board, write_doc("927_h", [("Only", [])]), max_attempts=2, backoff=3600.0)
    failure = Execution("failed", run_id=7, failures=[{"step": "1.1", "error": "boom"}])
    task = board.settle(_claim(board), failure)
    assert (task.state, task.attempts) == (S.READY, 1)
    assert task.not_before is not None
    assert board.claim("w1") == (None, "nothing is ready")  # waiting out its backoff
    with board.db.transaction() as tx:
        tx.execute("UPDATE board_tasks SET not_before = 0 WHERE id = ?", (task.id,))
    task = board.settle(_claim(board), failure)
    assert task.state == S.BLOCKED
    assert task.reason is not None
    assert (task.reason["kind"], task.reason["run_id"], task.reason["failures"]) == (
        "failed",
        7,
        [{"step": "1.1", "error": "boom"}],
    )
    blocked = board.events()[-1]
    assert (blocked.kind, blocked.payload["reason"]["attempts"]) == ("task.blocked", 2)


def test_paused_blocks_and_busy_returns_uncounted(
    board: Board, write_doc: Callable[..., Path]
) -> None:
    _import(board, write_doc("928_i", [("Paused", []), ("Busy", [])]))
    reasons = [{"type": "awaitingClient", "step": "1.1"}]
    task = board.settle(_claim(board), Execution("paused", run_id=3, pause_reasons=reasons))
    assert task.state == S.BLOCKED
    assert task.reason is not None
    assert task.reason["pause_reasons"] == reasons
    task = board.settle(_claim(board), Execution("busy", message="run held elsewhere"))
    assert (task.state, task.attempts) == (S.READY, 0)


def test_review_setting_decides_where_a_passed_task_goes(
    board: Board, write_doc: Callable[..., Path]
) -> None:
    _import(board, write_doc("929_j", [("One", []), ("Two", [])]))
    assert board.settle(_claim(board), Execution("passed")).state == S.IN_REVIEW
    board.change_setting("review.auto_approve", "true", "ana")
    assert board.settle(_claim(board), Execution("passed")).state == S.DONE
    assert board.events()[-1].kind == "task.completed"


def test_idempotent_start(board: Board, write_doc: Callable[..., Path]) -> None:
    _import(board, write_doc("930_k", [("One", []), ("Two", []), ("Three", [])]))
    board.change_setting("review.auto_approve", "true", "ana")
    board.settle(_claim(board), Execution("passed"))
    before = len(board.events())
    claimed, why = board.claim_task("930", "1", "w9")
    assert (claimed, why) == (None, "docs/tasks/930_k.md task 1 is done already; nothing to do")
    assert len(board.events()) == before
    held = _claim(board, "w1")
    assert board.claim_task("930", held.task.number, "w9") == (
        None,
        f"docs/tasks/930_k.md task {held.task.number} is in_progress by w1; not claimed",
    )
    mine, _ = board.claim_task("930", "3", "w9")
    assert mine is not None
    assert mine.task.number == "3"
    board.move("930", "3", S.BLOCKED, "ana")
    with pytest.raises(TransitionError, match="transition rule"):
        board.claim_task("930", "3", "w9")


def test_worker_and_repository_limits(
    board: Board, write_doc: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _import(board, write_doc("931_l", [("One", []), ("Two", []), ("Three", [])]))
    monkeypatch.setenv("CLAUDE_TASK_REPOSITORY", "other")
    _import(board, write_doc("932_m", [("Elsewhere", [])]))
    _claim(board, "w1", per_worker=1)
    assert board.claim("w1", limits=Limits(per_worker=1)) == (
        None,
        "worker w1 holds 1 claims (its limit: 1)",
    )
    assert _claim(board, "w2", per_repository=2).task.repository == "repo"
    third = _claim(board, "w3", per_repository=2)
    assert third.task.repository == "other"  # repo is full: the next repository's task
    assert board.claim("w4", limits=Limits(per_repository=2)) == (None, "nothing is ready")
    only = Limits(repositories=("other",))
    assert board.claim("w5", limits=only) == (None, "nothing is ready")
    assert _claim(board, "w6").task.repository == "repo"
