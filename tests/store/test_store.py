"""The run store: location, schema version, atomic claims, attempts and the event log — on both
engines (`db_url`: a SQLite file, a PostgreSQL schema) where the behaviour is the same, on SQLite
where it is SQLite's (its file, WAL, pids, the migration of older files)."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from claude_task_cli.errors import DocumentChangedError, ExitCode, RunLockedError, StoreError
from claude_task_cli.outcomes import AwaitingClient, RunStatus, StepStatus, ToolError
from claude_task_cli.project import project_root
from claude_task_cli.store import (
    SCHEMA_VERSION,
    Claim,
    Event,
    Store,
    default_state_path,
    fold_by_step,
)
from claude_task_cli.store.claims import local_path
from claude_task_cli.store.urls import DatabaseUrl, parse_url
from tests.postgres_server import PostgresServer
from tests.report.regen_reports import restore
from tests.support import wait_for


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A new store on each engine."""
    with Store(parse_url(db_url)) as opened:
        yield opened


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / ".claude-task" / "state.db") as opened:
        yield opened


def open_doc(
    store: Store, claim: Claim, sha: str = "a" * 64, new: bool = False
) -> tuple[int, bool]:
    run, resumed = store.open_run(
        doc_key="/p/doc.md", doc_path="doc.md", doc_id="7", sha256=sha, claim=claim, new=new
    )
    return run.id, resumed


def test_project_root_prefers_mcp_json_then_git(tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert project_root(deep) == deep.resolve()
    (tmp_path / ".git").mkdir()
    assert project_root(deep) == tmp_path.resolve()
    (tmp_path / "a" / ".mcp.json").write_text("{}")
    assert project_root(deep) == (tmp_path / "a").resolve()


def test_default_state_path_and_env_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".mcp.json").write_text("{}")
    assert default_state_path(tmp_path) == tmp_path.resolve() / ".claude-task" / "state.db"
    monkeypatch.setenv("CLAUDE_TASK_STATE", str(tmp_path / "elsewhere.db"))
    assert default_state_path(tmp_path) == tmp_path / "elsewhere.db"


def test_new_database_is_versioned_wal_and_gitignored(sqlite_store: Store) -> None:
    assert sqlite_store.path is not None
    conn = sqlite3.connect(sqlite_store.path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert (sqlite_store.path.parent / ".gitignore").read_text() == "*\n"


def test_a_postgresql_store_is_versioned_runs_6(postgres_server: PostgresServer) -> None:
    url = parse_url(postgres_server.create_schema("versioned"))
    Store(url).close()
    with Store(url) as store, store.transaction() as tx:  # opened again: nothing to migrate
        found = tx.execute("SELECT component, version FROM schema_versions").fetchall()
    assert [tuple(row) for row in found] == [("runs", SCHEMA_VERSION)]


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer") as info:
        Store(path)
    assert info.value.exit_code == ExitCode.ENVIRONMENT


def test_runs_resume_until_completed(store: Store) -> None:
    claim = Claim()
    first, resumed = open_doc(store, claim)
    assert not resumed
    store.finish_run(first, claim, RunStatus.PAUSED)
    assert open_doc(store, claim) == (first, True)
    store.finish_run(first, claim, RunStatus.COMPLETED)
    second, resumed = open_doc(store, claim)
    assert (second > first, resumed) == (True, False)
    store.finish_run(second, claim, RunStatus.FAILED)
    third, resumed = open_doc(store, claim, new=True)
    assert (third > second, resumed) == (True, False)
    latest = store.latest_run("/p/doc.md")
    assert latest is not None
    assert (latest.id, latest.status) == (third, RunStatus.RUNNING)
    assert [r.id for r in store.runs("/p/doc.md")] == [first, second, third]


def test_a_changed_document_is_reported_when_resuming(store: Store) -> None:
    claim = Claim()
    run_id, _ = open_doc(store, claim)
    store.finish_run(run_id, claim, RunStatus.PAUSED)
    with pytest.raises(DocumentChangedError, match=r"changed since run \d+ started") as info:
        open_doc(store, claim, sha="b" * 64)
    assert info.value.exit_code == ExitCode.INVALID_INPUT
    assert open_doc(store, claim, sha="b" * 64, new=True)[0] != run_id


def test_a_live_claim_refuses_a_second_executor(store: Store) -> None:
    mine = Claim()
    run_id, _ = open_doc(store, mine)
    with pytest.raises(RunLockedError, match=rf"run {run_id} is being executed by pid") as info:
        open_doc(store, Claim(), new=True)  # not even a new run of the same document
    assert info.value.exit_code == ExitCode.ENVIRONMENT
    assert [e.kind for e in store.events(run_id)] == ["claim_refused"]
    store.finish_run(run_id, mine, RunStatus.PAUSED)
    assert open_doc(store, Claim())[0] == run_id  # released: the next executor gets it


def test_a_dead_executor_claim_is_stale_on_sqlite_and_a_lease_on_postgresql(store: Store) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = Claim(pid=int(proc.stdout))
    run_id, _ = open_doc(store, dead)
    if store.db.dialect == "sqlite":  # this host's pid decides
        assert open_doc(store, Claim()) == (run_id, True)
    else:  # no pid is looked at: the claim is held until its lease ends
        with pytest.raises(RunLockedError):
            open_doc(store, Claim())


def test_a_postgresql_claim_is_a_lease_on_the_database_clock(
    postgres_server: PostgresServer,
) -> None:
    """Heartbeats are written and judged on the server's clock: a host whose clock is far off
    (here: the epoch) changes nothing; a claim not renewed for `stale_after` seconds is free."""
    url = parse_url(postgres_server.create_schema("leases"))
    with Store(url, clock=lambda: 0.0) as store:
        mine = Claim()
        run_id, _ = open_doc(store, mine)
        store.heartbeat(run_id, mine)
        with pytest.raises(RunLockedError, match=rf"run {run_id} is being executed by pid"):
            open_doc(store, Claim())
        run = store.latest_run("/p/doc.md")
        assert run is not None
        assert run.claim_heartbeat is not None
        assert run.claim_heartbeat > 1_000_000_000  # the server's time, not the host's 0
    with Store(url, stale_after=0.2) as impatient:
        wait_for(lambda: _claimable(impatient), 30, "the lease to end")
        latest = impatient.latest_run("/p/doc.md")
        assert latest is not None
        assert (latest.id, latest.claim_pid) == (run_id, os.getpid())


def _claimable(store: Store) -> bool:
    try:
        open_doc(store, Claim())
    except RunLockedError:
        return False
    return True


def test_another_host_claim_is_live_until_its_heartbeat_is_stale_sqlite(tmp_path: Path) -> None:
    now = [1000.0]
    with Store(tmp_path / "s.db", clock=lambda: now[0], stale_after=30) as store:
        remote = Claim(pid=1, host="elsewhere.example")
        run_id, _ = open_doc(store, remote)
        now[0] += 20
        store.heartbeat(run_id, remote)
        now[0] += 29
        with pytest.raises(RunLockedError):
            open_doc(store, Claim())
        now[0] += 2
        assert open_doc(store, Claim()) == (run_id, True)


def test_claims_race_exactly_one_wins(db_url: str) -> None:
    path = parse_url(db_url)
    Store(path).close()
    for _ in range(10):
        barrier = threading.Barrier(4)
        results: list[str] = []

        def contend(
            store_path: DatabaseUrl = path,
            barrier: threading.Barrier = barrier,
            results: list[str] = results,
        ) -> None:
            with Store(store_path) as store:
                barrier.wait()
                try:
                    run, _ = store.open_run(
                        doc_key="k", doc_path="d", doc_id="1", sha256="s", claim=Claim(), new=True
                    )
                    results.append(f"won {run.id}")
                except RunLockedError:
                    results.append("refused")

        threads = [threading.Thread(target=contend) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        assert sorted(results)[:3] == ["refused"] * 3
        assert results.count("refused") == 3
        with Store(path) as store:
            run = store.latest_run("k")
            assert run is not None
            store.finish_run(run.id, Claim(token=run.claim_token or ""), RunStatus.PAUSED)


def test_stores_opened_at_once_on_a_new_database_create_it_once(db_url: str) -> None:
    path = parse_url(db_url)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def open_it() -> None:
        barrier.wait()
        try:
            Store(path).close()
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert errors == []
    with Store(path) as store:
        assert store.runs() == []


def test_attempts_are_numbered_and_round_trip(store: Store) -> None:
    claim = Claim()
    run_id, _ = open_doc(store, claim)
    first = store.start_attempt(run_id, "1.1", {"a": 1})
    reason = ToolError(failed_step="1.1", error="boom", retryable=True, suggested_tool="t")
    store.finish_attempt(run_id, "1.1", first, StepStatus.FAILED, error="boom", pause_reason=reason)
    second = store.start_attempt(run_id, "1.1", {"a": 1})
    store.finish_attempt(
        run_id,
        "1.1",
        second,
        StepStatus.COMPLETED,
        result={"ok": [1, "é"]},
        checks=[{"passed": True}],
    )
    assert (first, second) == (1, 2)
    rows = store.attempts(run_id)
    assert [(r.attempt, r.status, r.pause_reason) for r in rows] == [
        (1, StepStatus.FAILED, reason),
        (2, StepStatus.COMPLETED, None),
    ]
    latest = store.attempts(run_id)[-1]
    assert latest.result == {"ok": [1, "é"]}
    assert latest.args == {"a": 1}
    assert latest.checks == [{"passed": True}]
    assert latest.duration_ms is not None
    assert latest.duration_ms >= 0


def test_step_states_fold_attempts_with_values_only_where_asked(store: Store) -> None:
    run_id, _ = open_doc(store, Claim())
    first = store.start_attempt(run_id, "1.1", {"try": 1})
    store.finish_attempt(run_id, "1.1", first, StepStatus.FAILED, error="boom", result={"n": 1})
    second = store.start_attempt(run_id, "1.1", {"try": 2})
    store.finish_attempt(
        run_id, "1.1", second, StepStatus.COMPLETED, result={"n": 2}, checks=[{"passed": True}]
    )
    store.record_outcome(run_id, "1.2", StepStatus.SKIPPED, error="1.0 did not complete")
    third = store.start_attempt(run_id, "1.3", {"a": 1})  # called, then settled by the client
    store.finish_attempt(run_id, "1.3", third, StepStatus.FAILED, error="no", result={"n": 3})
    store.record_outcome(run_id, "1.3", StepStatus.COMPLETED, source="client", result={"ok": 1})
    full = store.step_states(run_id)
    lean = store.step_states(run_id, values={"1.2"})
    state = full["1.1"]
    assert (state.status, state.attempts, state.attempt, state.error) == (
        StepStatus.COMPLETED, 2, 2, None,
    )  # fmt: skip
    assert (state.args, state.result, state.checks) == ({"try": 2}, {"n": 2}, [{"passed": True}])
    assert state.total_ms is not None
    assert state.duration_ms is not None
    assert state.total_ms >= state.duration_ms
    assert (full["1.2"].attempts, full["1.2"].error) == (0, "1.0 did not complete")
    assert lean["1.1"] == replace(state, args=None, result=None, checks=None)
    assert lean["1.2"] == full["1.2"]
    judged = store.step_states(run_id, results=False)  # what a completion matrix reads
    assert judged["1.1"] == replace(state, args=None, result=None)
    assert judged["1.2"] == full["1.2"]
    assert store.step_values(run_id, ["1.1", "9.9"]) == {
        "1.1": ({"try": 2}, {"n": 2}, [{"passed": True}])
    }
    assert store.step_values(run_id, full) == {  # each as its state has them
        step: (state.args, state.result, state.checks) for step, state in full.items()
    }
    assert store.step_values(run_id, ["1.3"])["1.3"] == ({"a": 1}, {"ok": 1}, None)
    one = store.start_attempt(run_id, "1.4", {"b": 1})  # one called attempt, still running
    store.record_outcome(
        run_id,
        "1.5",
        StepStatus.PAUSED,
        pause_reason=ToolError(failed_step="1.5", error="e", retryable=False, suggested_tool="t"),
    )
    store.finish_attempt(run_id, "1.4", one, StepStatus.FAILED, error="x", checks=[{"passed": 0}])
    assert store.step_states(run_id) == fold_by_step(store.attempts(run_id))  # one fold, read twice


def test_a_repeated_outcome_without_a_call_adds_no_row(store: Store) -> None:
    run_id, _ = open_doc(store, Claim())
    waiting = AwaitingClient(blocked_step="2", guidance="do it")
    for _ in range(3):
        store.record_outcome(run_id, "2", StepStatus.AWAITING_CLIENT, pause_reason=waiting)
    store.record_outcome(run_id, "2", StepStatus.COMPLETED, source="client", result={"done": True})
    rows = store.attempts(run_id)
    assert [(r.attempt, r.status, r.source) for r in rows] == [
        (1, StepStatus.AWAITING_CLIENT, "engine"),
        (2, StepStatus.COMPLETED, "client"),
    ]
    assert rows[0].started_at is None


def test_events_append_in_order_with_their_state_change(store: Store) -> None:
    run_id, _ = open_doc(store, Claim())
    started = Event(kind="step_started", ts=1.0, run_id=run_id, step_id="1", payload={"n": 1})
    store.start_attempt(run_id, "1", {}, events=[started])
    store.append([Event(kind="paused", ts=2.0, run_id=run_id, payload={"why": ["x"]})])
    events = store.events(run_id)
    assert [(e.kind, e.step_id, e.payload) for e in events] == [
        ("step_started", "1", {"n": 1}),
        ("paused", None, {"why": ["x"]}),
    ]
    assert events[0].id < events[1].id


def test_a_failed_unit_of_work_leaves_nothing(store: Store) -> None:
    run_id, _ = open_doc(store, Claim())

    def half_way() -> None:
        with store.transaction() as conn:
            conn.execute(
                "INSERT INTO events (ts, run_id, kind, payload) VALUES (0, ?, 'x', '{}')",
                (run_id,),
            )
            raise RuntimeError("half way")

    with pytest.raises(RuntimeError):
        half_way()
    assert store.events(run_id) == []


FIXTURES = Path(__file__).resolve().parent / "fixtures"
REPORT_FIXTURES = Path(__file__).resolve().parent.parent / "report" / "fixtures"
JOURNAL = "steps-1-949bc8d4ad95430397ab8ad5ca89a0f0.jsonl"
TABLES = ("runs", "step_attempts", "events")


def dead_pid() -> int:
    """A pid that was ours and has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def table_names(database: Path) -> set[str]:
    conn = sqlite3.connect(database)
    try:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
        return {name for (name,) in rows}
    finally:
        conn.close()


@pytest.mark.parametrize("dump", sorted(REPORT_FIXTURES.glob("*.run.sql")), ids=lambda p: p.stem)
def test_a_schema_1_database_is_migrated_keeping_every_row(tmp_path: Path, dump: Path) -> None:
    database = restore(dump, tmp_path / "v1.db")
    conn = sqlite3.connect(database)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    before = {t: conn.execute(f"SELECT * FROM {t}").fetchall() for t in TABLES}
    conn.close()
    with Store(database) as store:
        (run,) = store.runs()
        attempts = store.attempts(run.id)
        store.record_outcome(run.id, "x", StepStatus.SKIPPED)
    conn = sqlite3.connect(database)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 6
    after = {t: conn.execute(f"SELECT * FROM {t}").fetchall() for t in TABLES}
    conn.close()
    assert [row[:-1] for row in after["runs"]] == before["runs"]  # + claim_started (version 5)
    assert after["events"] == before["events"]
    assert after["step_attempts"][: len(before["step_attempts"])] == before["step_attempts"]
    assert len(after["step_attempts"]) == len(before["step_attempts"]) + 1
    assert len(attempts) == len(before["step_attempts"])


def test_a_schema_2_database_loses_its_cache_and_revisions_not_a_row(tmp_path: Path) -> None:
    database = restore(FIXTURES / "schema2.run.sql", tmp_path / "v2.db")
    with Store(database) as store:
        (run,) = store.runs()
        (attempt,) = store.attempts(run.id)
        store.record_outcome(run.id, "1.2", StepStatus.SKIPPED)  # no trigger left to fire
    assert (run.status, attempt.result, attempt.duration_ms) == ("completed", {"ok": True}, 500.0)
    assert table_names(database) == {"runs", "step_attempts", "events", "step_journal"}
    conn = sqlite3.connect(database)
    columns = [row[1] for row in conn.execute("PRAGMA table_info(runs)")]
    conn.close()
    assert "revision" not in columns


def schema_3(tmp_path: Path, pid: int) -> Path:
    """The schema 3 database of an executor killed mid-run, with what its journal file held
    (every write after the first start), its claim made `pid`'s on this host."""
    database = restore(FIXTURES / "schema3.run.sql", tmp_path / "state.db")
    shutil.copy(FIXTURES / f"schema3.{JOURNAL}", tmp_path / f"state.db-{JOURNAL}")
    conn = sqlite3.connect(database)
    with conn:
        conn.execute("UPDATE runs SET claim_pid = ?, claim_host = ?", (pid, socket.gethostname()))
    conn.close()
    return database


def test_a_schema_3_database_takes_in_a_dead_executors_journal_once(tmp_path: Path) -> None:
    database = schema_3(tmp_path, dead_pid())
    journal = tmp_path / f"state.db-{JOURNAL}"
    with journal.open("ab") as cut:
        cut.write(b'[99,"start",[1,"1.9"')  # the kill landed in the middle of a write
    with Store(database) as store:
        (run,) = store.runs()
        states = store.step_states(run.id)
        events = store.events(run.id)
    assert not journal.exists()
    assert table_names(database) == {"runs", "step_attempts", "events", "step_journal"}
    assert {sid: s.status for sid, s in states.items()} == {
        **{f"1.{i}": StepStatus.COMPLETED for i in range(1, 6)},
        "1.6": StepStatus.FAILED,
        "1.7": StepStatus.RUNNING,
    }
    assert states["1.5"].result == {"i": 5, "text": "é"}
    assert isinstance(states["1.6"].pause_reason, ToolError)
    assert all(s.attempt == 1 for s in states.values())
    started = [e.step_id for e in events if e.kind == "step_started"]
    completed = [e.step_id for e in events if e.kind == "step_completed"]
    assert started == [f"1.{i}" for i in range(1, 6)]  # 1.7's start came without an event
    assert completed == started
    with Store(database) as again:  # applied once: opening again changes nothing
        assert again.step_states(run.id) == states


def test_a_live_executors_journal_stops_the_migration(tmp_path: Path) -> None:
    database = schema_3(tmp_path, os.getpid())  # alive: an older release still running it
    with pytest.raises(StoreError, match="older release; let it stop first"):
        Store(database)
    assert (tmp_path / f"state.db-{JOURNAL}").exists()
    conn = sqlite3.connect(database)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 3  # nothing changed
    conn.close()


def test_a_deferred_write_rides_with_the_next_and_flush_commits_it(store: Store) -> None:
    run_id, _ = open_doc(store, Claim())
    seen: list[str] = []
    store.on_commit = lambda events: seen.extend(e.kind for e in events)
    started = Event(kind="step_started", ts=1.0, run_id=run_id, step_id="1")
    attempt = store.start_attempt(run_id, "1", {}, events=[started])
    done = Event(kind="step_completed", ts=2.0, run_id=run_id, step_id="1")
    store.finish_attempt(run_id, "1", attempt, StepStatus.COMPLETED, events=[done], defer=True)
    assert seen == ["step_started"]  # not committed: not shown
    with Store(store.url) as other:  # another connection sees what is committed
        assert [a.status for a in other.attempts(run_id)] == [StepStatus.RUNNING]
        store.flush()
        assert [a.status for a in other.attempts(run_id)] == [StepStatus.COMPLETED]
    assert seen == ["step_started", "step_completed"]


def test_on_postgresql_a_document_is_known_by_repository_and_path_from_any_checkout(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    url = parse_url(postgres_server.create_schema("checkouts"))
    here, there = tmp_path / "a" / "proj", tmp_path / "b" / "proj"
    for root in (here, there):
        (root / "docs").mkdir(parents=True)
        (root / ".git").mkdir()
    with Store(url) as store:
        run, _ = store.open_run(
            doc_key=str(here / "docs" / "x.md"), doc_path="docs/x.md", doc_id="1",
            sha256="s", claim=Claim(),
        )  # fmt: skip
        assert run.doc_key == "proj:docs/x.md"
        found = store.latest_run(str(there / "docs" / "x.md"))
        assert found is not None
        assert found.id == run.id
        assert store.latest_run("id:x") is None
    assert local_path("proj:docs/x.md", there) == there / "docs" / "x.md"
    assert local_path("other:docs/x.md", there) is None
    assert local_path("id:7", there) is None
    assert local_path(str(here / "docs" / "x.md"), there) == here / "docs" / "x.md"  # SQLite's


def test_on_postgresql_an_executor_that_outlived_its_lease_writes_nothing_more(
    postgres_server: PostgresServer,
) -> None:
    url = parse_url(postgres_server.create_schema("fenced"))
    with Store(url) as stalled, Store(url, stale_after=0.2) as successor:
        late = Claim()
        run_id, _ = open_doc(stalled, late)
        stalled.start_attempt(run_id, "1.1", {})  # renews the lease while it holds
        wait_for(lambda: _claimable(successor), 30, "the lease to end")
        with pytest.raises(RunLockedError, match=rf"run {run_id} is being executed by pid"):
            stalled.start_attempt(run_id, "1.2", {})
        with pytest.raises(RunLockedError):
            stalled.finish_attempt(run_id, "1.1", 1, StepStatus.COMPLETED)
        with pytest.raises(RunLockedError):
            stalled.finish_run(run_id, late, RunStatus.FAILED)
        assert [(a.step_id, a.status) for a in successor.attempts(run_id)] == [
            ("1.1", StepStatus.RUNNING)
        ]
        latest = successor.latest_run("/p/doc.md")
        assert latest is not None
        assert latest.status == RunStatus.RUNNING


def test_an_error_quoting_a_nul_character_is_stored(store: Store) -> None:
    run_id, _ = open_doc(store, Claim())
    attempt = store.start_attempt(run_id, "1", {})
    store.finish_attempt(run_id, "1", attempt, StepStatus.FAILED, error="bad\x00byte")
    store.record_outcome(run_id, "2", StepStatus.FAILED, error="also\x00here")
    errors = [a.error for a in store.attempts(run_id)]
    kept = "\x00" if store.db.dialect == "sqlite" else "\ufffd"  # PostgreSQL's text has no NUL
    assert errors == [f"bad{kept}byte", f"also{kept}here"]
