"""SQLite connections as the state database uses them: WAL with `synchronous=NORMAL` (durable
against a killed process, not a power cut), the file's folder made (with a `.gitignore` of `*` when
it is `.claude-task`), and writers queued fairly for the write lock (`begin_immediate`). Used by
`engines.Database`; errors are the driver's, for it to name.
"""

from __future__ import annotations

import contextlib
import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from claude_task_cli.project import STATE_DIR
from claude_task_cli.store.urls import DatabaseUrl

BUSY_TIMEOUT = 30.0  # seconds a SQLite writer waits for the write lock before giving up


def begin_immediate(conn: sqlite3.Connection) -> None:
    """`BEGIN IMMEDIATE`, retried after a short random pause while another writer holds the lock.

    SQLite's own busy handler sleeps longer and longer between tries (up to 100 ms), so under
    contention the writer that just committed takes the lock again while the others sleep: with 8
    claiming processes, some got no claim at all. Short random pauses keep every waiter in the
    race (benchmarks/bench_claims.py: the slowest worker gets at least a quarter of its share).
    """
    _while_locked(conn, "BEGIN IMMEDIATE", lambda: random.uniform(0.0001, 0.001))


def connect_sqlite(url: DatabaseUrl, busy_timeout: float) -> sqlite3.Connection:
    path = url.path
    assert path is not None
    if path.is_dir():  # sqlite would say only "unable to open database file"
        raise sqlite3.OperationalError("it is a directory")
    if path.parent != Path() and not path.parent.exists():
        with contextlib.suppress(FileExistsError):  # another process made it just now
            path.parent.mkdir(parents=True)
            if path.parent.name == STATE_DIR:
                (path.parent / ".gitignore").write_text("*\n", encoding="utf-8")
    conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT)
    try:
        write_ahead_log(conn)
        conn.execute("PRAGMA synchronous=NORMAL")  # survives kill -9 of a process, not power loss
        # 0 (the board): writers wait in `begin_immediate`, readers never; the run store waits
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
    except BaseException:
        conn.close()
        raise
    return conn


def write_ahead_log(conn: sqlite3.Connection) -> None:
    """Switch the database to WAL. On a new database that several processes open at once the
    switch can answer "database is locked" without waiting for the busy timeout (it needs the
    database alone for a moment): it is tried again, for as long as a writer would wait."""
    _while_locked(conn, "PRAGMA journal_mode=WAL", lambda: 0.005)


def _while_locked(conn: sqlite3.Connection, sql: str, pause: Callable[[], float]) -> None:
    """`sql`, tried again after `pause()` seconds while SQLite answers "locked", for as long as a
    writer would wait (`BUSY_TIMEOUT`); any other error at once."""
    deadline = time.monotonic() + BUSY_TIMEOUT
    while True:
        try:
            conn.execute(sql)
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(pause())
