"""The handoff's headline, worded per outcome: completed, failed, paused, interrupted, running; a
failed command's stderr under its step, trimmed visibly."""

from __future__ import annotations

from typing import Any

import pytest

from claude_task_cli.outcomes import (
    AwaitingClient,
    Interrupted,
    PauseReason,
    Progress,
    RunStatus,
    StepStatus,
)
from claude_task_cli.run.handoff import DoneStep, Handoff, RemainingStep, stderr_shown


def the_handoff(
    status: RunStatus,
    done: int,
    left: list[StepStatus],
    reasons: list[PauseReason] | None = None,
    run_id: int | None = 2,
) -> Handoff:
    return Handoff(
        task_id="102",
        run_id=run_id,
        status=status,
        goal="g",
        done=[DoneStep(step_id=f"1.{n}", title="t", tool=None) for n in range(done)],
        remaining=[
            RemainingStep(step_id=f"2.{n}", title="t", status=s, guidance="")
            for n, s in enumerate(left)
        ],
        pause_reasons=reasons or [],
        progress=Progress(goal="g", steps=[]),
    )


WAITING = AwaitingClient(blocked_step="2.0", guidance="look")
STOPPED = Interrupted(blocked_step="2.0", attempt=1)


@pytest.mark.parametrize(
    ("status", "done", "left", "reasons", "expected"),
    [
        (RunStatus.COMPLETED, 3, [], [], "Run 2 of document 102 completed: all 3 steps done."),
        (RunStatus.COMPLETED, 1, [], [], "Run 2 of document 102 completed: its one step done."),
        (
            RunStatus.FAILED,
            2,
            [StepStatus.SKIPPED, StepStatus.FAILED],
            [],
            "Run 2 of document 102 failed: 2 of 4 steps done; 1 failed, 1 skipped.",
        ),
        (
            RunStatus.PAUSED,
            0,
            [StepStatus.AWAITING_CLIENT],
            [WAITING],
            "Run 2 of document 102 is paused: 0 of 1 step done; 1 awaiting the client.",
        ),
        (
            RunStatus.PAUSED,
            1,
            [StepStatus.PAUSED, StepStatus.PENDING],
            [STOPPED],
            "Run 2 of document 102 was interrupted: 1 of 3 steps done; 1 paused, 1 not run yet.",
        ),
        (
            RunStatus.RUNNING,
            1,
            [StepStatus.RUNNING],
            [],
            "Run 2 of document 102 is running (or its executor stopped): 1 of 2 steps done; "
            "1 running.",
        ),
    ],
)
def test_the_headline_reads_well_for_each_outcome(
    status: RunStatus,
    done: int,
    left: list[StepStatus],
    reasons: list[PauseReason],
    expected: str,
) -> None:
    text = the_handoff(status, done, left, reasons)
    assert text.headline() == expected
    assert text.narrative().splitlines()[0] == expected


def test_without_a_run_the_headline_names_the_document() -> None:
    headline = the_handoff(RunStatus.PAUSED, 0, [StepStatus.PENDING], run_id=None).headline()
    assert headline == "Document 102 is paused: 0 of 1 step done; 1 not run yet."


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ({"exit_code": 1, "stderr": "no VERSION\n"}, "It wrote on stderr:\n  no VERSION"),
        ({"exit_code": 1, "stderr": ""}, ""),
        ("a text result", ""),
        (None, ""),
        (
            {"stderr": "".join(f"line {n}\n" for n in range(1, 13))},
            "It wrote on stderr (its last 10 lines; 2 more before them):\n"
            + "\n".join(f"  line {n}" for n in range(3, 13)),
        ),
    ],
)
def test_a_failed_commands_stderr_is_shown_with_its_last_lines(result: Any, expected: str) -> None:
    assert stderr_shown(result) == expected
