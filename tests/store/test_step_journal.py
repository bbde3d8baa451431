"""The step journal (`store/step_journal.py`): while an executor holds a run on SQLite, each
attempt's start and the deferred writes before it are durable by one line in the run's file and
reach the database in batches; a killed executor's file is applied once, by whoever opens the
database next or claims the run again."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from claude_task_cli.errors import StoreError
from claude_task_cli.outcomes import StepStatus
from claude_task_cli.store import Claim, Event, Store, commits
from claude_task_cli.store.step_journal import journal_files

# An executor that records 100 steps, starts a 101st and is killed by SIGKILL while that call would
# be in flight. `argv[2]`: "journal" journals the run, "journal+apply" also lets one batch reach
# the database halfway, "transactions" commits each start (PostgreSQL's way, no journal).
KILLED = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from claude_task_cli.outcomes import StepStatus
    from claude_task_cli.store import Claim, Event, Store
    store = Store(Path(sys.argv[1]))
    claim = Claim()
    run, _ = store.open_run(doc_key="k", doc_path="d.md", doc_id="1", sha256="s", claim=claim)
    if sys.argv[2] != "transactions":
        store.journal_run(run.id, claim)
    for i in range(1, 101):
        sid = f"1.{i}"
        started = Event(kind="step_started", ts=1.0, run_id=run.id, step_id=sid, payload={})
        n = store.start_attempt(run.id, sid, {"i": i}, events=[started])
        done = Event(kind="step_completed", ts=2.0, run_id=run.id, step_id=sid, payload={})
        store.finish_attempt(run.id, sid, n, StepStatus.COMPLETED, result={"i": i},
                             events=[done], defer=True)
        if i == 50 and sys.argv[2] == "journal+apply":
            store.flush()
    store.start_attempt(run.id, "1.101", {"i": 101})
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def killed(database: Path, mode: str) -> None:
    proc = subprocess.run([sys.executable, "-c", KILLED, str(database), mode], check=False)
    assert proc.returncode == -9


def assert_all_there(store: Store, run_id: int) -> None:
    """Every step of the killed executor once: 100 completed, the one in flight running."""
    attempts = {a.step_id: a for a in store.attempts(run_id)}
    events = Counter((e.kind, e.step_id) for e in store.events(run_id))
    assert attempts.pop("1.101").status == StepStatus.RUNNING
    assert len(attempts) == 100
    assert all(a.status == StepStatus.COMPLETED and a.attempt == 1 for a in attempts.values())
    assert attempts["1.100"].result == {"i": 100}
    assert events == Counter(
        {(kind, f"1.{i}"): 1 for i in range(1, 101) for kind in ("step_started", "step_completed")}
    )


@pytest.mark.parametrize("mode", ["journal", "journal+apply"])
def test_a_killed_executors_journal_is_applied_once_by_the_next_store(
    tmp_path: Path, mode: str
) -> None:
    database = tmp_path / "state.db"
    killed(database, mode)
    (journal,) = journal_files(database)  # what the database lacks is in the file
    with Store(database) as store:  # opening it applies the file, then removes it
        (run,) = store.runs()
        assert_all_there(store, run.id)
    assert journal_files(database) == []
    assert not journal[0].exists()
    with Store(database) as again:  # nothing applied twice
        assert_all_there(again, run.id)


def test_without_a_journal_each_start_commits_the_end_before_it(tmp_path: Path) -> None:
    """Each step's end rides in the transaction of the next start: a SIGKILL while a call is in
    flight leaves every earlier step completed, once, and the one in flight running."""
    database = tmp_path / "state.db"
    killed(database, "transactions")
    assert journal_files(database) == []
    with Store(database) as store:
        (run,) = store.runs()
        assert_all_there(store, run.id)


def test_a_resumed_run_numbers_its_attempts_after_the_killed_ones(tmp_path: Path) -> None:
    database = tmp_path / "state.db"
    killed(database, "journal+apply")
    with Store(database) as store:
        (run,) = store.runs()
        claim = Claim()
        again, resumed = store.open_run(
            doc_key="k", doc_path="d.md", doc_id="1", sha256="s", claim=claim
        )
        assert (again.id, resumed) == (run.id, True)
        store.journal_run(run.id, claim)
        assert store.start_attempt(run.id, "1.101", {"i": 101}) == 2
        assert store.start_attempt(run.id, "1.102", {"i": 102}) == 1
        store.finish_run(run.id, claim, run.status)
        store.end_journal()
        numbers = [(a.step_id, a.attempt) for a in store.attempts(run.id)]
    assert [n for n in numbers if n[0] in ("1.101", "1.102")] == [
        ("1.101", 1),
        ("1.101", 2),
        ("1.102", 1),
    ]
    assert journal_files(database) == []


def test_a_live_executors_journal_is_its_own_and_reaches_the_database_in_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "state.db"
    with Store(database) as store:
        claim = Claim()
        run, _ = store.open_run(doc_key="k", doc_path="d.md", doc_id="1", sha256="s", claim=claim)
        store.journal_run(run.id, claim)
        seen: list[str] = []
        store.on_commit = lambda events: seen.extend(f"{e.kind} {e.step_id}" for e in events)
        started = Event(kind="step_started", ts=1.0, run_id=run.id, step_id="1")
        assert store.start_attempt(run.id, "1", {}, events=[started]) == 1
        assert seen == ["step_started 1"]  # durable in the file: shown
        (journal,) = journal_files(database)
        assert journal[0].stat().st_size > 0
        with Store(database) as reader:  # the claim is live: its file is left alone
            assert reader.attempts(run.id) == []
            assert journal[0].exists()
            monkeypatch.setattr(commits, "APPLY_AFTER", 3600.0)
            store.apply_due()  # too soon after the last batch: nothing
            assert reader.attempts(run.id) == []
            monkeypatch.setattr(commits, "APPLY_AFTER", 0.0)
            store.apply_due()
            assert [a.status for a in reader.attempts(run.id)] == [StepStatus.RUNNING]
            assert journal[0].stat().st_size == 0  # applied: the file starts afresh
        assert seen == ["step_started 1"]  # shown once
        store.finish_attempt(run.id, "1", 1, StepStatus.COMPLETED, defer=True)
        store.finish_run(run.id, claim, run.status)
        store.end_journal()
        assert not journal[0].exists()
        assert [a.status for a in store.attempts(run.id)] == [StepStatus.COMPLETED]


def test_a_journal_applied_behind_its_executors_back_stops_its_writes(tmp_path: Path) -> None:
    """A claim judged gone while its executor still ran (another took the run): its next batch
    is refused, not applied a second time."""
    database = tmp_path / "state.db"
    with Store(database) as store:
        claim = Claim()
        run, _ = store.open_run(doc_key="k", doc_path="d.md", doc_id="1", sha256="s", claim=claim)
        store.journal_run(run.id, claim)
        store.start_attempt(run.id, "1", {})
        with store.transaction() as tx:  # what a replay by another process leaves
            tx.execute("INSERT INTO step_journal (run_id, seq) VALUES (?, 9)", (run.id,))
        with pytest.raises(StoreError, match="no longer claimed"):
            store.flush()
        with pytest.raises(StoreError, match="no longer claimed"):
            store.close()
    (journal,) = journal_files(database)
    assert journal[0].exists()  # kept, as the database refused it


@pytest.mark.parametrize("kind", ["fifo", "link"])
def test_a_journal_name_that_is_no_regular_file_is_refused_not_read(
    tmp_path: Path, kind: str
) -> None:
    database = tmp_path / "state.db"
    with Store(database) as store:  # run 1, its claim released
        claim = Claim()
        run, _ = store.open_run(doc_key="k", doc_path="d.md", doc_id="1", sha256="s", claim=claim)
        store.finish_run(run.id, claim, run.status)
    planted = tmp_path / "state.db-steps-1-abc.jsonl"
    if kind == "fifo":
        os.mkfifo(planted)  # reading it would wait for a writer forever
    else:
        outside = tmp_path / "elsewhere.jsonl"
        outside.write_text('[1,"none",[],[]]\n')
        planted.symlink_to(outside)
    with pytest.raises(StoreError, match=re.escape(str(planted))):
        Store(database)
    assert planted.is_symlink() or planted.exists()  # left for a person to look at


def test_a_journal_line_this_release_did_not_write_is_named_not_applied(tmp_path: Path) -> None:
    database = tmp_path / "state.db"
    with Store(database) as store:
        claim = Claim()
        run, _ = store.open_run(doc_key="k", doc_path="d.md", doc_id="1", sha256="s", claim=claim)
        store.finish_run(run.id, claim, run.status)
        events = len(store.events(run.id))
    planted = tmp_path / "state.db-steps-1-abc.jsonl"
    row = '[2.0, 1, "1", "step_started", "{}"]'
    planted.write_text(f'[1,"none",[],[{row}]]\n[2,"drop table",[],[]]\n')
    with pytest.raises(StoreError, match="line 2 is not a journal record"):
        Store(database)
    assert planted.exists()
    conn = sqlite3.connect(database)  # line 1 was rolled back with the rest
    assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == events
    conn.close()
