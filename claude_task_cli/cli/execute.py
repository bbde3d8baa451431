"""`execute_task` and `record_step`: thin wrappers over claude_task_cli.runner / continuation."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from claude_task_cli.cli.boundary import boundary, plain_output
from claude_task_cli.errors import ExitCode, InputError

if TYPE_CHECKING:
    from claude_task_cli.model import TaskDocument
    from claude_task_cli.results import RunOutcome

TaskArg = Annotated[
    str,
    typer.Argument(help="A task document (.md), its converted .json, or its id under docs/tasks/."),
]
StateOpt = Annotated[
    Path | None,
    typer.Option("--state", help="State database (default: <project>/.claude-task/state.db)."),
]
PYTHON_VARIABLE = "CLAUDE_TASK_PYTHON"


def load_document(task: str) -> tuple[TaskDocument, Path]:
    """TASK as the user wrote it → the converted document and its path."""
    from claude_task_cli.convert import convert_file
    from claude_task_cli.locate import locate_document
    from claude_task_cli.model import TaskDocument
    from claude_task_cli.source import display_path

    path = locate_document(task, Path.cwd())
    if path.suffix.lower() == ".json":
        try:
            return TaskDocument.model_validate_json(path.read_bytes()), path
        except ValueError as exc:
            raise InputError(
                path, f"not a converted task document: {str(exc).splitlines()[0]}"
            ) from exc
    return convert_file(path, display_path(path)), path


def execute_task(
    task: TaskArg,
    only_task: Annotated[
        str | None, typer.Option("--task", help="Run only this task (and what it needs).")
    ] = None,
    only_step: Annotated[
        str | None, typer.Option("--step", help="Run only this step (and what it needs).")
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", "-j", min=1, help="Steps running at once.")
    ] = 4,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan and resolved calls; call nothing.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the machine-readable run document.")
    ] = False,
    no_resume: Annotated[
        bool, typer.Option("--no-resume", help="Start a new run instead of resuming.")
    ] = False,
    mcp_config: Annotated[
        Path | None,
        typer.Option("--mcp-config", help="Servers file (default: the nearest .mcp.json)."),
    ] = None,
    state: StateOpt = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No progress lines.")] = False,
) -> None:
    """Run a task document's step graph through real MCP tool calls.

    Steps run in dependency order, independent ones in parallel (up to --concurrency). Every
    step's outcome is stored the moment it ends; running the same command again resumes a paused
    or interrupted run. When the run pauses (a step needs an agent or a person, or cannot go on)
    the handoff says what was done and what remains. Exit codes: 0 completed, 1 failed, 3 paused
    for the client, 2 invalid input, 4 environment (a server would not start, the run is locked).

    Examples:

      claude-task execute_task docs/tasks/010_time_and_commands.md

      claude-task execute_task 010 --dry-run

      claude-task execute_task 010 --step 1.2 --json
    """
    with boundary():
        from claude_task_cli.handoff import handoff
        from claude_task_cli.runner import run_document

        doc, path = load_document(task)
        os.environ.setdefault(
            PYTHON_VARIABLE, sys.executable
        )  # for "${CLAUDE_TASK_PYTHON}" in .mcp.json
        total = len(doc.all_steps()) or len(doc.tasks)
        from claude_task_cli.cli.progress import progress_view

        with progress_view(total, quiet or dry_run or as_json) as view:
            outcome = run_document(
                doc,
                doc_path=path,
                mcp_config_path=mcp_config,
                state_path=state,
                concurrency=concurrency,
                only_task=only_task,
                only_step=only_step,
                dry_run=dry_run,
                new_run=no_resume,
                on_event=view.on_event,
            )
        if dry_run:
            _show_plan(outcome, as_json)
            return
        the_handoff = handoff(outcome, doc)
        if as_json:
            document = {
                "runId": outcome.run_id,
                "document": {"id": doc.id, "path": doc.source.path, "sha256": doc.source.sha256},
                "status": outcome.status,
                "runStatus": outcome.run_status,
                "progress": outcome.progress.model_dump(mode="json", by_alias=True),
                "results": [s.model_dump(mode="json", by_alias=True) for s in outcome.steps],
                "pauseReasons": [
                    r.model_dump(mode="json", by_alias=True) for r in outcome.pause_reasons
                ],
                "handoff": the_handoff.model_dump(mode="json", by_alias=True),
            }
            typer.echo(json.dumps(document, indent=2, ensure_ascii=False, default=str))
        else:
            _show_summary(outcome)
            if outcome.status != "completed":
                typer.echo("")
                typer.echo(the_handoff.narrative(), nl=False)
                if the_handoff.remaining:
                    typer.echo(
                        f"\nRecord a step done outside: claude-task record_step {task} STEP "
                        "--result JSON (or --fail MESSAGE); then run execute_task again."
                    )
        raise typer.Exit(_exit_code(outcome))


def record_step(
    task: TaskArg,
    step: Annotated[
        str, typer.Argument(help="The step id, e.g. 3.1 (or task:3 for a task without steps).")
    ],
    result: Annotated[
        str | None, typer.Option("--result", help="The step's result as JSON.")
    ] = None,
    result_file: Annotated[
        Path | None,
        typer.Option("--result-file", help="Read the result from a file (JSON, else text)."),
    ] = None,
    failure: Annotated[
        str | None, typer.Option("--fail", help="Record a failure with this message.")
    ] = None,
    state: StateOpt = None,
) -> None:
    """Record the outcome of a step done outside the executor (by an agent or a person).

    The next execute_task continues from there and never runs the step itself.

    Examples:

      claude-task record_step 010 3.1 --result '{"confirmed": true}'

      claude-task record_step 010 3.1 --result-file review.txt

      claude-task record_step 010 3.1 --fail "Tokyo time was off by an hour"
    """
    with boundary():
        from claude_task_cli.continuation import record_step_result
        from claude_task_cli.runner import open_store

        given = [option for option in (result, result_file, failure) if option is not None]
        if len(given) != 1:
            raise InputError(step, "give exactly one of --result, --result-file or --fail")
        value: Any = None
        if result is not None:
            value = _parse_json(result, "--result")
        elif result_file is not None:
            if not result_file.is_file():
                raise InputError(result_file, "no such file")
            text = result_file.read_text(encoding="utf-8", errors="replace")
            try:
                value = json.loads(text)
            except ValueError:
                value = text
        doc, path = load_document(task)
        with open_store(doc, state, path) as store:
            outcome = record_step_result(
                store, doc, step, result=value, failure=failure, doc_key=str(path.resolve())
            )
        what = "failure" if failure is not None else "result"
        typer.echo(
            f"recorded the {what} of step {step}; run {outcome.run_id} is {outcome.run_status}"
        )


def _parse_json(text: str, option: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InputError(option, f"not valid JSON: {exc}") from exc


def _exit_code(outcome: RunOutcome) -> int:
    return int(
        {"completed": ExitCode.OK, "failed": ExitCode.FAILED, "paused": ExitCode.PAUSED}.get(
            str(outcome.status), ExitCode.FAILED
        )
    )


def _show_summary(outcome: RunOutcome) -> None:
    counts: dict[str, int] = {}
    for step in outcome.steps:
        counts[str(step.status)] = counts.get(str(step.status), 0) + 1
    parts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    typer.echo(f"run {outcome.run_id} {outcome.status}: {parts}")
    if plain_output():
        for step in outcome.steps:
            took = f" {step.duration_ms:.0f} ms" if step.duration_ms is not None else ""
            typer.echo(f"  {step.step_id:<10} {step.status:<16} attempts {step.attempts}{took}")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table()
    for column in ("step", "status", "tool", "attempts", "duration"):
        table.add_column(column)
    for step in outcome.steps:
        took = f"{step.duration_ms:.0f} ms" if step.duration_ms is not None else ""
        table.add_row(step.step_id, str(step.status), step.tool or "", str(step.attempts), took)
    Console().print(table)


def _show_plan(outcome: RunOutcome, as_json: bool) -> None:
    plan = outcome.plan or []
    if as_json:
        typer.echo(
            json.dumps([p.model_dump(mode="json") for p in plan], indent=2, ensure_ascii=False)
        )
        return
    for call in plan:
        if call.commands:
            what = "run: " + " ; ".join(c.strip().replace("\n", " ; ") for c in call.commands)
        elif call.tool:
            what = f"{call.server}.{call.tool} {json.dumps(call.args, ensure_ascii=False)}"
        else:
            what = "handed to the client (an agent or a person)"
        typer.echo(f"wave {call.wave}  {call.step_id:<8} {what}")
