"""`claude-task`: the Typer application and its global options.

Commands are registered under the seed's spellings (`convert_task`) and the dashed ones
(`convert-task`, hidden from the listing). Heavy imports stay inside the commands.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from claude_task_cli import __version__
from claude_task_cli.cli import convert, execute, report, serve
from claude_task_cli.cli.boundary import set_debug

app = typer.Typer(
    name="claude-task",
    help=(
        "Make markdown task documents executable and verifiable.\n\n"
        "Pipeline: convert_task (markdown → validated JSON step graph) → execute_task (real MCP "
        "tool calls) → task_status / generate_report (from recorded evidence).\n\n"
        "Exit codes: 0 ok, 1 failed, 2 invalid input, 3 paused for the client, "
        "4 environment error, 70 internal error."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: rich's help renderer costs ~80 ms per call
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"claude-task {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    debug: bool = typer.Option(
        False, "--debug", help="Log everything to stderr, tracebacks included."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Global options; logging is configured in the CLI layer only (cli/boundary.py)."""
    set_debug(debug)


def _register(name: str, function: Callable[..., Any]) -> None:
    """The seed's spelling in the listing; the dashed spelling works too, hidden."""
    app.command(name)(function)
    app.command(name.replace("_", "-"), hidden=True)(function)


_register("convert_task", convert.convert_task)
app.command("schema")(convert.schema)
_register("execute_task", execute.execute_task)
_register("record_step", execute.record_step)
_register("task_status", report.task_status)
_register("generate_report", report.generate_report)
app.command("serve")(serve.serve)


def main() -> None:
    """Console-script entry point."""
    app()
