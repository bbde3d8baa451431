"""The facade's report operations, beside `operations.py`: what `task_status` and `generate_report`
do for both doors — the completion matrix of a document's latest run, and its reports built,
written and judged. They never print and never exit.

```python
status_json("010")                                         # what `task_status --json` prints
built = build_reports("010", "task_1")                     # reports rendered, not written
written, removed = write_reports(built, out_dir)           # written; stale ones removed
report_verdict(built.reports, built.task_id)               # COMPLETE or not, in words
```
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from claude_task_cli.operations import load_document

if TYPE_CHECKING:
    from jinja2.sandbox import SandboxedEnvironment

    from claude_task_cli.report import Matrix, Rendered, Reports
    from claude_task_cli.store.urls import DatabaseUrl


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while a recorded run is read, judged and rendered.

    Reading a run builds a few objects per step and per attempt (the kept document, the step
    states, the matrix rows, the reports' data), none in a cycle that outlives the command, and
    every collection they trigger rescans all of them. On the 10,000-step run of
    benchmarks/bench_report.py `task_status --json` misses its target (≤ 0.5 s, whole process)
    without the pause, and `generate_report` (≤ 2 s) loses most of its margin (figures in
    docs/benchmarks.md)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def status_matrix(
    task: str, *, state: Path | DatabaseUrl | None = None, start: Path | None = None
) -> Matrix:
    """The completion matrix of TASK's latest run: every task and step, COMPLETE or not, and why."""
    from claude_task_cli.report import completion_of

    with _collector_paused():
        doc, path = load_document(task, start)
        return completion_of(path, doc, state_path=state)


def status_json(
    task: str, *, state: Path | DatabaseUrl | None = None, start: Path | None = None
) -> str:
    """`status_matrix(...)` as compact JSON: what `task_status --json` prints."""
    from claude_task_cli.report import matrix_json

    with _collector_paused():
        return matrix_json(status_matrix(task, state=state, start=start))


@dataclass(frozen=True)
class BuiltReports:
    """Reports rendered from a document's recorded evidence, not yet written."""

    reports: Reports
    rendered: list[Rendered]
    task_id: str | None
    root: Path  # the document's project root: reports go to <root>/docs/reports by default
    env: SandboxedEnvironment
    fmt: Literal["md", "json"] = "md"


def build_reports(
    task: str,
    subtask: str | None = None,
    *,
    fmt: Literal["md", "json"] = "md",
    templates: Path | None = None,
    output_limit: int = 4000,
    state: Path | DatabaseUrl | None = None,
    start: Path | None = None,
    root: Path | None = None,
) -> BuiltReports:
    """Render one task's report (`subtask`) or every report and the final summary. `root` (default:
    the document's project root) is where the project's templates and `docs/reports` are."""
    from claude_task_cli.project import project_root
    from claude_task_cli.report import (
        Reports,
        environment,
        find_task,
        latest_evidence,
        render_reports,
        state_path_for,
        template_search,
    )

    with _collector_paused():
        doc, path = load_document(task, start)
        evidence = latest_evidence(state_path_for(path, state), doc, str(path.resolve()))
        reports = Reports.of(doc, evidence, board_events(path, state))
        task_id = None if subtask is None else find_task(reports, subtask)
        root = project_root(path.resolve().parent) if root is None else root
        env = environment(template_search(root, templates))
        rendered = render_reports(reports, env, task_id=task_id, fmt=fmt, output_limit=output_limit)
    return BuiltReports(reports, rendered, task_id, root, env, fmt)


def board_events(document: Path, state: Path | DatabaseUrl | None = None) -> list[dict[str, Any]]:
    """The board's events of `document` (oldest first, as plain data), from the database its
    board is in: `state` when given, else `$CLAUDE_TASK_DB`, else the project's state database.
    Reading creates and changes nothing; a document not on the board has none."""
    from claude_task_cli.board.history import document_history
    from claude_task_cli.store.engines import as_url, database_url

    url = as_url(state) if state is not None else database_url(None, document.parent)
    return [event.to_dict() for event in document_history(url, document)]


def write_reports(
    built: BuiltReports, out_dir: Path | None = None
) -> tuple[list[Path], list[Path]]:
    """Write the rendered reports into `out_dir` (default `<root>/docs/reports`); when they are
    every report of the document, remove its task reports of the same format that were not
    written this time (`report/files.py`). Returns (written, removed).

    The default directory must resolve inside the root: a `docs/reports` linked to a folder
    elsewhere is refused (ReportError) rather than written and cleaned; name it as `out_dir` to
    write there on purpose."""
    from claude_task_cli.errors import ReportError
    from claude_task_cli.report import remove_stale_reports, write

    target = out_dir or built.root / "docs" / "reports"
    if out_dir is None and not target.resolve().is_relative_to(built.root.resolve()):
        raise ReportError(
            f"{target}: resolves to {target.resolve()}, outside the project root "
            f"{built.root.resolve()}; refused (name it with --out to write there)"
        )
    written = write(built.rendered, target)
    if built.task_id is not None:
        return written, []
    doc_id = built.reports.doc.id
    return written, remove_stale_reports(target, doc_id, f".{built.fmt}", written)


@dataclass(frozen=True)
class Verdict:
    """Whether what was reported is complete, and why, in words (one line each)."""

    complete: bool
    lines: list[str]


def report_verdict(reports: Reports, task_id: str | None = None) -> Verdict:
    """COMPLETE or not for the document (or one task of it), with the reasons."""
    from claude_task_cli.report.wording import of_total

    matrix = reports.matrix
    run = f"run {matrix.run_id} ({matrix.run_status})" if matrix.has_evidence else "no run recorded"
    if task_id is not None:
        row = matrix.task(task_id)
        steps = of_total(row.steps_complete, row.steps_total, "step")
        line = f"task {row.id}: {row.completion} — {steps} complete ({row.percent}%); {run}"
        complete = (
            row.completion == "COMPLETE" and not matrix.document_changed and matrix.has_evidence
        )
        return Verdict(complete, [line])
    lines = [
        f"{matrix.doc_id}: {matrix.verdict} — "
        f"{of_total(matrix.steps_complete, matrix.steps_total, 'step')} complete "
        f"({matrix.step_percent}%); {run}",
        *(f"  {reason}" for reason in matrix.reasons),
    ]
    note = matrix.without_engine_note()
    if note:
        lines.append(f"  {note}")
    return Verdict(matrix.verdict == "COMPLETE", lines)
