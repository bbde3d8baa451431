"""The executor's step journal: a running run's writes durable by one `write(2)`, in SQLite later.

Why: between two chained tool calls the executor must make the previous step's outcome and the next
step's start durable (a `kill -9` loses no completed step and never runs a non-retryable step
twice). A SQLite transaction for that costs ~100 µs here (five statements and a commit, on caches
the server process just evicted: it runs on the same CPU), ~0.2× of a 1–1.8 ms call. A line
appended to this file gives the same guarantee (`synchronous=NORMAL` SQLite does not fsync a commit
either: both survive the process, not a power cut) for ~10 µs, and the store applies the lines to
SQLite in batches (`Store.journal_run`).

File: `<database>-steps-<run id>-<claim token>.jsonl` beside the database, one executor's session
of one run, mode 0600. Each line is a JSON array `[seq, kind, params, events]`: a sequence number
(ascending across the run's sessions), the store's write (`kind` and its SQL parameters) and the
rows of its events. A line is whole or ignored: the last one of a killed process may be cut short.
The database keeps, per run, the last sequence number applied (`step_journal` table), in the
transaction that applied it, so replaying a file twice applies each line once.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from claude_task_cli.store.json_text import dumps_json

Record = tuple[int, str, list[Any], list[list[Any]]]

_NAME = re.compile(r"-steps-(\d+)-([0-9a-f]+)\.jsonl")


def journal_path(database: Path, run_id: int, token: str) -> Path:
    return database.with_name(f"{database.name}-steps-{run_id}-{token}.jsonl")


def journals(database: Path) -> list[tuple[Path, int, str]]:
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


def read_records(path: Path) -> list[Record]:
    """The whole lines of a journal, in order; a cut-short last line is left out."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    records: list[Record] = []
    for line in data.split(b"\n")[:-1]:  # only newline-terminated lines were written whole
        seq, kind, params, events = json.loads(line)
        records.append((seq, kind, params, events))
    return records


class StepJournal:
    """The open journal of one executor's session of a run."""

    def __init__(self, path: Path, run_id: int, seq: int) -> None:
        self.path = path
        self.run_id = run_id
        self.seq = seq
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC
        self._fd = os.open(path, flags, 0o600)

    def record(self, kind: str, params: tuple[Any, ...], events: list[Any]) -> tuple[int, bytes]:
        """The next record's number and line, not written yet."""
        self.seq += 1
        return self.seq, (dumps_json([self.seq, kind, params, events]) + "\n").encode("utf-8")

    def write(self, lines: list[bytes]) -> None:
        """Append whole lines in one `write(2)`: durable (against a process kill) on return."""
        data = b"".join(lines)
        written = os.write(self._fd, data)
        if written != len(data):  # a regular file takes it whole, barring a full disk
            raise OSError(f"short write to {self.path}: {written} of {len(data)} bytes")

    def applied(self) -> None:
        """Every record so far is in the database: start the file afresh."""
        os.ftruncate(self._fd, 0)

    def close(self, *, remove: bool) -> None:
        os.close(self._fd)
        if remove:
            self.path.unlink(missing_ok=True)
