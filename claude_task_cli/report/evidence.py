"""What a recorded run proves, read from the state store: `RunEvidence`, as plain data.

Read through the store's public API (`Store.latest_run`, `Store.attempts`) and nothing else: every
value here was written by a real `execute_task` run or recorded by the client (`record_step`), and
says which. Per step: its latest outcome (status, result, error, pause reason, checks), every
attempt with its timings, the resolved arguments, and the shell commands it ran paired with their
exit codes and output.

The evidence is JSON-shaped data (dicts, lists, strings, numbers, booleans, None; typed here as
`TypedDict`s): what the report templates receive, what `--format json` writes, with no object
whose attributes lead anywhere else. A pause reason is its JSON contract (`type`, camelCase).

Conventions: `attempts` counts calls made (an outcome reached without a call, such as a pause,
makes a history row but no attempt); `duration_ms` is the time of all calls together; `checks` are
those of the latest outcome, which is what the completion matrix judges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from claude_task_cli.store.records import AttemptRecord, RunRecord, StepState, fold

if TYPE_CHECKING:
    from claude_task_cli.convert.model import Step, TaskDocument
    from claude_task_cli.store.database import Store


class CheckEvidence(TypedDict):
    """One verification: an `expect` assertion, or a command's exit code."""

    passed: bool
    description: str
    message: str
    actual: Any
    exit_code: int | None  # for an exit-code check: the code found in `actual`


class CommandEvidence(TypedDict):
    """A shell command of the step, exactly as written, and what running it returned."""

    command: str
    ran: bool
    exit_code: int | None
    stdout: str
    stderr: str
    duration_ms: float | None
    timed_out: bool


class AttemptEvidence(TypedDict):
    number: int
    status: str  # a StepStatus value
    source: str  # engine | client | document
    called: bool  # a tool call was made (else an outcome reached without one)
    started_at: float | None
    ended_at: float | None
    duration_ms: float | None
    error: str | None


class StepEvidence(TypedDict):
    step_id: str
    status: str  # a StepStatus value
    source: str
    attempts: int
    history: list[AttemptEvidence]
    duration_ms: float | None
    started_at: float | None
    ended_at: float | None
    server: str | None
    tool: str | None
    arguments: Any
    result: Any
    error: str | None
    pause_reason: dict[str, Any] | None
    checks: list[CheckEvidence]
    commands: list[CommandEvidence]


class RunEvidence(TypedDict):
    run_id: int
    doc_id: str
    doc_path: str
    status: str  # a RunStatus value
    started_at: float
    ended_at: float | None
    source_sha256: str
    document_changed: bool
    steps: dict[str, StepEvidence]  # document order, then any step the document no longer has


@dataclass(frozen=True)
class RecordedRun:
    """A document's latest run as the store keeps it — its record and each step's state, what the
    completion matrix judges — and as the reports show it: its evidence, plain data."""

    record: RunRecord
    states: dict[str, StepState]
    evidence: RunEvidence


def load_evidence(store: Store, doc: TaskDocument, *, doc_key: str) -> RecordedRun | None:
    """The document's latest run stored under `doc_key` (how `execute_task` stored it: the
    resolved path of the file it was given) with its evidence, or None when none was recorded."""
    run = store.latest_run(doc_key)
    if run is None:
        return None
    rows: dict[str, list[AttemptRecord]] = {}
    for row in store.attempts(run.id):
        rows.setdefault(row.step_id, []).append(row)
    states = {sid: fold(group) for sid, group in rows.items()}  # the store's own fold
    steps = {s.id: s for _task, s in doc.all_steps()}
    order = [sid for sid in steps if sid in rows] + sorted(set(rows) - set(steps))
    evidence: RunEvidence = {
        "run_id": run.id,
        "doc_id": run.doc_id,
        "doc_path": run.doc_path,
        "status": str(run.status),
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "source_sha256": run.source_sha256,
        "document_changed": run.source_sha256 != doc.source.sha256,
        "steps": {sid: _step(sid, rows[sid], states[sid], steps.get(sid)) for sid in order},
    }
    return RecordedRun(run, states, evidence)


def recorded_states(store: Store, *, doc_key: str) -> tuple[RunRecord, dict[str, StepState]] | None:
    """The latest run stored under `doc_key` and each step's state (`Store.step_states`, the same
    fold `load_evidence` makes), without the evidence only the reports show: what `task_status`
    reads, whose target (a 10,000-step run in ≤ 0.5 s) is further missed building it first.
    None when no run was recorded."""
    run = store.latest_run(doc_key)
    if run is None:
        return None
    return run, store.step_states(run.id, results=False)  # the matrix shows no result


def _step(
    step_id: str, rows: list[AttemptRecord], state: StepState, step: Step | None
) -> StepEvidence:
    last_call = next((r for r in reversed(rows) if r.started_at is not None), None)
    server = tool = None
    if step is not None and step.tool is not None:
        server, tool = step.tool.server, step.tool.tool
    elif step is not None and step.commands:
        tool = "run_command"
    reason = state.pause_reason
    return {
        "step_id": step_id,
        "status": state.status.value,
        "source": state.source,
        "attempts": state.attempts,
        "history": [
            {
                "number": r.attempt,
                "status": r.status.value,
                "source": r.source,
                "called": r.started_at is not None,
                "started_at": r.started_at,
                "ended_at": r.ended_at,
                "duration_ms": r.duration_ms,
                "error": r.error,
            }
            for r in rows
        ],
        "duration_ms": state.total_ms,
        "started_at": state.started_at,
        "ended_at": state.ended_at,
        "server": server,
        "tool": tool,
        "arguments": state.args,
        "result": state.result,
        "error": state.error,
        "pause_reason": None if reason is None else reason.model_dump(mode="json", by_alias=True),
        "checks": [_check(c) for c in state.checks or []],
        "commands": _commands(step, None if last_call is None else last_call.checks),
    }


def _check(raw: dict[str, Any]) -> CheckEvidence:
    actual = raw.get("actual")
    code = actual.get("exit_code") if isinstance(actual, dict) else None
    wanted = (raw.get("expectation") or {}).get("exit_code")
    return {
        "passed": bool(raw.get("passed")),
        "description": str(raw.get("description", "")),
        "message": str(raw.get("message") or ""),
        "actual": actual,
        "exit_code": code if wanted is not None and isinstance(code, int) else None,
    }


def _is_exit_check(raw: dict[str, Any]) -> bool:
    expectation = raw.get("expectation") or {}
    return expectation.get("exit_code") == 0 and not expectation.get("path")


def _commands(step: Step | None, checks: list[dict[str, Any]] | None) -> list[CommandEvidence]:
    """Pair the step's commands with the exit-code checks the engine recorded for each, in
    order (the engine stops at the first command that fails)."""
    if step is None or not step.commands:
        return []
    ran = [c.get("actual") for c in checks or [] if _is_exit_check(c)][: len(step.commands)]
    out: list[CommandEvidence] = []
    for index, command in enumerate(step.commands):
        value = ran[index] if index < len(ran) else None
        if not isinstance(value, dict):
            out.append(_command(command.script, ran=False))
            continue
        code = value.get("exit_code")
        out.append(
            _command(
                command.script,
                ran=True,
                exit_code=code if isinstance(code, int) else None,
                stdout=str(value.get("stdout") or ""),
                stderr=str(value.get("stderr") or ""),
                duration_ms=value.get("duration_ms"),
                timed_out=bool(value.get("timed_out")),
            )
        )
    return out


def _command(
    command: str,
    *,
    ran: bool,
    exit_code: int | None = None,
    stdout: str = "",
    stderr: str = "",
    duration_ms: float | None = None,
    timed_out: bool = False,
) -> CommandEvidence:
    return {
        "command": command,
        "ran": ran,
        "exit_code": exit_code,
        "stdout": stdout,
        "stderr": stderr,
        "duration_ms": duration_ms,
        "timed_out": timed_out,
    }
