"""The board's tables, by version (component `board` in `schema_versions`, `store/engines.py`).

They live beside the run store's tables, in the same database, and share none of them:
- `board_documents`: an imported document, identified by its repository and its path inside it
  (the same on every machine), with the sha256 of its latest import;
- `board_tasks`: a task of a document; `number` and `title_key` match it again on re-import
  (`importer.py`), `state` is one of `states.TaskState`, `claim_token` / `claim_worker` /
  `lease_until` the claim, `attempts` / `max_attempts` / `backoff` / `not_before` the retry
  policy, `reason` (JSON) why it is blocked, `changes` (JSON) what its latest re-import changed;
- `board_edges`: task → the tasks blocking it;
- `board_events`: the append-only audit trail (`events.py`);
- `board_quick_runs`: one-off tool calls (`quick.py`);
- `board_settings`: the board's policy (`settings.py`).
Times are seconds since the epoch on the database's clock.
"""

from __future__ import annotations

COMPONENT = "board"

_V1 = (
    "CREATE TABLE board_documents ("
    " id {id}, repository TEXT NOT NULL, path TEXT NOT NULL, doc_id TEXT NOT NULL,"
    " title TEXT NOT NULL, sha256 TEXT NOT NULL, created_at {float} NOT NULL,"
    " imported_at {float} NOT NULL, UNIQUE (repository, path))",
    "CREATE TABLE board_tasks ("
    " id {id}, document_id {bigint} NOT NULL REFERENCES board_documents (id),"
    " number TEXT NOT NULL, title TEXT NOT NULL, title_key TEXT NOT NULL,"
    " position INTEGER NOT NULL, priority TEXT, priority_rank INTEGER NOT NULL,"
    " state TEXT NOT NULL, source TEXT NOT NULL, marker TEXT NOT NULL, content_sha TEXT NOT NULL,"
    " changes TEXT, retired_at {float}, auto_ready INTEGER NOT NULL,"
    " created_at {float} NOT NULL, updated_at {float} NOT NULL,"
    " attempts INTEGER NOT NULL, max_attempts INTEGER NOT NULL, backoff {float} NOT NULL,"
    " not_before {float}, claim_token TEXT, claim_worker TEXT, lease_until {float},"
    " reason TEXT, definition TEXT)",
    "CREATE INDEX board_tasks_queue ON board_tasks (state, priority_rank, created_at, id)",
    "CREATE INDEX board_tasks_document ON board_tasks (document_id, position)",
    "CREATE INDEX board_tasks_lease ON board_tasks (state, lease_until)",
    "CREATE TABLE board_edges ("
    " task_id {bigint} NOT NULL REFERENCES board_tasks (id),"
    " blocker_id {bigint} NOT NULL REFERENCES board_tasks (id), PRIMARY KEY (task_id, blocker_id))",
    "CREATE INDEX board_edges_blocker ON board_edges (blocker_id)",
    "CREATE TABLE board_events ("
    " id {id}, ts {float} NOT NULL, kind TEXT NOT NULL, actor TEXT NOT NULL,"
    " document_id {bigint}, task_id {bigint}, quick_run_id {bigint}, payload TEXT NOT NULL)",
    "CREATE INDEX board_events_document ON board_events (document_id, id)",
    "CREATE TABLE board_quick_runs ("
    " id {id}, server TEXT NOT NULL, tool TEXT NOT NULL, args TEXT NOT NULL,"
    " status TEXT NOT NULL, actor TEXT NOT NULL, started_at {float} NOT NULL,"
    " finished_at {float}, result TEXT, error TEXT, promoted_task_id {bigint})",
    "CREATE TABLE board_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
)

MIGRATIONS: dict[int, tuple[str, ...]] = {1: _V1}

TASK_COLUMNS = (
    "t.id, t.document_id, d.repository, d.path, d.doc_id, t.number, t.title, t.position,"
    " t.priority, t.priority_rank, t.state, t.source, t.marker, t.changes, t.retired_at,"
    " t.created_at, t.updated_at, t.attempts, t.max_attempts, t.backoff, t.not_before,"
    " t.claim_token, t.claim_worker, t.lease_until, t.reason, t.definition, t.auto_ready"
)
TASKS_FROM = "board_tasks t JOIN board_documents d ON d.id = t.document_id"
