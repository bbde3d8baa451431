"""Arguments and options that several commands take, spelled and explained once."""

from __future__ import annotations

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
