"""The run store's schema, its version, and the migration of an older database to it.

On SQLite the version is `PRAGMA user_version`; on PostgreSQL it is the `runs` component of
`schema_versions` (`engines.Database.migrate`), which starts at version 5 — the same tables, spelled
for PostgreSQL (`tables`) — and is 6 with nothing added. Version 6 (this one) is three tables:
`runs`, `step_attempts` (one row per attempt of a step) and `events` (the append-only log), and on
SQLite a fourth, `step_journal`: how far each run's step journal file has reached the database
(`step_journal.py`). Older versions, all migrated keeping every run: 1 had the three tables; 2
added a run's `revision` (raised by triggers) and `matrix_cache`, a cache of the completion
matrix; 3 added `step_journal`; 4 dropped it and 2's additions; 5 added `claim_started`, when the
claiming process started, so that a reused pid does not keep a crashed run claimed; 6 brings
`step_journal` back. Migrating from 3 applies what journal files a dead executor of that release
left; migrating from 2 or 3 drops 2's additions.

Several processes may open a new database at once: the migration runs in the caller's write
transaction and starts from the version read inside it, so the first one migrates and the others
find the work done.
"""

from __future__ import annotations

from pathlib import Path

from claude_task_cli.errors import StoreError
from claude_task_cli.store.engines import Dialect, Tx
from claude_task_cli.store.step_journal import TABLE, apply_files, journal_files

SCHEMA_VERSION = 6
POSTGRES_TABLES = 5  # the PostgreSQL version that created its tables; 6 adds nothing there

# In the engines' DDL spelling ({id}, {float}, {bigint}; `engines.Database.ddl`).
_TABLES = (
    "CREATE TABLE runs ("
    " id {id}, doc_key TEXT NOT NULL, doc_path TEXT NOT NULL, doc_id TEXT NOT NULL,"
    " source_sha256 TEXT NOT NULL, status TEXT NOT NULL, started_at {float} NOT NULL,"
    " ended_at {float}, claim_pid INTEGER, claim_host TEXT, claim_token TEXT,"
    " claim_heartbeat {float}, claim_started TEXT)",
    "CREATE INDEX runs_doc ON runs (doc_key, id)",
    "CREATE TABLE step_attempts ("
    " run_id {bigint} NOT NULL REFERENCES runs (id), step_id TEXT NOT NULL,"
    " attempt INTEGER NOT NULL, status TEXT NOT NULL, source TEXT NOT NULL, args TEXT,"
    " result TEXT, error TEXT, pause_reason TEXT, checks TEXT, started_at {float},"
    " ended_at {float}, duration_ms {float}, PRIMARY KEY (run_id, step_id, attempt)){rowid}",
    "CREATE TABLE events ("
    " id {id}, ts {float} NOT NULL, run_id {bigint} NOT NULL REFERENCES runs (id),"
    " step_id TEXT, kind TEXT NOT NULL, payload TEXT NOT NULL)",
    "CREATE INDEX events_run ON events (run_id, id)",
)


def tables(dialect: Dialect) -> tuple[str, ...]:
    """The tables of this version, for `dialect` (still to be spelled by `Database.ddl`)."""
    rowid = " WITHOUT ROWID" if dialect == "sqlite" else ""
    return tuple(statement.replace("{rowid}", rowid) for statement in _TABLES)


# What version 2 added, dropped again (the triggers first: they name `revision`).
_DROP_V2 = (
    "DROP TRIGGER IF EXISTS attempt_added",
    "DROP TRIGGER IF EXISTS attempt_changed",
    "DROP TRIGGER IF EXISTS attempt_removed",
    "DROP TRIGGER IF EXISTS run_changed",
    "DROP TABLE IF EXISTS matrix_cache",
    "ALTER TABLE runs DROP COLUMN revision",
)


def migrate(
    conn: Tx, database: Path, version: int, *, now: float, stale_after: float
) -> list[Path]:
    """Bring a SQLite database of `version` (0: empty) to `SCHEMA_VERSION`, inside the caller's
    transaction. Returns the journal files applied, for the caller to remove once committed."""
    if version > SCHEMA_VERSION:
        raise StoreError(
            database, f"schema {version} is newer than this release knows ({SCHEMA_VERSION})"
        )
    applied: list[Path] = []
    if version == 0:
        for statement in tables("sqlite"):
            conn.execute(conn.ddl(statement))
    elif version < 5:  # first: a journal applied below reads the runs as they are now
        conn.execute("ALTER TABLE runs ADD COLUMN claim_started TEXT")
    conn.execute(TABLE)  # schema 3 has it, with the marks its journal files need
    if version == 3:
        files = journal_files(database)
        applied = apply_files(conn, files, now, stale_after, live_refused=database)
    if version in (2, 3):
        for statement in _DROP_V2:
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return applied
