"""The store's writes of step attempts and events: plain SQL, the same on both engines, inside the
caller's transaction (`engines.Tx`; `Store` decides when to commit).

A write's parameters are made when it is asked for (its clock reading, its JSON), so a write that
waits for the next transaction (`defer`) records the moment it happened, not the moment it was
committed. JSON columns are compact, non-ASCII kept, anything not JSON as its `str`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from claude_task_cli.outcomes import PauseReason, StepStatus
from claude_task_cli.store.engines import Tx
from claude_task_cli.store.records import Checks, Event

_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)

# The next attempt number for the step comes from the table itself: the client may add rows too.
_START = (
    "INSERT INTO step_attempts (run_id, step_id, attempt, status, source, args, started_at)"
    " VALUES (?, ?, (SELECT COALESCE(MAX(attempt), 0) + 1 FROM step_attempts"
    " WHERE run_id = ? AND step_id = ?), 'running', 'engine', ?, ?) RETURNING attempt"
)
# A start whose number the executor knows (a journaled run: `step_journal.py`).
_NUMBERED_START = (
    "INSERT INTO step_attempts (run_id, step_id, attempt, status, source, args, started_at)"
    " VALUES (?, ?, ?, 'running', 'engine', ?, ?)"
)
_FINISH = (
    "UPDATE step_attempts SET status = ?, result = ?, error = ?, pause_reason = ?,"
    " checks = ?, ended_at = ?, duration_ms = (? - started_at) * 1000"
    " WHERE run_id = ? AND step_id = ? AND attempt = ?"
)
_LATEST = (
    "SELECT status, source, pause_reason, started_at FROM step_attempts"
    " WHERE run_id = ? AND step_id = ? ORDER BY attempt DESC LIMIT 1"
)
_OUTCOME = (
    "INSERT INTO step_attempts (run_id, step_id, attempt, status, source, result, error,"
    " pause_reason, checks, ended_at) VALUES (?, ?, (SELECT COALESCE(MAX(attempt), 0) + 1"
    " FROM step_attempts WHERE run_id = ? AND step_id = ?), ?, ?, ?, ?, ?, ?, ?)"
)
_HEARTBEAT = "UPDATE runs SET claim_heartbeat = {} WHERE id = ? AND claim_token = ?"
_FINISH_RUN = (
    "UPDATE runs SET status = ?, ended_at = ?, claim_pid = NULL, claim_host = NULL,"
    " claim_token = NULL, claim_heartbeat = NULL, claim_started = NULL"
    " WHERE id = ? AND claim_token = ?"
)
_RUN_STATUS = "UPDATE runs SET status = ? WHERE id = ?"
_EVENTS = "INSERT INTO events (ts, run_id, step_id, kind, payload) VALUES (?, ?, ?, ?, ?)"


def dumps_json(value: Any) -> str:
    """Compact JSON as stored."""
    return _JSON.encode(value)


def _optional(value: Any) -> str | None:
    return None if value is None else dumps_json(value)


def _reason(reason: PauseReason | None) -> str | None:
    return None if reason is None else reason.model_dump_json()


def start_params(run_id: int, step_id: str, args: Any, now: float) -> tuple[Any, ...]:
    return (run_id, step_id, run_id, step_id, dumps_json(args), now)


def start(conn: Tx, params: tuple[Any, ...]) -> int:
    """Insert a `running` attempt, the step's next; its number."""
    attempt: int = conn.execute(_START, params).fetchone()[0]
    return attempt


def numbered_start(conn: Tx, params: tuple[Any, ...]) -> None:
    """A start numbered by its caller: `(run id, step id, attempt, args, started at)`."""
    conn.execute(_NUMBERED_START, params)


def nothing(_conn: Tx, _params: tuple[Any, ...]) -> None:
    """A write of events only."""


def finish_params(
    run_id: int,
    step_id: str,
    attempt: int,
    status: StepStatus,
    *,
    result: Any,
    error: str | None,
    pause_reason: PauseReason | None,
    checks: Checks | None,
    now: float,
) -> tuple[Any, ...]:
    return (
        status,
        _optional(result),
        error,
        _reason(pause_reason),
        _optional(checks),
        now,
        now,
        run_id,
        step_id,
        attempt,
    )


def _text(conn: Tx, text: str | None) -> str | None:
    """PostgreSQL's text holds no NUL character, which an error quoting a command's output may
    have: there it is stored as U+FFFD (JSON columns escape it and need nothing)."""
    if text is None or conn.dialect == "sqlite" or "\x00" not in text:
        return text
    return text.replace("\x00", "\ufffd")


def finish(conn: Tx, params: tuple[Any, ...]) -> None:
    """Record how a started attempt ended."""
    if conn.dialect == "postgresql":
        params = (*params[:2], _text(conn, params[2]), *params[3:])
    conn.execute(_FINISH, params)


def outcome_params(
    run_id: int,
    step_id: str,
    status: StepStatus,
    *,
    source: str,
    result: Any,
    error: str | None,
    pause_reason: PauseReason | None,
    checks: Checks | None,
    now: float,
) -> tuple[Any, ...]:
    return (
        run_id,
        step_id,
        status,
        source,
        _optional(result),
        error,
        _reason(pause_reason),
        _optional(checks),
        now,
    )


def outcome(conn: Tx, params: tuple[Any, ...]) -> None:
    """An outcome reached without a call: a new row, unless it repeats the step's latest one
    (a step re-paused on resume); with checks (a verified client result) always a new row."""
    run_id, step_id, status, source, result, error, reason, checks, now = params
    error = _text(conn, error)
    latest = conn.execute(_LATEST, (run_id, step_id)).fetchone()
    if latest is None or checks is not None or tuple(latest) != (status, source, reason, None):
        conn.execute(
            _OUTCOME,
            (run_id, step_id, run_id, step_id, status, source, result, error, reason, checks, now),
        )


def _statement(sql: str) -> Callable[[Tx, tuple[Any, ...]], object]:
    return lambda conn, params: conn.execute(sql, params)


def heartbeat(conn: Tx, params: tuple[Any, ...]) -> None:
    """A run's claim kept alive: `(now, run id, claim token)`. On PostgreSQL the time is the
    database's own clock, the only one a lease is judged on there (`claims.claim_live`)."""
    _now, run_id, token = params
    if conn.dialect == "postgresql":
        conn.execute(_HEARTBEAT.format(conn.now_sql), (run_id, token))
    else:
        conn.execute(_HEARTBEAT.format("?"), params)


# A run's status set and its claim released; an unclaimed run's status.
FINISH_RUN = _statement(_FINISH_RUN)
RUN_STATUS = _statement(_RUN_STATUS)


EventRow = tuple[float, int, str | None, str, str]


def event_rows(events: Sequence[Event]) -> list[EventRow]:
    """Events as their rows are stored (and journaled): the payload as JSON."""
    return [(e.ts, e.run_id, e.step_id, e.kind, dumps_json(e.payload)) for e in events]


def insert_rows(conn: Tx, rows: Sequence[Sequence[Any]]) -> None:
    if rows:
        conn.executemany(_EVENTS, rows)


def insert_events(conn: Tx, events: Sequence[Event]) -> None:
    insert_rows(conn, event_rows(events))
