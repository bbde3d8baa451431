"""`generate_report` and `task_status`: thin wrappers over the facade's report operations."""

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from claude_task_cli.cli.board import board_status
from claude_task_cli.cli.boundary import boundary, err, plain_output
from claude_task_cli.cli.options import DbOpt, StateOpt, TaskArg
from claude_task_cli.cli.terminal_text import terminal_text
from claude_task_cli.errors import ExitCode, InputError

if TYPE_CHECKING:
    from claude_task_cli.report import Matrix, Rendered

SUMMARY_VARIABLE = "GITHUB_STEP_SUMMARY"


def generate_report(
    task: TaskArg,
    subtask: Annotated[
        str | None,
        typer.Argument(help="One task's report, as `1` or `task_1`. Default: every report."),
    ] = None,
    all_tasks: Annotated[
        bool, typer.Option("--all", help="Every task's report and the final summary (default).")
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="md or json.")] = "md",
    stdout: Annotated[
        bool, typer.Option("--stdout", help="Print the reports instead of writing them.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Output directory (default: <project>/docs/reports)."),
    ] = None,
    templates: Annotated[
        Path | None,
        typer.Option(
            "--templates", help="Templates that override the project's and the package's."
        ),
    ] = None,
    junit: Annotated[
        Path | None, typer.Option("--junit", help="Also write JUnit XML: a testcase per step.")
    ] = None,
    github_summary: Annotated[
        bool,
        typer.Option("--github-summary", help="Append the matrix to $GITHUB_STEP_SUMMARY if set."),
    ] = False,
    max_output: Annotated[
        int, typer.Option("--max-output", min=0, help="Characters of each output shown (0: all).")
    ] = 4000,
    state: StateOpt = None,
    db: DbOpt = None,
) -> None:
    """Render verification reports from the evidence a real run recorded.

    Writes <doc-id>_task_<n>_<slug>.md per task and <doc-id>_final_summary.md (the completion
    matrix, a dependency graph, step durations), replacing earlier ones; writing every report
    also removes this document's task reports that were not written again (a task renamed or
    removed), and says so. Nothing is invented: a
    step with no recorded run says "no evidence recorded". A project's templates/ directory (or
    --templates DIR) overrides the packaged templates file by file. Exit codes: 0 when what was
    reported is COMPLETE; 1 when it is not, or nothing was recorded (the reports are written
    anyway); 2 invalid input.

    Examples:

      claude-task generate_report 003_test_mcp

      claude-task generate_report 003_test_mcp task_1 --stdout

      claude-task generate_report 010 --junit build/report.xml --github-summary
    """
    with boundary(eager_logging=False):  # its core never logs (the reports' time target)
        from claude_task_cli.operations import run_store
        from claude_task_cli.report import render_matrix
        from claude_task_cli.report_operations import build_reports, report_verdict, write_reports

        chosen = _format(fmt)
        if subtask is not None and all_tasks:
            raise InputError(subtask, "give either SUBTASK or --all, not both")
        built = build_reports(
            task,
            subtask,
            fmt=chosen,
            templates=templates,
            output_limit=max_output,
            state=run_store(state, db),
        )
        if stdout:
            _print(built.rendered, chosen)
        else:
            written, removed = write_reports(built, out)
            lines = [f"wrote {shown}" for shown in _shown_all(written)]
            lines += [
                f"removed {shown} (a stale report of this document)"
                for shown in _shown_all(removed)
            ]
            if lines:
                typer.echo("\n".join(lines))
        if junit is not None:
            from claude_task_cli.report import write_junit

            typer.echo(f"wrote {_shown(write_junit(built.reports, junit))}", err=stdout)
        summary = os.environ.get(SUMMARY_VARIABLE)
        if github_summary and summary:
            with Path(summary).open("a", encoding="utf-8") as handle:
                reports_at = _shown(out or built.root / "docs" / "reports")
                handle.write(render_matrix(built.reports, built.env, reports_at) + "\n")
        elif github_summary:
            err(f"--github-summary: ${SUMMARY_VARIABLE} is not set; nothing appended")
        verdict = report_verdict(built.reports, built.task_id)
        for line in verdict.lines:
            (err if stdout else typer.echo)(line)
        if not verdict.complete:
            raise typer.Exit(int(ExitCode.FAILED))


def task_status(
    task: Annotated[
        str | None,
        typer.Argument(help="A task document, its .json, or its id; none: the task board."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the completion matrix as JSON.")
    ] = False,
    state: StateOpt = None,
    db: DbOpt = None,
) -> None:
    """Show where a document's latest run stands: every task and step, COMPLETE or not, and why.
    Without TASK: the task board, every imported document's tasks grouped by state.

    The same completion matrix as generate_report's final summary: per task its progress, per
    step its state (completed, failed, skipped, paused, awaiting the client, not run), attempts,
    time, the specific failure and what blocks it. Exits 0 whenever the state could be read.

    Examples:

      claude-task task_status 003_test_mcp

      claude-task task_status 010 --json
    """
    if task is None:
        with boundary():
            board_status(as_json, db)
        return
    with boundary(eager_logging=False):
        from claude_task_cli.operations import run_store
        from claude_task_cli.report_operations import status_json, status_matrix

        where = run_store(state, db)
        if as_json:
            typer.echo(status_json(task, state=where))
        else:
            _show_status(status_matrix(task, state=where))


def _show_status(matrix: "Matrix") -> None:
    if plain_output():
        typer.echo("\n".join(_status_lines(matrix)))
    else:
        from claude_task_cli.cli.status_table import print_status

        print_status(matrix)


def _format(fmt: str) -> Literal["md", "json"]:
    if fmt == "md":
        return "md"
    if fmt == "json":
        return "json"
    raise InputError("--format", f"{fmt!r}: choose md or json")


def _print(rendered: "list[Rendered]", fmt: str) -> None:
    if fmt == "json":
        items = [json.loads(r.text) for r in rendered]
        typer.echo(json.dumps(items[0] if len(items) == 1 else items, indent=2, ensure_ascii=False))
        return
    for index, item in enumerate(rendered):
        if len(rendered) > 1:
            typer.echo(f"{'' if index == 0 else chr(10)}<!-- {item.name} -->")
        typer.echo(item.text, nl=False)


def _shown_all(paths: list[Path]) -> list[str]:
    """`_shown` of each path, each directory resolved once (a run writes thousands of reports
    into one)."""
    shown: dict[Path, str] = {}
    out = []
    for path in paths:
        if path.parent not in shown:
            shown[path.parent] = _shown(path.parent)
        out.append(f"{shown[path.parent]}/{path.name}".removeprefix("./"))
    return out


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _status_lines(matrix: "Matrix") -> list[str]:
    run = f"run {matrix.run_id} {matrix.run_status}" if matrix.has_evidence else "no run recorded"
    lines = [
        f"{matrix.doc_id}: {matrix.title} — {run} — {matrix.verdict}: "
        f"{matrix.steps_complete}/{matrix.steps_total} steps ({matrix.step_percent}%), "
        f"{matrix.tasks_complete}/{matrix.tasks_total} tasks ({matrix.task_percent}%)"
    ]
    lines.extend(f"  {reason}" for reason in matrix.reasons)
    note = matrix.without_engine_note()
    if note:
        lines.append(f"  {note}")
    grouped = matrix.by_task()
    for task in matrix.tasks:
        lines.append(
            f"task {task.id:<6} {task.completion:<10} {task.state:<15} "
            f"{task.steps_complete}/{task.steps_total} ({task.percent}%)  {task.title}"
        )
        for step in grouped[task.id]:
            took = "" if step.duration_ms is None else f" {step.duration_ms:.1f} ms"
            why = f" — {step.failure}" if step.failure else ""
            blocked = f" [blocked by {', '.join(step.blocked_by)}]" if step.blocked_by else ""
            by = step.completion_text[len(step.completion) :]  # " (recorded by the client)"
            lines.append(
                f"  {step.id:<10} {step.completion:<10} {step.state:<15} "
                f"attempts {step.attempts}{took}  {step.title}{by}{why}{blocked}"
            )
    return [terminal_text(line) for line in lines]
