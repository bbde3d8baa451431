"""How a `Store`'s writes reach the state database (`Commits`, the base of `Store`): opening and
migrating it, one transaction a write, deferred writes (group commit), and the step journal.

Every write is one transaction (`BEGIN IMMEDIATE` on SQLite) that changes the state and appends its
events together. A write may be deferred (`defer=True`, group commit): it rides in the next write's
transaction, or is committed by `flush`, which the executor calls before it waits on anything — so
a step's end and the next step's start are one transaction, and nothing settled is left
uncommitted while the run waits. SQLite's WAL with `synchronous=NORMAL` survives `kill -9` of the
executor (not a power cut, which would need `FULL`). `on_commit` sees each event once it is
durable (`pending.py`). Whatever the database refuses is a `StoreError` (exit 4) naming it.

While an executor runs a run on SQLite (`journal_run` … `end_journal`), an attempt's start and the
deferred writes before it are made durable by one line appended to the run's step journal file
(`step_journal.py`) instead of a transaction, and put in the database a batch at a time: when the
executor calls `apply_due` (every `APPLY_AFTER` seconds while it runs, calls in flight included),
at any other write, and at `flush`. Another process reading a running run sees it at most about
`APPLY_AFTER` behind; the journal of an executor that died is applied by the next `Store` opened
on the database, before anything is read, and by `open_run` when a run is claimed again.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, TypeVar

from claude_task_cli.errors import StoreError
from claude_task_cli.store.claims import Claim, fence
from claude_task_cli.store.engines import DatabaseUrl, Tx, as_url, open_database
from claude_task_cli.store.pending import Pending, Write
from claude_task_cli.store.records import Event
from claude_task_cli.store.schema import POSTGRES_TABLES, SCHEMA_VERSION, migrate, tables
from claude_task_cli.store.step_journal import open_journal, recover

_T = TypeVar("_T")

STALE_AFTER = 30.0  # seconds without a heartbeat before a claim is stale (another host, a lease)
BUSY_TIMEOUT = 10.0  # seconds a SQLite statement waits while another process holds a lock
APPLY_AFTER = 0.05  # seconds a journaled write may wait to be put in the database
NAME = "the state database"


class Commits:
    """The state database opened, and the ways a write is committed to it."""

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
        self._pending = Pending()  # deferred writes, and the run's journal while there is one
        self._held: tuple[int, str] | None = None  # the run claimed and its token (PostgreSQL)
        self.db = open_database(self.url, name=NAME, busy_timeout=BUSY_TIMEOUT)
        try:
            self._migrate()
            self._recover()
        except BaseException:
            self.db.close()
            raise

    def close(self) -> None:
        try:
            self.end_journal()
            self.flush()
        finally:
            self.db.close()

    def _migrate(self) -> None:
        if self.db.dialect == "postgresql":
            self.db.migrate("runs", {POSTGRES_TABLES: tables("postgresql"), SCHEMA_VERSION: ()})
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

    def _read(self, read: Callable[[Tx], _T]) -> _T:
        """Deferred writes committed, then `read` in a read-only transaction."""
        self.flush()
        with self.db.transaction(write=False) as tx:
            return read(tx)

    def _commit(self, op: Callable[[Tx], _T], events: Sequence[Event] = ()) -> _T:
        """Pending writes, then `op`, then all their events: one transaction, whose result is
        `op`'s, fenced by this store's claim on PostgreSQL (`claims.fence`). `on_commit` then sees
        the events."""
        with self.transaction() as conn:
            if self._held is not None:
                fence(conn, *self._held)
            self._pending.apply(conn)
            value = op(conn)
            self._pending.insert_events(conn, events)
        self._show(self._pending.committed(events))
        return value

    def _show(self, events: list[Event]) -> None:
        if events and self.on_commit is not None:
            self.on_commit(events)

    def _write(
        self, write: Write, params: tuple[Any, ...], events: Sequence[Event], defer: bool
    ) -> None:
        if defer:
            self._pending.add(write, params, events)
        else:
            self._commit(lambda conn: write(conn, params), events)

    def flush(self) -> None:
        """Commit the deferred writes now (the executor calls this before it waits)."""
        if self._pending:
            self._commit(lambda _conn: None)

    # the step journal -------------------------------------------------------------------------

    def journal_run(self, run_id: int, claim: Claim) -> None:
        """Journal the run's starts and deferred writes until `end_journal` (the executor, once
        it holds the run's claim; SQLite only). One run at a time: another run's attempts on this
        store meanwhile are committed one by one."""
        if self.path is None or self._pending.journal is not None:
            return
        self.flush()
        with self.db.transaction(write=False) as tx:
            self._pending.journal = open_journal(tx, self.path, run_id, claim.token)

    def apply_due(self) -> None:
        """Put the journaled writes in the database if the last batch is `APPLY_AFTER` old."""
        journal = self._pending.journal
        if journal is not None and time.monotonic() - journal.applied_at >= APPLY_AFTER:
            self.flush()

    def end_journal(self, run_id: int | None = None) -> None:
        """Put what the journal (of `run_id`, else any) holds in the database and remove it; kept
        when the database refuses it, for the next `Store` to apply."""
        journal = self._pending.journal
        if journal is None or run_id not in (None, journal.run_id):
            return
        try:
            self.flush()
        except BaseException:
            with contextlib.suppress(OSError, StoreError):
                journal.write()
            self._pending.drop()
            self._pending.journal = None
            journal.close(remove=False)
            raise
        self._pending.journal = None
        journal.close(remove=True)

    def _recover(self, run_id: int | None = None, keep: str | None = None) -> None:
        """Apply the journal files whose executor is gone (`step_journal.recover`)."""
        if self.path is not None:
            now, stale = self.clock(), self.stale_after
            recover(self.transaction, self.path, now, stale, run_id=run_id, keep=keep)
