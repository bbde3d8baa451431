"""The store's rows read back as records, and the claim of a run: functions over a connection.

`Store` calls them inside its own transactions (`store.py`); the rows' types are in
`run_records.py`, the writes in `store_writes.py`.
"""

from __future__ import annotations

import json
import socket
import sqlite3
from typing import Any

from claude_task_cli.errors import DocumentChangedError
from claude_task_cli.outcomes import RunStatus, parse_pause_reason
from claude_task_cli.store.json_text import loads_json
from claude_task_cli.store.records import AttemptRecord, Claim, Event, RunRecord, pid_alive
from claude_task_cli.store.writes import event_rows, insert_events


def read_runs(conn: sqlite3.Connection, where: str, params: tuple[Any, ...]) -> list[RunRecord]:
    cursor = conn.execute(f"SELECT * FROM runs WHERE {where}", params)
    names = [d[0] for d in cursor.description]
    return [RunRecord.model_validate(dict(zip(names, row, strict=True))) for row in cursor]


def latest_run(conn: sqlite3.Connection, doc_key: str) -> RunRecord | None:
    found = read_runs(conn, "doc_key = ? ORDER BY id DESC LIMIT 1", (doc_key,))
    return found[0] if found else None


def read_attempts(conn: sqlite3.Connection, run_id: int) -> list[AttemptRecord]:
    """Every attempt of a run, by step then attempt number."""
    cursor = conn.execute(
        "SELECT * FROM step_attempts WHERE run_id = ? ORDER BY step_id, attempt", (run_id,)
    )
    names = [d[0] for d in cursor.description]
    out = []
    for row in cursor:
        data = dict(zip(names, row, strict=True))
        for key in ("args", "result", "checks"):
            data[key] = loads_json(data[key])
        reason = data.pop("pause_reason")
        out.append(
            AttemptRecord.model_validate(
                {**data, "pause_reason": None if reason is None else parse_pause_reason(reason)}
            )
        )
    return out


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


def claim_live(run: RunRecord, now: float, stale_after: float) -> bool:
    """Whether the run's claim is held: by a live process on this host, or by another host whose
    heartbeat is younger than `stale_after` seconds."""
    if run.claim_host == socket.gethostname() and run.claim_pid is not None:
        return pid_alive(run.claim_pid)
    return run.claim_heartbeat is not None and now - run.claim_heartbeat < stale_after


def claim_run(
    conn: sqlite3.Connection,
    *,
    doc_key: str,
    doc_path: str,
    doc_id: str,
    sha256: str,
    claim: Claim,
    new: bool,
    now: float,
    stale_after: float,
) -> tuple[RunRecord | None, RunRecord | None, bool]:
    """Inside the caller's write transaction: `(run, None, resumed)` once the document's unfinished
    run (or a new one) is claimed, or `(None, holder, False)` with a `claim_refused` event when a
    live executor holds one of its runs. Raises `DocumentChangedError` when resuming a run whose
    source hash differs."""
    claimed = read_runs(conn, "doc_key = ? AND claim_token IS NOT NULL", (doc_key,))
    holder = next((run for run in claimed if claim_live(run, now, stale_after)), None)
    if holder is not None:
        refused = Event(kind="claim_refused", ts=now, run_id=holder.id, payload={"by": str(claim)})
        insert_events(conn, event_rows([refused]))
        return None, holder, False
    latest = latest_run(conn, doc_key)
    resume = latest is not None and not new and latest.status != RunStatus.COMPLETED
    if latest is not None and resume:
        if latest.source_sha256 != sha256:
            raise DocumentChangedError(doc_path, latest.id, latest.source_sha256, sha256)
        run_id = latest.id
    else:
        run_id = conn.execute(
            "INSERT INTO runs (doc_key, doc_path, doc_id, source_sha256, status,"
            " started_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (doc_key, doc_path, doc_id, sha256, RunStatus.RUNNING, now),
        ).fetchone()[0]
    conn.execute(
        "UPDATE runs SET status = ?, ended_at = NULL, claim_pid = ?, claim_host = ?,"
        " claim_token = ?, claim_heartbeat = ? WHERE id = ?",
        (RunStatus.RUNNING, claim.pid, claim.host, claim.token, now, run_id),
    )
    return read_runs(conn, "id = ?", (run_id,))[0], None, resume
