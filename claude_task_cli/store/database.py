"""Durable run state in SQLite: runs, step attempts and an append-only event log.

Location: `<project root>/.claude-task/state.db`, where the project root is the nearest ancestor
holding `.mcp.json`, else `.git`, else the current directory; `$CLAUDE_TASK_STATE` or an explicit
path overrides it. The directory gets a `.gitignore` of `*` when created.

Every write is one transaction (`Store.transaction`, `BEGIN IMMEDIATE`) that changes the state and
appends its events together. A write may be deferred (`defer=True`, group commit): it is committed
with the next write or by `flush`, which the engine calls before it waits on anything. WAL with
`synchronous=NORMAL` survives `kill -9` of the executor (not a power cut; that would need `FULL`,
~1 fsync per commit). Rows are typed by `run_records.py`, writes are data (`store_writes.py`),
reads and the claim are functions over a connection (`store_rows.py`).

While the executor runs a run (`journal_run`), an attempt's start and every deferred write are made
durable by one line in the run's step journal (`step_journal.py`) and applied to the database in
batches: at the first journaled write `APPLY_AFTER` seconds after the last batch, at `apply_due`
(which the engine calls every `APPLY_AFTER` seconds, so also while a call is in flight), at any
other write, and at `flush`. Another process reading a running run sees it at most ~2 ×
`APPLY_AFTER` behind; a journal whose executor died is applied by the next `Store` opened on the
database, before anything is read.

Claims: a run is executed by at most one executor. `open_run` claims it atomically; a claim is live
while its process is alive (same host) or its heartbeat is younger than `stale_after` seconds (other
hosts). A second executor gets `RunLockedError` and nothing runs. The schema, its version and
the migration of an older database are in `store_schema.py`.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from claude_task_cli.errors import RunLockedError, StoreError
from claude_task_cli.outcomes import PauseReason, RunStatus, StepStatus
from claude_task_cli.project import STATE_DIR, STATE_ENV, default_state_path, project_root
from claude_task_cli.store.journal import StepJournal, journal_path, journals, read_records
from claude_task_cli.store.json_text import dumps_json
from claude_task_cli.store.records import AttemptRecord, Claim, Event, RunRecord
from claude_task_cli.store.rows import (
    claim_live,
    claim_run,
    latest_run,
    read_attempts,
    read_events,
    read_runs,
)
from claude_task_cli.store.schema import SCHEMA_VERSION, migrate
from claude_task_cli.store.writes import (
    APPLY,
    START_NEXT,
    EventRow,
    applied_seq,
    apply_batch,
    event_rows,
    insert_events,
    mark_applied,
    replay,
)

__all__ = [
    "SCHEMA_VERSION",
    "STATE_DIR",
    "STATE_ENV",
    "AttemptRecord",
    "Claim",
    "Event",
    "RunRecord",
    "Store",
    "default_state_path",
    "project_root",
]

_T = TypeVar("_T")

STALE_AFTER = 30.0  # seconds without a heartbeat before another host's claim is stale
CHECKPOINT_EVERY = 500  # commits between background WAL checkpoints
APPLY_AFTER = 0.05  # seconds a journaled write may wait for its batch (see the module docstring)
APPLY_MAX = 512  # journaled writes in one batch at most
_AUTOCHECKPOINT_PAGES = 20000  # SQLite's own checkpoint: only a safety net (~20 MB of WAL)

# A write waiting for its transaction: its journal record's number (None: not journaled), its
# kind and parameters (`store_writes.APPLY`), its events' rows.
_Pending = tuple["int | None", str, tuple[Any, ...], list[EventRow]]


def _nothing(_conn: sqlite3.Connection) -> None:
    return None


class Store:
    """One SQLite database; use as a context manager or call `close()`."""

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], float] = time.time,
        stale_after: float = STALE_AFTER,
    ) -> None:
        self.path = path
        self.clock = clock
        self.stale_after = stale_after
        # sees events once they are durable: committed, or journaled
        self.on_commit: Callable[[list[Event]], None] | None = None
        self._pending: list[_Pending] = []
        self._queued: list[Event] = []  # events of pending writes not journaled, not yet seen
        self._journal: StepJournal | None = None
        self._lines: list[bytes] = []  # journal lines of pending deferred writes, not written yet
        self._attempt_numbers: dict[str, int] = {}  # the journaled run's, by step
        self._applied_at = 0.0
        self._commits = 0
        self._checkpointer: threading.Thread | None = None
        try:
            if path.parent != Path() and not path.parent.exists():
                path.parent.mkdir(parents=True)
                if path.parent.name == STATE_DIR:
                    (path.parent / ".gitignore").write_text("*\n", encoding="utf-8")
            self._conn = sqlite3.connect(path, isolation_level=None, timeout=10.0)
            # small pages: a step's commit touches a few pages, each written whole to the WAL
            self._conn.execute("PRAGMA page_size=1024")
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            # A checkpoint fsyncs (tens of ms here): never in a step's path. A thread does it
            # every CHECKPOINT_EVERY commits; the GIL is released while it waits on the disk.
            self._conn.execute(f"PRAGMA wal_autocheckpoint={_AUTOCHECKPOINT_PAGES}")
            self._migrate()
            self._recover()
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(path, f"cannot open the state database: {exc}") from exc

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            if self._journal is not None:
                self.end_journal()
            self.flush()
        finally:
            if self._checkpointer is not None:
                self._checkpointer.join()
            self._conn.close()

    def _checkpoint_soon(self) -> None:
        if self._checkpointer is not None and self._checkpointer.is_alive():
            return

        def checkpoint(path: Path = self.path) -> None:
            try:
                conn = sqlite3.connect(path, timeout=10.0)
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                finally:
                    conn.close()
            except sqlite3.Error:
                pass  # SQLite's own autocheckpoint remains the safety net

        self._checkpointer = threading.Thread(target=checkpoint, name="wal-checkpoint")
        self._checkpointer.start()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One unit of work: committed whole on success, rolled back on any exception."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _commit(self, op: Callable[[sqlite3.Connection], _T], events: Sequence[Event] = ()) -> _T:
        """A write: pending writes first, then `op`, then all their events; one transaction,
        whose result is `op`'s. `on_commit` sees the events not seen yet once they are durable.
        Plain calls, no context managers: this runs once per batch of executed steps."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            if self._pending:
                self._apply_pending(conn)
            value = op(conn)
            if events:
                insert_events(conn, event_rows(events))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        seen = [*self._queued, *events] if events else self._queued
        self._pending, self._queued, self._lines = [], [], []
        if self._journal is not None:
            self._journal.applied()
            self._applied_at = time.monotonic()
        self._commits += 1
        if self._commits % CHECKPOINT_EVERY == 0:
            self._checkpoint_soon()
        if seen and self.on_commit is not None:
            self.on_commit(seen)
        return value

    def _apply_pending(self, conn: sqlite3.Connection) -> None:
        journal = self._journal
        pending = self._pending
        if journal is not None:
            mark = applied_seq(conn, journal.run_id)
            if pending[0][0] is not None and pending[0][0] <= mark:  # a reader recovered some
                pending = [p for p in pending if p[0] is None or p[0] > mark]
            last = next((p[0] for p in reversed(pending) if p[0] is not None), None)
            if last is not None:
                mark_applied(conn, journal.run_id, last)
        apply_batch(conn, pending)

    def _write(
        self,
        kind: str,
        params: tuple[Any, ...],
        events: Sequence[Event],
        defer: bool,
        *,
        durable: bool = False,
    ) -> None:
        """A write: committed now; or `defer`red, to ride with the next write; or, while a run is
        journaled, `durable` now through the journal, with every deferred write before it."""
        journal = self._journal
        if journal is not None and (defer or durable):
            rows = event_rows(events)
            seq, line = journal.record(kind, params, rows)
            self._pending.append((seq, kind, params, rows))
            self._lines.append(line)
            self._queued.extend(events)
            if durable:  # one write(2) for this write and those deferred before it
                journal.write(self._lines)
                seen, self._lines, self._queued = self._queued, [], []
                if (
                    time.monotonic() - self._applied_at >= APPLY_AFTER
                    or len(self._pending) >= APPLY_MAX
                ):
                    self._commit(_nothing)
                if seen and self.on_commit is not None:
                    self.on_commit(seen)
        elif defer:
            self._pending.append((None, kind, params, event_rows(events)))
            self._queued.extend(events)
        else:
            self._commit(lambda conn: APPLY[kind](conn, params), events)

    def flush(self) -> None:
        """Commit deferred writes now. A deferred write (`defer=True`) rides along with the next
        write, or is committed by `flush`, which the engine calls before it waits on anything:
        group commit saves a transaction per step without leaving an outcome uncommitted while
        the run waits. A journaled write is durable already; `flush` puts it in the database."""
        if self._pending or self._queued:
            self._commit(_nothing)

    # the step journal -------------------------------------------------------------------------

    def apply_due(self) -> None:
        """Put journaled writes in the database if the last batch is `APPLY_AFTER` old: the
        engine calls this every `APPLY_AFTER` seconds, so the database catches up while a call
        is in flight (at most ~2 × `APPLY_AFTER` behind), not only at the next write."""
        due = time.monotonic() - self._applied_at >= APPLY_AFTER
        if self._journal is not None and self._pending and due:
            self._commit(_nothing)

    def journal_run(self, run_id: int, claim: Claim) -> None:
        """Journal this run's starts and deferred writes until `end_journal` (the executor, once
        it holds the run's claim). An earlier session's journal of the run is applied first."""
        self.flush()
        self._recover(run_id, keep=claim.token)
        conn = self._conn
        seq = applied_seq(conn, run_id)
        numbers = conn.execute(
            "SELECT step_id, MAX(attempt) FROM step_attempts WHERE run_id = ? GROUP BY step_id",
            (run_id,),
        )
        self._attempt_numbers = dict(numbers.fetchall())
        path = journal_path(self.path, run_id, claim.token)
        try:
            self._journal = StepJournal(path, run_id, seq)
        except OSError as exc:
            raise StoreError(path, f"cannot create the run's step journal: {exc}") from exc
        self._applied_at = float("-inf")  # the first write goes to the database at once

    def end_journal(self) -> None:
        """Apply what the journal holds and remove it; kept if the database refuses it."""
        journal = self._journal
        if journal is None:
            return
        try:
            self.flush()
        except BaseException:
            # the database refused them: the file keeps them for the next Store to apply, and
            # this one must not apply them as well
            with contextlib.suppress(OSError):
                journal.write(self._lines)
            self._pending = [p for p in self._pending if p[0] is None]
            self._lines, self._queued, self._journal = [], [], None
            journal.close(remove=False)
            raise
        self._journal = None
        journal.close(remove=True)

    def _recover(self, run_id: int | None = None, keep: str | None = None) -> None:
        """Apply the journals whose executor is gone (of `run_id`, else all), then remove them;
        the journal of a live claim is its executor's, and `keep`'s is ours."""
        now = self.clock()
        for path, run, token in journals(self.path):
            if (run_id is not None and run != run_id) or token == keep:
                continue
            try:
                records = read_records(path)
            except ValueError as exc:
                raise StoreError(path, f"unreadable step journal: {exc}") from exc
            with self.transaction() as conn:
                found = read_runs(conn, "id = ?", (run,))
                owner = found[0] if found else None
                if owner is None:  # no such run: nothing to apply the journal to
                    pass
                elif owner.claim_token != token or not claim_live(owner, now, self.stale_after):
                    replay(conn, run, records)
                else:  # its executor is alive: the journal is its own
                    continue
            path.unlink(missing_ok=True)

    def _migrate(self) -> None:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                self.path, f"schema {version} is newer than this release knows ({SCHEMA_VERSION})"
            )
        if version < SCHEMA_VERSION:
            with self.transaction() as conn:
                migrate(conn, version)

    # runs -------------------------------------------------------------------------------------

    def open_run(
        self,
        *,
        doc_key: str,
        doc_path: str,
        doc_id: str,
        sha256: str,
        claim: Claim,
        new: bool = False,
    ) -> tuple[RunRecord, bool]:
        """Claim the document's unfinished run (or a new one): `(run, resumed)`, atomically.

        A new run is started when `new` is true or the latest run completed. Raises
        `RunLockedError` when a live executor holds any run of the document, and
        `DocumentChangedError` when resuming a run whose source hash differs.
        """
        self.flush()
        now = self.clock()
        with self.transaction() as conn:
            record, holder, resume = claim_run(
                conn,
                doc_key=doc_key,
                doc_path=doc_path,
                doc_id=doc_id,
                sha256=sha256,
                claim=claim,
                new=new,
                now=now,
                stale_after=self.stale_after,
            )
        if holder is not None:  # the refusal event is committed first
            raise RunLockedError(
                doc_path, holder.id, f"pid {holder.claim_pid} on {holder.claim_host}"
            )
        assert record is not None
        return record, resume

    def heartbeat(self, run_id: int, claim: Claim) -> None:
        row = (self.clock(), run_id, claim.token)
        self._commit(
            lambda conn: conn.execute(
                "UPDATE runs SET claim_heartbeat = ? WHERE id = ? AND claim_token = ?", row
            )
        )

    def finish_run(
        self, run_id: int, claim: Claim, status: RunStatus, events: Sequence[Event] = ()
    ) -> None:
        """Set the run's status, release the claim and append `events`, in one transaction."""
        ended = None if status == RunStatus.RUNNING else self.clock()
        row = (status, ended, run_id, claim.token)
        self._commit(
            lambda conn: conn.execute(
                "UPDATE runs SET status = ?, ended_at = ?, claim_pid = NULL, claim_host = NULL,"
                " claim_token = NULL, claim_heartbeat = NULL WHERE id = ? AND claim_token = ?",
                row,
            ),
            events,
        )

    def set_run_status(self, run_id: int, status: RunStatus, events: Sequence[Event] = ()) -> None:
        """Change an unclaimed run's status (after an outcome recorded by the client)."""
        self._commit(
            lambda conn: conn.execute("UPDATE runs SET status = ? WHERE id = ?", (status, run_id)),
            events,
        )

    def latest_run(self, doc_key: str) -> RunRecord | None:
        """The document's most recent run."""
        self.flush()
        return latest_run(self._conn, doc_key)

    def runs(self, doc_key: str | None = None) -> list[RunRecord]:
        """Every run (of one document), oldest first."""
        self.flush()
        if doc_key is None:
            return read_runs(self._conn, "1", ())
        return read_runs(self._conn, "doc_key = ?", (doc_key,))

    def run(self, run_id: int) -> RunRecord | None:
        self.flush()
        found = read_runs(self._conn, "id = ?", (run_id,))
        return found[0] if found else None

    # step attempts ----------------------------------------------------------------------------

    def start_attempt(
        self, run_id: int, step_id: str, args: Any, events: Sequence[Event] = ()
    ) -> int:
        """Insert a `running` attempt (the next number for the step); return its number.
        Durable when this returns (committed, or journaled): before its call is made."""
        if self._journal is not None and self._journal.run_id == run_id:
            attempt = self._attempt_numbers.get(step_id, 0) + 1
            self._attempt_numbers[step_id] = attempt
            row = (run_id, step_id, attempt, dumps_json(args), self.clock())
            self._write("start", row, events, defer=False, durable=True)
            return attempt
        start = (run_id, step_id, StepStatus.RUNNING, dumps_json(args), self.clock())

        def op(conn: sqlite3.Connection) -> int:
            attempt: int = conn.execute(START_NEXT, start).fetchone()[0]
            return attempt

        return self._commit(op, events)

    def finish_attempt(
        self,
        run_id: int,
        step_id: str,
        attempt: int,
        status: StepStatus,
        *,
        result: Any = None,
        error: str | None = None,
        pause_reason: PauseReason | None = None,
        checks: list[dict[str, Any]] | None = None,
        events: Sequence[Event] = (),
        defer: bool = False,
    ) -> None:
        """Record how a started attempt ended, with its events, in one transaction."""
        now = self.clock()
        row = (
            status,
            None if result is None else dumps_json(result),
            error,
            None if pause_reason is None else _reason_json(pause_reason),
            None if checks is None else dumps_json(checks),
            now,
            now,
            run_id,
            step_id,
            attempt,
        )
        self._write("finish", row, events, defer)

    def record_outcome(
        self,
        run_id: int,
        step_id: str,
        status: StepStatus,
        *,
        source: str = "engine",
        result: Any = None,
        error: str | None = None,
        pause_reason: PauseReason | None = None,
        checks: list[dict[str, Any]] | None = None,
        events: Sequence[Event] = (),
        defer: bool = False,
    ) -> None:
        """Record an outcome reached without a call. The same outcome as the step's latest row
        (a step re-paused on resume) adds no row, only its events; an outcome with `checks` (a
        result the client recorded, verified) always adds one."""
        reason = None if pause_reason is None else _reason_json(pause_reason)
        row = (
            run_id,
            step_id,
            status,
            source,
            None if result is None else dumps_json(result),
            error,
            reason,
            None if checks is None else dumps_json(checks),
            self.clock(),
        )
        if self._journal is not None and step_id in self._attempt_numbers:
            self._attempt_numbers[step_id] += 1  # at most one row more: numbers stay unique
        elif self._journal is not None:
            self._attempt_numbers[step_id] = 1
        self._write("outcome", row, events, defer)

    def attempts(self, run_id: int) -> list[AttemptRecord]:
        """Every attempt of a run, by step then attempt number."""
        self.flush()
        return read_attempts(self._conn, run_id)

    def latest_attempts(self, run_id: int) -> dict[str, AttemptRecord]:
        """The latest attempt of each step of a run: its current state."""
        return {a.step_id: a for a in self.attempts(run_id)}

    # events -----------------------------------------------------------------------------------

    def append(self, events: Sequence[Event], *, defer: bool = False) -> None:
        self._write("events", (), events, defer)

    def events(self, run_id: int) -> list[Event]:
        """The run's event log, in order."""
        self.flush()
        return read_events(self._conn, run_id)


def _reason_json(reason: PauseReason) -> str:
    return reason.model_dump_json()
