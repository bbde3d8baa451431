"""Typed rows of the state database (`store.py`): claims, runs, step attempts, events; the JSON of
their text columns; whether a claim's process is alive."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from claude_task_cli.convert.model import TaskDocument
from claude_task_cli.outcomes import PauseReason, RunStatus, StepStatus


@dataclass(frozen=True)
class Claim:
    """Who executes a run: this process unless told otherwise."""

    pid: int = field(default_factory=os.getpid)
    host: str = field(default_factory=socket.gethostname)
    token: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __str__(self) -> str:
        return f"pid {self.pid} on {self.host}"


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True)


class RunRecord(_Record):
    id: int
    doc_key: str
    doc_path: str
    doc_id: str
    source_sha256: str
    status: RunStatus
    started_at: float
    ended_at: float | None
    claim_pid: int | None
    claim_host: str | None
    claim_token: str | None
    claim_heartbeat: float | None
    revision: int = 0  # raised by each change to a stopped run's facts (`store_schema.py`)


class AttemptRecord(_Record):
    """One row per attempt; rows with `started_at` None record an outcome reached without a call
    (paused, skipped, awaiting the client, or recorded by the client)."""

    run_id: int
    step_id: str
    attempt: int
    status: StepStatus
    source: str  # engine | client | document
    args: Any = None
    result: Any = None
    error: str | None = None
    pause_reason: PauseReason | None = None
    checks: list[dict[str, Any]] | None = None
    started_at: float | None = None
    ended_at: float | None = None
    duration_ms: float | None = None


class Event(_Record):
    """An entry of the append-only log; `id` is 0 until stored."""

    kind: str
    ts: float
    run_id: int
    step_id: str | None = None
    payload: dict[str, Any] = {}
    id: int = 0


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child not yet reaped is a zombie: dead for our purposes
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] not in {"Z", "X"}


def document_key(doc: TaskDocument) -> str:
    """How runs of a document are found again: its resolved path, else its id."""
    path = Path(doc.source.path)
    return str(path.resolve()) if path.is_file() else f"id:{doc.id}"
