"""`execute_task` and `record_step`: thin wrappers over the run stage (runner, continuation)."""

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from claude_task_cli.cli.boundary import boundary, plain_output
from claude_task_cli.cli.options import DbOpt, StateOpt, TaskArg
from claude_task_cli.errors import ExitCode, InputError, OptionError

if TYPE_CHECKING:
    from claude_task_cli.run.results import RunOutcome


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
    per_server: Annotated[
        int | None,
        typer.Option(
            "--per-server", min=1, help="Calls at once to any one server (default: --concurrency)."
        ),
    ] = None,
    call_timeout: Annotated[
        float | None,
        typer.Option(
            "--call-timeout",
            min=0.001,
            help="Seconds a tool call may take when its step sets no timeout (default 300).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan and resolved calls; call nothing.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the machine-readable run document.")
    ] = False,
    no_resume: Annotated[
        bool, typer.Option("--no-resume", help="Start a new run instead of resuming.")
    ] = False,
    fail_fast: Annotated[
        bool,
        typer.Option(
            "--fail-fast",
            help="Stop at the first failure (by default only what depends on it is skipped).",
        ),
    ] = False,
    rerun_interrupted: Annotated[
        bool,
        typer.Option(
            "--rerun-interrupted",
            help="Run again the steps a stopped or crashed run left interrupted.",
        ),
    ] = False,
    mcp_config: Annotated[
        Path | None,
        typer.Option("--mcp-config", help="Servers file (default: the nearest .mcp.json)."),
    ] = None,
    state: StateOpt = None,
    db: DbOpt = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No progress lines.")] = False,
) -> None:
    """Run a task document's step graph through real MCP tool calls.

    Steps run in dependency order, independent ones in parallel (up to --concurrency). A failed
    step stops the steps that depend on it, nothing else (--fail-fast: everything). Every step's
    outcome is stored the moment it ends; running the same command again resumes a paused or
    interrupted run. When the run pauses (a step needs an agent or a person, or cannot go on)
    the handoff says what was done and what remains. Exit codes: 0 completed, 1 a step failed
    (also when another paused), 3 paused for the client, 2 invalid input, 4 environment (a
    server would not start, the run is locked, the state database cannot be used), 130 / 143
    stopped by Ctrl-C / SIGTERM.

    Examples:

      claude-task execute_task docs/tasks/010_time_and_commands.md

      claude-task execute_task 010 --dry-run

      claude-task execute_task 010 --step 1.2 --json
    """
    with boundary():
        from claude_task_cli.cli.progress import progress_view
        from claude_task_cli.cli.questions import terminal_asker
        from claude_task_cli.operations import (
            execute_document,
            load_document,
            plan_json,
            run_document_json,
            run_store,
            with_results,
        )
        from claude_task_cli.run.handoff import handoff
        from claude_task_cli.run.options import RunOptions

        options = RunOptions(
            concurrency=concurrency,
            per_server=per_server,
            call_timeout=call_timeout,
            only_task=only_task,
            only_step=only_step,
            new_run=no_resume,
            dry_run=dry_run,
            mcp_config=mcp_config,
            state=run_store(state, db),
            with_results=as_json,  # the summary shows none; the handoff reads them if needed
            fail_fast=fail_fast,
            rerun_interrupted=rerun_interrupted,
        )
        doc, path = load_document(task)
        titles = {step.id: step.title for _task, step in doc.all_steps()}
        titles.update({f"task:{t.id}": t.title for t in doc.tasks if not t.steps})
        with progress_view(len(titles), titles, quiet or dry_run or as_json) as view:
            outcome = execute_document(
                doc, path, options, on_event=view.on_event, ask=terminal_asker(view.suspended)
            )
        if dry_run:
            if as_json:
                typer.echo(json.dumps(plan_json(outcome), indent=2, ensure_ascii=False))
            else:
                _show_plan(outcome, fail_fast)
            return
        if as_json:
            document = run_document_json(outcome, doc)
            typer.echo(json.dumps(document, indent=2, ensure_ascii=False, default=str))
        else:
            _show_summary(outcome)
            if outcome.status != "completed":
                the_handoff = handoff(with_results(outcome, doc, path, options), doc)
                typer.echo("")
                typer.echo(the_handoff.narrative(task), nl=False)
                next_step = _next_step(outcome, task)
                if next_step:
                    typer.echo(f"\n{next_step}")
        raise typer.Exit(_exit_code(outcome))


def record_step(
    task: TaskArg,
    step: Annotated[
        str, typer.Argument(help="The step id, e.g. 3.1 (or task:3 for a task without steps).")
    ],
    done: Annotated[
        bool, typer.Option("--done", help="The step is done (a person's step, typically).")
    ] = False,
    note: Annotated[
        str | None, typer.Option("--note", help="With --done: what the person saw or did.")
    ] = None,
    result: Annotated[
        str | None,
        typer.Option("--result", help="The step's result: JSON, or @FILE (JSON, else text)."),
    ] = None,
    result_file: Annotated[Path | None, typer.Option("--result-file", hidden=True)] = None,
    failure: Annotated[
        str | None, typer.Option("--fail", help="Record a failure with this message.")
    ] = None,
    state: StateOpt = None,
    db: DbOpt = None,
) -> None:
    """Record the outcome of a step done outside the executor (by an agent or a person).

    The next execute_task continues from there and never runs the step itself. A result is
    checked against the step's expect (a command result's exit_code against 0): if it fails, the
    step is recorded failed with the result as evidence, and the exit code is 1.

    Examples:

      claude-task record_step 010 3.1 --done --note "Tokyo time matches a world clock"

      claude-task record_step 010 3.1 --result '{"confirmed": true}'

      claude-task record_step 010 3.1 --result @review.txt

      claude-task record_step 010 3.1 --fail "Tokyo time was off by an hour"
    """
    with boundary():
        from claude_task_cli.operations import record_step as record
        from claude_task_cli.operations import run_store

        if result_file is not None and result is None:  # the earlier spelling of --result @FILE
            result = f"@{result_file}"
        given = [o for o, on in (("--done", done), ("--result", result), ("--fail", failure)) if on]
        if len(given) != 1:
            raise OptionError("give exactly one of --done, --result or --fail")
        if note is not None and not done:
            raise OptionError("--note goes with --done (a failure's message is --fail's TEXT)")
        value: Any = None if result is None else _result_value(result)
        outcome = record(
            task,
            step,
            result=value,
            failure=failure,
            done=done,
            note=note,
            state=run_store(state, db),
        )
        what = "the failure of" if failure is not None else "the result of"
        recorded = outcome.step(step)
        if failure is None and recorded.status == "failed":  # the result failed its expect
            typer.echo(
                f"recorded the result of step {step}, which fails its verification "
                f"({recorded.error}): the step is failed; run {outcome.run_id} is "
                f"{outcome.run_status}"
            )
            raise typer.Exit(int(ExitCode.FAILED))
        what = f"step {step} as done" if done else f"{what} step {step}"
        typer.echo(f"recorded {what}; run {outcome.run_id} is {outcome.run_status}")


def _result_value(given: str) -> Any:
    """--result's JSON, or with @FILE the file's JSON, else its text."""
    if given.startswith("@"):
        path = Path(given[1:])
        if not path.is_file():
            raise InputError(path, "no such file (--result @FILE)")
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            return json.loads(text)
        except ValueError:
            return text
    try:
        return json.loads(given)
    except ValueError as exc:
        raise InputError(
            "--result",
            f"not valid JSON ({exc}); a step done by a person takes --done [--note TEXT], "
            "a file takes --result @FILE",
        ) from exc


def _next_step(outcome: "RunOutcome", task: str) -> str:
    """What to do after the handoff: record what waits on the client, or fix what failed."""
    again = f"claude-task execute_task {task}"
    left = [s for s in outcome.steps if s.status != "completed"]
    if all(s.status.blocks_client for s in left):
        return "Recording what waits completes the run."
    if any(s.status.blocks_client for s in left):
        return f"Once recorded, {again} runs what waits on it (a recorded step is not run again)."
    if outcome.status == "failed":
        return (
            f"Fix the cause, then {again} runs the steps that failed or were skipped again "
            "(completed ones do not run twice)."
        )
    return ""


def _failed(outcome: "RunOutcome") -> bool:
    return any(s.selected and s.status == "failed" for s in outcome.steps)


def _exit_code(outcome: "RunOutcome") -> int:
    """1 for any failure, even beside a pause (a CI job must not read it as "needs a person")."""
    if _failed(outcome):
        return int(ExitCode.FAILED)
    return int(
        {"completed": ExitCode.OK, "failed": ExitCode.FAILED, "paused": ExitCode.PAUSED}.get(
            str(outcome.status), ExitCode.FAILED
        )
    )


def _show_summary(outcome: "RunOutcome") -> None:
    counts: dict[str, int] = {}
    for step in outcome.steps:
        counts[str(step.status)] = counts.get(str(step.status), 0) + 1
    parts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    status = str(outcome.status)
    if status == "paused" and _failed(outcome):  # both: it failed, and it waits on the client
        status = "failed and paused"
    if outcome.status == outcome.run_status:
        typer.echo(f"run {outcome.run_id} {status}: {parts}")
    else:  # --task/--step: the selection settled, the run as a whole did not
        typer.echo(f"selection {status}, run {outcome.run_id} {outcome.run_status}: {parts}")
    if plain_output():
        lines = []
        for step in outcome.steps:
            took = f" {step.duration_ms:.0f} ms" if step.duration_ms is not None else ""
            lines.append(f"  {step.step_id:<10} {step.status:<16} attempts {step.attempts}{took}")
        if lines:
            typer.echo("\n".join(lines))
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


_RUNS_UNDER = {"bash": "bash -e -o pipefail", "sh": "sh -e"}


def _show_plan(outcome: "RunOutcome", fail_fast: bool) -> None:
    """Each planned step by wave: its call, or each of its scripts as written; then the rule a
    failure follows."""
    for call in outcome.plan or []:
        head = f"wave {call.wave}  {call.step_id:<8}"
        for script, shell in zip(call.commands, call.shells, strict=True):
            typer.echo(f"{head} run as one script under {_RUNS_UNDER.get(shell, shell)}:")
            typer.echo("\n".join(f"{'':<17}| {line}" for line in script.rstrip("\n").split("\n")))
        if call.kind in ("tool", "both"):
            args = json.dumps(call.args, ensure_ascii=False)
            typer.echo(f"{head} {call.server}.{call.tool} {args}")
        elif not call.commands:
            typer.echo(f"{head} handed to the client (an agent or a person)")
    if fail_fast:
        typer.echo("on a failure: the run stops there (--fail-fast); no step starts after it")
    else:
        typer.echo(
            "on a failure: the steps that depend on it are skipped; the others still run "
            "(--fail-fast stops at the first failure)"
        )
