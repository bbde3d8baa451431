"""The rules as data: every pair of states, judged by `check_move` without a database."""

from __future__ import annotations

import pytest

from claude_task_cli.board.errors import TransitionError
from claude_task_cli.board.states import (
    ALLOWED,
    ORDER,
    Move,
    Policy,
    TaskState,
    check_move,
    parse_state,
)

S = TaskState
PAIRS = [(source, target) for source in ORDER for target in ORDER if source != target]
SPEC = {  # the orchestration spec, section 4, written out again
    ("backlog", "ready"), ("backlog", "cancelled"),
    ("ready", "in_progress"), ("ready", "blocked"), ("ready", "backlog"), ("ready", "cancelled"),
    ("in_progress", "in_review"), ("in_progress", "blocked"), ("in_progress", "ready"),
    ("in_progress", "cancelled"),
    ("in_review", "done"), ("in_review", "in_progress"), ("in_review", "blocked"),
    ("blocked", "ready"), ("blocked", "backlog"), ("blocked", "cancelled"),
    ("done", "ready"), ("cancelled", "backlog"),
}  # fmt: skip


def test_the_table_is_the_spec() -> None:
    table = {(s.value, t.value) for s, targets in ALLOWED.items() for t in targets}
    assert table == SPEC


@pytest.mark.parametrize(("source", "target"), PAIRS, ids=[f"{s}->{t}" for s, t in PAIRS])
def test_each_pair_is_allowed_or_refused_with_its_rule(source: S, target: S) -> None:
    move = Move(source, target, claimed=True)
    if (source.value, target.value) in SPEC:
        check_move(move, Policy())
        return
    with pytest.raises(TransitionError) as refused:
        check_move(move, Policy())
    expected = "review" if (source, target) == (S.IN_PROGRESS, S.DONE) else "transition"
    assert refused.value.rule == expected
    assert refused.value.exit_code == 2
    if expected == "transition":
        assert f"{source} → {target} is not a transition" in refused.value.blocker


def test_auto_approved_review_allows_in_progress_to_done_only() -> None:
    policy = Policy(auto_approve_review=True)
    check_move(Move(S.IN_PROGRESS, S.DONE), policy)
    with pytest.raises(TransitionError, match="transition rule"):
        check_move(Move(S.READY, S.DONE), policy)


@pytest.mark.parametrize("target", [S.READY, S.IN_PROGRESS])
def test_the_dependency_guard_names_the_blockers(target: S) -> None:
    source = S.BACKLOG if target == S.READY else S.READY
    move = Move(source, target, claimed=True, unresolved=("task 1 (ready)", "task 4 (blocked)"))
    with pytest.raises(TransitionError) as refused:
        check_move(move, Policy())
    assert refused.value.rule == "dependency"
    assert refused.value.blocker == "blocked by task 1 (ready), task 4 (blocked), not resolved yet"


def test_in_progress_needs_a_claim_or_force() -> None:
    with pytest.raises(TransitionError) as refused:
        check_move(Move(S.READY, S.IN_PROGRESS), Policy())
    assert refused.value.rule == "claim"
    check_move(Move(S.READY, S.IN_PROGRESS, forced=True), Policy())
    with pytest.raises(TransitionError, match="transition rule"):  # force is no way past the table
        check_move(Move(S.BACKLOG, S.IN_PROGRESS, forced=True), Policy())


def test_cancelled_resolves_a_blocker_unless_configured_otherwise() -> None:
    assert Policy().resolved() == (S.DONE, S.CANCELLED)
    assert Policy(cancelled_satisfies=False).resolved() == (S.DONE,)


def test_states_are_read_as_typed() -> None:
    assert parse_state("In-Review") == S.IN_REVIEW
    with pytest.raises(ValueError, match="not a state"):
        parse_state("finished")
