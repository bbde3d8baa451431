"""Who executes a run, across processes: eight processes that open a new database at once and
claim the same document get one claim and seven clear refusals (on both engines), and a crashed
executor's pid, given again by the system to another process, does not keep its run claimed."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from claude_task_cli.errors import RunLockedError
from claude_task_cli.outcomes import RunStatus
from claude_task_cli.store import Claim, Store
from claude_task_cli.store.claims import started_at
from claude_task_cli.store.urls import parse_url

PROCESSES = 8
ROUNDS = 12


def contend(path: str, start: Any, results: Any, done: Any) -> None:
    """One executor's opening moves: open the store, claim the document's run."""
    start.wait()
    try:
        with Store(parse_url(path)) as store:
            store.open_run(
                doc_key="/p/doc.md", doc_path="doc.md", doc_id="7", sha256="a" * 64, claim=Claim()
            )
            results.put("claimed")
            done.wait(60)  # hold the claim while the others try
    except RunLockedError as exc:
        results.put(f"refused: {exc}")
    except Exception as exc:  # what the race must never produce
        results.put(f"error: {type(exc).__name__}: {exc}")


@pytest.mark.slow
def test_eight_processes_on_a_new_database_one_claims_seven_are_refused(
    db_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    fork = multiprocessing.get_context("fork")
    for round_no in range(ROUNDS):
        if db_url.startswith("sqlite"):
            path = f"sqlite:///{tmp_path / f'round{round_no}' / 'state.db'}"
        else:  # a new schema each round: its tables made by whichever process comes first
            path = request.getfixturevalue("postgres_server").create_schema(
                f"race_{uuid.uuid4().hex[:12]}"
            )
        start, done = fork.Barrier(PROCESSES), fork.Event()
        results = fork.Queue()
        procs = [
            fork.Process(target=contend, args=(path, start, results, done))
            for _ in range(PROCESSES)
        ]
        for proc in procs:
            proc.start()
        said = [results.get(timeout=60) for _ in range(PROCESSES)]
        done.set()
        for proc in procs:
            proc.join(timeout=60)
        assert said.count("claimed") == 1, (round_no, said)
        refusals = [s for s in said if s != "claimed"]
        assert all(
            s.startswith("refused: doc.md: run 1 is being executed by pid") for s in refusals
        ), (
            round_no,
            refusals,
        )


def test_a_reused_pid_does_not_keep_a_crashed_run_claimed(tmp_path: Path) -> None:
    # A live process that is not the executor which claimed: what a reused pid looks like.
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with Store(tmp_path / "state.db") as store:
            crashed = Claim(pid=other.pid, started="another boot:1")
            run, _ = store.open_run(
                doc_key="k", doc_path="d", doc_id="1", sha256="s", claim=crashed
            )
            resumed, again = store.open_run(
                doc_key="k", doc_path="d", doc_id="1", sha256="s", claim=Claim()
            )
            assert (resumed.id, again) == (run.id, True)
            assert resumed.claim_pid == os.getpid()
            assert resumed.claim_started == started_at(os.getpid())
    finally:
        other.kill()
        other.wait()


def test_a_live_executor_with_its_start_time_keeps_its_claim(tmp_path: Path) -> None:
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with Store(tmp_path / "state.db") as store:
            live = Claim(pid=other.pid, started=started_at(other.pid))
            run, _ = store.open_run(doc_key="k", doc_path="d", doc_id="1", sha256="s", claim=live)
            with pytest.raises(RunLockedError, match=f"pid {other.pid}"):
                store.open_run(doc_key="k", doc_path="d", doc_id="1", sha256="s", claim=Claim())
            store.finish_run(run.id, live, RunStatus.PAUSED)
    finally:
        other.kill()
        other.wait()


def test_a_database_of_schema_4_gains_the_start_time(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with Store(path) as store:
        run, _ = store.open_run(doc_key="k", doc_path="d", doc_id="1", sha256="s", claim=Claim())
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE runs DROP COLUMN claim_started")
    conn.execute("PRAGMA user_version = 4")
    conn.commit()
    conn.close()
    with Store(path) as store:
        latest = store.latest_run("k")
    assert latest is not None
    assert (latest.id, latest.claim_started) == (run.id, None)  # pid alone, as before
