"""The state database's schema, by version, and the migration of an older database to this one.

The version is `PRAGMA user_version`. Version 1: runs, step attempts, events. Version 2 adds a run's
`revision`, which triggers raise in the transaction of every change to a stopped run or its
attempts and of its status entering or leaving `running`, and `matrix_cache`, the completion
matrix's JSON as of one revision (`completion.py` serves it while the revision and the document
are unchanged). Version 3 adds `step_journal`: per run, the last record of the executor's step
journal applied to the database (`step_journal.py`). A migration only adds: a database written by
an older release keeps every row, and the version-1 reader in `completion.py` still reads it.
"""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 3

_V1 = (
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

# An attempt of a running run does not raise the revision: a running run's matrix is never cached,
# and its status changing into and out of `running` raises it (`run_changed`), so no cached text
# outlives a change. That keeps the executor's per-step writes free of an extra row update. A
# claim's heartbeat is not a change of the run's facts; recursive triggers are off (SQLite's
# default), so the bump does not fire `run_changed` again.
_BUMP = "UPDATE runs SET revision = revision + 1 WHERE id = {}.run_id AND status != 'running'"
_V2 = (
    "ALTER TABLE runs ADD COLUMN revision INTEGER NOT NULL DEFAULT 0",
    "CREATE TABLE matrix_cache ("
    " run_id INTEGER PRIMARY KEY REFERENCES runs (id), revision INTEGER NOT NULL,"
    " key TEXT NOT NULL, json TEXT NOT NULL)",
    f"CREATE TRIGGER attempt_added AFTER INSERT ON step_attempts BEGIN {_BUMP.format('NEW')}; END",
    f"CREATE TRIGGER attempt_changed AFTER UPDATE ON step_attempts BEGIN {_BUMP.format('NEW')};"
    " END",
    f"CREATE TRIGGER attempt_removed AFTER DELETE ON step_attempts BEGIN {_BUMP.format('OLD')};"
    " END",
    "CREATE TRIGGER run_changed AFTER UPDATE OF doc_key, doc_path, doc_id, source_sha256, status,"
    " started_at, ended_at ON runs BEGIN"
    " UPDATE runs SET revision = revision + 1 WHERE id = NEW.id; END",
)

_V3 = (
    "CREATE TABLE step_journal ("
    " run_id INTEGER PRIMARY KEY REFERENCES runs (id), seq INTEGER NOT NULL)",
)

MIGRATIONS: dict[int, tuple[str, ...]] = {1: _V1, 2: _V2, 3: _V3}


def migrate(conn: sqlite3.Connection, version: int) -> None:
    """Bring a database of `version` (0: empty) to `SCHEMA_VERSION`, inside the caller's
    transaction."""
    for target in range(version + 1, SCHEMA_VERSION + 1):
        for statement in MIGRATIONS[target]:
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
