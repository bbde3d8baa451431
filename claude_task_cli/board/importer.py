"""Import and re-import: a converted document's tasks recorded on the board, reconciled with what
an earlier import recorded, in one transaction.

Matching (by a stable key, never by position): a task of the new document is the same board task
as an earlier one with the same title (case, punctuation and spacing folded), else as the one with
the same number; a match keeps its state, attempts, history and evidence and is marked with what
changed (`number`, `title`, `definition`, `priority`, `dependencies`, `marker`, `restored`). A task
no earlier one matches is created in `backlog` (`ready` with `auto_ready` when its blockers allow,
`done` with `accept_marks` when its marker says complete); an earlier task the new document no
longer has is retired: kept with its history, off the board and the queue, and restored if a
later import has it again. The document's own status markers never move a task after its first
import: the board's state is the record; a changed marker is reported as a change.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from claude_task_cli.board import events, moves
from claude_task_cli.board.records import dumps
from claude_task_cli.board.states import Policy, TaskState
from claude_task_cli.board.tasks_of import TaskSpec
from claude_task_cli.store.engines import Tx


@dataclass(frozen=True)
class ImportOptions:
    auto_ready: bool = False  # new tasks go to `ready` when their blockers allow, and later
    accept_marks: bool = False  # a new task whose marker says complete is recorded `done`
    max_attempts: int = 3
    backoff: float = 30.0  # seconds before the first retry; doubled at each further one


@dataclass
class ImportResult:
    """What an import recorded (or, previewed, would record)."""

    repository: str
    document: str
    doc_id: str
    title: str
    first_import: bool
    created: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    retired: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Stored:
    id: int
    number: str
    title: str
    title_key: str
    priority: str | None
    marker: str
    content_sha: str
    retired: bool
    blockers: frozenset[int]


def match(stored: list[_Stored], specs: list[TaskSpec]) -> dict[int, _Stored]:
    """Each new task's earlier self, by position in `specs`: same title first, then same number."""
    found: dict[int, _Stored] = {}
    free = list(stored)
    for key in ("title_key", "number"):
        for index, spec in enumerate(specs):
            if index in found:
                continue
            same = [s for s in free if getattr(s, key) == getattr(spec, key)]
            if same:  # several with one title: the one that also has the number, else the first
                best = next((s for s in same if s.number == spec.number), same[0])
                found[index] = best
                free.remove(best)
    return found


def record_import(
    tx: Tx,
    place: tuple[str, str],
    doc: tuple[str, str, str],
    specs: list[TaskSpec],
    options: ImportOptions,
    actor: str,
    policy: Policy,
) -> ImportResult:
    """Record the document `doc` (id, title, sha256) at `place` (repository, path)."""
    repository, path = place
    doc_id, title, sha256 = doc
    tx.lock(f"board-document:{repository}/{path}")  # one import of a document at a time
    now = tx.now()
    row = tx.execute(
        "SELECT id FROM board_documents WHERE repository = ? AND path = ?", (repository, path)
    ).fetchone()
    result = ImportResult(repository, path, doc_id, title, first_import=row is None)
    if row is None:
        document_id = tx.execute(
            "INSERT INTO board_documents (repository, path, doc_id, title, sha256, created_at,"
            " imported_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (repository, path, doc_id, title, sha256, now, now),
        ).fetchone()[0]
    else:
        document_id = row[0]
        tx.execute(
            "UPDATE board_documents SET doc_id = ?, title = ?, sha256 = ?, imported_at = ?"
            " WHERE id = ?",
            (doc_id, title, sha256, now, document_id),
        )
    stored = _stored(tx, document_id)
    matched = match(stored, specs)
    ids: dict[str, int] = {}
    for index, spec in enumerate(specs):
        earlier = matched.get(index)
        if earlier is None:
            ids[spec.number] = _create(tx, now, document_id, spec, options, actor)
            result.created.append(spec.number)
        else:
            ids[spec.number] = earlier.id
    new_edges = {
        ids[spec.number]: frozenset(ids[dep] for dep in spec.depends_on if dep in ids)
        for spec in specs
    }
    for index, spec in enumerate(specs):
        earlier = matched.get(index)
        if earlier is None:
            continue
        changes = _changes(earlier, spec, new_edges[earlier.id])
        _update(tx, now, document_id, earlier.id, spec, changes, actor)
        if changes:
            result.changed[spec.number] = changes
        else:
            result.unchanged.append(spec.number)
    kept = set(ids.values())
    for old in stored:
        if old.id not in kept and not old.retired:
            tx.execute("UPDATE board_tasks SET retired_at = ? WHERE id = ?", (now, old.id))
            events.record(
                tx,
                now,
                "task.updated",
                actor,
                document_id=document_id,
                task_id=old.id,
                payload={"retired": True, "number": old.number, "title": old.title},
            )
            result.retired.append(old.number)
    everyone = [s.id for s in stored] + [i for n, i in ids.items() if n in result.created]
    _replace_edges(tx, everyone, new_edges)
    if options.auto_ready:
        for number in result.created:
            task = moves.load_task(tx, ids[number])
            if task.state == TaskState.BACKLOG and not moves.unresolved(tx, task.id, policy):
                moves.apply(tx, now, task, TaskState.READY, actor, policy, note="imported ready")
    return result


def _stored(tx: Tx, document_id: int) -> list[_Stored]:
    rows = tx.execute(
        "SELECT id, number, title, title_key, priority, marker, content_sha, retired_at"
        " FROM board_tasks WHERE document_id = ? ORDER BY position, id",
        (document_id,),
    ).fetchall()
    edges: dict[int, set[int]] = {}
    for task_id, blocker in tx.execute(
        "SELECT e.task_id, e.blocker_id FROM board_edges e JOIN board_tasks t ON t.id = e.task_id"
        " WHERE t.document_id = ?",
        (document_id,),
    ).fetchall():
        edges.setdefault(task_id, set()).add(blocker)
    return [
        _Stored(
            id=task_id,
            number=number,
            title=title,
            title_key=key,
            priority=priority,
            marker=marker,
            content_sha=sha,
            retired=retired is not None,
            blockers=frozenset(edges.get(task_id, ())),
        )
        for task_id, number, title, key, priority, marker, sha, retired in rows
    ]


def _create(
    tx: Tx, now: float, document_id: int, spec: TaskSpec, options: ImportOptions, actor: str
) -> int:
    state = TaskState.DONE if options.accept_marks and spec.marker_done else TaskState.BACKLOG
    task_id: int = tx.execute(
        "INSERT INTO board_tasks (document_id, number, title, title_key, position, priority,"
        " priority_rank, state, source, marker, content_sha, auto_ready, created_at, updated_at,"
        " attempts, max_attempts, backoff) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'prd_import', ?, ?, ?,"
        " ?, ?, 0, ?, ?) RETURNING id",
        (
            document_id,
            spec.number,
            spec.title,
            spec.title_key,
            spec.position,
            spec.priority,
            spec.priority_rank,
            state.value,
            spec.marker,
            spec.content_sha,
            1 if options.auto_ready else 0,
            now,
            now,
            options.max_attempts,
            options.backoff,
        ),
    ).fetchone()[0]
    payload: dict[str, Any] = {"number": spec.number, "title": spec.title, "state": state.value}
    if state == TaskState.DONE:
        payload["reason"] = f"the document's marker says {spec.marker!r}"
    events.record(
        tx, now, "task.created", actor, document_id=document_id, task_id=task_id, payload=payload
    )
    return task_id


def _changes(earlier: _Stored, spec: TaskSpec, blockers: frozenset[int]) -> list[str]:
    found = [
        name
        for name, differs in (
            ("number", earlier.number != spec.number),
            ("title", earlier.title != spec.title),
            ("definition", earlier.content_sha != spec.content_sha),
            ("priority", earlier.priority != spec.priority),
            ("dependencies", earlier.blockers != blockers),
            ("marker", earlier.marker != spec.marker),
            ("restored", earlier.retired),
        )
        if differs
    ]
    return found


def _update(
    tx: Tx,
    now: float,
    document_id: int,
    task_id: int,
    spec: TaskSpec,
    changes: list[str],
    actor: str,
) -> None:
    tx.execute(
        "UPDATE board_tasks SET number = ?, title = ?, title_key = ?, position = ?, priority = ?,"
        " priority_rank = ?, marker = ?, content_sha = ?, retired_at = NULL,"
        " changes = COALESCE(?, changes) WHERE id = ?",
        (
            spec.number,
            spec.title,
            spec.title_key,
            spec.position,
            spec.priority,
            spec.priority_rank,
            spec.marker,
            spec.content_sha,
            dumps(changes) if changes else None,
            task_id,
        ),
    )
    if changes:
        events.record(
            tx,
            now,
            "task.updated",
            actor,
            document_id=document_id,
            task_id=task_id,
            payload={"changes": changes, "number": spec.number, "title": spec.title},
        )


def _replace_edges(tx: Tx, task_ids: list[int], edges: dict[int, frozenset[int]]) -> None:
    for task_id in task_ids:
        tx.execute("DELETE FROM board_edges WHERE task_id = ?", (task_id,))
    rows = [(task_id, blocker) for task_id, blockers in edges.items() for blocker in blockers]
    if rows:
        tx.executemany("INSERT INTO board_edges (task_id, blocker_id) VALUES (?, ?)", rows)
