"""A document's board history read without touching the board: what the reports show as
evidence of who moved, claimed and finished its tasks (`task.created`, `task.claimed`, ...).

Reading writes nothing — no database file is created, no board tables are added to a state
database that has none — so `generate_report` stays a reader: a document that was never imported
has no history, and neither has a database without a board.
"""

from __future__ import annotations

from pathlib import Path

from claude_task_cli.board.events import read_events
from claude_task_cli.board.records import BoardEvent
from claude_task_cli.board.schema import COMPONENT
from claude_task_cli.board.tasks_of import document_place
from claude_task_cli.store.engines import DatabaseUrl, Tx, open_database


def document_history(url: DatabaseUrl, document: Path) -> list[BoardEvent]:
    """The board events of `document` (a file), oldest first; [] when it is not on the board."""
    if url.path is not None and not url.path.is_file():
        return []
    repository, where, _root = document_place(document)
    db = open_database(url)
    try:
        with db.transaction(write=False) as tx:
            if not _has_board(tx):
                return []
            row = tx.execute(
                "SELECT id FROM board_documents WHERE repository = ? AND path = ?",
                (repository, where),
            ).fetchone()
            return [] if row is None else read_events(tx, int(row[0]))
    finally:
        db.close()


def _has_board(tx: Tx) -> bool:
    """Whether the database holds the board's tables (its schema versions name the board)."""
    exists = (
        "SELECT to_regclass('schema_versions') IS NOT NULL"
        if tx.dialect == "postgresql"
        else "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'schema_versions')"
    )
    if not tx.execute(exists).fetchone()[0]:
        return False
    row = tx.execute(
        "SELECT version FROM schema_versions WHERE component = ?", (COMPONENT,)
    ).fetchone()
    return row is not None
