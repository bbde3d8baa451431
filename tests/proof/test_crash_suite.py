"""The crash suite: a 200-step run (chains, parallel groups, non-retryable steps with a side effect)
under random `kill -9`s — of the executor, and of its command server child — each followed by a
resume. Proved, counting from the side effects the steps leave in `ran/`:

- 0 completed steps lost: a step the executor reported completed, or the store held completed, is
  completed after every kill;
- 0 non-retryable steps run twice in one run;
- 0 runs that cannot resume: every executor started after a kill resumes (runs a step, or ends
  with 0, 1 or 3), and the last one completes the run.

A non-retryable step caught by a kill pauses as `interrupted`; the suite then does what a person
would: a step whose side effect is there is recorded done, one whose side effect is not is re-run
(`execute_task --rerun-interrupted`). The generator is seeded; the seed is printed.
"""

from __future__ import annotations

import random
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.proof.harness import make_project, progress, ran, status, steps_in
from tests.support import alive, cli, command_server_of, kill9, start, wait_for

EXECUTOR_KILLS = 20
SERVER_KILLS = 10


def retryable(step: str, title: str) -> str:
    return f"""- [ ] {step} {title}
  ```mcp
  server: commands
  tool: run_command
  args:
    command: [sh, -c, "echo x >> ran/{step}"]
  retryable: true
  retries: 3
  ```
"""


def once(step: str, title: str) -> str:
    """A non-retryable step: its side effect first, then long enough for a kill to land in it."""
    return f"""- [ ] {step} {title}
  ```bash
  echo deployed >> ran/{step}
  sleep 0.3
  ```
"""


def document() -> tuple[str, set[str]]:
    """The 200 steps, and the ids of the non-retryable ones."""
    parts = ["# Task 802: Crash\n"]
    non_retryable: set[str] = set()
    parts.append("### Task 1: A chain\n\n**Depends on**: none\n\n**Implementation Steps**:\n")
    parts += [retryable(f"1.{n}", "chained") for n in range(1, 61)]
    parts.append("\n### Task 2: All at once\n\n**Depends on**: none\n\n**Implementation Steps**:\n")
    parts += [retryable(f"2.{n}", "[P] parallel") for n in range(1, 61)]
    for task, depends in ((3, "none"), (4, "Task 1, Task 2")):
        parts.append(
            f"\n### Task {task}: Mixed\n\n**Depends on**: {depends}\n\n**Implementation Steps**:\n"
        )
        for n in range(1, 41):
            step = f"{task}.{n}"
            if n % 8 == 0:
                non_retryable.add(step)
                parts.append(once(step, "deploy"))
            else:
                parts.append(retryable(step, "[P] beside" if n % 8 in (2, 3, 4, 5) else "after"))
    return "".join(parts), non_retryable


@dataclass
class Ledger:
    """What the suite knows of the current run, to compare with what the next look shows."""

    run_id: int | None = None
    completed: set[str] = field(default_factory=set)
    finished: bool = False  # the run completed: the next executor starts a new one
    ran_before: dict[str, int] = field(default_factory=dict)  # side effects before this run
    rerun: bool = False  # the person asked for the interrupted steps to run again

    def this_run(self, counts: dict[str, int]) -> dict[str, int]:
        return {step: n - self.ran_before.get(step, 0) for step, n in counts.items()}

    def next_run(self, project: Path) -> None:
        if self.finished:
            self.run_id, self.completed, self.finished = None, set(), False
            self.ran_before = ran(project)


def look(project: Path, doc: Path, ledger: Ledger, reported: set[str], once_ids: set[str]) -> None:
    """Check the invariants after a kill (or an end), then act as the person would."""
    report = status(project, doc)
    counts = ledger.this_run(ran(project))
    if ledger.run_id is None:
        ledger.run_id = report["run_id"]
    assert report["run_id"] == ledger.run_id, "a new run began before the last one completed"
    completed = steps_in(report, "completed")
    lost = (ledger.completed | reported) - completed
    assert not lost, f"run {ledger.run_id}: completed steps lost: {sorted(lost)}"
    twice = {s: n for s, n in counts.items() if s in once_ids and n > 1}
    assert not twice, f"run {ledger.run_id}: non-retryable steps ran twice: {twice}"
    never = sorted(s for s in completed if counts.get(s, 0) < 1)
    assert not never, f"run {ledger.run_id}: completed without running: {never}"
    ledger.completed = completed
    ledger.finished = report["run_status"] == "completed"
    for step in report["steps"]:
        reason = step["pause_reason"] or {}
        if step["state"] == "paused" and reason.get("type") == "interrupted":
            assert step["id"] in once_ids, f"a retryable step paused: {step}"
            if counts.get(step["id"], 0):
                done = cli(project, "record_step", str(doc), step["id"], "--done")
                assert done.returncode == 0, done.stderr
                ledger.completed.add(step["id"])
                # the last step recorded may complete the run: the next executor starts another
                ledger.finished = "is completed" in done.stdout
            else:
                ledger.rerun = True


def ended(proc: subprocess.Popen[bytes], log: Path, what: str) -> None:
    """The executor ended by itself: with 0, 1 or 3, and one-line messages (no traceback)."""
    said = log.read_text(encoding="utf-8", errors="replace")
    assert proc.returncode in (0, 1, 3), f"{what}: exit {proc.returncode}\n{said[-3000:]}"
    assert "Traceback" not in said, f"{what}:\n{said[-3000:]}"


def run_until(proc: subprocess.Popen[bytes], log: Path, steps: int, then: float) -> None:
    """Wait until the executor reported `steps` more steps completed, then `then` seconds — or
    less if it ends first: a kill lands mid-run, wherever the run is by then."""
    deadline = time.monotonic() + 300
    while proc.poll() is None and len(progress(log, "completed")) < steps:
        assert time.monotonic() < deadline, f"no progress in {log}"
        time.sleep(0.01)
    deadline = time.monotonic() + then
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.mark.slow
def test_kill_9_the_executor_and_its_server_and_resume(tmp_path: Path) -> None:
    seed = random.randrange(1 << 32)
    print(f"crash suite seed {seed}")  # reproduce a failure with this
    rng = random.Random(seed)
    text, once_ids = document()
    project = tmp_path / "project"
    doc = make_project(project, text)
    ledger = Ledger()
    wanted = {"executor": EXECUTOR_KILLS, "server": SERVER_KILLS}
    kills = dict.fromkeys(wanted, 0)
    cycle = 0
    while kills != wanted or not ledger.finished:
        cycle += 1
        assert cycle < 60, f"no end in sight: {kills}, run {ledger.run_id}"
        ledger.next_run(project)
        log = tmp_path / f"cycle{cycle}.log"
        rerun = ["--rerun-interrupted"] if ledger.rerun else []
        ledger.rerun = False
        proc = start(project, "execute_task", str(doc), *rerun, log=log)
        what = f"cycle {cycle} (seed {seed})"
        wait_for(
            lambda log=log, proc=proc: proc.poll() is not None or bool(progress(log, "started")),
            120,
            f"{what}: the executor to resume the run",
        )
        # a server killed under the executor (it starts it again and goes on), then, perhaps,
        # the executor itself
        if kills["server"] < wanted["server"] and rng.random() < 0.6:
            run_until(proc, log, rng.randint(0, 15), rng.uniform(0, 0.4))
            server = command_server_of(proc.pid) if proc.poll() is None else None
            if server is not None:
                kill9(server)
                kills["server"] += 1
        if kills["executor"] < wanted["executor"]:
            reported = len(progress(log, "completed"))
            run_until(proc, log, reported + rng.randint(0, 15), rng.uniform(0, 0.4))
        server = command_server_of(proc.pid) if proc.poll() is None else None
        if kills["executor"] < wanted["executor"] and server is not None:
            kill9(proc.pid)
            proc.wait()
            wait_for(lambda server=server: not alive(server), 60, "the orphaned server to exit")
            time.sleep(0.4)  # what an orphaned command does, it does first: now it is done
            kills["executor"] += 1
        else:
            proc.wait(timeout=300)
            ended(proc, log, what)
        look(project, doc, ledger, progress(log, "completed"), once_ids)
    print(f"crash suite: {cycle} executors, kills {kills}, {ledger.run_id} runs")
    assert ledger.completed == {s["id"] for s in status(project, doc)["steps"]}
