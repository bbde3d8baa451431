"""Commands whose engines later releases build. They say so and exit 5; they never pretend."""

from __future__ import annotations

from typing import Annotated

import typer

from claude_task_cli.cli.boundary import boundary
from claude_task_cli.errors import NotImplementedYet

TaskArg = Annotated[str, typer.Argument(help="A task document (.md), its JSON, or its id.")]


def task_status(task: TaskArg) -> None:
    """Show a run's step table from the state store (not implemented yet).

    Example: claude-task task_status 003_test_mcp
    """
    with boundary():
        raise NotImplementedYet("task_status")


def generate_report(task: TaskArg) -> None:
    """Render verification reports from a recorded run (not implemented yet).

    Example: claude-task generate_report 003_test_mcp task_1
    """
    with boundary():
        raise NotImplementedYet("generate_report")
