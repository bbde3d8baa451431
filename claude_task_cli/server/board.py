"""The task board through the server: `claim_task` and `move_task` (and the board's view, which
`task_status` returns when given no document; `tools.py`).

Each answers what the CLI command of the same name prints with `--json`, through the same facade
functions (`board_operations.py`): a claim, or `{"claimed": false, "worker", "reason"}` when
nothing could be claimed — an answer, not an error (the CLI's exit 5); a move the rules refuse is
a tool error with the CLI's exit-code-2 message, and the rule and blocker as data
(`boundary.py`). The board is the project's: `$CLAUDE_TASK_DB` when the operator set it, else
the root's state database (`served_project.py`). A move is recorded as made by the person running
the server, through the client that asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import Field

from claude_task_cli.server.registration import Text, structured
from claude_task_cli.server.served_project import ServedProject

if TYPE_CHECKING:
    from claude_task_cli.board import Board

StateName = Literal["backlog", "ready", "in_progress", "in_review", "done", "blocked", "cancelled"]


class BoardTools:
    """The board's tools, bound to one project."""

    def __init__(self, project: ServedProject) -> None:
        self.project = project

    def claim_task(
        self,
        worker: Annotated[
            str | None,
            Field(
                description="Your name as a worker, recorded with the claim (default: host:pid)."
            ),
        ] = None,
        lease: Annotated[
            float,
            Field(ge=1, le=86400, description="Seconds the claim lasts; then the task is ready."),
        ] = 60.0,
        document: Annotated[
            str | None, Text, Field(description="Claim a task of this document (path, id or stem).")
        ] = None,
        task: Annotated[
            str | None, Text, Field(description="With document: the task to claim, as 2 or task_2.")
        ] = None,
        per_worker: Annotated[
            int | None, Field(ge=1, description="Tasks in progress per worker, at most.")
        ] = None,
        per_repository: Annotated[
            int | None, Field(ge=1, description="Tasks in progress per repository, at most.")
        ] = None,
        any_repository: Annotated[
            bool, Field(description="Claim from every repository, not only this project's.")
        ] = False,
    ) -> CallToolResult:
        """Atomically claim the best ready task on the task board (priority, then age) — or the
        one named by document and task — and move it to in_progress for lease seconds. Returns
        the claim (document, task, title, attempt, worker, lease_until), or claimed: false and
        the reason when nothing could be claimed. Then work on it (execute_task with only_task)
        and move_task it to in_review, or blocked with a reason."""
        from claude_task_cli.board import default_worker
        from claude_task_cli.board_operations import claim_limits
        from claude_task_cli.board_operations import claim_task as claim

        name = worker or default_worker()
        limits = claim_limits(per_worker, per_repository, any_repository, start=self.project.root)
        with self._board() as board:
            answer = claim(board, name, lease, limits, document, task)
        return structured(answer.to_dict())

    def move_task(
        self,
        document: Annotated[
            str, Text, Field(description="The task's document (path, id or stem).")
        ],
        task: Annotated[str, Text, Field(description="The task, as 2 or task_2.")],
        state: Annotated[StateName, Field(description="The state to move it to.")],
        reason: Annotated[
            str | None, Field(description="Why (recorded; a blocked task shows it).")
        ] = None,
        force: Annotated[
            bool, Field(description="Enter in_progress without a claim (claim_task is the way).")
        ] = False,
        ctx: Context | None = None,
    ) -> CallToolResult:
        """Move a task on the task board by hand: approve (in_review → done), submit for review
        (in_progress → in_review), block (with a reason), retry (blocked → ready), cancel,
        re-open (done → ready), restore (cancelled → backlog). Returns the task as it now is and
        whether it changed (a move to its own state changes nothing). A move the rules refuse
        is an error naming the rule and what blocks it; nothing is changed."""
        from claude_task_cli.board_operations import move_task as move

        actor = _actor(ctx)
        with self._board() as board:
            moved = move(board, document, task, state, actor, reason=reason, force=force)
        return structured(moved.to_dict())

    def board(self) -> CallToolResult:
        """The board as `task_status` without a document returns it."""
        from claude_task_cli.board_operations import board_view

        with self._board(create=False) as board:
            return structured(board_view(board))

    def _board(self, *, create: bool = True) -> Board:
        from claude_task_cli.board_operations import open_board

        return open_board(self.project.board_db(), create=create)


def _actor(ctx: Context | None) -> str:
    """Who a move is recorded as: the person running the server, through the client that asked."""
    from claude_task_cli.board import default_actor

    who = default_actor()
    params = ctx.session.client_params if ctx is not None else None
    info = params.client_info if params is not None else None
    return f"{who} through {info.name} {info.version}" if info is not None else who
