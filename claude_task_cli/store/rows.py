"""The store's rows read back as records: functions over a connection, plain SQL.

`step_states` is what resuming a run reads: every step's state, with the result and checks only of
the steps asked for — a resumed run needs the results a later placeholder uses, not the whole run's
output; `latest_results` reads the others back when the run's outcome is built.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection
from dataclasses import replace
from typing import Any

from claude_task_cli.outcomes import RunStatus, StepStatus, parse_pause_reason
from claude_task_cli.store.records import AttemptRecord, Event, RunRecord, StepState, fold_by_step

_RUN_COLUMNS = (
    "id, doc_key, doc_path, doc_id, source_sha256, status, started_at, ended_at, claim_pid,"
    " claim_host, claim_token, claim_heartbeat"
)
_PLAIN_COLUMNS = "step_id, attempt, status, source, error, pause_reason, started_at, ended_at"
_ATTEMPTS = (
    f"SELECT {_PLAIN_COLUMNS}, duration_ms, args, result, checks FROM step_attempts"
    " WHERE run_id = ? ORDER BY step_id, attempt"
)
_WITHOUT_RESULTS = (
    f"SELECT {_PLAIN_COLUMNS}, duration_ms, args, NULL, NULL FROM step_attempts"
    " WHERE run_id = ? ORDER BY step_id, attempt"
)
_LATEST_RESULTS = (
    "SELECT step_id, result, checks FROM step_attempts AS a WHERE run_id = ? AND step_id IN ({})"
    " AND attempt = (SELECT MAX(attempt) FROM step_attempts AS b WHERE b.run_id = a.run_id"
    " AND b.step_id = a.step_id)"
)
_CHUNK = 500  # step ids bound in one query


def read_runs(conn: sqlite3.Connection, where: str, params: tuple[Any, ...]) -> list[RunRecord]:
    cursor = conn.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE {where}", params)
    return [
        RunRecord(
            id=row[0],
            doc_key=row[1],
            doc_path=row[2],
            doc_id=row[3],
            source_sha256=row[4],
            status=RunStatus(row[5]),
            started_at=row[6],
            ended_at=row[7],
            claim_pid=row[8],
            claim_host=row[9],
            claim_token=row[10],
            claim_heartbeat=row[11],
        )
        for row in cursor
    ]


def latest_run(conn: sqlite3.Connection, doc_key: str) -> RunRecord | None:
    found = read_runs(conn, "doc_key = ? ORDER BY id DESC LIMIT 1", (doc_key,))
    return found[0] if found else None


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _attempt(run_id: int, row: tuple[Any, ...]) -> AttemptRecord:
    step_id, attempt, status, source, error, reason, started, ended, ms, args, result, checks = row
    return AttemptRecord(
        run_id=run_id,
        step_id=step_id,
        attempt=attempt,
        status=StepStatus(status),
        source=source,
        args=_loads(args),
        result=_loads(result),
        error=error,
        pause_reason=None if reason is None else parse_pause_reason(reason),
        checks=_loads(checks),
        started_at=started,
        ended_at=ended,
        duration_ms=ms,
    )


def read_attempts(conn: sqlite3.Connection, run_id: int) -> list[AttemptRecord]:
    """Every attempt of a run, by step then attempt number."""
    return [_attempt(run_id, row) for row in conn.execute(_ATTEMPTS, (run_id,))]


def step_states(
    conn: sqlite3.Connection, run_id: int, results: Collection[str] | None = None
) -> dict[str, StepState]:
    """Each step's state in the run; the result and checks only of the steps in `results`
    (None: every step)."""
    if results is None:
        return fold_by_step(read_attempts(conn, run_id))
    cursor = conn.execute(_WITHOUT_RESULTS, (run_id,))
    states = fold_by_step(_attempt(run_id, row) for row in cursor)
    for step_id, (result, checks) in latest_results(conn, run_id, results).items():
        if step_id in states:
            states[step_id] = replace(states[step_id], result=result, checks=checks)
    return states


def latest_results(
    conn: sqlite3.Connection, run_id: int, steps: Collection[str]
) -> dict[str, tuple[Any, Any]]:
    """`(result, checks)` of the latest attempt of each step of `steps` the run has."""
    ids = sorted(steps)
    found: dict[str, tuple[Any, Any]] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        query = _LATEST_RESULTS.format(", ".join("?" * len(chunk)))
        for step_id, result, checks in conn.execute(query, (run_id, *chunk)):
            found[step_id] = (_loads(result), _loads(checks))
    return found


def read_events(conn: sqlite3.Connection, run_id: int) -> list[Event]:
    """The run's event log, in order."""
    cursor = conn.execute(
        "SELECT id, ts, run_id, step_id, kind, payload FROM events WHERE run_id = ? ORDER BY id",
        (run_id,),
    )
    return [
        Event(id=i, ts=ts, run_id=run, step_id=step, kind=kind, payload=json.loads(payload))
        for i, ts, run, step, kind, payload in cursor
    ]
