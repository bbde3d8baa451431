"""`task_status`'s core: the completion matrix of a document's latest run, and its JSON.

One read path, the reports' own: the state store (`Store`, its public read methods) → what the run
recorded, in its own records (the run and each step's state, its fold of the attempts) → the
matrix (`matrix.build_matrix` over the document's outline). The reports read every attempt, fold
them and build the run's evidence beside (`evidence.load_evidence`); `task_status` reads the
states alone (`evidence.recorded_states`). A test holds the two matrices equal on recorded runs.
"""

from __future__ import annotations

import json
from pathlib import Path

from claude_task_cli.convert.model import TaskDocument
from claude_task_cli.report.evidence import RecordedRun, load_evidence, recorded_states
from claude_task_cli.report.matrix import Matrix, build_matrix
from claude_task_cli.report.outline import outline_of
from claude_task_cli.store.database import Store
from claude_task_cli.store.urls import DatabaseUrl, sqlite_file, state_location


def state_path_for(
    document: Path, explicit: Path | DatabaseUrl | None = None
) -> Path | DatabaseUrl:
    """Where `execute_task` keeps the runs of `document` (`--state` / `--db`, `$CLAUDE_TASK_DB`,
    `$CLAUDE_TASK_STATE`, else `<project root>/.claude-task/state.db`)."""
    return state_location(explicit, document.resolve().parent)


def latest_evidence(
    state_path: Path | DatabaseUrl, doc: TaskDocument, doc_key: str
) -> RecordedRun | None:
    """The latest run stored under `doc_key` with its evidence; None when none was recorded. A
    SQLite file that does not exist is not created only to find it empty (anything else in
    its place is the store's to refuse)."""
    file = sqlite_file(state_path)
    if file is not None and not file.exists():
        return None
    with Store(state_path) as store:
        return load_evidence(store, doc, doc_key=doc_key)


def completion_of(
    document: Path,
    doc: TaskDocument,
    *,
    state_path: Path | DatabaseUrl | None = None,
    doc_key: str | None = None,
) -> Matrix:
    """The completion matrix of `doc` (converted from the file `document`) against its latest
    run: the run stored under `doc_key`, by default the resolved path of `document`, as
    `execute_task` stores it. A matrix of steps not run when no run was recorded."""
    state = state_path_for(document, state_path)
    file = sqlite_file(state)
    if file is not None and not file.exists():  # not created only to find it empty
        return build_matrix(outline_of(doc), None)
    with Store(state) as store:
        recorded = recorded_states(store, doc_key=doc_key or str(document.resolve()))
    return build_matrix(outline_of(doc), *(recorded or (None, None)))


def matrix_json(matrix: Matrix) -> str:
    """`task_status --json`: the matrix as compact JSON, non-ASCII characters kept."""
    return json.dumps(matrix.to_dict(), ensure_ascii=False, separators=(",", ":"))
