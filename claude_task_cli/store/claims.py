"""Who executes a run: claims, whether one is still held, and the atomic claim of a document's run.

A run is executed by at most one executor. `claim_run` runs inside the caller's write transaction:
it refuses while a live claim holds any run of the document, else claims the document's unfinished
run (or a new one).

On SQLite (one machine's file) a claim is live while its process is alive (same host) or its
heartbeat is younger than `stale_after` seconds (another host). A process is the one that claimed
only if it started when that one did: a claim records its process's start time (Linux: the boot and
the start tick from `/proc`), so a pid the system gave again to another process after a crash does
not keep the crashed run claimed. Where the start time cannot be read, the pid alone decides.

On PostgreSQL the claimer may be on any machine, where no pid can be checked: a claim is a lease,
live while its heartbeat (written on the database's clock, `writes.heartbeat`) is younger than
`stale_after` seconds by that same clock; claimers of one document queue on an advisory lock, so
two machines never both find it free. Every write of the claiming store renews the lease and is
fenced by the claim's token (`fence`): an executor that stalled past its lease while another took
its run over writes nothing more. No lock files, no host clocks: the database decides.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from claude_task_cli.convert.model import TaskDocument
from claude_task_cli.errors import DocumentChangedError, RunLockedError
from claude_task_cli.outcomes import RunStatus
from claude_task_cli.project import project_root, repository_name
from claude_task_cli.store.engines import Tx
from claude_task_cli.store.records import Event, RunRecord
from claude_task_cli.store.rows import latest_run, read_runs
from claude_task_cli.store.writes import insert_events


def started_at(pid: int) -> str | None:
    """When process `pid` started, as `<boot id>:<start tick>` (Linux), else None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    fields_after_name = stat.rsplit(")", 1)[-1].split()
    return f"{boot}:{fields_after_name[19]}"  # field 22 of stat: starttime


@dataclass(frozen=True, slots=True)
class Claim:
    """Who executes a run: this process unless told otherwise."""

    pid: int = field(default_factory=os.getpid)
    host: str = field(default_factory=socket.gethostname)
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    started: str | None = field(default_factory=lambda: started_at(os.getpid()))

    def __str__(self) -> str:
        return f"pid {self.pid} on {self.host}"


def document_key(doc: TaskDocument) -> str:
    """How runs of a document are found again: its resolved path, else its id."""
    path = Path(doc.source.path)
    return str(path.resolve()) if path.is_file() else f"id:{doc.id}"


def shared_key(doc_key: str) -> str:
    """A document's key as every machine sharing a server has it (PostgreSQL): a resolved path
    as `<repository>:<path inside its project root>` (the board's way: `project.repository_name`),
    so that checkouts at other paths find the same runs; any other key as it is."""
    path = Path(doc_key)
    if not path.is_absolute():
        return doc_key
    root = project_root(path.parent)
    return f"{repository_name(root)}:{path.relative_to(root).as_posix()}"


def local_path(key: str, root: Path) -> Path | None:
    """The document at `root` a key (a path, or a `shared_key`) names; None when it names a
    document of another repository, or no path."""
    if Path(key).is_absolute():
        return Path(key)
    repository, sep, inside = key.partition(":")
    if not sep or repository == "id" or repository != repository_name(root):
        return None
    return root / inside


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


def claim_live(run: RunRecord, now: float, stale_after: float, *, lease: bool = False) -> bool:
    """Whether the run's claim is held: by a live process on this host, or by another host whose
    heartbeat is younger than `stale_after` seconds; with `lease` (PostgreSQL), by the heartbeat
    alone, `now` being the database's clock."""
    if not lease and run.claim_host == socket.gethostname() and run.claim_pid is not None:
        if not pid_alive(run.claim_pid):
            return False
        return run.claim_started is None or started_at(run.claim_pid) in (None, run.claim_started)
    return run.claim_heartbeat is not None and now - run.claim_heartbeat < stale_after


def claim_run(
    conn: Tx,
    *,
    doc_key: str,
    doc_path: str,
    doc_id: str,
    sha256: str,
    claim: Claim,
    new: bool,
    now: float,
    stale_after: float,
) -> tuple[RunRecord | None, RunRecord | None, bool]:
    """Inside the caller's write transaction: `(run, None, resumed)` once the document's unfinished
    run (or a new one) is claimed, or `(None, holder, False)` with a `claim_refused` event when a
    live executor holds one of its runs. Raises `DocumentChangedError` when resuming a run whose
    source hash differs. On PostgreSQL `now` is read from the database's clock."""
    lease = conn.dialect == "postgresql"
    if lease:
        conn.lock(f"claude-task run {doc_key}")
        now = conn.now()
    claimed = read_runs(conn, "doc_key = ? AND claim_token IS NOT NULL", (doc_key,))
    holder = next((run for run in claimed if claim_live(run, now, stale_after, lease=lease)), None)
    if holder is not None:
        refused = Event(kind="claim_refused", ts=now, run_id=holder.id, payload={"by": str(claim)})
        insert_events(conn, [refused])
        return None, holder, False
    latest = latest_run(conn, doc_key)
    resume = latest is not None and not new and latest.status != RunStatus.COMPLETED
    if latest is not None and resume:
        if latest.source_sha256 != sha256:
            raise DocumentChangedError(doc_path, latest.id, latest.source_sha256, sha256)
        run_id = latest.id
    else:
        run_id = conn.execute(
            "INSERT INTO runs (doc_key, doc_path, doc_id, source_sha256, status,"
            " started_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (doc_key, doc_path, doc_id, sha256, RunStatus.RUNNING, now),
        ).fetchone()[0]
    conn.execute(
        "UPDATE runs SET status = ?, ended_at = NULL, claim_pid = ?, claim_host = ?,"
        " claim_token = ?, claim_heartbeat = ?, claim_started = ? WHERE id = ?",
        (RunStatus.RUNNING, claim.pid, claim.host, claim.token, now, claim.started, run_id),
    )
    return read_runs(conn, "id = ?", (run_id,))[0], None, resume


def fence(conn: Tx, run_id: int, token: str) -> None:
    """Inside a write transaction of the executor holding `run_id` (PostgreSQL): renew its lease,
    or raise `RunLockedError` — rolling the whole transaction back — when the claim is no longer
    its own (it stalled past its lease and another executor took the run over)."""
    renewed = conn.execute(
        f"UPDATE runs SET claim_heartbeat = {conn.now_sql} WHERE id = ? AND claim_token = ?",
        (run_id, token),
    )
    if renewed.rowcount == 1:
        return
    (run,) = read_runs(conn, "id = ?", (run_id,))
    holder = f"pid {run.claim_pid} on {run.claim_host}" if run.claim_token else "another executor"
    raise RunLockedError(run.doc_path, run_id, f"{holder} since this one's lease ended")
