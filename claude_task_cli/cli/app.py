"""`claude-task`: the Typer application and its global options.

Commands are registered under the seed's spellings (`convert_task`); the dashed ones
(`convert-task`) resolve to them, unlisted. Heavy imports stay inside the commands.

The modules that define commands (this one, board, convert, execute, init, options, report,
serve) do not postpone their annotations (`from __future__ import annotations`): typer reads
every command's parameters on each run, and from postponed annotations it must evaluate each
one as a string first, work counted by convert_task's and --help's start-up targets
(docs/benchmarks.md). Names imported only for type checking are quoted there.
"""

import gc
import os
from typing import Any

# pydantic looks for plugins by scanning every installed distribution's entry points when the
# first model class is made, a cost that counts against convert_task's start-up target
# (docs/benchmarks.md); the CLI uses none. An explicit setting of the user's wins.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

import typer
from typer.core import TyperGroup

from claude_task_cli import __version__
from claude_task_cli.cli import board, convert, execute, init, report, serve
from claude_task_cli.cli.boundary import set_debug


class _Commands(TyperGroup):
    """`convert-task` is `convert_task`. An alias rather than a second, hidden command: typer
    builds every command it holds on each run, and start-up is a target (docs/benchmarks.md)."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:  # click's types (typer vendors click)
        found = super().get_command(ctx, cmd_name)
        return found or super().get_command(ctx, cmd_name.replace("-", "_"))


app = typer.Typer(
    name="claude-task",
    cls=_Commands,
    help=(
        "Make markdown task documents executable and verifiable. A new project starts with "
        "`claude-task init`.\n\n"
        "Pipeline: convert_task (markdown → validated JSON step graph) → execute_task (real MCP "
        "tool calls) → task_status / generate_report (from recorded evidence).\n\n"
        "Exit codes: 0 ok, 1 failed, 2 invalid input, 3 paused for the client, "
        "4 environment error, 5 nothing ready to claim, 70 internal error, 141 the output's reader "
        "went away."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: rich's renderer alone misses the --help target
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


app.command("init")(init.init)
app.command("convert_task")(convert.convert_task)
app.command("schema")(convert.schema)
app.command("execute_task")(execute.execute_task)
app.command("record_step")(execute.record_step)
app.command("task_status")(report.task_status)
app.command("generate_report")(report.generate_report)
app.command("serve")(serve.serve)
app.command("import")(board.import_documents)
app.command("claim")(board.claim)
app.command("work")(board.work)
app.command("move")(board.move)
app.command("quick")(board.quick)
app.command("events")(board.events)
app.command("settings")(board.settings)


def main() -> None:
    """Console-script entry point.

    What is imported by now lives until exit: `gc.freeze()` keeps the collector from rescanning
    it during the command (convert_task's start-up target is missed without it)."""
    gc.freeze()
    app()
