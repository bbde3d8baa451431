"""A task's states, the transitions between them and the guards on them, as data and pure
functions (the orchestration spec, section 4). The board store applies them inside the
transaction that makes the change (`moves.py`).

```python
check_move(Move("ready", "in_progress", claimed=True, unresolved=()), Policy())   # allowed
check_move(Move("backlog", "done"), Policy())  # TransitionError: rule "transition"
```

Rules, each named in the error that refuses a move:
- `transition`: only the transitions in `ALLOWED` (plus `in_progress → done` when review is
  auto-approved, `AUTO_APPROVED`);
- `review`: `in_progress → done` needs a person's approval (`in_review → done`) unless the policy
  auto-approves (`FEATURE_PRD_AUTO_APPROVE_REVIEW=true` or the board setting `review.auto_approve`);
- `dependency`: no `ready` or `in_progress` while a blocker is unresolved (`done`, or `cancelled`
  when the policy says so, resolves a blocker);
- `claim`: `in_progress` only through an atomic claim, unless forced.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from claude_task_cli.board.errors import TransitionError


class TaskState(StrEnum):
    BACKLOG = "backlog"
    READY = "ready"
    IN_PROGRESS = "in_progress"
    IN_REVIEW = "in_review"
    DONE = "done"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"


S = TaskState
ALLOWED: Final[dict[TaskState, frozenset[TaskState]]] = {
    S.BACKLOG: frozenset({S.READY, S.CANCELLED}),
    S.READY: frozenset({S.IN_PROGRESS, S.BLOCKED, S.BACKLOG, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.IN_REVIEW, S.BLOCKED, S.READY, S.CANCELLED}),
    S.IN_REVIEW: frozenset({S.DONE, S.IN_PROGRESS, S.BLOCKED}),
    S.BLOCKED: frozenset({S.READY, S.BACKLOG, S.CANCELLED}),
    S.DONE: frozenset({S.READY}),  # re-open
    S.CANCELLED: frozenset({S.BACKLOG}),  # restore
}
AUTO_APPROVED: Final = (S.IN_PROGRESS, S.DONE)  # allowed only when review is auto-approved
ORDER: Final = tuple(TaskState)  # how the board lists states
GUARDED: Final = frozenset({S.READY, S.IN_PROGRESS})  # the dependency guard's states
LIVE: Final = frozenset({S.READY, S.IN_PROGRESS, S.IN_REVIEW, S.BLOCKED, S.BACKLOG})


@dataclass(frozen=True)
class Policy:
    """The board's settings that the rules read (`settings.py` says where they come from)."""

    auto_approve_review: bool = False
    cancelled_satisfies: bool = True

    def resolved(self) -> tuple[TaskState, ...]:
        """The states in which a blocker no longer blocks."""
        return (S.DONE, S.CANCELLED) if self.cancelled_satisfies else (S.DONE,)

    def allowed(self, state: TaskState) -> frozenset[TaskState]:
        """The states `state` may move to under this policy (before the guards)."""
        found = ALLOWED[state]
        if self.auto_approve_review and state == AUTO_APPROVED[0]:
            return found | {AUTO_APPROVED[1]}
        return found


@dataclass(frozen=True)
class Move:
    """A requested transition and the facts the guards judge it on."""

    source: TaskState
    target: TaskState
    claimed: bool = False  # made by the atomic claim
    forced: bool = False  # `--force`: the explicit force-run path past the claim guard
    unresolved: tuple[str, ...] = ()  # the task's blockers not resolved, as "task 2 (ready)"


def check_move(move: Move, policy: Policy) -> None:
    """Refuse `move` with the rule it breaks and what blocks it; return when it is allowed."""
    source, target = move.source, move.target
    if target not in policy.allowed(source):
        if (source, target) == AUTO_APPROVED:
            raise TransitionError(
                "review",
                "in_progress → done needs review: the task goes to in_review and a person "
                "approves it (move … done); FEATURE_PRD_AUTO_APPROVE_REVIEW=true or the setting "
                "review.auto_approve skips review",
            )
        choices = ", ".join(s.value for s in ORDER if s in policy.allowed(source))
        raise TransitionError(
            "transition", f"{source} → {target} is not a transition (from {source}: {choices})"
        )
    if target in GUARDED and move.unresolved:
        raise TransitionError(
            "dependency", f"blocked by {', '.join(move.unresolved)}, not resolved yet"
        )
    if target == S.IN_PROGRESS and not (move.claimed or move.forced):
        raise TransitionError(
            "claim",
            "in_progress is entered by an atomic claim (claude-task claim or work); "
            "--force runs it past the claim",
        )


def parse_state(text: str) -> TaskState:
    """A state as typed (`in-review` too) → `TaskState`; `ValueError` naming the states."""
    try:
        return TaskState(text.strip().lower().replace("-", "_"))
    except ValueError:
        names = ", ".join(s.value for s in ORDER)
        raise ValueError(f"{text!r} is not a state ({names})") from None
