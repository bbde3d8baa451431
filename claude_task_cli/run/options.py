"""How to run a document: one typed value, made at the doors and read by each layer below.

The CLI (`execute_task` options) and the MCP server (`execute_task` tool parameters) each build a
`RunOptions`; `operations.execute_document` hands it to `runner.run_document`, which reads the
paths and the per-server limit, and passes it to the engine, which reads the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from claude_task_cli.store.urls import DatabaseUrl

DEFAULT_CONCURRENCY = 4
DEFAULT_COMMAND_TIMEOUT = 600.0  # seconds per shell command
RETRY_BACKOFF = 0.5  # seconds before the first retry, doubled each time
MAX_BACKOFF = 30.0  # seconds between two retries at most


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What to run and how.

    - `concurrency`: units running at once; `per_server`: calls at once to one server (None:
      `concurrency`);
    - `only_task` / `only_step`: run that task or step and what it needs; `new_run`: start a new
      run instead of resuming; `dry_run`: plan, call and write nothing;
    - `command_timeout`: seconds a shell command may run; `call_timeout`: seconds a tool call may
      take when its step sets no `timeout` (None: the session pool's default);
    - `retry_backoff`: seconds before a retryable step's first retry, doubled each time, at most
      `max_backoff`;
    - `mcp_config` and `state`: the servers file and the state database, a SQLite file or a
      `DatabaseUrl` (None: `$CLAUDE_TASK_DB`, else the project's);
    - `with_results`: the outcome carries every settled step's result and checks (False: only
      those the run kept for its placeholders, for a caller that shows no results or reads them
      back when it needs them, `runner.read_results`);
    - `fail_fast`: the first failure stops the run — no step starts after it (by default a
      failure stops only the steps that depend on it);
    - `rerun_interrupted`: a resumed run runs its `interrupted` steps again (by default they wait
      for the client to record their outcome).
    """

    concurrency: int = DEFAULT_CONCURRENCY
    per_server: int | None = None
    only_task: str | None = None
    only_step: str | None = None
    new_run: bool = False
    dry_run: bool = False
    command_timeout: float = DEFAULT_COMMAND_TIMEOUT
    call_timeout: float | None = None
    retry_backoff: float = RETRY_BACKOFF
    max_backoff: float = MAX_BACKOFF
    mcp_config: Path | None = None
    state: Path | DatabaseUrl | None = None
    with_results: bool = True
    fail_fast: bool = False
    rerun_interrupted: bool = False

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if self.per_server is not None and self.per_server < 1:
            raise ValueError("per_server must be at least 1")
        if self.call_timeout is not None and self.call_timeout <= 0:
            raise ValueError("call_timeout must be positive")

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1 for the first)."""
        return float(min(self.max_backoff, self.retry_backoff * 2 ** (retry - 1)))
