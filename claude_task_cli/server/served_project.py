"""The one project a server works on, and the only places a tool may read, write or run from.

Everything is taken from the project root (`serve --root`, else the one found from the working
directory), never from where a document happens to sit: a document at `vendor/lib/x.md` next to a
`vendor/lib/.mcp.json` still runs on the root's servers only, keeps its state in the root's
`.claude-task/`, and has its reports written under the root's `docs/reports/`. Each path must
resolve inside the root once symlinks are followed: a `docs/reports` or `.claude-task` that is a
link to a folder outside is refused, as is any argument naming a path outside.
The state database — runs and the board — is the operator's explicit choice, used as given:
`serve --db URL`, else `$CLAUDE_TASK_DB`, else `$CLAUDE_TASK_STATE` (a SQLite file), else the root's
`.claude-task/state.db`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from claude_task_cli.errors import McpConfigMissingError
from claude_task_cli.project import STATE_DIR, STATE_ENV, ProjectPaths, project_root

if TYPE_CHECKING:
    from claude_task_cli.convert.model import TaskDocument
    from claude_task_cli.store.urls import DatabaseUrl

CONFIG_NAME = ".mcp.json"
REPORTS = "docs/reports"


class ServedProject:
    """Paths from tool arguments resolved inside the root, and the root's own config and state."""

    def __init__(self, start: Path, db: str | None = None) -> None:
        self.paths = ProjectPaths(project_root(start))
        self.root = self.paths.root
        self.db = db  # `serve --db URL`
        if db is not None:
            from claude_task_cli.store.urls import parse_url

            parse_url(db)  # a URL that is not one stops the server before it starts

    def task(self, value: str) -> str:
        """TASK (a path inside the root, or an id under the root's docs/tasks/) as a path."""
        return self.paths.task(value)

    def inside(self, value: str) -> Path:
        """`value` as an absolute path inside the root; InputError otherwise."""
        return self.paths.inside(value)

    def state(self) -> Path | DatabaseUrl:
        """The run store: `--db`, else `$CLAUDE_TASK_DB`, else `$CLAUDE_TASK_STATE`, else the
        root's `.claude-task/state.db`."""
        from claude_task_cli.store.urls import DB_ENV, parse_url

        url = self.db or os.environ.get(DB_ENV)
        if url:
            return parse_url(url)
        explicit = os.environ.get(STATE_ENV)
        if explicit:
            return Path(explicit)
        return self.inside(f"{STATE_DIR}/state.db")

    def board_db(self) -> str:
        """The task board's database: `--db`, else `$CLAUDE_TASK_DB` (a URL, used as given), else
        the state database's file (`state`)."""
        from claude_task_cli.store.urls import DB_ENV

        return self.db or os.environ.get(DB_ENV) or str(self.state())

    def reports(self, out: str | None) -> Path:
        """Where reports go: `out`, else the root's docs/reports; inside the root either way."""
        return self.inside(REPORTS if out is None else out)

    def servers_for(self, doc: TaskDocument) -> Path | None:
        """The root's `.mcp.json`, which alone declares the servers a document may call.

        When the root has none: the path it would have if the document binds a tool (the
        facade's check then says it is missing, as the CLI's `--mcp-config` would), None if the
        document calls nothing at all (nothing is started), and `McpConfigMissingError` if it
        only runs shell commands — the command server would otherwise be looked for beside
        the document."""
        config = self.root / CONFIG_NAME
        if config.is_file() or any(step.tool for _t, step in doc.all_steps()):
            return config
        if any(step.commands for _t, step in doc.all_steps()):
            raise McpConfigMissingError(
                f"no {config}: the document runs shell commands, which need the command server "
                "it declares (claude-task init writes one)"
            )
        return None
