"""Arguments and options that several commands take, spelled and explained once."""

from pathlib import Path
from typing import Annotated

import typer

TaskArg = Annotated[
    str,
    typer.Argument(help="A task document (.md), its converted .json, or its id under docs/tasks/."),
]
StateOpt = Annotated[
    Path | None,
    typer.Option("--state", help="State database (default: <project>/.claude-task/state.db)."),
]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="The state database (runs and the board): sqlite:///PATH or postgresql://… "
        "(default: $CLAUDE_TASK_DB, else <project>/.claude-task/state.db).",
    ),
]
