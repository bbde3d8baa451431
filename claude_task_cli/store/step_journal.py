"""The executor's step journal (SQLite only): a running run's attempt starts and deferred writes
made durable by one `write(2)`, put in the database in batches (`Store.journal_run`).

Why: before each call the executor must make the step's start durable, with the previous step's
end (a `kill -9` loses no completed step and never runs a non-retryable step twice). A SQLite
transaction for that is several locks, statements and WAL writes, and with calls of about a
millisecond it kept 1,000 chained steps above issue 16's target (≤ 1.25× the SDK loop;
`benchmarks/bench_engine.py`). A line appended to this file gives the same guarantee —
`synchronous=NORMAL` SQLite does not fsync a commit either: both survive the process, not a power
cut — and the store applies the lines to the database a batch at a time.

File: `<database>-steps-<run id>-<claim token>.jsonl` beside the database, one executor's session
of one run, mode 0600. Each line is a JSON array `[seq, kind, params, events]`: a sequence number
(ascending across the run's sessions), the store's write (`kind`: `start`, `finish`, `outcome`,
`none`, and its SQL parameters) and the rows of its events. A line is whole or left out: the last
one of a killed process may be cut short. The `step_journal` table keeps, per run, the last
sequence number applied, in the transaction that applied it, so a file applied twice applies each
line once. Releases on schema 3 wrote the same files; the migration from 3 applies them.
"""

from __future__ import annotations

import json
import os
import re
import stat
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from claude_task_cli.errors import StoreError
from claude_task_cli.store.claims import claim_live
from claude_task_cli.store.engines import Tx
from claude_task_cli.store.rows import read_runs
from claude_task_cli.store.writes import (
    EventRow,
    dumps_json,
    finish,
    insert_rows,
    nothing,
    numbered_start,
    outcome,
)

TABLE = (
    "CREATE TABLE IF NOT EXISTS step_journal ("
    " run_id INTEGER PRIMARY KEY REFERENCES runs (id), seq INTEGER NOT NULL)"
)
Record = list[Any]  # [seq, kind, params, event rows]
MAX_BYTES = 1 << 30  # a journal holds ~APPLY_AFTER of writes; a file this large is not one
Files = list[tuple[Path, int, str]]  # (path, run id, claim token)

_NAME = re.compile(r"-steps-(\d+)-([0-9a-f]+)\.jsonl")
_MARK = (
    "INSERT INTO step_journal (run_id, seq) VALUES (?, ?)"
    " ON CONFLICT (run_id) DO UPDATE SET seq = excluded.seq"
)


# The writes a journal line may name, by kind.
APPLY: dict[str, Callable[[Tx, tuple[Any, ...]], None]] = {
    "start": numbered_start,
    "finish": finish,
    "outcome": outcome,
    "none": nothing,
}
KIND: dict[object, str] = {write: kind for kind, write in APPLY.items()}


def journal_path(database: Path, run_id: int, token: str) -> Path:
    return database.with_name(f"{database.name}-steps-{run_id}-{token}.jsonl")


def journal_files(database: Path) -> Files:
    """The journal files beside `database`: `(path, run id, claim token)`, oldest run first."""
    prefix = f"{database.name}-steps-"
    try:
        names = [n for n in os.listdir(database.parent or ".") if n.startswith(prefix)]
    except OSError:
        return []
    found = []
    for name in names:
        match = _NAME.fullmatch(name, len(database.name))
        if match is not None:
            found.append((database.with_name(name), int(match[1]), match[2]))
    return sorted(found, key=lambda item: (item[1], item[0].name))


def _records(path: Path) -> list[Record]:
    """The file's whole records; a file that is not one this release writes (a link, a FIFO, a
    size no journal reaches) is refused, not followed or waited on."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StoreError(path, f"unreadable step journal: {exc.strerror}") from exc
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
            raise StoreError(path, "not a step journal: not a regular file, or too large")
        data = file.read()
    try:  # only newline-terminated lines were written whole
        return [json.loads(line) for line in data.split(b"\n")[:-1]]
    except ValueError as exc:
        raise StoreError(path, f"unreadable step journal: {exc}") from exc


def applied_seq(conn: Tx, run_id: int) -> int:
    """The last journal record of the run in the database (0: none)."""
    row = conn.execute("SELECT seq FROM step_journal WHERE run_id = ?", (run_id,)).fetchone()
    return 0 if row is None else int(row[0])


def mark_applied(conn: Tx, run_id: int, seq: int) -> None:
    conn.execute(_MARK, (run_id, seq))


def apply_files(
    conn: Tx, files: Files, now: float, stale_after: float, *, live_refused: Path | None = None
) -> list[Path]:
    """Apply the records not applied yet of each file whose executor is gone, inside the caller's
    write transaction; the files done with (to remove once committed). The file of a live claim is
    its executor's: left alone, or with `live_refused` (a migration) refused."""
    done = []
    for path, run_id, token in files:
        found = read_runs(conn, "id = ?", (run_id,))
        run = found[0] if found else None
        if run is not None and run.claim_token == token and claim_live(run, now, stale_after):
            if live_refused is None:
                continue
            raise StoreError(
                live_refused,
                f"run {run_id} is being executed by pid {run.claim_pid} on {run.claim_host} "
                "with an older release; let it stop first",
            )
        if run is not None:
            mark = applied_seq(conn, run_id)
            last = mark
            for number, record in enumerate(_records(path), 1):
                try:
                    seq, kind, params, events = record
                    if seq > mark:
                        APPLY[kind](conn, tuple(params))
                        insert_rows(conn, events)
                        last = seq
                except (KeyError, TypeError, ValueError) as exc:  # not a line this release wrote
                    raise StoreError(path, f"line {number} is not a journal record: {exc}") from exc
            if last > mark:
                mark_applied(conn, run_id, last)
        done.append(path)
    return done


def recover(
    transaction: Callable[[], AbstractContextManager[Tx]],
    database: Path,
    now: float,
    stale_after: float,
    *,
    run_id: int | None = None,
    keep: str | None = None,
) -> None:
    """Apply the journal files beside `database` whose executor is gone (of `run_id`, else all;
    `keep`'s is the caller's own), in one `transaction()`, then remove them."""
    files = [
        found
        for found in journal_files(database)
        if (run_id is None or found[1] == run_id) and found[2] != keep
    ]
    if not files:
        return
    with transaction() as tx:
        done = apply_files(tx, files, now, stale_after)
    for path in done:
        path.unlink(missing_ok=True)


def open_journal(tx: Tx, database: Path, run_id: int, token: str) -> StepJournal:
    """A new session of the run's journal, numbering on from the database (`tx`)."""
    numbers = tx.execute(
        "SELECT step_id, MAX(attempt) FROM step_attempts WHERE run_id = ? GROUP BY step_id",
        (run_id,),
    ).fetchall()
    path = journal_path(database, run_id, token)
    try:
        return StepJournal(path, run_id, applied_seq(tx, run_id), dict(numbers))
    except OSError as exc:
        raise StoreError(path, f"cannot create the run's step journal: {exc}") from exc


class StepJournal:
    """The open journal of one executor's session of a run: records made (`record`), written
    in one `write(2)` (`write`), emptied once the database holds them (`applied`)."""

    def __init__(self, path: Path, run_id: int, seq: int, numbers: dict[str, int]) -> None:
        self.path = path
        self.run_id = run_id
        self.seq = seq  # the last record made
        self.numbers = numbers  # each step's last attempt number (none: 0)
        self.unsure: set[str] = set()  # steps whose number only the database knows
        self.applied_at = time.monotonic()
        self._lines: list[bytes] = []  # records made, not written yet
        # a new file (the name holds the claim's random token), never through a link
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC | os.O_NOFOLLOW
        self._fd = os.open(path, flags, 0o600)

    def record(self, write: object, params: tuple[Any, ...], rows: Sequence[EventRow]) -> None:
        """Make the record of a write (one of `APPLY`) and its events' rows; written by
        `write`."""
        self.seq += 1
        line = dumps_json([self.seq, KIND[write], params, rows]) + "\n"
        self._lines.append(line.encode("utf-8"))

    def write(self) -> None:
        """Append the records made in one `write(2)`: durable (against a process kill) on
        return."""
        if not self._lines:
            return
        data = b"".join(self._lines)
        self._lines = []
        written = os.write(self._fd, data)
        if written != len(data):  # a regular file takes it whole, barring a full disk
            raise StoreError(self.path, f"short write: {written} of {len(data)} bytes")

    def applied(self) -> None:
        """Every record made is in the database: the file starts afresh."""
        self._lines = []
        os.ftruncate(self._fd, 0)
        self.applied_at = time.monotonic()

    def close(self, *, remove: bool) -> None:
        os.close(self._fd)
        if remove:
            self.path.unlink(missing_ok=True)
