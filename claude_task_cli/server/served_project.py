"""The one project a server works on, and the only places a tool may read, write or run from.

Everything is taken from the project root (`serve --root`, else the one found from the working
directory), never from where a document happens to sit: a document at `vendor/lib/x.md` next to a
`vendor/lib/.mcp.json` still runs on the root's servers only, keeps its state in the root's
`.claude-task/`, and has its reports written under the root's `docs/reports/`. Each path must
resolve inside the root once symlinks are followed: a `docs/reports` or `.claude-task` that is a
link to a folder outside is refused, as is any argument naming a path outside.
`$CLAUDE_TASK_STATE` is the operator's explicit choice of state database and is used as given.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from claude_task_cli.errors import McpConfigError
from claude_task_cli.project import STATE_DIR, STATE_ENV, ProjectPaths, project_root

if TYPE_CHECKING:
    from claude_task_cli.convert.model import TaskDocument

CONFIG_NAME = ".mcp.json"
REPORTS = "docs/reports"


class ServedProject:
    """Paths from tool arguments resolved inside the root, and the root's own config and state."""

    def __init__(self, start: Path) -> None:
        self.paths = ProjectPaths(project_root(start))
        self.root = self.paths.root

    def task(self, value: str) -> str:
        """TASK (a path inside the root, or an id under the root's docs/tasks/) as a path."""
        return self.paths.task(value)

    def inside(self, value: str) -> Path:
        """`value` as an absolute path inside the root; InputError otherwise."""
        return self.paths.inside(value)

    def state(self) -> Path:
        """The state database: `$CLAUDE_TASK_STATE`, else the root's `.claude-task/state.db`."""
        explicit = os.environ.get(STATE_ENV)
        if explicit:
            return Path(explicit)
        return self.inside(f"{STATE_DIR}/state.db")

    def reports(self, out: str | None) -> Path:
        """Where reports go: `out`, else the root's docs/reports; inside the root either way."""
        return self.inside(REPORTS if out is None else out)

    def servers_for(self, doc: TaskDocument) -> Path | None:
        """The root's `.mcp.json`, which alone declares the servers a document may call.

        None when the root has none and the document calls nothing (no tool, no command):
        nothing is then started. McpConfigError when it has none and the document calls
        something."""
        config = self.root / CONFIG_NAME
        if config.is_file():
            return config
        calls = sorted({step.tool.server for _t, step in doc.all_steps() if step.tool})
        if any(step.commands for _t, step in doc.all_steps()):
            calls.append("the command server (its steps run shell commands)")
        if calls:
            raise McpConfigError(
                f"no {CONFIG_NAME} at the project root {self.root}; the document calls "
                + ", ".join(calls)
            )
        return None
