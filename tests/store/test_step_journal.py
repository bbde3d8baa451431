"""The step journal: a running run's writes survive a SIGKILL of their process, once each."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

import claude_task_cli.store.database as store_module
from claude_task_cli.errors import StoreError
from claude_task_cli.outcomes import StepStatus
from claude_task_cli.store.database import Claim, Event, Store
from claude_task_cli.store.journal import journals, read_records


def dead_pid() -> int:
    """A pid that was ours and has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def open_run(store: Store, claim: Claim) -> int:
    run, _ = store.open_run(doc_key="k", doc_path="d.md", doc_id="1", sha256="s", claim=claim)
    return run.id


def journaled(database: Path, ids: list[str]) -> tuple[Store, int]:
    """A store whose run, journaled, executed `ids`, as an executor that is gone left it."""
    claim = Claim(pid=dead_pid())
    store = Store(database)
    run_id = open_run(store, claim)
    store.journal_run(run_id, claim)
    steps(store, run_id, ids)
    return store, run_id


def steps(store: Store, run_id: int, ids: list[str]) -> None:
    """Each step started and completed, as the executor writes them."""
    for sid in ids:
        started = Event(kind="step_started", ts=1.0, run_id=run_id, step_id=sid, payload={})
        attempt = store.start_attempt(run_id, sid, {"n": sid}, events=[started])
        done = Event(kind="step_completed", ts=2.0, run_id=run_id, step_id=sid, payload={})
        store.finish_attempt(
            run_id, sid, attempt, StepStatus.COMPLETED, result={"ok": sid}, events=[done],
            defer=True,
        )  # fmt: skip


def event_counts(store: Store, run_id: int) -> Counter[tuple[str, str | None]]:
    return Counter((e.kind, e.step_id) for e in store.events(run_id))


KILLED = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    import claude_task_cli.store.database as store_module
    from claude_task_cli.outcomes import StepStatus
    from claude_task_cli.store.database import Claim, Event, Store
    store_module.APPLY_AFTER = 3600.0  # nothing reaches the database but the first write
    store = Store(Path(sys.argv[1]))
    claim = Claim()
    run, _ = store.open_run(doc_key="k", doc_path="d.md", doc_id="1", sha256="s", claim=claim)
    store.journal_run(run.id, claim)
    for i in range(1, 101):
        sid = f"1.{i}"
        started = Event(kind="step_started", ts=1.0, run_id=run.id, step_id=sid, payload={})
        n = store.start_attempt(run.id, sid, {"i": i}, events=[started])
        done = Event(kind="step_completed", ts=2.0, run_id=run.id, step_id=sid, payload={})
        store.finish_attempt(run.id, sid, n, StepStatus.COMPLETED, result={"i": i},
                             events=[done], defer=True)
    store.start_attempt(run.id, "1.101", {"i": 101})  # killed while its call is in flight
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_a_killed_executor_loses_no_journaled_step(tmp_path: Path) -> None:
    database = tmp_path / "state.db"
    proc = subprocess.run([sys.executable, "-c", KILLED, str(database)], check=False)
    assert proc.returncode == -9
    ((journal, run_id, _token),) = journals(database)
    # the first start went to the database at once; each end rode with the next start
    assert len(read_records(journal)) == 200
    with Store(database) as store:  # a reader: applies the dead executor's journal first
        attempts = store.latest_attempts(run_id)
        counts = event_counts(store, run_id)
    assert journals(database) == []
    assert attempts.pop("1.101").status == StepStatus.RUNNING
    assert len(attempts) == 100
    assert all(a.status == StepStatus.COMPLETED and a.attempt == 1 for a in attempts.values())
    assert attempts["1.100"].result == {"i": 100}
    assert counts == Counter(
        {(kind, f"1.{i}"): 1 for i in range(1, 101) for kind in ("step_started", "step_completed")}
    )


def test_task_status_reads_a_killed_executors_journal_first(tmp_path: Path) -> None:
    database = tmp_path / "state.db"
    proc = subprocess.run([sys.executable, "-c", KILLED, str(database)], check=False)
    assert proc.returncode == -9
    with Store(database) as store:  # as `task_status` reads: through a Store
        run = store.latest_run("k")
        assert run is not None
        latest = store.latest_attempts(run.id)
    assert journals(database) == []
    statuses = Counter(attempt.status for attempt in latest.values())
    assert statuses == {StepStatus.COMPLETED: 100, StepStatus.RUNNING: 1}


def test_a_journal_applied_but_not_yet_emptied_is_not_applied_twice(tmp_path: Path) -> None:
    database = tmp_path / "state.db"
    store, run_id = journaled(database, ["1", "2", "3"])
    journal = store._journal
    assert journal is not None
    text = journal.path.read_bytes()
    store.flush()  # applied and emptied ...
    journal.path.write_bytes(text)  # ... as if the process died between the two
    steps(store, run_id, ["4"])  # and more writes after it, journaled only
    store.start_attempt(run_id, "5", {})  # the write that carries 4's end
    reader = Store(database)
    try:
        counts = event_counts(reader, run_id)
        attempts = reader.attempts(run_id)
    finally:
        reader.close()
    assert sorted(a.step_id for a in attempts) == ["1", "2", "3", "4", "5"]
    assert set(counts.values()) == {1}
    assert len(counts) == 8


def test_a_cut_short_last_line_is_left_out(tmp_path: Path) -> None:
    database = tmp_path / "state.db"
    store, run_id = journaled(database, ["1", "2"])
    assert store._journal is not None
    path = store._journal.path
    whole = path.read_bytes()
    path.write_bytes(whole + b'[99,"start",[1,"3"')  # a kill in the middle of a write
    with Store(database) as reader:
        assert sorted(reader.latest_attempts(run_id)) == ["1", "2"]


def test_a_damaged_journal_is_named(tmp_path: Path) -> None:
    database = tmp_path / "state.db"
    store, _run_id = journaled(database, ["1"])
    assert store._journal is not None
    store._journal.path.write_bytes(b"not json\n")
    with pytest.raises(StoreError, match="unreadable step journal") as caught:
        Store(database)
    assert str(store._journal.path) in str(caught.value)


def test_a_live_executors_journal_is_left_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "APPLY_AFTER", 3600.0)
    database = tmp_path / "state.db"
    claim = Claim()  # this process: alive
    with Store(database) as store:
        run_id = open_run(store, claim)
        store.journal_run(run_id, claim)
        steps(store, run_id, ["1", "2"])  # the first start applied at once, the rest journaled
        with Store(database) as reader:
            assert [a.status for a in reader.attempts(run_id)] == [StepStatus.RUNNING]
            assert len(journals(database)) == 1
        store.end_journal()
        assert journals(database) == []
        with Store(database) as reader:
            assert [a.status for a in reader.attempts(run_id)] == [StepStatus.COMPLETED] * 2


def test_a_new_session_applies_the_last_ones_journal_and_numbers_on(tmp_path: Path) -> None:
    database = tmp_path / "state.db"
    _store, run_id = journaled(database, ["1"])
    with Store(database) as again:  # the dead session's journal is applied when it opens
        claim = Claim()
        assert open_run(again, claim) == run_id
        again.journal_run(run_id, claim)
        assert again.start_attempt(run_id, "1", {}) == 2  # the journaled attempt 1 counted
        again.end_journal()
        assert [a.attempt for a in again.attempts(run_id)] == [1, 2]


def test_writes_the_database_refused_stay_in_the_journal_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "state.db"
    store, run_id = journaled(database, ["1", "2"])  # 2's end deferred: not in the file yet

    def refused(*_args: object, **_kwargs: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store, "_commit", refused)
    with pytest.raises(sqlite3.OperationalError):
        store.end_journal()
    monkeypatch.undo()
    store.close()  # applies nothing of the journal's: that is the next store's
    ((path, _run, _token),) = journals(database)
    with Store(database) as reader:
        attempts = reader.latest_attempts(run_id)
        counts = event_counts(reader, run_id)
    assert not path.exists()
    assert {sid: a.status for sid, a in attempts.items()} == {
        "1": StepStatus.COMPLETED,
        "2": StepStatus.COMPLETED,
    }
    assert set(counts.values()) == {1}
    assert len(counts) == 4
