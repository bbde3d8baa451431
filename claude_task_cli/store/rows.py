"""The store's rows read back as records: functions over a transaction (`engines.Tx`), plain SQL
the same on both engines.

`step_states` is what resuming a run reads: every step's state, with its values — arguments,
result and checks, which may be large — only for the steps asked for: a resumed run needs the
results a later placeholder uses, not the whole run's output. `step_values` reads the others back
when the run's outcome needs them.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import replace
from typing import Any

from claude_task_cli.outcomes import RunStatus, StepStatus, parse_pause_reason
from claude_task_cli.store.engines import Tx
from claude_task_cli.store.records import AttemptRecord, Event, RunRecord, StepState, fold

_RUN_COLUMNS = (
    "id, doc_key, doc_path, doc_id, source_sha256, status, started_at, ended_at, claim_pid,"
    " claim_host, claim_token, claim_heartbeat, claim_started"
)
_COLUMNS = (
    "step_id, attempt, status, source, error, pause_reason, started_at, ended_at, duration_ms"
)
_ATTEMPTS = (
    f"SELECT {_COLUMNS}, args, result, checks FROM step_attempts"
    " WHERE run_id = ? ORDER BY step_id, attempt"
)
_CHECKS_ONLY = (
    f"SELECT {_COLUMNS}, NULL, NULL, checks FROM step_attempts"
    " WHERE run_id = ? ORDER BY step_id, attempt"
)
_WITHOUT_VALUES = (
    f"SELECT {_COLUMNS}, NULL, NULL, NULL FROM step_attempts"
    " WHERE run_id = ? ORDER BY step_id, attempt"
)
_VALUES = (
    "SELECT step_id, args, result, checks FROM step_attempts"
    " WHERE run_id = ? AND step_id IN ({}) ORDER BY step_id, attempt"
)
_CHUNK = 500  # step ids bound in one query
_STEP_STATUS = {status.value: status for status in StepStatus}


def read_runs(conn: Tx, where: str, params: tuple[Any, ...]) -> list[RunRecord]:
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
            claim_started=row[12],
        )
        for row in cursor
    ]


def latest_run(conn: Tx, doc_key: str) -> RunRecord | None:
    found = read_runs(conn, "doc_key = ? ORDER BY id DESC LIMIT 1", (doc_key,))
    return found[0] if found else None


def last_attempt(conn: Tx, run_id: int, step_id: str) -> int:
    """The step's last attempt number in the run (0: none)."""
    row = conn.execute(
        "SELECT MAX(attempt) FROM step_attempts WHERE run_id = ? AND step_id = ?",
        (run_id, step_id),
    ).fetchone()
    return int(row[0] or 0)


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _attempt(run_id: int, row: tuple[Any, ...]) -> AttemptRecord:
    step_id, attempt, status, source, error, reason, started, ended, ms, args, result, checks = row
    return AttemptRecord(
        run_id=run_id,
        step_id=step_id,
        attempt=attempt,
        status=_STEP_STATUS[status],
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


def read_attempts(conn: Tx, run_id: int) -> list[AttemptRecord]:
    """Every attempt of a run, by step then attempt number."""
    return [_attempt(run_id, row) for row in conn.execute(_ATTEMPTS, (run_id,))]


def _one_attempt(row: tuple[Any, ...]) -> StepState:
    """The state of a step with one row, as `fold` makes it, straight from the row: most steps
    have one, and `task_status --json` of a 10,000-step run reads 10,000 of them within issue
    16's 0.5 s."""
    _step, attempt, status, source, error, reason, started, ended, ms, args, result, checks = row
    called = started is not None
    return StepState(
        status=_STEP_STATUS[status],
        source=source,
        result=_loads(result),
        error=error,
        pause_reason=None if reason is None else parse_pause_reason(reason),
        checks=_loads(checks),
        args=_loads(args),
        attempts=1 if called else 0,
        attempt=attempt,
        duration_ms=ms,
        total_ms=ms if called else None,
        started_at=started if called else ended,
        ended_at=ended,
    )


def _folded(run_id: int, rows: Iterable[tuple[Any, ...]]) -> dict[str, StepState]:
    """Rows ordered by step, then attempt, folded per step."""
    states: dict[str, StepState] = {}
    group: list[tuple[Any, ...]] = []
    for row in rows:
        if group and group[0][0] != row[0]:
            states[group[0][0]] = _fold_rows(run_id, group)
            group = []
        group.append(row)
    if group:
        states[group[0][0]] = _fold_rows(run_id, group)
    return states


def _fold_rows(run_id: int, group: list[tuple[Any, ...]]) -> StepState:
    if len(group) == 1:
        return _one_attempt(group[0])
    return fold([_attempt(run_id, row) for row in group])


def step_states(
    conn: Tx, run_id: int, values: Collection[str] | None = None, *, results: bool = True
) -> dict[str, StepState]:
    """Each step's state in the run; its arguments, result and checks only for the steps in
    `values` (None: every step). `results=False`: every step's checks, no arguments or results
    (what a completion matrix judges, without decoding what it does not show)."""
    if not results:
        return _folded(run_id, conn.execute(_CHECKS_ONLY, (run_id,)))
    if values is None:
        return _folded(run_id, conn.execute(_ATTEMPTS, (run_id,)))
    states = _folded(run_id, conn.execute(_WITHOUT_VALUES, (run_id,)))
    for step_id, (args, result, checks) in step_values(conn, run_id, values).items():
        states[step_id] = replace(states[step_id], args=args, result=result, checks=checks)
    return states


def step_values(conn: Tx, run_id: int, steps: Collection[str]) -> dict[str, tuple[Any, Any, Any]]:
    """`(args, result, checks)` of each step of `steps` the run has, as its state has them: the
    latest arguments recorded, the latest attempt's result and checks."""
    ids = sorted(steps)
    found: dict[str, tuple[Any, Any, Any]] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        query = _VALUES.format(", ".join("?" * len(chunk)))
        for step_id, args, result, checks in conn.execute(query, (run_id, *chunk)):
            # rows in attempt order: the last one's result and checks, the last arguments given
            given = _loads(args) if args is not None or step_id not in found else found[step_id][0]
            found[step_id] = (given, _loads(result), _loads(checks))
    return found


def read_events(conn: Tx, run_id: int) -> list[Event]:
    """The run's event log, in order."""
    cursor = conn.execute(
        "SELECT id, ts, run_id, step_id, kind, payload FROM events WHERE run_id = ? ORDER BY id",
        (run_id,),
    )
    return [
        Event(id=i, ts=ts, run_id=run, step_id=step, kind=kind, payload=json.loads(payload))
        for i, ts, run, step, kind, payload in cursor
    ]
