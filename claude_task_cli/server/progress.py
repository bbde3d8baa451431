"""A run's step ends as MCP progress notifications to the client that asked for them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from claude_task_cli.outcomes import STEP_END

if TYPE_CHECKING:
    from anyio.from_thread import BlockingPortal
    from mcp.server.mcpserver import Context

    from claude_task_cli.store.database import Event


class StepProgress:
    """A run's step ends as progress notifications to the client (a no-op when it sent no
    progress token). `on_event` is called on the run's own thread."""

    def __init__(self, portal: BlockingPortal, ctx: Context | None, total: int) -> None:
        self.portal, self.ctx, self.total, self.done = portal, ctx, total, 0

    def on_event(self, event: Event) -> None:
        label = STEP_END.get(event.kind)
        if label is None or self.ctx is None:
            return
        self.done += 1
        message = f"step {event.step_id} {label}"
        self.portal.start_task_soon(self.ctx.report_progress, self.done, self.total, message)
