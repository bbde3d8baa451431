"""Races between real processes on both engines: 8 claimers draining one board, round after
round (every task claimed exactly once, repository caps never exceeded); a SIGKILLed worker's task
reclaimed after its lease; a SIGSTOPped worker's late write refused by its fence."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from claude_task_cli.board import Board
from claude_task_cli.board.worker import LeaseKeeper
from tests.board.support import import_file
from tests.support import REPO

pytestmark = pytest.mark.slow
CLAIMERS = 8


def _claimer(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.board.claimer", *args],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _drain(url: str, cap: int = 0) -> list[dict[str, list[int]]]:
    workers = [_claimer("drain", url, f"w{n}", str(cap)) for n in range(CLAIMERS)]
    outputs = [w.communicate(timeout=120)[0] for w in workers]
    assert [w.returncode for w in workers] == [0] * CLAIMERS
    return [json.loads(out) for out in outputs]


def _until(claim: Callable[[], object], timeout: float = 30.0) -> object:
    """Poll `claim` until it returns something (leases end on the database's clock)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = claim()
        if found is not None:
            return found
        time.sleep(0.05)
    raise AssertionError("nothing was claimed in time")


def test_eight_claimers_claim_every_task_exactly_once(
    board: Board, db_url: str, write_doc: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    for round_number in range(3):
        tasks = [(f"Round {round_number} task {n}", []) for n in range(60)]
        if round_number == 2:  # two repositories, at most 2 tasks in progress in each
            import_file(board, write_doc(f"96{round_number}_a", tasks[:30]), auto_ready=True)
            monkeypatch.setenv("CLAUDE_TASK_REPOSITORY", "other")
            import_file(board, write_doc(f"96{round_number}_b", tasks[30:]), auto_ready=True)
        else:
            import_file(board, write_doc(f"96{round_number}_plan", tasks), auto_ready=True)
        reports = _drain(db_url, cap=2 if round_number == 2 else 0)
        claimed = [task for report in reports for task in report["claimed"]]
        ready = [t.id for t in board.tasks() if t.title.startswith(f"Round {round_number} ")]
        assert sorted(claimed) == sorted(ready)  # every task once: none twice, none missed
        assert [r["over_cap"] for r in reports] == [[]] * CLAIMERS
        assert {t.state.value for t in board.tasks()} == {"in_review"}
        claims = [e for e in board.events() if e.kind == "task.claimed"]
        assert len(claims) == len({e.task and (e.document, e.task) for e in claims})


def test_a_killed_workers_task_is_reclaimed_after_its_lease(
    board: Board, db_url: str, write_doc: Callable[..., Path]
) -> None:
    import_file(board, write_doc("970_plan", [("Only", [])]), auto_ready=True)
    with _claimer("hold", db_url, "doomed", "1") as victim:
        assert victim.stdout is not None
        held = json.loads(victim.stdout.readline())["task"]
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
    claimed = _until(lambda: board.claim("heir")[0])
    assert claimed.task.id == held  # type: ignore[attr-defined]
    assert claimed.task.attempts == 2  # type: ignore[attr-defined]
    lapsed = [e for e in board.events() if e.payload.get("note") == "the lease of doomed ended"]
    assert len(lapsed) == 1


def test_a_stopped_workers_late_write_is_refused(
    board: Board, db_url: str, write_doc: Callable[..., Path]
) -> None:
    import_file(board, write_doc("971_plan", [("Only", [])]), auto_ready=True)
    with _claimer("hold", db_url, "sleeper", "1") as sleeper:
        assert sleeper.stdout is not None
        assert sleeper.stdin is not None
        held = json.loads(sleeper.stdout.readline())["task"]
        os.kill(sleeper.pid, signal.SIGSTOP)
        try:
            successor = _until(lambda: board.claim("successor")[0])
            assert successor.task.id == held  # type: ignore[attr-defined]
        finally:
            os.kill(sleeper.pid, signal.SIGCONT)
        sleeper.stdin.write("go\n")
        sleeper.stdin.flush()
        assert sleeper.stdout.readline().strip() == "lost"
        sleeper.wait(timeout=10)
    task = board.find_task("971", "1")
    assert (task.state.value, task.claim_worker) == ("in_progress", "successor")


def test_the_lease_keeper_renews_and_notices_a_lost_claim(
    board: Board, write_doc: Callable[..., Path]
) -> None:
    import_file(board, write_doc("972_plan", [("Only", [])]), auto_ready=True)
    claimed, _ = board.claim("w1", lease=1.5)
    assert claimed is not None
    with LeaseKeeper(board.db.url, claimed, lease=1.5) as keeper:
        _until(lambda: (board.find_task("972", "1").lease_until or 0) > claimed.lease_until or None)
        board.move("972", "1", "blocked", "ana")
        _until(lambda: keeper.lost or None)
