"""The live view of a run, from its events: the plain lines (not a terminal, NO_COLOR) and the rich
view's text at a fixed width and a fixed clock. Steps are named by id and title, a server says
it is starting, a failure gives its reason when it happens, a step waiting on the client is not
counted, and a resumed run counts what earlier runs completed."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from claude_task_cli.cli.app import app
from claude_task_cli.cli.progress import LiveProgress, PlainProgress, Tally
from claude_task_cli.store.records import Event
from tests.support import COMMAND_SERVER, stdio, write_mcp_json

TITLES = {"1.1": "Check a file", "1.2": "Use it", "2.1": "A person reads it"}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def event(kind: str, step: str | None = None, **payload: Any) -> Event:
    return Event(kind=kind, ts=0.0, run_id=1, step_id=step, payload=payload)


VERIFICATION = {
    "type": "verificationFailed",
    "failedStep": "1.1",
    "expectation": "command 'test -f VERSION' exits 0",
    "actual": 1,
    "suggestedTool": "run_command",
}
A_RUN = [
    event("server_starting", server="commands"),
    event("server_ready", server="commands", seconds=0.84),
    event("run_started", total=3, completed=0),
    event("step_started", "1.1", attempt=1, call=1),
    event("step_failed", "1.1", attempt=1, error="exited 1", reason=VERIFICATION),
    event("step_skipped", "1.2", error="step 1.1 did not complete"),
    event("step_awaiting_client", "2.1", reason={"type": "awaitingClient"}),
]


def plain_lines(events: list[Event], capsys: pytest.CaptureFixture[str]) -> list[str]:
    view = PlainProgress(Tally(len(TITLES), TITLES))
    with view:
        for item in events:
            view.on_event(item)
    captured = capsys.readouterr()
    assert captured.out == ""  # stdout stays clean for --json
    return captured.err.splitlines()


def test_plain_lines_name_each_step_and_each_failure_as_it_happens(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert plain_lines(A_RUN, capsys) == [
        "starting server commands",
        "server commands ready in 0.8 s",
        "run 1 started: 3 steps",
        "  started   1.1 Check a file (attempt 1)",
        "  failed    1.1 Check a file [1/3]: verification failed: command 'test -f VERSION' "
        "exits 0 (actual: 1)",
        "  skipped   1.2 Use it [2/3]: step 1.1 did not complete",
        "  awaiting client 2.1 A person reads it [2/3]",  # waits on a person: not progress
    ]


def test_a_resumed_run_counts_what_earlier_runs_completed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    resumed = [
        event("resumed", total=3, completed=2),
        # attempt 1: a step skipped before made no call
        event("step_started", "2.1", attempt=2, call=1),
        event("step_completed", "2.1", attempt=2, duration_ms=12.4),
    ]
    assert plain_lines(resumed, capsys) == [
        "run 1 resumed: 2 of 3 steps done before",
        "  started   2.1 A person reads it (attempt 1)",
        "  completed 2.1 A person reads it in 12 ms [3/3]",
    ]


def test_a_paused_step_is_not_counted_and_a_retry_says_why() -> None:
    tally = Tally(3, TITLES)
    for item in (
        event("step_started", "1.1", attempt=1),
        event("step_retried", "1.1", attempt=1, error="flaky\nmore", delay=0.5),
        event("step_paused", "1.2", reason={"type": "schemaMismatch"}),
    ):
        tally.follow(item)
    assert (tally.settled, tally.counter) == (0, "[0/3]")
    assert tally.running["1.1"].note == "retrying in 0.5s"


def live_text(view: LiveProgress) -> list[list[str]]:
    """The live area's lines at 72 columns, each as its cells (runs of 2+ spaces split them)."""
    out = io.StringIO()
    console = Console(width=72, file=out, color_system=None, legacy_windows=False)
    console.print(view.renderable())
    lines = out.getvalue().splitlines()
    assert all(len(line) <= 72 for line in lines)
    return [re.split(r"\s{2,}", line.strip()) for line in lines]


def test_the_live_rows_show_servers_starting_and_steps_running_with_their_time() -> None:
    clock = Clock()
    printed = io.StringIO()
    console = Console(width=72, file=printed, color_system=None, legacy_windows=False)
    view = LiveProgress(Tally(3, TITLES, clock), console)
    view.on_event(event("server_starting", server="time"))
    clock.now += 2.0
    assert live_text(view) == [
        ["steps 0/3"],  # the bar: with no colours, only its done part is drawn
        ["starting server time", "0:02"],
    ]
    view.on_event(event("server_ready", server="time", seconds=2.0))
    view.on_event(event("step_started", "1.1", attempt=1, call=1))
    view.on_event(event("step_started", "1.2", attempt=3, call=2))
    clock.now += 65.0
    view.on_event(event("step_retried", "1.2", error="flaky", delay=1.0))
    assert live_text(view) == [
        ["steps 0/3"],
        ["1.1 Check a file", "attempt 1", "1:05"],
        ["1.2 Use it", "attempt 2, retrying in 1.0s", "1:05"],
    ]
    view.on_event(event("step_completed", "1.1", attempt=1, duration_ms=3.2))
    view.on_event(event("step_failed", "1.2", error="boom: the tool said no"))
    assert live_text(view) == [["steps 2/3 " + "━" * 20]]  # nothing runs
    assert printed.getvalue().splitlines() == [
        "server time ready in 2.0 s",
        "completed 1.1 Check a file in 3 ms [1/3]",
        "failed    1.2 Use it [2/3]: boom: the tool said no",
    ]


DOCUMENT = """# Try

## Implementation Tasks

### Task 1: Build

**Implementation Steps**:
- [ ] 1.1 Check a file
  ```bash
  test -f VERSION
  ```
- [ ] 1.2 Use it
  ```bash
  cat VERSION
  ```

### Task 2: Review

**Implementation Steps**:
- [ ] 2.1 A person reads it
"""


@pytest.mark.slow
def test_a_real_run_then_its_resumes_in_plain_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "docs" / "tasks").mkdir(parents=True)
    (tmp_path / "docs" / "tasks" / "try.md").write_text(DOCUMENT)
    write_mcp_json(tmp_path, {"commands": stdio(COMMAND_SERVER)})
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def progress() -> list[str]:
        lines = runner.invoke(app, ["execute_task", "try"]).stderr.splitlines()
        return [re.sub(r" in \d+(\.\d)? (ms|s)", " in T", line) for line in lines]

    first = progress()
    assert first[0] == "starting server commands"  # said as soon as it begins
    assert "server commands ready in T" in first  # when it is: before or after the run opens
    assert [line for line in first if "server" not in line] == [
        "run 1 started: 3 steps",
        "  started   1.1 Check a file (attempt 1)",
        "  failed    1.1 Check a file [1/3]: verification failed: 'test -f VERSION' at line 10 "
        "(the bash block at line 9) exits 0 (actual: 1)",
        "  skipped   1.2 Use it [2/3]: step 1.1 did not complete",
        "  skipped   2.1 A person reads it [3/3]: step 1.1 did not complete",
    ]

    (tmp_path / "VERSION").write_text("1.0.0\n")
    second = [line for line in progress() if "server" not in line]
    assert second == [
        "run 1 resumed: 0 of 3 steps done before",
        "  started   1.1 Check a file (attempt 2)",
        "  completed 1.1 Check a file in T [1/3]",
        "  started   1.2 Use it (attempt 1)",  # only skipped before: its first call
        "  completed 1.2 Use it in T [2/3]",
        "  awaiting client 2.1 A person reads it [2/3]",  # waits for a person: not counted
    ]
    third = [line for line in progress() if "server" not in line]
    assert third == [
        "run 1 resumed: 2 of 3 steps done before",
        "  awaiting client 2.1 A person reads it [2/3]",
    ]
