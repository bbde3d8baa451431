"""The writes a `Store` has not committed yet, and the events it has not shown yet.

A deferred write (group commit) waits for the next transaction. While a run is journaled
(`step_journal.py`), each deferred write also has its record in the run's journal, durable once the
journal is written (`written`); the transaction that applies them marks the journal's records as
applied (`apply`). An event is shown (`Store.on_commit`) once its write is durable: committed or
journaled, whichever comes first, and only once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from claude_task_cli.errors import StoreError
from claude_task_cli.store import writes
from claude_task_cli.store.engines import Tx
from claude_task_cli.store.records import Event
from claude_task_cli.store.step_journal import StepJournal, applied_seq, mark_applied

Write = Callable[[Tx, tuple[Any, ...]], object]


class Pending:
    """One store's uncommitted writes, their events, and the run's journal while there is one."""

    def __init__(self) -> None:
        self.journal: StepJournal | None = None
        self._writes: list[tuple[Write, tuple[Any, ...]]] = []
        self._rows: list[writes.EventRow] = []  # events to insert
        self._unseen: list[Event] = []  # to show

    def __bool__(self) -> bool:
        return bool(self._writes or self._rows)

    def add(self, write: Write, params: tuple[Any, ...], events: Sequence[Event]) -> None:
        """A deferred write and its events; with a journal, its record too (not written yet)."""
        rows = writes.event_rows(events)
        self._writes.append((write, params))
        self._rows.extend(rows)
        self._unseen.extend(events)
        if self.journal is not None:
            self.journal.record(write, params, rows)

    def apply(self, conn: Tx) -> None:
        """The pending writes, in the caller's transaction; the journal's records marked applied
        in it, unless another process applied them already: then this store's claim was taken,
        and its writes stop."""
        journal = self.journal
        if journal is not None and self._writes:
            if applied_seq(conn, journal.run_id) > journal.seq - len(self._writes):
                raise StoreError(journal.path, f"run {journal.run_id} is no longer claimed by us")
            mark_applied(conn, journal.run_id, journal.seq)
        for write, params in self._writes:
            write(conn, params)

    def insert_events(self, conn: Tx, events: Sequence[Event]) -> None:
        """The pending writes' events, then `events`, after `apply` in its transaction."""
        writes.insert_rows(conn, [*self._rows, *writes.event_rows(events)])

    def committed(self, events: Sequence[Event]) -> list[Event]:
        """`apply`'s transaction committed: nothing pending; the events to show."""
        self._writes, self._rows = [], []
        if self.journal is not None:
            self.journal.applied()
        return self.written(events)

    def written(self, events: Sequence[Event] = ()) -> list[Event]:
        """The journal's records written (durable): the events to show."""
        if self.journal is not None:
            self.journal.write()
        seen = [*self._unseen, *events]
        self._unseen = []
        return seen

    def drop(self) -> None:
        """Forget every pending write (the journal's file keeps them)."""
        self._writes, self._rows, self._unseen = [], [], []
