"""The completion matrix (seed Task 5): every task and step COMPLETE or INCOMPLETE, and why.

Pure arithmetic over a document's `Outline` and what a run recorded, in the store's own records:
the run (`RunRecord`; `None` when no run was recorded) and each step's state (`StepState`, the
store's fold of its attempts). The rules:

- a step is COMPLETE when its latest outcome is `completed` and none of its checks failed;
  otherwise INCOMPLETE, with its finer state (failed, skipped, paused, awaiting the client,
  running, not run), the specific failure, and what blocks it (prerequisite steps and tasks that
  are not complete);
- a task is COMPLETE when every one of its steps is;
- percentages are rounded to one decimal (7 of 9 is 77.8), except that 100.0 means all and
  0.0 means none: 9,999 of 10,000 is 99.9, 1 of 10,000 is 0.1;
- the verdict is COMPLETE only when a run was recorded for this version of the document, it has at
  least one step, every step is COMPLETE and no check failed;
- a step completed by the client (`record_step`, source `client`) or ticked `[x]` in the document
  (source `document`) is COMPLETE — work for an agent or a person has no tool to call — but its
  result did not come from a tool call: each row keeps its `source`, and the matrix counts those
  steps (`complete_by_client`, `complete_by_document`) so no summary claims them as verified by
  the engine. A client's result is checked against the step's `expect` when it is recorded
  (`continuation.py`); a failing check makes the step failed, not complete.

The matrix is what `task_status` prints (`--json`: `Matrix.to_dict()`, in the shapes of
`matrix_shapes.py`, which the MCP door publishes as its output schema), what the final summary
and `--junit` show, and what decides the exit code of `generate_report`. Its rows are
`NamedTuple`s: immutable records, one per step and per task.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any, NamedTuple, cast

from claude_task_cli.report.failure_text import describe_reason, first_line
from claude_task_cli.report.matrix_shapes import Matrix as MatrixData
from claude_task_cli.report.matrix_shapes import StepRow as StepRowData
from claude_task_cli.report.matrix_shapes import TaskRow as TaskRowData
from claude_task_cli.report.outline import Outline, TaskOutline
from claude_task_cli.report.wording import made_by, of_total, plural
from claude_task_cli.store.records import RunRecord, StepState


class State(StrEnum):
    """A step's finer state; `pending` in the store reads `not_run` here."""

    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    PAUSED = "paused"
    AWAITING_CLIENT = "awaiting_client"
    RUNNING = "running"
    NOT_RUN = "not_run"


class Completion(StrEnum):
    COMPLETE = "COMPLETE"
    INCOMPLETE = "INCOMPLETE"


# `pending`, or a status this release does not know, reads `not_run`.
_STATES = {s.value: s for s in State}
# A task's state is its worst step's: what needs attention first.
_SEVERITY = [
    State.FAILED,
    State.PAUSED,
    State.AWAITING_CLIENT,
    State.RUNNING,
    State.SKIPPED,
    State.NOT_RUN,
    State.COMPLETED,
]
_RANK = {state: rank for rank, state in enumerate(_SEVERITY)}


# How a COMPLETE step that no tool call of the engine produced is marked where it says COMPLETE.
COMPLETED_BY = {"client": "recorded by the client", "document": "ticked in the document"}


class StepRow(NamedTuple):
    id: str
    task_id: str
    title: str
    kind: str
    tool: str | None
    server: str | None
    state: State
    completion: Completion
    failure: str | None
    blocked_by: tuple[str, ...]
    attempts: int
    duration_ms: float | None
    checks_passed: int
    checks_failed: int
    source: str | None
    pause_reason: Mapping[str, Any] | None  # the typed reason's JSON ({"type": ..., camelCase})

    @property
    def completion_text(self) -> str:
        """`COMPLETE`, `COMPLETE (recorded by the client)`, `INCOMPLETE`, ..."""
        by = COMPLETED_BY.get(self.source or "") if self.completion is Completion.COMPLETE else None
        return str(self.completion) if by is None else f"{self.completion} ({by})"


class TaskRow(NamedTuple):
    id: str
    title: str
    state: State
    completion: Completion
    steps_total: int
    steps_complete: int
    percent: float
    failures: tuple[str, ...]  # ids of its incomplete steps
    blocked_by: tuple[str, ...]  # ids of prerequisite tasks that are not complete
    duration_ms: float | None  # time in calls of all its steps (None: no step was timed)


@dataclass(frozen=True, slots=True)
class Matrix:
    doc_id: str
    title: str
    run_id: int | None
    run_status: str | None
    document_changed: bool
    verdict: Completion
    reasons: tuple[str, ...]  # why the verdict is not COMPLETE (empty when it is)
    steps_total: int
    steps_complete: int
    step_percent: float
    tasks_total: int
    tasks_complete: int
    task_percent: float
    checks_passed: int
    checks_failed: int
    complete_by_client: int  # COMPLETE steps whose result the client recorded (no tool call)
    complete_by_document: int  # COMPLETE steps ticked [x] in the document (no tool call)
    tasks: tuple[TaskRow, ...]
    steps: tuple[StepRow, ...] = field(repr=False)

    @property
    def has_evidence(self) -> bool:
        return self.run_id is not None

    @property
    def complete_without_engine(self) -> int:
        """COMPLETE steps whose completion no tool call by the engine produced."""
        return self.complete_by_client + self.complete_by_document

    def without_engine_note(self) -> str | None:
        """`2 steps completed without a tool call by the engine (...)`, or None when none was."""
        count = self.complete_without_engine
        if not count:
            return None
        by = made_by(self.complete_by_client, self.complete_by_document)
        return f"{plural(count, 'step')} completed without a tool call by the engine ({by})"

    def task(self, task_id: str) -> TaskRow:
        return next(t for t in self.tasks if t.id == task_id)

    def by_task(self) -> dict[str, list[StepRow]]:
        """Every task's step rows (one pass; use it rather than `steps_of` in a loop)."""
        out: dict[str, list[StepRow]] = {t.id: [] for t in self.tasks}
        for row in self.steps:
            out[row.task_id].append(row)
        return out

    def to_dict(self) -> MatrixData:
        """The matrix as JSON values, in a stable order (`task_status --json`): its fields, each
        row a dict of its fields, states and completions as their strings, tuples as lists."""
        data = {name: getattr(self, name) for name in _MATRIX_FIELDS}
        data["verdict"] = self.verdict.value
        data["reasons"] = list(self.reasons)
        data["tasks"] = [task_dict(t) for t in self.tasks]
        data["steps"] = [step_dict(s) for s in self.steps]
        return cast(MatrixData, data)


def task_dict(row: TaskRow) -> TaskRowData:
    """A task row as JSON values."""
    data = row._asdict()
    data["state"] = row.state.value
    data["completion"] = row.completion.value
    data["failures"] = list(row.failures)
    data["blocked_by"] = list(row.blocked_by)
    return cast(TaskRowData, data)


def step_dict(row: StepRow) -> StepRowData:
    """A step row as JSON values (its pause reason is the JSON it was read as)."""
    data = row._asdict()
    data["state"] = row.state.value
    data["completion"] = row.completion.value
    data["blocked_by"] = list(row.blocked_by)
    return cast(StepRowData, data)


_MATRIX_FIELDS = tuple(f.name for f in fields(Matrix))


def percent(done: int, total: int) -> float:
    """`done` of `total` in percent, rounded half up to 0.1, but never to 100.0 short of all nor
    to 0.0 above none (0.0 when there is nothing to count)."""
    if total <= 0 or done <= 0:
        return 0.0
    if done >= total:
        return 100.0
    tenths = (done * 2000 + total) // (2 * total)  # round(done / total * 1000), halves up
    return min(max(tenths, 1), 999) / 10


def build_matrix(
    outline: Outline, run: RunRecord | None, steps: Mapping[str, StepState] | None = None
) -> Matrix:
    """The matrix of `outline` against what `run` recorded, each step's state in `steps` (see
    the module docstring)."""
    facts = steps or {}
    units = outline.units
    states = {uid: _STATES.get(got.status, State.NOT_RUN) for uid, got in facts.items()}
    checks = {uid: check_counts(got) for uid, got in facts.items()}
    complete = {
        uid
        for uid in facts
        if states[uid] is State.COMPLETED and not checks[uid][1] and uid in units
    }
    task_done = {t.id for t in outline.tasks if all(u in complete for u in t.units)}
    # "task N" for each prerequisite task that is not complete, per task
    open_tasks = {
        t.id: tuple(f"task {d}" for d in t.depends_on if d not in task_done) for t in outline.tasks
    }
    rows: list[StepRow] = []
    append = rows.append
    by_client = by_document = 0
    for uid, (_, task_id, title, kind, depends_on, server, tool) in units.items():
        got = facts.get(uid)
        if uid in complete:
            assert got is not None
            if got.source != "engine":
                by_client += got.source == "client"
                by_document += got.source == "document"
            append(
                StepRow(uid, task_id, title, kind, tool, server, State.COMPLETED,
                        Completion.COMPLETE, None, (), got.attempts, got.total_ms,
                        checks[uid][0], 0, got.source, None)
            )  # fmt: skip
            continue
        state = states.get(uid, State.NOT_RUN)
        blocked = (*(d for d in depends_on if d not in complete), *open_tasks[task_id])
        if got is None:
            append(
                StepRow(uid, task_id, title, kind, tool, server, state, Completion.INCOMPLETE,
                        failure_of(state, None), blocked, 0, None, 0, 0, None, None)
            )  # fmt: skip
            continue
        passed, failed = checks[uid]
        reason = reason_json(got)
        append(
            StepRow(uid, task_id, title, kind, tool, server, state, Completion.INCOMPLETE,
                    failure_of(state, got, reason, checks[uid]), blocked, got.attempts,
                    got.total_ms, passed, failed, got.source, reason)
        )  # fmt: skip
    grouped: dict[str, list[StepRow]] = {t.id: [] for t in outline.tasks}
    for row in rows:
        grouped[row.task_id].append(row)
    tasks = tuple(_task_row(t, grouped[t.id], task_done) for t in outline.tasks)
    passed = sum(r.checks_passed for r in rows)
    failed = sum(r.checks_failed for r in rows)
    changed = run is not None and run.source_sha256 != outline.source_sha256
    reasons = _reasons(run, changed, len(rows), len(rows) - len(complete), failed)
    return Matrix(
        doc_id=outline.doc_id,
        title=outline.title,
        run_id=run.id if run else None,
        run_status=run.status.value if run else None,
        document_changed=changed,
        verdict=Completion.INCOMPLETE if reasons else Completion.COMPLETE,
        reasons=reasons,
        steps_total=len(rows),
        steps_complete=len(complete),
        step_percent=percent(len(complete), len(rows)),
        tasks_total=len(tasks),
        tasks_complete=len(task_done),
        task_percent=percent(len(task_done), len(tasks)),
        checks_passed=passed,
        checks_failed=failed,
        complete_by_client=by_client,
        complete_by_document=by_document,
        tasks=tasks,
        steps=tuple(rows),
    )


def _task_row(task: TaskOutline, rows: list[StepRow], task_done: set[str]) -> TaskRow:
    done = 0
    worst = State.COMPLETED  # the most severe state of an incomplete step
    failures = []
    timed = []
    for r in rows:
        if r.completion is Completion.COMPLETE:
            done += 1
        else:
            failures.append(r.id)
            if _RANK[r.state] < _RANK[worst]:
                worst = r.state
        if r.duration_ms is not None:
            timed.append(r.duration_ms)
    if worst is State.COMPLETED and done < len(rows):
        worst = State.FAILED  # completed, but a check failed
    return TaskRow(
        task.id,
        task.title,
        worst,
        Completion.COMPLETE if task.id in task_done else Completion.INCOMPLETE,
        len(rows),
        done,
        percent(done, len(rows)),
        tuple(failures),
        tuple(t for t in task.depends_on if t not in task_done),
        sum(timed) if timed else None,
    )


def _reasons(
    run: RunRecord | None, changed: bool, total: int, incomplete: int, failed_checks: int
) -> tuple[str, ...]:
    if run is None:
        return ("no evidence recorded: the document has no recorded run",)
    out = []
    if changed:
        out.append(f"the document changed since run {run.id} recorded its evidence")
    if total == 0:
        out.append("the document has no steps: nothing was verified")
    if incomplete:
        verb = "is" if incomplete == 1 else "are"
        out.append(f"{of_total(incomplete, total, 'step')} {verb} not complete")
    if failed_checks:
        out.append(f"{plural(failed_checks, 'check')} failed")
    return tuple(out)


def check_counts(got: StepState) -> tuple[int, int]:
    """How many of the step's latest checks passed, and how many failed."""
    checks = got.checks or []
    passed = sum(1 for c in checks if c.get("passed"))
    return passed, len(checks) - passed


def reason_json(got: StepState) -> dict[str, Any] | None:
    """The step's pause reason as its JSON contract (`type`, camelCase), or None."""
    reason = got.pause_reason
    return None if reason is None else reason.model_dump(mode="json", by_alias=True)


def failure_of(
    state: State,
    got: StepState | None,
    reason: Mapping[str, Any] | None = None,
    checks: tuple[int, int] = (0, 0),
) -> str | None:
    """What keeps a step from being complete, in one line (None when nothing does): `reason` is
    its pause reason's JSON, `checks` how many of its checks passed and failed."""
    if got is None:
        return "not run"
    described = describe_reason(reason) if reason else None
    if state == "completed":
        passed, failed = checks
        if failed:
            return f"verification failed: {failed} of {failed + passed} checks"
        return None
    if state == "failed":
        return described or first_line(got.error) or "failed"
    if state == "skipped":
        return "skipped: " + (described or first_line(got.error) or "a prerequisite failed")
    if state == "paused":
        return "paused: " + (described or first_line(got.error) or "waiting for the client")
    if state == "awaiting_client":
        return described or "awaiting the client"
    if state == "running":
        return "running (or its executor stopped mid-step)"
    return "not run"
