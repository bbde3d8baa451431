"""The board's rows as typed values: tasks, events, claims. Plain frozen dataclasses that turn
into the JSON the doors print (`to_dict`)."""

from __future__ import annotations

import getpass
import json
import os
import socket
from dataclasses import asdict, dataclass
from typing import Any

from claude_task_cli.board.states import ORDER, TaskState


def default_actor() -> str:
    """Who a manual command is recorded as: `user@host`."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"


def default_worker() -> str:
    """A worker's name when none is given: `host:pid`."""
    return f"{socket.gethostname()}:{os.getpid()}"


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


@dataclass(frozen=True)
class BoardTask:
    """A task on the board (a row of `board_tasks` with its document's identity)."""

    id: int
    document_id: int
    repository: str
    path: str  # the document's path inside its repository
    doc_id: str
    number: str  # the task's id in the document, as of its latest import
    title: str
    position: int
    priority: str | None
    priority_rank: int
    state: TaskState
    source: str
    marker: str
    changes: list[str] | None
    retired_at: float | None
    created_at: float
    updated_at: float
    attempts: int
    max_attempts: int
    backoff: float
    not_before: float | None
    claim_token: str | None
    claim_worker: str | None
    lease_until: float | None
    reason: dict[str, Any] | None
    definition: dict[str, Any] | None
    auto_ready: bool

    @classmethod
    def of(cls, row: Any) -> BoardTask:
        values = list(row)
        values[10] = TaskState(values[10])
        values[13] = loads(values[13])
        values[24] = loads(values[24])
        values[25] = loads(values[25])
        values[26] = bool(values[26])
        return cls(*values)

    @property
    def label(self) -> str:
        """How messages name the task: `docs/tasks/010.md task 2`."""
        return f"{self.path} task {self.number}"

    def to_dict(self) -> dict[str, Any]:
        """The task as the doors print it (`--json`); the claim token is never shown."""
        data = asdict(self)
        data.pop("claim_token")
        data["state"] = self.state.value
        data["retired"] = self.retired_at is not None
        return data


@dataclass(frozen=True)
class Claimed:
    """A claim held: the task, the token that fences every write of it, the lease's end."""

    task: BoardTask
    token: str
    worker: str
    lease_until: float

    def to_dict(self) -> dict[str, Any]:
        task = self.task
        return {
            "claimed": True,
            "document": task.path,
            "repository": task.repository,
            "task": task.number,
            "title": task.title,
            "priority": task.priority,
            "attempt": task.attempts,
            "max_attempts": task.max_attempts,
            "worker": self.worker,
            "lease_until": self.lease_until,
        }


@dataclass(frozen=True)
class BoardEvent:
    """An entry of the board's audit trail."""

    id: int
    ts: float
    kind: str
    actor: str
    document: str | None  # the document's path
    task: str | None  # the task's number
    quick_run: int | None
    payload: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def board_json(tasks: list[BoardTask]) -> dict[str, Any]:
    """The board as both doors print it (`task_status --json` without TASK): every document's
    tasks grouped by state, and the totals."""
    documents: dict[tuple[str, str], dict[str, Any]] = {}
    totals = dict.fromkeys((s.value for s in ORDER), 0)
    for task in tasks:
        key = (task.repository, task.path)
        entry = documents.setdefault(
            key,
            {
                "repository": task.repository,
                "document": task.path,
                "doc_id": task.doc_id,
                "states": {s.value: [] for s in ORDER},
            },
        )
        entry["states"][task.state.value].append(task.to_dict())
        totals[task.state.value] += 1
    return {"documents": list(documents.values()), "totals": totals}
