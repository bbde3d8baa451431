"""The one error boundary and the logging set-up, shared by every command.

Domain errors become one line per problem on stderr and their documented exit code; anything
else is a bug: one line pointing at the log file (the traceback is there, or on screen with
--debug), exit code 70.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from claude_task_cli.errors import ExitCode, TaskCliError
from claude_task_cli.log_file import add_file_sink, log_path

if TYPE_CHECKING:
    from claude_task_cli.convert.model import TaskDocument

_state = {"debug": False, "configured": False}


def plain_output() -> bool:
    """True when output should be plain lines: not a terminal, or NO_COLOR set."""
    return bool(os.environ.get("NO_COLOR")) or not sys.stdout.isatty()


def set_debug(debug: bool) -> None:
    """Remember --debug; logging itself is set up when a command first runs (keeps --help fast)."""
    _state["debug"] = debug
    _state["configured"] = False


def debug_enabled() -> bool:
    """Whether --debug was given."""
    return bool(_state["debug"])


def configure_logging(debug: bool) -> None:
    """Warnings and above to stderr, everything to the log file."""
    from loguru import logger

    _state["debug"] = debug
    logger.remove()
    colour = sys.stderr.isatty() and not os.environ.get("NO_COLOR")
    logger.add(
        sys.stderr,
        level="DEBUG" if debug else "WARNING",
        colorize=colour,
        format="<level>{level}</level>: {message}",
        filter=_not_file_only,
        backtrace=False,
        diagnose=False,
    )
    add_file_sink(logger)
    _state["configured"] = True


def _not_file_only(record: Any) -> bool:
    """Records bound with `file_only=True` were already shown on stderr in their own words."""
    return not record["extra"].get("file_only")


def log_conversions(
    docs: list[TaskDocument],
    failures: list[TaskCliError],
    written: dict[str, Path],
    mode: str,
) -> None:
    """convert_task's record in the log file: every error and warning, and one line per
    document of the run — written when the run had an error or a warning (or with --debug).

    A clean run logs nothing: loading loguru and opening the log file is a fifth of the
    command's start-up, which has a target (docs/benchmarks.md).
    """
    if not (failures or any(doc.warnings for doc in docs) or _state["debug"]):
        return
    logger = _logger().bind(file_only=True)
    for failure in failures:
        for line in failure.lines():
            logger.error(f"convert_task: {line}")
    for doc in docs:
        for warning in doc.warnings:
            logger.warning(f"convert_task: {doc.source.path}:{warning.line}: {warning.message}")
        target = written.get(doc.source.path)
        outcome = f"-> {target.as_posix()}" if target is not None else f"({mode})"
        logger.info(
            f"convert_task: {doc.source.path} {outcome}: {len(doc.tasks)} tasks, "
            f"{len(doc.all_steps())} steps, {len(doc.warnings)} warnings, "
            f"sha256 {doc.source.sha256[:12]}"
        )


def err(message: str) -> None:
    typer.echo(message, err=True)


def _logger() -> Any:
    from loguru import logger

    if not _state["configured"]:
        configure_logging(bool(_state["debug"]))
    return logger


def _reader_gone() -> bool:
    """Whether stdout is a pipe whose reader has closed it."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _fd, events in poller.poll(0))
    except (OSError, ValueError):
        return False


@contextmanager
def boundary(*, eager_logging: bool = True) -> Iterator[None]:
    """Translate what the core raises into messages and exit codes, once.

    `eager_logging=False` is for commands whose core never logs (convert_task): loguru and the
    log file are then set up only if something goes wrong (convert_task's start-up target).
    """
    if eager_logging or _state["debug"]:
        _logger()
    try:
        yield
    except typer.Exit:
        raise
    except TaskCliError as exc:
        logger = _logger()
        logger.opt(exception=exc).debug("domain error")
        for line in exc.lines():
            err(line)
        raise typer.Exit(int(exc.exit_code)) from None
    except KeyboardInterrupt:
        err("interrupted")
        raise typer.Exit(130) from None
    except BrokenPipeError:
        if not _reader_gone():
            raise
        # the reader of stdout went away (`| head`): stop quietly, as a tool killed by SIGPIPE
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to flush
        raise typer.Exit(int(ExitCode.STDOUT_CLOSED)) from None
    except Exception as exc:
        logger = _logger()
        logger.opt(exception=exc).debug(f"internal error: {exc!r}")  # stderr too with --debug
        if not _state["debug"]:
            err(f"internal error: {exc} (traceback in {log_path()}; --debug shows it)")
        raise typer.Exit(int(ExitCode.INTERNAL)) from None
