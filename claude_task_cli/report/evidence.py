"""What a recorded run proves, as a typed read model for reports: `RunEvidence`.

Read from the state store (`store.py`) and nothing else: every value here was written by a real
`execute_task` run or recorded by the client (`record_step`), and says which. Per step: its latest
outcome (status, result, error, pause reason, checks), every attempt with its timings, the resolved
arguments, and the shell commands it ran paired with their exit codes and output.

Conventions: `attempts` counts calls made (an outcome reached without a call, such as a pause,
makes a history row but no attempt); `duration_ms` is the time of all calls together; `checks` are
those of the latest outcome, which is what the completion matrix judges.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict

from claude_task_cli.convert.model import Step, TaskDocument
from claude_task_cli.gc_pause import gc_paused
from claude_task_cli.outcomes import PauseReason, RunStatus, StepStatus
from claude_task_cli.report.matrix import RunFacts, StepFacts
from claude_task_cli.store import AttemptRecord, Store


class _Evidence(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CheckEvidence(_Evidence):
    """One verification: an `expect` assertion, or a command's exit code."""

    passed: bool
    description: str
    message: str = ""
    actual: Any = None
    exit_code: int | None = None  # for an exit-code check: the code found in `actual`


class CommandEvidence(_Evidence):
    """A shell command of the step, exactly as written, and what running it returned."""

    command: str
    ran: bool
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    duration_ms: float | None = None
    timed_out: bool = False


class AttemptEvidence(_Evidence):
    number: int
    status: StepStatus
    source: str  # engine | client | document
    called: bool  # a tool call was made (else an outcome reached without one)
    started_at: float | None = None
    ended_at: float | None = None
    duration_ms: float | None = None
    error: str | None = None


class StepEvidence(_Evidence):
    step_id: str
    status: StepStatus
    source: str
    attempts: int
    history: list[AttemptEvidence]
    duration_ms: float | None = None
    started_at: float | None = None
    ended_at: float | None = None
    server: str | None = None
    tool: str | None = None
    arguments: Any = None
    result: Any = None
    error: str | None = None
    pause_reason: PauseReason | None = None
    checks: list[CheckEvidence] = []
    commands: list[CommandEvidence] = []


class RunEvidence(_Evidence):
    run_id: int
    doc_id: str
    doc_path: str
    status: RunStatus
    started_at: float
    ended_at: float | None = None
    source_sha256: str
    document_changed: bool
    steps: dict[str, StepEvidence]  # document order, then any step the document no longer has

    def facts(self) -> RunFacts:
        """The matrix's view of this evidence."""
        return RunFacts(
            run_id=self.run_id,
            status=str(self.status),
            started_at=self.started_at,
            ended_at=self.ended_at,
            source_sha256=self.source_sha256,
            steps={sid: _step_facts(step) for sid, step in self.steps.items()},
        )


def _step_facts(step: StepEvidence) -> StepFacts:
    reason = step.pause_reason
    checks = step.checks
    passed = sum(1 for c in checks if c.passed) if checks else 0
    return StepFacts(
        status=str(step.status),
        attempts=step.attempts,
        duration_ms=step.duration_ms,
        error=step.error,
        reason=None if reason is None else reason.model_dump(mode="json", by_alias=True),
        checks_passed=passed,
        checks_failed=len(checks) - passed,
        source=step.source,
        started_at=step.started_at,
        ended_at=step.ended_at,
    )


def load_evidence(
    store: Store, doc: TaskDocument, *, doc_key: str | None = None
) -> RunEvidence | None:
    """The evidence of the document's latest run, or None when no run was recorded.

    `doc_key` is how `execute_task` stored the runs (the resolved path of the file it was given);
    by default the engine's own `document_key`.
    """
    if doc_key is None:
        from claude_task_cli.store import document_key

        doc_key = document_key(doc)
    with gc_paused():
        return _load(store, doc, doc_key)


def _load(store: Store, doc: TaskDocument, doc_key: str) -> RunEvidence | None:
    run = store.latest_run(doc_key)
    if run is None:
        return None
    rows: dict[str, list[AttemptRecord]] = {}
    for row in store.attempts(run.id):
        rows.setdefault(row.step_id, []).append(row)
    steps = {s.id: s for _task, s in doc.all_steps()}
    order = [sid for sid in steps if sid in rows] + sorted(set(rows) - set(steps))
    # The store's records are validated already: construct, do not validate again (10,000
    # steps: ~0.4 s saved).
    return RunEvidence.model_construct(
        run_id=run.id,
        doc_id=run.doc_id,
        doc_path=run.doc_path,
        status=run.status,
        started_at=run.started_at,
        ended_at=run.ended_at,
        source_sha256=run.source_sha256,
        document_changed=run.source_sha256 != doc.source.sha256,
        steps={sid: _step(sid, rows[sid], steps.get(sid)) for sid in order},
    )


def _step(step_id: str, rows: list[AttemptRecord], step: Step | None) -> StepEvidence:
    latest = rows[-1]
    called = [r for r in rows if r.started_at is not None]
    durations = [r.duration_ms for r in called if r.duration_ms is not None]
    arguments = next((r.args for r in reversed(rows) if r.args is not None), None)
    server = tool = None
    if step is not None and step.tool is not None:
        server, tool = step.tool.server, step.tool.tool
    elif step is not None and step.commands:
        tool = "run_command"
    return StepEvidence.model_construct(
        step_id=step_id,
        status=latest.status,
        source=latest.source,
        attempts=len(called),
        history=[
            AttemptEvidence.model_construct(
                number=r.attempt,
                status=r.status,
                source=r.source,
                called=r.started_at is not None,
                started_at=r.started_at,
                ended_at=r.ended_at,
                duration_ms=r.duration_ms,
                error=r.error,
            )
            for r in rows
        ],
        duration_ms=sum(durations) if durations else None,
        started_at=called[0].started_at if called else rows[0].ended_at,
        ended_at=latest.ended_at,
        server=server,
        tool=tool,
        arguments=arguments,
        result=latest.result,
        error=latest.error,
        pause_reason=latest.pause_reason,
        checks=[_check(c) for c in latest.checks or []],
        commands=_commands(step, called[-1].checks if called else None),
    )


def _check(raw: dict[str, Any]) -> CheckEvidence:
    actual = raw.get("actual")
    code = actual.get("exit_code") if isinstance(actual, dict) else None
    wanted = (raw.get("expectation") or {}).get("exit_code")
    return CheckEvidence.model_construct(
        passed=bool(raw.get("passed")),
        description=str(raw.get("description", "")),
        message=str(raw.get("message") or ""),
        actual=actual,
        exit_code=code if wanted is not None and isinstance(code, int) else None,
    )


def _is_exit_check(raw: dict[str, Any]) -> bool:
    expectation = raw.get("expectation") or {}
    return expectation.get("exit_code") == 0 and not expectation.get("path")


def _commands(step: Step | None, checks: Iterable[dict[str, Any]] | None) -> list[CommandEvidence]:
    """Pair the step's commands with the exit-code checks the engine recorded for each, in
    order (the engine stops at the first command that fails)."""
    if step is None or not step.commands:
        return []
    ran = [c.get("actual") for c in checks or [] if _is_exit_check(c)][: len(step.commands)]
    out = []
    for index, command in enumerate(step.commands):
        value = ran[index] if index < len(ran) else None
        if not isinstance(value, dict):
            out.append(CommandEvidence.model_construct(command=command.script, ran=False))
            continue
        code = value.get("exit_code")
        out.append(
            CommandEvidence.model_construct(
                command=command.script,
                ran=True,
                exit_code=code if isinstance(code, int) else None,
                stdout=str(value.get("stdout") or ""),
                stderr=str(value.get("stderr") or ""),
                duration_ms=value.get("duration_ms"),
                timed_out=bool(value.get("timed_out")),
            )
        )
    return out
