"""`task_status`'s core: the completion matrix of a document's latest run, fast.

The report path reads the store through its typed API (`evidence.load_evidence`, pydantic models
for every attempt). That costs ~0.35 s of imports and validation on a 10,000-step run, more than
`task_status` may take in all, so this path reads the same facts with plain `sqlite3` (read-only
queries of the store's schema, versions 1 and 2, `store_schema.py`) and the document's cached
`Outline`, and imports neither pydantic nor the converter when the cache is warm. A database of
another schema version falls back to the typed path. `tests/test_matrix.py` checks both paths agree.

`task_status --json` goes further (`completion_json`): the matrix's JSON of a run that is not
running is cached in the database (`matrix_cache`) under the run's revision, the document's
SHA-256 and this release's fingerprint. The revision is raised by triggers in the transaction of
every change to the run, and read in the same read transaction as the rows the matrix is built
from, so a cached text is served only for exactly the facts it was built from.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claude_task_cli.gc_pause import gc_paused
from claude_task_cli.project import STATE_DIR, STATE_ENV, project_root
from claude_task_cli.report.matrix import Matrix, RunFacts, StepFacts, build_matrix
from claude_task_cli.report.outline import (
    CACHE_DIR,
    Outline,
    fingerprint,
    outline_of,
    read_cached,
    write_cached,
)

if TYPE_CHECKING:
    from claude_task_cli.convert.model import TaskDocument


def state_path_for(document: Path, explicit: Path | None = None) -> Path:
    """Where `execute_task` keeps the runs of `document` (`--state`, `$CLAUDE_TASK_STATE`, else
    `<project root>/.claude-task/state.db`)."""
    if explicit is not None:
        return explicit
    variable = os.environ.get(STATE_ENV)
    if variable:
        return Path(variable)
    return project_root(document.resolve().parent) / STATE_DIR / "state.db"


def document_outline(
    document: Path, state_path: Path, load: Callable[[], TaskDocument], digest: str | None = None
) -> Outline:
    """The outline of `document` (whose SHA-256 is `digest`, when known): from the cache beside the
    state database when current, else `load()`ed, converted and cached (only where a state
    directory already exists)."""
    digest = digest or _digest(document)
    cache = state_path.parent / CACHE_DIR
    found = read_cached(cache, digest)
    if found is not None:
        return found
    outline = outline_of(load())
    if state_path.parent.is_dir():
        write_cached(cache, digest, outline)
    return outline


def read_run_facts(state_path: Path, doc_key: str) -> RunFacts | None:
    """The facts of the latest run stored under `doc_key`, or None (no database, no run).

    Raises `LookupError` for a database of a schema this reader does not know.
    """
    return _snapshot(state_path, doc_key, None).facts


@dataclass(frozen=True)
class _Snapshot:
    """What one read transaction saw of a document's latest run."""

    facts: RunFacts | None
    cached: str | None = None  # the matrix's JSON cached for exactly this revision
    run_id: int = 0
    revision: int | None = None  # None: nothing to cache (schema 1, no run, a run still running)


_RUN = (
    "SELECT id, status, started_at, ended_at, source_sha256, {} FROM runs"
    " WHERE doc_key = ? ORDER BY id DESC LIMIT 1"
)
_RUN_OF = {4: _RUN.format("NULL")}
_CACHED = "SELECT json FROM matrix_cache WHERE run_id = ? AND revision = ? AND key = ?"


def _snapshot(state_path: Path, doc_key: str, cache_key: str | None) -> _Snapshot:
    """The latest run's facts, or its cached matrix when `cache_key` and the revision match."""
    if not state_path.is_file():
        return _Snapshot(None)
    from claude_task_cli.errors import TaskCliError
    from claude_task_cli.store import Store

    with contextlib.suppress(TaskCliError):  # an older schema is migrated first
        Store(state_path).close()
    uri = f"{state_path.resolve().as_uri()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    try:
        conn.execute("PRAGMA mmap_size = 268435456")  # read pages by mapping, not read(2)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version not in _RUN_OF:
            raise LookupError(f"{state_path}: not schema {' or '.join(map(str, _RUN_OF))}")
        conn.execute("BEGIN")  # one snapshot: the revision read is that of the rows read
        run = conn.execute(_RUN_OF[version], (doc_key,)).fetchone()
        if run is None:
            return _Snapshot(None)
        run_id, status, started, ended, sha256, revision = run
        if cache_key is not None and revision is not None:
            hit = conn.execute(_CACHED, (run_id, revision, cache_key)).fetchone()
            if hit is not None:
                return _Snapshot(None, hit[0])
        try:
            rows = conn.execute(_ATTEMPTS, (run_id,)).fetchall()
        except sqlite3.OperationalError as exc:  # an SQLite without its JSON functions
            raise LookupError(f"{state_path}: {exc}") from exc
    finally:
        conn.close()
    # ordered by step, then attempt
    steps = {sid: _facts(list(group)) for sid, group in groupby(rows, itemgetter(0))}
    facts = RunFacts(run_id, status, started, ended, sha256, steps)
    # a running run changes with every step: caching its matrix would only cost the executor
    return _Snapshot(facts, None, run_id, None if status == "running" else revision)


# Check counts are taken inside SQLite: parsing each check (which holds the whole result it
# checked) in Python would cost more than the rest of task_status. Most attempts have one check,
# read with one json_extract; json_each renders each element as text for json_extract to parse
# again (on a 10,000-step run: ~8 ms rather than ~40).
# Both count a check as passed when its `passed` is truthy to SQLite.
_ATTEMPTS = (
    "SELECT step_id, status, source, error, pause_reason, started_at, ended_at, duration_ms,"
    " CASE json_array_length(checks) WHEN 0 THEN 0"
    " WHEN 1 THEN CASE WHEN json_extract(checks, '$[0].passed') THEN 1 ELSE 0 END"
    " ELSE (SELECT count(*) FROM json_each(checks) WHERE json_extract(value, '$.passed')) END,"
    " json_array_length(checks) FROM step_attempts WHERE run_id = ? ORDER BY step_id, attempt"
)


def _facts(rows: list[Any]) -> StepFacts:
    """One step's rows (by attempt) folded exactly as `evidence.load_evidence` folds them."""
    _sid, status, source, error, reason, started, ended, ms, passed, total = rows[-1]
    if len(rows) == 1:  # most steps: one attempt
        called = 1 if started is not None else 0
        duration = ms if called else None
        first = started if called else ended
    else:
        calls = [r for r in rows if r[5] is not None]
        durations = [r[7] for r in calls if r[7] is not None]
        called = len(calls)
        duration = sum(durations) if durations else None
        first = calls[0][5] if calls else rows[0][6]
    return StepFacts(
        status,
        called,
        duration,
        error,
        json.loads(reason) if reason else None,
        passed or 0,
        (total or 0) - (passed or 0),
        source,
        first,
        ended,
    )


def completion_json(
    document: Path,
    load: Callable[[], TaskDocument],
    *,
    state_path: Path | None = None,
    doc_key: str | None = None,
    digest: str | None = None,
) -> str:
    """`matrix_json(completion_of(...))`, served from the run's cached matrix while neither the run
    (its revision) nor the document (whose SHA-256 is `digest`, when known) nor this release
    changed; else computed, and cached when the run is not running."""
    from claude_task_cli.report.matrix_json import matrix_json

    state = state_path_for(document, state_path)
    key = doc_key or str(document.resolve())
    digest = digest or _digest(document)
    cache_key = f"{digest}:{fingerprint()}"
    with gc_paused():
        try:
            seen = _snapshot(state, key, cache_key)
        except LookupError:  # a schema this reader does not know: the typed path, uncached
            return matrix_json(completion_of(document, load, state_path=state, doc_key=key))
        if seen.cached is not None:
            return seen.cached
        outline = document_outline(document, state, load, digest)
        text = matrix_json(build_matrix(outline, seen.facts))
        if seen.revision is not None:
            _cache(state, seen.run_id, seen.revision, cache_key, text)
        return text


def remember(document: Path, doc: TaskDocument, *, state_path: Path | None = None) -> None:
    """Leave `doc`'s outline and its run's matrix cached for `task_status`, once a run of it
    stopped: the next status call then converts nothing. Only while `document` still holds the
    text `doc` was converted from (not a `.json`, not edited during the run): every cache is keyed
    by the text it was built from. Failing to cache only makes that call slower: it never turns
    a run that stopped into an error (a store that cannot be read is reported by that call)."""
    from claude_task_cli.errors import TaskCliError

    digest = doc.source.sha256
    with contextlib.suppress(OSError, sqlite3.Error, LookupError, TaskCliError):
        if _digest(document) == digest:
            completion_json(document, lambda: doc, state_path=state_path, digest=digest)


_STORE_MATRIX = (
    "INSERT OR REPLACE INTO matrix_cache (run_id, revision, key, json)"
    " SELECT id, revision, ?, ? FROM runs WHERE id = ? AND revision = ?"
)
# only a document's latest run is ever read: its earlier runs' matrices (megabytes for a large
# document) are dropped rather than kept for every run ever made
_DROP_EARLIER = (
    "DELETE FROM matrix_cache WHERE run_id IN (SELECT id FROM runs WHERE id < ?1"
    " AND doc_key = (SELECT doc_key FROM runs WHERE id = ?1))"
)


def _cache(state_path: Path, run_id: int, revision: int, cache_key: str, text: str) -> None:
    """Cache a run's matrix as of `revision`, unless the run changed since, in place of its
    document's earlier runs'. A database that is busy or read-only only makes the next call
    slower."""
    with contextlib.suppress(sqlite3.Error):
        conn = sqlite3.connect(state_path, timeout=0.2, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(_STORE_MATRIX, (cache_key, text, run_id, revision))
            conn.execute(_DROP_EARLIER, (run_id,))
            conn.execute("COMMIT")
        finally:
            conn.close()  # uncommitted: rolled back


def _digest(document: Path) -> str:
    return hashlib.sha256(document.read_bytes()).hexdigest()


def completion_of(
    document: Path,
    load: Callable[[], TaskDocument],
    *,
    state_path: Path | None = None,
    doc_key: str | None = None,
) -> Matrix:
    """The completion matrix of `document`'s latest run (a matrix of "not run" steps when none).

    `document` is the file `execute_task` was given (its resolved path is the run's key unless
    `doc_key` says otherwise); `load` converts it, and is called only on a cold cache.
    """
    state = state_path_for(document, state_path)
    key = doc_key or str(document.resolve())
    with gc_paused():
        outline = document_outline(document, state, load)
        try:
            facts = read_run_facts(state, key)
        except LookupError:
            facts = _typed_facts(state, load(), key)
        return build_matrix(outline, facts)


def _typed_facts(state: Path, doc: TaskDocument, key: str) -> RunFacts | None:
    from claude_task_cli.report.evidence import load_evidence
    from claude_task_cli.store import Store

    with Store(state) as store:
        evidence = load_evidence(store, doc, doc_key=key)
    return None if evidence is None else evidence.facts()
