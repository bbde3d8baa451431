"""The board and the run store in one database (a SQLite file, a PostgreSQL schema): separate
tables, separate schema versions; opening the board on a database the run store wrote keeps its
runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from claude_task_cli.board import Board, ImportOptions
from claude_task_cli.operations import load_document
from claude_task_cli.store import SCHEMA_VERSION
from claude_task_cli.store.database import Claim, Store
from claude_task_cli.store.engines import parse_url


def test_the_board_keeps_the_run_stores_runs(project: Path, write_doc: Callable[..., Path]) -> None:
    state = project / ".claude-task" / "state.db"
    with Store(state) as store:
        run, _ = store.open_run(doc_key="k", doc_path="p.md", doc_id="1", sha256="s", claim=Claim())
    doc, path = load_document(str(write_doc("980_plan", [("Only", [])])))
    with Board.open(parse_url(f"sqlite:///{state}")) as board:
        board.import_document(doc, path, ImportOptions(), "ana")
        with board.db.transaction(write=False) as tx:
            versions = tx.execute("SELECT component, version FROM schema_versions").fetchall()
        assert [tuple(v) for v in versions] == [("board", 1)]
    with Store(state) as store:
        assert [r.id for r in store.runs()] == [run.id]
    with Board.open(parse_url(f"sqlite:///{state}")) as board:
        assert [t.title for t in board.tasks()] == ["Only"]


def test_the_board_and_the_run_store_share_one_database_on_either_engine(
    db_url: str, project: Path, write_doc: Callable[..., Path]
) -> None:
    url = parse_url(db_url)
    with Store(url) as store:
        run, _ = store.open_run(doc_key="k", doc_path="p.md", doc_id="1", sha256="s", claim=Claim())
    doc, path = load_document(str(write_doc("980_plan", [("Only", [])])))
    with Board.open(url) as board:
        board.import_document(doc, path, ImportOptions(), "ana")
        with board.db.transaction(write=False) as tx:
            versions = tx.execute("SELECT component, version FROM schema_versions").fetchall()
    expected = {("board", 1)} | (
        {("runs", SCHEMA_VERSION)} if url.dialect == "postgresql" else set()
    )
    assert {tuple(v) for v in versions} == expected  # SQLite's run store: PRAGMA user_version
    with Store(url) as store:
        assert [r.id for r in store.runs()] == [run.id]
