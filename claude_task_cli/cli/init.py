"""`init`: a thin wrapper over samples/scaffold.py (set up a project, say what to run next)."""

import json
from pathlib import Path
from typing import Annotated

import typer

from claude_task_cli.cli.boundary import boundary


def init(
    directory: Annotated[
        Path, typer.Argument(help="The project directory (default: the current one).")
    ] = Path("."),
    example: Annotated[
        str,
        typer.Option(
            "--example", help="The sample document to write: starter (default), clock, git."
        ),
    ] = "starter",
    as_json: Annotated[bool, typer.Option("--json", help="Print what was done as JSON.")] = False,
) -> None:
    """Set up a project for claude-task, idempotently.

    Adds the built-in command server and claude-task's own MCP server to .mcp.json (entries
    already there are kept), writes a sample task document to docs/tasks/ (never over an existing
    file), and ignores the state directory .claude-task/ in .gitignore. The starter runs with
    nothing but claude-task installed; clock and git need their reference server installed.

    Examples:

      claude-task init

      claude-task init --example clock
    """
    with boundary():
        from claude_task_cli.operations import init_project

        outcome = init_project(directory, example)
        if as_json:
            typer.echo(json.dumps(outcome.to_dict(), indent=2, ensure_ascii=False))
            return
        for change in outcome.files:
            detail = f" ({change.detail})" if change.detail else ""
            typer.echo(f"{change.action:<9} {change.path}{detail}")
        for note in outcome.notes:
            typer.echo(f"note: {note}")
        typer.echo("\nNext:")
        if directory.resolve() != Path.cwd().resolve():
            typer.echo(f"  cd {directory}")
        width = max(len(command) for command, _why in outcome.next_commands)
        for command, why in outcome.next_commands:
            typer.echo(f"  {command:<{width}}   # {why}")
        typer.echo(
            "\nClaude Code reads the project's .mcp.json (it asks before starting its servers); "
            f"to add claude-task's server for yourself instead:\n  {outcome.claude_mcp_add}"
        )
