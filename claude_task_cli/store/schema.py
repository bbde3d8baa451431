"""The state database's schema, its version, and the migration of an older database to it.

The version is `PRAGMA user_version`. Version 4 (this one) is three tables: `runs`, `step_attempts`
(one row per attempt of a step) and `events` (the append-only log). Older versions, all migrated
keeping every run: 1 had the same tables; 2 added a run's `revision` (raised by triggers) and
`matrix_cache`, a cache of the completion matrix; 3 added `step_journal`, how far the executor's
step journal files had reached the database. Migrating from 3 applies what journal files a dead
executor left (`legacy_journal.py`); migrating from 2 or 3 drops what they added.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from claude_task_cli.errors import StoreError
from claude_task_cli.store.legacy_journal import apply_journals

SCHEMA_VERSION = 4

TABLES = (
    "CREATE TABLE runs ("
    " id INTEGER PRIMARY KEY, doc_key TEXT NOT NULL, doc_path TEXT NOT NULL, doc_id TEXT NOT NULL,"
    " source_sha256 TEXT NOT NULL, status TEXT NOT NULL, started_at REAL NOT NULL, ended_at REAL,"
    " claim_pid INTEGER, claim_host TEXT, claim_token TEXT, claim_heartbeat REAL)",
    "CREATE INDEX runs_doc ON runs (doc_key, id)",
    "CREATE TABLE step_attempts ("
    " run_id INTEGER NOT NULL REFERENCES runs (id), step_id TEXT NOT NULL,"
    " attempt INTEGER NOT NULL, status TEXT NOT NULL, source TEXT NOT NULL, args TEXT,"
    " result TEXT, error TEXT, pause_reason TEXT, checks TEXT, started_at REAL, ended_at REAL,"
    " duration_ms REAL, PRIMARY KEY (run_id, step_id, attempt)) WITHOUT ROWID",
    "CREATE TABLE events ("
    " id INTEGER PRIMARY KEY, ts REAL NOT NULL, run_id INTEGER NOT NULL REFERENCES runs (id),"
    " step_id TEXT, kind TEXT NOT NULL, payload TEXT NOT NULL)",
    "CREATE INDEX events_run ON events (run_id, id)",
)

# What versions 2 and 3 added, dropped again (the triggers first: they name `revision`).
_DROP_V2 = (
    "DROP TRIGGER IF EXISTS attempt_added",
    "DROP TRIGGER IF EXISTS attempt_changed",
    "DROP TRIGGER IF EXISTS attempt_removed",
    "DROP TRIGGER IF EXISTS run_changed",
    "DROP TABLE IF EXISTS matrix_cache",
    "ALTER TABLE runs DROP COLUMN revision",
)
_DROP_V3 = ("DROP TABLE IF EXISTS step_journal",)


def migrate(
    conn: sqlite3.Connection, database: Path, version: int, *, now: float, stale_after: float
) -> list[Path]:
    """Bring a database of `version` (0: empty) to `SCHEMA_VERSION`, inside the caller's
    transaction. Returns the journal files applied, for the caller to remove once committed."""
    if version > SCHEMA_VERSION:
        raise StoreError(
            database, f"schema {version} is newer than this release knows ({SCHEMA_VERSION})"
        )
    applied: list[Path] = []
    if version == 0:
        for statement in TABLES:
            conn.execute(statement)
    if version == 3:
        applied = apply_journals(conn, database, now, stale_after)
        for statement in _DROP_V3:
            conn.execute(statement)
    if version in (2, 3):
        for statement in _DROP_V2:
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return applied
