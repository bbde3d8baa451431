"""The board's commands: import, claim, work, move, quick, events, settings (and the board view
that `task_status` shows when given no TASK). Thin: options in, one core call, output, exit code."""

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from claude_task_cli.cli.boundary import boundary
from claude_task_cli.cli.options import DbOpt
from claude_task_cli.errors import InputError

if TYPE_CHECKING:
    from claude_task_cli.board import Board

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
WorkerOpt = Annotated[
    str | None, typer.Option("--worker", help="The worker's name (default: host:pid).")
]
LeaseOpt = Annotated[
    float, typer.Option("--lease", min=1.0, help="Seconds a claim lasts unless renewed.")
]
PerWorkerOpt = Annotated[
    int | None, typer.Option("--per-worker", min=1, help="Tasks in progress per worker, at most.")
]
PerRepositoryOpt = Annotated[
    int | None,
    typer.Option("--per-repository", min=1, help="Tasks in progress per repository, at most."),
]
AnyRepositoryOpt = Annotated[
    bool,
    typer.Option("--any-repository", help="Claim from every repository, not only this project's."),
]


def _open(db: str | None, *, create: bool = True) -> "Board":
    from claude_task_cli.board_operations import open_board

    return open_board(db, create=create)


def _echo_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))


def import_documents(
    documents: Annotated[list[str], typer.Argument(help="Task documents (.md) or their ids.")],
    preview: Annotated[
        bool, typer.Option("--preview", help="Show what would be recorded; record nothing.")
    ] = False,
    ready: Annotated[
        bool, typer.Option("--ready", help="New tasks go to ready as soon as their blockers allow.")
    ] = False,
    accept_marks: Annotated[
        bool, typer.Option("--accept-marks", help="A new task marked complete is recorded done.")
    ] = False,
    attempts: Annotated[int, typer.Option("--attempts", min=1, help="Tries per task.")] = 3,
    backoff: Annotated[
        float, typer.Option("--backoff", min=0.0, help="Seconds before the first retry.")
    ] = 30.0,
    as_json: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """Record task documents on the board, or re-import them (state kept, changes reported).

    --preview shows the tasks, dependencies, blocked roots, waves and what would change, and
    records nothing. Tasks are matched again by title, then number (docs/board.md).

    Examples:

      claude-task import docs/tasks/010_time_and_commands.md --preview

      claude-task import 010 --ready
    """
    with boundary():
        from claude_task_cli.board import ImportOptions, default_actor
        from claude_task_cli.cli.board_view import import_lines
        from claude_task_cli.convert.preview import preview as preview_of
        from claude_task_cli.operations import load_document

        options = ImportOptions(ready, accept_marks, attempts, backoff)
        results = []
        with _open(db, create=not preview) as board:
            for given in documents:
                doc, path = load_document(given)
                result = board.import_document(doc, path, options, default_actor(), preview=preview)
                entry = result.to_dict()
                if preview:
                    shown = preview_of(doc)
                    entry |= {
                        "tasks": [
                            {"task": t.id, "title": t.title, "depends_on": t.depends_on}
                            for t in doc.tasks
                        ],
                        "waves": shown.waves,
                        "blocked_roots": shown.blocked_roots,
                    }
                results.append(entry)
                if not as_json:
                    typer.echo("\n".join(import_lines(result, preview)))
                    if preview:
                        waves = " | ".join(", ".join(w) for w in entry["waves"])
                        typer.echo(f"  waves: {waves or 'none'}")
                        roots = ", ".join(entry["blocked_roots"]) or "none"
                        typer.echo(f"  blocked roots: {roots}")
        if as_json:
            _echo_json({"preview": preview, "documents": results})


def claim(
    document: Annotated[str | None, typer.Argument(help="Claim a task of this document.")] = None,
    task: Annotated[str | None, typer.Argument(help="The task to claim (with DOCUMENT).")] = None,
    worker: WorkerOpt = None,
    lease: LeaseOpt = 60.0,
    per_worker: PerWorkerOpt = None,
    per_repository: PerRepositoryOpt = None,
    any_repository: AnyRepositoryOpt = False,
    as_json: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """Atomically claim the best ready task (or the one named) and move it to in_progress.

    Exit codes: 0 claimed (or the named task is done already: nothing to do); 5 nothing could be
    claimed; 2 the named task may not be claimed (the rule and blocker are said).
    """
    with boundary():
        from claude_task_cli.board import NOTHING_READY, default_worker
        from claude_task_cli.board_operations import claim_limits, claim_task

        name = worker or default_worker()
        limits = claim_limits(per_worker, per_repository, any_repository)
        with _open(db) as board:
            answer = claim_task(board, name, lease, limits, document, task)
        claimed = answer.claimed
        if as_json:
            _echo_json(answer.to_dict())
        elif claimed is not None:
            typer.echo(
                f"claimed {claimed.task.label}: {claimed.task.title} "
                f"(attempt {claimed.task.attempts}, worker {name})"
            )
        else:
            typer.echo(answer.reason)
        if claimed is None and not answer.nothing_to_do:
            raise typer.Exit(NOTHING_READY)


def work(
    worker: WorkerOpt = None,
    once: Annotated[bool, typer.Option("--once", help="Run one task at most.")] = False,
    max_tasks: Annotated[
        int | None, typer.Option("--max-tasks", min=1, help="Run N tasks at most.")
    ] = None,
    lease: LeaseOpt = 60.0,
    per_worker: PerWorkerOpt = None,
    per_repository: PerRepositoryOpt = None,
    as_json: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """Claim this project's ready tasks and run each through execute_task, until none is ready.

    Success goes to in_review (or done when review is auto-approved), failure is retried per the
    task's policy, then blocked with its reason. Exit codes: 0 every task ran passed; 1 some
    failed, paused or lost their claim; 5 nothing was ready.
    """
    with boundary():
        from claude_task_cli.board import NOTHING_READY, default_worker
        from claude_task_cli.board.worker import WorkOptions
        from claude_task_cli.board_operations import claim_limits, work_tasks
        from claude_task_cli.cli.board_view import worked_line

        def progress(stage: str, item: Any) -> None:
            if not as_json:
                shown = f"claimed {item.task.label}" if stage == "claimed" else worked_line(item)
                typer.echo(shown)

        limits = claim_limits(per_worker, per_repository, False)
        options = WorkOptions(worker or default_worker(), lease, once, max_tasks, limits)
        with _open(db) as board:
            report = work_tasks(board, options, on_progress=progress)
        if as_json:
            _echo_json({"worked": [w.to_dict() for w in report.worked], "stopped": report.stopped})
        else:
            typer.echo(f"stopped: {report.stopped}")
        if not report.worked:
            raise typer.Exit(NOTHING_READY)
        if any(w.execution.status != "passed" or w.task is None for w in report.worked):
            raise typer.Exit(1)


def move(
    document: Annotated[str, typer.Argument(help="The task's document (path, id or stem).")],
    task: Annotated[str, typer.Argument(help="The task, as `2` or `task_2`.")],
    state: Annotated[str, typer.Argument(help="The state to move it to.")],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (recorded; a blocked task shows it).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Enter in_progress without a claim.")
    ] = False,
    as_json: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """Move a task by hand: approve (in_review → done), retry (blocked → ready), cancel, re-open
    (done → ready), restore (cancelled → backlog). A move the rules refuse exits 2 naming the
    rule and what blocks it; a move to the task's own state changes nothing.
    """
    with boundary():
        from claude_task_cli.board import default_actor
        from claude_task_cli.board_operations import move_task

        with _open(db) as board:
            moved = move_task(
                board, document, task, state, default_actor(), reason=reason, force=force
            )
        if as_json:
            _echo_json(moved.to_dict())
        elif moved.changed:
            typer.echo(f"{moved.task.label}: now {moved.task.state.value}")
        else:
            typer.echo(f"{moved.task.label}: already {moved.task.state.value}; nothing changed")


def quick(
    server: Annotated[str, typer.Argument(help="A server of the project's .mcp.json.")],
    tool: Annotated[str, typer.Argument(help="The tool to call.")],
    args: Annotated[
        str, typer.Option("--args", help="The tool's arguments, a JSON object.")
    ] = "{}",
    promote: Annotated[
        bool, typer.Option("--promote", help="Also make it a task (in backlog) on the board.")
    ] = False,
    as_json: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """Call one tool once and record it as a quick run; no task unless --promote.

    Exit codes: 0 the call succeeded, 1 the tool reported an error, 4 the server would not start.
    """
    with boundary():
        from claude_task_cli.board import default_actor
        from claude_task_cli.board_operations import quick_run

        try:
            arguments = json.loads(args)
        except json.JSONDecodeError as exc:
            raise InputError("--args", f"not JSON: {exc}") from None
        if not isinstance(arguments, dict):
            raise InputError("--args", "must be a JSON object")
        with _open(db) as board:
            run = quick_run(board, server, tool, arguments, default_actor(), promote=promote)
        if as_json:
            _echo_json(run.to_dict())
        else:
            shown = run.result if isinstance(run.result, str) else json.dumps(run.result)
            typer.echo(f"quick run {run.id}: {server} {tool}: {run.status}")
            typer.echo(run.error if run.error else shown)
            if run.promoted_task:
                typer.echo(f"promoted: task {run.promoted_task} of quick-runs (backlog)")
        if run.status != "completed":
            raise typer.Exit(1)


def events(
    document: Annotated[str | None, typer.Argument(help="Only this document's events.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="The latest N.")] = None,
    as_json: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """The board's audit trail: who changed what, when (oldest first)."""
    with boundary():
        from claude_task_cli.cli.board_view import event_lines

        with _open(db, create=False) as board:
            found = board.events(document, limit)
        if as_json:
            _echo_json([e.to_dict() for e in found])
        else:
            for line in event_lines(found):
                typer.echo(line)


def settings(
    name: Annotated[str | None, typer.Argument(help="A setting's name.")] = None,
    value: Annotated[str | None, typer.Argument(help="Its new value: true or false.")] = None,
    db: DbOpt = None,
) -> None:
    """Show or change the board's settings: review.auto_approve, blockers.cancelled_satisfies."""
    with boundary():
        from claude_task_cli.board import default_actor

        with _open(db) as board:
            if name is not None and value is not None:
                board.change_setting(name, value, default_actor())
            current = board.settings()
        if name is not None and name not in current:
            raise InputError(name, f"no such setting (settings: {', '.join(current)})")
        for key, flag in current.items():
            if name is None or key == name:
                typer.echo(f"{key} = {'true' if flag else 'false'}")


def board_status(as_json: bool, db: str | None) -> None:
    """`task_status` without TASK: the board, every document's tasks grouped by state."""
    from claude_task_cli.board_operations import board_view
    from claude_task_cli.cli.board_view import show_board

    with _open(db, create=False) as board:
        if as_json:
            _echo_json(board_view(board))
        else:
            show_board(board.tasks())
