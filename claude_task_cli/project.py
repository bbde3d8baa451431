"""Where a project's things live: its root and its state database. Imports nothing heavy, so the
fast `task_status` path and the store share one rule."""

from __future__ import annotations

import os
from pathlib import Path

STATE_ENV = "CLAUDE_TASK_STATE"
STATE_DIR = ".claude-task"


def project_root(start: Path) -> Path:
    """The nearest ancestor of `start` holding `.mcp.json`, else `.git`, else `start` itself."""
    here = start.resolve()
    for marker in (".mcp.json", ".git"):
        for directory in (here, *here.parents):
            if (directory / marker).exists():
                return directory
    return here


def default_state_path(start: Path | None = None) -> Path:
    """`$CLAUDE_TASK_STATE`, else `<project root of start (default cwd)>/.claude-task/state.db`."""
    explicit = os.environ.get(STATE_ENV)
    if explicit:
        return Path(explicit)
    return project_root(start or Path.cwd()) / STATE_DIR / "state.db"
