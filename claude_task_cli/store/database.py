"""Durable run state — runs, step attempts and an append-only event log (`Store`) — in the state
database, on SQLite or PostgreSQL (`engines.py`).

Location: `Store(where)` takes a SQLite file's path or a `DatabaseUrl` (`--db`, `$CLAUDE_TASK_DB`;
`urls.state_location`). A project's default is `<project root>/.claude-task/state.db`, where the
project root is the nearest ancestor holding `.mcp.json`, else `.git`, else the current directory;
`$CLAUDE_TASK_STATE` moves it. The directory gets a `.gitignore` of `*` when created.

Every write is one transaction (`BEGIN IMMEDIATE` on SQLite) that changes the state and appends its
events together. A write may be deferred (`defer=True`, group commit): it rides in the next write's
transaction, or is committed by `flush`, which the executor calls before it waits on anything — so
a step's end and the next step's start are one transaction, and nothing settled is left
uncommitted while the run waits. SQLite's WAL with `synchronous=NORMAL` survives `kill -9` of the
executor (not a power cut, which would need `FULL`). `on_commit` sees each event once it is
committed. Whatever the database refuses is a `StoreError` (exit 4) naming it.

A document's runs are found by its key: its resolved path on SQLite, its repository and path inside
it on PostgreSQL (`claims.shared_key`), where checkouts at other paths share them. The schema and
its migrations are in `schema.py`, the SQL of the writes in `writes.py`, the reads
in `rows.py`, claims in `claims.py`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, TypeVar

from claude_task_cli.errors import RunLockedError
from claude_task_cli.outcomes import PauseReason, RunStatus, StepStatus
from claude_task_cli.store import rows, writes
from claude_task_cli.store.claims import Claim, claim_run, fence, shared_key
from claude_task_cli.store.engines import DatabaseUrl, Tx, as_url, open_database
from claude_task_cli.store.records import AttemptRecord, Checks, Event, RunRecord, StepState
from claude_task_cli.store.schema import SCHEMA_VERSION, migrate, tables

__all__ = ["AttemptRecord", "Claim", "Event", "RunRecord", "StepState", "Store"]

_T = TypeVar("_T")
Write = Callable[[Tx, tuple[Any, ...]], object]

STALE_AFTER = 30.0  # seconds without a heartbeat before a claim is stale (another host, a lease)
BUSY_TIMEOUT = 10.0  # seconds a SQLite statement waits while another process holds a lock
NAME = "the state database"


class Store:
    """The run store on one database; use as a context manager or call `close()`."""

    def __init__(
        self,
        where: Path | DatabaseUrl,
        *,
        clock: Callable[[], float] = time.time,
        stale_after: float = STALE_AFTER,
    ) -> None:
        self.url = as_url(where)
        self.path = self.url.path  # the SQLite file; None on PostgreSQL
        self.clock = clock
        self.stale_after = stale_after
        self.on_commit: Callable[[list[Event]], None] | None = None
        self._deferred: list[tuple[Write, tuple[Any, ...]]] = []
        self._deferred_events: list[Event] = []
        self._held: tuple[int, str] | None = None  # the run claimed and its token (PostgreSQL)
        self.db = open_database(self.url, name=NAME, busy_timeout=BUSY_TIMEOUT)
        try:
            self._migrate()
        except BaseException:
            self.db.close()
            raise

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.db.close()

    def _migrate(self) -> None:
        if self.db.dialect == "postgresql":
            self.db.migrate("runs", {SCHEMA_VERSION: tables("postgresql")})
            return
        assert self.path is not None
        with self.db.transaction(write=False, doing="open") as tx:
            if tx.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
                return
        with self.transaction() as tx:  # read again under the lock: another may have migrated
            version = tx.execute("PRAGMA user_version").fetchone()[0]
            if version == SCHEMA_VERSION:
                return
            now, stale = self.clock(), self.stale_after
            applied = migrate(tx, self.path, version, now=now, stale_after=stale)
        for journal in applied:
            journal.unlink(missing_ok=True)

    def transaction(self) -> AbstractContextManager[Tx]:
        """One unit of work: committed whole on success, rolled back on any exception."""
        return self.db.transaction()

    def _key(self, doc_key: str) -> str:
        """A document's key as stored: its resolved path on SQLite (one machine's file); on
        PostgreSQL its repository and path inside it, the same from every checkout."""
        return doc_key if self.db.dialect == "sqlite" else shared_key(doc_key)

    def _read(self, read: Callable[[Tx], _T]) -> _T:
        """Deferred writes committed, then `read` in a read-only transaction."""
        self.flush()
        with self.db.transaction(write=False) as tx:
            return read(tx)

    def _commit(self, op: Callable[[Tx], _T], events: Sequence[Event] = ()) -> _T:
        """Deferred writes, then `op`, then all their events: one transaction, whose result is
        `op`'s, fenced by this store's claim on PostgreSQL (`claims.fence`). `on_commit` then sees
        the events."""
        with self.transaction() as conn:
            if self._held is not None:
                fence(conn, *self._held)
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
        with self.transaction() as tx:
            record, holder, resume = claim_run(
                tx,
                doc_key=self._key(doc_key),
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
        if self.db.dialect == "postgresql":
            self._held = (record.id, claim.token)
        return record, resume

    def heartbeat(self, run_id: int, claim: Claim) -> None:
        params = (self.clock(), run_id, claim.token)
        self._write(writes.heartbeat, params, (), defer=False)

    def finish_run(
        self, run_id: int, claim: Claim, status: RunStatus, events: Sequence[Event] = ()
    ) -> None:
        """Set the run's status, release the claim and append `events`, in one transaction."""
        ended = None if status == RunStatus.RUNNING else self.clock()
        self._write(writes.FINISH_RUN, (status, ended, run_id, claim.token), events, defer=False)
        self._held = None

    def set_run_status(self, run_id: int, status: RunStatus, events: Sequence[Event] = ()) -> None:
        """Change an unclaimed run's status."""
        self._write(writes.RUN_STATUS, (status, run_id), events, defer=False)

    def latest_run(self, doc_key: str) -> RunRecord | None:
        """The document's most recent run."""
        return self._read(lambda tx: rows.latest_run(tx, self._key(doc_key)))

    def runs(self, doc_key: str | None = None) -> list[RunRecord]:
        """Every run (of one document), oldest first."""
        if doc_key is None:
            return self._read(lambda tx: rows.read_runs(tx, "1 = 1 ORDER BY id", ()))
        key = self._key(doc_key)
        return self._read(lambda tx: rows.read_runs(tx, "doc_key = ? ORDER BY id", (key,)))

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
        return self._read(lambda tx: rows.read_attempts(tx, run_id))

    def step_states(
        self, run_id: int, values: Collection[str] | None = None, *, results: bool = True
    ) -> dict[str, StepState]:
        """Each step's state in the run; its arguments, result and checks only for the steps in
        `values` (None: every step); `results=False`: checks only, for every step."""
        return self._read(lambda tx: rows.step_states(tx, run_id, values, results=results))

    def step_values(self, run_id: int, steps: Collection[str]) -> dict[str, tuple[Any, Any, Any]]:
        """`(args, result, checks)` of each step of `steps` the run has, as its state has them."""
        return self._read(lambda tx: rows.step_values(tx, run_id, steps))

    # events -----------------------------------------------------------------------------------

    def append(self, events: Sequence[Event], *, defer: bool = False) -> None:
        self._write(lambda _conn, _params: None, (), events, defer)

    def events(self, run_id: int) -> list[Event]:
        """The run's event log, in order."""
        return self._read(lambda tx: rows.read_events(tx, run_id))
