"""Durable run state in SQLite: runs, step attempts and an append-only event log (`Store`).

Location: `<project root>/.claude-task/state.db`, where the project root is the nearest ancestor
holding `.mcp.json`, else `.git`, else the current directory; `$CLAUDE_TASK_STATE` or an explicit
path overrides it. The directory gets a `.gitignore` of `*` when created.

Every write is one transaction (`BEGIN IMMEDIATE`) that changes the state and appends its events
together. A write may be deferred (`defer=True`, group commit): it rides in the next write's
transaction, or is committed by `flush`, which the executor calls before it waits on anything — so
a step's end and the next step's start are one transaction, and nothing settled is left
uncommitted while the run waits. WAL with `synchronous=NORMAL` survives `kill -9` of the executor
(not a power cut, which would need `FULL`). `on_commit` sees each event once it is committed.

The schema and its migrations are in `schema.py`, the SQL of the writes in `writes.py`, the reads
in `rows.py`, claims in `claims.py`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from claude_task_cli.errors import RunLockedError, StoreError
from claude_task_cli.outcomes import PauseReason, RunStatus, StepStatus
from claude_task_cli.project import STATE_DIR
from claude_task_cli.store import rows, writes
from claude_task_cli.store.claims import Claim, claim_run
from claude_task_cli.store.records import AttemptRecord, Checks, Event, RunRecord, StepState
from claude_task_cli.store.schema import SCHEMA_VERSION, migrate

__all__ = ["AttemptRecord", "Claim", "Event", "RunRecord", "StepState", "Store"]

_T = TypeVar("_T")
Write = Callable[[sqlite3.Connection, tuple[Any, ...]], object]

STALE_AFTER = 30.0  # seconds without a heartbeat before another host's claim is stale


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
        self.on_commit: Callable[[list[Event]], None] | None = None
        self._deferred: list[tuple[Write, tuple[Any, ...]]] = []
        self._deferred_events: list[Event] = []
        try:
            if path.parent != Path() and not path.parent.exists():
                path.parent.mkdir(parents=True)
                if path.parent.name == STATE_DIR:
                    (path.parent / ".gitignore").write_text("*\n", encoding="utf-8")
            self._conn = sqlite3.connect(path, isolation_level=None, timeout=10.0)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(path, f"cannot open the state database: {exc}") from exc

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._conn.close()

    def _migrate(self) -> None:
        if self._conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            return
        with self.transaction() as conn:  # read again under the lock: another may have migrated
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == SCHEMA_VERSION:
                return
            applied = migrate(
                conn, self.path, version, now=self.clock(), stale_after=self.stale_after
            )
        for journal in applied:
            journal.unlink(missing_ok=True)

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
        """Deferred writes, then `op`, then all their events: one transaction, whose result is
        `op`'s. `on_commit` then sees the events."""
        with self.transaction() as conn:
            for write, params in self._deferred:
                write(conn, params)
            value = op(conn)
            seen = [*self._deferred_events, *events]
            writes.insert_events(conn, seen)
        self._deferred, self._deferred_events = [], []
        if seen and self.on_commit is not None:
            self.on_commit(seen)
        return value

    def _write(
        self, write: Write, params: tuple[Any, ...], events: Sequence[Event], defer: bool
    ) -> None:
        if defer:
            self._deferred.append((write, params))
            self._deferred_events.extend(events)
        else:
            self._commit(lambda conn: write(conn, params), events)

    def flush(self) -> None:
        """Commit the deferred writes now (the executor calls this before it waits)."""
        if self._deferred or self._deferred_events:
            self._commit(lambda _conn: None)

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
        params = (self.clock(), run_id, claim.token)
        self._write(writes.HEARTBEAT, params, (), defer=False)

    def finish_run(
        self, run_id: int, claim: Claim, status: RunStatus, events: Sequence[Event] = ()
    ) -> None:
        """Set the run's status, release the claim and append `events`, in one transaction."""
        ended = None if status == RunStatus.RUNNING else self.clock()
        self._write(writes.FINISH_RUN, (status, ended, run_id, claim.token), events, defer=False)

    def set_run_status(self, run_id: int, status: RunStatus, events: Sequence[Event] = ()) -> None:
        """Change an unclaimed run's status."""
        self._write(writes.RUN_STATUS, (status, run_id), events, defer=False)

    def latest_run(self, doc_key: str) -> RunRecord | None:
        """The document's most recent run."""
        self.flush()
        return rows.latest_run(self._conn, doc_key)

    def runs(self, doc_key: str | None = None) -> list[RunRecord]:
        """Every run (of one document), oldest first."""
        self.flush()
        if doc_key is None:
            return rows.read_runs(self._conn, "1 = 1 ORDER BY id", ())
        return rows.read_runs(self._conn, "doc_key = ? ORDER BY id", (doc_key,))

    # step attempts ----------------------------------------------------------------------------

    def start_attempt(
        self, run_id: int, step_id: str, args: Any, events: Sequence[Event] = ()
    ) -> int:
        """Insert a `running` attempt (the step's next number) and return its number; committed,
        with every deferred write, when this returns: before its call is made."""
        params = writes.start_params(run_id, step_id, args, self.clock())
        return self._commit(lambda conn: writes.start(conn, params), events)

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
        checks: Checks | None = None,
        events: Sequence[Event] = (),
        defer: bool = False,
    ) -> None:
        """Record how a started attempt ended, with its events."""
        params = writes.finish_params(
            run_id,
            step_id,
            attempt,
            status,
            result=result,
            error=error,
            pause_reason=pause_reason,
            checks=checks,
            now=self.clock(),
        )
        self._write(writes.finish, params, events, defer)

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
        checks: Checks | None = None,
        events: Sequence[Event] = (),
        defer: bool = False,
    ) -> None:
        """Record an outcome reached without a call. The same outcome as the step's latest row
        (a step re-paused on resume) adds no row, only its events; an outcome with `checks` (a
        result the client recorded, verified) always adds one."""
        params = writes.outcome_params(
            run_id,
            step_id,
            status,
            source=source,
            result=result,
            error=error,
            pause_reason=pause_reason,
            checks=checks,
            now=self.clock(),
        )
        self._write(writes.outcome, params, events, defer)

    def attempts(self, run_id: int) -> list[AttemptRecord]:
        """Every attempt of a run, by step then attempt number."""
        self.flush()
        return rows.read_attempts(self._conn, run_id)

    def step_states(
        self, run_id: int, values: Collection[str] | None = None
    ) -> dict[str, StepState]:
        """Each step's state in the run; its arguments, result and checks only for the steps in
        `values` (None: every step)."""
        self.flush()
        return rows.step_states(self._conn, run_id, values)

    def step_values(self, run_id: int, steps: Collection[str]) -> dict[str, tuple[Any, Any, Any]]:
        """`(args, result, checks)` of each step of `steps` the run has, as its state has them."""
        self.flush()
        return rows.step_values(self._conn, run_id, steps)

    # events -----------------------------------------------------------------------------------

    def append(self, events: Sequence[Event], *, defer: bool = False) -> None:
        self._write(lambda _conn, _params: None, (), events, defer)

    def events(self, run_id: int) -> list[Event]:
        """The run's event log, in order."""
        self.flush()
        return rows.read_events(self._conn, run_id)
