"""Schema 3's step journal files, applied once by the migration to schema 4.

Releases on schema 3 made a running run's writes durable in a file beside the database,
`<database>-steps-<run id>-<claim token>.jsonl`, one JSON array `[seq, kind, params, events]` a
line, and applied them to SQLite in batches; the `step_journal` table kept, per run, the last
`seq` applied. An executor killed by such a release may have left writes only in its file: the
migration applies the lines not applied yet, so no step it recorded is lost or run twice. A line
cut short by the kill is left out. A file whose executor still runs is refused: that executor
must stop before this release opens the database.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from claude_task_cli.errors import StoreError
from claude_task_cli.store.claims import claim_live
from claude_task_cli.store.engines import Tx
from claude_task_cli.store.rows import read_runs
from claude_task_cli.store.writes import finish, outcome

_NAME = re.compile(r"-steps-(\d+)-([0-9a-f]+)\.jsonl")
_START = (
    "INSERT INTO step_attempts (run_id, step_id, attempt, status, source, args, started_at)"
    " VALUES (?, ?, ?, 'running', 'engine', ?, ?)"
)
_EVENTS = "INSERT INTO events (ts, run_id, step_id, kind, payload) VALUES (?, ?, ?, ?, ?)"


def journal_files(database: Path) -> list[tuple[Path, int, str]]:
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


def _records(path: Path) -> list[list[Any]]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    try:  # only newline-terminated lines were written whole
        return [json.loads(line) for line in data.split(b"\n")[:-1]]
    except ValueError as exc:
        raise StoreError(path, f"unreadable step journal: {exc}") from exc


def apply_journals(conn: Tx, database: Path, now: float, stale_after: float) -> list[Path]:
    """Apply every journal file's records not applied yet, inside the caller's transaction;
    the files applied (to remove once committed)."""
    applied = []
    for path, run_id, token in journal_files(database):
        found = read_runs(conn, "id = ?", (run_id,))
        run = found[0] if found else None
        if run is not None and run.claim_token == token and claim_live(run, now, stale_after):
            raise StoreError(
                database,
                f"run {run_id} is being executed by pid {run.claim_pid} on {run.claim_host} "
                "with an older release; let it stop first",
            )
        mark = conn.execute("SELECT seq FROM step_journal WHERE run_id = ?", (run_id,)).fetchone()
        for seq, kind, params, events in _records(path):
            if run is None or (mark is not None and seq <= mark[0]):
                continue
            if kind == "start":
                conn.execute(_START, params)
            elif kind == "finish":
                finish(conn, tuple(params))
            elif kind == "outcome":
                outcome(conn, tuple(params))
            conn.executemany(_EVENTS, events)
        applied.append(path)
    return applied
