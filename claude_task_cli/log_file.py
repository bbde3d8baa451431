"""Where the log file lives, and how a door adds it to loguru (the CLI and the MCP server alike).

`$CLAUDE_TASK_LOG_DIR`, else `$XDG_STATE_HOME/claude-task/`, else `~/.local/state/claude-task/`;
the file is `claude-task.log`, rotated at 5 MB with 3 files kept. Only the doors configure sinks;
the core just calls `logger`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

LOG_NAME = "claude-task.log"


def log_dir() -> Path:
    """Where the log file lives: $CLAUDE_TASK_LOG_DIR, else $XDG_STATE_HOME/claude-task."""
    explicit = os.environ.get("CLAUDE_TASK_LOG_DIR")
    if explicit:
        return Path(explicit)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "claude-task"


def log_path() -> Path:
    """The log file itself, as error messages name it."""
    return log_dir() / LOG_NAME


def add_file_sink(logger: Any) -> None:
    """Log everything at debug level and up to the log file; a read-only home is not an error."""
    try:
        directory = log_dir()
        directory.mkdir(parents=True, exist_ok=True)
        logger.add(
            directory / LOG_NAME,
            level="DEBUG",
            rotation="5 MB",
            retention=3,
            encoding="utf-8",
            backtrace=True,
            diagnose=False,
        )
    except OSError as exc:  # a read-only home must not stop the tool
        logger.debug(f"no log file: {exc}")
