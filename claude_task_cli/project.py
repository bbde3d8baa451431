"""Where a project's things live: its root and its state database. Imports nothing heavy, so the
fast `task_status` path and the store share one rule."""

from __future__ import annotations

import os
from pathlib import Path

from claude_task_cli.errors import InputError

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


class ProjectPaths:
    """Resolves paths from tool arguments, refusing any that lead outside the project root."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def inside(self, value: str) -> Path:
        """`value` (relative to the root, or absolute) as an absolute path inside the root."""
        given = Path(value)
        resolved = (given if given.is_absolute() else self.root / given).resolve()
        if not resolved.is_relative_to(self.root):
            raise InputError(value, f"outside the project root {self.root}; refused")
        return resolved

    def task(self, task: str) -> str:
        """TASK as a path inside the root, or an id looked up under the root's docs/tasks/."""
        from claude_task_cli.locate import locate_document

        given = Path(task)
        looks_like_path = (
            given.is_absolute()
            or "/" in task
            or given.suffix.lower() in (".md", ".json")
            or (self.root / given).exists()
        )
        if looks_like_path:
            path = self.inside(task)
            if not path.is_file():
                raise InputError(task, "is a directory" if path.is_dir() else "no such file")
            return str(path)
        found = locate_document(task, self.root)
        return str(self.inside(str(found.resolve())))
