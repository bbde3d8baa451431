"""The store's writes of step attempts and events, as data: a kind and its SQL parameters.

`Store` builds each write (`start`, `finish`, `outcome`, `events`) and either applies it at once,
in a transaction of its own, or journals it (`step_journal.py`) and applies it with later ones;
`APPLY` and `apply_batch` are the one place where a write becomes SQL, so both paths and the replay
of a dead session's journal (`replay`) write the same rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from claude_task_cli.store.json_text import dumps_json
from claude_task_cli.store.records import Event

EventRow = tuple[float, int, "str | None", str, str]

# The next attempt number for the step, from the table itself (the client may have added rows).
START_NEXT = (
    "INSERT INTO step_attempts (run_id, step_id, attempt, status, source, args, started_at)"
    " VALUES (?1, ?2, (SELECT COALESCE(MAX(attempt), 0) + 1 FROM step_attempts"
    " WHERE run_id = ?1 AND step_id = ?2), ?3, 'engine', ?4, ?5) RETURNING attempt"
)
# A journaled start: the number is the store's, who alone writes a claimed run.
_START = (
    "INSERT INTO step_attempts (run_id, step_id, attempt, status, source, args, started_at)"
    " VALUES (?, ?, ?, 'running', 'engine', ?, ?)"
)
_FINISH = (
    "UPDATE step_attempts SET status = ?, result = ?, error = ?, pause_reason = ?,"
    " checks = ?, ended_at = ?, duration_ms = (? - started_at) * 1000"
    " WHERE run_id = ? AND step_id = ? AND attempt = ?"
)
_EVENTS = "INSERT INTO events (ts, run_id, step_id, kind, payload) VALUES (?, ?, ?, ?, ?)"


def _outcome(conn: sqlite3.Connection, params: Sequence[Any]) -> None:
    """An outcome reached without a call: a new row, unless it repeats the step's latest one
    (a step re-paused on resume); with `checks` (a verified client result) always a new row."""
    run_id, step_id, status, source, result, error, reason, checks, now = params
    latest = conn.execute(
        "SELECT status, source, pause_reason, started_at FROM step_attempts"
        " WHERE run_id = ? AND step_id = ? ORDER BY attempt DESC LIMIT 1",
        (run_id, step_id),
    ).fetchone()
    if latest is None or checks is not None or tuple(latest) != (status, source, reason, None):
        conn.execute(
            "INSERT INTO step_attempts (run_id, step_id, attempt, status, source, result,"
            " error, pause_reason, checks, ended_at) SELECT ?, ?,"
            " COALESCE(MAX(attempt), 0) + 1, ?, ?, ?, ?, ?, ?, ?"
            " FROM step_attempts WHERE run_id = ? AND step_id = ?",
            (run_id, step_id, status, source, result, error, reason, checks, now, run_id, step_id),
        )


def _nothing(_conn: sqlite3.Connection, _params: Sequence[Any]) -> None:
    return None


APPLY: dict[str, Callable[[sqlite3.Connection, Sequence[Any]], object]] = {
    "start": lambda conn, params: conn.execute(_START, params),
    "finish": lambda conn, params: conn.execute(_FINISH, params),
    "outcome": _outcome,
    "events": _nothing,
}


def apply_batch(
    conn: sqlite3.Connection,
    writes: Sequence[tuple[Any, str, Sequence[Any], Sequence[Sequence[Any]]]],
) -> None:
    """Apply `(_, kind, params, event rows)` writes in order, then their events in order. A batch
    of only starts and ends (an executing run's) goes as two `executemany`: every end's start is
    in an earlier batch or among this one's starts, and no two writes touch the same row else."""
    rows = [row for write in writes for row in write[3]]
    kinds = {write[1] for write in writes}
    if kinds <= {"start", "finish", "events"}:
        conn.executemany(_START, [w[2] for w in writes if w[1] == "start"])
        conn.executemany(_FINISH, [w[2] for w in writes if w[1] == "finish"])
    else:
        for _seq, kind, params, _events in writes:
            APPLY[kind](conn, params)
    insert_events(conn, rows)


def event_rows(events: Iterable[Event]) -> list[EventRow]:
    return [(e.ts, e.run_id, e.step_id, e.kind, dumps_json(e.payload)) for e in events]


def insert_events(conn: sqlite3.Connection, rows: Sequence[Sequence[Any]]) -> None:
    if rows:
        conn.executemany(_EVENTS, rows)


def applied_seq(conn: sqlite3.Connection, run_id: int) -> int:
    """The last journal record of the run in the database (0: none)."""
    row = conn.execute("SELECT seq FROM step_journal WHERE run_id = ?", (run_id,)).fetchone()
    return 0 if row is None else int(row[0])


def mark_applied(conn: sqlite3.Connection, run_id: int, seq: int) -> None:
    conn.execute(
        "INSERT INTO step_journal (run_id, seq) VALUES (?, ?)"
        " ON CONFLICT (run_id) DO UPDATE SET seq = excluded.seq",
        (run_id, seq),
    )


def replay(
    conn: sqlite3.Connection,
    run_id: int,
    records: Iterable[tuple[int, str, Sequence[Any], Sequence[Sequence[Any]]]],
) -> int:
    """Apply, in order, the records not applied yet, with their events, inside the caller's
    transaction; the number applied."""
    mark = applied_seq(conn, run_id)
    todo = [record for record in records if record[0] > mark]
    apply_batch(conn, todo)
    if todo:
        mark_applied(conn, run_id, todo[-1][0])
    return len(todo)
