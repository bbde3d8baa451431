"""Durable run state — runs, step attempts and an append-only event log (`Store`) — in the state
database, on SQLite or PostgreSQL (`engines.py`).

Location: `Store(where)` takes a SQLite file's path or a `DatabaseUrl` (`--db`, `$CLAUDE_TASK_DB`;
`urls.state_location`). A project's default is `<project root>/.claude-task/state.db`, where the
project root is the nearest ancestor holding `.mcp.json`, else `.git`, else the current directory;
`$CLAUDE_TASK_STATE` moves it. The directory gets a `.gitignore` of `*` when created. How writes
are committed — one transaction each, group commit, the executor's step journal — is
`commits.py` (`Commits`, the base of `Store`).

A document's runs are found by its key: its resolved path on SQLite, its repository and path inside
it on PostgreSQL (`claims.shared_key`), where checkouts at other paths share them. The schema and
its migrations are in `schema.py`, the SQL of the writes in `writes.py`, the reads
in `rows.py`, claims in `claims.py`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from claude_task_cli.errors import RunLockedError
from claude_task_cli.outcomes import PauseReason, RunStatus, StepStatus
from claude_task_cli.store import rows, writes
from claude_task_cli.store.claims import Claim, claim_run, shared_key
from claude_task_cli.store.commits import APPLY_AFTER, Commits
from claude_task_cli.store.records import AttemptRecord, Checks, Event, RunRecord, StepState

__all__ = ["APPLY_AFTER", "AttemptRecord", "Claim", "Event", "RunRecord", "StepState", "Store"]


class Store(Commits):
    """The run store on one database; use as a context manager or call `close()`."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _key(self, doc_key: str) -> str:
        """A document's key as stored: its resolved path on SQLite (one machine's file); on
        PostgreSQL its repository and path inside it, the same from every checkout."""
        return doc_key if self.db.dialect == "sqlite" else shared_key(doc_key)

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
        else:  # what an executor of the run that died left in its journal, first
            self._recover(record.id, keep=claim.token)
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
        journal = self._pending.journal
        if journal is None or journal.run_id != run_id:
            params = writes.start_params(run_id, step_id, args, self.clock())
            return self._commit(lambda conn: writes.start(conn, params), events)
        if step_id in journal.unsure:  # an outcome since may have added a row: as stored
            journal.unsure.discard(step_id)
            journal.numbers[step_id] = self._read(lambda tx: rows.last_attempt(tx, run_id, step_id))
        journal.numbers[step_id] = number = journal.numbers.get(step_id, 0) + 1
        params = (run_id, step_id, number, writes.dumps_json(args), self.clock())
        self._pending.add(writes.numbered_start, params, events)
        self._show(self._pending.written())  # durable: with the writes deferred before it
        return number

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
        if self._pending.journal is not None:  # a row or none (`writes.outcome`): unknown
            self._pending.journal.unsure.add(step_id)
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
        self._write(writes.nothing, (), events, defer)

    def events(self, run_id: int) -> list[Event]:
        """The run's event log, in order."""
        return self._read(lambda tx: rows.read_events(tx, run_id))
