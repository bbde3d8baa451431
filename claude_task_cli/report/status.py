"""`task_status`'s core: the completion matrix of a document's latest run, and its JSON.

One read path, the reports' own: the state store (`Store`, its public read methods) → what the run
recorded, in its own records (the run and each step's state, its fold of the attempts) → the
matrix (`matrix.build_matrix` over the document's outline). The reports read every attempt, fold
them and build the run's evidence beside (`evidence.load_evidence`); `task_status` reads the
states alone (`evidence.recorded_states`). A test holds the two matrices equal on recorded runs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from claude_task_cli.convert.model import TaskDocument
from claude_task_cli.project import STATE_DIR, STATE_ENV, project_root
from claude_task_cli.report.evidence import RecordedRun, load_evidence, recorded_states
from claude_task_cli.report.matrix import Matrix, build_matrix
from claude_task_cli.report.outline import outline_of
from claude_task_cli.store.database import Store


def state_path_for(document: Path, explicit: Path | None = None) -> Path:
    """Where `execute_task` keeps the runs of `document` (`--state`, `$CLAUDE_TASK_STATE`, else
    `<project root>/.claude-task/state.db`)."""
    if explicit is not None:
        return explicit
    variable = os.environ.get(STATE_ENV)
    if variable:
        return Path(variable)
    return project_root(document.resolve().parent) / STATE_DIR / "state.db"


def latest_evidence(state_path: Path, doc: TaskDocument, doc_key: str) -> RecordedRun | None:
    """The latest run stored under `doc_key` with its evidence; None when none was recorded. A
    state database that does not exist is not created only to find it empty (anything else in
    its place is the store's to refuse)."""
    if not state_path.exists():
        return None
    with Store(state_path) as store:
        return load_evidence(store, doc, doc_key=doc_key)


def completion_of(
    document: Path, doc: TaskDocument, *, state_path: Path | None = None, doc_key: str | None = None
) -> Matrix:
    """The completion matrix of `doc` (converted from the file `document`) against its latest
    run: the run stored under `doc_key`, by default the resolved path of `document`, as
    `execute_task` stores it. A matrix of steps not run when no run was recorded."""
    state = state_path_for(document, state_path)
    if not state.exists():  # not created only to find it empty
        return build_matrix(outline_of(doc), None)
    with Store(state) as store:
        recorded = recorded_states(store, doc_key=doc_key or str(document.resolve()))
    return build_matrix(outline_of(doc), *(recorded or (None, None)))


def matrix_json(matrix: Matrix) -> str:
    """`task_status --json`: the matrix as compact JSON, non-ASCII characters kept."""
    return json.dumps(matrix.to_dict(), ensure_ascii=False, separators=(",", ":"))
