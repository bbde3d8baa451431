"""The board store: one database (`store/engines.py`, SQLite or PostgreSQL) and the operations on
its tasks, each one transaction that writes its events with it.

```python
with Board.open(database_url(None)) as board:
    result = board.import_document(doc, path, ImportOptions(auto_ready=True), actor="ana@host")
    claimed, why = board.claim("ci-7", lease=60.0, limits=Limits())
    board.renew(claimed, lease=60.0)                     # ClaimLostError once it is not held
    board.settle(claimed, Execution("passed"))           # in_review (or done), fenced
    task, changed = board.move("010", "2", TaskState.DONE, actor="ana@host")   # approve
```
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from claude_task_cli.board import claims, events, importer, moves, quick, settings
from claude_task_cli.board.claims import Limits
from claude_task_cli.board.importer import ImportOptions, ImportResult
from claude_task_cli.board.quick import QuickRun
from claude_task_cli.board.records import BoardEvent, BoardTask, Claimed
from claude_task_cli.board.schema import COMPONENT, MIGRATIONS, TASK_COLUMNS, TASKS_FROM
from claude_task_cli.board.settle import Execution, settle
from claude_task_cli.board.states import Policy, TaskState
from claude_task_cli.board.tasks_of import document_place, specs_of
from claude_task_cli.convert.model import TaskDocument
from claude_task_cli.errors import InputError
from claude_task_cli.store.engines import Database, DatabaseUrl, Tx, open_database

_T = TypeVar("_T")


class _Rollback(Exception):
    """Raised to undo a transaction on purpose (a preview), carrying what it computed."""

    def __init__(self, value: Any) -> None:
        self.value = value


class Board:
    """The task board in one database; use as a context manager or call `close()`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate(COMPONENT, MIGRATIONS)

    @classmethod
    def open(cls, url: DatabaseUrl) -> Board:
        db = open_database(url)
        try:
            return cls(db)
        except BaseException:
            db.close()
            raise

    def __enter__(self) -> Board:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def _write(self, op: Callable[[Tx], _T]) -> _T:
        with self.db.transaction() as tx:
            return op(tx)

    def _read(self, op: Callable[[Tx], _T]) -> _T:
        with self.db.transaction(write=False) as tx:
            return op(tx)

    def policy(self) -> Policy:
        return self._read(settings.policy)

    # import -----------------------------------------------------------------------------------

    def import_document(
        self,
        doc: TaskDocument,
        path: Path,
        options: ImportOptions,
        actor: str,
        *,
        preview: bool = False,
    ) -> ImportResult:
        """Record (or, with `preview`, only reconcile and report) a converted document."""
        repository, where, _root = document_place(path)
        specs = specs_of(doc)

        def op(tx: Tx) -> ImportResult:
            result = importer.record_import(
                tx,
                (repository, where),
                (doc.id, doc.title, doc.source.sha256),
                specs,
                options,
                actor,
                settings.policy(tx),
            )
            if preview:
                raise _Rollback(result)
            return result

        try:
            recorded = self._write(op)
        except _Rollback as undone:
            result: ImportResult = undone.value
            return result
        if recorded.created and self.db.dialect == "postgresql":
            self._analyze()
        return recorded

    def _analyze(self) -> None:
        """Refresh PostgreSQL's statistics after tasks were added: without them the planner sorts
        every ready task for each claim instead of walking the queue's index to the first one
        (benchmarks/bench_claims.py, 10,000 ready tasks)."""
        with self.db.transaction() as tx:
            for table in ("board_tasks", "board_edges", "board_documents"):
                tx.execute(f"ANALYZE {table}")

    # finding ----------------------------------------------------------------------------------

    def find_document(self, text: str) -> tuple[int, str]:
        """DOC as typed (a file, a path on the board, a document id or stem) → (id, path)."""
        rows = self._read(
            lambda tx: tx.execute(
                "SELECT id, repository, path, doc_id FROM board_documents ORDER BY path"
            ).fetchall()
        )
        given = Path(text)
        if given.is_file():
            repository, where, _root = document_place(given)
            found = [r for r in rows if (r[1], r[2]) == (repository, where)]
        else:
            found = [r for r in rows if r[2] == text] or [
                r for r in rows if text in (r[3], Path(r[2]).stem, Path(r[2]).name)
            ]
            if not found:
                found = [r for r in rows if Path(r[2]).stem.startswith(f"{text}_")]
        if len(found) == 1:
            return found[0][0], found[0][2]
        if not found:
            raise InputError(text, "no such document on the board (claude-task import it first)")
        names = ", ".join(f"{r[1]}:{r[2]}" for r in found)
        raise InputError(text, f"ambiguous: matches {names}; give its path")

    def find_task(self, document: str, task: str) -> BoardTask:
        """TASK (`2` or `task_2`) of DOC, the live task before a retired one of that number."""
        document_id, where = self.find_document(document)
        number = task.removeprefix("task_").removeprefix("task:")
        rows = self._read(
            lambda tx: tx.execute(
                f"SELECT {TASK_COLUMNS} FROM {TASKS_FROM} WHERE t.document_id = ?"
                " AND t.number = ? ORDER BY t.retired_at IS NOT NULL, t.id",
                (document_id, number),
            ).fetchall()
        )
        if not rows:
            raise InputError(task, f"no task {number} in {where} on the board")
        return BoardTask.of(rows[0])

    # moves ------------------------------------------------------------------------------------

    def move(
        self,
        document: str,
        task: str,
        target: TaskState,
        actor: str,
        *,
        note: str | None = None,
        force: bool = False,
    ) -> tuple[BoardTask, bool]:
        """A manual move: (the task, whether it changed); moving to its own state changes
        nothing. `TransitionError` names the rule and the blocker when refused."""
        found = self.find_task(document, task)
        target = TaskState(target)

        def op(tx: Tx) -> tuple[BoardTask, bool]:
            current = moves.load_task(tx, found.id)
            if current.state == target:
                return current, False
            reason = None
            if target == TaskState.BLOCKED:
                unblock = f"claude-task move {current.path} {current.number} ready"
                reason = {"kind": "manual", "by": actor, "message": note or "", "unblock": unblock}
            policy = settings.policy(tx)
            moved = moves.apply(
                tx,
                tx.now(),
                current,
                target,
                actor,
                policy,
                reason=reason,
                note=note,
                forced=force,
            )
            return moved, True

        return self._write(op)

    # claims -----------------------------------------------------------------------------------

    def claim(
        self, worker: str, lease: float = claims.LEASE, limits: Limits | None = None
    ) -> tuple[Claimed | None, str]:
        """Claim the best ready task: (the claim, "") or (None, why nothing was claimed)."""
        return self._write(lambda tx: claims.claim_next(tx, worker, lease, limits or Limits()))

    def claim_task(
        self,
        document: str,
        task: str,
        worker: str,
        lease: float = claims.LEASE,
        limits: Limits | None = None,
    ) -> tuple[Claimed | None, str]:
        """Claim one named task (a `done` one: nothing, said so)."""
        found = self.find_task(document, task)
        return self._write(
            lambda tx: claims.claim_task(
                tx,
                moves.load_task(tx, found.id),
                worker,
                lease,
                limits or Limits(),
                settings.policy(tx),
            )
        )

    def renew(self, claimed: Claimed, lease: float = claims.LEASE) -> float:
        return self._write(
            lambda tx: claims.renew(tx, claimed.task.id, claimed.token, lease, claimed.task.label)
        )

    def step_event(self, claimed: Claimed, kind: str, payload: dict[str, Any]) -> bool:
        """Record a step of a claimed task's run; False when the claim no longer holds."""
        return self._write(
            lambda tx: events.record_fenced(
                tx, tx.now(), kind, claimed.worker, claimed.task.id, claimed.token, payload
            )
        )

    def settle(self, claimed: Claimed, execution: Execution) -> BoardTask:
        """Move a claimed task as its execution says (`settle.py`); `ClaimLostError` if not held."""
        return self._write(lambda tx: settle(tx, claimed, execution, settings.policy(tx)))

    def expire_leases(self) -> list[BoardTask]:
        """Settle the claims whose lease ended (a claim does this too)."""
        return self._write(lambda tx: claims.expire_leases(tx, tx.now(), settings.policy(tx)))

    # reading ----------------------------------------------------------------------------------

    def tasks(self, *, retired: bool = False) -> list[BoardTask]:
        """Every task on the board by document and position (retired ones only when asked)."""
        where = "" if retired else " WHERE t.retired_at IS NULL"
        rows = self._read(
            lambda tx: tx.execute(
                f"SELECT {TASK_COLUMNS} FROM {TASKS_FROM}{where}"
                " ORDER BY d.repository, d.path, t.position, t.id"
            ).fetchall()
        )
        return [BoardTask.of(row) for row in rows]

    def events(self, document: str | None = None, limit: int | None = None) -> list[BoardEvent]:
        document_id = None if document is None else self.find_document(document)[0]
        return self._read(lambda tx: events.read_events(tx, document_id, limit))

    # quick runs ---------------------------------------------------------------------------------

    def quick_started(self, server: str, tool: str, args: dict[str, Any], actor: str) -> int:
        return self._write(lambda tx: quick.started(tx, server, tool, args, actor))

    def quick_finished(
        self,
        run_id: int,
        result: Any,
        error: str | None,
        actor: str,
        promote_to: str | None = None,
    ) -> QuickRun:
        """Record how a quick run's call went (and, promoted, its task in `promote_to`)."""
        return self._write(lambda tx: quick.finished(tx, run_id, result, error, actor, promote_to))

    # settings ---------------------------------------------------------------------------------

    def settings(self) -> dict[str, bool]:
        return self._read(settings.stored)

    def change_setting(self, name: str, value: str, actor: str) -> bool:
        return self._write(lambda tx: settings.change(tx, name, value, actor))
